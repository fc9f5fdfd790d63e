"""The course's design, measured in Chromium and Firefox: a compact header that never wraps or
jumps, lesson navigation beside the text or behind a menu, placeholders that fit, axe-core clean
in light and dark, and (Chromium, which can emulate print media) what a printout shows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from browsers import Browser, ChromiumPage, Page
from sitekit import FIXTURE, STORAGE_KEY, url, watched

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def header_height(page: Page) -> float:
    height: float = page.evaluate(
        "() => document.querySelector('.site-header').getBoundingClientRect().height"
    )
    return height


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_header_is_one_compact_row(browser: Browser, site: Path, size: dict[str, int]) -> None:
    with watched(browser, site, **size) as page:
        page.goto(url(site, "pl/index.html"))
        page.expect_view("home")
        before = header_height(page)
        assert before <= 64
        # a long title stays on one line, cut with an ellipsis, the whole of it in the tooltip
        title = "Umiejętności w obsłudze klienta – bardzo długi tytuł kursu, " * 3
        page.evaluate(
            "(t) => { const b = document.querySelector('.brand'); b.textContent = t; b.title = t; }",
            title,
        )
        assert header_height(page) == before
        assert page.evaluate(
            "() => { const b = document.querySelector('.brand');"
            " return b.scrollWidth > b.clientWidth && getComputedStyle(b).textOverflow === 'ellipsis'; }"
        )
        # the badge empties (nothing due) and fills again: the header keeps its height
        assert page.text("[data-due-badge]") == "4"
        link = "() => document.querySelector('.review-link').getBoundingClientRect().width"
        width = page.evaluate(link)
        page.evaluate("() => { document.querySelector('[data-due-badge]').textContent = ''; }")
        assert header_height(page) == before
        assert page.evaluate(link) == width  # nothing moves sideways either
        # the first content starts right under the header
        top = page.evaluate("() => document.querySelector('#home h1').getBoundingClientRect().top")
        assert top < before + 48


LONG_WORDS = """---
id: long-words
title: Długie słowa
lang: pl
order: 2
---

## Współpraca

Z kim współpracujesz w obsłudze klienta?::Z klientami, współpracownikami, przełożonymi i dostawcami oprogramowania. <!-- id: pl-long-1 -->

Kto odpowiada za jakość?::Najwyżejwykwalifikowanyspecjalistaodjakościobsługiklienta. <!-- id: pl-long-2 -->
"""


@pytest.mark.parametrize("width", [320, 360])
def test_a_card_sheet_of_long_words_fits_a_phone(
    browser: Browser, tmp_path: Path, width: int
) -> None:
    """A card sheet's question and answer columns wrap a word longer than they are wide (Polish
    has many): the sheet is as wide as a 360 px phone, never wider, and the page does not scroll
    sideways (WCAG 1.4.10 Reflow: 320 CSS px)."""
    from course import pipeline
    from course.lessons import load_library

    shutil.copytree(FIXTURE, tmp_path / "lessons")
    (tmp_path / "lessons" / "pl" / "02-long.md").write_text(LONG_WORDS, encoding="utf-8")
    pipeline.build(load_library(tmp_path / "lessons"), None, tmp_path / "site", scorm_dir=None)
    site = tmp_path / "site"
    with watched(browser, site, width=width, height=740) as page:
        page.goto(url(site, "pl/index.html#cards/long-words"))
        page.expect_view("cards/long-words")
        page_width, client, sheet = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
            " document.querySelector('.view.is-current .sheet').getBoundingClientRect().right]"
        )
        assert page_width <= client, f"the page scrolls sideways: {page_width} > {client}"
        assert sheet <= client
        # the words are all there, wrapped, not cut
        assert "Najwyżejwykwalifikowanyspecjalista" in page.text(".view.is-current .sheet").replace(
            "\n", ""
        ).replace("-", "")


def test_the_built_title_is_in_the_tooltip(browser: Browser, site: Path) -> None:
    with watched(browser, site, **PHONE) as page:
        page.goto(url(site, "el/index.html"))
        assert page.attr(".brand", "title") == "Δοκιμαστικό πρόγραμμα"


@pytest.mark.parametrize("lang", ["el", "pl", "lv"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_placeholders_fit(browser: Browser, site: Path, lang: str, size: dict[str, int]) -> None:
    with watched(browser, site, **size) as page:
        page.goto(url(site, f"{lang}/index.html#search"))
        page.expect_view("search")
        widths = page.evaluate(
            """() => [...document.querySelectorAll('input[placeholder]')]
              .filter(i => i.getBoundingClientRect().width > 0)
              .map(i => { const s = getComputedStyle(i);
                const c = document.createElement('canvas').getContext('2d');
                c.font = s.font;
                const room = i.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
                return [c.measureText(i.placeholder).width, room]; })"""
        )
        assert widths, "no visible search box"
        for text_width, room in widths:
            assert text_width <= room


def test_lesson_navigation_beside_the_text_on_wide_screens(browser: Browser, site: Path) -> None:
    with watched(browser, site, **DESKTOP) as page:
        page.goto(url(site, "el/index.html#lesson/career"))
        page.expect_view("lesson/career")
        assert page.visible("#sidebar")
        assert not page.visible("[data-menu]")
        side = page.evaluate(
            "() => document.querySelector('#sidebar').getBoundingClientRect().right"
        )
        text = page.evaluate(
            "() => document.querySelector('.view.is-current h1').getBoundingClientRect().left"
        )
        assert side <= text
        assert page.texts("#sidebar .nav-title") == ["Δεξιότητες επικοινωνίας", "Καριέρα"]
        assert page.count("#sidebar progress[data-lesson-bar]") == 2


def test_lesson_menu_on_phones(browser: Browser, site: Path) -> None:
    with watched(browser, site, **PHONE) as page:
        page.goto(url(site, "el/index.html"))
        page.expect_view("home")
        assert not page.visible("#sidebar")
        assert page.attr("[data-menu]", "aria-expanded") == "false"
        page.click("[data-menu]")
        page.wait_for("() => document.querySelector('#sidebar').checkVisibility()")
        assert page.attr("[data-menu]", "aria-expanded") == "true"
        assert page.evaluate("() => document.activeElement.closest('#sidebar') !== null")
        page.press("Escape")
        assert page.attr("[data-menu]", "aria-expanded") == "false"
        assert page.evaluate("() => document.activeElement.hasAttribute('data-menu')")
        page.click("[data-menu]")
        page.click_at(370, 400)  # on the dimmed page beside the menu
        assert page.attr("[data-menu]", "aria-expanded") == "false"
        page.click("[data-menu]")
        # the menu slides in (0.2 s): Firefox refuses a click on a link that is still moving
        page.wait_for(
            "() => { const s = document.querySelector('#sidebar');"
            " return s.checkVisibility({visibilityProperty: true}) && !s.getAnimations().length; }"
        )
        page.click('#sidebar a[href="#lesson/career"]')
        page.expect_view("lesson/career")
        assert page.attr("[data-menu]", "aria-expanded") == "false"  # following a link closes it


def test_tab_out_of_the_phone_menu_closes_it(browser: Browser, site: Path) -> None:
    """Keyboard on a phone: Tab from the open menu's last link closes the menu, so the focus never
    lands on the page under the dimmed overlay, hidden behind the drawer; going back into the
    header (Shift+Tab from its first link) keeps it open."""
    with watched(browser, site, **PHONE) as page:
        page.goto(url(site, "lv/index.html"))
        page.expect_view("home")
        page.click("[data-menu]")
        page.wait_for("() => document.activeElement.closest('#sidebar') !== null")
        page.evaluate("() => document.querySelector('.review-link').focus()")
        assert page.attr("[data-menu]", "aria-expanded") == "true"
        page.evaluate("() => document.querySelector('#sidebar a').focus()")
        page.evaluate("() => [...document.querySelectorAll('#sidebar a')].at(-1).focus()")
        assert page.attr("[data-menu]", "aria-expanded") == "true"
        page.press("Tab")
        assert page.evaluate("() => document.activeElement.closest('#sidebar') === null")
        assert page.attr("[data-menu]", "aria-expanded") == "false"
        assert not page.evaluate("() => document.documentElement.classList.contains('menu-open')")


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


AXE_PAGES = (
    ("index.html", None),
    ("el/index.html", "progress"),
    ("el/index.html#lesson/six-skills", "details"),
    ("el/index.html#cards/six-skills", None),
    ("el/index.html#home", "menu"),
    ("pl/index.html#review", "reveal"),
    ("lv/index.html#search?q=pacietiba", None),
    ("lv/index.html#lesson/nope", None),
)


def _act(page: Page, action: str | None) -> None:
    if action == "details":
        page.evaluate("() => { document.querySelector('.view.is-current details').open = true; }")
    elif action == "reveal":
        page.press("Space")
        assert page.visible("[data-grades]")
    elif action == "progress":
        damaged = {"v": 1, "items": {"el-empathy": {"due": "x"}}, "day": ""}
        page.set_storage(STORAGE_KEY, json.dumps(damaged))
        page.reload()
        assert page.visible("[data-notice]")
    elif action == "menu":
        page.set_viewport(PHONE["width"], PHONE["height"])
        page.click("[data-menu]")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility(browser: Browser, site: Path, scheme: str) -> None:
    """axe-core on every kind of view, with answers shown, some progress and the phone menu open
    (axe runs as devtools code: the page's CSP does not apply to it; loaded once per document)."""
    axe = _axe_source()
    problems: list[str] = []
    with watched(browser, site, scheme=scheme, **DESKTOP) as page:
        for path, action in AXE_PAGES:
            page.set_viewport(DESKTOP["width"], DESKTOP["height"])
            page.goto(url(site, path))
            page.wait_for("() => document.readyState === 'complete'")
            if "#" in path and path != "index.html":
                page.expect_view(
                    path.split("#")[1].split("?")[0].replace("lesson/nope", "not-found")
                )
            _act(page, action)
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate("() => {\n" + axe + "\n}")
            result = page.evaluate(
                "async () => { const r = await axe.run(document,"
                " {resultTypes: ['violations'], preload: false});"
                " return r.violations.map(v => [v.id, v.impact, v.help,"
                " v.nodes.slice(0, 3).map(n => n.target)]); }"
            )
            for rule, impact, help_, targets in result:
                if impact in ("serious", "critical"):
                    problems.append(f"{path} ({scheme}, {browser.name}): {rule} {help_} {targets}")
    assert not problems, "\n".join(problems)


def test_print_shows_the_text_not_the_controls(browser: Browser, site: Path) -> None:
    """Chromium only: WebDriver BiDi cannot emulate print media in Firefox. Both browsers' own
    print to PDF is checked by test_card_sheet and test_printed_lessons_start_on_a_new_page."""
    if browser.name != "chromium":
        pytest.skip("print media emulation needs Chromium (no BiDi command for it)")
    with watched(browser, site) as page:
        assert isinstance(page, ChromiumPage)
        page.goto(url(site, "el/index.html#lesson/six-skills"))
        page.expect_view("lesson/six-skills")
        page.emulate_print(True)
        assert page.visible('[data-card-id="el-key"] .card-a-body')
        for hidden in (".site-header", "#sidebar", ".pager", ".card-status", "summary"):
            assert not page.visible(hidden), hidden
        assert (
            page.evaluate("() => getComputedStyle(document.querySelector('.lesson')).breakBefore")
            == "page"
        )
        page.emulate_print(False)
        page.goto(url(site, "el/index.html#cards/six-skills"))
        page.expect_view("cards/six-skills")
        page.emulate_print(True)
        assert page.visible(".view.is-current .sheet")
        assert not page.visible("[data-print]")
