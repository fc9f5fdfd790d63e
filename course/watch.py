"""Watch mode (`build.py watch`): build once, then build again whenever the lessons change.

One process stays up between builds: its modules imported, its templates loaded and the OS's
file cache warm, a one-card edit of a 10,000-card course is rebuilt in about an eighth of a
cold build's time (bench/watch_probe.py), where a new process pays its start-up first. Each
build is the `build` command itself, run again (`cli.build_command`): the same checks, the
same report, the same bytes as a cold build of the same lessons, the lock held only while it
runs. Between builds the process keeps what tells a change from the build's own writes
(`Used`) and the lessons' parses as their cache entries gave them (`lessons.Kept`, under the
same keys: a build finds an unchanged lesson's in memory); no library.

Changes come from watchfiles (inotify, FSEvents, ReadDirectoryChangesW; polling where none
works, or with WATCHFILES_FORCE_POLLING=1). A build writes into the lessons folder (card IDs
into lessons, each language's manifest): a file changed only by the build, or back to what the
build used, starts no build.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import click

from .cache import content_digest

if TYPE_CHECKING:
    from .model import Library

STEP_MS = 10
"""How often the watcher looks for changes: it hands them over at the first look that finds no
new one since the last (watchfiles' `step`; a file written again and again is no new one). The
quiet window before a build is QUIET_MS (`settle`), counted from the last change itself: with
a 20 ms step, the watcher woke 24-35 ms after a save, 20-40 ms depending on where in its step
the save fell; 10 ms and 5 ms both wake 21-27 ms after it (QUIET_MS decides), and an idle
watch then costs 0.75% and 1.3% of a core (0.5% at 20 ms): each look is a wake-up of the
process, on a laptop's battery too."""
QUIET_MS = 20
"""How long the changed files and their folders must have been still (by their change times)
before a build starts: an editor's save is over (one save is several events: a temporary file
written, renamed over the lesson; or the lesson truncated and written again, a folder's entry
removed and made again). The file system stamps a change at most one clock tick (1-10 ms)
before it happened: the stillness waited for is at least QUIET_MS less that tick."""
DEBOUNCE_MS = 1600
"""The longest changes that keep coming are gathered (and a file that keeps changing waited
for) before a build starts anyway."""
IDLE_MS = 100
"""How long the watcher waits for a change before it wakes this process anyway: the first
build starts at its first wake, once it watches (it wakes every STEP_MS within, for Ctrl-C)."""
SHOWN = 3
"""Changed files named in the line announcing a build (then "and N more")."""
WRITTEN = frozenset({"manifest.jsonl", "anki-mod-times.json"})
"""Files of a language folder the build itself writes (`manifest.py`)."""

Stat = tuple[int, int, int, int]
"""A file's size, modification and change times and inode: changed when any of them is."""
Mark = Stat | str
"""What a build used of a file: its stat, or (a lesson as the build parsed it) its digest."""


class Stopper(Protocol):
    """Anything with `is_set` (threading.Event): set, the watch ends (tests)."""

    def is_set(self) -> bool: ...


def _stat(path: Path) -> Stat | None:
    try:
        return _key(path.stat())
    except OSError:
        return None


def _key(info: os.stat_result) -> Stat:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


@dataclass(frozen=True, slots=True)
class Folder:
    """The lessons folder as the watch sees it: every file in it but hidden ones (a dot in any
    part of the path: editors' swap files, `.git`) and the build's own outputs when they lie in
    it (`ignored`)."""

    root: Path
    """Resolved: watchfiles reports paths below it."""
    ignored: tuple[Path, ...] = ()

    @classmethod
    def of(cls, lessons: Path, outputs: Iterable[Path | None]) -> Folder:
        ignored = tuple(path.resolve() for path in outputs if path is not None)
        return cls(lessons.resolve(), ignored)

    def wanted(self, path: Path) -> bool:
        """A change of `path` may matter to the build."""
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return False
        if any(_hidden(part) for part in parts):
            return False
        return not any(path == out or path.is_relative_to(out) for out in self.ignored)

    def stats(self) -> dict[Path, Stat]:
        """Every file wanted, with its stat: one scandir a folder (the 100k corpus's 2,007 files
        in 13-14 ms under load, os.walk and a Path.stat each 19-20 ms)."""
        found: dict[Path, Stat] = {}
        folders = [self.root]
        while folders:
            folder = folders.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                path = folder / entry.name
                if _hidden(entry.name) or path in self.ignored:
                    continue
                try:
                    if entry.is_dir():
                        folders.append(path)
                    else:
                        found[path] = _key(entry.stat())
                except OSError:  # gone since the folder was read
                    continue
        return found


def settle(
    paths: Sequence[Path],
    quiet_ms: int = QUIET_MS,
    most_ms: int = DEBOUNCE_MS,
    sleep: Callable[[float], object] = time.sleep,
) -> None:
    """Wait until none of `paths` (changed files, gone ones included) nor the folders holding
    them has changed for `quiet_ms`, by their change times (a write, a rename, an entry added
    or removed), or `most_ms` at most."""
    watched = [*paths, *{path.parent for path in paths}]
    give_up = time.time_ns() + most_ms * 1_000_000
    while True:
        last = max(_changed_at(path) for path in watched)
        now = time.time_ns()
        wait = last + quiet_ms * 1_000_000 - now
        if wait <= 0 or now >= give_up:
            return
        sleep(min(wait, give_up - now) / 1e9)


def _changed_at(path: Path) -> int:
    """When `path` last changed (nanoseconds since the epoch; 0: it is not there)."""
    try:
        info = path.stat()
    except OSError:
        return 0
    return max(info.st_mtime_ns, info.st_ctime_ns)  # (Windows' st_ctime: its creation)


def _hidden(name: str) -> bool:
    """Editors' and tools' own files: `.git`, swap files, backups."""
    return name.startswith(".") or name.endswith("~")


@dataclass(slots=True)
class Used:
    """What the last build used of each file of the lessons folder: a lesson it parsed, the
    digest of the bytes it parsed (card IDs it wrote in included); a manifest it wrote, its
    stat after the build; any other file, its stat before the build began. A file whose mark
    still holds has not changed since, whoever wrote it."""

    marks: dict[Path, Mark] = field(default_factory=dict)

    @classmethod
    def of(cls, folder: Folder, before: dict[Path, Stat], library: Library | None) -> Used:
        """After a build that began with the folder as `before`; `library`: what it built
        (None: it wrote nothing in the lessons folder, failed or replayed)."""
        marks: dict[Path, Mark] = dict(before)
        if library is not None:
            for course in library.courses:
                for name in WRITTEN:
                    path = folder.root / course.lang / name
                    stat = _stat(path)
                    if stat is None:
                        marks.pop(path, None)
                    else:
                        marks[path] = stat
                for lesson in course.lessons:
                    marks[folder.root / lesson.path.relative_to(library.root)] = lesson.digest
        return cls(marks)

    def changed(self, paths: Iterable[Path]) -> list[Path]:
        """The `paths` whose file differs from what the last build used (added, removed or
        written since), sorted."""
        return sorted(path for path in set(paths) if self._changed(path))

    def _changed(self, path: Path) -> bool:
        mark = self.marks.get(path)
        stat = _stat(path)
        if mark is None or stat is None:
            return (mark is None) != (stat is None)
        if isinstance(mark, str):
            try:
                return content_digest(path.read_bytes()) != mark
            except OSError:
                return True
        return stat != mark


Build = Callable[[Callable[[], object]], "Library | None"]
"""One run of the build command: the library it built (None: it replayed the last build). It
calls its argument once its outputs are committed and its report printed, before what it does
for the next build only (`cli._remember`, the lock still held), if it gets that far."""
Say = Callable[[str], None]


def _say(text: str) -> None:
    click.echo(f"watch: {text}", err=True)


@dataclass(slots=True)
class Session:
    """The builds of one watch, and what the last one used."""

    build: Build
    folder: Folder
    say: Say = _say
    used: Used = field(default_factory=Used)
    after: Callable[[], object] | None = None
    """Runs after each build has said how it went (the next build's work done meanwhile:
    `lessons.read_kept`)."""

    def run(self) -> bool:
        """Build once; say how long it took or that it failed (its problems printed as `build`
        prints them, the last good outputs left in place). True: it built."""
        built = self._run()
        if self.after is not None:
            self.after()
        return built

    def _run(self) -> bool:
        before = self.folder.stats()
        start = time.perf_counter()
        said: list[bool] = []

        def built() -> None:  # (the build's outputs are committed: what follows is bookkeeping)
            if not said:
                said.append(True)
                self.say(f"built in {time.perf_counter() - start:.2f} s")

        try:
            library = self.build(built)
        except click.ClickException as error:  # bad lessons, an output that cannot be written
            error.show()
            self.used = Used.of(self.folder, before, None)
            spent = time.perf_counter() - start
            self.say(
                f"build failed after {spent:.2f} s; the last good outputs are kept. "
                "Waiting for a change."
            )
            return False
        self.used = Used.of(self.folder, before, library)
        built()  # (a replay, or said when the build was done)
        return True

    def changes(self, paths: Iterable[Path]) -> bool:
        """Build again if any of `paths` changed since the last build (naming them)."""
        changed = self.used.changed(path for path in paths if self.folder.wanted(path))
        if not changed:
            return False
        settle(changed)  # (not a half-written save)
        names = [str(path.relative_to(self.folder.root)) for path in changed[:SHOWN]]
        more = f" and {len(changed) - SHOWN} more" if len(changed) > SHOWN else ""
        self.say(f"changed: {', '.join(names)}{more}")
        self.run()
        return True


def watch(
    build: Build,
    lessons: Path,
    outputs: Sequence[Path | None] = (),
    stop: Stopper | None = None,
    say: Say = _say,
    warm: Callable[[], object] | None = None,
    after: Callable[[], object] | None = None,
) -> None:
    """Build, then build again on every change of the lessons folder until Ctrl-C (or `stop`
    is set). `outputs`: the build's output folders and files, ignored when they lie in it.
    `warm` runs after the first build, before the watch begins (imports); `after`, after each
    build (`Session.after`)."""
    import watchfiles  # (only this command needs it)

    if not lessons.is_dir():
        build(lambda: None)  # raises what `build` says of it (status 1): there is nothing to watch

    session = Session(build, Folder.of(lessons, outputs), say, after=after)
    started = False
    try:
        for found in watchfiles.watch(
            session.folder.root,
            watch_filter=None,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            rust_timeout=IDLE_MS,
            yield_on_timeout=True,
            stop_event=stop,
        ):
            if started:
                session.changes(Path(path) for _, path in found)
                continue
            # The watcher runs now (the first wake): a change from here on is seen, the first
            # build's own writes included (`Used` tells them apart).
            session.run()
            if warm is not None:
                warm()
            say(f"watching {lessons} for changes (Ctrl-C to stop)")
            started = True
    except KeyboardInterrupt:
        pass
    say("stopped")
