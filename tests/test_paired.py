"""A language's site folder written with its SCORM zip (pipeline.Paired, site.SiteSide): a large
build renders each lesson's files once, for the site, and makes the package's from them (the
same but the "also in" paragraph: site._package_files); the lesson's search part and the learner
guide are made once too. What counts: the site and the zips are byte for byte what the two
written apart give (the path a small course takes, Share.SMALL), cold and after an edit,
in one process or shared with a forked child, and the record keeps what the child found.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from test_pieces import LESSONS, build, edit, files, write_course

from course import forked, model, pipeline, site
from course.cache import ENV as CACHE_ENV
from course.lessons import load_library
from course.messages import messages


@pytest.fixture(autouse=True)
def split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page split, a cache of the test's own, a fixed clock."""
    monkeypatch.setattr(site, "SPLIT_BYTES", 0)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


def apart(lessons: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """A cold build of `lessons` with the site and the zips written apart (a small course's
    way), in its own cache and folders."""
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_share", lambda library: pipeline.Share.SMALL)
        m.setenv(CACHE_ENV, str(tmp_path / "apart-cache"))
        build(lessons, tmp_path / "apart")
    return files(tmp_path / "apart")


def paired(monkeypatch: pytest.MonkeyPatch, share: pipeline.Share, cores: int) -> list[str]:
    """Builds from now on take `share` (as a large course does) on `cores`; the languages
    written paired in this process, as they are."""
    monkeypatch.setattr(pipeline, "_share", lambda library: share)
    monkeypatch.setattr(forked, "cores", lambda: cores)
    langs: list[str] = []
    twins = site._write_twins

    def spy(side: site.SiteSide, package: site.CourseSite, *args: object) -> None:
        langs.append(package.course.lang)
        twins(side, package, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(site, "_write_twins", spy)
    return langs


@pytest.mark.parametrize(
    ("share", "cores"),
    [(pipeline.Share.SHARED, 1), (pipeline.Share.ALONE, 1), (pipeline.Share.SHARED, 2)],
)
def test_paired_outputs_are_those_written_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: pipeline.Share, cores: int
) -> None:
    lessons = write_course(tmp_path)
    expected = apart(lessons, tmp_path, monkeypatch)
    langs = paired(monkeypatch, share, cores)
    out = tmp_path / "out"
    build(lessons, out)
    if cores == 1:
        assert sorted(langs) == ["el", "pl"]
    assert files(out) == expected
    record = json.loads((tmp_path / "cache" / "outputs.json").read_text("utf-8"))
    assert len(record["facts"]) == LESSONS + 2, "what the writes found of every lesson is kept"
    site_pieces = [name for name in record["pieces"] if Path(name).parent.name == "site"]
    assert len(site_pieces) == 2, "each paired folder's pieces are recorded"


@pytest.mark.parametrize("cores", [1, 2])
def test_a_paired_rebuild_after_an_edit_is_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    lessons = write_course(tmp_path)
    paired(monkeypatch, pipeline.Share.SHARED, cores)
    out = tmp_path / "out"
    build(lessons, out)
    edit(lessons / "el" / "02-lesson.md", "Απάντηση 2.1.", "Νέα απάντηση 2.1.")
    rendered: list[tuple[str, str]] = []
    lesson_files = site.CourseSite.lesson_files

    def spy(self: site.CourseSite, templates: object, t: object, page: site.LessonPage) -> object:
        rendered.append((self.course.lang, page.lesson.id))
        return lesson_files(self, templates, t, page)  # type: ignore[arg-type]

    monkeypatch.setattr(site.CourseSite, "lesson_files", spy)
    build(lessons, out)
    if cores == 1:
        assert rendered == [("el", "lesson-2")], "rendered once, for both, and only it"
    assert files(out) == apart(lessons, tmp_path, monkeypatch)


@pytest.mark.parametrize("change", ["left", "moved", "edited twice"])
def test_a_paired_rebuild_after_lessons_left_or_moved_is_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The site's search script takes the unchanged lessons' parts as the last script's bytes,
    those that lie there one after the other as one slice (`CourseSite.search_bytes`): not
    across a lesson that left, nor out of order; and it records where each part went, which
    the next rebuild takes."""
    lessons = write_course(tmp_path)
    langs = paired(monkeypatch, pipeline.Share.SHARED, 1)
    out = tmp_path / "out"
    build(lessons, out)
    if change == "left":
        (lessons / "el" / "03-lesson.md").unlink()
    elif change == "moved":
        edit(lessons / "el" / "04-lesson.md", "order: 4", "order: 1")
        edit(lessons / "el" / "01-lesson.md", "order: 1", "order: 4")
    else:
        edit(lessons / "el" / "02-lesson.md", "Απάντηση 2.1.", "Νέα απάντηση 2.1.")
        build(lessons, out)
        edit(lessons / "el" / "04-lesson.md", "Απάντηση 4.1.", "Νέα απάντηση 4.1.")
    langs.clear()
    build(lessons, out)
    assert "el" in langs
    assert files(out) == apart(lessons, tmp_path, monkeypatch)


def test_a_paired_language_lists_each_lessons_items_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's page and the package's list the same item IDs of each lesson in their
    index (`LessonFacts.index`): made once for both."""
    lessons = write_course(tmp_path)
    langs = paired(monkeypatch, pipeline.Share.SHARED, 1)
    listed: list[str] = []
    item_ids = site.item_ids

    def spy(lesson: model.Lesson) -> list[str]:
        listed.append(f"{lesson.lang}/{lesson.id}")
        return item_ids(lesson)

    monkeypatch.setattr(site, "item_ids", spy)
    build(lessons, tmp_path / "out")
    assert sorted(langs) == ["el", "pl"]
    assert sorted(listed) == sorted({*listed})
    assert len(listed) == LESSONS + 2


def test_package_files_made_from_the_sites(tmp_path: Path) -> None:
    """The package's lesson files made from the site's (`_package_files`) are those rendered
    for the package's page (no other languages), with or without "also in" links, and when
    the paragraph is found more than once (the lesson's text holds it too: rendered again)."""
    library = load_library(write_course(tmp_path))
    course = library.course("pl")
    env = site._environment()
    t = messages(course.lang)
    page_site = site.CourseSite(
        library, course, site._languages(library), site.lesson_languages(library)
    )
    package = site.package_site(library, course)
    checked = 0
    for number in (1, 2):
        page = site._lesson_page(course, number, page_site.languages_of)
        assert page.translations
        context = {"t": t, "lang": course.lang, "root": "../", "page": page, "split": True}
        also = env.get_template(site.ALSO_IN_TEMPLATE).render(context)
        for body in (page.body, page.body + also, also + page.body + also):
            shown = replace(page, body=body)
            made = site._package_files(
                env, t, page_site, shown, list(page_site.lesson_files(env, t, shown))
            )
            bare = replace(shown, translations=())
            assert made == list(package.lesson_files(env, t, bare))
            assert also not in made[1][1] or body != page.body
            checked += 1
    assert checked == 6
