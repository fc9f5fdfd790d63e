"""The site strings of a loaded library wait on disk (spill.py) until `Lesson.site_text()` asks.

What a lesson loads must be what its parse rendered, whichever way the parse came (this process,
a worker, the cache); a spill file that cannot be written costs memory only; one that reads back
wrong stops the build with the lesson's name, never gives wrong output; and a cache entry without
the site's strings (or with damaged ones) is parsed again.
"""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path

import pytest

from course import cache, lessons, pipeline
from course.lessons import Report, load_lesson, load_library
from course.model import Held, Library
from course.spill import Spill, Spilled, SpillError, Stored


@pytest.fixture
def course(bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    return bundled


def stops_writing_nothing(library: Library, site: Path) -> None:
    """The build stops on a lesson whose site strings cannot be had, and writes no site."""
    with pytest.raises(SpillError):
        pipeline.build(library, None, site, pipeline.BuildOptions(draft=True))
    assert not site.exists(), "nothing written"


def rendered_directly(library: Library) -> None:
    """Every lesson's spilled site strings (or those its cache entry holds) equal a fresh
    parse's, held in memory."""
    for course in library.courses:
        for lesson in course.lessons:
            assert isinstance(lesson.rendered.site, Spilled | Stored)
            fresh = load_lesson(lesson.path, lesson.lang, library.root, Report())
            assert fresh is not None
            assert isinstance(fresh.rendered.site, Held)
            assert lesson.site_text() == fresh.site_text()
            assert len(lesson.site_text().cards) == len(lesson.cards)


@pytest.mark.parametrize("pool", ["this-process", "forked", "workers"])
def test_site_text_loads_what_the_parse_rendered(
    course: Path, monkeypatch: pytest.MonkeyPatch, pool: str
) -> None:
    monkeypatch.setattr(lessons, "POOL_THRESHOLD", 0 if pool == "workers" else 10**9)
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 2 if pool == "forked" else 10**9)
    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    rendered_directly(load_library(course))  # parsed
    rendered_directly(load_library(course))  # from the cache


@pytest.mark.parametrize("keep", [True, False], ids=["small: kept once read", "read each time"])
def test_lessons_load_in_any_order_and_again(
    course: Path, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    if not keep:
        monkeypatch.setattr(lessons, "KEEP_READ", 0)
    library = load_library(course)
    ordered = [lesson for c in library.courses for lesson in c.lessons]
    first = {lesson.id + lesson.lang: lesson.site_text() for lesson in ordered}
    for lesson in reversed(ordered):
        assert lesson.site_text() == first[lesson.id + lesson.lang]
        assert lesson.site_text().body  # the same again (the last one read is kept)


@pytest.mark.parametrize("missing", ["pread", "pwrite", "both"])
def test_without_positional_io_the_spill_seeks(
    course: Path, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    """Where `os.pread`/`os.pwrite` do not exist (Windows), the spill seeks, reads and writes:
    every lesson, read in any order, still loads what its parse rendered."""
    for name in ("pread", "pwrite") if missing == "both" else (missing,):
        monkeypatch.delattr(os, name)
    monkeypatch.setattr(lessons, "KEEP_READ", 0)  # every read goes to the file
    library = load_library(course)
    rendered_directly(library)
    ordered = [lesson for c in library.courses for lesson in c.lessons]
    first = {lesson.path: lesson.site_text() for lesson in ordered}
    for lesson in reversed(ordered):
        assert lesson.site_text() == first[lesson.path]
    spill = Spill()  # a write after a read (the read moved the file's position)
    texts = list(first.values())[:3]
    one, two = (spill.add(cache.dumps(t), Path(f"{i}.md")) for i, t in enumerate(texts[:2]))
    assert one.load() == texts[0]
    three = spill.add(cache.dumps(texts[2]), Path("2.md"))
    assert [two.load(), three.load(), one.load()] == [texts[1], texts[2], texts[0]]


def test_a_lesson_sent_to_another_process_carries_its_strings(course: Path) -> None:
    lesson = load_library(course).courses[0].lessons[0]
    copy = pickle.loads(pickle.dumps(lesson))
    assert isinstance(copy.rendered.site, Held)
    assert copy.site_text() == lesson.site_text()


def test_a_spill_that_cannot_be_written_keeps_the_strings_in_memory(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = load_library(course)
    outputs = tmp_path / "expected"
    pipeline.build(expected, outputs / "decks", outputs / "site", pipeline.BuildOptions())

    def full(fd: int, data: object, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    monkeypatch.setenv(cache.ENV, "")  # parsed: a cached lesson's strings stay in its entry
    library = load_library(course)
    held = [lesson.rendered.site for c in library.courses for lesson in c.lessons]
    assert all(isinstance(site, Held) for site in held)
    got = tmp_path / "got"
    pipeline.build(library, got / "decks", got / "site", pipeline.BuildOptions())
    for name in ("decks", "site"):
        files = sorted(p for p in (outputs / name).rglob("*") if p.is_file())
        assert files
        for path in files:
            assert (got / name / path.relative_to(outputs / name)).read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[:-1],  # short read
        lambda data: data[:10] + bytes([data[10] ^ 1]) + data[11:],  # a flipped bit
        lambda data: data.replace(b"<p>", b"<q>", 1),  # still a pickle: other strings
    ],
    ids=["short", "flipped", "changed"],
)
def test_a_spill_that_reads_back_wrong_is_an_error_naming_the_lesson(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    library = load_library(course)
    lesson = library.courses[0].lessons[3]
    ref = lesson.rendered.site
    assert isinstance(ref, Spilled)
    real = os.pread

    def damaged(fd: int, size: int, offset: int) -> bytes:
        data = real(fd, size, offset)
        return damage(data) if offset == ref.offset else data  # type: ignore[operator]

    monkeypatch.setattr(os, "pread", damaged)
    library.courses[0].lessons[0].site_text()  # another lesson reads back right
    with pytest.raises(SpillError, match=f"{lesson.path}: cannot read"):
        lesson.site_text()
    stops_writing_nothing(library, tmp_path / "site")


def test_an_entry_without_the_site_strings_is_parsed_again(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry of the full cache whose site part is missing (well formed, checksum right) does
    not serve a full load; it still serves a decks-only one."""
    expected = [lesson.site_text() for c in load_library(course).courses for lesson in c.lessons]
    for entry in (tmp_path / "cache" / "lessons").glob("*.pickle"):
        data = entry.read_bytes()
        head = data.index(b"\n", len(cache.FORMAT)) + 1
        first, _ = lessons.unpack(data[head + cache.CRC :])
        value = lessons.pack(bytes(first), b"")
        crc = cache.checksum(value).to_bytes(cache.CRC, "little")
        entry.write_bytes(data[:head] + crc + value)
    parsed = _counting_parses(monkeypatch)
    decks = load_library(course, site=False)
    assert parsed == []
    assert decks.courses
    library = load_library(course)
    assert len(parsed) == 15
    assert [lesson.site_text() for c in library.courses for lesson in c.lessons] == expected


@pytest.mark.parametrize("pool", ["this-process", "forked", "workers"])
def test_the_site_strings_hash_comes_with_the_parse_and_is_right(
    course: Path, monkeypatch: pytest.MonkeyPatch, pool: str
) -> None:
    """A lesson parsed elsewhere (a worker, a forked child, an earlier build: the cache) comes
    with its site strings' sha256 and checksum: asking the hash reads nothing back, and it is
    the hash of the strings a fresh parse renders (the site's writers take a lesson's files
    over on it)."""
    monkeypatch.setattr(lessons, "POOL_THRESHOLD", 0 if pool == "workers" else 10**9)
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 2 if pool == "forked" else 10**9)
    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    read_back: list[int] = []
    original = Spill._bytes

    def spy(self: Spill, ref: Spilled) -> bytes:
        read_back.append(ref.offset)
        return original(self, ref)

    monkeypatch.setattr(Spill, "_bytes", spy)
    for loaded in ("parsed", "cached"):
        library = load_library(course)
        for lesson in (lesson for c in library.courses for lesson in c.lessons):
            fresh = load_lesson(lesson.path, lesson.lang, library.root, Report())
            assert fresh is not None
            assert lesson.site_digest() == Held(fresh.site_text()).digest(), loaded
        if loaded == "cached" or pool != "this-process":
            assert read_back == [], loaded
        read_back.clear()


def test_a_cached_lessons_site_strings_are_not_read_when_it_loads(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They stay in the entry, unread and unchecked (the records beside them are checked
    against their own checksum), until the site asks for them: a one-edit rebuild asks for
    few. Read back, they are checked then."""
    load_library(course)
    sizes: list[int] = []
    original = cache.checksum

    def spy(data: bytes | memoryview) -> int:
        sizes.append(len(data))
        return original(data)

    monkeypatch.setattr(cache, "checksum", spy)
    library = load_library(course)
    stored = [lesson.rendered.site for c in library.courses for lesson in c.lessons]
    assert all(isinstance(ref, Stored) for ref in stored)
    site_sizes = {ref.size for ref in stored if isinstance(ref, Stored)}
    assert not site_sizes & set(sizes)
    course_files = len(list(course.rglob("course.yml")))  # (their kept parses are checked)
    assert len(sizes) == len(stored) + course_files  # each lesson's records
    sizes.clear()
    rendered_directly(library)  # and they read back right
    assert site_sizes <= set(sizes)


def _damage_site_parts(cache_folder: Path) -> list[Path]:
    """Zero the last bytes of each lesson entry: inside its site strings, the records intact."""
    entries = sorted((cache_folder / "lessons").glob("*.pickle"))
    for entry in entries:
        data = entry.read_bytes()
        entry.write_bytes(data[:-16] + bytes(16))
    return entries


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    parsed: list[Path] = []
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 10**9)  # every parse in this process
    original = lessons.load_lesson

    def counting(path: Path, *args: object, **options: object) -> object:
        parsed.append(path)
        return original(path, *args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(lessons, "load_lesson", counting)
    return parsed


def test_damaged_site_strings_in_an_entry_are_a_miss_when_asked_for(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lesson loads from its entry (its records are intact); asked for its site strings, it
    is parsed again (the right strings, never an error) and its entry rewritten: the next
    build reads them from there."""
    expected = [lesson.site_text() for c in load_library(course).courses for lesson in c.lessons]
    entries = _damage_site_parts(tmp_path / "cache")
    parsed = _counting_parses(monkeypatch)
    library = load_library(course)
    assert parsed == []
    first = library.courses[0].lessons[0]
    assert first.site_text() == expected[0]
    assert [p.name for p in parsed] == [first.path.name]
    assert [lesson.site_text() for c in library.courses for lesson in c.lessons] == expected
    assert len(parsed) == len(entries)
    parsed.clear()
    again = load_library(course)
    assert [lesson.site_text() for c in again.courses for lesson in c.lessons] == expected
    assert parsed == []


def test_damaged_site_strings_of_a_lesson_changed_since_stop_the_build(
    course: Path, tmp_path: Path
) -> None:
    """The entry cannot give them and the file no longer holds what the build loaded: the build
    stops, naming the lesson, and writes nothing."""
    load_library(course)
    _damage_site_parts(tmp_path / "cache")
    library = load_library(course)
    lesson = library.courses[0].lessons[0]
    path = lesson.path  # (from the working directory: the course's folder)
    path.write_text(path.read_text("utf-8") + "\nMore.\n", "utf-8")
    with pytest.raises(SpillError, match="changed during the build"):
        lesson.site_text()
    stops_writing_nothing(library, tmp_path / "site")


def test_a_changed_character_in_an_entrys_site_strings_is_caught_when_read(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damage that still unpickles (one character of the page's text) is caught by the
    strings' checksum when they are read back: the lesson is parsed again, never shown wrong."""
    load_library(course)
    library = load_library(course)  # from the cache
    lesson = library.courses[0].lessons[0]
    expected = lesson.site_text()
    ref = lesson.rendered.site
    assert isinstance(ref, Stored)
    data = ref.entry.read_bytes()
    at = data.index(b"<p>", ref.offset)
    ref.entry.write_bytes(data[:at] + b"<q>" + data[at + 3 :])
    parsed = _counting_parses(monkeypatch)
    again = load_library(course).courses[0].lessons[0]
    assert again.site_text() == expected
    assert [p.name for p in parsed] == [lesson.path.name]


def test_a_small_course_reads_each_lesson_back_once(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its writers read every lesson several times (the site's page and data, the package's):
    up to KEEP_READ lessons, each lesson is read back once, from the spill file (parsed) or from
    its cache entry (cached); above, a lesson read last is kept and no more (a large build holds
    one lesson's strings at a time)."""
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 10**9)  # every read in this process
    read_back: list[object] = []
    from_spill, from_entry = Spill._bytes, Stored._read

    def spilled(self: Spill, ref: Spilled) -> bytes:
        read_back.append(ref.offset)
        return from_spill(self, ref)

    def stored(self: Stored) -> object:
        read_back.append((self.entry, self.offset))
        return from_entry(self)

    monkeypatch.setattr(Spill, "_bytes", spilled)
    monkeypatch.setattr(Stored, "_read", stored)

    def build(kind: type) -> int:
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"  # every output written
        read_back.clear()
        library = load_library(course)
        assert all(
            isinstance(lesson.rendered.site, kind) for c in library.courses for lesson in c.lessons
        )
        options = pipeline.BuildOptions(draft=True)
        pipeline.build(library, None, out / "site", options, scorm_dir=out / "scorm")
        return sum(len(c.lessons) for c in library.courses)

    count = build(Spilled)  # parsed
    assert count <= lessons.KEEP_READ
    assert sorted(map(str, read_back)) == sorted(set(map(str, read_back)))
    assert len(read_back) == count
    assert build(Stored) == len(read_back)  # cached
    monkeypatch.setattr(lessons, "KEEP_READ", count - 1)
    build(Stored)
    assert len(read_back) > count
