"""The HTML course without a browser: golden pages, message catalogues, plurals, self-containment.

Golden files: the pages built from tests/fixtures/site-course are compared byte for byte with
tests/golden/site/. After an intended change of the templates, the catalogues or site.py,
regenerate them and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_site.py
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from course import anki, check, markup, messages, site
from course.lessons import load_library
from course.model import CardKind, Lesson, Library, SiteText

FIXTURE = Path(__file__).parent / "fixtures" / "site-course"
GOLDEN = Path(__file__).parent / "golden" / "site"
PACKAGE = Path(site.__file__).parent
LOCALES = PACKAGE / "locales"
LANGS = sorted(p.stem for p in LOCALES.glob("*.json"))


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(FIXTURE)


@pytest.fixture(scope="module")
def built(library: Library, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    decks = {}
    for course in library.courses:
        decks[course.lang] = root / f"{course.lang}.apkg"
        decks[course.lang].write_bytes(b"not really a deck")
    out = root / "site"
    out.mkdir()
    site.write_site(library, out, decks)
    return out


def test_site_files(built: Path) -> None:
    files = sorted(str(p.relative_to(built)) for p in built.rglob("*") if p.is_file())
    assert files == [
        "assets/check.js",
        "assets/course.css",
        "assets/course.js",
        "assets/fsrs.js",
        "assets/progress.js",
        "assets/queue.js",
        "assets/scorm.js",
        "assets/search.js",
        "decks/site-fixture-el.apkg",
        "decks/site-fixture-lv.apkg",
        "decks/site-fixture-pl.apkg",
        "el/guide.html",
        "el/index.html",
        "index.html",
        "lv/guide.html",
        "lv/index.html",
        "media/419adde104b44c44b9f8.png",
        "pl/guide.html",
        "pl/index.html",
    ]
    for name in site.STATIC_FILES:
        assert (built / "assets" / name).read_bytes() == (PACKAGE / "static" / name).read_bytes()


@pytest.mark.parametrize("page", ["index.html", "el/index.html", "pl/index.html", "lv/index.html"])
def test_golden_pages(built: Path, page: str) -> None:
    got = (built / page).read_bytes()
    golden = GOLDEN / page
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(got)
    assert golden.exists(), f"{golden} missing: run with UPDATE_GOLDEN=1"
    assert got == golden.read_bytes(), f"{page} differs from {golden} (UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("lang", ["el", "pl", "lv"])
def test_each_navigation_landmark_has_a_name_of_its_own(built: Path, lang: str) -> None:
    """A screen reader lists landmarks by name: the sidebar's lessons and each lesson's pager
    (previous and next lesson) are two, so their names differ (axe `landmark-unique`)."""
    page = (built / lang / "index.html").read_text("utf-8")
    names = re.findall(r'<nav\b[^>]*\baria-label="([^"]*)"', page)
    sidebar = re.findall(r'<nav class="sidebar"[^>]*\baria-label="([^"]*)"', page)
    assert len(sidebar) == 1, names
    assert len(names) > 1, names
    assert names.count(sidebar[0]) == 1, names  # the pagers share one name, not the sidebar's


def test_build_is_deterministic(library: Library, built: Path, tmp_path: Path) -> None:
    again = tmp_path / "site"
    again.mkdir()
    decks = {lang: built / "decks" / f"site-fixture-{lang}.apkg" for lang in ("el", "pl", "lv")}
    site.write_site(library, again, decks)
    for path in built.rglob("*"):
        if path.is_file():
            assert (again / path.relative_to(built)).read_bytes() == path.read_bytes(), path


def test_no_deck_no_download_link(library: Library, tmp_path: Path) -> None:
    site.write_site(library, tmp_path, {"el": tmp_path / "missing.apkg"})
    assert not (tmp_path / "decks").exists()
    for page in ("index.html", "el/index.html", "pl/index.html"):
        assert '" download>' not in (tmp_path / page).read_text("utf-8")


class Attributes(HTMLParser):
    """Every (tag, attributes) of a page, and the text of its course-data block."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data = ""
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_data = tag == "script" and dict(attrs).get("id") == "course-data"

    def handle_endtag(self, tag: str) -> None:
        self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data += data


def parse(path: Path) -> Attributes:
    parser = Attributes()
    parser.feed(path.read_text("utf-8"))
    return parser


def test_card_ids_are_the_deck_ids(library: Library, built: Path) -> None:
    for course in library.courses:
        page = parse(built / course.lang / "index.html")
        on_page = [a["data-card-id"] for _tag, a in page.tags if "data-card-id" in a]
        in_deck = [note.card_id for note in anki.notes_for(course)]
        assert on_page == in_deck
        data = json.loads(page.data)
        assert {item["card"] for item in data["items"]} == set(in_deck)
        assert len(data["items"]) == site.item_count(course)
    items = [i["id"] for i in json.loads(parse(built / "el" / "index.html").data)["items"]]
    assert items == [
        "el-empathy", "el-listen", "el-listen:r", "el-key:c1", "el-key:c2", "el-apology",
        "el-career:c1", "el-career:c2",
    ]  # fmt: skip


def test_an_outline_counts_a_lessons_review_items_as_its_page_does(library: Library) -> None:
    """A split page's outline (`full=False`) shows each lesson's count of review items, not of
    cards: a reversed card is two items, a cloze one per number."""
    alone: dict[str, list[str]] = {
        lesson.id: [] for course in library.courses for lesson in course.lessons
    }
    pages = [
        (site._lesson_page(course, n, alone, full=False), len(site.review_items(lesson)))
        for course in library.courses
        for n, lesson in enumerate(course.lessons, 1)
    ]
    assert [page.count for page, _ in pages] == [items for _, items in pages]
    assert any(items != len(page.lesson.cards) for page, items in pages)  # the fixture can tell


def test_nothing_is_loaded_from_elsewhere(built: Path) -> None:
    for page in built.rglob("*.html"):
        for tag, attrs in parse(page).tags:
            for name in ("src", "href"):
                value = attrs.get(name) or ""
                if tag == "a" and name == "href":
                    continue  # links the learner may follow (a lesson's source) are not loads
                assert not re.match(r"[a-z]+:|//", value), f"{page}: <{tag} {name}={value!r}>"
        text = page.read_text("utf-8")
        assert "style=" not in text
        assert not re.search(
            r"<[^>]*\son\w+=", re.sub(r"<script.*?</script>", "", text, flags=re.S)
        )
        assert "content=\"default-src 'none'" in text.replace("&#39;", "'")
    assert not re.search(r"url\(|@import", (built / "assets" / "course.css").read_text("utf-8"))
    for name in site.SCRIPTS:
        script = (built / "assets" / name).read_text("utf-8")
        assert not re.search(r"fetch\(|XMLHttpRequest|import\(|https?:", script), name


def test_json_block_cannot_close_its_script() -> None:
    text = site._json_for_html({"x": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text
    assert ">" not in text
    assert "&" not in text
    assert json.loads(text) == {"x": "</script><script>alert(1)</script> & <!--"}


def test_headings_have_ids_and_lessons_their_own_h1(built: Path) -> None:
    page = parse(built / "el" / "index.html")
    ids = [
        a.get("id")
        for tag, a in page.tags
        if tag == "h2" and (a.get("id") or "").startswith("lesson/")
    ]
    assert ids == [
        "lesson/six-skills/ενσυναίσθηση",
        "lesson/six-skills/σαφήνεια",
        "lesson/career/δρόμοι-εξέλιξης",
    ]
    h1 = [a.get("id") for tag, a in page.tags if tag == "h1"]
    assert h1 == [
        "title-home",
        "title-lesson/six-skills",
        "title-lesson/career",
        "title-cards/six-skills",
        "title-cards/career",
        "title-review",
        "title-search",
        "title-not-found",
    ]


# -- catalogues ------------------------------------------------------------------------------------


def load(lang: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((LOCALES / f"{lang}.json").read_text("utf-8"))
    return data


def used_keys() -> set[str]:
    """Message keys the templates, site.py, render.py and the page's scripts ask for."""
    keys: set[str] = set()
    sources = [*(PACKAGE / "templates" / "site").glob("*.html"), PACKAGE / "site.py"]
    sources.append(PACKAGE / "render.py")
    for path in sources:
        text = path.read_text("utf-8")
        keys |= set(re.findall(r"""\b(?:t|m)(?:\.n)?\(\s*["'](\w+)["']""", text))
        keys |= set(re.findall(r"""\((?:\d|"\w+"), "(\w+)"\)""", text))  # (grade|name, key) tables
        keys |= set(re.findall(r"""\["t"\]\("(\w+)"\)""", text))  # the site's render rules
    for name in site.SCRIPTS:
        script = (PACKAGE / "static" / name).read_text("utf-8")
        keys |= set(re.findall(r"""\btn?\(\s*"(\w+)\"""", script))
    return keys


def test_there_are_catalogues() -> None:
    assert {"en", "el", "pl", "lv"} <= set(LANGS)


def test_every_used_key_is_in_every_catalogue() -> None:
    used = used_keys()
    assert len(used) > 40
    for lang in LANGS:
        missing = used - set(load(lang))
        assert not missing, f"{lang}.json lacks {sorted(missing)}"
    unused = set(load("en")) - used
    assert not unused, f"keys no template or script uses: {sorted(unused)}"


@pytest.mark.parametrize("lang", LANGS)
def test_catalogue_matches_english(lang: str) -> None:
    english, own = load("en"), load(lang)
    assert set(own) == set(english)
    categories = set(Locale.parse(lang).plural_form.tags) | {"other"}
    for key, text in own.items():
        reference = english[key]
        if isinstance(reference, dict):
            assert isinstance(text, dict), f"{lang}.json {key}: needs plural forms"
            assert set(text) == categories, f"{lang}.json {key}: plural forms {sorted(categories)}"
            forms = list(text.values())
            wanted = set(re.findall(r"\{\w+\}", next(iter(reference.values()))))
        else:
            assert isinstance(text, str), f"{lang}.json {key}"
            assert text.strip(), f"{lang}.json {key}"
            assert isinstance(reference, str), f"en.json {key}"
            forms = [text]
            wanted = set(re.findall(r"\{\w+\}", reference))
        for form in forms:
            assert set(re.findall(r"\{\w+\}", form)) == wanted, f"{lang}.json {key}: {form!r}"


@pytest.mark.parametrize(
    ("lang", "counts"),
    [
        ("pl", {1: "1 fiszka", 2: "2 fiszki", 4: "4 fiszki", 5: "5 fiszek", 12: "12 fiszek", 22: "22 fiszki",
                25: "25 fiszek", 0: "0 fiszek", 10000: "10\u00a0000 fiszek"}),
        ("lv", {0: "0 kartīšu", 1: "1 kartīte", 2: "2 kartītes", 10: "10 kartīšu", 11: "11 kartīšu",
                21: "21 kartīte", 22: "22 kartītes"}),
        ("el", {0: "0 κάρτες", 1: "1 κάρτα", 2: "2 κάρτες", 1000: "1.000 κάρτες"}),
        ("en", {1: "1 card", 2: "2 cards", 1000: "1,000 cards"}),
    ],
)  # fmt: skip
def test_plural_forms(lang: str, counts: dict[int, str]) -> None:
    t = messages.messages(lang)
    assert {n: t.n("cards_count", n) for n in counts} == counts


def test_messages_fill_placeholders() -> None:
    t = messages.messages("lv")
    assert t("lesson_number", n=3) == "3. nodarbība"
    assert t.n("results_count", 21) == "21 rezultāts"
    with pytest.raises(TypeError):
        t("cards_count")


def test_a_language_without_catalogue_falls_back_to_english(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURE, lessons)
    shutil.copytree(lessons / "pl", lessons / "xx")
    for md in (lessons / "xx").glob("*.md"):
        md.write_text(
            md.read_text("utf-8").replace("lang: pl", "lang: xx").replace("pl-", "xx-"), "utf-8"
        )
    out = tmp_path / "site"
    out.mkdir()
    with caplog.at_level(logging.WARNING, logger="course.site"):
        site.write_site(load_library(lessons), out, {})
    page = (out / "xx" / "index.html").read_text("utf-8")
    assert '<html lang="xx">' in page
    assert "Course home" in page
    assert "4 cards" in page
    assert "no message catalogue" in caplog.text
    assert 'href="../xx/index.html#lesson/six-skills"' in (out / "el" / "index.html").read_text(
        "utf-8"
    )


# -- hosting, print, scripts ----------------------------------------------------------------------


def test_the_site_is_readable_by_anyone(tmp_path: Path) -> None:
    """A web server that does not own the files must be able to serve them, whatever the umask
    and mkdtemp's 0700 (the build puts the site in place from a temporary folder)."""
    from course import pipeline

    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURE, lessons)
    old = os.umask(0o077)
    try:
        pipeline.build(load_library(lessons), tmp_path / "decks", tmp_path / "site")
    finally:
        os.umask(old)
    out = tmp_path / "site"
    modes = {p: p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    assert {oct(m) for p, m in modes.items() if p.is_dir()} == {"0o755"}
    assert {oct(m) for p, m in modes.items() if p.is_file()} == {"0o644"}
    assert len([p for p in modes if p.is_file()]) > 10


def test_print_style() -> None:
    """Paper: margins on every page, a new page for each lesson and card sheet."""
    css = (PACKAGE / "static" / "course.css").read_text("utf-8")
    page_rule = re.search(r"@page\s*\{([^}]*)\}", css)
    assert page_rule, "no @page rule"
    margins = re.search(r"margin:\s*([^;]+);", page_rule.group(1))
    assert margins
    assert all(float(re.sub(r"[a-z]+$", "", v)) >= 10 for v in margins.group(1).split())
    print_css = "".join(re.findall(r"@media print \{(.*?)\n\}", css, flags=re.S))
    assert re.search(r"\.lesson, \.card-sheet \{ break-before: page; \}", print_css)


def test_scripts_load_in_the_order_site_lists_them(built: Path) -> None:
    page = parse(built / "pl" / "index.html")
    tags = [a["src"] for tag, a in page.tags if tag == "script" and a.get("src")]
    assert tags == [f"../assets/{name}" for name in site.SCRIPTS]
    pure = ("fsrs.js", "search.js", "progress.js", "queue.js")
    assert all(site.SCRIPTS.index(name) < site.SCRIPTS.index("course.js") for name in pure)
    for name in site.SCRIPTS:
        assert (PACKAGE / "static" / name).is_file()


def test_lesson_facts_match_the_review_items(library: Library) -> None:
    """`LessonFacts.of` counts a lesson's size from its cards' sides without making its review
    items (`_items_size`) and decides its check from items made one by one: the same as the
    page's text and `review_items` give, for basic, reversed and cloze cards alike."""
    kinds = set()
    for course in library.courses:
        for lesson in course.lessons:
            items = site.review_items(lesson)
            kinds |= {card.kind for card in lesson.cards}
            sides = sum(len(item.front) + len(item.back) for item in items)
            facts = site.LessonFacts().of(lesson)
            assert facts.size == len(site.lesson_body(lesson)) + sides
            assert facts.graded == check.has_check(items)
    assert kinds == set(CardKind)  # every kind of card is counted here


def test_card_sheet_rows(library: Library) -> None:
    """The card sheet's rows (`LessonPage.sheet_rows`, made in Python for the template) are what
    the template's own loop over the review items gave: one line each, numbered from 1, front
    and back as rendered."""
    loop = site._environment().from_string(
        "{% for item in page.items %}\n"
        "      <tr><td>{{ loop.index }}</td><td>{{ item.front|safe }}</td>"
        "<td>{{ item.back|safe }}</td></tr>\n"
        "{% endfor %}\n"
    )
    languages_of = site.lesson_languages(library)
    pages = 0
    for course in library.courses:
        for number in range(1, len(course.lessons) + 1):
            page = site._lesson_page(course, number, languages_of)
            assert page.items
            assert page.sheet_rows == loop.render(page=page)
            pages += 1
    assert pages == 4


def test_search_texts_kept_from_the_lessons_pass(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A split page's writer keeps each lesson's part of the search script made while the
    lesson's strings were loaded for its files (`SearchTexts`), up to its room: a kept part is
    taken without loading the lesson again, and is the part made from the lesson; past the
    room, parts are made again when taken."""
    lessons = [lesson for course in library.courses for lesson in course.lessons]
    parts = {lesson: site._search_text(lesson) for lesson in lessons}
    first = len(parts[lessons[0]])
    assert first > 0
    texts = site.SearchTexts(room=first)  # room for the first lesson's part only
    for lesson in lessons:
        texts.keep(lesson)
    loaded: list[Lesson] = []
    site_text = Lesson.site_text

    def spy(lesson: Lesson) -> SiteText:
        loaded.append(lesson)
        return site_text(lesson)

    monkeypatch.setattr(Lesson, "site_text", spy)
    assert [texts.take(lesson) for lesson in lessons] == [parts[lesson] for lesson in lessons]
    assert loaded == lessons[1:]
    assert texts.take(lessons[0]) == parts[lessons[0]]  # taken once, dropped: made again
    assert loaded == [*lessons[1:], lessons[0]]


def test_split_page_search_script_with_parts_kept(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A split page's search script and its package's runs are the same whether the parts were
    kept from the lessons' pass (`SearchTexts`) or made again when the script is written (no
    room)."""
    course = library.courses[0]
    page = site.CourseSite(
        library, course, site._languages(library), site.lesson_languages(library), split_bytes=0
    )
    written: dict[int, dict[str, str]] = {}
    for room in (0, site.SEARCH_KEPT):
        monkeypatch.setattr(site, "SEARCH_KEPT", room)
        files: dict[str, str] = {}
        env = site._environment()

        def emit(name: str, chunks: Iterable[str], files: dict[str, str] = files) -> None:
            files[name] = "".join(chunks)

        page.write(env, emit, None, split=True)

        def runs(
            name: str, segments: Iterable[site.SearchSegment], files: dict[str, str] = files
        ) -> None:
            files["runs"] = "".join(segment.text(True)[0] for segment in segments)

        package = site.package_site(library, course)
        package.write(env, lambda name, chunks: None, None, split=True, segments=runs)
        written[room] = files
    assert written[0] == written[site.SEARCH_KEPT]
    assert site.SEARCH_SCRIPT in written[0]


@given(st.text(), st.text(), st.booleans())
def test_lesson_link_is_what_markup_format_gave(lesson_id: str, target: str, split: bool) -> None:
    """`lesson_link` builds its attributes with escape() and an f-string: the same markup as
    Markup.format gave (each value escaped, quotes included)."""
    link = site.lesson_link(lesson_id, split, target)
    if split:
        href = site.static_page_name(lesson_id) + (f"#{target}" if target else "")
        expected = Markup('href="{}" data-lesson-link="{}"').format(href, lesson_id)
    else:
        expected = Markup('href="#{}"').format(target or markup.lesson_anchor(lesson_id))
    assert isinstance(link, Markup)
    assert link == expected
