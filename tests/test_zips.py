"""zips.Writer writes the bytes zipfile writes for the same entries, and an entry copied from an
earlier zip (zips.Archive) gives the zip that writing it again gives: the SCORM packages of a
rebuild are byte for byte a cold build's."""

from __future__ import annotations

import io
import random
import sys
import threading
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import zips
from course.background import SWITCH_INTERVAL, Aside, Background

DATE = (1980, 1, 1, 0, 0, 0)
LAYOUT = zips.Layout(DATE, 0o644)

Entries = list[tuple[str, list[bytes]]]

names = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\0"), min_size=1, max_size=12
)
chunks = st.lists(st.binary(max_size=300) | st.just(b"abc" * 200), max_size=4)
entries = st.lists(st.tuples(names, chunks), min_size=1, max_size=6, unique_by=lambda e: e[0])


def with_zipfile(items: Entries, date: tuple[int, ...] = DATE) -> bytes:
    """What zipfile writes: the SCORM packages' entries as scorm.py wrote them before zips.py."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, parts in items:
            info = zipfile.ZipInfo(name, date_time=date)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as entry:
                for part in parts:
                    entry.write(part)
    return out.getvalue()


def with_writer(items: Entries) -> bytes:
    out = io.BytesIO()
    writer = zips.Writer(out, LAYOUT)
    for name, parts in items:
        writer.add(name, parts)
    writer.close()
    return out.getvalue()


def copying(earlier: Path, items: Entries, copied: Sequence[str]) -> bytes:
    """`items` written with the entries `copied` taken from the zip at `earlier`."""
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    out = io.BytesIO()
    writer = zips.Writer(out, LAYOUT)
    with archive:
        for name, parts in items:
            if name in copied:
                entry = archive.entries[name]
                writer.copy(entry, archive.read(entry))
            else:
                writer.add(name, parts)
    writer.close()
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(entries)
def test_the_writer_writes_what_zipfile_writes(items: Entries) -> None:
    assert with_writer(items) == with_zipfile(items)


@settings(max_examples=40, deadline=None)
@given(entries, entries, st.data())
def test_entries_copied_from_an_earlier_zip_give_the_zip_written_anew(
    tmp_path_factory: pytest.TempPathFactory, old: Entries, new: Entries, data: st.DataObject
) -> None:
    """Any entries of the new zip that the old one has with the same name and content, copied
    compressed, in any position: the same bytes as writing every entry."""
    earlier = tmp_path_factory.mktemp("zips") / "earlier.zip"
    items = new + [entry for entry in old if entry[0] not in {name for name, _ in new}]
    items = data.draw(st.permutations(items))
    earlier.write_bytes(with_writer(old))
    same = [name for name, parts in items if (name, parts) in old]
    copied = data.draw(st.lists(st.sampled_from(same), unique=True) if same else st.just([]))
    assert copying(earlier, items, copied) == with_zipfile(items)


def test_past_the_zip64_limits_the_writer_writes_what_zipfile_writes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Offsets past 4 GB and more than 65,535 entries need zip64 records: with both limits
    lowered, the writer's records are zipfile's, and a copied entry keeps its place."""
    for module, name, value in (
        (zips, "LIMIT", 300),
        (zipfile, "ZIP64_LIMIT", 300),
        (zips, "COUNT_LIMIT", 3),
        (zipfile, "ZIP_FILECOUNT_LIMIT", 3),
    ):
        monkeypatch.setattr(module, name, value)
    items: Entries = [(f"f{n}.txt", [bytes(range(n, n + 120))]) for n in range(6)]
    made = with_writer(items)
    assert made == with_zipfile(items)
    assert b"PK\x06\x06" in made  # the zip64 end record
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(made)
    # entries whose offset needed a zip64 field are not offered: written again instead
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        assert "f0.txt" in archive.entries
        assert "f5.txt" not in archive.entries


def test_an_entry_written_otherwise_is_not_offered(tmp_path: Path) -> None:
    """Another date, another mode: copying the entry would give other bytes than writing it."""
    items: Entries = [("a.txt", [b"a" * 50]), ("b.txt", [b"b" * 50])]
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(with_zipfile(items, (2020, 5, 17, 10, 0, 0)))
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        assert archive.entries == {}
    earlier.write_bytes(with_writer(items))
    archive = zips.Archive.open(earlier, zips.Layout(DATE, 0o600))
    assert archive is not None
    with archive:
        assert archive.entries == {}


def test_a_damaged_header_or_file_is_not_used(tmp_path: Path) -> None:
    items: Entries = [("a.txt", [b"a" * 50]), ("b.txt", [b"b" * 50])]
    made = bytearray(with_writer(items))
    earlier = tmp_path / "earlier.zip"
    made[14] ^= 0xFF  # a.txt's local header: its CRC no longer the central directory's
    earlier.write_bytes(made)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        with pytest.raises(ValueError, match="local header"):
            archive.read(archive.entries["a.txt"])
        assert archive.read(archive.entries["b.txt"]).endswith(zlib.compress(b"b" * 50)[2:-4])
    earlier.write_bytes(b"not a zip")
    assert zips.Archive.open(earlier, LAYOUT) is None
    assert zips.Archive.open(tmp_path / "missing.zip", LAYOUT) is None


def test_a_copy_of_the_wrong_length_is_refused() -> None:
    writer = zips.Writer(io.BytesIO(), LAYOUT)
    entry = zips.Entry("a.txt", 0, 10, 10, 0)
    with pytest.raises(ValueError, match="not the entry's"):
        writer.copy(entry, b"short")


def test_an_entry_read_back_is_its_content_or_an_error(tmp_path: Path) -> None:
    """`inflated` gives an entry's content, `read` its bytes to copy; a changed byte of its data
    (here in a stored block: it still inflates) is refused by both, not returned."""
    content = random.Random(1).randbytes(500)  # incompressible: deflate stores it as it is
    earlier = tmp_path / "earlier.zip"
    made = bytearray(with_writer([("a.bin", [content])]))
    earlier.write_bytes(made)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        assert archive.inflated(archive.entries["a.bin"]) == content
    at = made.index(content[200:220])
    made[at] ^= 0xFF
    earlier.write_bytes(made)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        with pytest.raises(ValueError, match="not the content"):
            archive.inflated(archive.entries["a.bin"])
        with pytest.raises(ValueError, match="not the content"):
            archive.read(archive.entries["a.bin"])


def test_an_earlier_zip_zipfile_cannot_read_is_not_used(tmp_path: Path) -> None:
    """A byte of the central directory damaged (same size: the record still takes the zip for
    the last build's) so that zipfile refuses the zip as of a later version: no entry is taken
    from it, and the build is not stopped by a traceback."""
    made = bytearray(with_writer([("a.txt", [b"a" * 50])]))
    central = made.index(b"PK\001\002")
    made[central + 6] = 200  # the version needed to extract: 20.0
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(made)
    assert zips.Archive.open(earlier, LAYOUT) is None


@settings(max_examples=40, deadline=None)
@given(entries)
def test_a_shared_entry_is_written_as_zipfile_writes_it_and_deflated_once(
    items: Entries,
) -> None:
    """An entry whose content many zips hold (`Shared`: the site's assets) is deflated once per
    process; every zip holds the bytes zipfile writes for it."""
    shared: Entries = [(name, [zips.Shared(b"".join(parts))]) for name, parts in items]
    plain = [(name, [b"".join(parts)]) for name, parts in items]
    expected = with_zipfile(plain)
    zips._DEFLATED.clear()
    assert with_writer(shared) == expected
    made = dict(zips._DEFLATED)
    assert len(made) == len({parts[0] for _, parts in shared})
    with pytest.MonkeyPatch.context() as patch:  # nothing deflated again, either way it does
        patch.setattr(zlib, "compressobj", None)
        patch.setattr(zips, "_deflate", None)
        again = with_writer(shared)
    assert again == expected
    assert made == zips._DEFLATED
    sums = []
    for parts in (shared, plain):
        writer = zips.Writer(io.BytesIO(), LAYOUT)
        for name, chunks in parts:
            writer.add(name, chunks)
        sums.append(writer.sums)
    assert sums[0] == sums[1]  # a later build checks a shared entry it copies as any other


def test_the_assets_are_deflated_before_the_packages_are_written() -> None:
    """The command line deflates the assets while lessons are parsed (`scorm.preload`): the
    packages' writers, in this process or a forked child, find them deflated."""
    from course import scorm, site

    zips._DEFLATED.clear()
    scorm.preload()
    assets = site.static_files().values()
    assert all(isinstance(data, zips.Shared) for data in assets)
    assert {(scorm.LAYOUT.level, data) for data in assets} <= zips._DEFLATED.keys()


def test_the_writer_records_each_entrys_compressed_data_and_a_read_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Writer.sums`: the CRC-32 of each entry's compressed data as written, added or copied; a
    read given it checks the data against it without inflating them, and refuses a changed
    byte (here in a stored block, which would still inflate)."""
    content = random.Random(2).randbytes(500)  # incompressible: deflate stores it as it is
    out = io.BytesIO()
    writer = zips.Writer(out, LAYOUT)
    writer.add("a.bin", [content[:200], content[200:]])
    writer.add("b.txt", [b"b" * 50])
    writer.close()
    made = bytearray(out.getvalue())
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(made)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        entries = archive.entries
        packed = {n: bytes(made[e.span - e.compress_size + e.offset :][: e.compress_size])
                  for n, e in entries.items()}  # fmt: skip
        assert writer.sums == {name: zlib.crc32(data) for name, data in packed.items()}
        again = zips.Writer(io.BytesIO(), LAYOUT)
        with monkeypatch.context() as patch:
            patch.setattr(zips, "_inflate", None)  # a call would fail
            for name, entry in entries.items():
                again.copy(entry, archive.read(entry, writer.sums[name]))
        assert again.sums == writer.sums
    at = made.index(content[200:220])
    made[at] ^= 0xFF
    earlier.write_bytes(made)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive, pytest.raises(ValueError, match="not the compressed data written"):
        archive.read(archive.entries["a.bin"], writer.sums["a.bin"])


segment_parts = st.lists(st.binary(max_size=400) | st.sampled_from([b"", b"abc" * 300]), max_size=6)


def segmented(
    parts: Sequence[bytes | zips.Copied], name: str = "s.js"
) -> tuple[bytes, list[zips.Segment]]:
    """A zip of one plain entry and one written in segments from `parts`; the segments."""
    out = io.BytesIO()
    writer = zips.Writer(out, LAYOUT)
    writer.add("a.txt", [b"plain " * 50])
    made = writer.add_segments(name, parts)
    writer.close()
    return out.getvalue(), made


@settings(max_examples=60, deadline=None)
@given(segment_parts)
def test_an_entry_written_in_segments_is_its_content_and_its_crc(parts: list[bytes]) -> None:
    """Each part deflated on its own, ended by a full flush, then an empty final block: a zip
    entry any reader inflates to the parts' content, its CRC (checked by zipfile) theirs."""
    data, made = segmented(parts)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.read("s.js") == b"".join(parts)
        info = archive.getinfo("s.js")
        assert zlib.crc32(b"".join(parts)) == info.CRC
    assert [segment.size for segment in made] == [len(part) for part in parts]
    assert [s.start for s in made[1:]] == [s.end for s in made[:-1]]


@settings(max_examples=60, deadline=None)
@given(segment_parts, segment_parts, st.data())
def test_segments_copied_from_an_earlier_zip_give_the_zip_written_anew(
    tmp_path_factory: pytest.TempPathFactory,
    old: list[bytes],
    new: list[bytes],
    data: st.DataObject,
) -> None:
    """A part of the new entry that the old one has, taken compressed from there (its record
    as the old zip's writer returned it), in any position: the same bytes as deflating every
    part, the entry's CRC found without the part's content."""
    earlier = tmp_path_factory.mktemp("zips") / "earlier.zip"
    written, made = segmented(old)
    earlier.write_bytes(written)
    new = data.draw(st.permutations(new + old))
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        entry = archive.entries["s.js"]
        known = {part: segment for part, segment in zip(old, made, strict=True)}
        copy = data.draw(st.lists(st.booleans(), min_size=len(new), max_size=len(new)))
        parts: list[bytes | zips.Copied] = [
            zips.Copied(archive.segment(entry, known[part]), known[part])
            if taken and part in known
            else part
            for part, taken in zip(new, copy, strict=True)
        ]
        assert segmented(parts)[0] == segmented(new)[0]


def test_a_segment_not_as_recorded_is_not_read(tmp_path: Path) -> None:
    """A segment is read only when its bytes are within the entry and have the recorded CRC:
    a byte changed in place (here in a stored block, which would still inflate), a record
    past the entry's data or with another CRC is refused."""
    content = random.Random(3).randbytes(300)  # incompressible: stored as it is
    written, made = segmented([b"head", content, b"tail" * 20])
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(written)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive:
        entry = archive.entries["s.js"]
        assert zlib.decompressobj(-15).decompress(archive.segment(entry, made[1])) == content
        past = zips.Segment(made[2].start, entry.compress_size + 1, *made[2].sums())
        other = zips.Segment(made[2].start, made[2].end, made[2].packed_crc ^ 1, 80, 0)
        for wrong in (past, other):
            with pytest.raises(ValueError, match="segment"):
                archive.segment(entry, wrong)
    damaged = bytearray(written)
    damaged[damaged.index(content[100:120])] ^= 0xFF
    earlier.write_bytes(damaged)
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive, pytest.raises(ValueError, match="not the compressed segment written"):
        archive.segment(archive.entries["s.js"], made[1])


def test_a_segment_record_reads_back_and_nothing_else_reads_as_one() -> None:
    segment = zips.Segment(10, 25, 0xFFFFFFFF, 300, 123)
    assert zips.Segment.parse(segment.record()) == segment
    for text in ("", "1 2 3 4", "1 2 3 4 5 6", "2 1 3 4 5", "1 2 -3 4 5", "1 2 4294967296 4 5"):
        assert zips.Segment.parse(text) is None, text


# -- a writer with an Aside (a large build's zips: their entries deflated by a thread) -------------

Op = tuple[str, str, list[bytes]]
"""("add" | "shared" | "segments" | "copy", entry name, its chunks or parts)."""

ops = st.lists(
    st.tuples(st.sampled_from(["add", "shared", "segments", "copy"]), names, chunks),
    min_size=1,
    max_size=12,
    unique_by=lambda op: op[1],
)


def aside_threads() -> list[threading.Thread]:
    """The threads of an `Aside` still alive (other tests' libraries may run threads of theirs)."""
    return [t for t in threading.enumerate() if t.name.startswith("course-aside")]


def with_ops(items: Sequence[Op], earlier: zips.Archive, aside: Aside | None) -> bytes:
    """`items` written in order: new entries, shared ones, entries in segments, and entries
    copied from `earlier` (which holds every "copy" entry as `add` wrote it)."""
    out = io.BytesIO()
    writer = zips.Writer(out, LAYOUT, aside)
    for kind, name, parts in items:
        if kind == "add":
            writer.add(name, parts)
        elif kind == "shared":
            writer.add(name, [zips.Shared(b"".join(parts))])
        elif kind == "segments":
            writer.add_segments(name, parts)
        else:
            entry = earlier.entries[name]
            writer.copy(entry, earlier.read(entry))
    writer.close()
    assert writer.sums.keys() == {name for _, name, _ in items}
    return out.getvalue()


@pytest.mark.parametrize("waiting", [zips.ASIDE_BYTES, 0, 300])
@settings(max_examples=40, deadline=None)
@given(items=ops)
def test_a_writer_whose_entries_a_thread_deflates_writes_the_same_zip(
    tmp_path_factory: pytest.TempPathFactory, waiting: int, items: list[Op]
) -> None:
    """Whatever the mix of entries, and however many bytes wait to be deflated (`ASIDE_BYTES`):
    the bytes and sums of the writer alone; and no thread is left once the aside is closed."""
    earlier = tmp_path_factory.mktemp("aside") / "earlier.zip"
    earlier.write_bytes(
        with_writer([(name, parts) for kind, name, parts in items if kind == "copy"])
    )
    archive = zips.Archive.open(earlier, LAYOUT)
    assert archive is not None
    with archive, pytest.MonkeyPatch.context() as patch:
        patch.setattr(zips, "ASIDE_BYTES", waiting)
        alone = with_ops(items, archive, None)
        aside = Aside()
        try:
            assert with_ops(items, archive, aside) == alone
        finally:
            aside.close()
    assert not aside_threads()


def test_a_deflate_that_fails_in_the_aside_fails_the_zip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its error is raised in the writer's thread (by the next write that waits for it, at the
    latest `close`); the aside closed, no thread is left."""
    real = zips._deflate

    def deflate(data: bytes, level: int) -> tuple[int, bytes]:
        if data == b"bad":
            raise zlib.error("no memory")
        return real(data, level)

    monkeypatch.setattr(zips, "_deflate", deflate)
    aside = Aside()
    writer = zips.Writer(io.BytesIO(), LAYOUT, aside)
    try:
        writer.add("a", [b"good"])
        writer.add("b", [b"bad"])
        writer.add("c", [b"good"])
        with pytest.raises(zlib.error, match="no memory"):
            writer.close()
    finally:
        aside.close()
    assert not aside_threads()


def test_the_switch_interval_is_lowered_while_a_thread_of_the_build_runs() -> None:
    """Lowered while an aside or a background thread runs (`background.SWITCH_INTERVAL`), the
    interpreter's own again once the last of them is done, in any order."""
    before = sys.getswitchinterval()
    aside, other = Aside(), Background()
    other.enabled = True
    other.run(lambda: None)
    other.run(lambda: None)  # (two threads, one lowering)
    assert sys.getswitchinterval() == min(SWITCH_INTERVAL, before)
    aside.close()
    assert sys.getswitchinterval() == min(SWITCH_INTERVAL, before)
    other.join()
    assert sys.getswitchinterval() == before
    aside.close()  # (twice: nothing more)
    assert sys.getswitchinterval() == before
    with pytest.raises(RuntimeError, match="closed"):
        aside.submit(print)


def test_an_aside_refused_its_thread_runs_each_call_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Where the system refuses the aside its thread (`Thread.start` raises, as it does when no
    more threads can be had), the build goes on: each call runs in the build's thread when
    given, its future done, its exception held as a thread's would be; the writer makes the
    same zip; the switch interval is left as it was."""
    before = sys.getswitchinterval()

    def refused(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patch:
        patch.setattr(threading.Thread, "start", refused)
        aside = Aside()
    assert sys.getswitchinterval() == before
    here = threading.current_thread().name
    made = aside.submit(lambda text: (threading.current_thread().name, text), "x")
    assert made.done()
    assert made.result() == (here, "x")
    failed = aside.submit(int, "not a number")
    assert failed.done()
    with pytest.raises(ValueError, match="not a number"):
        failed.result()
    items: list[Op] = [("add", "a", [b"one", b"two"]), ("copy", "b", [b"three" * 50])]
    (tmp_path / "earlier.zip").write_bytes(with_writer([("b", [b"three" * 50])]))
    earlier = zips.Archive.open(tmp_path / "earlier.zip", LAYOUT)
    assert earlier is not None
    with earlier:
        assert with_ops(items, earlier, aside) == with_ops(items, earlier, None)
    aside.close()
    assert sys.getswitchinterval() == before
    assert not aside_threads()
    with pytest.raises(RuntimeError, match="closed"):
        aside.submit(print)
