"""A split course page (site.SPLIT_BYTES: a large course) in Chromium and Firefox, from file://.

The fixture course is built with every page split (conftest `split_site`): the page holds the
outline only, each lesson's content arrives through `lessons/<id>.js` when it is first needed, the
search records through their own script. What a learner sees must be what the one-page course
shows (tests/test_site_browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browsers import Browser, Page
from sitekit import stored, url, watched

pytestmark = pytest.mark.browser

LESSON_SCRIPTS = "() => [...document.querySelectorAll('script[src^=\"lessons/\"]')].map(s => s.getAttribute('src'))"


def wait_content(page: Page, lesson: str) -> None:
    page.wait_for(f"() => !!document.querySelector('[data-lesson=\"{lesson}\"] .lesson-body')")


def test_home_loads_no_lesson_and_a_link_loads_its_lesson(
    browser: Browser, split_site: Path
) -> None:
    with watched(browser, split_site) as page:
        page.goto(url(split_site, "el/index.html"))
        page.expect_view("home")
        assert page.count(".lesson-body") == 0
        assert page.count("article") == 0
        assert page.evaluate(LESSON_SCRIPTS) == []
        # the home's counts span every lesson from the index alone
        assert page.text('[data-stat="studied"] [data-stat-note]') == "από 8"
        page.click('.lesson-list a[href="#lesson/six-skills"]')
        page.expect_view("lesson/six-skills")
        wait_content(page, "six-skills")
        assert page.evaluate(LESSON_SCRIPTS) == ["lessons/six-skills.js"]
        ids = page.evaluate(
            "() => [...document.querySelectorAll('.view.is-current [data-card-id]')]"
            ".map(e => e.dataset.cardId)"
        )
        assert ids == ["el-empathy", "el-listen", "el-key", "el-apology"]
        # its image loads (waited for: a busy machine decodes it after the lesson's text shows)
        page.wait_for(
            "() => document.querySelector('img[alt=\"Ένα διάγραμμα\"]')?.naturalWidth === 40"
        )
        # its check is mounted once its items have their sides
        page.wait_for(
            "() => document.querySelector('[data-check=\"six-skills\"]')?.childElementCount > 0"
        )
        page.click('[data-check="six-skills"] button.primary')  # an attempt begins
        assert page.visible('[data-check="six-skills"] form')
        # a card link into a lesson not opened yet loads that lesson and shows the card
        page.goto(url(split_site, "el/index.html#card-el-career"))
        page.expect_view("lesson/career")
        wait_content(page, "career")
        page.wait_for(
            "() => document.activeElement && document.activeElement.id === 'card-el-career'"
        )
        # the first lesson's check keeps its attempt when another lesson comes
        assert (
            page.evaluate("() => document.querySelector('[data-check=\"six-skills\"] form').hidden")
            is False
        )
        # the card sheet of a lesson comes with it
        page.goto(url(split_site, "el/index.html#cards/six-skills"))
        page.expect_view("cards/six-skills")
        page.wait_for("() => document.querySelectorAll('.view.is-current tbody tr').length === 6")


def test_review_spans_lessons_not_opened(browser: Browser, split_site: Path) -> None:
    with watched(browser, split_site) as page:
        page.goto(url(split_site, "el/index.html#review"))
        page.expect_view("review")
        page.wait_for(
            "() => !!document.querySelector('[data-review-card]').getAttribute('data-item-id')"
        )
        assert page.text("[data-review-status]") == "0 κάρτες για επανάληψη · 8 νέες κάρτες"
        seen: list[str] = []
        for _ in range(8):
            page.wait_for(
                "(seen) => { const id = document.querySelector('[data-review-card]')"
                ".getAttribute('data-item-id'); return id && !seen.includes(id); }",
                seen,
            )
            item = page.attr("[data-review-card]", "data-item-id") or ""
            assert page.text("[data-review-front]") not in ("", "undefined")
            lesson = "career" if item.startswith("el-career") else "six-skills"
            assert f"lessons/{lesson}.js" in page.evaluate(LESSON_SCRIPTS)
            page.press("Space")
            assert page.text("[data-review-back]") != ""
            page.press("4")
            seen.append(item)
        assert any(item.startswith("el-career") for item in seen)  # a lesson never opened
        assert sorted(stored(page)["items"]) == sorted(seen)
        page.wait_for("() => document.querySelector('[data-review-summary]').hidden === false")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("εξελιξης", "Δρόμοι εξέλιξης"),
        ("συγγνωμη", "Ποια τρία στοιχεία έχει μια καλή συγγνώμη;"),
    ],
)
def test_search_spans_lessons_not_opened(
    browser: Browser, split_site: Path, query: str, expected: str
) -> None:
    with watched(browser, split_site) as page:
        page.goto(url(split_site, "el/index.html"))
        assert (
            page.evaluate("() => !!document.querySelector('script[src=\"search-data.js\"]')")
            is False
        )
        page.fill("#search-q", query)
        page.press("Enter")
        page.expect_view("search")
        page.wait_for(
            "(t) => [...document.querySelectorAll('.result > a')].some(a => a.innerText === t)",
            expected,
        )
        assert page.evaluate(LESSON_SCRIPTS) == []
        href = page.evaluate(
            "(t) => [...document.querySelectorAll('.result > a')].find(a => a.innerText === t)"
            ".getAttribute('href')",
            expected,
        )
        page.click(f'.result > a[href="{href}"]')
        page.expect_view("lesson/", prefix=True)
        page.wait_for("() => !!document.querySelector('.view.is-current .lesson-body')")


def test_split_lessons_readable_without_javascript(browser: Browser, split_site: Path) -> None:
    with watched(browser, split_site, javascript=False) as page:
        page.goto(url(split_site, "el/index.html"))
        assert (
            page.attr('.lesson-list a[data-lesson-link="career"]', "href") == "lesson-career.html"
        )
        page.goto(url(split_site, "el/lesson-career.html"))  # where that link leads
        assert page.text("h1") == "Καριέρα"
        assert page.text(".lesson h1") == "Καριέρα"
        assert page.count(".lesson-body .card") >= 1
        assert page.count("table.sheet tbody tr") >= 1


def test_lessons_with_no_card_or_one_card(browser: Browser, tmp_path: Path) -> None:
    """The packed item index (site._compact, course.js indexItems) at its edges: a lesson with no
    review item, and one whose only item is its IDs' whole common prefix."""
    from course import site
    from course.lessons import load_library

    lessons = tmp_path / "lessons"
    (lessons / "lv").mkdir(parents=True)
    (lessons / "course.yml").write_text("id: edges\ntitle: Edges\n")
    (lessons / "lv" / "course.yml").write_text("title: Malas\n")
    (lessons / "lv" / "01-none.md").write_text(
        "---\nid: none\ntitle: Bez kartītēm\nlang: lv\norder: 1\n---\n\nTikai teksts.\n"
    )
    (lessons / "lv" / "02-one.md").write_text(
        "---\nid: one\ntitle: Viena kartīte\nlang: lv\norder: 2\n---\n\n"
        "Kas ir pacietība?::Spēja mierīgi gaidīt. <!-- id: lv-only -->\n"
    )
    saved = site.SPLIT_BYTES
    site.SPLIT_BYTES = 0
    try:
        site.write_site(load_library(lessons), tmp_path / "site", {})
    finally:
        site.SPLIT_BYTES = saved
    out = tmp_path / "site"
    assert '"cards":{"none":"|","one":"lv-only|"}' in (out / "lv" / "index.html").read_text("utf-8")
    with watched(browser, out) as page:
        page.goto(url(out, "lv/index.html#review"))
        page.expect_view("review")
        page.wait_for(
            "() => document.querySelector('[data-review-card]').getAttribute('data-item-id') === 'lv-only'"
        )
        assert page.evaluate(
            "() => Course.data.items.map(i => [i.id, i.card, i.lesson, i.kind])"
        ) == [["lv-only", "lv-only", "one", "basic"]]
        page.goto(url(out, "lv/index.html#lesson/none"))
        page.expect_view("lesson/none")
        page.wait_for("() => !!document.querySelector('.view.is-current .lesson-body')")


def test_only_a_package_lists_the_lessons_with_a_check(split_site: Path) -> None:
    """`graded` (which lessons have a check, for scorm.js's status in an LMS) is in a split
    package's page only (tests/test_scorm.py): the site's split page is as it was without it."""
    for lang in ("el", "lv", "pl"):
        page = (split_site / lang / "index.html").read_text("utf-8")
        assert '"lessonsDir":"lessons"' in page
        assert '"graded":' not in page
