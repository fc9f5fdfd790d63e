"""Update stage's look outside the lessons: whether a language without a manifest was published.

A language's manifest is what lets a build update learners' cards in place. Without it, a build
of a language whose decks learners already have stamps every note with its time, reports every
card as added, gives a renamed lesson's new cards a new deck and no longer refuses a Q/A card
made cloze (`updates.lost_manifest`): an error, unless the author starts a new edition on purpose
(`--new-edition`). Nothing in the lessons says whether decks were published, so a build looks
where a release leaves traces (`evidence`):

- the deck file of the language in the decks folder the build writes (`anki.deck_file_name`,
  the only name a deck has ever had), and its copy in the site's `decks/` folder;
- the manifest (or its legacy file) in git's history: only a release writes one, and README
  says to commit it. One `git log` in the language's folder, run only when the manifest is
  missing; where git is not installed, the folder is not in a repository or git fails, it says
  nothing (a plain folder of lessons builds as before).

The site's and SCORM packages' own files are not evidence: they hold no note, so a learner of
them loses nothing with the manifest (but its "what changed" list), and a build without decks
writes them too.

A draft (`build --draft`, `watch`) is no evidence: it writes its deck under a name and into a
folder of its own (`places.Names`, `places.draft_folder`), never the release's.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from .frontmatter import display_path
from .manifest import LEGACY_FILE, MANIFEST_FILE

GIT_TIMEOUT = 10
"""Seconds `git log` may take before the build goes on without its answer."""


def evidence(root: Path, deck_name: str, folders: Iterable[Path | None]) -> tuple[str, ...]:
    """What says that decks of the language folder `root` were published: a deck file named
    `deck_name` in one of `folders` (a release's decks folder, the site's `decks/` folder;
    None: none), the manifest in git's history. Each as the error says it; ()
    when nothing does."""
    found = [
        f"{display_path(path)} exists"
        for folder in folders
        if folder is not None and (path := folder / deck_name).is_file()
    ]
    if (commit := _in_git(root)) is not None:
        found.append(f"git's history has it, commit {commit}")
    return tuple(found)


def _in_git(root: Path) -> str | None:
    """The latest commit (of any branch) that has the manifest or its legacy file, if git
    knows one; None where git is missing, `root` is not in a repository or git fails. Outside
    a repository (no `.git` in `root` or above it, no GIT_DIR) git is not asked: it takes about
    10 ms to say so (a cold build of new languages, the tests' folders); in one, 50-70 ms."""
    if "GIT_DIR" not in os.environ and not _in_repository(root.resolve()):
        return None
    command = ["git", "-C", str(root), "log", "--all", "-1", "--format=%h", "--diff-filter=ACMRT"]
    try:
        done = subprocess.run(
            [*command, "--", MANIFEST_FILE, LEGACY_FILE],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def _in_repository(folder: Path) -> bool:
    """Whether `folder` or a folder above it has a `.git` (a folder, or a worktree's file)."""
    return any((above / ".git").exists() for above in (folder, *folder.parents))
