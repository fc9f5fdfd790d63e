"""The HTML course in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The fixture course (tests/fixtures/site-course: el, pl, lv) is built once with decks, and every
page is opened from file://, as a learner opens an unzipped folder. Every test's page records each
request and fails on any that is not a file inside the site, and on any console or page error.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course import pipeline
from course.lessons import load_library

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parent / "fixtures" / "site-course"
STORAGE_KEY = "course-progress:site-fixture:el"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture course built with decks (in a copy: a deck build writes mod times beside it)."""
    root = tmp_path_factory.mktemp("site-course")
    shutil.copytree(FIXTURE, root / "lessons")
    pipeline.build(load_library(root / "lessons"), root / "decks", root / "site")
    return root / "site"


@pytest.fixture(scope="module")
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(accept_downloads=True)
    try:
        yield ctx
    finally:
        ctx.close()


class Watched:
    """A page with its requests and errors recorded."""

    def __init__(self, page: Any, site: Path) -> None:
        self.page = page
        self.site = site
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def url(self, path: str) -> str:
        path, _, fragment = path.partition("#")
        return (self.site / path).as_uri() + (f"#{fragment}" if fragment else "")

    def goto(self, path: str) -> Any:
        self.page.goto(self.url(path))
        return self.page

    def check(self) -> None:
        root = self.site.resolve().as_uri() + "/"
        outside = [u for u in self.requests if not u.startswith(root)]
        assert not outside, f"requests outside the site: {outside}"
        assert not self.errors, f"console or page errors: {self.errors}"


@pytest.fixture
def web(context: Any, site: Path) -> Iterator[Watched]:
    page = context.new_page()
    watched = Watched(page, site)
    try:
        yield watched
        watched.check()
    finally:
        page.close()


def expect_view(page: Any, view: str, prefix: bool = False) -> None:
    """Wait for the view (hash changes are handled after the click or key that made them)."""
    check = "v.startsWith(view)" if prefix else "v === view"
    page.wait_for_function(
        f"view => {{ const v = document.querySelector('.view.is-current')?.id || ''; return {check}; }}",
        arg=view,
        timeout=5000,
    )


def test_landing_page_lists_languages_and_decks(web: Watched, site: Path) -> None:
    page = web.goto("index.html")
    assert page.get_attribute("html", "lang") == "en"
    for lang in ("el", "pl", "lv"):
        card = page.locator(f'.language-card[lang="{lang}"]')
        assert card.locator(f'a[href="{lang}/index.html"]').count() >= 1
        deck = card.locator("a[download]").get_attribute("href")
        assert deck == f"decks/site-fixture-{lang}.apkg"
        assert (site / deck).stat().st_size > 0
    assert page.locator(".language-card[lang=el] h3").inner_text() == "Δοκιμαστικό μάθημα"


@pytest.mark.parametrize(
    ("lang", "title", "counts"),
    [
        ("el", "Δοκιμαστικό μάθημα", ["6 κάρτες", "2 κάρτες"]),
        ("pl", "Kurs próbny", ["4 fiszki"]),
        ("lv", "Izmēģinājuma kurss", ["2 kartītes"]),
    ],
)
def test_language_home(web: Watched, lang: str, title: str, counts: list[str]) -> None:
    page = web.goto(f"{lang}/index.html")
    assert page.get_attribute("html", "lang") == lang
    expect_view(page, "home")
    assert page.locator("#home h1").inner_text() == title
    assert page.locator(".lesson-list .meta > span:first-child").all_inner_texts() == counts
    assert page.locator("#home [data-progress-summary]").inner_text()
    assert page.locator("#lesson\\/six-skills, #lesson\\/strengths").first.is_hidden()
    assert page.title() == title


def test_follow_a_lesson_and_reveal_a_card(web: Watched) -> None:
    page = web.goto("el/index.html")
    page.get_by_role("link", name="Δεξιότητες επικοινωνίας").first.click()
    assert page.url.endswith("#lesson/six-skills")
    expect_view(page, "lesson/six-skills")
    assert page.locator("#home").is_hidden()
    heading = page.locator(".view.is-current h1")
    assert heading.inner_text() == "Δεξιότητες επικοινωνίας"
    assert page.evaluate("document.activeElement.id") == "title-lesson/six-skills"
    assert page.title().startswith("Δεξιότητες επικοινωνίας")

    ids = page.locator(".view.is-current [data-card-id]").evaluate_all(
        "els => els.map(e => e.dataset.cardId)"
    )
    assert ids == ["el-empathy", "el-listen", "el-key", "el-apology"]
    assert page.locator(".view.is-current .card:not([data-card-id])").count() == 1  # no ID yet

    card = page.locator('[data-card-id="el-empathy"]')
    answer = card.locator(".card-a-body")
    assert answer.is_hidden()
    card.locator("summary").focus()
    page.keyboard.press("Enter")
    assert answer.is_visible()
    assert answer.inner_text() == "Η κατανόηση του πώς νιώθει ο άλλος."
    assert page.locator('img[alt="Ένα διάγραμμα"]').evaluate("img => img.naturalWidth") == 40

    # printed, a lesson shows its answers and not the page's controls
    page.emulate_media(media="print")
    assert page.locator('[data-card-id="el-key"] .card-a-body').is_visible()
    assert page.locator(".site-header").is_hidden()
    page.emulate_media(media="screen")

    # a lesson's URL opens it at the top, a section anchor opens the lesson and scrolls there
    web.goto("el/index.html#lesson/career")
    page.wait_for_load_state("load")
    assert page.evaluate("window.scrollY") == 0
    expect_view(page, "lesson/career")
    web.goto("el/index.html#lesson/six-skills/σαφήνεια")
    expect_view(page, "lesson/six-skills")
    page.locator(".toc a").first.click()
    expect_view(page, "lesson/six-skills")


def test_language_switcher_leads_to_the_same_lesson(web: Watched) -> None:
    page = web.goto("el/index.html#lesson/six-skills")
    switch = page.locator(".lang-switch")
    assert (
        switch.locator("[data-switch=pl]").get_attribute("href")
        == "../pl/index.html#lesson/six-skills"
    )
    assert switch.locator("[data-switch=lv]").get_attribute("href") == "../lv/index.html"
    page.goto(web.url("el/index.html#lesson/career"))
    assert switch.locator("[data-switch=pl]").get_attribute("href") == "../pl/index.html"
    page.goto(web.url("el/index.html#lesson/six-skills"))
    switch.locator("[data-switch=pl]").click()
    page.wait_for_url(re.compile(r"/pl/index\.html#lesson/six-skills$"))
    assert page.get_attribute("html", "lang") == "pl"
    expect_view(page, "lesson/six-skills")
    assert page.locator(".view.is-current h1").inner_text() == "Umiejętności komunikacyjne"


def test_review_with_the_keyboard_keeps_progress(web: Watched) -> None:
    page = web.goto("el/index.html")
    page.evaluate(f"localStorage.removeItem('{STORAGE_KEY}')")
    page.get_by_role("link", name="Επανάληψη", exact=False).first.click()
    expect_view(page, "review")
    card = page.locator("[data-review-card]")
    assert card.get_attribute("data-card-id") == "el-empathy"
    assert (
        page.locator("[data-review-status]").inner_text()
        == "0 κάρτες για επανάληψη · 8 νέες κάρτες"
    )

    seen = []
    for _ in range(3):
        seen.append(card.get_attribute("data-item-id"))
        assert page.locator("[data-review-back]").inner_text() == ""
        page.keyboard.press("Space")
        assert page.locator("[data-review-back]").inner_text() != ""
        assert page.locator("[data-grades]").is_visible()
        intervals = page.locator("[data-interval]").all_inner_texts()
        assert all(intervals)
        assert len(set(intervals)) > 1
        page.keyboard.press("3")
    assert seen == ["el-empathy", "el-listen", "el-listen:r"]
    assert card.get_attribute("data-item-id") == "el-key:c1"
    page.keyboard.press("Enter")
    assert "το κλειδί" in page.locator("[data-review-back] mark").inner_text()
    page.keyboard.press("4")

    stored = json.loads(page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')"))
    assert sorted(stored["items"]) == ["el-empathy", "el-key:c1", "el-listen", "el-listen:r"]
    assert stored["newToday"] == 4

    page.reload()
    expect_view(page, "review")
    assert card.get_attribute("data-item-id") == "el-key:c2"
    assert (
        page.locator("[data-review-status]").inner_text()
        == "0 κάρτες για επανάληψη · 4 νέες κάρτες"
    )

    # another page of the same language (same document, another URL) sees the same progress
    page.goto(web.url("el/index.html#lesson/six-skills"))
    status = page.locator('[data-card-id="el-empathy"] .card-status')
    assert status.get_attribute("data-state") == "scheduled"
    assert status.inner_text().startswith("Επόμενη επανάληψη")
    assert page.locator('[data-card-id="el-apology"] .card-status').inner_text() == "Νέα"
    assert (
        page.locator(".view.is-current [data-progress-lesson]").inner_text()
        == "· Μελετημένες: 4 από 6"
    )
    page.goto(web.url("el/index.html"))
    assert page.locator("[data-progress-summary]").inner_text().startswith("Μελετημένες: 4 από 8")
    # ...and another language does not
    page.goto(web.url("pl/index.html"))
    assert page.locator("[data-progress-summary]").inner_text().startswith("Przerobione: 0 z 4")


def test_export_import_and_reset(web: Watched, tmp_path: Path) -> None:
    page = web.goto("el/index.html#review")
    page.evaluate(f"localStorage.removeItem('{STORAGE_KEY}')")
    page.reload()
    page.keyboard.press("Space")
    page.keyboard.press("3")
    with page.expect_download() as info:
        page.get_by_role("button", name="Εξαγωγή προόδου").click()
    download = info.value
    assert download.suggested_filename == "site-fixture-el-progress.json"
    saved = tmp_path / "progress.json"
    download.save_as(saved)
    exported = json.loads(saved.read_text(encoding="utf-8"))
    assert exported["course"] == "site-fixture"
    assert list(exported["items"]) == ["el-empathy"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Διαγραφή προόδου").click()
    assert page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')") is None
    assert page.locator("[data-tools-status]").inner_text() == "Η πρόοδος διαγράφηκε."

    page.locator("[data-import-file]").set_input_files(str(saved))
    page.wait_for_function(
        "() => document.querySelector('[data-tools-status]').textContent.includes('1')"
    )
    assert page.locator("[data-tools-status]").inner_text() == "Εισήχθη η πρόοδος 1 κάρτας."
    assert (
        "el-empathy" in json.loads(page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')"))["items"]
    )

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**exported, "lang": "pl"}), encoding="utf-8")
    page.locator("[data-import-file]").set_input_files(str(wrong))
    page.wait_for_function(
        "() => document.querySelector('[data-tools-status]').textContent.includes('δεν')"
    )
    # the blob: URL of the export is the page's own data, not a request to anywhere
    web.requests = [u for u in web.requests if not u.startswith("blob:")]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ΕΠΙΚΟΙΝΩΝΊΑΣ", "επικοινωνιασ"),
        ("Ενσυναίσθηση", "ενσυναισθηση"),
        ("ΐ ΰ ς Σ", "ι υ σ σ"),
        ("Łatwość ŻÓŁW ąćęńśź", "latwosc zolw acensz"),
        ("Ķīmija āčēģīķļņšūž", "kimija acegiklnsuz"),
        ("α\u0301", "α"),
    ],
)
def test_search_folding(web: Watched, text: str, folded: str) -> None:
    page = web.goto("el/index.html")
    assert page.evaluate("(s) => window.Course.fold(s)", text) == folded


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("el/index.html", "ΕΠΙΚΟΙΝΩΝΙΑΣ", "Δεξιότητες επικοινωνίας"),
        ("el/index.html", "συγγνωμη", "Ποια τρία στοιχεία έχει μια καλή συγγνώμη;"),
        ("el/index.html", "εξελιξης", "Δρόμοι εξέλιξης"),
        ("pl/index.html", "latwosc", "Umiejętności komunikacyjne"),
        ("pl/index.html", "ZYCZLIWOSC", "Życzliwość"),
        ("lv/index.html", "kimija", "Stiprās puses"),
    ],
)
def test_search(web: Watched, path: str, query: str, expected: str) -> None:
    page = web.goto(path)
    page.locator("#search-q").fill(query)
    page.keyboard.press("Enter")
    expect_view(page, "search")
    assert "#search?q=" in page.url
    titles = page.locator(".result > a").all_inner_texts()
    assert expected in titles
    assert page.locator(".result mark").count() >= 1
    page.locator(".result > a", has_text=expected).first.click()
    expect_view(page, "lesson/", prefix=True)
    # the search URL works on its own
    page.goto(web.url(path) + "#search?q=" + query)
    assert expected in page.locator(".result > a").all_inner_texts()


def test_plural_counts_follow_the_language(web: Watched) -> None:
    page = web.goto("lv/index.html#search?q=zzzz")
    assert page.locator("[data-search-status]").inner_text() == "0 rezultātu"
    page.goto(web.url("lv/index.html#search?q=pacietiba"))
    assert page.locator("[data-search-status]").inner_text() == "2 rezultāti"
    page.goto(web.url("pl/index.html#search?q=empatia"))
    assert page.locator("[data-search-status]").inner_text() == "2 wyniki"
    page.goto(web.url("lv/index.html#search?q=kimija"))
    assert page.locator("[data-search-status]").inner_text() == "1 rezultāts"
    page.goto(web.url("el/index.html#search?q=κλειδι"))
    assert page.locator("[data-search-status]").inner_text() == "2 αποτελέσματα"
    page.goto(web.url("el/index.html#search?q=ακροαση"))
    assert page.locator("[data-search-status]").inner_text() == "1 αποτέλεσμα"


def test_readable_without_javascript(browser: Any, site: Path) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto((site / "el" / "index.html").as_uri() + "#lesson/career")
        assert page.locator("#lesson\\/six-skills h1").is_visible()
        assert page.locator("#lesson\\/career h1").is_visible()
        assert page.locator("#review").is_hidden()
        assert page.locator("noscript").count() == 1
    finally:
        ctx.close()


def test_content_security_policy(web: Watched) -> None:
    for path in ("index.html", "el/index.html"):
        page = web.goto(path)
        csp = page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content")
        assert "default-src 'none'" in csp
        assert "script-src 'self'" in csp
        assert "connect-src 'none'" in csp
    # the page's own scripts ran under that policy
    assert page.evaluate(
        "typeof window.FSRS === 'object' && document.documentElement.classList.contains('js')"
    )


AXE_JS = None


def _axe_source() -> Path:
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).parent / "axe.min.js"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility(browser: Any, site: Path, scheme: str) -> None:
    """axe-core on the landing page, a home, a lesson (answer open) and the review (answer shown).

    axe is injected as a script, so this context alone bypasses the CSP."""
    ctx = browser.new_context(bypass_csp=True, color_scheme=scheme)
    axe = _axe_source().read_text(encoding="utf-8")
    problems: list[str] = []
    try:
        page = ctx.new_page()
        for path, action in (
            ("index.html", None),
            ("el/index.html", None),
            ("el/index.html#lesson/six-skills", "details"),
            ("pl/index.html#review", "reveal"),
            ("lv/index.html#search?q=pacietiba", None),
        ):
            page.goto(
                (site / path.split("#")[0]).as_uri()
                + ("#" + path.split("#")[1] if "#" in path else "")
            )
            if action == "details":
                page.locator("details").first.evaluate("d => d.open = true")
            elif action == "reveal":
                page.keyboard.press("Space")
                assert page.locator("[data-grades]").is_visible()
            page.add_script_tag(content=axe)
            result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            for violation in result["violations"]:
                if violation["impact"] in ("serious", "critical"):
                    targets = [node["target"] for node in violation["nodes"]][:3]
                    problems.append(
                        f"{path} ({scheme}): {violation['id']} {violation['help']} {targets}"
                    )
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)
