"""Command line: parse options, call the library, turn its errors into messages and exit codes."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import compiled

if TYPE_CHECKING:  # model.py is not imported by a replayed build
    from . import pipeline, places
    from .lessons import Known
    from .model import Library, Problem
    from .outputs import LastBuild
    from .pipeline import BuildOptions, BuildResult

DEFAULT_LESSONS = Path("lessons")
DEFAULT_DECKS = Path("decks")
DEFAULT_SITE = Path("site")
DEFAULT_SCORM = Path("scorm")


def _version() -> str:
    """The installed version; read only for --version (importlib.metadata costs every build
    about 15 ms of imports otherwise)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("course-generator")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0+unknown"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"course-build, version {_version()}")
        ctx.exit()


lessons_option = click.option(
    "--lessons",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_LESSONS,
    show_default=True,
    help="Folder holding course.yml and one folder of lessons per language.",
)
lang_option = click.option(
    "--lang",
    "langs",
    multiple=True,
    metavar="CODE",
    help="Only this language (repeatable); default: every language folder.",
)


Echo = Callable[..., None]


class Transcript:
    """`click.echo` that also keeps what it printed: a build that changed nothing is replayed
    from it (`outputs.LastBuild`)."""

    def __init__(self, echo: bool = True) -> None:
        self.lines: list[tuple[bool, str]] = []
        self.echo = echo
        """False: keep the lines without printing them."""

    def __call__(self, text: str, err: bool = False) -> None:
        if self.echo:
            click.echo(text, err=err)
        self.lines.append((err, text))


@contextmanager
def _loading(fresh: bool) -> Iterator[None]:
    """In a `fresh` process (its first build), import the build's modules and load the library
    without the cyclic garbage collector, then move everything loaded so far out of its sight
    (`gc.freeze`): neither makes garbage, both live as long as the build, yet the collector ran
    about 60 times over the new modules while they loaded, and every later collection of the
    build walked the modules and the library's tokens again. A process that runs the command
    line ends with its build; one that already built (tests) is left as it is."""
    if not fresh:
        yield
        return
    from . import collector

    try:
        with collector.paused():
            try:
                yield
            finally:
                gc.freeze()
    finally:
        _resume()  # (on, if it was off only for the start-up)


class _Start:
    paused = False
    """The process started with the collector off (build.py, while the command line's modules
    load): `run` saw it so. The first build turns it on once its library is loaded
    (`_loading`); any other command turns it on at once (`main`)."""


def _resume() -> None:
    """The collector on again, if it was off only for the start-up (`_Start`)."""
    if _Start.paused:
        _Start.paused = False
        gc.enable()


def _counted(n: int, what: str) -> str:
    """'1 card', '2 cards'."""
    return f"{n} {what}{'s' if n != 1 else ''}"


def _warn(warnings: Sequence[Problem], echo: Echo = click.echo) -> None:
    for problem in warnings:
        echo(f"{problem} (warning)", err=True)


def _import_build(lessons: Path | None = None, pages: bool = False, scorm: bool = True) -> None:
    """Import what a command needs besides the parse: the card IDs' checks and the pipeline (the
    deck stage); with `lessons` (the lessons folder), read what the build reads there
    besides the lessons (`pipeline.warm`); with `pages`, the site stage too, its templates
    loaded, and the SCORM stage with `scorm` (not with `--no-scorm`: not its XML library,
    nor the packages' assets deflated)."""
    from . import ids, pipeline  # noqa: F401

    if lessons is not None:
        pipeline.warm(lessons)
    if pages and lessons is not None:
        from . import site

        site.preload(lessons)
        if scorm:
            from . import scorm as package

            package.preload()


NO_ID = "card has no ID: `build` gives it one (or run `python build.py ids`)"
NO_ID_FROZEN = "card has no ID (--frozen): run `python build.py ids` and commit the result"
OWN_LINE = (
    "an ID comment on a line of its own under its card: the Obsidian plugin takes such a line "
    "as hiding the next one too (the blank line that ends the card) and runs the card on into "
    "the next paragraph; move the comment to the end of the card's last line"
)
MOVE_ID = f"{OWN_LINE} (`build` or `python build.py ids` moves it)"
MOVE_ID_FROZEN = f"{OWN_LINE} (--frozen: run `python build.py ids` and commit the result)"

no_wait_option = click.option(
    "--no-wait",
    is_flag=True,
    help="If another build of these lessons is running, stop at once (exit status 75) "
    "instead of waiting for it to end.",
)

F = TypeVar("F", bound=Callable[..., Any])


def folder_option(name: str, dest: str, default: Path, help_text: str) -> Callable[[F], F]:
    """An output folder's option (`--decks DIR` etc.), its default shown in --help."""
    return click.option(
        name,
        dest,
        type=click.Path(path_type=Path, file_okay=False),
        default=default,
        show_default=True,
        help=help_text,
    )


new_edition_option = click.option(
    "--new-edition",
    is_flag=True,
    help="A language without a manifest starts a new edition of its decks even if they were "
    "published (else an error: restore the manifest). Learners who have them get every card "
    "as if new, stamped with this build's time.",
)

frozen_option = click.option(
    "--frozen",
    is_flag=True,
    help="Never write a lesson: a card without an ID is an error (for CI, read-only checkouts).",
)


def _load_checked(
    lessons: Path,
    langs: Sequence[str],
    strict: bool,
    *,
    frozen: bool,
    give_ids: bool,
    echo: Echo = click.echo,
    site: bool = True,
    prepare: Callable[[], object] | None = _import_build,
    known: Known | None = None,
) -> tuple[Library, list[Problem]]:
    """Load and validate; cards without IDs get them (`give_ids`), fail (`frozen`) or warn.
    Returns the library and the warnings printed. `prepare` runs while other processes parse
    (the rest of the command's imports); `known`: see `lessons.parse_lessons`."""
    from .lessons import load_library

    # The rest of the build is imported while a forked child parses lessons (lessons.py):
    # the parse needs none of it (nor the card IDs' module: `prepare` imports it, see
    # `_import_build`).
    library = load_library(lessons, langs, site, meanwhile=prepare, known=known)
    from . import pipeline
    from .ids import add_missing_ids, misplaced_ids, missing_ids
    from .model import CourseError

    missing = missing_ids(library, NO_ID_FROZEN if frozen else NO_ID)  # (every card: once)
    if frozen and missing:
        raise CourseError(missing)
    # IDs a build gives or moves (the writer's job), else warnings (`check`, --frozen).
    missing += misplaced_ids(library, MOVE_ID_FROZEN if frozen else MOVE_ID)
    give_ids = give_ids and not frozen
    if give_ids and missing and strict:  # a strict build that stops writes no lesson either
        others = [*library.warnings, *pipeline.check_translations(library)]
        if others:
            _warn(missing, echo)
            raise CourseError(others, "warning (--strict)")
    if give_ids and missing:
        for item in add_missing_ids(library):
            echo(str(item))
        # Read back what was written: it is what's built.
        library = pipeline.check(lessons, langs, site)
        missing = [*missing_ids(library, NO_ID), *misplaced_ids(library, MOVE_ID)]
    warnings = [*library.warnings, *missing, *pipeline.check_translations(library)]
    if strict and warnings:  # (listed once, as what stops the build)
        raise CourseError(warnings, "warning (--strict)")
    _warn(warnings, echo)
    return library, warnings


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Turn Markdown lessons into Anki decks and a static HTML course, one per language.

    Without a command, builds everything with the defaults (same as `build`).
    """
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    if ctx.invoked_subcommand not in (None, "build"):
        _resume()  # (a build turns it on once its library is loaded: `_loading`)
    if ctx.invoked_subcommand is None:
        ctx.invoke(build_command)


def run() -> None:
    """The command line's entry point (`build.py`, the `course-build` script): `main`, and then
    the process ends without tearing down what it loaded (as mypy's command line ends): freeing
    the modules, the library and its records one object at a time gives nothing back to a
    process that is ending, and was about 10 ms of a small course's build. Its output is
    flushed first and its exit status kept; the locks and the build's files were released and
    closed when `main` returned. A process with another thread still running (a library's),
    or whose output cannot be flushed, ends as Python ends it (which waits for the thread,
    reports the failed flush)."""
    _Start.paused = not gc.isenabled()  # (build.py: see `_Start`)
    try:
        main()
    except SystemExit as exit:
        compiled.save()  # (when a record's methods or a pattern were compiled: compiled.py)
        _end(exit.code)
        raise


def _end(code: object) -> None:
    """Leave the process now with exit status `code` (None is 0), when nothing is left to do at
    exit but free objects (`run`); else return."""
    from .forked import alone

    if (code is not None and not isinstance(code, int)) or not alone():
        return  # (Click exits with a number; a message to print: Python prints it)
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream: Python reports it
        return
    os._exit(code or 0)


@main.command("build")
@lessons_option
@folder_option("--decks", "decks_dir", DEFAULT_DECKS, "Where the .apkg files are written.")
@folder_option("--site", "site_dir", DEFAULT_SITE, "Where the HTML course is written.")
@folder_option(
    "--scorm",
    "scorm_dir",
    DEFAULT_SCORM,
    "Where the SCORM 1.2 packages (one .zip per language, for an LMS) are written.",
)
@click.option("--no-decks", is_flag=True, help="Do not write decks.")
@click.option("--no-site", is_flag=True, help="Do not write the HTML course.")
@click.option("--no-scorm", is_flag=True, help="Do not write SCORM packages.")
@lang_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--draft",
    is_flag=True,
    help="A preview for testers: record no release (the manifest is left as it is); write into"
    " DIR-draft folders, as <course>-<lang>-draft.apkg etc., never over the released outputs.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the change report to FILE as Markdown (for release notes).",
)
@click.option(
    "--rename-decks",
    is_flag=True,
    help="Rename published decks to the current titles and order. Learners keep their cards "
    "in the old decks: only new cards go to the renamed ones.",
)
@new_edition_option
@frozen_option
@no_wait_option
def build_command(
    lessons: Path = DEFAULT_LESSONS,
    decks_dir: Path = DEFAULT_DECKS,
    site_dir: Path = DEFAULT_SITE,
    scorm_dir: Path = DEFAULT_SCORM,
    no_decks: bool = False,
    no_site: bool = False,
    no_scorm: bool = False,
    langs: tuple[str, ...] = (),
    strict: bool = False,
    draft: bool = False,
    report_file: Path | None = None,
    rename_decks: bool = False,
    new_edition: bool = False,
    frozen: bool = False,
    no_wait: bool = False,
    reported: Callable[[], object] | None = None,
) -> Library | None:
    """Build the Anki decks, the HTML course and a SCORM 1.2 package per language.

    Everything is read and checked first; if anything is wrong, every problem is listed as
    `path:line: message` and nothing is written. A card without an ID first gets one, in place,
    as `ids` gives it (commit the change); with --frozen it is an error and no lesson is written.

    Prints, per language, what learners will get from the new decks (cards added, changed,
    moved, retired; note types changed; decks added) and which cards Anki cannot update in
    place. A build that changes anything for learners is a release (except with --draft): the
    manifest beside the lessons records it; commit it.

    One build of a lessons folder runs at a time: another one waits for it to end (see
    --no-wait).
    """
    from . import outputs, places

    wanted = Wanted.of((decks_dir, no_decks), (site_dir, no_site), (scorm_dir, no_scorm))
    wanted = wanted.drafted() if draft else wanted  # (never a release's places: `places.Names`)
    wanted.check(lessons, report_file)
    held = _hold(lessons, no_wait, wanted.folders(report_file))
    settings = [decks_dir, site_dir, scorm_dir, no_decks, no_site, no_scorm, langs, strict]
    # A draft, a build without decks (no release is recorded: changes get this build's time)
    # and a report file are always built.
    replayable = not (draft or no_decks or report_file is not None)
    last = outputs.LastBuild.of(lessons, [*settings, rename_decks, frozen, new_edition], replayable)
    if last is not None and _replayed(last):
        return None
    say = Transcript()
    # Not before: a replayed build loads nothing of the build itself.
    library = _load_to_build(lessons, langs, strict, frozen, say, last, (no_site, no_scorm))
    from . import pipeline

    names = places.DRAFTS if draft else places.RELEASE
    _sweep_outputs(library, wanted, report_file, held, names)
    later = reported is not None  # (the next build's outcome worked out after saying so)
    options = pipeline.BuildOptions(
        draft, rename_decks, report_file, new_edition, (decks_dir, site_dir / "decks"), later, names
    )
    result = _write(library, wanted, options)
    _report(result, report_file, say, draft)
    if reported is not None:  # (not an option: the watch's, `watch.Session`)
        reported()  # the outputs are committed and the report printed: the build is done
    if last is not None:  # (for the next build, the lock still held)
        _remember(last, library, result, options, strict, say.lines, wanted)
    return library


DRAFT_NOTE = (
    "draft: not a release (its files are named -draft, in -draft folders; the released ones "
    "are left as they were): for testing only, import its deck into a separate Anki profile: "
    "the next release may not replace a draft's edits"
)


def _load_to_build(
    lessons: Path,
    langs: tuple[str, ...],
    strict: bool,
    frozen: bool,
    say: Echo,
    last: LastBuild | None,
    skipped: tuple[bool, bool],
) -> Library:
    """`build`'s library, its new cards given IDs (`_load_checked`); `skipped`: no site, no
    SCORM packages."""
    no_site, no_scorm = skipped
    site = not (no_site and no_scorm)  # decks only: no site strings to render
    fresh = "course.pipeline" not in sys.modules
    # A process that built before (watch mode) has nothing to import while lessons are
    # parsed: without `prepare`, an edited lesson is parsed here, not in a forked child
    # (14 ms less of a 10k one-edit rebuild, 0.200 -> 0.186 s: bench/watch_probe.py).
    prepare = partial(_import_build, lessons, pages=site, scorm=not no_scorm) if fresh else None
    with _loading(fresh):
        library, _ = _load_checked(
            lessons, langs, strict, frozen=frozen, give_ids=True, echo=say, site=site,
            prepare=prepare, known=None if last is None else last.known,
        )  # fmt: skip
    return library


def _write(library: Library, wanted: Wanted, options: BuildOptions) -> BuildResult:
    """`pipeline.build` of the wanted outputs; an output that cannot be written (a full disk, a
    file in the way) is `path: message`, no traceback."""
    from . import pipeline

    try:
        return pipeline.build(library, wanted.decks, wanted.site, options, scorm_dir=wanted.scorm)
    except OSError as error:
        raise pipeline.Unwritten.of(error) from None


@dataclass(frozen=True, slots=True)
class Wanted:
    """Where each output a build writes goes (None: not written, `--no-decks` etc.)."""

    decks: Path | None
    site: Path | None
    scorm: Path | None

    @classmethod
    def of(cls, *outputs: tuple[Path, bool]) -> Wanted:
        """From each output's (folder, --no-<output>) pair: decks, site, SCORM."""
        decks, site, scorm = (None if off else folder for folder, off in outputs)
        return cls(decks, site, scorm)

    def drafted(self) -> Wanted:
        """A draft's places (`places.draft_folder`: `decks` -> `decks-draft`); raises
        `places.Overlap` when one of them is, holds or lies in one of these."""
        from . import places

        drafts = [None if p is None else places.draft_folder(p) for p in self.outputs()]
        named = dict(zip(("--decks", "--site", "--scorm"), self.outputs(), strict=True))
        places.check_drafts(named, dict(zip(named, drafts, strict=True)))
        return Wanted(*drafts)

    def outputs(self) -> tuple[Path | None, Path | None, Path | None]:
        return (self.decks, self.site, self.scorm)

    def folders(self, report: Path | None) -> list[Path]:
        """The folders a build locks for its outputs: the one holding each output named on
        the command line (the decks, site and SCORM folders, the report file)."""
        return [_holder(p) for p in (self.decks, self.site, self.scorm, report) if p is not None]

    def check(self, lessons: Path, report: Path | None) -> None:
        """Stop, before anything is written, when the site folder would delete the lessons or
        another output (`places.check`), or the report replace a file of theirs
        (`places.check_report`)."""
        from . import places

        places.check(
            lessons, self.site, {"--decks": self.decks, "--scorm": self.scorm, "--report": report}
        )
        places.check_report(lessons, report, {"--decks": self.decks, "--scorm": self.scorm})


def _holder(path: Path) -> Path:
    """The folder holding `path`, where a build of it locks (`Wanted.folders`)."""
    return path.resolve().parent


def _hold(lessons: Path, no_wait: bool, outputs: Sequence[Path] = ()) -> frozenset[Path]:
    """`_lock` (the folders of a killed build's outputs too, when its commit was left
    unfinished: journal.py), finish that commit, then remove what killed builds left in the
    folders locked (no other build is writing there). The folders locked."""
    from . import journal, sweep

    held = _lock(lessons, no_wait, [*outputs, *journal.folders(lessons)])
    journal.recover(lessons)
    sweep.folders(lessons, held)
    return held


def _lock(lessons: Path, no_wait: bool, outputs: Sequence[Path] = ()) -> frozenset[Path]:
    """Lock the lessons (and cache) folders, and the `outputs` folders, until the command ends
    (Click closes its context: one build or `ids` of a folder at a time, one build writing an
    output). The folders locked (`lock.hold`)."""
    from . import lock

    hold = lock.hold(lessons, wait=not no_wait, outputs=outputs)
    return click.get_current_context().with_resource(hold)


def _sweep_outputs(
    library: Library,
    wanted: Wanted,
    report_file: Path | None,
    held: frozenset[Path],
    names: places.Names,
) -> None:
    """Remove what killed builds left beside this build's outputs (named by `names`) whose
    folder it holds locked (`Wanted.folders`; unlocked, another build may be writing them); a
    release's, beside their drafts too (the release removes those: `pipeline._drafts_gone`)."""
    from . import places, sweep

    def locked(path: Path | None) -> Path | None:
        return path if path is not None and _holder(path) in held else None

    report, decks, scorm = locked(report_file), locked(wanted.decks), locked(wanted.scorm)
    files = [report] if report is not None else []
    for course in library.courses:
        if decks is not None:
            files.append(decks / names.deck(course))
        if scorm is not None:
            files.append(scorm / names.package(course))
    sweep.outputs(files, locked(wanted.site))
    if not names.draft:  # (a draft folder has the same parent: the same lock)
        drafts = places.draft_outputs(library.courses, decks, None, scorm)
        site = locked(wanted.site)
        sweep.outputs(drafts, None if site is None else places.draft_folder(site))


def _replayed(last: LastBuild) -> bool:
    """Print what the last build printed, if this build is its replay (`LastBuild.replay`)."""
    lines = last.replay()
    for err, text in lines or ():
        click.echo(text, err=err)
    return lines is not None


def _remember(
    last: LastBuild,
    library: Library,
    result: BuildResult,
    options: pipeline.BuildOptions,
    strict: bool,
    lines: list[tuple[bool, str]],
    wanted: Wanted,
) -> None:
    """Record what the same build, run again, prints (see `outputs.LastBuild`), if the drafts
    of its outputs (`wanted`), which it removed, are still gone then."""
    from .manifest import LEGACY_FILE, MANIFEST_FILE
    from .places import draft_outputs

    targets = [p for lang in result.languages for p in (lang.deck, lang.scorm) if p]
    if result.site:
        targets.append(result.site)
    built = {lesson.path: lesson.digest for course in library.courses for lesson in course.lessons}
    again = partial(_next_transcript, library, result, options, strict)
    gone = draft_outputs(library.courses, wanted.decks, wanted.site, wanted.scorm)
    manifests = (MANIFEST_FILE, LEGACY_FILE)  # (all the build writes there but lessons)
    wrote = [course.root / name for course in library.courses for name in manifests]
    last.remember(targets, lines, again, built, result.signed, gone, wrote)


def _next_transcript(
    library: Library, result: BuildResult, options: pipeline.BuildOptions, strict: bool
) -> list[tuple[bool, str]] | None:
    """What the same build prints when run again on what this one wrote (its release recorded,
    its IDs given), if it would change nothing; else None."""
    from . import pipeline
    from .ids import misplaced_ids, missing_ids

    warnings = [*library.warnings, *pipeline.check_translations(library)]
    settled = pipeline.settled(library, result, options)
    if settled is None or (strict and warnings) or missing_ids(library, NO_ID):
        return None
    if misplaced_ids(library, MOVE_ID):  # (a --frozen build's: it says so every time)
        return None
    say = Transcript(echo=False)
    _warn(warnings, say)
    _report(settled, None, say)
    return say.lines


def _report(result: BuildResult, report_file: Path | None, say: Echo, draft: bool = False) -> None:
    """What the build gives learners, and where the outputs are; a `draft`'s, what it is for."""
    _warn(result.update_warnings, say)
    for update in result.updates:
        say(update.text())
        if update.decks_renamed:
            say(
                f"{update.lang}: warning: decks renamed (--rename-decks): learners who imported "
                "the course keep their cards in the old decks; only new cards go to the renamed "
                "ones, so their lessons split across two decks",
                err=True,
            )
    if report_file is not None:
        say(f"report: {report_file}")
    for lang in result.languages:
        paths = [str(path) for path in (lang.deck, lang.scorm) if path]
        built = f" -> {', '.join(paths)}" if paths else ""
        counts = ", ".join(
            _counted(n, what)
            for n, what in ((lang.lessons, "lesson"), (lang.notes, "note"), (lang.cards, "card"))
        )
        say(f"{lang.lang}: {counts}{built}")
    if result.site is not None:
        say(f"site: {result.site / 'index.html'}")
    if draft and any(lang.deck for lang in result.languages):
        say(DRAFT_NOTE)
    if result.warnings:
        say(f"{len(result.warnings)} warning(s)", err=True)


@main.command("watch", params=[p for p in build_command.params if p.name != "draft"])
@click.option(
    "--release",
    is_flag=True,
    help="Record each build that changes anything for learners as a release, as `build` does"
    " (default: every build is a --draft).",
)
def watch_command(release: bool, **options: Any) -> None:
    """Build, then build again whenever the lessons change (until Ctrl-C).

    Each build is `build --draft`'s, with its options: a preview that records no release (a
    card added and removed while editing never retires), written into DIR-draft folders
    (site-draft/index.html...), never over the released outputs; run `build` to release (it
    removes the drafts it replaces), or watch with --release. After each build, its report and
    how long it took. A build with problems prints them as `path:line: message` and writes
    nothing: the last good outputs stay, and the next change is built. The build lock is held
    only while building; what a build writes into the lessons folder (card IDs, manifests)
    starts no build. One process kept between builds rebuilds a one-card edit in a fraction of
    a cold build's time. Where file-system events do not reach the process (some network or
    container mounts), set WATCHFILES_FORCE_POLLING=1.
    """
    from . import lessons, watch

    options["draft"] = not release
    ctx = click.get_current_context()
    wanted = Wanted.of(
        (options["decks_dir"], options["no_decks"]),
        (options["site_dir"], options["no_site"]),
        (options["scorm_dir"], options["no_scorm"]),
    )

    def build(reported: Callable[[], object]) -> Library | None:
        # Each build runs in a context of its own: its lock is released when it ends.
        library: Library | None = ctx.invoke(build_command, **options, reported=reported)
        return library

    pages = not (options["no_site"] and options["no_scorm"])
    # After a first build that replayed the last one (nothing of the build loaded), the next
    # one would import it all: an author's first edit waits for that.
    warm = partial(_import_build, options["lessons"], pages=pages, scorm=not options["no_scorm"])
    # Each build finds the lessons it does not parse in memory, as the last one found them or
    # as read after it (`lessons.Kept`), not in the cache's files, and their notes as the last
    # build made them (`decided.keep_notes`).
    lessons.keep_parses()
    after = partial(_between_builds, options["lessons"], options["langs"], pages)
    drafts = wanted if release else wanted.drafted()
    outputs_of = [*wanted.outputs(), *drafts.outputs(), options["report_file"]]
    watch.watch(build, options["lessons"], outputs_of, warm=warm, after=after)


def _between_builds(lessons: Path, langs: Sequence[str], pages: bool) -> None:
    """The watch's work after each build, for the next one: the parses it did not find in
    memory read into it (`lessons.read_kept`), the notes it makes kept (`decided.keep_notes`:
    from the first build on, which imports `decided`), and, for whichever language is edited
    next, every language's notes made and manifest read from what is kept (`decided.prepare`:
    the first edit after the watch starts made and read them, 20-25 ms at 10,000 cards; up to
    `decided.PREPARE_MAX` cards)."""
    from . import decided
    from .lessons import kept_library, read_kept

    decided.keep_notes()
    read_kept(lessons, langs, pages)
    library = kept_library(lessons, langs, pages, most_cards=decided.PREPARE_MAX)
    if library is not None:
        decided.prepare(library)


@main.command("check")
@lessons_option
@lang_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit status 1).")
@frozen_option
@folder_option(
    "--decks",
    "decks_dir",
    DEFAULT_DECKS,
    "Where `build` writes the .apkg files (a language without a manifest whose deck is there "
    "was published: an error).",
)
@folder_option(
    "--site",
    "site_dir",
    DEFAULT_SITE,
    "Where `build` writes the HTML course (its copy of the decks: as --decks).",
)
@new_edition_option
def check_command(
    lessons: Path,
    langs: tuple[str, ...],
    strict: bool,
    frozen: bool,
    decks_dir: Path = DEFAULT_DECKS,
    site_dir: Path = DEFAULT_SITE,
    new_edition: bool = False,
) -> None:
    """Validate the lessons without writing anything.

    Lists every problem as `path:line: message`, the manifests' and the changes Anki could not
    apply to learners' decks included; exits with status 1 on errors (and on warnings with
    --strict). A card without an ID is a warning (`build` would give it one); with --frozen,
    an error.
    """
    from .cache import reading_only

    prepare = partial(_import_build, lessons)  # (the deck stage's check: no site, no SCORM)
    with reading_only():
        library, warnings = _load_checked(
            lessons, langs, strict, frozen=frozen, give_ids=False, prepare=prepare
        )
        from . import pipeline  # (imported by `prepare` while the lessons were parsed)

        pipeline.check_updates(library, (decks_dir, site_dir / "decks"), new_edition)
    for course in library.courses:
        counts = f"{_counted(len(course.lessons), 'lesson')}, {_counted(len(course.cards), 'card')}"
        click.echo(f"{course.lang}: {counts}: ok")
    if warnings:
        click.echo(f"{len(warnings)} warning(s)", err=True)
    _pending(lessons)


def _pending(lessons: Path) -> None:
    """Say so when a killed build's commit waits to be finished (journal.py): `check` writes
    nothing, and read the manifests the next build replaces first."""
    from . import journal

    if journal.read(lessons) is not None:
        click.echo(
            f"{journal.path(lessons)}: note: a build was stopped while putting its outputs in "
            "place; the next build finishes that first (this check read the manifests as "
            "they are now)",
            err=True,
        )


@main.command("ids")
@lessons_option
@lang_option
@no_wait_option
def ids_command(lessons: Path, langs: tuple[str, ...], no_wait: bool) -> None:
    """Give every card without an ID a new one, in place.

    Appends `<!-- id: xxxxxxxx -->` to the card's last line (above a closing code fence, never
    on a `?` line) and changes no other byte of the file; an ID comment on a line of its own
    under its card (where the Obsidian plugin runs the card on) is moved there the same way.
    Commit the result: the IDs are what keep learners' progress when cards change.
    """
    from .lessons import load_library

    _lock(lessons, no_wait)
    library = load_library(lessons, langs)  # (the parse only: nothing of the build's writers)
    from .ids import add_missing_ids, lost_ids

    _warn(lost_ids(library))  # (before the new IDs are written)
    added = add_missing_ids(library)
    for item in added:
        click.echo(str(item))
    if not added:
        click.echo("every card has an ID")
