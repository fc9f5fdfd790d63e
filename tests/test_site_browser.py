"""The HTML course as learners use it, in Chromium and in Firefox (tests/browsers.py).

The fixture course (tests/fixtures/site-course: el, pl, lv) is built once with decks and every
page is opened from file://. Every page fails its test on a console or page error and on anything
loaded from outside the site (sitekit.watched).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from browsers import Browser, Page
from sitekit import (
    FIXTURE,
    STORAGE_KEY,
    capture_downloads,
    last_download,
    pdf_pages,
    stored,
    url,
    watched,
)

pytestmark = pytest.mark.browser


def open_page(page: Page, site: Path, path: str) -> Page:
    page.goto(url(site, path))
    return page


def test_landing_page_lists_languages_and_decks(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "index.html")
        assert page.attr("html", "lang") == "en"
        for lang in ("el", "pl", "lv"):
            card = f'.language-card[lang="{lang}"]'
            assert page.count(f'{card} a[href="{lang}/index.html"]') >= 1
            deck = page.attr(f"{card} a[download]", "href")
            assert deck == f"decks/site-fixture-{lang}.apkg"
            assert (site / deck).stat().st_size > 0
        assert page.text(".language-card[lang=el] h3") == "Δοκιμαστικό πρόγραμμα"


@pytest.mark.parametrize(
    ("lang", "title", "counts"),
    [
        ("el", "Δοκιμαστικό πρόγραμμα", ["6 κάρτες", "2 κάρτες"]),
        ("pl", "Kurs próbny", ["4 fiszki"]),
        ("lv", "Izmēģinājuma kurss", ["2 kartītes"]),
    ],
)
def test_language_home(
    browser: Browser, site: Path, lang: str, title: str, counts: list[str]
) -> None:
    with watched(browser, site) as page:
        open_page(page, site, f"{lang}/index.html")
        assert page.attr("html", "lang") == lang
        page.expect_view("home")
        assert page.text("#home h1") == title
        assert page.texts(".lesson-list .meta > span:first-child") == counts
        assert not page.visible("#lesson\\/six-skills, #lesson\\/strengths")
        assert page.evaluate("() => document.title") == title
        # the dashboard: nothing studied yet, every card waiting
        assert page.text('[data-stat="studied"] [data-stat-value]') == "0"
        assert page.attr("[data-course-bar]", "value") is not None
        assert page.count("[data-forecast] li") == 7


def test_follow_a_lesson_and_reveal_a_card(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.click('.lesson-list a[href="#lesson/six-skills"]')
        page.expect_view("lesson/six-skills")
        assert page.url().endswith("#lesson/six-skills")
        assert not page.visible("#home")
        assert page.text(".view.is-current h1") == "Δεξιότητες επικοινωνίας"
        assert page.evaluate("() => document.activeElement.id") == "title-lesson/six-skills"
        assert page.evaluate("() => document.title").startswith("Δεξιότητες επικοινωνίας")
        ids = page.evaluate(
            "() => [...document.querySelectorAll('.view.is-current [data-card-id]')]"
            ".map(e => e.dataset.cardId)"
        )
        assert ids == ["el-empathy", "el-listen", "el-key", "el-apology"]
        assert page.count(".view.is-current .card:not([data-card-id])") == 1  # no ID yet

        body = '[data-card-id="el-empathy"] .card-a-body'
        assert not page.visible(body)
        page.evaluate(
            "() => document.querySelector('[data-card-id=\"el-empathy\"] summary').focus()"
        )
        page.press("Enter")
        assert page.visible(body)
        assert page.text(body) == "Η κατανόηση του πώς νιώθει ο άλλος."
        assert (
            page.evaluate("() => document.querySelector('img[alt=\"Ένα διάγραμμα\"]').naturalWidth")
            == 40
        )

        # a lesson's URL opens it at the top; a section anchor opens the lesson and scrolls there
        page.goto(url(site, "el/index.html#lesson/career"))
        page.wait_for("() => document.readyState === 'complete'")
        page.expect_view("lesson/career")
        assert page.evaluate("() => window.scrollY") == 0
        page.goto(url(site, "el/index.html#lesson/six-skills/σαφήνεια"))
        page.expect_view("lesson/six-skills")
        # the sidebar shows the current lesson open, with its sections, the one asked for marked
        assert page.attr('[data-nav-lesson="six-skills"] > a', "aria-current") == "page"
        assert page.visible('[data-nav-lesson="six-skills"] .nav-sections')
        here = '#sidebar .nav-sections a[aria-current="location"]'
        assert page.texts(here) == ["Σαφήνεια"]
        # scrolled back to the top, no section has been reached yet
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for(f"() => !document.querySelector('{here}')")
        page.click('[data-nav-lesson="six-skills"] .nav-sections a')
        page.expect_view("lesson/six-skills")


def test_language_switcher_leads_to_the_same_lesson(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#lesson/six-skills")
        assert page.attr("[data-switch=pl]", "href") == "../pl/index.html#lesson/six-skills"
        assert page.attr("[data-switch=lv]", "href") == "../lv/index.html"
        page.goto(url(site, "el/index.html#lesson/career"))
        page.expect_view("lesson/career")
        assert page.attr("[data-switch=pl]", "href") == "../pl/index.html"
        page.goto(url(site, "el/index.html#lesson/six-skills"))
        page.expect_view("lesson/six-skills")
        page.click("[data-switch=pl]")
        # Wait for the new document itself: Firefox may still report the old URL for a moment.
        page.wait_for(
            "() => location.pathname.endsWith('/pl/index.html')"
            " && document.documentElement?.lang === 'pl'"
        )
        assert page.evaluate("() => location.href").endswith("/pl/index.html#lesson/six-skills")
        page.expect_view("lesson/six-skills")
        assert page.text(".view.is-current h1") == "Umiejętności komunikacyjne"


def review_one(page: Page, rating: str = "3") -> str:
    item = page.attr("[data-review-card]", "data-item-id")
    assert item
    page.press("Space")
    assert page.visible("[data-grades]")
    page.press(rating)
    return item


def test_review_with_the_keyboard_keeps_progress(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.click('.site-nav a[href="#review"]')
        page.expect_view("review")
        assert page.attr("[data-review-card]", "data-card-id") == "el-empathy"
        assert page.text("[data-review-status]") == "0 κάρτες για επανάληψη · 8 νέες κάρτες"
        assert page.text("[data-session-text]") == "Κάρτα 1 από 8"

        seen = []
        for _ in range(3):
            seen.append(page.attr("[data-review-card]", "data-item-id"))
            assert page.text("[data-review-back]") == ""
            page.press("Space")
            assert page.text("[data-review-back]") != ""
            intervals = page.texts("[data-interval]")
            assert all(intervals)
            assert len(set(intervals)) > 1
            page.press("3")
        assert seen == ["el-empathy", "el-listen", "el-listen:r"]
        assert page.attr("[data-review-card]", "data-item-id") == "el-key:c1"
        assert page.evaluate("() => document.querySelector('[data-session-bar]').value") == 3
        page.press("Enter")
        assert "το κλειδί" in page.text("[data-review-back] mark")
        page.press("4")

        saved = stored(page)
        assert sorted(saved["items"]) == ["el-empathy", "el-key:c1", "el-listen", "el-listen:r"]
        assert saved["newToday"] == 4

        page.reload()
        page.expect_view("review")
        assert page.attr("[data-review-card]", "data-item-id") == "el-key:c2"
        assert page.text("[data-review-status]") == "0 κάρτες για επανάληψη · 4 νέες κάρτες"

        # another view of the same language (same document, another URL) sees the same progress
        page.goto(url(site, "el/index.html#lesson/six-skills"))
        page.expect_view("lesson/six-skills")
        status = '[data-card-id="el-empathy"] .card-status'
        assert page.attr(status, "data-state") == "scheduled"
        assert page.text(status).startswith("Επόμενη επανάληψη")
        assert page.text('[data-card-id="el-apology"] .card-status') == "Νέα"
        assert page.text(".view.is-current [data-progress-lesson]") == "Μελετημένες: 4 από 6"
        bar = '#sidebar [data-lesson-bar="six-skills"]'
        assert page.evaluate(f"() => document.querySelector('{bar}').value") == 4
        page.goto(url(site, "el/index.html"))
        page.expect_view("home")
        assert page.text("[data-progress-summary]").startswith("Μελετημένες: 4 από 8")
        assert page.text('[data-stat="streak"] [data-stat-value]') == "1"
        # ...and another language does not
        page.goto(url(site, "pl/index.html"))
        page.wait_for("() => document.documentElement?.lang === 'pl'")
        assert page.text("[data-progress-summary]").startswith("Przerobione: 0 z 4")


def test_a_review_session_ends_with_a_summary(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "pl/index.html#review")
        page.expect_view("review")
        assert not page.visible("[data-review-summary]")
        ratings = ["3", "4", "4", "4"]
        for rating in ratings:
            review_one(page, rating)
        # "Good" on a new card leaves a learning step due in 10 minutes: within the learn-ahead
        # limit it comes back in this session; then the session is over
        review_one(page, "4")
        page.wait_for("() => !document.querySelector('[data-review-summary]').hidden")
        assert page.text("[data-summary-count]") == "Powtórzono 5 fiszek."
        grades = page.evaluate(
            "() => [...document.querySelectorAll('[data-summary-grade]')].map(e => e.textContent)"
        )
        assert grades == ["0", "0", "1", "4"]
        assert not page.visible("[data-review-card]")
        assert not page.visible("[data-session-bar]")


def test_export_import_and_reset(browser: Browser, site: Path, tmp_path: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#review")
        page.expect_view("review")
        review_one(page)
        capture_downloads(page)
        page.click("[data-export]")
        name, text = last_download(page)
        assert name == "site-fixture-el-progress.json"
        exported = json.loads(text)
        assert exported["course"] == "site-fixture"
        assert list(exported["items"]) == ["el-empathy"]
        saved = tmp_path / "progress.json"
        saved.write_text(text, encoding="utf-8")

        page.click("[data-reset]")  # the confirmation dialog is accepted
        page.wait_for("() => document.querySelector('[data-tools-status]').textContent !== ''")
        assert page.text("[data-tools-status]") == "Η πρόοδος διαγράφηκε."
        assert stored(page)["items"] == {}

        page.set_files("[data-import-file]", saved)
        page.wait_for(
            "() => document.querySelector('[data-tools-status]').textContent.includes('1')"
        )
        assert page.text("[data-tools-status]") == "Εισήχθη η πρόοδος 1 κάρτας."
        assert "el-empathy" in stored(page)["items"]

        wrong = tmp_path / "wrong.json"
        wrong.write_text(json.dumps({**exported, "lang": "pl"}), encoding="utf-8")
        page.set_files("[data-import-file]", wrong)
        page.wait_for(
            "() => document.querySelector('[data-tools-status]').textContent.includes('δεν')"
        )


def _card(due: Any = None, state: Any = 2, **fields: Any) -> dict[str, Any]:
    now = int(time.time() * 1000)
    card = {
        "due": now - 60_000 if due is None else due, "stability": 3.2, "difficulty": 5.1,
        "state": state, "step": None, "last_review": now - 3 * 86_400_000, "reps": 2, "lapses": 0,
    }  # fmt: skip
    return {**card, **fields}


def progress_file(items: dict[str, Any], **extra: Any) -> str:
    head = {"format": "course-progress", "version": 1, "course": "site-fixture", "lang": "el"}
    return json.dumps({**head, "items": items, **extra})


def test_an_import_with_bad_entries_keeps_the_good_ones(
    browser: Browser, site: Path, tmp_path: Path
) -> None:
    """Unknown state, a due date that is not a number, a card the course does not have: skipped
    and said so; the valid entry is imported and the review goes on with the keyboard."""
    upload = tmp_path / "progress.json"
    upload.write_text(
        progress_file(
            {
                "el-empathy": _card(),
                "el-listen": _card(state=99),
                "el-listen:r": _card(due="soon"),
                "el-gone": _card(),
            }
        ),
        encoding="utf-8",
    )
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#review")
        page.expect_view("review")
        page.set_files("[data-import-file]", upload)
        page.wait_for("() => document.querySelector('[data-tools-status]').textContent !== ''")
        assert page.text("[data-tools-status]") == (
            "Εισήχθη η πρόοδος 1 κάρτας. 2 εγγραφές δεν ήταν έγκυρες και παραλείφθηκαν."
            " 1 εγγραφή αφορά κάρτα που δεν υπάρχει σε αυτό το εκπαιδευτικό πρόγραμμα."
        )
        assert sorted(stored(page)["items"]) == ["el-empathy"]
        # the imported card is due: it comes first, and the keyboard works on it
        assert page.attr("[data-review-card]", "data-item-id") == "el-empathy"
        page.press("Space")
        assert page.text("[data-review-back]") == "Η κατανόηση του πώς νιώθει ο άλλος."
        page.press("1")
        assert page.attr("[data-review-card]", "data-item-id") == "el-listen"
        assert stored(page)["items"]["el-empathy"]["lapses"] == 1


def test_reset_and_import_keep_the_days_new_card_limit(
    browser: Browser, site: Path, tmp_path: Path
) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#review")
        page.expect_view("review")
        # a day with the limit reached: 20 new cards begun today (the course has 8; say 20)
        today = page.evaluate("() => CourseProgress.dayKey(Date.now())")
        state = {"v": 1, "items": {}, "day": today, "newToday": 20, "days": {}, "ext": {}}
        page.set_storage(STORAGE_KEY, json.dumps(state))
        page.reload()
        page.expect_view("review")
        assert not page.visible("[data-review-card]")
        assert "νέες κάρτες για σήμερα" in page.text("[data-review-status]")

        page.click("[data-reset]")
        page.wait_for("() => document.querySelector('[data-tools-status]').textContent !== ''")
        assert stored(page)["newToday"] == 20
        assert not page.visible("[data-review-card]")

        upload = tmp_path / "progress.json"
        upload.write_text(progress_file({}, day=today, newToday=3), encoding="utf-8")
        page.set_files("[data-import-file]", upload)
        page.wait_for(
            "() => document.querySelector('[data-tools-status]').textContent.includes('0')"
        )
        assert stored(page)["newToday"] == 20
        assert not page.visible("[data-review-card]")


def test_damaged_stored_progress_is_kept_aside(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.set_storage(STORAGE_KEY, "{not json")
        page.goto(url(site, "el/index.html#review"))
        page.reload()
        page.expect_view("review")
        assert page.visible("[data-notice]")
        assert page.text("[data-notice-text]").startswith("Η πρόοδος που είχε αποθηκευτεί")
        backups = page.evaluate(
            "(k) => Object.keys(localStorage).filter(n => n.startsWith(k + ':backup:'))",
            STORAGE_KEY,
        )
        assert len(backups) == 1
        # a rating saves fresh progress; the damaged original stays where it was kept
        review_one(page)
        assert page.storage(backups[0]) == "{not json"
        assert list(stored(page)["items"]) == ["el-empathy"]
        capture_downloads(page)
        page.click("[data-notice-download]")
        assert last_download(page) == ("site-fixture-el-progress-damaged.json", "{not json")
        assert page.count("[data-backups] button") == 1
        # the next load finds valid progress: no notice, and still one copy
        page.reload()
        page.expect_view("review")
        assert not page.visible("[data-notice]")
        assert (
            page.evaluate(
                "(k) => Object.keys(localStorage).filter(n => n.startsWith(k + ':backup:')).length",
                STORAGE_KEY,
            )
            == 1
        )


def test_a_stored_entry_with_a_bad_value_does_not_break_a_lesson(
    browser: Browser, site: Path
) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        state = {
            "v": 1, "day": "", "newToday": 0,
            "items": {"el-empathy": _card(due=1e300), "el-listen": _card(due=time.time() * 1000 + 86_400_000 * 3)},
        }  # fmt: skip
        page.set_storage(STORAGE_KEY, json.dumps(state))
        page.goto(url(site, "el/index.html#lesson/six-skills"))
        page.reload()
        page.expect_view("lesson/six-skills")
        assert page.text('[data-card-id="el-empathy"] .card-status') == "Νέα"
        assert (
            page.text('[data-card-id="el-listen"] .card-status') == "Για επανάληψη τώρα"
        )  # :r is new
        assert page.text("[data-notice-text]").endswith(
            "1 εγγραφή δεν ήταν έγκυρη και παραλείφθηκε."
        )
        backup = page.evaluate(
            "(k) => Object.keys(localStorage).find(n => n.startsWith(k + ':backup:'))", STORAGE_KEY
        )
        assert json.loads(page.storage(backup) or "") == state


@pytest.mark.parametrize("query", ["κλειδί & ακρόαση", "c++ & a+b", "50% ή 100%", "α=β#γ?δ"])
def test_search_keeps_the_query_whole(browser: Browser, site: Path, query: str) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.fill("#search-q", query)
        page.press("Enter")
        page.expect_view("search")
        assert page.evaluate("() => document.querySelector('#search-q').value") == query
        assert page.evaluate("() => CourseSearch.queryFromHash(location.hash)") == query
        page.reload()
        page.expect_view("search")
        assert page.evaluate("() => document.querySelector('#search-q').value") == query


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
def test_search(browser: Browser, site: Path, path: str, query: str, expected: str) -> None:
    with watched(browser, site) as page:
        open_page(page, site, path)
        page.fill("#search-q", query)
        page.press("Enter")
        page.expect_view("search")
        assert "#search?q=" in page.url()
        assert expected in page.texts(".result > a")
        assert page.count(".result mark") >= 1
        href = page.evaluate(
            "(t) => [...document.querySelectorAll('.result > a')].find(a => a.innerText === t)"
            ".getAttribute('href')",
            expected,
        )
        page.click(f'.result > a[href="{href}"]')
        page.expect_view("lesson/", prefix=True)
        # the search URL works on its own
        page.goto(url(site, path) + "#search?q=" + query)
        page.expect_view("search")
        assert expected in page.texts(".result > a")


def test_search_on_a_phone(browser: Browser, site: Path) -> None:
    with watched(browser, site, width=390, height=844) as page:
        open_page(page, site, "pl/index.html")
        assert not page.visible("#search-q")
        page.click(".search-link a")
        page.expect_view("search")
        page.fill("#search-q2", "empatia")
        page.press("Enter")
        page.wait_for("() => location.hash === '#search?q=empatia'")
        assert page.text("[data-search-status]") == "2 wyniki"


def test_plural_counts_follow_the_language(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        for path, status in (
            ("lv/index.html#search?q=zzzz", "0 rezultātu"),
            ("lv/index.html#search?q=pacietiba", "2 rezultāti"),
            ("pl/index.html#search?q=empatia", "2 wyniki"),
            ("lv/index.html#search?q=kimija", "1 rezultāts"),
            ("el/index.html#search?q=κλειδι", "2 αποτελέσματα"),
            ("el/index.html#search?q=ακροαση", "1 αποτέλεσμα"),
        ):
            page.goto(url(site, path))
            page.expect_view("search")
            assert page.text("[data-search-status]") == status, path


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("el/index.html#lesson/nope", "Η σελίδα δεν βρέθηκε"),
        ("el/index.html#lesson/six-skills/nope", "Η σελίδα δεν βρέθηκε"),
        ("el/index.html#card-nope", "Η σελίδα δεν βρέθηκε"),
        ("pl/index.html#cards/nope", "Nie znaleziono strony"),
        ("lv/index.html#nope", "Lapa nav atrasta"),
        ("pl/index.html#not-found", "Nie znaleziono strony"),  # the view's own id: no address
    ],
)
def test_an_unknown_address_says_so(browser: Browser, site: Path, path: str, heading: str) -> None:
    with watched(browser, site) as page:
        open_page(page, site, path)
        page.expect_view("not-found")
        assert page.text("#not-found h1") == heading
        assert page.text("[data-missing]") == "#" + path.split("#")[1]
        page.click('#not-found a[href="#home"]')
        page.expect_view("home")


def test_card_sheet(browser: Browser, site: Path, tmp_path: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#lesson/six-skills")
        page.expect_view("lesson/six-skills")
        page.click('.view.is-current a[href="#cards/six-skills"]')
        page.expect_view("cards/six-skills")
        rows = page.evaluate(
            "() => [...document.querySelectorAll('.view.is-current .sheet tbody tr')]"
            ".map(r => [...r.cells].map(c => c.innerText.trim()))"
        )
        assert rows[0] == ["1", "Τι είναι η ενσυναίσθηση;", "Η κατανόηση του πώς νιώθει ο άλλος."]
        assert rows[2] == ["3", "Προσεκτικό άκουσμα με ερωτήσεις.", "Ενεργητική ακρόαση"]
        assert rows[3][1] == "Η καλή επικοινωνία είναι […] για την εξυπηρέτηση."
        assert len(rows) == 6
        # it prints (the browser's own print to PDF): one A4 page or more
        pdf = tmp_path / "sheet.pdf"
        page.pdf(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")


def test_printed_lessons_start_on_a_new_page(browser: Browser, site: Path, tmp_path: Path) -> None:
    """Printed without JavaScript the whole course prints: the home, then each lesson and each
    card sheet from the top of a new page (the fixture's lessons are short: without the page
    breaks they would share pages)."""
    with watched(browser, site, javascript=False) as page:
        open_page(page, site, "el/index.html")
        pdf = tmp_path / "course.pdf"
        page.pdf(pdf)
        lessons, sheets = page.count("article.lesson"), page.count("section.card-sheet")
        assert (lessons, sheets) == (2, 2)
        assert pdf_pages(pdf) >= 1 + lessons + sheets


def test_readable_without_javascript(browser: Browser, site: Path) -> None:
    with watched(browser, site, javascript=False) as page:
        open_page(page, site, "el/index.html#lesson/career")
        assert page.visible("#lesson\\/six-skills h1")
        assert page.visible("#lesson\\/career h1")
        assert page.visible("#sidebar")
        assert not page.visible("#review")
        assert not page.visible("#not-found")
        assert page.count("noscript") >= 1


def test_content_security_policy(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        for path in ("index.html", "el/index.html"):
            open_page(page, site, path)
            csp = page.attr('meta[http-equiv="Content-Security-Policy"]', "content") or ""
            assert "default-src 'none'" in csp
            assert "script-src 'self'" in csp
            assert "connect-src 'none'" in csp
        # the page's own scripts ran under that policy
        assert page.evaluate(
            "() => typeof window.FSRS === 'object' && typeof window.CourseQueue === 'object'"
            " && document.documentElement.classList.contains('js')"
        )


def test_hooks_for_features(browser: Browser, site: Path) -> None:
    """The documented events a feature (SCORM, a lesson check) plugs into."""
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.evaluate(
            "() => { window.__events = [];"
            " for (const name of ['progress', 'view']) Course.on(name, d =>"
            "   window.__events.push([name, d.reason || d.view]));"
            " document.addEventListener('course:view', e => window.__events.push(['dom', e.detail.id])); }"
        )
        page.goto(url(site, "el/index.html#review"))
        page.expect_view("review")
        review_one(page)
        events = page.evaluate("() => window.__events")
        assert events == [["view", "review"], ["dom", "review"], ["progress", "review"]]
        assert page.evaluate("() => Course.extension('check', {six: 0.8})") == {"six": 0.8}
        assert stored(page)["ext"] == {"check": {"six": 0.8}}
        got = page.evaluate(
            "(card) => Course.merge({'el-key:c1': card, 'nope': card, 'el-key:c2': {due: 'x'}})",
            _card(),
        )
        assert (got["taken"], got["unknown"]) == (1, 1)
        assert "el-key:c1" in stored(page)["items"]


def test_progress_that_cannot_be_saved_is_said_so(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "pl/index.html#review")
        page.expect_view("review")
        page.evaluate(
            "() => { Storage.prototype.setItem = () => {"
            " throw new DOMException('full', 'QuotaExceededError'); }; }"
        )
        item = review_one(page)
        assert page.visible("[data-notice]")
        assert page.text("[data-notice-text]").startswith("Nie udało się zapisać postępów")
        # the page goes on with the progress it holds
        assert page.evaluate("() => Object.keys(Course.state().items)") == [item]
        assert page.attr("[data-review-card]", "data-item-id") != item


# Fills the page's localStorage to its quota, as other file:// pages can (Chromium gives them all
# one origin), then frees `reserve` characters.
FILL_STORAGE = """(reserve) => {
  localStorage.setItem('filler-reserve', 'x'.repeat(reserve));
  let n = 0;
  for (let size = 1 << 20; size >= 1; size >>= 1) {
    const chunk = 'x'.repeat(size);
    for (;;) {
      try { localStorage.setItem('filler-' + n++, chunk); } catch (e) { break; }
    }
  }
  localStorage.removeItem('filler-reserve');
}"""


def fill_storage(page: Page, reserve: int = 0) -> None:
    page.evaluate(FILL_STORAGE, reserve)
    assert (
        page.evaluate(
            "() => { try { localStorage.setItem('x-probe', 'x'.repeat(1000));"
            " return true; } catch (e) { return false; } }"
        )
        is False
    )


def test_progress_in_a_full_storage_is_shown_and_kept(browser: Browser, site: Path) -> None:
    """localStorage full (the probe write fails) but readable: the stored progress is shown and
    used, the save-failed notice says so, and the stored copy loses nothing."""
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#review")
        page.expect_view("review")
        reviewed = {review_one(page), review_one(page)}
        before = page.storage(STORAGE_KEY)
        fill_storage(page)
        page.goto(url(site, "el/index.html#home"))
        page.reload()
        page.expect_view("home")
        assert page.text('[data-stat="studied"] [data-stat-value]') == "2"
        assert page.visible("[data-notice]")
        assert page.text("[data-notice-text]").startswith("Η πρόοδός σου δεν μπόρεσε")
        assert not page.visible("[data-notice-download]")
        page.goto(url(site, "el/index.html#review"))
        page.expect_view("review")
        assert page.text("[data-tools-status]") == "", "reading works: not 'storage off'"
        assert page.attr("[data-review-card]", "data-item-id") not in reviewed
        reviewed.add(review_one(page))
        assert set(page.evaluate("() => Object.keys(Course.state().items)")) == reviewed
        assert page.storage(STORAGE_KEY) == before
        capture_downloads(page)
        page.click("[data-export]")
        assert set(json.loads(last_download(page)[1])["items"]) == reviewed


def test_damaged_progress_that_cannot_be_copied_aside_is_not_overwritten(
    browser: Browser, site: Path
) -> None:
    """Damaged stored progress, and too little room left for its copy aside (enough for the probe
    write): the notice says no copy could be made and offers the original from memory; reviews
    save nothing over it until the learner has downloaded it."""
    key = "course-progress:site-fixture:pl"
    items: dict[str, Any] = {f"pl-gone-{i}": {"due": "never"} for i in range(300)}
    state = {"v": 1, "day": "", "newToday": 0, "items": {"pl-empathy": _card(), **items}}
    original = json.dumps(state)
    with watched(browser, site) as page:
        open_page(page, site, "pl/index.html")
        page.set_storage(key, original)
        fill_storage(page, reserve=300)
        page.goto(url(site, "pl/index.html#review"))
        page.reload()
        page.expect_view("review")
        assert page.visible("[data-notice]")
        text = page.text("[data-notice-text]")
        assert text.startswith(
            "Postępy zapisane w tej przeglądarce były uszkodzone, a w jej pamięci"
        )
        assert "300 wpisów było nieprawidłowych" in text
        assert not page.evaluate(
            "(k) => Object.keys(localStorage).some(n => n.startsWith(k + ':backup:'))", key
        )
        reviewed = {"pl-empathy", review_one(page), review_one(page)}
        assert page.storage(key) == original, "nothing saved over the original"
        assert page.visible("[data-notice-download]")
        capture_downloads(page)
        page.click("[data-notice-download]")
        assert last_download(page) == ("site-fixture-pl-progress-damaged.json", original)
        # the learner has the original: the page saves again
        assert set(json.loads(page.storage(key) or "")["items"]) == reviewed


def test_blocked_storage_is_said_on_every_view(playwright_chromium: Any, site: Path) -> None:
    """Site data blocked (reading localStorage throws): the notice says, on the first view
    already (a learner who only reads lessons and takes checks), that nothing will be kept."""
    context = playwright_chromium.new_context()
    try:
        context.add_init_script(
            "Object.defineProperty(window, 'localStorage', { get() {"
            " throw new DOMException('The operation is insecure.', 'SecurityError'); } })"
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for path, start in (
            ("pl/index.html#lesson/six-skills", "Ta przeglądarka nie pozwala stronie niczego"),
            ("lv/index.html", "Šis pārlūks neļauj lapai neko saglabāt"),
        ):
            page.goto(url(site, path))
            notice = page.locator("[data-notice]")
            notice.wait_for(state="visible", timeout=5000)
            assert notice.locator("[data-notice-text]").inner_text().startswith(start)
            assert notice.locator("[data-notice-download]").is_hidden()
        assert not errors, errors
    finally:
        context.close()


def test_damaged_progress_from_another_tab_is_kept_aside(browser: Browser, site: Path) -> None:
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.expect_view("home")
        page.evaluate(
            "(key) => window.dispatchEvent(new StorageEvent('storage',"
            " {key, newValue: '[1, 2', storageArea: localStorage}))",
            STORAGE_KEY,
        )
        assert page.visible("[data-notice]")
        backups = page.evaluate(
            "(k) => Object.keys(localStorage).filter(n => n.startsWith(k + ':backup:'))"
            ".map(n => localStorage.getItem(n))",
            STORAGE_KEY,
        )
        assert backups == ["[1, 2"]


def test_a_card_fsrs_cannot_schedule_never_blocks_the_review(browser: Browser, site: Path) -> None:
    """The last guard behind validation: should FSRS ever refuse a stored card, the learner
    still sees the answer and rates it (as a new card) instead of being stuck."""
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html")
        page.set_storage(STORAGE_KEY, json.dumps({"v": 1, "items": {"el-empathy": _card()}}))
        page.goto(url(site, "el/index.html#review"))
        page.reload()
        page.expect_view("review")
        page.evaluate(
            "() => { const review = FSRS.review; FSRS.review = (card, ...rest) => {"
            " if (card.reps === 2) throw new RangeError('FSRS: unknown card state');"
            " return review(card, ...rest); }; }"
        )
        assert review_one(page, "3") == "el-empathy"
        assert stored(page)["items"]["el-empathy"]["reps"] == 1
        assert page.attr("[data-review-card]", "data-item-id") == "el-listen"


PROSE_ONLY = """---
id: prose
title: "Σημειώσεις"
lang: el
order: 3
---

Μόνο κείμενο, χωρίς κάρτες.
"""


def test_a_lesson_without_cards_shows_a_full_bar(browser: Browser, tmp_path: Path) -> None:
    from course import pipeline
    from course.lessons import load_library

    shutil.copytree(FIXTURE, tmp_path / "lessons")
    (tmp_path / "lessons" / "el" / "03-prose.md").write_text(PROSE_ONLY, encoding="utf-8")
    pipeline.build(load_library(tmp_path / "lessons"), None, tmp_path / "site", scorm_dir=None)
    site = tmp_path / "site"
    bar = (
        "(id) => { const b = document.querySelector(`#sidebar [data-lesson-bar='${id}']`);"
        " return [b.value, b.max, b.classList.contains('is-done')]; }"
    )
    with watched(browser, site) as page:
        open_page(page, site, "el/index.html#lesson/prose")
        page.expect_view("lesson/prose")
        # done (queue.js): nothing left to study, so the bar is full, not 0 of 1
        assert page.evaluate(bar, "prose") == [1, 1, True]
        # a lesson with cards, none studied, is empty and not done
        assert page.evaluate(bar, "career") == [0, 2, False]
