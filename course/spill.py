"""The site strings of a loaded library, on disk until the site and SCORM writers ask for them.

A lesson's `SiteText` (page body, search records, each card's sides: render.py) is most of what a
loaded library weighs (two thirds at 100,000 cards). The loader writes each lesson's, pickled as
the worker or the parse cache gave it, to one temporary file of the build (unlinked: nothing is
left behind, nobody else writes it) and the lesson keeps a `Spilled` handle; `load()` reads it
back, one lesson at a time (a small course keeps each once read back: `Spill(keep=...)`). A
failure to write keeps the strings in memory instead (the build only weighs more); a failure to
read back is an error, never wrong output.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

import click

from . import cache
from .model import Held, SiteRef, SiteText


class SpillError(click.ClickException):
    """A lesson's site strings could not be read back: the build stops, nothing is written."""


class Spill:
    """One build's spill file, made on the first lesson that needs it."""

    __slots__ = ("_digests", "_end", "_file", "_keep", "_read")

    def __init__(self, keep: int = 1) -> None:
        self._file: IO[bytes] | None = None
        self._end = 0
        self._keep = max(keep, 1)
        """How many of the lessons read back stay in memory (the last ones read)."""
        self._read: dict[object, SiteText] = {}
        """The lessons read back and kept (`kept`), the last read last: the page body and
        the review items of a lesson are read one after the other, and a small course's
        writers (parse_lessons keeps all its lessons) read each lesson several times (its
        page, the page's data, whether the page is split; the site's and the package's)."""
        self._digests: dict[int, str] = {}
        """Each lesson's `digest` once asked (by offset): the site and the package ask both."""

    def __del__(self) -> None:
        """The file goes with the last lesson that refers to it (unlinked: nothing remains)."""
        if self._file is not None:
            self._file.close()

    def add(
        self,
        data: bytes | memoryview,
        path: Path,
        crc: int | None = None,
        digest: str | None = None,
    ) -> SiteRef:
        """A handle on `data` (a pickled `SiteText`), written to the file; `crc` and `digest`:
        its checksum and sha256 (hex) when known already (made where it was pickled)."""
        offset = self._end
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="course-site-", buffering=0)  # noqa: SIM115 (open as long as the library)
            _write_at(self._file, data, offset)
        except OSError:  # a full or read-only temporary folder: keep the strings in memory
            value = cache.loads(data)
            assert isinstance(value, SiteText)
            return Held(value)
        self._end = offset + len(data)
        if digest is not None:
            self._digests[offset] = digest
        crc = cache.checksum(data) if crc is None else crc
        return Spilled(self, offset, len(data), crc, path)

    def digest(self, ref: Spilled) -> str:
        """sha256 of the lesson's pickled strings as written, read back without unpickling."""
        found = self._digests.get(ref.offset)
        if found is None:
            found = hashlib.sha256(self._bytes(ref)).hexdigest()
            self._digests[ref.offset] = found
        return found

    def _bytes(self, ref: Spilled) -> bytes:
        try:
            assert self._file is not None
            data = _read_at(self._file, ref.size, ref.offset)
            if len(data) != ref.size or cache.checksum(data) != ref.crc:
                raise ValueError("the data read back differs from what was written")
        except Exception as exc:
            raise _unreadable(ref, exc) from exc
        return data

    def read(self, ref: Spilled) -> SiteText:
        return self.kept(ref.offset, partial(self._load, ref))

    def kept(self, key: object, read: Callable[[], SiteText]) -> SiteText:
        """A lesson's strings as `read` gives them, or as kept since (`keep`: the last ones read
        stay; `key`: where they are, in this file or in a cache entry)."""
        value = self._read.pop(key, None)
        if value is None:
            value = read()
            if len(self._read) >= self._keep:
                del self._read[next(iter(self._read))]  # the one read longest ago
        self._read[key] = value  # read last
        return value

    def _load(self, ref: Spilled) -> SiteText:
        data = self._bytes(ref)
        try:
            value = cache.loads(data)
            if not isinstance(value, SiteText):
                raise ValueError(f"not a lesson's site strings: {type(value).__name__}")
        except Exception as exc:
            raise _unreadable(ref, exc) from exc
        return value


def _unreadable(ref: Spilled, exc: Exception) -> SpillError:
    return SpillError(
        f"{ref.path}: cannot read the lesson's site strings back from the build's temporary"
        f" file ({exc}); nothing was written"
    )


def _write_at(file: IO[bytes], data: bytes | memoryview, offset: int) -> None:
    """`data` at `offset`: `os.pwrite` where there is one (POSIX), else a seek and a write (only
    this process reads or writes the file)."""
    view = memoryview(data)
    pwrite = getattr(os, "pwrite", None)
    if pwrite is None:
        file.seek(offset)
    while view:
        done = pwrite(file.fileno(), view, offset) if pwrite else file.write(view)
        view, offset = view[done:], offset + done


def _read_at(file: IO[bytes], size: int, offset: int) -> bytes:
    """`size` bytes from `offset` (fewer at the end of the file), as `_write_at` writes them."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        return bytes(pread(file.fileno(), size, offset))
    file.seek(offset)
    return file.read(size)


@dataclass(frozen=True, slots=True, eq=False)
class Spilled(SiteRef):
    """A lesson's `SiteText` in a spill file: where it starts, its size and checksum."""

    spill: Spill
    offset: int
    size: int
    crc: int
    path: Path
    """The lesson, for the message when it cannot be read back."""

    def load(self) -> SiteText:
        return self.spill.read(self)

    def digest(self) -> str:
        return self.spill.digest(self)

    def __reduce__(self) -> tuple[type[Held], tuple[SiteText]]:
        """Pickled (sent to another process), the handle carries the strings themselves."""
        return Held, (self.load(),)


@dataclass(frozen=True, slots=True, eq=False)
class Stored(SiteRef):
    """A cached lesson's `SiteText` where its cache entry holds it (`lessons._cached`), never
    copied to the spill file: most of a one-edit rebuild's lessons are never asked for theirs.
    Read back, it is checked against the checksum the entry gave when it was loaded; an entry
    damaged or replaced since gives the lesson parsed again (`again`): a damaged entry is a
    miss, whenever it shows."""

    entry: Path
    offset: int
    size: int
    crc: int
    sha: str
    """The strings' sha256 (hex), as the entry gave it: `digest`."""
    path: Path
    """The lesson."""
    again: Callable[[], SiteText]
    spill: Spill
    """Where what is read back is kept, as for the lessons in its file (`Spill.kept`)."""

    def load(self) -> SiteText:
        return self.spill.kept((self.entry, self.offset), self._value)

    def _value(self) -> SiteText:
        value = self._read()
        return self.again() if value is None else value

    def _read(self) -> SiteText | None:
        try:
            with self.entry.open("rb") as file:
                data = _read_at(file, self.size, self.offset)
            if len(data) != self.size or cache.checksum(data) != self.crc:
                return None
            value = cache.loads(data)
        except Exception:  # damaged, replaced or gone since it was loaded
            return None
        return value if isinstance(value, SiteText) else None

    def digest(self) -> str:
        return self.sha

    def __reduce__(self) -> tuple[type[Held], tuple[SiteText]]:
        """Pickled (sent to another process), the handle carries the strings themselves."""
        return Held, (self.load(),)
