"""A large course's page is an outline: its lessons' content lives in per-lesson scripts.

Built from the benchmark's generated corpus (bench/corpus.py) at 200 lessons, with the split
threshold lowered so that a corpus this small splits (site.SPLIT_BYTES; the benchmark measures
the real sizes at 10k and 100k cards). Sizes are compared, never timed.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from course import site
from course.lessons import load_library
from course.model import Library

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from corpus import write_corpus

HOME_SHARE = 0.25
"""The home page at most this share of its lessons' scripts (about 0.1 at 20 cards a lesson)."""


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, Path]:
    root = tmp_path_factory.mktemp("large")
    write_corpus(root, cards=4000, cards_per_lesson=20)  # 200 lessons, about 67 per language
    library = load_library(root / "project" / "lessons")
    out = root / "site"
    saved = site.SPLIT_BYTES
    site.SPLIT_BYTES = 100_000
    try:
        site.write_site(library, out, {})
    finally:
        site.SPLIT_BYTES = saved
    return library, out


def test_home_page_is_an_outline(large: tuple[Library, Path]) -> None:
    library, out = large
    for course in library.courses:
        folder = out / course.lang
        home = (folder / "index.html").read_text("utf-8")
        scripts = {p.stem: p.stat().st_size for p in (folder / "lessons").glob("*.js")}
        assert set(scripts) == {lesson.id for lesson in course.lessons}
        assert len(home.encode()) < HOME_SHARE * sum(scripts.values()), course.lang
        # no lesson text and no card side is on the home page; each is in its lesson's script
        assert "lesson-body" not in home
        assert "<article" not in home
        for lesson in course.lessons[:5]:
            script = (folder / "lessons" / f"{lesson.id}.js").read_text("utf-8")
            assert script.startswith(f'Course.lesson({{"id":"{lesson.id}"')
            for card in lesson.cards[:3]:
                assert f'data-card-id=\\"{card.id}\\"' in script
                assert f'data-card-id="{card.id}"' not in home
            static = (folder / site.static_page_name(lesson.id)).read_text("utf-8")
            assert f'data-card-id="{lesson.cards[0].id}"' in static
        # the search records of every lesson are in one script, loaded on the first search
        search = (folder / site.SEARCH_SCRIPT).read_text("utf-8")
        assert search.startswith("Course.searchData([")
        assert len(re.findall(r'"card":true', search)) == len(course.cards)


def test_the_index_lists_every_review_item(large: tuple[Library, Path]) -> None:
    library, out = large
    course = library.courses[0]
    home = (out / course.lang / "index.html").read_text("utf-8")
    packed = re.findall(r'"l\d+":"([^|"]*)\|([^"]*)"', home)
    assert len(packed) == len(course.lessons)
    ids = [prefix + rest for prefix, rests in packed for rest in rests.split(" ")]
    assert len(ids) == site.item_count(course)
    assert ids[0] == course.lessons[0].cards[0].id


def _call(text: str, name: str) -> object:
    """The JSON argument of a lesson or search script (`Course.<name>(<json>);`)."""
    assert text.startswith(f"Course.{name}(")
    assert text.endswith(");\n")
    return json.loads(text[len(f"Course.{name}(") : -3])


def as_course_js_makes_it(article: str) -> str:
    """A lesson's article with its pager's links to plain pages as course.js makes them on the
    page (`linkLessons`): links to the lessons' views."""
    return re.sub(
        r'href="lesson-([^"#]+)\.html" data-lesson-link="\1"', r'href="#lesson/\1"', article
    )


def test_a_split_page_holds_what_the_whole_page_holds(
    large: tuple[Library, Path], tmp_path: Path
) -> None:
    """Split or not, learners get the same course: each lesson's script holds the article, card
    sheet and sidebar sections the whole page shows (the pager as course.js makes it), and its
    items' sides; the search script holds the whole page's search records, in order."""
    library, out = large
    saved = site.SPLIT_BYTES
    site.SPLIT_BYTES = 10**12
    try:
        site.write_site(library, tmp_path / "whole", {})
    finally:
        site.SPLIT_BYTES = saved
    course = library.courses[1]
    whole = (tmp_path / "whole" / course.lang / "index.html").read_text("utf-8")
    found = re.search(r'id="course-data">(.*?)</script>', whole)
    assert found
    data = json.loads(found[1])
    items: dict[str, list[str]] = {}
    for lesson in course.lessons:
        text = (out / course.lang / "lessons" / f"{lesson.id}.js").read_text("utf-8")
        payload = _call(text, "lesson")
        assert isinstance(payload, dict)
        assert payload["id"] == lesson.id
        assert payload["article"].startswith("<article")
        assert as_course_js_makes_it(payload["article"]) in whole
        assert payload["nav"] in whole
        assert bool(payload["sheet"]) == bool(lesson.cards)
        assert payload["sheet"] in whole
        items |= payload["items"]
    assert items == {i["id"]: [i["front"], i["back"]] for i in data["items"]}
    search = (out / course.lang / site.SEARCH_SCRIPT).read_text("utf-8")
    assert _call(search, "searchData") == data["search"]
