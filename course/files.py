"""Writing files so that a reader never sees half of one: temporary file, then rename; where
many files of few folders really are."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from . import forked

P = ParamSpec("P")
T = TypeVar("T")


def temp_file(folder: Path, name: str) -> tuple[int, str]:
    """A new temporary file in `folder` for the file `name` (its descriptor and path; mode
    0600), named `.<name>.XXXXXXXX.tmp`: the one name sweep.py removes after a killed build."""
    return tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")


@contextmanager
def naming(target: Path) -> Iterator[None]:
    """An OSError raised inside that names no file is made to name `target`, the output being
    written: a refused `write()` (a full disk, a quota) names none, and the author must be told
    which output, on which disk, could not be written."""
    try:
        yield
    except OSError as error:
        if error.filename is None:
            if error.strerror is None:  # (`OSError("text")`: its text, where the message reads it)
                error.strerror = str(error)
            error.filename = os.fspath(target)
        raise


def named(target: Path, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`call(*args, **kwargs)`, its OSError naming `target` when it names no file (`naming`):
    for a call that runs elsewhere (a forked child, a thread) and raises there."""
    with naming(target):
        return call(*args, **kwargs)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one rename, keeping the file's permissions; never in a
    forked child whose build has ended (OSError: `forked.orphaned`)."""
    tmp = staged(path, data)
    try:
        if forked.orphaned():
            raise OSError(f"{path}: not written: the build that forked this process has ended")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def staged(path: Path, data: bytes) -> Path:
    """`data` in a temporary file beside `path`, with its permissions: `atomic_write`'s first
    step, for a caller that renames many files only once all of them are written (ids.py).
    The caller renames it over `path` or removes it; a failure here leaves nothing."""
    fd, tmp = temp_file(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
        os.chmod(tmp, mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


class Resolver:
    """`Path.resolve()` of many files in few folders (a course's lessons): each folder resolved
    once, a file itself only when it is a link (resolving costs a system call per part of the
    path, for every lesson of every build). `real` gives it as a string, making no Path
    (outputs.py checks thousands of lessons after every build that wrote a manifest: 14 ms
    with Paths at 100,000 cards)."""

    __slots__ = ("_folders",)

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def __call__(self, path: Path) -> Path:
        return Path(self.real(path))

    def real(self, path: str | os.PathLike[str]) -> str:
        """`str(Path(path).resolve())`."""
        name = os.fspath(path)
        if os.path.islink(name):  # noqa: PTH114 (a string: no Path made)
            return os.path.realpath(name)
        parent, base = os.path.split(name)
        folder = self._folders.get(parent)
        if folder is None:
            folder = self._folders[parent] = os.path.realpath(parent or os.curdir).rstrip(os.sep)
        return f"{folder}{os.sep}{base}"
