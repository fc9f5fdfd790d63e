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

A draft (`build --draft`, `watch`) writes the deck under the release's name but records no
release, so a new language's first `build` after a draft would find "its" deck: each build
that writes a draft deck of a language without a manifest notes the deck's hash in the cache
folder (`note_drafts`), and a deck of that hash is no evidence; a release forgets them. Without
the cache (deleted, off), such a deck is evidence, and the error says to delete it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from .cache import Store
from .files import atomic_write
from .frontmatter import display_path
from .manifest import LEGACY_FILE, MANIFEST_FILE

DRAFTS_FILE = "drafts.json"
"""In the cache folder: {language folder's real path: [hashes of the draft decks of it]}."""
GIT_TIMEOUT = 10
"""Seconds `git log` may take before the build goes on without its answer."""


def evidence(root: Path, deck_name: str, folders: Iterable[Path | None]) -> tuple[str, ...]:
    """What says that decks of the language folder `root` were published: a deck file named
    `deck_name` in one of `folders` (the decks folder, the site's `decks/` folder; None: not
    written by this build) that no draft of it wrote, the manifest in git's history. Each as
    the error says it; () when nothing does."""
    drafts = _drafts(root)
    found = [
        f"{display_path(path)} exists"
        for folder in folders
        if folder is not None
        and (path := folder / deck_name).is_file()
        and _hash(path) not in drafts
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


def _hash(path: Path) -> str:
    try:
        with path.open("rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return ""


def _drafts_file(lessons: Path) -> Path | None:
    folder = Store.beside(lessons).folder
    return None if folder is None else folder / DRAFTS_FILE


def _read(file: Path | None) -> dict[str, list[str]]:
    if file is None:
        return {}
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, list)}


def _drafts(root: Path) -> list[str]:
    """The hashes of the draft decks noted for the language folder `root`."""
    return _read(_drafts_file(root.parent)).get(str(root.resolve()), [])


def note_drafts(lessons: Path, decks: Iterable[tuple[Path, Path, bool]]) -> None:
    """After a build that wrote decks, for each (language folder, deck written, drafted):
    `drafted` (a draft of a language that has no manifest) notes the deck's hash; else (a
    release) the language's notes are forgotten. Writes only what changed; a cache that cannot
    be written only costs the draft's exemption."""
    file = _drafts_file(lessons)
    if file is None:
        return
    known = _read(file) if file.exists() else {}
    noted = {key: list(value) for key, value in known.items()}
    for root, deck, drafted in decks:
        key = str(root.resolve())
        if drafted:
            if digest := _hash(deck):
                noted[key] = [*(h for h in noted.get(key, []) if h != digest), digest][-8:]
        else:
            noted.pop(key, None)
    if noted != known:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(file, json.dumps(noted, sort_keys=True).encode())
        except OSError:
            pass


def missing(root: Path) -> bool:
    """Neither the manifest nor its legacy file is in the language folder `root`."""
    return not (root / MANIFEST_FILE).exists() and not (root / LEGACY_FILE).exists()
