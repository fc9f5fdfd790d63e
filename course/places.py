"""Where a build's outputs may go: every build replaces the site folder whole (pipeline.py's
commit swaps the new one in and deletes the old one with all it held), so nothing else may be in
it: not the lessons, not the decks, the SCORM packages or the report, not the folder the build
runs in. As mkdocs refuses a `site_dir` that holds its `docs_dir` or lies inside it, a build
whose site folder would hold or be any of them stops before it writes anything (a site folder
inside the lessons would be read as lessons: a language's folder is replaced). Nor may the
report file be written over the lessons folder's files or another output's (`check_report`).

A draft (`build --draft`) writes beside a release's outputs, never over them: into folders of
its own (`draft_folder`), under names of its own (`Names`); none of them may be, hold or lie in
a release's folder (`check_drafts`).

Light (paths only): the command line checks before it locks or reads anything."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .model import Course


class Overlap(click.UsageError):
    """The outputs' folders overlap: the build would delete what one of them holds."""


def check(lessons: Path, site: Path | None, others: dict[str, Path | None]) -> None:
    """Raise `Overlap` when the `site` folder is or holds the `lessons` folder, the working
    folder or one of the `others` (by option: `{"--decks": ...}`), or lies inside the lessons."""
    if site is None:
        return
    real, root = site.resolve(), lessons.resolve()
    held = {
        f"the lessons folder (--lessons {lessons})": root,
        "the folder the build runs in": Path.cwd().resolve(),
        **{f"{option} {path}": path.resolve() for option, path in others.items() if path},
    }
    problems = [f"--site {site} holds {what}" for what, path in held.items() if _within(path, real)]
    if not problems and _within(real, root):
        problems.append(f"--site {site} is inside the lessons folder (--lessons {lessons})")
    if problems:
        raise Overlap(
            "; ".join(problems) + ": every build replaces the site folder whole, deleting what "
            "it held. Give the site a folder of its own."
        )


def check_report(lessons: Path, report: Path | None, others: dict[str, Path | None]) -> None:
    """Raise `Overlap` when the `--report` file would be written over what the build reads or
    writes: anything in the lessons folder (a lesson, `course.yml`, a manifest: a report there
    replaced it, or was read as a lesson by the next build), or a deck or SCORM package (an
    `.apkg` or `.zip` in their folders, `others` by option; a report beside them is fine)."""
    if report is None:
        return
    real, root = report.resolve(), lessons.resolve()
    problems = []
    if _within(real, root):
        problems.append(f"--report {report} is inside the lessons folder (--lessons {lessons})")
    for option, folder in others.items():
        if folder and real.parent == folder.resolve() and real.suffix.lower() in OUTPUT_SUFFIXES:
            problems.append(f"--report {report} is a file of {option} {folder}")
    if problems:
        raise Overlap(
            "; ".join(problems) + ": the report would replace a file the build reads or writes. "
            "Give the report a file of its own, outside them."
        )


OUTPUT_SUFFIXES = (".apkg", ".zip")
"""What the decks' and the SCORM packages' folders hold of the build's (`check_report`)."""


def site_folder(site: Path) -> Path:
    """The folder a build replaces for the site `site`: the one it names, or where it points
    when it is a link (`site -> /var/www/course`): the link stays, so whatever serves the
    folder it points to serves each new site (the link was replaced with a folder, and what it
    pointed to was never written)."""
    return site.resolve() if site.is_symlink() else site


def _within(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or inside it."""
    return path == folder or folder in path.parents


DRAFT = "-draft"
"""What a draft's outputs add to the names of a release's (`Names`, `draft_folder`)."""


def draft_folder(folder: Path) -> Path:
    """Where a draft writes what a release writes into `folder`: its sibling `<folder>-draft`
    (`decks` -> `decks-draft`), in the same parent, so the same lock covers both (lock.py)."""
    named = folder if folder.name else folder.resolve()  # (`.`: the folder's own name)
    return named.with_name(named.name + DRAFT)


class Names:
    """The file names of a build's decks and SCORM packages: a release's (`RELEASE`), or a
    draft's (`DRAFTS`: `build --draft`, `watch` without `--release`), which are never a
    release's. A draft's deck holds cards no manifest records, so it must never be taken for
    a release's: not by an author who uploads the decks folder, nor by a learner who
    downloaded it (a file's folder is lost on the way, its name is not). A plain class, not a
    dataclass: a replayed build imports this module, and making a slotted dataclass takes
    0.7 ms (journal.py)."""

    __slots__ = ("draft",)

    def __init__(self, draft: bool = False) -> None:
        self.draft = draft

    def __repr__(self) -> str:
        return f"Names(draft={self.draft})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Names) and other.draft == self.draft

    def __hash__(self) -> int:
        return hash(self.draft)

    def deck(self, course: Course) -> str:
        """`<course id>-<lang>.apkg` (a draft's: `<course id>-<lang>-draft.apkg`)."""
        return f"{course.id}-{course.lang}{self.suffix}.apkg"

    def package(self, course: Course) -> str:
        """`<course id>-<lang>-scorm12.zip`: the language's SCORM 1.2 package (a draft's:
        `<course id>-<lang>-draft-scorm12.zip`)."""
        return f"{course.id}-{course.lang}{self.suffix}-scorm12.zip"

    @property
    def suffix(self) -> str:
        return DRAFT if self.draft else ""


RELEASE = Names()
DRAFTS = Names(draft=True)


def check_drafts(released: dict[str, Path | None], drafts: dict[str, Path | None]) -> None:
    """Raise `Overlap` when a draft's output folder (`drafts`, by option) is, holds or lies in
    a release's (`released`: the folders the options name): a draft writes nothing there."""
    problems = [
        f"the draft's {draft} ({option}) overlaps {other} {folder}"
        for option, draft in drafts.items()
        if draft is not None
        for other, folder in released.items()
        if folder is not None and _overlap(draft.resolve(), folder.resolve())
    ]
    if problems:
        raise Overlap(
            "; ".join(problems) + ": a draft never writes into a release's folders. Give the "
            "outputs folders whose names, with -draft added, are not another output's."
        )


def _overlap(one: Path, other: Path) -> bool:
    return _within(one, other) or _within(other, one)


def draft_outputs(
    courses: Iterable[Course], decks: Path | None, site: Path | None, scorm: Path | None
) -> list[Path]:
    """Where a draft of `courses` puts the decks, site and SCORM packages that a release puts
    into the folders `decks`, `site` and `scorm` (None: not written): what a release
    replaces, so removes (pipeline.py), and what a replayed release finds gone (outputs.py)."""
    found = []
    for folder, name in ((decks, DRAFTS.deck), (scorm, DRAFTS.package)):
        if folder is not None:
            found += [draft_folder(folder) / name(course) for course in courses]
    return found if site is None else [*found, draft_folder(site)]
