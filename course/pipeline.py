"""The whole build, in two phases: decide and render every output to temporary files, then commit
them (replace the decks and SCORM packages, swap the site, write the manifests and the report), so
a failed build leaves the previous output as it was."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import anki, collector, manifest, outputs, translations, updates
from .lessons import display_path, load_library
from .model import Course, CourseError, Library, Problem

if TYPE_CHECKING:
    from .site import LessonFacts


@dataclass(frozen=True, slots=True)
class BuildOptions:
    draft: bool = False
    """A preview: decks and site are written, but no release is recorded (manifests untouched)."""
    rename_decks: bool = False
    """Give published decks the current titles and order (learners keep cards in the old ones)."""
    report: Path | None = None
    """Where to write the change report as Markdown."""


@dataclass(frozen=True, slots=True)
class LanguageResult:
    lang: str
    lessons: int
    notes: int
    cards: int
    deck: Path | None
    scorm: Path | None = None
    """Where the language's SCORM 1.2 package goes (None: not asked for)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
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
    plans: tuple[anki.DeckPlan, ...] = ()
    """Each language's deck plan, without its notes: what `settled` decides again."""


@dataclass(frozen=True, slots=True)
class Output:
    """A rendered file or folder in a temporary place, and where it goes on commit. A new kind of
    output (a SCORM zip...) is one more of these in the list `build` commits."""

    rendered: Path
    target: Path

    def commit(self) -> None:
        if self.rendered.is_dir():
            _swap_dir(self.rendered, self.target)
        else:
            os.replace(self.rendered, self.target)

    def discard(self) -> None:
        if self.rendered.is_dir():
            shutil.rmtree(self.rendered, ignore_errors=True)
        else:
            self.rendered.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Removal:
    """A file the commit deletes (the legacy `anki-mod-times.json` once its manifest exists)."""

    target: Path

    def commit(self) -> None:
        self.target.unlink(missing_ok=True)

    def discard(self) -> None:
        pass


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


def check_updates(library: Library) -> list[anki.DeckPlan]:
    """What a build would give learners, recording nothing; raises CourseError for an unreadable
    manifest or a change Anki cannot apply (a published Q/A card turned cloze...)."""
    return plan_decks(library, anki.build_time(), BuildOptions(draft=True))


def _swap_dir(new: Path, target: Path) -> None:
    """Replace `target` with the finished `new` folder with two renames."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
                try:
                    os.link(Path(parent, name), into / name)
                except OSError:
                    shutil.copy2(Path(parent, name), into / name)
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

    def take(self, names: Sequence[str]) -> bool:
        return _link_files(self.source, self.folder, names)

    def data(self, name: str) -> bytes | None:
        try:
            return (self.source / name).read_bytes()
        except OSError:
            return None


def _link_files(source: Path, folder: Path, names: Sequence[str]) -> bool:
    """Hard-link (or copy) the files `names` of `source` into `folder`, all or none (False)."""
    done: list[Path] = []
    try:
        for name in names:
            into = folder / name
            into.parent.mkdir(exist_ok=True)
            try:
                os.link(source / name, into)
            except OSError:
                shutil.copy2(source / name, into)
            done.append(into)
    except OSError:
        for path in done:
            path.unlink(missing_ok=True)
        return False
    return True


def _temp_file(folder: Path, name: str, data: bytes | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from a web server
    if data is not None:
        Path(tmp).write_bytes(data)
    return Path(tmp)


@collector.paused()
def plan_decks(library: Library, now: int, options: BuildOptions) -> list[anki.DeckPlan]:
    """Decide every language's package against its manifest. Raises CourseError listing every
    change Anki cannot apply (and every unreadable manifest)."""
    plans: list[anki.DeckPlan] = []
    problems: list[Problem] = []
    for course in library.courses:
        try:
            old = manifest.read(course.root, display_path(course.root))
        except CourseError as exc:
            problems += exc.problems
            continue
        plan = anki.prepare(
            course,
            old,
            now,
            draft=options.draft,
            rename_decks=options.rename_decks,
            manifest_path=display_path(course.root / manifest.MANIFEST_FILE),
        )
        problems += plan.plan.errors
        plans.append(plan)
    if problems:
        raise CourseError(problems)
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
    CourseError, having written nothing."""
    options = options or BuildOptions()
    plans = plan_decks(library, anki.build_time(), options)
    record = outputs.Record.load(library.root)
    made: list[Output | Removal] = []
    try:
        results, decks = _render_decks(plans, decks_dir, made, record)
        # The decks are written: their notes (every card's fields again) are not needed any more
        # while the site renders; the plans keep what the manifests and the report read.
        plans = [replace(plan, notes=()) for plan in plans]
        facts = _facts(record)
        packages = (
            _render_packages(library, plans, scorm_dir, made, record, facts) if scorm_dir else {}
        )
        results = [
            replace(r, scorm=packages[r.lang].target) if r.lang in packages else r
            for r in results
        ]
        if site_dir is not None:
            _render_site(library, plans, decks, packages, site_dir, made, record, facts)
        if decks_dir is not None and not options.draft:
            lang_links = translations.by_language(translations.links(library)[0])
            for plan in plans:
                _render_manifest(plan, lang_links.get(plan.course.lang, []), made)
        if options.report is not None:
            text = "".join(p.plan.report.markdown() + "\n" for p in plans)
            tmp = _temp_file(options.report.parent, options.report.name, text.encode())
            made.append(Output(tmp, options.report))
        for output in made:  # everything rendered: now put it in place
            output.commit()
        record.keep_facts(f"{c.lang}/{lesson.id}" for c in library.courses for lesson in c.lessons)
        record.save()
    finally:
        for output in made:
            output.discard()
    rendered = [Path(t) for t in record.written if Path(t) not in record.skipped]
    return BuildResult(
        tuple(results),
        site_dir,
        library.warnings,
        tuple(p.plan.report for p in plans),
        tuple(w for p in plans for w in p.plan.warnings),
        tuple(rendered),
        tuple(record.skipped),
        tuple(plans),
    )


def settled(library: Library, result: BuildResult, options: BuildOptions) -> BuildResult | None:
    """What the same build, run again now on what this one left, would report, if it would
    change nothing: each language's notes decided again against the manifest this build wrote
    (not rendered again) give no release, the same manifest text and the same deck (mod times,
    deck names, retired notes), so the site and the SCORM zips are the same too. None when it
    would change something."""
    if options.draft or options.report is not None or not result.plans:
        return None
    lang_links = translations.by_language(translations.links(library)[0])
    reports: list[updates.Report] = []
    warnings: list[Problem] = []
    for deck in result.plans:
        again = _replanned(deck, options, lang_links.get(deck.course.lang, []))
        if again is None:
            return None
        reports.append(again.report)  # the rest of the plan goes: a language's whole manifest
        warnings += again.warnings
    return replace(result, updates=tuple(reports), update_warnings=tuple(warnings))


def _replanned(
    deck: anki.DeckPlan, options: BuildOptions, links: Sequence[translations.Link]
) -> updates.Plan | None:
    """The next build's plan of `deck`'s language, if it writes what this build wrote."""
    root = deck.course.root
    try:
        written = manifest.read(root, display_path(root))
    except CourseError:
        return None
    again = anki.replan(deck, written, anki.build_time(), rename_decks=options.rename_decks)
    if not _same_deck(deck.plan, again):
        return None
    text = translations.record(again.manifest, links).dumps()
    return again if text == (root / manifest.MANIFEST_FILE).read_text(encoding="utf-8") else None


def _same_deck(plan: updates.Plan, again: updates.Plan) -> bool:
    """`again` (the next build's plan) is a no-op that writes the deck `plan` wrote."""
    # A release would stamp its changes with a new time: note_mods cover it.
    return (
        not again.errors
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
) -> Made:
    """`target`, rendered by `render(temporary path)` unless it is up to date."""
    record.done(target, inputs)
    if record.unchanged(target, inputs):
        record.skipped.append(target.resolve())
        return Made(target, target, inputs)
    tmp = render()
    made.append(Output(tmp, target))
    return Made(tmp, target, inputs)


@collector.paused()
def _render_decks(
    plans: Sequence[anki.DeckPlan],
    decks_dir: Path | None,
    made: list[Output | Removal],
    record: outputs.Record,
) -> tuple[list[LanguageResult], dict[str, Made]]:
    results, files = [], {}
    for plan in plans:
        course = plan.course
        deck_path, notes, cards = None, 0, 0
        if decks_dir is not None:
            name = anki.deck_file_name(course)

            def render(plan: anki.DeckPlan = plan, name: str = name) -> Path:
                tmp = _temp_file(decks_dir, name)
                try:
                    anki.write_deck(plan, tmp)
                except BaseException:
                    tmp.unlink()  # not in the build's outputs yet: nobody else removes it
                    raise
                return tmp

            deck_path = decks_dir / name
            files[course.lang] = _output(deck_path, outputs.deck_inputs(plan), record, made, render)
            notes, cards = len(plan.notes), sum(len(n.ords) for n in plan.notes)
        results.append(LanguageResult(course.lang, len(course.lessons), notes, cards, deck_path))
    return results, files


def _changes(plans: Sequence[anki.DeckPlan]) -> dict[str, updates.ReleaseNotes]:
    """Each language's latest release, for the course page's "what changed" list."""
    return {
        p.course.lang: notes
        for p in plans
        if (notes := updates.release_notes(p.plan.manifest)) is not None
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
    plans: Sequence[anki.DeckPlan],
    scorm_dir: Path,
    made: list[Output | Removal],
    record: outputs.Record,
    facts: Callable[[], LessonFacts],
) -> dict[str, Made]:
    """Each language's SCORM zip rendered to a temporary file in `scorm_dir`; by language."""
    from . import scorm  # the site's template engine loads only when asked for

    changes = _changes(plans)
    packages: dict[str, Made] = {}
    for course in library.courses:
        name = scorm.package_file_name(course)
        notes = changes.get(course.lang)

        def render(
            course: Course = course, name: str = name, notes: updates.ReleaseNotes | None = notes
        ) -> Path:
            tmp = _temp_file(scorm_dir, name)
            target = scorm_dir / name  # its unchanged entries are copied into the new zip
            pieces = record.pieces_of(target)
            scorm.write_package(
                library, course, tmp, notes, facts=facts(), previous=target, pieces=pieces
            )
            return tmp

        inputs = outputs.package_inputs(library, course, notes)
        packages[course.lang] = _output(scorm_dir / name, inputs, record, made, render)
    return packages


def _render_site(
    library: Library,
    plans: Sequence[anki.DeckPlan],
    decks: dict[str, Made],
    packages: dict[str, Made],
    site_dir: Path,
    made: list[Output | Removal],
    record: outputs.Record,
    facts: Callable[[], LessonFacts],
) -> None:
    changes = _changes(plans)
    inputs = outputs.site_inputs(
        library,
        changes,
        {lang: deck.inputs for lang, deck in decks.items()},
        {lang: package.inputs for lang, package in packages.items()},
    )

    def render() -> Path:
        from . import site  # the site's template engine loads only when asked for

        def reuse(course: Course, deck: str | None, folder: Path) -> bool:
            """A language whose folder the current site holds as the last build wrote it, from
            the same inputs, is linked into the new site, not rendered."""
            target = site_dir / course.lang
            shown = [*site.language_inputs(library, course), f"deck={deck}"]
            inputs = outputs.language_inputs(library, course, changes.get(course.lang), shown)
            record.part(target, inputs)
            if record.unchanged(target, inputs) and _link_tree(target, folder):
                record.keep_pieces(target)
                return True
            return False

        def earlier(course: Course, folder: Path) -> EarlierFolder:
            """A language rendered again takes what it can from its folder of the current
            site (`site.Earlier`)."""
            source = site_dir / course.lang
            return EarlierFolder(record.pieces_of(source), source, folder)

        site_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}.tmp-"))
        try:
            deck_files = {lang: deck.source for lang, deck in decks.items()}
            zips = {lang: package.source for lang, package in packages.items()}
            site.write_site(library, tmp, deck_files, changes, zips, reuse, earlier, facts())
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return tmp

    _output(site_dir, inputs, record, made, render)


@collector.paused()
def _render_manifest(
    plan: anki.DeckPlan, lang_links: Sequence[translations.Link], outputs: list[Output | Removal]
) -> None:
    root = plan.course.root
    path = root / manifest.MANIFEST_FILE
    text = translations.record(plan.plan.manifest, lang_links).dumps()
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        outputs.append(Output(_temp_file(root, path.name, text.encode()), path))
    if (root / manifest.LEGACY_FILE).exists():
        outputs.append(Removal(root / manifest.LEGACY_FILE))
