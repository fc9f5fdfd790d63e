"""The whole build, in two phases: decide and render every output to temporary files, then commit
them (replace the decks and SCORM packages, swap the site, write the manifests and the report), so
a failed build leaves the previous output as it was. The commit is journaled (journal.py): a build
killed while committing is finished by the next one."""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import click

from . import (
    anki,
    collector,
    decided,
    forked,
    journal,
    manifest,
    outputs,
    published,
    translations,
    updates,
)
from .background import Background
from .decided import Decided
from .files import named, naming, temp_file
from .lessons import (
    FREEZE_THRESHOLD,
    POOL_THRESHOLD,
    display_path,
    language_folders,
    lesson_files,
    load_library,
)
from .model import Course, CourseError, Library, Problem
from .places import RELEASE, Names, draft_outputs, site_folder

if TYPE_CHECKING:
    from .site import LessonFacts


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """How `build` writes: the options that are not an output's folder."""

    draft: bool = False
    """A preview: decks and site are written, but no release is recorded (manifests untouched).
    A build without decks is one too (`_build`): it records nothing."""
    rename_decks: bool = False
    """Give published decks the current titles and order (learners keep cards in the old ones)."""
    report: Path | None = None
    """Where to write the change report as Markdown."""
    new_edition: bool = False
    """A language without a manifest starts a new edition even where its decks were published
    (`published.evidence`; without it, that is an error: `updates.lost_manifest`)."""
    earlier: tuple[Path | None, ...] = ()
    """The folders where a language's published deck file is looked for when it has no manifest
    (a release's decks folder and the site's `decks/`; () for the outputs `build` writes)."""
    replan_later: bool = False
    """The caller says the build is done before it records what the next build prints (the
    watch: `cli.build_command`'s `reported`): the next build's outcome against the manifests
    this build writes is worked out then (`settled`), not while they are rendered, before the
    outputs are committed (`_render_manifest`)."""
    names: Names = RELEASE
    """The decks' and SCORM zips' file names, and the site's links to them: a draft's
    (`places.DRAFTS`, `build --draft`: the command line also gives a draft folders of its own,
    `places.draft_folder`) are never a release's. A build with a release's names removes the
    drafts of the outputs it writes (`_drafts_gone`): they hold what it replaces."""


@dataclass(frozen=True, slots=True)
class LanguageResult:
    """What a build wrote for one language."""

    lang: str
    lessons: int
    notes: int
    cards: int
    deck: Path | None
    scorm: Path | None = None
    """Where the language's SCORM 1.2 package goes (None: not asked for)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What a build wrote, and what it tells learners and authors."""

    languages: tuple[LanguageResult, ...]
    site: Path | None
    warnings: tuple[Problem, ...] = field(default=())
    updates: tuple[updates.Report, ...] = ()
    """Per language: what learners get from this build."""
    update_warnings: tuple[Problem, ...] = ()
    rendered: tuple[Path, ...] = ()
    """The decks, SCORM zips and site this build rendered and put in place."""
    unchanged: tuple[Path, ...] = ()
    """Those it left alone: on disk as the last build wrote them, from the same inputs."""
    plans: tuple[Decided, ...] = ()
    """Each language's deck plan, without its notes: what `settled` decides again."""
    signed: Mapping[str, list[object] | None] = field(default_factory=dict)
    """The signatures of the outputs it rendered, once committed (`outputs.Record.signed`)."""

    @classmethod
    def of(
        cls,
        library: Library,
        results: Sequence[LanguageResult],
        site_dir: Path | None,
        plans: Sequence[Decided],
        record: outputs.Record,
    ) -> BuildResult:
        """What a build that made `record`'s outputs from `plans` gives."""
        rendered = [Path(t) for t in record.written if Path(t) not in record.skipped]
        return cls(
            tuple(results),
            site_dir,
            library.warnings,
            tuple(p.outcome.report for p in plans),
            tuple(w for p in plans for w in p.outcome.warnings),
            tuple(rendered),
            tuple(record.skipped),
            tuple(plans),
            record.signed,
        )


@dataclass(frozen=True, slots=True)
class Output:
    """A rendered file or folder in a temporary place, and where it goes on commit. A new kind of
    output (a SCORM zip...) is one more of these in the list `build` commits."""

    rendered: Path
    target: Path
    moves: tuple[str, ...] = ()
    """Folders of the current `target` (a folder: a site's languages it left as they were,
    `_reuse_language`) that go into the rendered one as they are, by name, when it is put in
    place: one rename each, not a link per file and an unlink per file of the old one."""

    def commit(self, link: bool = False) -> None:
        """Put it in place; a folder's `moves` are linked with `link` (`_move_folders`)."""
        if self.rendered.is_dir():
            _move_folders(self.target, self.rendered, self.moves, link)
            _swap_dir(self.rendered, self.target)
        else:
            os.replace(self.rendered, self.target)

    def discard(self) -> None:
        if self.rendered.is_dir():
            shutil.rmtree(self.rendered, ignore_errors=True)
        else:
            self.rendered.unlink(missing_ok=True)

    def step(self) -> journal.Step:
        """The commit's step, for its journal (`resume` does it again)."""
        old = _old_dir(self.target) if self.rendered.is_dir() else None
        return journal.Step(_absolute(self.rendered), _absolute(self.target), self.moves, old)


@dataclass(frozen=True, slots=True)
class Removal:
    """A file or folder the commit deletes (the legacy `anki-mod-times.json` once its manifest
    exists; a draft's outputs once a release replaces them: `_drafts_gone`)."""

    target: Path

    def commit(self, link: bool = False) -> None:
        _remove(self.target)

    def discard(self) -> None:
        pass

    def step(self) -> journal.Step:
        return journal.Step(None, _absolute(self.target))


def _remove(target: Path) -> None:
    """Delete the file or folder `target` (a folder's files as far as they can be: what is
    left of a draft's site is still no release's)."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target, ignore_errors=True)
    else:
        target.unlink(missing_ok=True)


def _drafts_gone(library: Library, names: Names, folders: _Folders) -> list[Removal]:
    """The drafts (`BuildOptions.names`) of the outputs a build with a release's `names` writes
    into `folders` (decks, site, SCORM): they hold what it replaces, and a tester must not take
    one for it. Deleted with the commit (a failed build leaves them); none for a draft."""
    if names.draft:
        return []
    decks, site, scorm = folders
    found = draft_outputs(library.courses, decks, site, scorm)
    return [Removal(path) for path in found if os.path.lexists(path)]


def _emptied(folders: Sequence[Path | None]) -> None:
    """The draft folders of the decks and SCORM zips (`folders`) deleted when the commit left
    them empty (`_drafts_gone`); a folder holding anything else stays."""
    from .places import draft_folder

    for folder in folders:
        if folder is not None:
            with contextlib.suppress(OSError):
                draft_folder(folder).rmdir()


def _absolute(path: Path) -> str:
    """A path as the journal names it: the next build may run in another working folder."""
    return str(path.absolute())


def _commit(lessons: Path, made: list[Output | Removal], outputs: Sequence[Path | None]) -> None:
    """Put every rendered output in place, in order, with a journal (journal.py): a build killed
    from here on is finished by the next one. The rendered outputs then belong to the journal,
    no longer to `made`: a failure (`journal.Unfinished`) leaves them for the next build to put
    in place, where discarding them would leave some outputs new, some old. `outputs`: the
    decks, site and SCORM folders and the report, whose parent folders the build locks."""
    if not made:
        return
    holders = tuple(sorted({str(p.resolve().parent) for p in outputs if p is not None}))
    steps = list(made)
    journaled = journal.write(lessons, journal.Journal(tuple(o.step() for o in steps), holders))
    if journaled:
        made.clear()
    try:
        for output in steps:  # unjournaled, the current site keeps its folders until the swap
            output.commit(link=not journaled)
    except OSError as error:
        if journaled:
            raise journal.Unfinished(journal.stopped(lessons, error)) from None
        raise
    if journaled:
        journal.remove(lessons)


def _commit_build(
    library: Library, made: list[Output | Removal], options: BuildOptions, folders: _Folders
) -> None:
    """`_commit` of a build's outputs (into `folders`: decks, site, SCORM) and, when it is not
    a draft, the removal of their drafts (`_drafts_gone`), whose emptied folders go after (a
    build killed before, finished by the next one's recovery, leaves them to that build)."""
    made += _drafts_gone(library, options.names, folders)
    _commit(library.root, made, (*folders, options.report))
    if not options.names.draft:
        _emptied((folders[0], folders[2]))


_Folders = tuple[Path | None, Path | None, Path | None]
"""A build's decks, site and SCORM folders (None: not written)."""


def resume(step: journal.Step) -> None:
    """Do the `step` of a killed build's commit again, unless it is done (`journal.recover`): a
    rendered file or folder still there is not in place yet; a folder's moves left to do are
    those whose folder the current one still holds (a move is one rename: a killed link of its
    files, `_link_tree`, is done again); the current folder set aside by a swap goes, unless
    the new one is gone and no folder is in place: then it goes back (the only whole one)."""
    target = Path(step.target)
    if step.rendered is None:
        _remove(target)
    elif step.old is None:
        if os.path.lexists(step.rendered):
            os.replace(step.rendered, target)
    elif Path(step.rendered).is_dir():
        rendered = Path(step.rendered)
        left = [name for name in step.moves if (target / name).is_dir()]
        for name in left:
            shutil.rmtree(rendered / name, ignore_errors=True)
            (rendered / name).mkdir()
        _move_folders(target, rendered, left)
        _swap_dir(rendered, target, Path(step.old))
    elif not os.path.lexists(target) and os.path.lexists(step.old):
        Path(step.old).rename(target)
    else:
        shutil.rmtree(step.old, ignore_errors=True)


def warm(lessons: Path) -> None:
    """Read now what a build reads of the lessons folder besides the lessons: the command line
    calls this while a forked child parses the lessons (`load_library`'s `meanwhile`). In a
    small course (up to POOL_THRESHOLD lessons), this process reads and parses then, not after
    the parse, the manifest of each language whose deck plan no earlier build kept
    (`manifest.read` keeps the parse of a file's bytes, which the build's own reads take while
    the file is unchanged); a kept plan may be taken without the manifest's parse
    (`decided.py`), and a larger build keeps its manifests parsed for less time. The note
    types' files are read and a forked writer's first step loaded too (`anki.preload`,
    `forked.ready`). What cannot be read or parsed is left to the build, which reports it."""
    try:
        folders = [lessons / name for name in language_folders(lessons)]
        small = sum(len(lesson_files(folder)) for folder in folders) <= POOL_THRESHOLD
    except OSError:
        folders, small = [], False
    for folder in folders if small else ():
        if decided.kept(folder):
            continue
        try:
            manifest.read(folder, display_path(folder))
        except (CourseError, OSError):
            continue
    anki.preload()
    forked.ready()


def check(lessons: Path, langs: Sequence[str] = (), site: bool = True) -> Library:
    """Validate only; raises CourseError with every problem found. `site`: see `load_library`."""
    return load_library(lessons, langs, site)


@collector.paused()
def check_translations(library: Library) -> list[Problem]:
    """Warnings for broken translation links and for translations whose original changed after
    they were last brought in line (read from each translation's manifest)."""
    found, problems = translations.links(library)
    for lang, lang_links in translations.by_language(found).items():
        root = library.course(lang).root
        try:
            recorded = manifest.read(root, display_path(root))  # parsed once: the plan reuses it
        except CourseError:
            continue  # an unreadable manifest is reported as an error by the update check
        for link in lang_links:
            problems += translations.stale(link, recorded)
    return problems


def check_updates(
    library: Library, earlier: Sequence[Path | None] = (), new_edition: bool = False
) -> list[anki.DeckPlan]:
    """What a build would give learners, recording nothing; raises CourseError for an unreadable
    manifest, a change Anki cannot apply (a published Q/A card turned cloze...) or a manifest
    lost (`earlier`, `new_edition`: see `BuildOptions`)."""
    options = BuildOptions(draft=True, new_edition=new_edition, earlier=tuple(earlier))
    return plan_decks(library, anki.build_time(), options)


def _swap_dir(new: Path, target: Path, old: Path | None = None) -> None:
    """Replace `target` with the finished `new` folder with two renames, the current one set
    aside as `old` (by default `_old_dir`'s name), then deleted. Done again after a kill
    between the renames (`resume`: no `target`, `old` there), it puts `new` in place."""
    old = old or Path(_old_dir(target))
    if target.exists():
        if old.exists():  # a killed build's, with this process's id
            shutil.rmtree(old)
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _old_dir(target: Path) -> str:
    """Where `_swap_dir` sets the current `target` folder aside (sweep.py knows the name)."""
    return _absolute(target.with_name(f".{target.name}.old-{os.getpid()}"))


_rename = os.rename
"""How `_move_folders` renames a folder (a test makes it fail)."""


def _move_folders(source: Path, folder: Path, names: Sequence[str], link: bool = False) -> None:
    """Move each folder `names` of `source` (the current output) in place of the empty folder
    of that name in `folder` (the new one), just before the new one replaces it; where a
    folder cannot be moved, or with `link` (a commit without a journal must leave `source`
    whole until the swap), its files are linked (or copied: `_link_tree`). When that fails
    too, the folders moved go back and OSError is raised: `source` is left as it was."""
    moved: list[str] = []
    try:
        for name in names:
            into = folder / name
            if not link and _moved(source / name, into):
                moved.append(name)
                continue
            into.mkdir(exist_ok=True)
            if not (source / name).is_dir() or not _link_tree(source / name, into):
                raise OSError(f"{source / name}: cannot take its files over")
    except OSError:
        for name in reversed(moved):
            with contextlib.suppress(OSError):
                _rename(folder / name, source / name)
        raise


def _moved(source: Path, into: Path) -> bool:
    """Whether the folder `source` could be renamed in place of the empty folder `into`."""
    try:
        into.rmdir()
        _rename(source, into)
    except OSError:
        return False
    return True


def _link_tree(source: Path, folder: Path) -> bool:
    """Hard-link (or, where links fail, copy) every file of `source` into the empty `folder`:
    the new output shares the files, which the commit's swap does not touch. False, with
    `folder` empty again, when a file could not be taken over."""
    try:
        for parent, dirs, names in os.walk(source):
            into = folder / Path(parent).relative_to(source)
            for name in dirs:
                (into / name).mkdir()
            for name in names:
                _link_or_copy(Path(parent, name), into / name)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return False
    return True


@dataclass(frozen=True, slots=True)
class EarlierFolder:
    """A language's folder of the current site, as the new site's (`folder`) `site.Earlier`:
    files taken over are hard-linked (or copied) from there."""

    pieces: outputs.Pieces
    source: Path
    folder: Path
    made: set[str] = field(default_factory=set, compare=False)
    """The subfolders of `folder` made or found already (`_link_files`)."""

    def take(self, names: Sequence[str]) -> bool:
        return _link_files(self.source, self.folder, names, self.made)

    def data(self, name: str) -> bytes | None:
        try:
            return (self.source / name).read_bytes()
        except OSError:
            return None


def _link_files(
    source: Path, folder: Path, names: Sequence[str], made: set[str] | None = None
) -> bool:
    """Hard-link (or copy) the files `names` (paths with `/`) of `source` into `folder`, all
    or none (False). `made`: the subfolders of `folder` made already, kept up to date: each is
    made once, not asked of mkdir before each file (a rebuild takes over 1,300 files of a
    language at 100,000 cards); the paths are strings, not Paths."""
    made = set() if made is None else made
    top, into_top, done = f"{source}{os.sep}", f"{folder}{os.sep}", []
    try:
        for name in names:
            into = into_top + name
            parent = name.rpartition("/")[0]
            if parent and parent not in made:
                Path(into_top + parent).mkdir(exist_ok=True)
                made.add(parent)
            _link_or_copy(top + name, into)
            done.append(into)
    except OSError:
        for path in done:
            Path(path).unlink(missing_ok=True)
        return False
    return True


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    """Hard-link `source` as `target`, or copy it where links fail (another file system)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _temp_file(folder: Path, name: str, data: bytes | None = None) -> Path:
    """A temporary file in `folder` for the output `name` (readable by all), holding `data` if
    given; a write that fails names the output (`files.naming`) and leaves no file."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file(folder, name)
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from a web server
        if data is not None:
            with naming(folder / name):
                Path(tmp).write_bytes(data)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


@collector.paused()
def plan_decks(library: Library, now: int, options: BuildOptions) -> list[anki.DeckPlan]:
    """Decide every language's package against its manifest. Raises CourseError listing every
    change Anki cannot apply (and every unreadable manifest)."""
    plans: list[anki.DeckPlan] = []
    problems: list[Problem] = []
    namings = updates.namings(library)
    for course in library.courses:
        try:
            old = manifest.read(course.root, display_path(course.root))
            plan = _prepare(course, old, now, options, namings.get(course.lang, updates.ALONE))
        except CourseError as exc:
            problems += exc.problems
            continue
        problems += plan.plan.errors
        plans.append(plan)
    _raise(problems, [p.plan.id_change for p in plans])
    return plans


def _raise(problems: list[Problem], id_changes: Sequence[updates.IdChange | None]) -> None:
    """Raise CourseError for `problems` and, once for every language, a changed course ID
    (`updates.course_changed`), if there is any."""
    changes = [change for change in id_changes if change is not None]
    if changes:
        problems = [*problems, updates.course_changed(changes)]
    if problems:
        raise CourseError(problems)


def _prepare(
    course: Course,
    old: manifest.Manifest,
    now: int,
    options: BuildOptions,
    naming: updates.Naming,
) -> anki.DeckPlan:
    return anki.prepare(
        course,
        old,
        now,
        draft=options.draft,
        rename_decks=options.rename_decks,
        manifest_path=display_path(course.root / manifest.MANIFEST_FILE),
        live=decided.notes(course),
        naming=naming,
        published=_published(course, old, options),
    )


def _published(course: Course, old: manifest.Manifest, options: BuildOptions) -> tuple[str, ...]:
    """What says that the decks of a language without a manifest were published (nothing is
    looked for with a manifest, with --new-edition, or without cards to ship)."""
    if old.found or options.new_edition or not course.cards:
        return ()
    return published.evidence(course.root, anki.deck_file_name(course), options.earlier)


@collector.paused()
def decide(library: Library, now: int, options: BuildOptions) -> list[Decided]:
    """`plan_decks` for a build: a language whose inputs are those of an outcome an earlier
    build kept (`decided.py`) takes it and is not decided again. Raises as `plan_decks`."""
    lang_links = translations.by_language(translations.links(library)[0])
    plans: list[Decided] = []
    problems: list[Problem] = []
    namings = updates.namings(library)
    for course in library.courses:
        links = lang_links.get(course.lang, [])
        naming = namings.get(course.lang, updates.ALONE)
        choices = (options.draft, options.rename_decks, naming)
        inputs = decided.inputs(library, course, links, choices)
        try:
            file = manifest.File.read(course.root, display_path(course.root))
            plan = decided.load(course, inputs, file, naming)
            if plan is None:
                deck = _prepare(course, file.parse(), now, options, naming)
                outcome = decided.Outcome.of(deck)
                plan = Decided(course, outcome, inputs, file.digest, deck, naming=naming)
        except CourseError as exc:
            problems += exc.problems
            continue
        problems += plan.errors
        plans.append(plan)
    _raise(problems, [plan.id_change for plan in plans])
    return plans


def build(
    library: Library,
    decks_dir: Path | None,
    site_dir: Path | None,
    options: BuildOptions | None = None,
    *,
    scorm_dir: Path | None = None,
) -> BuildResult:
    """Build decks (into `decks_dir`), the HTML course (into `site_dir`) and a SCORM 1.2 package
    per language (into `scorm_dir`) from a loaded library; None skips an output. Raises
    CourseError, having written nothing. First finishes the commit of a killed build of the
    same lessons (`journal.recover`: `journal.Unfinished` when it cannot). A large build runs
    without the cyclic collector (`_quiet`), and what it leaves alive is frozen at its end.
    Raises `places.Overlap` first when the site folder would delete the lessons or an output;
    OSError when an output cannot be written (the command line says so: `Unwritten`)."""
    from .places import check as check_places

    options = options or BuildOptions()
    site_decks = None if site_dir is None else site_dir / "decks"  # (`site._copy_files`)
    # The command line gives the release's folders, drafting or not; a draft called as a library
    # with a release's names (`names`) writes there itself: its own deck is no sign of one.
    if not options.earlier and not options.draft:
        options = replace(options, earlier=(decks_dir, site_decks))
    others = {"--decks": decks_dir, "--scorm": scorm_dir, "--report": options.report}
    check_places(library.root, site_dir, others)
    journal.recover(library.root)  # (the command line did, before its sweep)
    with _quiet(library, freeze=True):
        return _build(library, decks_dir, site_dir, options, scorm_dir)


class Unwritten(click.ClickException):
    """An output could not be written or put in place (a full disk, a folder refused, a file
    in the way): `build` raises the OSError, the command line stops with this message. The
    OSError names a file: the one refused, or, for a refused write (which names none), the
    output being written (`files.naming`, around each writer)."""

    exit_code = 1

    @classmethod
    def of(cls, error: OSError) -> Unwritten:
        where = f"{error.filename}: " if error.filename is not None else ""
        reason = error.strerror or str(error)
        return cls(
            f"{where}cannot write the build's outputs: {reason}. Fix that, then build again."
        )


def _quiet(library: Library, freeze: bool = False) -> AbstractContextManager[object]:
    """For a large library (over FREEZE_THRESHOLD lessons, loaded by a process that ends with its
    build: the library is frozen, `lessons.load_library`), the cyclic collector paused, and with
    `freeze` what lives at the end moved out of its sight (`collector.paused`). A one-edit
    rebuild at 100,000 cards ran it 300 times for 0.1 s of CPU (0.25-0.4 s on a loaded
    machine), collecting about 300 objects in all: the plans (a few records per note), the
    writers' records and the settled replan (`settled`) make objects that live till the end
    and almost no cycles; its first run after the plans walked them all (50-100 ms)."""
    if library.lesson_count() > FREEZE_THRESHOLD:
        return collector.paused(freeze)
    return nullcontext()


def _report_file(report: Path, plans: Sequence[Decided]) -> Output:
    """`--report FILE`: every language's report in Markdown, written to a temporary file."""
    text = "".join(p.outcome.report.markdown() + "\n" for p in plans)
    return Output(_temp_file(report.parent, report.name, text.encode()), report)


def _build(
    library: Library,
    decks_dir: Path | None,
    site_dir: Path | None,
    options: BuildOptions,
    scorm_dir: Path | None,
) -> BuildResult:
    if decks_dir is None:  # no decks, so no release recorded: its report is a draft's
        options = replace(options, draft=True)
    plans = decide(library, anki.build_time(), options)
    record = outputs.Record.load(library.root)
    made: list[Output | Removal] = []
    manifests: list[Output | Removal] = []  # committed after the others (`made`), made sooner
    writes: list[Write] = []
    zips = Background()  # the decks' zip steps (`Share.ALONE`)
    try:
        # The plans drop their notes (every card's fields again; the pending deck writes hold
        # them until they run); they keep what the manifests and the report read.
        results, decks, plans = _render_decks(plans, decks_dir, made, record, options, writes, zips)
        share = _share(library)
        if share is Share.ALONE:  # a large build writes its decks before the site renders
            zips.enabled = _threads_aside(share)  # their zips deflate meanwhile, in a thread
            with collector.paused():  # the deck stages make many objects and no cycles
                _write(writes, record, share)
            zips.enabled = False
        rendered: list[Decided] = []  # the plans with their manifests (`_render_manifests`)
        render = partial(_render_manifests, library, plans, manifests, options)
        released = not options.draft
        finish = _Finish(zips.join, (lambda: rendered.extend(render())) if released else None)
        dirs = (scorm_dir, None if site_dir is None else site_folder(site_dir))
        packages = _render_shared(
            library, plans, decks, dirs, made, record, writes, share, finish, options.names
        )
        finish.written()
        plans = rendered or plans
        made += manifests
        manifests.clear()
        results = [
            replace(r, scorm=packages[r.lang].target) if r.lang in packages else r for r in results
        ]
        if options.report is not None:
            made.append(_report_file(options.report, plans))
        _commit_build(library, made, options, (decks_dir, site_dir, scorm_dir))
        record.keep_facts(f"{c.lang}/{lesson.id}" for c in library.courses for lesson in c.lessons)
        record.save()
        _keep(plans)
    finally:
        zips.join(check=False)  # nothing is written into a file discarded below
        for output in (*made, *manifests):
            output.discard()
    return BuildResult.of(library, results, site_dir, plans, record)


@dataclass(slots=True)
class _Finish:
    """What a build does once its decks are written: its manifests rendered (`render`: once),
    then the decks' zips waited for (`written`: the manifests first, if not rendered yet).

    The manifests are rendered before the build waits for the zips: while they deflate (a
    one-edit rebuild at 100,000 cards waited for its zip, then rendered them: 45 ms, and the
    settled replan's 35 ms after the commit), and after the site and the SCORM zips are
    written (a cold build's memory is then lower). In a build that shares its writes with a
    forked child, this process renders them while the child starts on the writes (`_write`'s
    `meanwhile`): a cold 10k decks-only build rendered them for 130 ms after its writes, with
    the other core idle."""

    join: Callable[[], None]
    manifests: Callable[[], object] | None = None
    rendered: bool = False

    def render(self) -> None:
        if self.manifests is not None and not self.rendered:
            self.rendered = True
            self.manifests()

    def written(self) -> None:
        self.render()
        self.join()


def _render_shared(
    library: Library,
    plans: Sequence[Decided],
    decks: dict[str, Made],
    dirs: tuple[Path | None, Path | None],
    made: list[Output | Removal],
    record: outputs.Record,
    writes: list[Write],
    share: Share,
    finish: _Finish,
    names: Names,
) -> dict[str, Made]:
    """The SCORM zips (into `dirs[0]`) and the site (into `dirs[1]`), with the writes still
    pending (`_deferred`): when they are `share`d (`_share`), the site's pages render here while
    a forked child runs those writes, and the written decks and zips are copied into the site
    after. Alone, the decks' zips may still be deflating in a thread (`finish.written` waits
    for them): they are copied into the site once they are written, not while. `names`:
    `BuildOptions.names`."""
    scorm_dir, site_dir = dirs
    facts, pairs, packages = _facts(record), dict[str, Paired](), dict[str, Made]()
    if scorm_dir:
        rest = (facts, pairs, share, names)
        packages = _render_packages(library, plans, scorm_dir, made, record, writes, *rest)
    site = partial(
        _render_site, library, plans, decks, packages, made=made, record=record, facts=facts,
        names=names,
    )  # fmt: skip
    copy = partial(_copy_downloads, names=names)
    pending = any(package.source != package.target for package in packages.values())
    # Sharing its writes, this process renders the manifests while the child starts (`_Finish`).
    meanwhile = None if share is Share.ALONE else finish.render
    if site_dir is not None and pending and share is not Share.SMALL:
        # the site's folders are written with the zips of their languages (`Paired`)
        site_made = site(site_dir, downloads=False, pairs=pairs)
        _write(writes, record, share, meanwhile)
        _readable(pairs)
        copy(library, site_made, decks, packages, finish.written)
    elif site_dir is not None and meanwhile is not None:
        done: list[Made] = []

        def pages() -> None:
            finish.render()
            done.append(site(site_dir, downloads=False))

        _write(writes, record, share, pages)
        copy(library, done[0], decks, packages)
    else:
        _write(writes, record, share, meanwhile)
        if site_dir is not None:
            site_made = site(site_dir, downloads=False)
            copy(library, site_made, decks, packages, finish.written)
    return packages


@dataclass(frozen=True, slots=True)
class Paired:
    """A language's folder of the site (`folder`, made empty in the new site; `source`, the
    current site's) that its SCORM zip's write fills too (`site.SiteSide`: each lesson's files
    rendered once for both), with its deck link. A large build's (`Share.SMALL` renders
    the site while the zips are written); set before the writes run, so a forked child has it."""

    folder: Path
    source: Path
    deck: str | None


def _readable(pairs: Mapping[str, Paired]) -> None:
    """The paired folders made readable, as `site.write_site` makes the rest (`make_readable`)."""
    if pairs:
        from . import site

        for paired in pairs.values():
            site.make_readable(paired.folder)


def settled(library: Library, result: BuildResult, options: BuildOptions) -> BuildResult | None:
    """What the same build, run again now on what this one left, would report, if it would
    change nothing: each language's notes decided again against the manifest this build wrote
    (not rendered again) give no release, the same manifest text and the same deck (mod times,
    deck names, retired notes), so the site and the SCORM zips are the same too. A language
    whose manifest this build left as it was decides as it did (same inputs). None when it
    would change something. Keeps the outcome of each language that settled (`decided.py`)."""
    with _quiet(library):
        return _settled(library, result, options)


def _settled(library: Library, result: BuildResult, options: BuildOptions) -> BuildResult | None:
    if options.draft or options.report is not None or not result.plans:
        return None
    lang_links = translations.by_language(translations.links(library)[0])
    again = [
        _replanned(plan, options, lang_links.get(plan.course.lang, [])) for plan in result.plans
    ]
    if any(outcome is None for outcome in again):
        return None
    reports = tuple(outcome.report for outcome in again if outcome is not None)
    warnings = tuple(w for outcome in again if outcome is not None for w in outcome.warnings)
    return replace(result, updates=reports, update_warnings=warnings)


def _replanned(
    plan: Decided, options: BuildOptions, links: Sequence[translations.Link]
) -> decided.Outcome | None:
    """The next build's outcome for `plan`'s language, if it writes what this build wrote."""
    root = plan.course.root
    try:
        file = manifest.File.read(root, display_path(root))
        if plan.settled and file.digest == plan.manifest_digest:
            return plan.outcome  # the same inputs as this build's: the same outcome
        written = file.parse()
    except CourseError:
        return None
    if plan.deck is None:
        return None  # kept, and its manifest changed since
    done, now, deck = plan.written, anki.build_time(), plan.deck
    if done is not None and (done.digest, done.now, done.plan) == (file.digest, now, deck.plan):
        outcome = done.next  # worked out for this deck when the build wrote this file, now
    else:
        same = partial(_same_text, plan.written, file=file)
        outcome = _next_outcome(plan, deck, written, links, options, now, same)
    if outcome is None or not file.lines:
        return None
    decided.save(plan.course, plan.inputs, file, outcome)
    return outcome


def _next_outcome(
    plan: Decided,
    deck: anki.DeckPlan,
    written: manifest.Manifest,
    links: Sequence[translations.Link],
    options: BuildOptions,
    now: int,
    same_text: Callable[[manifest.Manifest], bool],
) -> decided.Outcome | None:
    """The outcome of `plan`'s language decided again at `now` against `written`, the manifest
    this build wrote, if it writes what this build wrote: the same deck, no release, and the
    manifest's text as it is (`same_text` of the manifest it would record); else None."""
    again = anki.replan(deck, written, now, rename_decks=options.rename_decks)
    if not _same_deck(deck.plan, again) or again.report.release:
        return None
    if not same_text(translations.record(again.manifest, links)):
        return None
    outcome = replace(plan.outcome, report=again.report, warnings=again.warnings)
    return replace(outcome, release_notes=updates.release_notes(again.manifest))


def _same_text(
    written: decided.Written | None, recorded: manifest.Manifest, *, file: manifest.File
) -> bool:
    """`recorded.dumps()` is the manifest file's text (`read_text`'s: any line ends). When the
    file is the one this build wrote (`written`), they are compared as records, not as texts."""
    if written is not None and written.digest == file.digest and written.manifest == recorded:
        return True
    return recorded.dumps() == file.path.read_text(encoding="utf-8")


def _same_deck(plan: updates.Plan, again: updates.Plan) -> bool:
    """`again` (the next build's plan) is a no-op that writes the deck `plan` wrote."""
    # A release would stamp its changes with a new time: note_mods cover it.
    return (
        not again.errors
        and again.id_change is None
        and again.note_mods == plan.note_mods
        and again.note_type_mods == plan.note_type_mods
        and (again.top_deck, again.lesson_decks) == (plan.top_deck, plan.lesson_decks)
        and again.retired == plan.retired
    )


@dataclass(frozen=True, slots=True)
class Made:
    """An output of this build: where its content is now (a temporary file, or the target itself
    when it was up to date) and its inputs hash."""

    source: Path
    target: Path
    inputs: str


def _output(
    target: Path,
    inputs: str,
    record: outputs.Record,
    made: list[Output | Removal],
    render: Callable[[], Path],
    moves: Sequence[str] = (),
) -> Made:
    """`target`, rendered by `render(temporary path)` unless it is up to date; `moves`: the
    folders of `target` that `render` left to take over as they are (`Output.moves`)."""
    record.done(target, inputs)
    if record.unchanged(target, inputs):
        record.skipped.append(target.resolve())
        return Made(target, target, inputs)
    tmp = render()
    made.append(Output(tmp, target, tuple(moves)))
    return Made(tmp, target, inputs)


def _deferred(
    target: Path,
    inputs: str,
    record: outputs.Record,
    made: list[Output | Removal],
    writes: list[Write],
    write: Callable[[Path], object],
    whole: bool = False,
) -> Made:
    """`target`, unless it is up to date: a temporary file beside it, which `write(path)` fills
    when the build runs its `writes` (`_write`); `whole`: see `Write`."""

    def render() -> Path:
        tmp = _temp_file(target.parent, target.name)
        writes.append(Write(partial(named, target, write, tmp), whole))
        return tmp

    return _output(target, inputs, record, made, render)


SHARE_RESIDENT = 100 * 2**20
"""Resident bytes of this process up to which a build of any size shares its writes with a
forked child (`_share`). The child's resident set counts this process's pages again (a
measure of the process tree adds them up), and the tree must stay under the memory target
(300 MB at 100,000 cards) while both grow: a one-edit rebuild of a large course is small
enough once its kept languages are loaded; a cold one is not."""


class Share(enum.Enum):
    """How the decks and SCORM zips are written (`_share`)."""

    SMALL = enum.auto()
    """By this process and a forked child, the site's pages rendered here meanwhile: a small
    course."""
    SHARED = enum.auto()
    """By both, each language's site folder written with its zip (`Paired`): a larger build
    while this process is small (a rebuild after an edit)."""
    ALONE = enum.auto()
    """Here, one by one, the decks before the site renders (their notes dropped first)."""


def _share(library: Library) -> Share:
    """Whether the decks and SCORM zips are written by this process and a forked child
    together (`forked.share`), the site rendered here meanwhile: in a small course (the child
    costs a millisecond, and its memory, the library again as its pages are touched, is
    small), and in any build while this process is small (`SHARE_RESIDENT`: a rebuild after
    an edit, whose writers are most of its work). A large build writes them here, one by one,
    the decks' notes dropped before the zips are written."""
    if library.lesson_count() <= POOL_THRESHOLD:
        return Share.SMALL
    size = _resident()
    return Share.SHARED if size is not None and size <= SHARE_RESIDENT else Share.ALONE


def _threads_aside(share: Share) -> bool:
    """Whether the writes compress in threads beside this one (the decks' zips, the SCORM zips'
    entries: background.py): when this process writes them alone and a second core is idle."""
    return share is Share.ALONE and forked.cores() >= 2


def _resident() -> int | None:
    """This process's resident set in bytes (None where /proc does not tell)."""
    try:
        pages = int(Path("/proc/self/statm").read_bytes().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _write(
    writes: list[Write],
    record: outputs.Record,
    share: Share,
    meanwhile: Callable[[], object] | None = None,
) -> None:
    """Run the pending writes (`_deferred`), shared with a forked child when `share` (which
    starts on them while this process runs `meanwhile`; `Share`); their files are in the build's
    outputs already: a failure discards them with the rest. What a write made of its output's
    pieces (`Filled`: in the child, the record's copy would stay there) goes to `record`."""
    if share is not Share.ALONE:
        # The longest first leave the least idle time at the end (`Write.whole`).
        ordered = sorted(writes, key=_later)
        for result in forked.share([write.run for write in ordered], meanwhile):
            if isinstance(result, Filled):
                record.adopt(result.target, result.pieces)
                for target, pieces in result.also:
                    record.adopt(target, pieces)
                record.facts.update(result.facts)
    else:
        if meanwhile is not None:
            meanwhile()
        for write in writes:
            write.run()
    writes.clear()


class Write(NamedTuple):
    """A pending write (`_deferred`): `run` fills the output's temporary file.

    `whole`: a SCORM zip rendered whole, every lesson's files, with no earlier zip to take
    entries over from: the longest writes of a build (a cold 10k build's took about 500 ms
    each, its decks about 150 ms; after an edit, the edited language's deck, written whole,
    takes longer than its zip). A shared build (`_write`) starts them first, then the others
    in the order they were scheduled (the decks, then the zips): a cold 10k build ran in 0.91x
    the time with its zips first (6 alternating pairs)."""

    run: Callable[[], object]
    whole: bool = False


def _later(write: Write) -> bool:
    """`_write`'s order (a stable sort): the zips rendered whole first."""
    return not write.whole


@dataclass(frozen=True, slots=True)
class Filled:
    """What a write made of its output's pieces (`outputs.Pieces`), sent back from a forked
    child: the next build takes over the pieces that do not change."""

    target: Path
    pieces: outputs.Pieces
    also: tuple[tuple[Path, outputs.Pieces], ...] = ()
    """Another output the write made (a paired site folder: `Paired`), with its pieces."""
    facts: dict[str, list[object]] = field(default_factory=dict)
    """What it found of its lessons (`site.LessonFacts.known`), for the record."""


@collector.paused()
def _render_decks(
    plans: Sequence[Decided],
    decks_dir: Path | None,
    made: list[Output | Removal],
    record: outputs.Record,
    options: BuildOptions,
    writes: list[Write],
    zips: Background,
) -> tuple[list[LanguageResult], dict[str, Made], list[Decided]]:
    """Each language's deck (its write scheduled: `_deferred`, its zip step run by `zips`); the
    plans back without their notes (the scheduled writes hold them until run), with their
    decks' inputs."""
    results, files, light = [], {}, []
    for plan in plans:
        course, outcome = plan.course, plan.outcome
        deck_path, inputs = None, None
        if decks_dir is not None:
            deck_path = decks_dir / anki.deck_file_name(course, options.names)
            write = partial(_write_deck, plan, options, zips, deck_path)
            inputs = outcome.deck_inputs or outputs.deck_inputs(_deck(plan))
            files[course.lang] = _deferred(deck_path, inputs, record, made, writes, write)
        counts = (outcome.notes, outcome.cards) if decks_dir is not None else (0, 0)
        results.append(LanguageResult(course.lang, len(course.lessons), *counts, deck_path))
        light.append(plan.light(inputs))
    return results, files, light


def _write_deck(
    plan: Decided, options: BuildOptions, zips: Background, target: Path, path: Path
) -> None:
    """Write a plan's deck into `path` (the temporary file of `target`), its zip step run by
    `zips` (a thread: its failure names `target` too); a kept plan (no deck: its deck was
    deleted or edited since) is decided again first."""
    deck = plan.deck or _prepare_again(plan, options)
    anki.write_deck(
        deck, path, lambda step: zips.run(partial(named, target, step)), name=target.name
    )


def _deck(plan: Decided) -> anki.DeckPlan:
    if plan.deck is None:
        raise AssertionError("a kept plan has its deck's inputs hash")
    return plan.deck


def _prepare_again(plan: Decided, options: BuildOptions) -> anki.DeckPlan:
    """A kept plan's deck, to write it again (deleted or edited since): decided again from the
    same inputs. A kept plan records no release, so the build's time does not change it."""
    course, root = plan.course, plan.course.root
    old = manifest.read(root, display_path(root))
    return _prepare(course, old, anki.build_time(), options, plan.naming)


def _changes(plans: Sequence[Decided]) -> dict[str, updates.ReleaseNotes]:
    """Each language's latest release, for the course page's "what changed" list."""
    return {
        p.course.lang: p.outcome.release_notes for p in plans if p.outcome.release_notes is not None
    }


def _facts(record: outputs.Record) -> Callable[[], LessonFacts]:
    """The build's `site.LessonFacts` (what the last build knew of each lesson, in `record`),
    one for the SCORM zips and the site; made when one of them is rendered (site.py loads the
    template engine)."""

    @functools.cache
    def facts() -> LessonFacts:
        from . import site

        return site.LessonFacts(record.facts)

    return facts


def _render_packages(
    library: Library,
    plans: Sequence[Decided],
    scorm_dir: Path,
    made: list[Output | Removal],
    record: outputs.Record,
    writes: list[Write],
    facts: Callable[[], LessonFacts],
    pairs: Mapping[str, Paired],
    share: Share,
    names: Names = RELEASE,
) -> dict[str, Made]:
    """Each language's SCORM zip rendered to a temporary file in `scorm_dir`; by language.
    `pairs`: the site's folders each one's write fills too, once the site has set them. A
    build that writes alone (`share`) has a thread deflate each zip's entries while it renders
    (`scorm.write_package`'s `aside`): the other core is idle then."""
    from . import scorm  # the site's template engine loads only when asked for

    aside = _threads_aside(share)
    changes = _changes(plans)
    packages: dict[str, Made] = {}
    for course in library.courses:
        target = scorm_dir / scorm.package_file_name(course, names)
        notes = changes.get(course.lang)
        write = partial(
            _write_package, library, course, notes, facts, record, target, pairs, aside=aside
        )
        inputs = outputs.package_inputs(library, course, notes)
        whole = not record.has_pieces(target)  # (no earlier zip to take entries over from)
        packages[course.lang] = _deferred(target, inputs, record, made, writes, write, whole)
    return packages


def _write_package(
    library: Library,
    course: Course,
    notes: updates.ReleaseNotes | None,
    facts: Callable[[], LessonFacts],
    record: outputs.Record,
    target: Path,
    pairs: Mapping[str, Paired],
    path: Path,
    aside: bool = False,
) -> Filled:
    """Write the language's SCORM zip into `path`, copying the entries of `target` (the last
    build's zip) that are made from the same; the pieces it made, for the record (`_write`).
    Run by a forked child, the facts it finds stay there (the site, rendered here, finds the
    same), but for a paired language (`pairs`): its site folder is written too, and the
    pieces and facts of both come back."""
    from . import scorm, site

    pieces = record.pieces_of(target)
    paired, side = pairs.get(course.lang), None
    if paired is not None:
        earlier = EarlierFolder(record.pieces_of(paired.source), paired.source, paired.folder)
        side = site.site_side(library, course, paired.folder, paired.deck, earlier, facts())
    scorm.write_package(
        library, course, path, notes,
        facts=facts(), previous=target, pieces=pieces, side=side, aside=aside,
    )  # fmt: skip
    if paired is None:
        return Filled(target, pieces)
    known = facts().known
    names = (f"{course.lang}/{lesson.id}" for lesson in course.lessons)
    found = {name: known[name] for name in names if name in known}
    return Filled(target, pieces, ((paired.source, earlier.pieces),), found)


def _render_site(
    library: Library,
    plans: Sequence[Decided],
    decks: dict[str, Made],
    packages: dict[str, Made],
    site_dir: Path,
    made: list[Output | Removal],
    record: outputs.Record,
    facts: Callable[[], LessonFacts],
    downloads: bool = True,
    pairs: dict[str, Paired] | None = None,
    names: Names = RELEASE,
) -> Made:
    """The site, rendered to a temporary folder unless it is up to date; without `downloads`,
    the decks and zips are not copied into it yet (`_copy_downloads`: they are being written).
    `pairs`: where a language's folder goes (`Paired`) when its SCORM zip is still to write,
    not rendered here."""
    changes = _changes(plans)
    inputs = outputs.site_inputs(
        library,
        changes,
        {lang: deck.inputs for lang, deck in decks.items()},
        {lang: package.inputs for lang, package in packages.items()},
    )

    moves: list[str] = []  # the languages taken over as they are, moved when committed

    def render() -> Path:
        from . import site  # the site's template engine loads only when asked for

        reuse = partial(_reuse_language, library, changes, site_dir, record, moves)
        earlier = partial(_earlier_folder, site_dir, record)
        pair = partial(_pair, packages, site_dir, pairs)
        site_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}.tmp-"))
        try:
            deck_files = {lang: deck.source for lang, deck in decks.items()}
            zips = {lang: package.source for lang, package in packages.items()}
            with naming(site_dir):
                site.write_site(
                    library, tmp, deck_files, changes, zips, reuse,
                    downloads=downloads, earlier=earlier, facts=facts(), paired=pair,
                    names=names,
                )  # fmt: skip
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return tmp

    return _output(site_dir, inputs, record, made, render, moves)


def _pair(
    packages: Mapping[str, Made],
    site_dir: Path,
    pairs: dict[str, Paired] | None,
    course: Course,
    deck: str | None,
    folder: Path,
) -> bool:
    """Whether the language's new `folder` is to be written with its SCORM zip (`Paired`):
    when its zip is still to write (`site.write_site`'s paired)."""
    package = packages.get(course.lang)
    if pairs is None or package is None or package.source == package.target:
        return False
    pairs[course.lang] = Paired(folder, site_dir / course.lang, deck)
    return True


def _reuse_language(
    library: Library,
    changes: dict[str, updates.ReleaseNotes],
    site_dir: Path,
    record: outputs.Record,
    moves: list[str],
    course: Course,
    deck: str | None,
    folder: Path,
) -> bool:
    """A language whose folder the current site holds as the last build wrote it, from the same
    inputs, is taken over into the new site's `folder`, not rendered (`site.write_site`'s
    reuse): moved there when the new site is committed (its name added to `moves`), or, when
    the folder cannot be renamed, its files linked now."""
    from . import site

    target = site_dir / course.lang
    shown = [*site.language_inputs(library, course), f"deck={deck}"]
    inputs = outputs.language_inputs(library, course, changes.get(course.lang), shown)
    record.part(target, inputs)
    if not record.unchanged(target, inputs):
        return False
    if os.access(target, os.W_OK):  # (moving a folder to another one rewrites its `..`)
        moves.append(folder.name)
    elif not _link_tree(target, folder):
        return False
    record.keep_pieces(target)
    return True


def _earlier_folder(
    site_dir: Path, record: outputs.Record, course: Course, folder: Path
) -> EarlierFolder:
    """A language rendered again takes what it can from its folder of the current site
    (`site.Earlier`)."""
    source = site_dir / course.lang
    return EarlierFolder(record.pieces_of(source), source, folder)


def _copy_downloads(
    library: Library,
    site_made: Made,
    decks: dict[str, Made],
    packages: dict[str, Made],
    written: Callable[[], None] = lambda: None,
    names: Names = RELEASE,
) -> None:
    """The written decks and zips into a site rendered without them (`_render_site`); nothing
    when the site was up to date (it holds them already). `written` waits for the decks this
    build writes (their zips may still deflate in a thread): the zips and the decks left as
    they were are copied before, while it may still wait (a one-edit rebuild at 100,000 cards
    waits for one deck's zip), those decks after."""
    if site_made.source == site_made.target:
        written()
        return
    from . import site

    ready = {lang: deck.source for lang, deck in decks.items() if deck.source == deck.target}
    zips = {lang: package.source for lang, package in packages.items()}
    copy = partial(site.copy_downloads, library, site_made.source, names=names)
    named(site_made.target, copy, ready, zips)
    written()
    rest = {lang: deck.source for lang, deck in decks.items() if lang not in ready}
    named(site_made.target, copy, rest, {})


@collector.paused()
def _render_manifests(
    library: Library, plans: Sequence[Decided], made: list[Output | Removal], options: BuildOptions
) -> list[Decided]:
    lang_links = translations.by_language(translations.links(library)[0])
    return [
        _render_manifest(plan, lang_links.get(plan.course.lang, []), made, options)
        for plan in plans
    ]


def _render_manifest(
    plan: Decided,
    lang_links: Sequence[translations.Link],
    outputs: list[Output | Removal],
    options: BuildOptions,
) -> Decided:
    """The language's manifest, when its text is not the file's (then the legacy file goes),
    with the next build's plan against it (`_replanned`, unless the build reports to a file:
    then `settled` asks for none; nor when the caller asks for it after saying the build is
    done: `BuildOptions.replan_later`); the plan, settled when the build leaves the manifest as
    it was. A kept plan's text is the file's."""
    root = plan.course.root
    path, deck = root / manifest.MANIFEST_FILE, plan.deck
    if deck is not None:
        recorded = translations.record(deck.plan.manifest, lang_links)
        data = recorded.encoded()
        if path.exists() and manifest.same_text(path, data):
            plan = replace(plan, settled=True)  # (a legacy file beside it is not read)
        else:
            outputs.append(Output(_temp_file(root, path.name, data), path))
            digest = manifest.wrote(path, data, recorded)
            written = decided.Written(recorded, digest)
            plan = replace(plan, written=written)
            if options.report is None and not options.replan_later:
                now = anki.build_time()

                def same(again: manifest.Manifest) -> bool:  # `_same_text` of this file
                    return again == recorded or again.encoded() == data

                found = _next_outcome(plan, deck, recorded, lang_links, options, now, same)
                plan = replace(plan, written=replace(written, next=found, now=now, plan=deck.plan))
    if (root / manifest.LEGACY_FILE).exists():
        outputs.append(Removal(root / manifest.LEGACY_FILE))
    return plan


def _keep(plans: Sequence[Decided]) -> None:
    """After the commit: keep the outcome of each language decided in this build that the next
    build with the same inputs decides the same (`decided.py`); a failure only costs speed."""
    for plan in plans:
        if plan.deck is None or not plan.settled:
            continue
        try:
            file = manifest.File.read(plan.course.root)
        except OSError:
            continue
        if file.digest == plan.manifest_digest:
            decided.save(plan.course, plan.inputs, file, plan.outcome)
