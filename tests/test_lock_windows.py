"""lock.py's Windows lock (msvcrt.locking on the cache folder's `build.lock`), run here with a
msvcrt that behaves as the C runtime's `_locking` does: with LK_NBLCK, a byte another handle has
locked fails with EACCES (PermissionError), and a file system that cannot lock at all fails with
another error (the runtime maps what Windows says, such as ERROR_NOT_SUPPORTED, to EINVAL). Only
the first is another build: the second is a folder built unlocked, as on POSIX, never a build
that waits for ever (or, with --no-wait, stops with 75) though no other build runs."""

from __future__ import annotations

import errno
import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

import course.lock  # noqa: F401  (what lock.py imports, imported before sys.platform changes)
from course.cache import ENV as CACHE_ENV

LOCK_PY = Path(__file__).resolve().parent.parent / "course" / "lock.py"


class FakeMsvcrt(types.ModuleType):
    """msvcrt's `locking` as the C runtime behaves: one lock per file (by inode), held by the
    handle that took it; `fail` makes every call fail as a file system without locks does."""

    LK_UNLCK, LK_LOCK, LK_NBLCK = 0, 1, 2

    def __init__(self) -> None:
        super().__init__("msvcrt")
        self.holders: dict[int, int] = {}
        self.fail: int | None = None

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        assert (mode, nbytes) == (self.LK_NBLCK, 1)
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0  # the byte locked is the file's first
        if self.fail is not None:
            raise OSError(self.fail, os.strerror(self.fail))
        inode = os.fstat(fd).st_ino
        if self.holders.get(inode, fd) != fd:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        self.holders[inode] = fd

    def release(self) -> None:
        """The other build ends."""
        self.holders.clear()


@pytest.fixture
def msvcrt(monkeypatch: pytest.MonkeyPatch) -> FakeMsvcrt:
    fake = FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    return fake


@pytest.fixture
def lock(msvcrt: FakeMsvcrt, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """lock.py as Windows runs it (its own copy: the module the other tests use is unchanged),
    with the fake msvcrt."""
    spec = importlib.util.spec_from_file_location("course._lock_on_windows", LOCK_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with monkeypatch.context() as patch:
        patch.setattr(sys, "platform", "win32")
        spec.loader.exec_module(module)
    assert module.msvcrt is msvcrt
    return module


@pytest.fixture
def lessons(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    folder = tmp_path / "lessons"
    folder.mkdir()
    return folder


class Waited(Exception):
    pass


def no_sleep(*_: object) -> None:
    raise Waited


def test_a_free_lock_is_taken(lock: types.ModuleType, lessons: Path) -> None:
    with lock.hold(lessons, wait=False) as held:
        assert held == frozenset(lock.folders(lessons))
        assert (lessons.parent / ".course-cache" / lock.LOCK_FILE).is_file()


def test_a_lock_another_build_holds_stops_a_build_with_no_wait(
    lock: types.ModuleType, lessons: Path, msvcrt: FakeMsvcrt
) -> None:
    with lock.hold(lessons, wait=False), pytest.raises(lock.Busy), lock.hold(lessons, wait=False):
        pass


def test_a_build_waits_for_a_lock_another_build_holds_then_takes_it(
    lock: types.ModuleType, lessons: Path, msvcrt: FakeMsvcrt, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            msvcrt.release()

    with lock.hold(lessons, wait=False):
        monkeypatch.setattr(lock.time, "sleep", sleep)
        with lock.hold(lessons, say=said.append) as held:
            assert held == frozenset(lock.folders(lessons))
    assert sleeps == [lock.POLL] * 3
    assert len(said) == 1
    assert said[0].startswith("Blocking waiting for file lock on ")


@pytest.mark.parametrize("error", [errno.EINVAL, errno.EBADF, errno.ENOLCK])
def test_a_file_system_without_locks_is_built_unlocked_not_waited_for(
    error: int,
    lock: types.ModuleType,
    lessons: Path,
    msvcrt: FakeMsvcrt,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No other build holds anything: the build runs at once, unlocked, and sweeps nothing (no
    folder held), with or without --no-wait."""
    msvcrt.fail = error
    monkeypatch.setattr(lock.time, "sleep", no_sleep)  # a wait would never end
    for wait in (False, True):
        said: list[str] = []
        with lock.hold(lessons, wait=wait, say=said.append) as held:
            assert held == frozenset()
        assert said == []
