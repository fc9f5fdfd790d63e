"""A content-hash cache of each lesson's parse: a rebuild re-parses only the lessons that changed.

One entry per lesson file, in a folder that is always safe to delete: `.course-cache/` beside the
lessons folder, or `$COURSE_CACHE_DIR` when set (an empty value turns the cache off). An entry is
named after the lesson's path and holds the key it was made under and the pickled parse result
(the lesson's rendered strings: render.py); it is used only when the key matches: a hash of the
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
import io
import os
import pickle
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import markdown_it
import yaml

from . import model
from .files import atomic_write

FOLDER = ".course-cache"
"""The cache folder's name, beside the lessons folder (`.gitignore`d)."""
ENV = "COURSE_CACHE_DIR"
"""Environment variable: another cache folder, or empty for no cache."""
FORMAT = b"course-cache 2\n"
"""The first line of every entry: bump it when an entry's layout changes."""


@cache
def tool_digest() -> str:
    """Everything a parse depends on besides the lesson: the package's own files (every file of
    it, so any new version of the tool, released or not, is a new digest: the version number
    itself is not read, which keeps `importlib.metadata` off the build path) and the versions of
    Python and the parsers."""
    digest = hashlib.sha256()
    for part in (sys.version, markdown_it.__version__, yaml.__version__):
        digest.update(part.encode() + b"\0")
    package = resources.files("course")
    root = Path(str(package))
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


RECORDS = (
    model.SourceLoc,
    model.Problem,
    model.Source,
    model.MediaFile,
    model.CardText,
    model.SearchRecord,
    model.LessonText,
    model.Card,
    model.Section,
    model.Lesson,
)
"""The records of a lesson's parse: thousands per lesson, so their pickled form matters."""
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if f.init) for cls in RECORDS
}


def _record(value: object) -> tuple[type, tuple[object, ...]]:
    """A record as its constructor's arguments: unpickled through `__init__`, about twice as fast
    as a slotted dataclass's own `__setstate__` (which looks its fields up again per object)."""
    return type(value), tuple(getattr(value, name) for name in _FIELDS[type(value)])


REDUCERS = {**copyreg.dispatch_table, **dict.fromkeys(RECORDS, _record)}


def dumps(value: object) -> bytes:
    """`value` pickled: what an entry holds, and what a worker process sends back (a lesson's
    strings: render.py; no token leaves the process that parsed it)."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = REDUCERS
    pickler.dump(value)
    return out.getvalue()


def loads(data: bytes) -> object:
    return pickle.loads(data)


@dataclass(frozen=True, slots=True)
class Store:
    """The cache folder; `None` folder means the cache is off (every lookup misses)."""

    folder: Path | None

    @classmethod
    def beside(cls, lessons: Path) -> Store:
        given = os.environ.get(ENV)
        if given is not None:
            return cls(Path(given) if given else None)
        return cls(lessons.resolve().parent / FOLDER)

    def _entry(self, path: Path, lang: str, kind: str) -> Path | None:
        if self.folder is None:
            return None
        name = hashlib.sha256(f"{path.resolve()}\0{lang}".encode()).hexdigest()[:32]
        return self.folder / kind / f"{name}.pickle"

    @staticmethod
    def key(path: Path, lang: str, display: Path, data: bytes) -> bytes:
        digest = hashlib.sha256(tool_digest().encode())
        for part in (str(path.resolve()), str(display), lang):
            digest.update(part.encode() + b"\0")
        digest.update(data)
        return digest.hexdigest().encode()

    def get(self, path: Path, lang: str, key: bytes, kind: str = "lessons") -> object | None:
        """The value stored under `key` for this lesson, or None (miss, stale or unreadable).
        The caller checks what it got (its type, the other files it was made from). `kind`: what
        the entry holds (a folder of its own: "lessons" for a lesson's parse and render)."""
        entry = self._entry(path, lang, kind)
        if entry is None:
            return None
        try:
            data = entry.read_bytes()
        except OSError:
            return None
        head = FORMAT + key + b"\n"
        if not data.startswith(head):
            return None
        try:
            value = loads(data[len(head) :])
        except Exception:  # a corrupt entry (truncated, from another version): a miss
            return None
        return value

    def put(self, path: Path, lang: str, key: bytes, data: bytes, kind: str = "lessons") -> None:
        """Store a value (`dumps` gave `data`) for this lesson, atomically; any failure leaves
        the cache as it was."""
        entry = self._entry(path, lang, kind)
        if entry is None:
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(entry, FORMAT + key + b"\n" + data)
        except OSError:
            return


__all__ = ["ENV", "FOLDER", "Store", "dumps", "loads", "tool_digest"]
