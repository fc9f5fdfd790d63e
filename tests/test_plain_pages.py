"""A split course's plain lesson pages (lesson-<id>.html: site.SPLIT_BYTES) without JavaScript, in
Chromium and Firefox: from the outline to a lesson, then lesson to lesson by the pager, from
file:// (an unzipped folder), from a web server and inside the SCORM package; and no link on the
path without JavaScript that leads nowhere. With JavaScript the same links stay in the course
page (course.js makes them #lesson/<id> links), as they were.

The fixture is tests/fixtures/site-course with a third Greek lesson (a lesson with both
neighbours), built twice with every page split, so that the second build's "what changed" list
names a card of a lesson that is not on the outline page.
"""

from __future__ import annotations

import functools
import shutil
import time
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from browsers import Browser, BrowserError, Page
from sitekit import FIXTURE, served, url, watched

pytestmark = pytest.mark.browser

LESSONS = [("six-skills", "Δεξιότητες επικοινωνίας"), ("career", "Καριέρα"), ("calm", "Ηρεμία")]
CALM = """---
id: calm
title: "Ηρεμία"
lang: el
order: 3
---

## Υπομονή

Τι βοηθά όταν ο πελάτης θυμώνει;::Η ήρεμη φωνή. <!-- id: el-calm -->
"""
ADDED = "\nΤι δείχνει ένα χαμόγελο;::Διάθεση για βοήθεια. <!-- id: el-smile -->\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course built with decks, site and SCORM packages, every page split; then a card added
    to the last lesson and built again (release 2: the "what changed" list names it)."""
    from course import pipeline, site
    from course.lessons import load_library

    root = tmp_path_factory.mktemp("plain-pages")
    shutil.copytree(FIXTURE, root / "lessons")
    calm = root / "lessons" / "el" / "03-calm.md"
    calm.write_text(CALM, "utf-8")
    saved = site.SPLIT_BYTES
    site.SPLIT_BYTES = 0
    try:
        for _ in range(2):
            shutil.rmtree(root / "site", ignore_errors=True)
            library = load_library(root / "lessons")
            pipeline.build(library, root / "decks", root / "site", scorm_dir=root / "scorm")
            calm.write_text(CALM + ADDED, "utf-8")
    finally:
        site.SPLIT_BYTES = saved
    return root


@pytest.fixture(scope="module")
def split_site(built: Path) -> Path:
    return built / "site"


@pytest.fixture(scope="module")
def package(built: Path) -> Path:
    """The Greek SCORM package, unzipped: its plain pages are beside its course page."""
    with zipfile.ZipFile(built / "scorm" / "site-fixture-el-scorm12.zip") as archive:
        archive.extractall(built / "unzipped")
    return built / "unzipped"


@pytest.fixture(scope="module")
def hosted(split_site: Path) -> Iterator[str]:
    """The site served from 127.0.0.1, as a host serves it."""
    with served(split_site) as base:
        yield base


AT = "(p) => document.readyState === 'complete' && location.pathname.endsWith(p)"


def at(page: Page, path: str) -> None:
    """Wait until the tab shows the page `path` (after a click that leaves the page). Polled
    from here: the drivers' own waiting polls in the page, where scripts are off."""
    for _ in range(100):
        try:
            if page.evaluate(AT, "/" + path):
                return
        except BrowserError:  # between two documents
            pass
        time.sleep(0.05)
    raise AssertionError(f"not at {path}: {page.url()}")


CENTRE = """(s) => { const e = document.querySelector(s); e.scrollIntoView({block: 'center'});
  const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }"""


def follow(page: Page, selector: str) -> None:
    """Click the link with the mouse, where it is on the screen (Firefox's driver cannot click
    an element of a page whose scripts are off)."""
    page.click_at(*page.evaluate(CENTRE, selector))


def follow_the_pager(page: Page, lang: str) -> None:
    """From the first lesson's plain page to the last by "next", and back by "previous"."""
    first, *rest = LESSONS
    at(page, f"{lang}/lesson-{first[0]}.html")
    assert page.count(".pager a.prev") == 0
    for lesson, title in rest:
        follow(page, ".pager a.next")
        at(page, f"{lang}/lesson-{lesson}.html")
        assert page.text(".lesson h1") == title
    assert page.count(".pager a.next") == 0
    for lesson, title in reversed(LESSONS[:-1]):
        follow(page, ".pager a.prev")
        at(page, f"{lang}/lesson-{lesson}.html")
        assert page.text(".lesson h1") == title


@pytest.mark.parametrize("origin", ["file", "http"])
def test_the_pager_leads_from_plain_page_to_plain_page(
    browser: Browser, split_site: Path, hosted: str, origin: str
) -> None:
    base = split_site.as_uri() if origin == "file" else hosted
    page = browser.new_page(javascript=False)
    try:
        page.goto(f"{base}/el/index.html")
        follow(page, '.lesson-list a[data-lesson-link="six-skills"]')
        follow_the_pager(page, "el")
        page.drain()
        assert not page.errors, page.errors
    finally:
        page.close()


def test_the_pager_leads_from_plain_page_to_plain_page_in_the_package(
    browser: Browser, package: Path
) -> None:
    with watched(browser, package, javascript=False) as page:
        page.goto(url(package, "el/lesson-six-skills.html"))
        follow_the_pager(page, "el")


class Ids(HTMLParser):
    """The ids of an HTML document's elements."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


@functools.cache
def ids_of(path: Path) -> frozenset[str]:
    parser = Ids()
    parser.feed(path.read_text("utf-8"))
    return frozenset(parser.ids)


VISIBLE_LINKS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => a.getClientRects().length > 0 && a.checkVisibility({visibilityProperty: true}))
  .map(a => a.href)"""
VISIBLE_CONTROLS = """() => [...document.querySelectorAll('button, input, select, textarea, form')]
  .filter(e => e.getClientRects().length > 0 && e.checkVisibility({visibilityProperty: true}))
  .map(e => e.outerHTML.slice(0, 80))"""


def dead_ends(page: Page, root: Path, lang: str) -> list[str]:
    """The visible links of the page that lead nowhere without JavaScript: a file that is not
    there, or (in the page's own language) an anchor its target does not have. The "also in"
    links lead to another language's course page, which that language's build makes whole or
    split: they are checked to lead to a page, not to a place in it."""
    found = []
    for href in page.evaluate(VISIBLE_LINKS):
        parts = urlsplit(href)
        if parts.scheme in ("http", "https") and not parts.netloc.startswith("127.0.0.1"):
            continue  # a lesson's source, outside the course
        target = Path(unquote(parts.path))
        if not target.is_file():
            found.append(f"{href}: no such file")
        elif target.parent == root / lang and parts.fragment:
            anchor = unquote(parts.fragment)
            found += [f"{href}: no such anchor"] if anchor not in ids_of(target) else []
    return found


def plain_pages(root: Path, lang: str) -> list[str]:
    return ["index.html", *sorted(p.name for p in (root / lang).glob("lesson-*.html"))]


@pytest.mark.parametrize("lang", ["el", "pl", "lv"])
def test_no_dead_end_without_javascript(browser: Browser, split_site: Path, lang: str) -> None:
    """Every link a reader without JavaScript sees on the outline page and on the plain pages
    leads somewhere; nothing offers what only JavaScript does (review, search, progress, the
    lesson check: the course page says they need it)."""
    with watched(browser, split_site, javascript=False) as page:
        for name in plain_pages(split_site, lang):
            page.goto(url(split_site, f"{lang}/{name}"))
            assert dead_ends(page, split_site, lang) == [], name
            assert page.evaluate(VISIBLE_CONTROLS) == [], name
        page.goto(url(split_site, f"{lang}/index.html"))
        assert page.visible("noscript .note")


def test_no_dead_end_without_javascript_in_the_package(browser: Browser, package: Path) -> None:
    with watched(browser, package, javascript=False) as page:
        for name in plain_pages(package, "el"):
            page.goto(url(package, f"el/{name}"))
            assert dead_ends(page, package, "el") == [], name


def test_what_changed_leads_to_the_card_without_javascript(
    browser: Browser, split_site: Path
) -> None:
    with watched(browser, split_site, javascript=False) as page:
        page.goto(url(split_site, "el/index.html"))
        follow(page, '[data-changes="changes_added"] a')
        at(page, "el/lesson-calm.html")
        assert page.evaluate("() => location.hash") == "#card-el-smile"
        assert page.text("#card-el-smile .card-q") == "Τι δείχνει ένα χαμόγελο;"


def test_with_javascript_the_links_stay_in_the_course_page(
    browser: Browser, split_site: Path
) -> None:
    """The outline's, the pager's and the "what changed" list's links are the course page's
    views once course.js has run, as before the plain pages had a pager of their own."""
    with watched(browser, split_site) as page:
        page.goto(url(split_site, "el/index.html"))
        page.expect_view("home")
        assert page.attr('[data-changes="changes_added"] a', "href") == "#card-el-smile"
        page.click('.lesson-list a[data-lesson-link="six-skills"]')
        for lesson, title in LESSONS[1:]:
            page.wait_for("() => !!document.querySelector('.view.is-current .pager a.next')")
            assert page.attr(".view.is-current .pager a.next", "href") == f"#lesson/{lesson}"
            page.click(".view.is-current .pager a.next")
            page.expect_view(f"lesson/{lesson}")
            page.wait_for("() => !!document.querySelector('.view.is-current .lesson-body')")
            assert page.text(".view.is-current h1") == title
        assert page.attr(".view.is-current .pager a.prev", "href") == "#lesson/career"
        page.click(".view.is-current .pager a.prev")
        page.expect_view("lesson/career")
        assert page.evaluate("() => location.pathname").endswith("/el/index.html")
        page.goto(url(split_site, "el/index.html#home"))
        page.expect_view("home")
        page.click('[data-changes="changes_added"] a')
        page.expect_view("lesson/calm")
        page.wait_for(
            "() => document.activeElement && document.activeElement.id === 'card-el-smile'"
        )
