"""A language rendered again takes over the lessons whose files did not change: a lesson's files
beside a split page are hard-linked from the current site's folder, and its SCORM entries are
copied compressed from the last zip, when the hash of what they are made from
(site.CourseSite.lesson_key) is the one the last build recorded; everything else is rendered.

What counts is that a rebuild gives, byte for byte, what a cold build of the same sources gives,
whatever was edited: a card, a lesson's title (its neighbours' pagers show it), a lesson added
or removed (every later lesson's number), a template, a file of the output on disk. The tests
also check that what could be taken over was (which lessons were rendered again), and that the
facts the page needs of each lesson (size, graded check) are not found again. Nothing is timed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from course import check, forked, model, outputs, pipeline, site, zips
from course.cache import ENV as CACHE_ENV
from course.lessons import load_library

LESSONS = 5
"""el lessons (pl has two): enough for a lesson with two neighbours and one at each end."""


def write_course(root: Path) -> Path:
    """A small course of several lessons per language, every page split (`split` fixture)."""
    lessons = root / "lessons"
    (lessons / "el").mkdir(parents=True)
    (lessons / "pl").mkdir()
    (lessons / "course.yml").write_text("id: pieces\ntitle: Pieces\n", "utf-8")
    for n in range(1, LESSONS + 1):
        write_lesson(lessons, "el", n, f"Μάθημα {n}")
    for n in (1, 2):
        write_lesson(lessons, "pl", n, f"Lekcja {n}")
    return lessons


def write_lesson(lessons: Path, lang: str, n: int, title: str) -> Path:
    cards = "\n".join(
        f"Ερώτηση {n}.{c};::Απάντηση {n}.{c}. <!-- id: {lang}-{n}-{c} -->\n" for c in range(3)
    )
    text = (
        f"---\nid: lesson-{n}\ntitle: {title}\nlang: {lang}\norder: {n}\n---\n\n"
        f"Εισαγωγή {n}.\n\n## Πρώτο μέρος\n\nΚείμενο.\n\n{cards}\n## Δεύτερο μέρος\n\nΤέλος.\n"
    )
    path = lessons / lang / f"{n:02d}-lesson.md"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture(autouse=True)
def split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page split (each lesson has files of its own), a cache of this test's own and a
    fixed clock (a cold build in another folder gives the same mod times). Every write in this
    process: the renders are counted here (a forked child's would not be)."""
    monkeypatch.setattr(site, "SPLIT_BYTES", 0)
    monkeypatch.setattr(forked, "cores", lambda: 1)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return write_course(tmp_path)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """(language, page template, lesson ID) of every lesson whose files a build renders."""
    found: list[tuple[str, str, str]] = []
    original = site.CourseSite.lesson_files

    def spy(
        self: site.CourseSite, templates: jinja2.Environment, t: object, page: site.LessonPage
    ) -> Iterator[tuple[str, str]]:
        found.append((self.course.lang, self.template, page.lesson.id))
        return original(self, templates, t, page)  # type: ignore[arg-type]

    monkeypatch.setattr(site.CourseSite, "lesson_files", spy)
    return found


def build(lessons: Path, out: Path) -> pipeline.BuildResult:
    return pipeline.build(
        load_library(lessons), out / "decks", out / "site", scorm_dir=out / "scorm"
    )


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def cold(lessons: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What a cold build of `lessons` gives: fresh cache, fresh output folders."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cold-cache"))
    shutil.rmtree(tmp_path / "cold-cache", ignore_errors=True)
    shutil.rmtree(tmp_path / "cold", ignore_errors=True)
    build(lessons, tmp_path / "cold")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return files(tmp_path / "cold")


def both(lang: str, *ids: str) -> set[tuple[str, str, str]]:
    """Each lesson's files on the site and in the package."""
    templates = (site.SITE_TEMPLATE, site.PACKAGE_TEMPLATE)
    return {(lang, template, lesson) for template in templates for lesson in ids}


def stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_an_edited_card_renders_its_lesson_only(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[tuple[str, str, str]],
) -> None:
    out = tmp_path / "out"
    build(course, out)
    assert len(rendered) == 2 * (LESSONS + 2), "a cold build renders every lesson"
    kept = out / "site" / "el" / site.static_page_name("lesson-1")
    before = stamp(kept)
    rendered.clear()
    edit(course / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
    again = build(course, out)
    assert set(rendered) == both("el", "lesson-3")
    assert stamp(kept) == before, "an unchanged lesson's page is the same file, linked"
    assert (out / "scorm").resolve() / "pieces-pl-scorm12.zip" in again.unchanged
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_the_search_script_loads_only_the_edited_lessons_records(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each lesson's part of search-data.js comes from the last build's script (the site's file,
    the zip's entry: here a run of one lesson each) while the lesson is unchanged."""
    monkeypatch.setattr(site, "SEARCH_RUN", 1)
    asked: list[str] = []
    records = site.search_records

    def spy(lesson: model.Lesson) -> tuple[model.SearchRecord, ...]:
        asked.append(f"{lesson.lang}/{lesson.id}")
        return records(lesson)

    monkeypatch.setattr(site, "search_records", spy)
    out = tmp_path / "out"
    build(course, out)
    asked.clear()
    edit(course / "el" / "03-lesson.md", "Ερώτηση 3.2;", "Ερώτηση 3.2, αλλαγμένη;")
    build(course, out)
    assert asked == ["el/lesson-3", "el/lesson-3"]  # the site's script and the zip's
    script = (out / "site" / "el" / site.SEARCH_SCRIPT).read_text("utf-8")
    assert "3.2, αλλαγμένη" in script
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_after_another_language_changed_a_language_still_takes_its_lessons_over(
    course: Path, tmp_path: Path, rendered: list[tuple[str, str, str]]
) -> None:
    """A language folder linked whole into the new site keeps what the last build recorded of
    its lessons: the next edit there renders one lesson again, not all."""
    out = tmp_path / "out"
    build(course, out)
    edit(course / "el" / "02-lesson.md", "Απάντηση 2.0.", "Απάντηση 2.0 (α).")
    build(course, out)
    edit(course / "pl" / "01-lesson.md", "Απάντηση 1.0.", "Απάντηση 1.0 (β).")
    build(course, out)
    rendered.clear()
    edit(course / "el" / "04-lesson.md", "Απάντηση 4.0.", "Απάντηση 4.0 (γ).")
    build(course, out)
    assert set(rendered) == both("el", "lesson-4")


def test_a_retitled_lesson_renders_its_neighbours_too(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[tuple[str, str, str]],
) -> None:
    """A lesson's pager shows the titles of the lessons before and after it."""
    out = tmp_path / "out"
    build(course, out)
    rendered.clear()
    edit(course / "el" / "03-lesson.md", "title: Μάθημα 3", "title: Νέος τίτλος")
    build(course, out)
    assert set(rendered) == both("el", "lesson-2", "lesson-3", "lesson-4")
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_an_added_and_a_removed_lesson_give_what_a_cold_build_gives(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[tuple[str, str, str]],
) -> None:
    """A lesson inserted second renumbers every later one, and links its neighbours to it; pl
    gains a lesson with an ID el has: both languages' pages of it link to each other."""
    out = tmp_path / "out"
    build(course, out)
    rendered.clear()
    added = write_lesson(course, "el", 6, "Νέο μάθημα")
    edit(
        added,
        "id: lesson-6\ntitle: Νέο μάθημα\nlang: el\norder: 6",
        "id: lesson-1b\ntitle: Νέο μάθημα\nlang: el\norder: 1",
    )
    build(course, out)
    assert ("el", site.SITE_TEMPLATE, "lesson-1") in rendered  # its next lesson is the new one
    assert files(out) == cold(course, tmp_path, monkeypatch)
    rendered.clear()
    write_lesson(course, "pl", 3, "Lekcja 3")
    build(course, out)
    assert ("el", site.SITE_TEMPLATE, "lesson-3") in rendered  # "also in" pl now
    assert ("el", site.PACKAGE_TEMPLATE, "lesson-3") not in rendered  # a package links nowhere
    assert files(out) == cold(course, tmp_path, monkeypatch)
    added.unlink()
    (course / "el" / "05-lesson.md").unlink()
    build(course, out)
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_a_changed_template_renders_every_lesson_again(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[tuple[str, str, str]],
) -> None:
    """A new template is a new tool (its files are hashed): no lesson is taken over."""
    out = tmp_path / "out"
    build(course, out)
    rendered.clear()
    loader = jinja2.PackageLoader("course", "templates/site")
    source = loader.get_source(jinja2.Environment(), "lesson.html")[0]
    changed = jinja2.DictLoader({"lesson.html": source.replace("lesson-body", "lesson-text")})
    env = site.environment(jinja2.ChoiceLoader([changed, loader]), None)
    monkeypatch.setattr(site, "_environment", lambda cache=None: env)
    for module in (site, outputs):
        monkeypatch.setattr(module, "tool_digest", lambda: "a tool with another lesson.html")
    build(course, out)
    assert set(rendered) == both("el", *(f"lesson-{n}" for n in range(1, LESSONS + 1))) | both(
        "pl", "lesson-1", "lesson-2"
    )
    made = files(out)
    assert b"lesson-text" in made["site/el/lesson-lesson-2.html"]
    assert made == cold(course, tmp_path, monkeypatch)


@pytest.mark.parametrize("changed", ["site/el/lesson-lesson-2.html", "scorm/pieces-el-scorm12.zip"])
def test_an_output_changed_on_disk_is_not_taken_over(
    changed: str,
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[tuple[str, str, str]],
) -> None:
    """A file of a language's folder, or the zip, edited since the last build: nothing of that
    output is taken over (every lesson rendered again), and the result is a cold build's."""
    out = tmp_path / "out"
    build(course, out)
    target = out / changed
    data = target.read_bytes()
    target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, another byte
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10**9))
    rendered.clear()
    edit(course / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
    build(course, out)
    template = site.SITE_TEMPLATE if changed.startswith("site") else site.PACKAGE_TEMPLATE
    everything = {("el", template, f"lesson-{n}") for n in range(1, LESSONS + 1)}
    assert everything <= set(rendered)
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_a_zip_damaged_in_place_gives_no_damaged_entry(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: list[tuple[str, str, str]],
) -> None:
    """A byte inside a lesson's compressed entry changed in place, the zip's size, inode and
    time as the last build left them (bit rot, a tool that restores times): the record still
    takes the zip for the last build's, but the entry, whose data no longer inflate to its CRC,
    is written again, not copied: the zip is a cold build's, every entry readable."""
    out = tmp_path / "out"
    build(course, out)
    target = out / "scorm" / "pieces-el-scorm12.zip"
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo(f"el/{site.static_page_name('lesson-2')}")
        data = archive.read(info)
    before = target.stat()
    with target.open("r+b") as file:
        at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
        file.seek(at)
        byte = file.read(1)
        file.seek(at)
        file.write(bytes([byte[0] ^ 0x10]))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert outputs._signature(target) == [before.st_size, before.st_mtime_ns, before.st_ino]
    rendered.clear()
    edit(course / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
    build(course, out)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        assert archive.read(info.filename) == data
    assert ("el", site.PACKAGE_TEMPLATE, "lesson-2") in rendered
    assert ("el", site.PACKAGE_TEMPLATE, "lesson-4") not in rendered  # taken over, unharmed
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_a_search_segment_damaged_in_place_is_deflated_again(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zip's search script is written in runs of lessons (here one each), each deflated on
    its own: a rebuild copies an unchanged lesson's compressed bytes, unless they are no longer
    those recorded (a byte changed in place, the zip's size and time as they were): then its
    records are loaded and deflated again, and the zip is a cold build's."""
    monkeypatch.setattr(site, "SEARCH_RUN", 1)
    asked: list[str] = []
    records = site.search_records

    def spy(lesson: model.Lesson) -> tuple[model.SearchRecord, ...]:
        asked.append(lesson.id)
        return records(lesson)

    monkeypatch.setattr(site, "search_records", spy)
    out = tmp_path / "out"
    build(course, out)
    target = out / "scorm" / "pieces-el-scorm12.zip"
    record = json.loads((tmp_path / "cache" / outputs.RECORD_FILE).read_text())
    name = f"el/{site.SEARCH_SCRIPT}"
    start, end = map(int, record["pieces"][str(target.resolve())][f"{name}@lesson-2"].split()[1:3])
    with zipfile.ZipFile(target) as archive:
        info = archive.getinfo(name)
    before = target.stat()
    with target.open("r+b") as file:
        file.seek(info.header_offset + 30 + len(info.filename) + (start + end) // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0x10]))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    asked.clear()
    edit(course / "el" / "03-lesson.md", "Ερώτηση 3.2;", "Ερώτηση 3.2, αλλαγμένη;")
    build(course, out)
    assert sorted(asked) == ["lesson-2", "lesson-3", "lesson-3"]  # the site's lesson-3, the zip's
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_a_rebuild_checks_the_entries_it_copies_by_the_sums_written_not_by_inflating(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record keeps each zip entry's compressed data's CRC-32 as written (zips.Writer.sums):
    an entry copied is checked against it (a CRC of some KB), not inflated (60 times the work:
    87 MB at 100,000 cards), and the zip is a cold build's."""
    out = tmp_path / "out"
    build(course, out)
    target = out / "scorm" / "pieces-el-scorm12.zip"
    record = json.loads((tmp_path / "cache" / outputs.RECORD_FILE).read_text())
    with zipfile.ZipFile(target) as archive:
        assert sorted(record["sums"][str(target.resolve())]) == sorted(archive.namelist())
    checked: list[int | None] = []
    real = zips.Archive.read

    def read(self: zips.Archive, entry: zips.Entry, packed_crc: int | None = None) -> bytes:
        checked.append(packed_crc)
        return real(self, entry, packed_crc)

    edit(course / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
    with monkeypatch.context() as patch:
        patch.setattr(zips.Archive, "read", read)
        build(course, out)
    assert checked
    assert None not in checked
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_a_lesson_crossing_the_split_threshold_splits_the_page(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lesson's size is known from the last build only while it is unchanged: a lesson that
    grows past SPLIT_BYTES splits the page, as a cold build does."""
    out = tmp_path / "out"
    library = load_library(course)
    total = sum(site.lesson_size(lesson) for lesson in library.course("el").lessons)
    monkeypatch.setattr(site, "SPLIT_BYTES", total + 100)
    build(course, out)
    assert not (out / "site" / "el" / site.SEARCH_SCRIPT).exists()
    edit(course / "el" / "03-lesson.md", "Τέλος.", "Τέλος. " + "Πολύ περισσότερο κείμενο. " * 20)
    build(course, out)
    assert (out / "site" / "el" / site.SEARCH_SCRIPT).exists()
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_the_graded_checks_of_unchanged_lessons_are_not_decided_again(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package's `graded` list: each lesson's check decided once, then known by its content;
    a lesson whose answers change is decided again (here: it loses its check)."""
    decided: list[int] = []
    has_check = check.has_check

    def spy(given: Iterable[site.ReviewItem]) -> bool:
        items = list(given)  # the facts hand them over one by one
        decided.append(len(items))
        return has_check(items)

    monkeypatch.setattr(check, "has_check", spy)
    out = tmp_path / "out"
    build(course, out)
    assert len(decided) == LESSONS + 2
    decided.clear()
    lesson = course / "el" / "02-lesson.md"
    text = lesson.read_text("utf-8")
    long = "μια πολύ μακριά απάντηση που κανείς δεν πληκτρολογεί"
    for c in range(3):  # one answer, too long to type: no question to ask
        text = text.replace(f"Απάντηση 2.{c}.", long)
    lesson.write_text(text, "utf-8")
    build(course, out)
    assert len(decided) == 1
    graded = site.graded_lessons(load_library(course).course("el"))
    assert "lesson-2" not in graded
    assert len(graded) == LESSONS - 1
    assert files(out) == cold(course, tmp_path, monkeypatch)


# -- the key covers every field of what it hashes --------------------------------------------------


def _other(value: object) -> Any:
    """A value of the same kind that differs from `value`."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, Path):
        return value / "x"
    if isinstance(value, model.CardKind):
        return next(kind for kind in model.CardKind if kind is not value)
    if isinstance(value, tuple):
        return (*value, value[0]) if value else ("x",)
    if value is None:
        return "x"
    if dataclasses.is_dataclass(value):
        first = dataclasses.fields(value)[0].name
        return dataclasses.replace(value, **{first: _other(getattr(value, first))})  # type: ignore[type-var]
    raise AssertionError(f"no other value for {value!r}")


COVERED = {
    model.Lesson: {
        "rendered": "site_digest",
        "cards": "each card",
        "digest": "the file's bytes: the other fields are what is parsed from them",
    },
    model.Card: {
        "text": "the deck's strings",
        "section": "sections and lines",
        "cloze_hashes": "shown nowhere; made from the source `source_hash` hashes",
        "id_own_line": "shown nowhere: where the ID comment stands (`ids` moves it)",
    },
}
"""Fields `lesson_parts` does not hash as such, and why."""


def test_lesson_parts_change_with_every_field_of_a_lesson_and_its_records(
    course: Path,
) -> None:
    """A field added to a lesson, card, section, source or image later changes the key, or this
    fails: a template that shows it would otherwise keep stale files."""
    edit(course / "el" / "01-lesson.md", "order: 1\n", "order: 1\nsource:\n  title: Πηγή\n")
    lesson = load_library(course).course("el").lessons[0]
    lesson = dataclasses.replace(
        lesson,
        media=(model.MediaFile(course / "img.png", "abc.png"),),
        description="Περιγραφή",
        translated_from="pl",
    )
    base = site.lesson_parts(lesson)
    records: list[tuple[object, str]] = [(lesson, "")]
    records += [(lesson.cards[0], "cards"), (lesson.sections[0], "sections")]
    records += [(lesson.source, "source"), (lesson.media[0], "media"), (lesson.sections[0].loc, "")]
    for record, _where in records:
        left_out = COVERED.get(type(record), {})
        for field in dataclasses.fields(record):  # type: ignore[arg-type]
            if field.name in left_out:
                continue
            changed = _with(lesson, record, field.name)
            assert site.lesson_parts(changed) != base, f"{type(record).__name__}.{field.name}"


def _with(lesson: model.Lesson, record: object, name: str) -> model.Lesson:
    """`lesson` with the field `name` of `record` (the lesson or one of its records) changed."""
    new = dataclasses.replace(record, **{name: _other(getattr(record, name))})  # type: ignore[type-var]
    if record is lesson:
        return new  # type: ignore[return-value]
    if isinstance(record, model.Card):
        return dataclasses.replace(lesson, cards=(new, *lesson.cards[1:]))  # type: ignore[arg-type]
    if isinstance(record, model.Section):
        return dataclasses.replace(lesson, sections=(new, *lesson.sections[1:]))  # type: ignore[arg-type]
    if isinstance(record, model.Source):
        return dataclasses.replace(lesson, source=new)  # type: ignore[arg-type]
    if isinstance(record, model.MediaFile):
        return dataclasses.replace(lesson, media=(new,))  # type: ignore[arg-type]
    section = dataclasses.replace(lesson.sections[0], loc=new)  # type: ignore[arg-type]
    return dataclasses.replace(lesson, sections=(section, *lesson.sections[1:]))


def test_the_lesson_key_changes_with_its_strings_its_page_and_its_course(course: Path) -> None:
    library = load_library(course)
    el = library.course("el")
    page = site.CourseSite(library, el, [], site.lesson_languages(library))
    outline = site._lesson_page(el, 2, page.languages_of, full=False)
    base = page.lesson_key(outline)
    assert page.lesson_key(outline) == base
    for name in ("lesson", "body", "items"):
        assert getattr(outline, name) == () or name == "lesson" or not getattr(outline, name)
    for field in dataclasses.fields(site.LessonPage):
        if field.name in ("lesson", "body", "items"):
            continue
        value = getattr(outline, field.name)
        other: Any = site.Link("#x", "x") if value is None else _other(value)
        changed = dataclasses.replace(outline, **{field.name: other})
        assert page.lesson_key(changed) != base, f"LessonPage.{field.name}"
    for field in dataclasses.fields(model.Course):
        if field.name in ("lessons", "id_line"):  # (id_line: where the ID is, for an error only)
            continue
        course_changed = dataclasses.replace(el, **{field.name: _other(getattr(el, field.name))})
        other_page = dataclasses.replace(page, course=course_changed)
        assert other_page.lesson_key(outline) != base, f"Course.{field.name}"
    package = dataclasses.replace(page, template=site.PACKAGE_TEMPLATE, facts=site.LessonFacts())
    assert package.lesson_key(outline) != base
    text = outline.lesson.site_text()
    held = model.LessonText("", model.Held(dataclasses.replace(text, body=text.body + " ")))
    edited = dataclasses.replace(outline.lesson, rendered=held)
    fresh = dataclasses.replace(page, facts=site.LessonFacts())
    assert fresh.lesson_key(dataclasses.replace(outline, lesson=edited)) != base


def test_a_rebuild_leaves_every_file_readable(
    course: Path, tmp_path: Path, rendered: list[tuple[str, str, str]]
) -> None:
    """Under umask 077, with languages and lessons taken over: folders 0755, files 0644; a file
    of the site whose mode was changed since is no longer the one the last build left."""
    out = tmp_path / "out"
    old = os.umask(0o077)
    try:
        build(course, out)
        edit(course / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
        build(course, out)
        assert_readable(out / "site")
        (out / "site" / "pl" / site.static_page_name("lesson-1")).chmod(0o600)
        rendered.clear()
        edit(course / "el" / "03-lesson.md", "αλλαγμένη.", "αλλαγμένη ξανά.")
        build(course, out)
    finally:
        os.umask(old)
    assert ("pl", site.SITE_TEMPLATE, "lesson-1") in rendered
    assert_readable(out / "site")


def assert_readable(folder: Path) -> None:
    modes = {p: p.stat().st_mode & 0o777 for p in [folder, *folder.rglob("*")]}
    assert {oct(m) for p, m in modes.items() if p.is_dir()} == {"0o755"}
    assert {oct(m) for p, m in modes.items() if p.is_file()} == {"0o644"}
