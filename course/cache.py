"""A content-hash cache of each lesson's parse: a rebuild re-parses only the lessons that changed.

One entry per lesson file, in a folder that is always safe to delete: `.course-cache/` beside the
lessons folder, or `$COURSE_CACHE_DIR` when set (an empty value turns the cache off). An entry is
named after the lesson's path and holds the key it was made under, a checksum, and the pickled
parse result in two parts (`pack`): the lesson's records and decks' strings, then its site strings
(render.py), which a build copies to its spill file without unpickling them (lessons.py); it is
used only when the key and the checksum match: a hash of the
lesson's bytes, its path and language, every file of the package (code, templates, assets,
catalogues: any new version of the tool), the parsers' versions and the Python version (the caller
checks again, on every hit, the other files a value was made from: a lesson's images). A missing,
unreadable, corrupt or stale entry is a miss and is rewritten; writing is atomic (temporary file,
then rename) and a failure to write (read-only folder, full disk) only costs the speed-up.
"""

from __future__ import annotations

import copyreg
import dataclasses
import hashlib
import importlib.util
import io
import os
import pickle
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from .files import atomic_write

FOLDER = ".course-cache"
"""The cache folder's name, beside the lessons folder (`.gitignore`d)."""
ENV = "COURSE_CACHE_DIR"
"""Environment variable: another cache folder, or empty for no cache."""
FORMAT = b"course-cache 7\n"
"""The first line of every entry: bump it when an entry's layout changes."""
CRC = 4
"""Bytes of the checksum (CRC-32 of the value) after the key's line."""


PARSERS = ("markdown_it", "yaml")
"""The parsers whose version a parse depends on (mdit-py-plugins is not used)."""


@cache
def tool_digest() -> str:
    """Everything a parse depends on besides the lesson: the package's own files (every file of
    it, so any new version of the tool, released or not, is a new digest: the version number
    itself is not read, which keeps `importlib.metadata` off the build path), the Python version
    and the parsers' versions (their packages' `__init__.py`, which names it: found, not
    imported, so a replayed build, which asks for this digest, imports no parser).

    Read once per copy of the tool: kept beside the package's bytecode (`KEPT`) under the files'
    stats (`_tool_stats`), as Python keeps a module's `.pyc` under its source's: reading and
    hashing every file was 2.7 ms of every build before it could use a second core, the stats
    are 0.6 ms. A changed, added or removed file changes the stats, and the digest is read
    again."""
    stats, settled = _tool_stats()
    try:
        key, digest = KEPT.read_text(encoding="ascii").split()
    except (OSError, ValueError):  # none yet, unreadable, or not ours
        key = digest = ""
    if key == stats and len(digest) == 64:
        return digest
    digest = read_tool_digest()
    if settled and not sys.dont_write_bytecode:  # (no bytecode written: nothing kept either)
        try:
            KEPT.parent.mkdir(exist_ok=True)
            atomic_write(KEPT, f"{stats} {digest}\n".encode("ascii"))
        except OSError:  # a read-only install: read every time
            pass
    return digest


PACKAGE = Path(__file__).resolve().parent
"""The package's folder: its files are in `tool_digest`."""
KEPT = PACKAGE / "__pycache__" / "tool-digest"
"""The kept `tool_digest`: its files' stats (`_tool_stats`), then itself."""
SETTLED_NS = 2_000_000_000
"""A file changed less than this long ago (nanoseconds) may change again within the same tick
of the file system's clock, its stats unchanged: its digest is not kept (as git does not trust
the stats of a file as new as its index)."""


def read_tool_digest() -> str:
    """`tool_digest`, read from the files themselves."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode() + b"\0")
    for origin in _parser_files():
        digest.update((b"" if origin is None else Path(origin).read_bytes()) + b"\0")
    for path in sorted(_package_files(PACKAGE)):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _parser_files() -> list[str | None]:
    """Each parser's `__init__.py` (None: not found)."""
    specs = [importlib.util.find_spec(package) for package in PARSERS]
    return [None if spec is None else spec.origin for spec in specs]


def _tool_stats() -> tuple[str, bool]:
    """A hash of what `read_tool_digest` reads, by name and stats (size, times of the last change
    of the content and of the file, inode), not content: the Python version, the parsers' files
    and the package's files (their paths: an added or removed file changes it too); and whether
    every one of them is older than `SETTLED_NS`."""
    digest = hashlib.sha256(sys.version.encode() + b"\0")
    newest = 0
    for name in [*_parser_files(), *map(str, sorted(_package_files(PACKAGE)))]:
        try:
            st = os.stat("" if name is None else name)  # noqa: PTH116 (no Path made)
        except OSError:  # not found, or gone since the walk
            digest.update(f"{name}\0-\0".encode())
            continue
        newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        stats = f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}"
        digest.update(f"{name}\0{stats}\0".encode())
    return digest.hexdigest(), time.time_ns() - newest > SETTLED_NS


def _package_files(root: Path) -> Iterator[Path]:
    """Every file under `root` but compiled code (`__pycache__`: .pyc files, and the compiled
    templates templating.py keeps there). A walk of names, not `Path.rglob` with a stat per path
    nor `importlib.resources` (whose first use loads its readers): the digest is asked before
    the build can use a second core, and this was 3.5 ms of it."""
    for folder, dirs, names in os.walk(root):
        dirs[:] = [name for name in dirs if name != "__pycache__"]
        yield from (Path(folder, name) for name in names)


def parse_records() -> tuple[type, ...]:
    """The records of a lesson's parse: thousands per lesson, so their pickled form matters.
    (A function: model.py is not imported by a replayed build, which needs only `Store`.)"""
    from . import model

    return (
        model.SourceLoc,
        model.Problem,
        model.Source,
        model.MediaFile,
        model.CardSite,
        model.SearchRecord,
        model.SiteText,
        model.Held,
        model.LessonText,
        model.Card,
        model.Section,
        model.Lesson,
    )


def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


_ARGS: dict[type, Callable[[Any], tuple[object, ...]]] = {}
"""Each record type's constructor arguments taken from a record (`attrgetter` of its init
fields: one C call per record), filled as `_reducers` and `dumps` meet the types."""


Reducer = Callable[[Any], tuple[Callable[..., object], tuple[object, ...]]]
"""How a pickler takes an object apart: what makes it again (its type, or a function), and its
arguments."""


def record_args(value: object) -> tuple[object, ...]:
    """A record's constructor arguments, as `dumps` pickles them (for a reducer of its own)."""
    return _record(value)[1]


def _record(value: object) -> tuple[type, tuple[object, ...]]:
    """A record as its constructor's arguments: unpickled through `__init__`, about twice as fast
    as a slotted dataclass's own `__setstate__` (which looks its fields up again per object)."""
    cls = type(value)
    args = _ARGS.get(cls) or _ARGS.setdefault(cls, _getter(_init_fields(cls)))
    return cls, args(value)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[object, ...]]:
    """The values of `names` of an object, as a tuple (`attrgetter` gives a single value
    alone, not in a tuple)."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda value: (one(value),)
    return attrgetter(*names) if names else lambda value: ()


@cache
def _reducers() -> Mapping[type, Any]:
    """The pickler's dispatch table: copyreg's, and the parse's records by their arguments."""
    return {**copyreg.dispatch_table, **dict.fromkeys(parse_records(), _record)}


def dumps(
    value: object, records: Sequence[type] = (), reducers: Mapping[type, Reducer] | None = None
) -> bytes:
    """`value` pickled: what an entry holds, and what a worker process sends back (a lesson's
    strings: render.py; no token leaves the process that parsed it). `records`: more record
    types pickled as their constructor's arguments (a manifest's: manifest.py); `reducers`:
    other ways to pickle some types (a lesson's cards: lessons.py)."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _reducers()
    if records or reducers:
        table = {**_reducers(), **dict.fromkeys(records, _record), **(reducers or {})}
        pickler.dispatch_table = table
    pickler.dump(value)
    return out.getvalue()


def loads(data: bytes | memoryview) -> object:
    return pickle.loads(data)


SIZE = 8
"""Bytes of the length that starts a packed value."""


def pack(first: bytes, second: bytes) -> bytes:
    """Two pickles as one value (an entry's, a worker's answer): `unpack` splits them again."""
    return len(first).to_bytes(SIZE, "little") + first + second


def unpack(data: bytes) -> tuple[memoryview, memoryview]:
    """The two parts `pack` joined (views of `data`, not copies); ValueError when `data` is too
    short to be a packed value."""
    view = memoryview(data)
    size = int.from_bytes(view[:SIZE], "little")
    if len(view) < SIZE + size:
        raise ValueError("truncated")
    return view[SIZE : SIZE + size], view[SIZE + size :]


def content_digest(data: bytes) -> str:
    """A lesson file's bytes hashed: what its cache key and `Lesson.digest` hold."""
    return hashlib.sha256(data).hexdigest()


def checksum(data: bytes | memoryview) -> int:
    return zlib.crc32(data)


@dataclass(frozen=True, slots=True)
class Store:
    """The cache folder; `None` folder means the cache is off (every lookup misses)."""

    folder: Path | None
    writes: ClassVar[bool] = True
    """Whether `put` stores anything: not while `check` runs (`reading_only`)."""

    @classmethod
    def beside(cls, lessons: Path) -> Store:
        given = os.environ.get(ENV)
        if given is not None:
            return cls(Path(given) if given else None)
        return cls(lessons.resolve().parent / FOLDER)

    def _entry(self, path: Path, lang: str, kind: str, real: Path | None = None) -> Path | None:
        if self.folder is None:
            return None
        name = hashlib.sha256(f"{real or path.resolve()}\0{lang}".encode()).hexdigest()[:32]
        return self.folder / kind / f"{name}.pickle"

    @staticmethod
    def key(path: Path, lang: str, display: Path, content: str, real: Path | None = None) -> bytes:
        """`content`: the sha256 (hex) of the lesson's bytes (`content_digest`: hashed once per
        build, or known from the build's first look at the folder); `real`: `path.resolve()`
        when the caller has it already (saves the system calls)."""
        digest = hashlib.sha256(tool_digest().encode())
        for part in (str(real or path.resolve()), str(display), lang, content):
            digest.update(part.encode() + b"\0")
        return digest.hexdigest().encode()

    def get(
        self, path: Path, lang: str, key: bytes, kind: str = "lessons", real: Path | None = None
    ) -> bytes | None:
        """The value (`put`'s `data`) stored under `key` for this lesson, or None (miss, stale,
        unreadable, or its checksum does not match: corrupt). The caller checks what it
        unpickles (its type, the other files it was made from). `kind`: what the entry holds
        (a folder of its own: "lessons" for a lesson's parse and render); `real`: as for `key`."""
        entry = self._entry(path, lang, kind, real)
        if entry is None:
            return None
        try:
            data = entry.read_bytes()
        except OSError:
            return None
        head = FORMAT + key + b"\n"
        start = len(head) + CRC
        if not data.startswith(head) or len(data) < start:
            return None
        value = data[start:]
        if checksum(value) != int.from_bytes(data[len(head) : start], "little"):
            return None
        return value

    def has(self, path: Path, lang: str, kind: str) -> bool:
        """Whether an entry of `kind` exists for this file, whatever its key (`get` may still
        find it stale)."""
        entry = self._entry(path, lang, kind)
        return entry is not None and entry.exists()

    def open(
        self, path: Path, lang: str, key: bytes, kind: str = "lessons", real: Path | None = None
    ) -> BinaryIO | None:
        """The entry stored under `key` for this lesson, opened where its value starts (after the
        key's line and the value's checksum, which is not checked), or None (a miss): for a value
        whose parts carry checksums of their own (a lesson's parse: `lessons.pack`), so that a
        reader reads only the parts it needs. `kind`, `real`: as for `get`."""
        entry = self._entry(path, lang, kind, real)
        if entry is None:
            return None
        head = FORMAT + key + b"\n"
        try:
            file = entry.open("rb")
        except OSError:
            return None
        try:
            if file.read(len(head) + CRC)[: len(head)] == head:
                return file
        except OSError:
            pass
        file.close()
        return None

    def put(
        self,
        path: Path,
        lang: str,
        key: bytes,
        data: bytes,
        kind: str = "lessons",
        real: Path | None = None,
    ) -> None:
        """Store a value (`pack`ed pickles: `dumps`) for this lesson, atomically; any failure leaves
        the cache as it was. `real`: as for `key`."""
        entry = self._entry(path, lang, kind, real)
        if entry is None or not Store.writes:
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            crc = checksum(data).to_bytes(CRC, "little")
            atomic_write(entry, FORMAT + key + b"\n" + crc + data)
        except OSError:
            return


@contextmanager
def reading_only() -> Iterator[None]:
    """Lookups only while it lasts: `put` stores nothing (`check` writes nothing, not even its
    cache; what builds stored still saves it the parses)."""
    was, Store.writes = Store.writes, False
    try:
        yield
    finally:
        Store.writes = was


__all__ = [
    "ENV",
    "FOLDER",
    "Store",
    "dumps",
    "loads",
    "pack",
    "reading_only",
    "tool_digest",
    "unpack",
]
