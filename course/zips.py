"""Deterministic zip files written entry by entry, and entries taken compressed from an earlier zip.

zipfile writes what the SCORM packages need, but it cannot put in an entry's compressed bytes
from another zip: a rebuild after editing one lesson would deflate every lesson's files again.
`Writer` writes the bytes `zipfile.ZipFile(file, "w")` writes for entries added with
`ZipFile.open(ZipInfo(name, date_time), "w")`, deflated, with one date and mode for every entry
(tests/test_zips.py compares the two byte for byte, zip64 records included), and `Writer.copy`
puts in an entry of an `Archive` (a zip this writer wrote, read with zipfile's own reader) as it
is: its local header and compressed data are copied, only its offset in the central directory
changes. An entry that the central directory lists otherwise than `Writer` writes it is not
offered (`Archive.entries`), and one whose local header is not exactly what `Writer` writes for
it, or whose compressed data are not those written (their CRC-32 as `Writer.sums` recorded it;
without it, they must inflate to the entry's CRC), is not read (`Archive.read`), so a copied
entry is always the bytes writing it again would give.

A large entry made of many parts (a package's search script, a lesson or a few at a time) is
written in segments (`Writer.add_segments`): each deflated by a compressor of its own and ended by
a full flush, so that its compressed bytes depend on its content alone, and a later zip copies
those of an unchanged segment (`Archive.segment`, checked against the CRC-32 recorded in its
`Segment`) and deflates the others.

A writer given an `Aside` (a large build writing its zips in one process) has each new entry
deflated by that thread while the caller renders the next; the entries go into the file in the
order they were added, each one's bytes what the writer alone writes (`Writer.add`).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .background import Aside

DEFLATED = zipfile.ZIP_DEFLATED
VERSION = 20
"""zipfile's DEFAULT_VERSION: what an entry without zip64 records needs (deflate)."""
ZIP64_VERSION = 45
LIMIT = zipfile.ZIP64_LIMIT
"""Past this many bytes an offset or size needs zip64 records (zipfile's limit)."""
COUNT_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT
UTF8_NAME = 0x800
"""Flag bit: the entry's name is UTF-8 (set, as zipfile does, for a name that is not ASCII)."""
LOCAL = struct.Struct("<4s2B4HL2L2H")
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
END = struct.Struct("<4s4H2LH")
END64 = struct.Struct("<4sQ2H2L4Q")
END64_LOCATOR = struct.Struct("<4sLQL")
CREATE_SYSTEM = zipfile.ZipInfo().create_system
"""3 (Unix) or 0 (Windows), as zipfile records it."""


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry as the central directory lists it, and where its bytes (local header, then
    compressed data) are in the file it was read from (`Archive`) or written to."""

    name: str
    crc: int
    compress_size: int
    file_size: int
    offset: int

    def encoded(self) -> tuple[bytes, int]:
        """The name's bytes and the flag bits (zipfile's `_encodeFilenameFlags`)."""
        try:
            return self.name.encode("ascii"), 0
        except UnicodeEncodeError:
            return self.name.encode("utf-8"), UTF8_NAME

    @property
    def span(self) -> int:
        """Bytes of the local header and the data."""
        return LOCAL.size + len(self.encoded()[0]) + self.compress_size


def _dos(date_time: Sequence[int]) -> tuple[int, int]:
    """(time, date) as a zip entry holds them."""
    year, month, day, hour, minute, second = date_time
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


@dataclass(frozen=True, slots=True)
class Layout:
    """What every entry of a zip shares: its date, Unix mode and deflate level."""

    date_time: tuple[int, int, int, int, int, int]
    mode: int
    level: int = zlib.Z_DEFAULT_COMPRESSION

    def local_header(self, entry: Entry) -> bytes:
        name, flags = entry.encoded()
        time, date = _dos(self.date_time)
        sizes = (entry.crc, entry.compress_size, entry.file_size)
        return (
            LOCAL.pack(b"PK\003\004", VERSION, 0, flags, DEFLATED, time, date, *sizes, len(name), 0)
            + name
        )

    def central_record(self, entry: Entry) -> bytes:
        name, flags = entry.encoded()
        time, date = _dos(self.date_time)
        offset, extra, version = entry.offset, b"", VERSION
        if offset > LIMIT:  # zipfile: a zip64 extra field with the offset
            offset, extra, version = 0xFFFFFFFF, struct.pack("<HHQ", 1, 8, offset), ZIP64_VERSION
        return (
            CENTRAL.pack(
                b"PK\001\002",
                version,
                CREATE_SYSTEM,
                version,
                0,
                flags,
                DEFLATED,
                time,
                date,
                entry.crc,
                entry.compress_size,
                entry.file_size,
                len(name),
                len(extra),
                0,
                0,
                0,
                self.mode << 16,
                offset,
            )
            + name
            + extra
        )


FINAL_BLOCK = b"\x03\x00"
"""An empty final deflate block (what a fresh compressor's `flush()` gives): it ends an entry
written in segments, each ended by a full flush (no final block of their own)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment of an entry written by `Writer.add_segments`: where its compressed bytes are in
    the entry's compressed data (`start`, `end`), their CRC-32 (`packed_crc`), its content's size
    and its share of the entry's CRC (`crc_share`: `crc32(content) ^ crc32(size zero bytes)`,
    with which the CRC of the whole is found without the content: `_crc_after`)."""

    start: int
    end: int
    packed_crc: int
    size: int
    crc_share: int

    def sums(self) -> tuple[int, int, int]:
        """What the segment is wherever it is: `packed_crc`, `size`, `crc_share`."""
        return self.packed_crc, self.size, self.crc_share

    def record(self) -> str:
        """The segment as one line of text (`parse` reads it back)."""
        return " ".join(str(n) for n in (self.start, self.end, *self.sums()))

    @classmethod
    def parse(cls, text: str) -> Segment | None:
        """A segment as `record` wrote it, or None when the text is not one."""
        fields = text.split(" ")
        if len(fields) != 5 or not all(field.isdigit() for field in fields):
            return None
        start, end, packed_crc, size, crc_share = (int(field) for field in fields)
        if start > end or packed_crc > 0xFFFFFFFF or crc_share > 0xFFFFFFFF:
            return None
        return cls(start, end, packed_crc, size, crc_share)


class Copied(NamedTuple):
    """A segment of an earlier zip's entry, for `Writer.add_segments`: its compressed bytes (as
    `Archive.segment` read and checked them) and its record."""

    data: bytes
    segment: Segment


def _crc_after(crc: int, segment: Segment) -> int:
    """The CRC-32 of content whose CRC is `crc` followed by the segment's content: the CRC of
    `size` zero bytes after it, with the segment's share (CRC-32 is affine in its input)."""
    return zlib.crc32(bytes(segment.size), crc) ^ segment.crc_share


class Shared(bytes):
    """An entry's content that many zips of a process hold (the site's assets in every SCORM
    package): `Writer.add` deflates it once per process and level (`deflated`)."""

    __slots__ = ()


_DEFLATED: dict[tuple[int, Shared], tuple[int, bytes]] = {}


def _deflate(data: bytes, level: int) -> tuple[int, bytes]:
    """`data`'s CRC and deflated bytes: what `Writer.add` writes for it (one call, which gives
    the bytes a compressor given the same data in parts gives: tests/test_zips.py), for a
    shared entry (`deflated`) or in the writer's `Aside`."""
    return zlib.crc32(data), zlib.compress(data, level, -15)


def deflated(data: Shared, level: int) -> tuple[int, bytes]:
    """`data`'s CRC and its deflated bytes as `Writer.add` makes them from one chunk; made once
    per process (a process that forks the zips' writers makes them first: `scorm.preload`)."""
    key = (level, data)
    found = _DEFLATED.get(key)
    if found is None:
        found = _DEFLATED[key] = _deflate(data, level)
    return found


ASIDE_BYTES = 8 << 20
"""Bytes of entries a writer with an `Aside` lets wait to be deflated (`Writer.add`): past them,
it writes the first as soon as it is deflated, before taking the next."""


class _Waiting(NamedTuple):
    """An entry given to the writer's `Aside` (`Writer.add`): its name, size, and its CRC and
    deflated bytes once made."""

    name: str
    size: int
    made: Future[tuple[int, bytes]]


class Writer:
    """A zip written entry by entry into a seekable binary file (`add`, `copy`), finished by
    `close` (the central directory); what zipfile writes for the same entries. `aside`: the
    thread that deflates the new entries (see the module's docstring; the caller closes it)."""

    def __init__(self, file: IO[bytes], layout: Layout, aside: Aside | None = None) -> None:
        self._file = file
        self._layout = layout
        self._entries: list[Entry] = []
        self._end = file.tell()
        self.sums: dict[str, int] = {}
        """Each entry's compressed data's CRC-32, as written: what tells a later build that
        they are still those bytes (`Archive.read`) without inflating them."""
        self._aside = aside
        self._waiting: deque[_Waiting] = deque()
        self._waiting_bytes = 0

    def add(self, name: str, chunks: Iterable[bytes]) -> None:
        """A new entry, deflated as its chunks come (one `Shared` chunk: deflated once)."""
        if isinstance(chunks, list) and len(chunks) == 1 and isinstance(chunks[0], Shared):
            self._written()
            self._add_deflated(name, len(chunks[0]), *deflated(chunks[0], self._layout.level))
            return
        if self._aside is not None:
            data = b"".join(chunks)
            made = self._aside.submit(_deflate, data, self._layout.level)
            self._waiting.append(_Waiting(name, len(data), made))
            self._waiting_bytes += len(data)
            self._written(ASIDE_BYTES)
            return
        header_at = self._end
        blank = Entry(name, 0, 0, 0, header_at)
        self._file.write(self._layout.local_header(blank))
        deflate = zlib.compressobj(self._layout.level, zlib.DEFLATED, -15)
        crc = size = packed = packed_crc = 0
        for chunk in chunks:
            size += len(chunk)
            crc = zlib.crc32(chunk, crc)
            data = deflate.compress(chunk)
            packed += len(data)
            packed_crc = zlib.crc32(data, packed_crc)
            self._file.write(data)
        data = deflate.flush()
        self._file.write(data)
        self._finish(Entry(name, crc, packed + len(data), size, header_at), packed_crc, data)

    def _written(self, leave: int = -1) -> None:
        """The entries given to the `Aside` written, in order: those deflated already, and
        (waiting for them) as many more as leave at most `leave` bytes waiting (by default,
        every one)."""
        while self._waiting and (self._waiting_bytes > leave or self._waiting[0].made.done()):
            name, size, made = self._waiting.popleft()
            self._waiting_bytes -= size
            self._add_deflated(name, size, *made.result())

    def add_segments(self, name: str, parts: Iterable[bytes | Copied]) -> list[Segment]:
        """A new entry written in segments, one per part: content deflated by a compressor of
        its own and ended by a full flush, or a segment of an earlier zip's entry (`Copied`)
        put in as it is; then an empty final block. The segments as written, in order."""
        self._written()
        header_at = self._end
        self._file.write(self._layout.local_header(Entry(name, 0, 0, 0, header_at)))
        crc = size = packed = packed_crc = 0
        made: list[Segment] = []
        for part in parts:
            if isinstance(part, Copied):
                data, segment = part.data, part.segment
                crc = _crc_after(crc, segment)
            else:
                deflate = zlib.compressobj(self._layout.level, zlib.DEFLATED, -15)
                data = deflate.compress(part) + deflate.flush(zlib.Z_FULL_FLUSH)
                share = zlib.crc32(part) ^ zlib.crc32(bytes(len(part)))
                segment = Segment(0, len(data), zlib.crc32(data), len(part), share)
                crc = zlib.crc32(part, crc)
            made.append(Segment(packed, packed + len(data), *segment.sums()))
            self._file.write(data)
            packed, size = packed + len(data), size + segment.size
            packed_crc = zlib.crc32(data, packed_crc)
        self._file.write(FINAL_BLOCK)
        entry = Entry(name, crc, packed + len(FINAL_BLOCK), size, header_at)
        self._finish(entry, packed_crc, FINAL_BLOCK)
        return made

    def _finish(self, entry: Entry, packed_crc: int, last: bytes) -> None:
        """The entry whose data were written (`last` the end of them, `packed_crc` the CRC of
        those before): its sums, its local header again with its sizes and CRC."""
        self.sums[entry.name] = zlib.crc32(last, packed_crc)
        if entry.file_size > LIMIT or entry.compress_size > LIMIT:  # zipfile refuses these too
            raise RuntimeError(f"{entry.name}: too large for a zip entry without zip64")
        self._end = self._file.tell()
        self._file.seek(entry.offset)
        self._file.write(self._layout.local_header(entry))
        self._file.seek(self._end)
        self._entries.append(entry)

    def _add_deflated(self, name: str, size: int, crc: int, data: bytes) -> None:
        """A new entry of `size` bytes whose CRC and deflated bytes are known: what `add` writes
        for them."""
        if size > LIMIT or len(data) > LIMIT:
            raise RuntimeError(f"{name}: too large for a zip entry without zip64")
        entry = Entry(name, crc, len(data), size, self._end)
        self._file.write(self._layout.local_header(entry))
        self._file.write(data)
        self.sums[name] = zlib.crc32(data)
        self._end = self._file.tell()
        self._entries.append(entry)

    def copy(self, entry: Entry, raw: bytes, packed_crc: int | None = None) -> None:
        """An entry of an `Archive` (one of its `entries`), its bytes as `Archive.read` gave them:
        local header and compressed data as they are; `packed_crc`: their sum, when the read
        was checked against it (not worked out again)."""
        self._written()
        if len(raw) != entry.span:
            raise ValueError(f"{entry.name}: {len(raw)} bytes, not the entry's {entry.span}")
        self._file.write(raw)
        self.sums[entry.name] = _packed_crc(entry, raw) if packed_crc is None else packed_crc
        self._entries.append(
            Entry(entry.name, entry.crc, entry.compress_size, entry.file_size, self._end)
        )
        self._end += entry.span

    def close(self) -> None:
        """The central directory and the end records (zip64 ones where zipfile writes them)."""
        self._written()
        start = self._end
        self._file.write(b"".join(self._layout.central_record(e) for e in self._entries))
        end = self._file.tell()
        count, size, offset = len(self._entries), end - start, start
        if count > COUNT_LIMIT or offset > LIMIT or size > LIMIT:
            self._file.write(
                END64.pack(b"PK\006\006", 44, 45, 45, 0, 0, count, count, size, offset)
            )
            self._file.write(END64_LOCATOR.pack(b"PK\006\007", 0, end, 1))
            count, size, offset = min(count, 0xFFFF), min(size, 0xFFFFFFFF), min(offset, 0xFFFFFFFF)
        self._file.write(END.pack(b"PK\005\006", 0, 0, count, count, size, offset, 0))
        self._file.flush()


class Archive:
    """An earlier zip, open for `Writer.copy`: its entries that `layout` would write as they
    are (same date, mode, method, no extra field), by name."""

    def __init__(self, file: IO[bytes], layout: Layout, entries: dict[str, Entry]) -> None:
        self._file = file
        self._layout = layout
        self.entries = entries

    @classmethod
    def open(cls, path: Path, layout: Layout) -> Archive | None:
        """The zip at `path`, or None when it cannot be read as one."""
        try:
            file = path.open("rb")
        except OSError:
            return None
        try:
            with zipfile.ZipFile(file) as archive:
                infos = archive.infolist()
        except (OSError, zipfile.BadZipFile, struct.error, ValueError, NotImplementedError):
            file.close()  # (NotImplementedError: zipfile's "zip file version" of a damaged one)
            return None
        found = (_entry(info, layout) for info in infos)
        return cls(file, layout, {entry.name: entry for entry in found if entry is not None})

    def read(self, entry: Entry, packed_crc: int | None = None) -> bytes:
        """The entry's local header and compressed data, once found to be what `Writer` wrote:
        the header it writes for the entry, and the compressed data whose CRC-32 it recorded
        (`packed_crc`, from `Writer.sums`), or, not given, data that inflate to the content
        the central directory lists (`inflated`: 60 times the work); else ValueError (or
        zlib.error). The zip's size and time on disk tell nothing of a byte changed in place
        since (bit rot, a tool that restores file times), and a copied entry is never checked
        again."""
        raw = self._raw(entry)
        if not raw.startswith(self._layout.local_header(entry)):
            raise ValueError(f"{entry.name}: its local header is not the one written for it")
        if packed_crc is None:
            _inflate(entry, raw)
        elif _packed_crc(entry, raw) != packed_crc:
            raise ValueError(f"{entry.name}: not the compressed data written")
        return raw

    def segment(self, entry: Entry, segment: Segment) -> bytes:
        """The compressed bytes of one segment of the entry (`Writer.add_segments`), once found
        to be those recorded (`segment.packed_crc`); else ValueError (or OSError)."""
        if segment.end > entry.compress_size:
            raise ValueError(f"{entry.name}: a segment past the entry's data")
        self._file.seek(entry.span - entry.compress_size + entry.offset + segment.start)
        data = self._file.read(segment.end - segment.start)
        if len(data) != segment.end - segment.start or zlib.crc32(data) != segment.packed_crc:
            raise ValueError(f"{entry.name}: not the compressed segment written")
        return data

    def inflated(self, entry: Entry) -> bytes:
        """The entry's content; ValueError (or zlib.error) when it is not what the central
        directory says (size, CRC)."""
        return _inflate(entry, self._raw(entry))

    def _raw(self, entry: Entry) -> bytes:
        self._file.seek(entry.offset)
        data = self._file.read(entry.span)
        if len(data) != entry.span:
            raise OSError(f"{entry.name}: the earlier zip ends early")
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _entry(info: zipfile.ZipInfo, layout: Layout) -> Entry | None:
    """The entry as `Writer` would have written it, or None when it was written otherwise."""
    entry = Entry(info.filename, info.CRC, info.compress_size, info.file_size, info.header_offset)
    written_so = (
        info.compress_type == DEFLATED
        and info.date_time == layout.date_time
        and info.external_attr == layout.mode << 16
        and info.flag_bits == entry.encoded()[1]
        and not info.extra
        and not info.comment
        and info.create_system == CREATE_SYSTEM
        and info.internal_attr == 0
        and max(info.compress_size, info.file_size) <= LIMIT
    )
    return entry if written_so else None


def _packed_crc(entry: Entry, raw: bytes) -> int:
    """The CRC-32 of the compressed data of an entry read whole (`raw`, its header first)."""
    return zlib.crc32(memoryview(raw)[entry.span - entry.compress_size :])


def _inflate(entry: Entry, raw: bytes) -> bytes:
    """The content of an entry read whole (`raw`: local header and compressed data); ValueError
    (or zlib.error) when it is not what the central directory says (size, CRC)."""
    data = zlib.decompress(raw[entry.span - entry.compress_size :], -15)
    if len(data) != entry.file_size or zlib.crc32(data) != entry.crc:
        raise ValueError(f"{entry.name}: not the content the zip lists")
    return data
