"""What builds killed mid-way left behind: their temporary files, removed by the next build.

A build writes every file beside its final place first and renames it there (files.py,
pipeline.py), and a build that fails removes its own; a build that is killed (SIGKILL, power
loss) cannot. The next build, holding the locks of the folders (lock.py: no other build is
writing there), removes what matches the names the build itself gives, and nothing else; in a
folder it could not lock (a file system without locks), nothing:

- the language folders of the lessons folder (`lessons/<lang>/`, not the folders below them nor
  hidden ones): `.<lesson>.md.XXXXXXXX.tmp` (IDs given) and `.manifest.jsonl.XXXXXXXX.tmp`;
- the cache folder (`.course-cache/` beside the lessons, or `COURSE_CACHE_DIR`, which other
  programs may share): `.outputs.json.XXXXXXXX.tmp` and `.last-build.json.XXXXXXXX.tmp`; in its
  subfolders, an entry's `.<32 hex>.pickle.XXXXXXXX.tmp` and a compiled template's
  `<40 hex>.jinjaXXXXXXXX.tmp` (Jinja's naming);
- beside each of this build's outputs whose folder it holds locked (the parent of `--decks`,
  `--scorm`, `--site`, `--report`): `.<deck or zip or report>.XXXXXXXX.tmp` (and a deck's
  scratch collection's SQLite journal, `.<deck>.XXXXXXXX.tmp-journal`), and beside the site
  folder `.<site>.tmp-XXXXXXXX` (a site being rendered) and `.<site>.old-<pid>` (the one a
  commit replaced, not yet deleted), beside the folder it points to when `--site` is a link
  (`places.site_folder`: the folder the build replaces); a build that is not a draft, beside
  the drafts of its outputs too (`places.draft_outputs`: it removes them);
- beside the lessons folder, the commit's journal being written
  (`.<lessons>.commit.json.XXXXXXXX.tmp`, journal.py): its name is the lessons folder's.

A build killed while committing left a journal: the next build finishes that commit first
(journal.py), so what it had renamed into place and what it had not are both in place before
anything is swept. Without a journal (one that could not be written), a site folder a commit
set aside (`.<site>.old-<pid>`, complete: it was the current site) while no site folder is
there any more goes back in place, not away: the sweep never deletes the only whole site.

`XXXXXXXX` is `tempfile`'s random part: eight of `a-z`, `0-9` and `_`. A failure to remove only
leaves the file for the next build.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Collection, Iterable
from functools import cache
from pathlib import Path

from . import journal, places
from .cache import Store
from .outputs import LAST_BUILD_FILE, RECORD_FILE

RANDOM = "[a-z0-9_]{8}"
"""The part `tempfile.mkstemp` and `mkdtemp` draw (tempfile._RandomNameSequence)."""
DRAWN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
"""RANDOM's characters, for the names matched without a regex (`_temp_of`, `_site_of`)."""


@cache
def _temp() -> re.Pattern[str]:
    """A temporary file made by `files.temp_file` (atomic writes, outputs, the deck's scratch)
    for the file `name` (compiled when a name ends in `.tmp`: a replayed build, whose folders
    hold none, compiles nothing)."""
    return re.compile(rf"\.(?P<name>.+)\.{RANDOM}\.tmp")


@cache
def _entry() -> re.Pattern[str]:
    """A cache folder's entry being written: a `cache.Store` entry (`.<32 hex>.pickle.XXXXXXXX.tmp`)
    or a compiled template (jinja2.FileSystemBytecodeCache, pattern `%s.jinja` in templating.py,
    its key a sha1: `<40 hex>.jinjaXXXXXXXX.tmp`)."""
    entry, template = rf"\.[0-9a-f]{{32}}\.pickle\.{RANDOM}", rf"[0-9a-f]{{40}}\.jinja{RANDOM}"
    return re.compile(rf"(?:{entry}|{template})\.tmp")


LESSON_FILES = ("manifest.jsonl", "anki-mod-times.json")
"""The files a build writes into the lessons folder besides lessons (`.md`): manifest.py's
MANIFEST_FILE and LEGACY_FILE (not imported: a replayed build loads no manifest code)."""
CACHE_FILES = (RECORD_FILE, LAST_BUILD_FILE)
"""The files a build writes at the top of the cache folder (outputs.py)."""
CACHE_DEPTH = 2
"""The cache folder and its subfolders (one per kind of entry)."""


def folders(lessons: Path, held: Collection[Path]) -> None:
    """Remove stale temporary files from the lessons folder and the cache folder, those of them
    whose locks this build holds (`held`, resolved: `lock.hold`); without its lock, a folder's
    temporary files may be another build's, being written."""
    if lessons.resolve() in held:
        written = journal.path(lessons)
        _beside(written.parent, _temp_of(written.name))
        for folder in _languages(lessons):
            for name in _names(folder):
                match = _temp().fullmatch(name) if name.endswith(".tmp") else None
                if match and (match["name"].endswith(".md") or match["name"] in LESSON_FILES):
                    _remove(folder / name)
    cache = Store.beside(lessons).folder
    if cache is not None and cache.resolve() in held:
        _cache(cache, CACHE_DEPTH)


def _languages(lessons: Path) -> list[Path]:
    """The folders a build writes lessons and manifests into: `lessons/<lang>/` (lessons.py),
    which are never hidden (`.git`, an editor's folder); not the folders below them."""
    try:
        with os.scandir(lessons) as entries:
            return [
                Path(entry.path)
                for entry in entries
                if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)
            ]
    except OSError:
        return []


def _names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [entry.name for entry in entries if entry.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _cache(folder: Path, depth: int) -> None:
    try:
        with os.scandir(folder) as entries:
            found = list(entries)
    except OSError:
        return
    for entry in found:
        if entry.is_dir(follow_symlinks=False):
            if depth > 1:
                _cache(Path(entry.path), depth - 1)
        elif entry.name.endswith(".tmp") and _owned(entry.name, depth == CACHE_DEPTH):
            _remove(Path(entry.path))


def _owned(name: str, top: bool) -> bool:
    """Whether `name` is a temporary file of the build's own in the cache folder (`top`) or one
    of its subfolders: the folder may be shared with other programs (COURSE_CACHE_DIR=~/.cache),
    whose files may be named alike."""
    if top:
        match = _temp().fullmatch(name)
        return match is not None and match["name"] in CACHE_FILES
    return _entry().fullmatch(name) is not None


def outputs(files: Iterable[Path], site: Path | None) -> None:
    """Remove stale temporary files of the outputs `files` (decks, zips, the report) and of the
    `site` folder; only those whose folders' locks the build holds (`lock.hold`'s outputs).
    The names are matched without regexes: compiling one a name (eight in a build with a site,
    0.5 ms) cost more than the sweep's listing of the folders."""
    for file in files:
        _beside(file.parent, _temp_of(file.name))
    if site is not None:
        site = places.site_folder(site)
        _restore(site, _site_of(site.name, tmp=False))
        _beside(site.parent, _site_of(site.name, tmp=True))


def _drawn(part: str) -> bool:
    """`part` is what `tempfile` draws (RANDOM)."""
    return len(part) == len("XXXXXXXX") and DRAWN.issuperset(part)


SCRATCH_ENDS = (".tmp", ".tmp-journal")
"""A temporary file's name ends (`_temp_of`): `files.temp_file`'s, and SQLite's rollback
journal beside a deck's scratch collection (anki.py's `_scratch`, a `.tmp` file)."""


def _temp_of(name: str) -> Callable[[str], bool]:
    """Whether a name is `.<name>.XXXXXXXX.tmp` (`files.temp_file`'s for the file `name`) or
    that name's SQLite journal, `...tmp-journal` (SCRATCH_ENDS)."""
    head = f".{name}."

    def match(found: str) -> bool:
        if not found.startswith(head):
            return False
        end = next((end for end in SCRATCH_ENDS if found.endswith(end)), None)
        return end is not None and _drawn(found[len(head) : -len(end)])

    return match


def _site_of(name: str, tmp: bool) -> Callable[[str], bool]:
    """Whether a name is `.<name>.old-<pid>` (a site folder a commit set aside) or, with `tmp`,
    `.<name>.tmp-XXXXXXXX` too (a site folder being rendered)."""
    head = f".{name}."

    def match(found: str) -> bool:
        if not found.startswith(head):
            return False
        rest = found[len(head) :]
        if rest.startswith("old-"):
            pid = rest[len("old-") :]
            return pid.isascii() and pid.isdigit()
        return tmp and rest.startswith("tmp-") and _drawn(rest[len("tmp-") :])

    return match


def _restore(site: Path, old: Callable[[str], bool]) -> None:
    """A site folder a commit set aside (`old`, whole) back in place when the site folder is
    gone: killed between a swap's two renames with no journal (journal.py finishes those)."""
    if os.path.lexists(site):
        return
    try:
        with os.scandir(site.parent) as entries:
            found = sorted(entry.name for entry in entries if old(entry.name))
        if found:
            (site.parent / found[0]).rename(site)
    except OSError:
        return


def _beside(folder: Path, match: Callable[[str], bool]) -> None:
    try:
        with os.scandir(folder) as entries:
            found = [Path(entry.path) for entry in entries if match(entry.name)]
    except OSError:
        return
    for path in found:
        _remove(path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil  # (not on a replayed build's path)

        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
