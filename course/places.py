"""Where a build's outputs may go: every build replaces the site folder whole (pipeline.py's
commit swaps the new one in and deletes the old one with all it held), so nothing else may be in
it: not the lessons, not the decks, the SCORM packages or the report, not the folder the build
runs in. As mkdocs refuses a `site_dir` that holds its `docs_dir` or lies inside it, a build
whose site folder would hold or be any of them stops before it writes anything (a site folder
inside the lessons would be read as lessons: a language's folder is replaced). Nor may the
report file be written over the lessons folder's files or another output's (`check_report`).

Light (paths only): the command line checks before it locks or reads anything."""

from __future__ import annotations

from pathlib import Path

import click


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
