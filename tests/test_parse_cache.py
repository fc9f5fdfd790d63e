"""Parsing in worker processes and from the parse cache gives what a serial, uncached parse gives:
the same Library, and byte for byte the same decks and site. A bad cache never fails a build."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import pickle
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import markdown_it
import pytest
import yaml
from spies import calls

from course import cache, forked, lessons, model, pipeline
from course.lessons import load_library
from course.model import CourseError, Lesson, Library

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def fingerprint(library: Library, site: bool = True) -> list[Any]:
    """Everything a Library holds that outputs read, as comparable values (rendered strings are
    frozen records: they compare by value; the site's strings as `site_text()` loads them, or
    left out without `site`)."""
    courses = [
        (course.lang, course.title, course.description, course.mastery_score, lesson_parts)
        for course in library.courses
        for lesson_parts in [[lesson_fingerprint(lesson, site) for lesson in course.lessons]]
    ]
    return [library.id, library.title, courses, library.warnings]


def lesson_fingerprint(lesson: Lesson, site: bool = True) -> list[Any]:
    sections = [(s.id, s.title, s.level, s.loc) for s in lesson.sections]
    cards = [
        (c.id, c.kind, c.rendered, c.source_hash, c.section.id, c.loc, c.id_line, c.clozes)
        for c in lesson.cards
    ]
    more_cards = [(c.tags, lesson.sections.index(c.section), c.cloze_hashes) for c in lesson.cards]
    head = [lesson.id, lesson.title, lesson.lang, lesson.order, lesson.path, lesson.media]
    more = [lesson.source, lesson.tags, lesson.description, lesson.translated_from]
    strings = [lesson.rendered.prose_digest, lesson.site_text() if site else None]
    return [*head, *more, *strings, sections, cards, more_cards]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture
def course(bundled: Path) -> Path:
    return bundled


def serial_uncached(root: Path, monkeypatch: pytest.MonkeyPatch) -> Library:
    with monkeypatch.context() as patch:
        patch.setenv(cache.ENV, "")
        patch.setattr(lessons, "POOL_THRESHOLD", 10**9)
        patch.setattr(lessons, "FORK_THRESHOLD", 10**9)
        return load_library(root)


def forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a lesson was parsed although the cache holds it")

    monkeypatch.setattr(lessons, "load_lesson", fail)


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The lessons parsed from now on: all in this process (no forked child's share unseen)."""
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 10**9)
    parsed: list[Path] = []
    original = lessons.load_lesson

    def counting(path: Path, *args: Any, **options: Any) -> Any:
        parsed.append(path)
        return original(path, *args, **options)

    monkeypatch.setattr(lessons, "load_lesson", counting)
    return parsed


def build(library: Library, out: Path) -> dict[str, bytes]:
    pipeline.build(library, out / "decks", out / "site", pipeline.BuildOptions(draft=True))
    return tree(out)


def test_workers_and_cache_give_the_serial_library_and_outputs(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = serial_uncached(course, monkeypatch)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(lessons, "POOL_THRESHOLD", 0)  # 15 lessons: workers all the same
    parallel = load_library(course)
    assert len(list((tmp_path / "cache" / "lessons").rglob("*.pickle"))) == 15
    forbid_parsing(monkeypatch)
    cached = load_library(course)
    assert fingerprint(parallel) == fingerprint(serial)
    assert fingerprint(cached) == fingerprint(serial)
    outputs = build(serial, tmp_path / "serial")
    assert outputs
    assert build(parallel, tmp_path / "parallel") == outputs
    assert build(cached, tmp_path / "cached") == outputs


@pytest.mark.parametrize("cached", [False, True], ids=["uncached", "cache-on"])
def test_a_forked_share_gives_the_serial_library_and_outputs(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool, forks: list[int]
) -> None:
    """A small course (up to POOL_THRESHOLD lessons): a forked child parses a share."""
    serial = serial_uncached(course, monkeypatch)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache") if cached else "")
    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked, "alone", lambda: True)  # (the browser tests leave a thread)
    shared = load_library(course)
    assert len(forks) == 1
    assert fingerprint(shared) == fingerprint(serial)
    if cached:
        assert len(list((tmp_path / "cache" / "lessons").rglob("*.pickle"))) == 15
    assert build(shared, tmp_path / "shared") == build(serial, tmp_path / "serial")


def test_an_edit_reparses_that_lesson_only(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    load_library(course)
    lesson = sorted((course / "pl").glob("*.md"))[1]
    text = lesson.read_text("utf-8")
    lesson.write_text(text.replace("::", ":: zmienione", 1), "utf-8")
    parsed = count_parses(monkeypatch)
    edited = load_library(course)
    assert parsed == [lesson]
    assert fingerprint(edited) == fingerprint(serial_uncached(course, monkeypatch))
    assert "zmienione" in str(fingerprint(edited))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # truncated pickle
        lambda data: data.replace(cache.FORMAT, b"course-cache 0\n", 1),  # older layout
        lambda data: data[:-40] + b"\x00" * 40,  # corrupt tail
    ],
    ids=["empty", "truncated", "other-format", "corrupt"],
)
def test_a_damaged_entry_is_parsed_again_and_rewritten(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    expected = fingerprint(load_library(course))
    entries = sorted((tmp_path / "cache" / "lessons").rglob("*.pickle"))
    for entry in entries:
        entry.write_bytes(damage(entry.read_bytes()))
    parsed = count_parses(monkeypatch)
    assert fingerprint(load_library(course)) == expected
    assert len(parsed) == len(entries)
    forbid_parsing(monkeypatch)  # rewritten: the next load reads them all
    assert fingerprint(load_library(course)) == expected


def _texts_of(entry: bytes) -> bytes:
    """The pickled card texts (`CardTexts`) inside a cache entry's bytes."""
    head = entry.index(b"\n", len(cache.FORMAT)) + 1 + cache.CRC
    first, _ = lessons.unpack(entry[head:])
    parsed = cache.loads(first)
    assert isinstance(parsed, lessons.Parsed)
    assert parsed.lesson is not None
    text = parsed.lesson.cards[0].text
    assert isinstance(text, model.Pending)
    data = text.texts.__reduce__()[1][0]
    assert entry.count(data) == 1
    return data


def test_damaged_card_texts_are_a_miss_though_a_load_leaves_them_unread(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card texts are unpickled only when a deck asks: a byte changed inside them (a string's
    character: it still unpickles) must be caught when the entry is read (its checksum), not give
    a wrong deck later."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    expected = fingerprint(load_library(course))
    entries = sorted((tmp_path / "cache" / "lessons").rglob("*.pickle"))
    for entry in entries:
        data = entry.read_bytes()
        texts = _texts_of(data)
        at = data.index(texts) + len(texts) - 8  # inside the last card's strings
        entry.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])
    parsed = count_parses(monkeypatch)
    assert fingerprint(load_library(course)) == expected
    assert len(parsed) == len(entries)


def test_a_cached_lessons_card_texts_are_unpickled_only_when_asked(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A language whose decks are kept never reads its cards' texts (three quarters of an entry's
    bytes); asked, they are the parse's, and a lesson pickled after (to a forked child) keeps
    them."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    load_library(course)
    cached = load_library(course)
    cards = [card for course_ in cached.courses for le in course_.lessons for card in le.cards]
    pending = [card.text for card in cards if isinstance(card.text, model.Pending)]
    assert len(pending) == len(cards) > 0
    assert all(text.texts._value is None for text in pending)
    assert fingerprint(cached) == fingerprint(serial_uncached(course, monkeypatch))
    assert all(text.texts._value is not None for text in pending)
    lesson = cached.courses[0].lessons[0]
    again = pickle.loads(pickle.dumps(lesson))
    assert [c.rendered for c in again.cards] == [c.rendered for c in lesson.cards]


def test_a_new_tool_version_or_template_invalidates_every_entry(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    load_library(course)
    monkeypatch.setattr(cache, "tool_digest", lambda: "another version")
    parsed = count_parses(monkeypatch)
    load_library(course)
    assert len(parsed) == 15


def test_the_tool_digest_covers_templates_and_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest reads the package's files: templates and code are in it (change one byte of a
    copy of the package and the digest changes)."""
    before = cache.read_tool_digest()
    read = Path.read_bytes
    template = "course.html"

    def edited(path: Path) -> bytes:
        data = read(path)
        return data + b"<!-- edited -->" if path.name == template else data

    monkeypatch.setattr(Path, "read_bytes", edited)
    assert cache.read_tool_digest() != before


def test_the_tool_digest_reads_every_file_of_the_package_but_compiled_code() -> None:
    """Every file under course/ (code, templates, assets, catalogues) by its path, in path order,
    and nothing under a `__pycache__` folder (.pyc files; the compiled templates templating.py
    keeps there, written by builds: they must not change the digest)."""
    root = Path(cache.__file__).resolve().parent
    # Compiled code to leave out, whether Python writes bytecode here or not
    # (PYTHONDONTWRITEBYTECODE, a fresh checkout).
    folder = root / "__pycache__"
    made = not folder.exists()
    compiled = folder / f"test-{os.getpid()}.pyc"
    folder.mkdir(exist_ok=True)
    compiled.write_bytes(b"compiled")
    try:
        cache.tool_digest.cache_clear()
        digest = hashlib.sha256(sys.version.encode() + b"\0")
        for parser in (markdown_it, yaml):  # the file that names the parser's version
            text = Path(str(parser.__file__)).read_bytes()
            assert f"__version__ = {parser.__version__!r}".encode() in text.replace(b'"', b"'")
            digest.update(text + b"\0")
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.relative_to(root).parts:
                data = path.read_bytes()
                digest.update(str(path.relative_to(root)).encode() + b"\0" + data + b"\0")
        assert cache.read_tool_digest() == digest.hexdigest()
        assert cache.tool_digest() == digest.hexdigest()
    finally:
        compiled.unlink()
        if made:
            folder.rmdir()
        cache.tool_digest.cache_clear()


def test_the_tool_digest_is_kept_under_its_files_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest is read from the files once, then taken from where it was kept while the
    files' stats are the same; other stats, or a damaged kept file, and it is read again."""
    monkeypatch.setattr(cache, "KEPT", tmp_path / "__pycache__" / "tool-digest")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    reads: list[str] = []
    read = cache.read_tool_digest

    def counted() -> str:
        reads.append(read())
        return reads[-1]

    monkeypatch.setattr(cache, "read_tool_digest", counted)

    def digest() -> str:
        cache.tool_digest.cache_clear()
        return cache.tool_digest()

    try:
        first = digest()
        assert reads == [first]
        assert cache.KEPT.read_text().split() == [cache._tool_stats()[0], first]
        assert digest() == first
        assert len(reads) == 1
        cache.KEPT.write_text(f"{cache._tool_stats()[0]} {'0' * 64}\n")
        assert digest() == "0" * 64  # what was kept is what is given
        monkeypatch.setattr(cache, "_tool_stats", lambda: ("1" * 64, True))
        assert digest() == first
        assert len(reads) == 2
        assert cache.KEPT.read_text().split() == ["1" * 64, first]
        for damaged in ("", "1" * 64, f"{'1' * 64} abc", "\xff"):
            cache.KEPT.write_text(damaged, encoding="latin-1")
            assert digest() == first
        assert len(reads) == 6
    finally:
        cache.tool_digest.cache_clear()


def test_a_new_file_is_read_but_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files changed in the last moments may change again without changing their stats (the
    file system's clock ticks coarsely): the digest is read but not kept; nor is it where no
    bytecode is written."""
    monkeypatch.setattr(cache, "KEPT", tmp_path / "__pycache__" / "tool-digest")
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(cache, "_tool_stats", lambda: ("1" * 64, False))
    cache.tool_digest.cache_clear()
    try:
        assert cache.tool_digest() == cache.read_tool_digest()
        assert not cache.KEPT.exists()
        monkeypatch.setattr(cache, "_tool_stats", lambda: ("1" * 64, True))
        monkeypatch.setattr(sys, "dont_write_bytecode", True)
        cache.tool_digest.cache_clear()
        assert cache.tool_digest() == cache.read_tool_digest()
        assert not cache.KEPT.exists()
    finally:
        cache.tool_digest.cache_clear()


def test_the_stats_change_with_any_file_of_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten (same size), added or removed changes the stats the digest is kept
    under; compiled code does not; files older than `SETTLED_NS` are settled, a new one not."""
    root = tmp_path / "course"
    (root / "templates").mkdir(parents=True)
    (root / "__pycache__").mkdir()
    (root / "a.py").write_text("a = 1\n")
    (root / "templates" / "t.html").write_text("<p>")
    old = time.time_ns() - 10 * cache.SETTLED_NS
    for path in (root / "a.py", root / "templates" / "t.html"):
        os.utime(path, ns=(old, old))
    monkeypatch.setattr(cache, "PACKAGE", root)
    monkeypatch.setattr(cache, "SETTLED_NS", 0)
    first, settled = cache._tool_stats()
    assert settled
    assert cache._tool_stats()[0] == first
    (root / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert cache._tool_stats()[0] == first
    (root / "a.py").write_text("a = 2\n")
    os.utime(root / "a.py", ns=(old + 1, old + 1))
    second = cache._tool_stats()[0]
    assert second != first
    (root / "templates" / "u.html").write_text("")
    third = cache._tool_stats()[0]
    assert third != second
    (root / "templates" / "u.html").unlink()
    (root / "templates" / "t.html").unlink()
    assert cache._tool_stats()[0] not in (first, second, third)
    monkeypatch.setattr(cache, "SETTLED_NS", 10**18)
    assert not cache._tool_stats()[1]


def test_a_changed_image_invalidates_the_lesson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    root = tmp_path / "lessons"
    (root / "en").mkdir(parents=True)
    (root / "en" / "a.md").write_text(
        "---\nid: a\ntitle: A\nlang: en\norder: 1\n---\n\n![dot](dot.png)\n\nQ::A <!-- id: c1 -->\n"
    )
    (root / "en" / "dot.png").write_bytes(PNG)
    first = load_library(root).courses[0].lessons[0].media
    (root / "en" / "dot.png").write_bytes(PNG + b"\x00")
    second = load_library(root).courses[0].lessons[0].media
    assert first != second
    assert fingerprint(load_library(root)) == fingerprint(serial_uncached(root, monkeypatch))


def test_a_cache_that_cannot_be_written_costs_nothing_but_time(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv(cache.ENV, str(blocker))
    assert fingerprint(load_library(course)) == fingerprint(serial_uncached(course, monkeypatch))


def test_the_default_cache_folder_is_beside_the_lessons(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(cache.ENV, raising=False)
    load_library(course)
    entries = list((course.parent / ".course-cache" / "lessons").rglob("*.pickle"))
    assert len(entries) == 15
    course_files = list((course.parent / ".course-cache" / lessons.COURSE_FILES).glob("*.pickle"))
    assert len(course_files) == len(list(course.rglob("course.yml"))) > 0


def test_errors_are_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lesson with an error is parsed (and reported) on every build."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    root = tmp_path / "lessons"
    (root / "en").mkdir(parents=True)
    (root / "en" / "a.md").write_text("---\nid: a\ntitle: A\nlang: en\norder: 1\n---\n\n::A\n")
    for _ in range(2):
        with pytest.raises(CourseError, match="no question"):
            load_library(root)
    assert not list((tmp_path / "cache" / "lessons").rglob("*.pickle"))


def tiny_course(root: Path, count: int) -> Path:
    (root / "en").mkdir(parents=True)
    for n in range(count):
        text = (
            f"---\nid: l{n}\ntitle: L{n}\nlang: en\norder: {n}\n---\n\nQ{n}::A <!-- id: c{n} -->\n"
        )
        (root / "en" / f"{n:02d}.md").write_text(text)
    return root


@pytest.mark.parametrize(("threshold", "frozen"), [(2, True), (3, False)])
def test_only_a_large_library_is_left_out_of_garbage_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, frozen: bool
) -> None:
    """Above FREEZE_THRESHOLD lessons the loaded library is frozen (a build's process ends with
    it); a small one (tests, the bundled course) is not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lessons, "FREEZE_THRESHOLD", threshold)
    root = tiny_course(tmp_path / "lessons", 3)
    gc.unfreeze()
    try:
        library = load_library(root)
        assert (gc.get_freeze_count() > 0) is frozen
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert len(library.courses[0].lessons) == 3


def test_a_large_library_is_frozen_before_the_collector_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The objects loading made are frozen while the collector is still paused: no collection
    walks them once (at 100,000 cards that one walk took 0.1 s)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(lessons, "FREEZE_THRESHOLD", 2)
    monkeypatch.setattr(forked, "cores", lambda: 1)  # every object made in this process
    root = tiny_course(tmp_path / "lessons", 12)
    collections: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.unfreeze()
    gc.collect()
    gc.callbacks.append(seen)
    try:
        load_library(root)
        assert collections == [], collections
        assert gc.get_freeze_count() > 0
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()


def decks_of(library: Library, out: Path) -> dict[str, bytes]:
    pipeline.build(library, out, None, pipeline.BuildOptions(draft=True))
    return tree(out)


def test_decks_only_renders_no_site_strings_and_never_serves_the_site(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decks-only load renders none of the site's strings and gives the same decks; its cache
    entries are never used for a site (the next full load parses again, and gives the site a
    serial load gives), while a full load's entries serve a decks-only load."""
    serial = serial_uncached(course, monkeypatch)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    decks = load_library(course, site=False)
    assert all(lesson.rendered.site is None for c in decks.courses for lesson in c.lessons)
    assert decks_of(decks, tmp_path / "decks-only") == decks_of(serial, tmp_path / "serial")
    with pytest.raises(ValueError, match="decks only"):
        pipeline.build(decks, None, tmp_path / "site", pipeline.BuildOptions(draft=True))
    parsed = count_parses(monkeypatch)
    full = load_library(course)
    assert len(parsed) == 15, "entries without the site's strings do not serve a full load"
    assert fingerprint(full) == fingerprint(serial)
    parsed.clear()
    decks = load_library(course, site=False)
    assert fingerprint(decks, site=False) == fingerprint(full, site=False)
    assert parsed == [], "a full load's entries serve a decks-only load"
    assert all(lesson.rendered.site is None for c in decks.courses for lesson in c.lessons)


@pytest.mark.parametrize("mode", ["serial", "forked", "workers", "cached"])
def test_meanwhile_runs_once_whoever_parses(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The command line imports the rest of the build while lessons are parsed: exactly once,
    in this process, whether lessons are parsed here, by a forked child, by workers or not at
    all (every one cached)."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(lessons, "POOL_THRESHOLD", 0 if mode == "workers" else 10**9)
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 10**9 if mode == "serial" else 2)
    if mode == "cached":
        load_library(course)
        forbid_parsing(monkeypatch)
    ran: list[int] = []
    library = load_library(course, meanwhile=lambda: ran.append(os.getpid()))
    assert ran == [os.getpid()]
    assert sum(len(c.lessons) for c in library.courses) == 15


def test_each_lessons_place_is_what_resolving_it_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader resolves each folder once (`lessons._Places`), and a lesson file itself only
    when it is a link: what it finds is `Path.resolve()`'s, and the name messages use is the
    path from the working directory (or the path as found, outside it), whatever is a link."""
    work = tmp_path / "work"
    root = tiny_course(work / "lessons", 2)
    elsewhere = tiny_course(tmp_path / "elsewhere", 1) / "en"
    (root / "pl").symlink_to(elsewhere, target_is_directory=True)  # a linked language folder
    (root / "en" / "02.md").symlink_to(root / "en" / "00.md")  # a linked lesson
    (root / "en" / "03.md").symlink_to(elsewhere / "00.md")  # linked to outside the folder
    (root / "lv").mkdir()
    (root / "lv" / "00.md").symlink_to(Path("..") / "en" / "01.md")  # relative link
    monkeypatch.chdir(work)
    paths = [Path("lessons", lang, name) for lang in ("en", "pl", "lv") for name in (
        sorted(p.name for p in (root / lang).iterdir())
    )]  # fmt: skip
    places = lessons._Places(Path.cwd().resolve())
    for path in [*paths, (root / "en" / "01.md")]:
        real = path.resolve()
        shown = real.relative_to(work) if real.is_relative_to(work) else path
        assert places.of(path) == (real, shown), path


def test_a_lesson_that_missed_the_cache_is_not_resolved_again(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader works out each lesson's place once (`lessons._Places`): a lesson parsed (a
    miss) is named in its records and stored under its entry from there, not from resolving its
    path again (three times a lesson before: 40-80 us each, 2,000 lessons at 100,000 cards). The
    entries written are those the next build finds."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    parsed = count_parses(monkeypatch)
    resolved: list[Path] = []
    real = Path.resolve

    def resolve(path: Path, *args: Any, **kwargs: Any) -> Path:
        if path.suffix == ".md":
            resolved.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(Path, "resolve", resolve)
    given = Path(course.name)  # as the command line gives it: from the working directory
    assert given.resolve() == course.resolve()
    first = load_library(given)
    assert len(parsed) == 15
    assert resolved == []
    monkeypatch.undo()
    forbid_parsing(monkeypatch)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert fingerprint(load_library(given)) == fingerprint(first)


def wait_for(done: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.005)


def parse_sides(monkeypatch: pytest.MonkeyPatch, flags: Path, worker_waits: bool) -> list[Path]:
    """The lessons this process parses (each one also marked in `flags`/here-N, and those of
    the worker in `flags`/worker-N); with `worker_waits`, the worker starts each lesson only
    once this process has parsed 9 (or after 10 s). Two cores, a pool from one lesson on, no
    cache."""
    monkeypatch.setenv(cache.ENV, "")
    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    monkeypatch.setattr(lessons, "POOL_THRESHOLD", 0)
    flags.mkdir()
    here = os.getpid()
    mine: list[Path] = []
    original = lessons._parse_and_store

    def parse(task: Any, send: bool) -> Any:
        side = "here" if os.getpid() == here else "worker"
        if side == "worker" and worker_waits:
            wait_for(lambda: len(list(flags.glob("here-*"))) >= 9)
        result = original(task, send)
        if side == "here":
            mine.append(task.job.path)
        (flags / f"{side}-{task.job.lang}-{task.job.path.name}").touch()
        return result

    monkeypatch.setattr(lessons, "_parse_and_store", parse)
    return mine


def test_this_process_takes_the_lessons_a_slow_worker_has_not_reached(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool and this process share the lessons as they go (this one from the last task
    back), not half each: a worker slower than this process parses fewer (here: the task it
    held and the two queued for it); the library is the serial one."""
    serial = serial_uncached(course, monkeypatch)
    mine = parse_sides(monkeypatch, tmp_path / "flags", worker_waits=True)
    library = load_library(course)
    assert len(mine) >= 9, f"this process parsed {len(mine)} of 15 lessons"
    assert fingerprint(library) == fingerprint(serial)


def test_a_busy_parent_leaves_the_lessons_to_the_worker(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process, busy meanwhile (`load_library`'s `meanwhile`: imports, manifests), parses
    only what no worker has taken yet: a worker done first parses more than half."""
    serial = serial_uncached(course, monkeypatch)
    flags = tmp_path / "flags"
    mine = parse_sides(monkeypatch, flags, worker_waits=False)
    library = load_library(
        course, meanwhile=lambda: wait_for(lambda: len(list(flags.glob("worker-*"))) >= 9)
    )
    assert len(mine) < 7, f"this process parsed {len(mine)} of 15 lessons"
    assert fingerprint(library) == fingerprint(serial)


def _field_values(record: Any) -> list[Any]:
    """A record's values, field by field."""
    return [getattr(record, f.name) for f in dataclasses.fields(record)]


def test_a_cached_lessons_cards_are_the_records_the_parse_made(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards unpickled from an entry (`lessons._card`, not through `Card.__init__`) are frozen
    `Card` records holding every field the parse gave, clozes and tags included."""
    root = tmp_path / "tagged" / "lessons"
    shutil.copytree(course, root)
    lesson = sorted((root / "el").glob("*.md"))[0]
    with lesson.open("a", encoding="utf-8") as file:
        file.write("\n#flashcards/science Question ::Answer <!-- id: tagged1 -->\n")
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    parsed = load_library(root)

    def no_init(self: model.Card, *args: object) -> None:
        raise AssertionError("a cached card was made through Card.__init__")

    with monkeypatch.context() as patch:
        patch.setattr(model.Card, "__init__", no_init)
        cached = load_library(root)
    pairs = [
        (made, kept)
        for one, two in zip(parsed.courses, cached.courses, strict=True)
        for le1, le2 in zip(one.lessons, two.lessons, strict=True)
        for made, kept in zip(le1.cards, le2.cards, strict=True)
    ]
    assert any(made.clozes for made, _ in pairs)
    assert any(made.tags for made, _ in pairs)
    for made, kept in pairs:
        assert type(kept) is model.Card
        loaded = [*_field_values(kept)[:2], kept.rendered, *_field_values(kept)[3:]]
        assert _field_values(loaded[4]) == _field_values(made.section)
        loaded[4] = made.section
        assert loaded == _field_values(made)
    kept = pairs[0][1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        kept.line = 0  # type: ignore[misc]
    assert dataclasses.replace(kept, line=7).line == 7


def test_cards_are_made_without_their_constructor_only_while_it_does_nothing_else() -> None:
    """`lessons._card` sets `Card`'s fields as they are: a record with another field, one its
    constructor does not take, or a `__post_init__` is not one it makes."""

    assert lessons._made_as_card(model.Card)

    @dataclasses.dataclass(frozen=True, slots=True)
    class More:
        id: str | None
        kind: model.CardKind
        text: model.CardText
        source_hash: str
        section: model.Section
        line: int
        id_line: int
        clozes: tuple[int, ...] = ()
        tags: tuple[str, ...] = ()
        cloze_hashes: tuple[str, ...] = ()
        id_own_line: int | None = None
        extra: int = 0

    assert not lessons._made_as_card(More)
    fewer = dataclasses.make_dataclass("Fewer", lessons._CARD_FIELDS[:-1], frozen=True)
    assert not lessons._made_as_card(fewer)
    hidden = dataclasses.make_dataclass(
        "Hidden",
        [
            *lessons._CARD_FIELDS[:-1],
            ("id_own_line", int, dataclasses.field(default=None, init=False)),
        ],
        frozen=True,
    )
    assert not lessons._made_as_card(hidden)
    checked = dataclasses.make_dataclass(
        "Checked", lessons._CARD_FIELDS, frozen=True, namespace={"__post_init__": lambda s: None}
    )
    assert not lessons._made_as_card(checked)
    assert lessons._made_as_card(dataclasses.make_dataclass("Same", lessons._CARD_FIELDS))


def test_a_course_files_parse_is_kept_under_its_bytes_when_it_gave_no_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A course file (course.yml) is parsed once while its bytes stay the same: later builds
    take its parse from the cache (no YAML parser imported for it); a file with a warning is
    read again, and warns again, on every build; a changed file is parsed again."""
    root = tiny_course(tmp_path / "lessons", 1)
    course_file = root / "course.yml"
    course_file.write_text("id: kept\ntitle: Kept title\n", encoding="utf-8")
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    parses = calls(monkeypatch, lessons, "read_course_yaml")
    first = load_library(root)
    assert parses == [course_file]
    again = load_library(root)
    assert parses == [course_file]
    assert (again.id, again.title) == (first.id, first.title) == ("kept", "Kept title")
    course_file.write_text("id: other\ntitle: Kept title\n", encoding="utf-8")
    assert load_library(root).id == "other"
    assert parses == [course_file] * 2
    course_file.write_text("id: warned\nnot_a_key: 1\n", encoding="utf-8")
    for count in (3, 4):
        warned = load_library(root)
        assert warned.id == "warned"
        assert [p.message for p in warned.warnings] == ["unknown key 'not_a_key' ignored"]
        assert parses == [course_file] * count
    course_file.write_text("id: kept\ntitle: Kept title\n", encoding="utf-8")
    for _ in range(2):  # (one entry a file: its first bytes' parse was replaced)
        assert load_library(root).title == "Kept title"
        assert parses == [course_file] * 5
