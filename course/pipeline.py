"""The whole build, in two phases: decide and render every output to temporary files, then commit
them (replace the decks and SCORM packages, swap the site, write the manifests and the report), so
a failed build leaves the previous output as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import anki, manifest, translations, updates
from .lessons import display_path, load_library
from .model import CourseError, Library, Problem


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


def check(lessons: Path, langs: Sequence[str] = ()) -> Library:
    """Validate only; raises CourseError with every problem found."""
    return load_library(lessons, langs)


def check_translations(library: Library) -> list[Problem]:
    """Warnings for broken translation links and for translations whose original changed after
    they were last brought in line (read from each translation's manifest)."""
    found, problems = translations.links(library)
    for lang, lang_links in translations.by_language(found).items():
        root = library.course(lang).root
        try:
            recorded = manifest.read(root, display_path(root))
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


def _temp_file(folder: Path, name: str, data: bytes | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from a web server
    if data is not None:
        Path(tmp).write_bytes(data)
    return Path(tmp)


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
    outputs: list[Output | Removal] = []
    try:
        results, deck_files = _render_decks(plans, decks_dir, outputs)
        packages = _render_packages(library, plans, scorm_dir, outputs) if scorm_dir else {}
        results = [
            replace(r, scorm=packages[r.lang].target) if r.lang in packages else r
            for r in results
        ]
        if site_dir is not None:
            zips = {lang: package.rendered for lang, package in packages.items()}
            _render_site(library, plans, deck_files, zips, site_dir, outputs)
        if decks_dir is not None and not options.draft:
            lang_links = translations.by_language(translations.links(library)[0])
            for plan in plans:
                _render_manifest(plan, lang_links.get(plan.course.lang, []), outputs)
        if options.report is not None:
            text = "".join(p.plan.report.markdown() + "\n" for p in plans)
            tmp = _temp_file(options.report.parent, options.report.name, text.encode())
            outputs.append(Output(tmp, options.report))
        for output in outputs:  # everything rendered: now put it in place
            output.commit()
    finally:
        for output in outputs:
            output.discard()
    return BuildResult(
        tuple(results),
        site_dir,
        library.warnings,
        tuple(p.plan.report for p in plans),
        tuple(w for p in plans for w in p.plan.warnings),
    )


def _render_decks(
    plans: Sequence[anki.DeckPlan], decks_dir: Path | None, outputs: list[Output | Removal]
) -> tuple[list[LanguageResult], dict[str, Path]]:
    results, files = [], {}
    for plan in plans:
        course = plan.course
        deck_path, notes, cards = None, 0, 0
        if decks_dir is not None:
            name = anki.deck_file_name(course)
            tmp = _temp_file(decks_dir, name)
            outputs.append(Output(tmp, decks_dir / name))
            written = anki.write_deck(plan, tmp)
            files[course.lang] = tmp
            deck_path, notes, cards = decks_dir / name, written.notes, written.cards
        results.append(LanguageResult(course.lang, len(course.lessons), notes, cards, deck_path))
    return results, files


def _changes(plans: Sequence[anki.DeckPlan]) -> dict[str, updates.ReleaseNotes]:
    """Each language's latest release, for the course page's "what changed" list."""
    return {
        p.course.lang: notes
        for p in plans
        if (notes := updates.release_notes(p.plan.manifest)) is not None
    }


def _render_packages(
    library: Library,
    plans: Sequence[anki.DeckPlan],
    scorm_dir: Path,
    outputs: list[Output | Removal],
) -> dict[str, Output]:
    """Each language's SCORM zip rendered to a temporary file in `scorm_dir`; by language."""
    from . import scorm  # the site's template engine loads only when asked for

    changes = _changes(plans)
    packages: dict[str, Output] = {}
    for course in library.courses:
        name = scorm.package_file_name(course)
        package = Output(_temp_file(scorm_dir, name), scorm_dir / name)
        outputs.append(package)
        scorm.write_package(library, course, package.rendered, changes.get(course.lang))
        packages[course.lang] = package
    return packages


def _render_site(
    library: Library,
    plans: Sequence[anki.DeckPlan],
    deck_files: dict[str, Path],
    packages: dict[str, Path],
    site_dir: Path,
    outputs: list[Output | Removal],
) -> None:
    from .site import write_site  # the site's template engine loads only when asked for

    site_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}.tmp-"))
    outputs.append(Output(tmp, site_dir))
    write_site(library, tmp, deck_files, _changes(plans), packages)


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
