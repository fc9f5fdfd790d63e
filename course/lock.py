"""One build at a time per lessons folder: a lock the system releases whenever its holder ends.

Two builds from the same lessons folder at once (an author's watcher and a manual run, two
terminals, an IDE task) would share everything a build writes besides its outputs' final names:
the IDs and manifests written back into the lessons, the cache folder's records (which output on
disk was made from what) and the temporary files beside each output. So a build (and `ids`)
locks the lessons folder itself, whatever `COURSE_CACHE_DIR` says (two builds of one folder may
not agree on it), and the cache folder (`.course-cache/` beside the lessons, or where
`COURSE_CACHE_DIR` moves it: sibling lessons folders, or several projects in CI, share one). It
also locks the folder holding each output it names (`--decks`, `--site`, `--scorm`, `--report`:
their parent folder, made when missing), as cargo locks its target folder: two lessons folders
(two checkouts of a course, each with its cache) built into the same outputs would otherwise
sweep each other's temporary files and race to rename theirs into place. A second build
waits, saying on stderr what for (as cargo does: "Blocking waiting for file lock on ..."), or
with `--no-wait` stops at once with exit status 75 (EX_TEMPFAIL: try again later).

The lock is the system's, on the open folder (`flock` on Linux and macOS: no file is written
anywhere, the lessons folder stays as the author left it), never a file's existence: a build
that crashes or is killed releases it with its last file descriptor, so no stale lock ever
blocks the next build. A child forked by the build (`forked.py`, the parse pool) holds the same
open folder: while one still writes, the lock is held. Windows cannot lock a folder: there the
lock is a file in the cache folder, `build.lock` (in `.course-cache/` beside the lessons when
the cache is off), locked with `msvcrt.locking` and left in place; the outputs' folders are not
locked there (nor swept). A folder that cannot be
opened or locked (a network mount without locks) is not locked, as cargo does.

Only a holder may sweep what killed builds left behind (`sweep.py`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .cache import FOLDER, Store

LOCK_FILE = "build.lock"
BUSY = 75
"""Exit status of a build that would have to wait, with `--no-wait` (sysexits' EX_TEMPFAIL)."""
POLL = 0.1
"""Seconds between two tries on Windows, whose lock call does not wait."""


class Busy(click.ClickException):
    """Another build holds a lock this one needs, and `--no-wait` was given."""

    exit_code = BUSY


def folders(lessons: Path, outputs: Iterable[Path] = ()) -> list[Path]:
    """The folders a build of `lessons` locks, and the `outputs` folders, in the one order every
    build takes them (by path: two builds never wait for each other's second lock)."""
    found = {lessons.resolve(), *(folder.resolve() for folder in outputs)}
    cache = Store.beside(lessons).folder
    if cache is not None:
        found.add(cache.resolve())
    return sorted(found)


@contextmanager
def hold(
    lessons: Path,
    wait: bool = True,
    say: Callable[[str], None] | None = None,
    outputs: Iterable[Path] = (),
) -> Iterator[frozenset[Path]]:
    """Hold every lock of a build of `lessons` and of the folders holding its `outputs`
    (`folders`) until the block ends; waiting for one, say so with `say` (stderr by default);
    without `wait`, raise `Busy` instead. Gives the folders locked (resolved): only there may
    the build remove what looks left behind (`sweep.py`); a folder that could not be locked may
    hold another build's files."""
    say = say or _stderr
    held: set[Path] = set()
    with contextlib.ExitStack() as stack:
        # No lessons folder: nothing to lock (the build stops, having made no cache folder).
        for folder in folders(lessons, outputs) if lessons.is_dir() else ():
            fd = _open(folder, lessons)
            if fd is None:
                continue
            stack.callback(os.close, fd)  # closing the file releases its lock
            try:
                if not _try(fd):
                    if not wait:
                        raise Busy(f"another build is running: it holds the lock on {folder}")
                    say(f"Blocking waiting for file lock on {folder}: another build is running")
                    _wait(fd)
            except OSError:  # a file system without locks (some network mounts): not locked
                continue
            held.add(folder)
        yield _held(held, lessons)


def _stderr(text: str) -> None:
    click.echo(text, err=True)


if sys.platform == "win32":
    import msvcrt

    def _held(held: set[Path], lessons: Path) -> frozenset[Path]:
        """One lock file stands for the lessons and cache folders (`_open`); the outputs'
        folders are not locked."""
        return frozenset(folders(lessons)) if held else frozenset()

    def _open(folder: Path, lessons: Path) -> int | None:
        """The lock file standing for `folder`: the cache folder's `build.lock` (made with its
        folder when missing), for the lessons folder too (one lock: a second handle on the same
        file would wait for the first); None when it cannot be made."""
        cache = Store.beside(lessons).folder
        if cache is not None and folder != cache.resolve():
            return None
        where = cache or lessons.resolve().parent / FOLDER
        try:
            where.mkdir(parents=True, exist_ok=True)
            return os.open(where / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return None

    def _try(fd: int) -> bool:
        """Lock the file's first byte, if no other process has it: then the C runtime fails
        with EACCES (PermissionError); any other failure (a file system without locks) is
        raised, as flock's are: the folder is not locked."""
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except PermissionError:
            return False
        return True

    def _wait(fd: int) -> None:
        while not _try(fd):
            time.sleep(POLL)

else:
    import fcntl

    def _held(held: set[Path], lessons: Path) -> frozenset[Path]:
        return frozenset(held)

    def _open(folder: Path, lessons: Path) -> int | None:
        """`folder`, opened to be locked (the cache folder or an output's made when missing);
        None when it cannot be (a missing lessons folder: the build says so)."""
        try:
            if folder != lessons.resolve():
                folder.mkdir(parents=True, exist_ok=True)
            return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            return None

    def _try(fd: int) -> bool:
        """Lock the open folder (`flock`: the lock belongs to the open folder, so a forked child
        shares it), if no other process has it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _wait(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # Ctrl-C interrupts the wait


__all__ = ["BUSY", "LOCK_FILE", "Busy", "folders", "hold"]
