"""Site stage: Library -> Jinja2 templates -> a static HTML course that works from a plain folder.

Layout of the output (every link relative, so the folder works from file:// and from any host):

    index.html              landing page: choose a language, download its deck or its SCORM zip
    <lang>/index.html       ONE document per language: course home, every lesson, review, search
    <lang>/lessons/<id>.js  a large course (SPLIT_BYTES): each lesson's content, loaded by the page
    <lang>/search-data.js   ... and the search records, loaded on the first search
    <lang>/lesson-<id>.html ... and each lesson as a plain page, for readers without JavaScript
    assets/                 CSS and JS shipped in this package (course/static/)
    media/<hash name>       lesson images
    decks/<course>-<lang>.apkg
    scorm/<course>-<lang>-scorm12.zip   (when the build made the packages)

Why one document per language: Firefox gives every file:// document its own localStorage, so
progress shared between lessons must live in one document. Its views are switched by the URL hash
(`#lesson/<id>`, `#review`, `#search?q=...`); without JavaScript the lessons still read as one
long page, and every anchor still scrolls to its place.

The data the scripts need (messages, review items, search records) comes in a
`<script type="application/json">` block, never fetch(): browsers refuse fetch() of file:// URLs.
A split page's lesson content and search records come from script files the page adds as
<script> elements when it needs them (course.js), for the same reason.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
import os
import shutil
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, Protocol

import babel
import jinja2
from markupsafe import Markup, escape

from . import anki, check, templating, zips
from .cache import tool_digest
from .markup import card_anchor, heading_id, lesson_anchor, sheet_anchor
from .messages import FALLBACK_LANG, Messages, messages
from .model import Card, CardKind, Course, Lesson, Library, SearchRecord, SiteText
from .places import RELEASE, Names
from .updates import ReleaseNotes

if TYPE_CHECKING:
    from .outputs import Pieces

NEW_PER_DAY = 20
"""New cards introduced per day in the browser review: Anki's default."""

SCRIPTS = (
    "fsrs.js",
    "search.js",
    "progress.js",
    "queue.js",
    "course.js",
    "scorm.js",
    "check.js",
)
"""The course page's scripts, in load order: the pure modules, then the DOM layer (course.js),
then the features that plug into the hooks course.js documents (`Course.on(...)`): the SCORM 1.2
adapter (scorm.js) and the graded lesson check (check.js)."""
STATIC_FILES = ("course.css", *SCRIPTS)
PACKAGE = Path(__file__).parent
"""The package's folder: its static files and templates (a path, not `importlib.resources`, as
messages.py says)."""
SITE_TEMPLATE = "course.html"
"""The course page."""
PAGE_FILE = "index.html"
ARTICLE_TEMPLATE = "lesson_check.html"
"""A lesson's article: `lesson.html` with the features' blocks filled (the lesson check)."""
SHEET_TEMPLATE = "lesson_sheet.html"
ALSO_IN_TEMPLATE = "lesson_also_in.html"
"""A lesson's "also in" links: all a package's lesson files lack (`_package_files`)."""
SECTIONS_TEMPLATE = "lesson_sections.html"
"""A lesson's sections in the sidebar."""
PACKAGE_TEMPLATE = "package.html"
"""The same page inside a SCORM package: no links out of it (no language switch)."""
SPLIT_BYTES = 1_000_000
"""Above this many bytes of rendered lessons (bodies and review items) a language's page keeps
only the course's outline: each lesson's content goes to `lessons/<id>.js`, loaded when the lesson
is opened, and the search records to `search-data.js`, loaded on the first search; the site and
the SCORM packages alike. Below it the page holds everything (one file, as small courses always
had)."""
LESSONS_DIR = "lessons"
SEARCH_SCRIPT = "search-data.js"
SEARCH_HEAD, SEARCH_TAIL = "Course.searchData([", "]);\n"
"""What the search script's records' list sits between (`search_script`, `search_runs`)."""
SEARCH_RUN = 8
"""A package's search script is deflated in runs of about this many lessons (`search_runs`),
each on its own (zips.Writer.add_segments): a rebuild deflates the runs of the lessons that
changed and copies the others compressed. Runs of one lesson each made the package's script
deflate to a third more bytes; of eight, to 5% more."""
SEARCH_KEPT = 1 << 22
"""Characters of the search script a split page's writer keeps (`SearchTexts`): each lesson's part
is made while the lesson's files are, its strings loaded then, and kept until the script is
written, as long as the parts kept stay under this; the others are made again then, their
lessons' strings loaded again (a 10k corpus's language has 1.4 million characters, a 100k
corpus's about 14 million: that much kept would cost the memory target)."""
DIR_MODE = 0o755
FILE_MODE = 0o644
"""The site is for anyone to read: a web server that is not its owner must be able to serve it."""

# 'self' lets the pages load their own scripts, styles and images when hosted, and from file:// in
# Chromium (checked by the browser tests). `file:` is listed too because Firefox gives each file://
# document an opaque origin that 'self' is not guaranteed to match; it widens nothing when hosted,
# since an http(s) page may never load file: URLs. Everything else, including connections, frames
# and forms, is refused: no request leaves the course's own files.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' file:",
        "style-src 'self' file:",
        "img-src 'self' file: data:",
        "connect-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
    )
)


# -- the model the templates see ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One reviewable side of a card, as the browser schedules it (`<id>`, `<id>:r`, `<id>:cN`)."""

    id: str
    card: str
    lesson: str
    kind: str
    front: str
    back: str

    def record(self) -> dict[str, str]:
        """The item as the page's scripts read it (a dict literal: `asdict` copies deeply)."""
        return {
            "id": self.id,
            "card": self.card,
            "lesson": self.lesson,
            "kind": self.kind,
            "front": self.front,
            "back": self.back,
        }


# The site reads a lesson's rendered strings (render.py) through `Lesson.site_text()` only: the
# library keeps them on disk until asked (spill.py), one lesson at a time.


def lesson_body(lesson: Lesson) -> str:
    """The lesson's rendered page text. Raises ValueError for a lesson loaded for the decks only
    (`load_library(site=False)`)."""
    return lesson.site_text().body


def search_records(lesson: Lesson) -> tuple[SearchRecord, ...]:
    return lesson.site_text().search


def _item_ids(card: Card) -> list[str]:
    """The IDs of a card's review items, in `review_items` order, without reading its sides."""
    assert card.id is not None
    if card.kind is CardKind.CLOZE:
        return [f"{card.id}:c{n}" for n in card.clozes]
    if card.kind is CardKind.REVERSED:
        return [card.id, f"{card.id}:r"]
    return [card.id]


def _item_total(card: Card) -> int:
    """How many IDs `_item_ids` gives the card, without making them."""
    if card.kind is CardKind.CLOZE:
        return len(card.clozes)
    return 2 if card.kind is CardKind.REVERSED else 1


def _lesson_items(lesson: Lesson) -> int:
    """How many review items the lesson has: `len(item_ids(lesson))`, `_item_total` of each
    card with an ID written out in one loop (the landing page counts every card of the course
    on every build that renders the site: 100,000 calls and generator steps took 17 ms)."""
    cloze, reversed_ = CardKind.CLOZE, CardKind.REVERSED
    total = 0
    for card in lesson.cards:
        if card.id is not None:
            kind = card.kind
            total += len(card.clozes) if kind is cloze else 2 if kind is reversed_ else 1
    return total


def item_ids(lesson: Lesson) -> list[str]:
    """The lesson's review item IDs, as `review_items` gives them."""
    return [i for card in lesson.cards if card.id is not None for i in _item_ids(card)]


def review_items(lesson: Lesson) -> list[ReviewItem]:
    """The lesson's review items, from its cards' rendered sides (render.py), with the IDs
    `_item_ids` gives: a cloze's side per cloze number, a reversed card's sides swapped."""
    return list(_review_items(lesson, lesson.site_text()))


def _review_items(lesson: Lesson, text: SiteText) -> Iterator[ReviewItem]:
    """`review_items` of the lesson whose strings are `text`, one by one."""
    for card, site in zip(lesson.cards, text.cards, strict=True):
        if card.id is None:
            continue
        ids, sides = _item_ids(card), site.sides
        kind = "cloze" if card.kind is CardKind.CLOZE else "basic"
        if kind == "basic":
            ((question, answer),) = sides
            sides = ((question, answer), (answer, question))[: len(ids)]
        for item, (front, back) in zip(ids, sides, strict=True):
            yield ReviewItem(item, card.id, lesson.id, kind, front, back)


def _items_size(lesson: Lesson, text: SiteText) -> int:
    """The characters of the lesson's review items' sides (`review_items`), counted without
    making them: a basic card's two sides once per item (a reversed card has two), a cloze's
    sides as they are."""
    size = 0
    for card, site in zip(lesson.cards, text.cards, strict=True):
        if card.id is None:
            continue
        sides = sum(len(front) + len(back) for front, back in site.sides)
        size += sides if card.kind is CardKind.CLOZE else sides * _item_total(card)
    return size


def item_count(course: Course) -> int:
    """Review items (Anki cards) of a course: as many as `_item_ids` gives (`review_items`),
    counted without making them (the course home asks it of every language, 100,000 cards)."""
    return sum(_lesson_items(lesson) for lesson in course.lessons)


def graded_lessons(course: Course, facts: LessonFacts | None = None) -> list[str]:
    """The IDs of the lessons with a graded check (check.py, as check.js decides), in order: a
    split package's `graded`, so that scorm.js reports a status without any lesson's script."""
    facts = LessonFacts() if facts is None else facts
    return [lesson.id for lesson in course.lessons if facts.of(lesson).graded]


def lesson_size(lesson: Lesson, facts: LessonFacts | None = None) -> int:
    """What a lesson adds to its page (SPLIT_BYTES): its text and its items' sides."""
    return (LessonFacts() if facts is None else facts).of(lesson).size


class Facts(NamedTuple):
    """What the course page needs to know of a lesson without its strings."""

    size: int
    """`lesson_size`."""
    graded: bool
    """Whether it has a graded check (`graded_lessons`)."""


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """Each lesson's `Facts`, found from its strings once and then known by the hash of what they
    are made from (`content`): `known` maps `<lang>/<lesson id>` to [key, size, graded]. The
    build keeps it between builds (outputs.Record.facts), so that deciding whether a page is
    split, and which lessons are graded, loads only the lessons that changed."""

    known: dict[str, list[object]] = field(default_factory=dict)
    contents: dict[Lesson, str] = field(default_factory=dict)
    """Each lesson's `content` key, once asked (the site and the package ask the same)."""
    indexes: dict[Lesson, str] = field(default_factory=dict)
    """Each lesson's review item IDs in a split page's index (`index`), once asked."""

    def index(self, lesson: Lesson) -> str:
        """The lesson's item IDs as a split page lists them (`_compact`): made once for the
        site's page and the package's (33,000 IDs a language at 100,000 cards)."""
        found = self.indexes.get(lesson)
        if found is None:
            found = self.indexes[lesson] = _compact(item_ids(lesson))
        return found

    def content(self, lesson: Lesson) -> str:
        """A hash of what the lesson's review items and its files on the site are made from,
        with the tool (`lesson_parts`)."""
        found = self.contents.get(lesson)
        if found is None:
            found = self.contents[lesson] = _key("lesson", lesson_parts(lesson))
        return found

    def of(self, lesson: Lesson) -> Facts:
        key = self.content(lesson)
        name = f"{lesson.lang}/{lesson.id}"
        match self.known.get(name):
            case [str(found), int(size), bool(graded)] if found == key:
                return Facts(size, graded)
        text = lesson.site_text()  # the items are made as far as has_check reads them
        size = len(text.body) + _items_size(lesson, text)
        facts = Facts(size, check.has_check(_review_items(lesson, text)))
        self.known[name] = [key, *facts]
        return facts


KEY_FORMAT = "site-pieces 1"
"""Part of every key `LessonFacts.content` and `CourseSite.lesson_key` give: change it when
what they cover changes."""


def _key(*parts: str) -> str:
    digest = hashlib.sha256()
    tool = (tool_digest(), jinja2.__version__, babel.__version__)
    for part in (KEY_FORMAT, *tool, zlib.ZLIB_RUNTIME_VERSION, *parts):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:32]


_LESSON = operator.attrgetter(
    "id", "title", "lang", "order", "path", "description", "tags", "translated_from"
)
_SECTION = operator.attrgetter("id", "title", "level", "loc.path", "loc.line")
_CARD = operator.attrgetter("id", "kind.value", "source_hash", "line", "id_line", "clozes", "tags")
_OUTLINE = operator.attrgetter("number", "anchor", "count", "toc", "translations", "prev", "next")
"""A `LessonPage` but its lesson, text and items."""
_COURSE = operator.attrgetter("id", "lang", "title", "description", "root", "mastery_score")
"""A `Course` but its lessons."""


def lesson_parts(lesson: Lesson) -> str:
    """Everything of a lesson that its review items and its files on the site come from: its
    strings (by their digest), every other field of it and of its cards but their deck strings
    (`Card.rendered`: the site's are in its strings) and their section (given by the lesson's
    `sections` and the cards' lines). Values only (no record's `repr`: a lesson's parts are
    asked on every build); tests/test_pieces.py checks that a change to any field of these
    records changes them."""
    source = lesson.source
    parts = (
        _LESSON(lesson),
        None if source is None else (source.title, source.publisher, source.url, source.author),
        [(media.path, media.name) for media in lesson.media],
        [_SECTION(section) for section in lesson.sections],
        [_CARD(card) for card in lesson.cards],
    )
    return f"{lesson.site_digest()}\0{parts!r}"


class Link(NamedTuple):
    """A lesson's neighbour in the pager: its ID (`lesson_link`) and title."""

    lesson: str
    title: str


@dataclass(frozen=True, slots=True)
class LessonPage:
    """What a lesson's page (or its part of a split page's outline) shows."""

    lesson: Lesson
    number: int
    anchor: str
    body: str
    """The lesson's text; empty in the outline of a split page (`outline`)."""
    items: tuple[ReviewItem, ...]
    """Review items (Anki cards) of the lesson: its card sheet, and what the review asks (empty
    in the outline of a split page)."""
    count: int
    """How many review items the lesson has."""
    toc: tuple[tuple[str, str], ...]
    """(heading id, title) of the lesson's top-level sections."""
    translations: tuple[tuple[str, str, str], ...]
    """(lang, language name, href) of the same lesson in the other languages."""
    prev: Link | None = None
    next: Link | None = None

    @property
    def sheet(self) -> str:
        return sheet_anchor(self.lesson.id)

    @property
    def sheet_rows(self) -> Markup:
        """The card sheet's table rows (lesson_sheet.html), one line each: number, front, back
        (rendered HTML, as they are). Made here, not by a loop in the template: a Jinja loop
        over 50 items took 10 ms a language of the 10k corpus, a join well under one."""
        return Markup(
            "".join(
                f"      <tr><td>{n}</td><td>{item.front}</td><td>{item.back}</td></tr>\n"
                for n, item in enumerate(self.items, 1)
            )
        )


def _json_for_html(data: object) -> str:
    """JSON that cannot end its <script> element early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _compact(ids: Sequence[str]) -> str:
    """A lesson's item IDs as `<common prefix>|<rest> <rest> ...` (course.js `indexItems`): at
    100k cards the index of every item is on the course home, so it must be small. IDs never hold
    a space or a `|` (ids.py: letters, digits, `-`; items add `:r` or `:c<n>`)."""
    prefix = os.path.commonprefix(list(ids)) if ids else ""  # noqa: RUF071 (characters meant)
    return prefix + "|" + " ".join(i[len(prefix) :] for i in ids)


def static_page_name(lesson_id: str) -> str:
    """A lesson's plain page beside the split course page (its path without JavaScript)."""
    return f"lesson-{lesson_id}.html"


def lesson_file_names(lesson_id: str) -> list[str]:
    """A lesson's files beside a split page, from the language's folder (`lesson_files`)."""
    return [f"{LESSONS_DIR}/{lesson_id}.js", static_page_name(lesson_id)]


def lesson_link(lesson_id: str, split: bool, target: str = "") -> Markup:
    """The attributes of a link to a lesson, or to `target`, an anchor in it. Split, the lesson
    is not on the page: the link leads to its plain page (`lesson-<id>.html`, `#<target>` in it:
    the plain page has the same anchors), which works without JavaScript and between plain pages;
    course.js makes it a link to the lesson's view (`#<target>`, or `#lesson/<id>`). Else the
    link is the anchor itself."""
    # escape() and an f-string: what Markup.format gives, without string.Formatter's parse
    # (1,600 links in a 10k build's pages)
    if split:
        href = escape(static_page_name(lesson_id) + (f"#{target}" if target else ""))
        return Markup(f'href="{href}" data-lesson-link="{escape(lesson_id)}"')
    return Markup(f'href="#{escape(target or lesson_anchor(lesson_id))}"')


def _json_for_script(data: object) -> str:
    """JSON as a JavaScript expression in a script file of its own (nothing can end it early)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def environment(
    loader: jinja2.BaseLoader, cache: Path | Sequence[Path] | None
) -> jinja2.Environment:
    """The site's template environment over `loader` (templating.py: compiled templates kept in
    `cache`), with the globals the pages use."""
    env = templating.environment(loader, cache)
    env.globals["csp"] = CSP
    env.globals["scripts"] = SCRIPTS
    env.globals["lesson_link"] = lesson_link
    return env


def template_cache(library: Library) -> tuple[Path, ...]:
    """Where compiled templates are kept for the library's builds (templating.py)."""
    return tuple(templating.template_cache(library.root))


@functools.cache
def _environment(cache: tuple[Path, ...] = ()) -> jinja2.Environment:
    """One environment per process (and cache folders): its templates are compiled once, not
    once per write_site and again per SCORM package (the globals never change; Jinja's own
    cache is thread safe), and not at all when `cache` holds them from an earlier build."""
    return environment(jinja2.PackageLoader("course", "templates/site"), cache)


def preload(root: Path) -> None:
    """Load every template and asset the builds of the lessons folder `root` use, now: in the
    process that then forks the writers (pipeline._write), so that neither it nor the child
    loads them again."""
    env = _environment(tuple(templating.template_cache(root)))
    for name in env.list_templates():
        env.get_template(name)
    static_files()


def _link(lesson: Lesson) -> Link:
    return Link(lesson.id, lesson.title)


def _lesson_page(
    course: Course, number: int, languages_of: Mapping[str, Sequence[str]], full: bool = True
) -> LessonPage:
    """The `number`th lesson of the course (from 1) as its page shows it; `full` False leaves out
    its text and items (the outline of a split page needs neither)."""
    lessons = course.lessons
    lesson = lessons[number - 1]
    body = lesson_body(lesson) if full else ""
    items = tuple(review_items(lesson)) if full else ()
    count = len(items) if full else _lesson_items(lesson)
    top = min((s.level for s in lesson.sections if s.id), default=0)
    toc = tuple(
        (heading_id(lesson.id, s.id), s.title) for s in lesson.sections if s.id and s.level == top
    )
    translations = tuple(
        (
            other,
            messages(other)("language_name"),
            f"../{other}/index.html#{lesson_anchor(lesson.id)}",
        )
        for other in languages_of[lesson.id]
        if other != course.lang
    )
    return LessonPage(
        lesson,
        number,
        lesson_anchor(lesson.id),
        body,
        items,
        count,
        toc,
        translations,
        _link(lessons[number - 2]) if number > 1 else None,
        _link(lessons[number]) if number < len(lessons) else None,
    )


def _languages(library: Library) -> list[tuple[str, str]]:
    """(lang, language name) of every course of the library."""
    return [(c.lang, messages(c.lang)("language_name")) for c in library.courses]


@functools.cache
def static_files() -> Mapping[str, bytes]:
    """The assets every page uses (course/static/), by name: read once per process, for the site
    and every SCORM zip (which deflates each once: `zips.Shared`)."""
    static = PACKAGE / "static"
    return MappingProxyType(
        {name: zips.Shared(static.joinpath(name).read_bytes()) for name in STATIC_FILES}
    )


def _copy_files(
    library: Library, out: Path, decks: Mapping[str, Path], copy: bool, names: Names
) -> dict[str, str]:
    """Assets, lesson images and decks (named by `names`) into `out` (the decks only with
    `copy`); returns each language's deck link."""
    assets = out / "assets"
    assets.mkdir(parents=True)
    for name, data in static_files().items():
        (assets / name).write_bytes(data)
    media = {
        m.name: m for course in library.courses for lesson in course.lessons for m in lesson.media
    }
    if media:
        (out / "media").mkdir()
        for name in sorted(media):
            shutil.copyfile(media[name].path, out / "media" / name)
    return _copy_downloads(library, out / "decks", decks, names.deck, copy)


def _copy_downloads(
    library: Library,
    folder: Path,
    made: Mapping[str, Path],
    name: Callable[[Course], str],
    copy: bool = True,
    place: Callable[[Path, Path], object] = shutil.copyfile,
) -> dict[str, str]:
    """Copy each language's file of `made` (a deck, a SCORM zip) into `folder` as `name(course)`
    (without `copy`, only make the folder; `place(source, target)` puts it there); returns its
    link from the landing page, by language."""
    links: dict[str, str] = {}
    for course in library.courses:
        if course.lang in made and made[course.lang].is_file():
            folder.mkdir(exist_ok=True)
            if copy:
                place(made[course.lang], folder / name(course))
            links[course.lang] = f"{folder.name}/{name(course)}"
    return links


def copy_downloads(
    library: Library,
    out: Path,
    decks: Mapping[str, Path],
    packages: Mapping[str, Path],
    names: Names = RELEASE,
) -> None:
    """The decks and SCORM zips into the site `write_site(..., downloads=False)` wrote to `out`
    while they were being written, named by `names` (as `write_site`'s): the files its pages
    link, readable by anyone (`_download`)."""
    for folder, made, name in (
        (out / "decks", decks, names.deck),
        (out / "scorm", packages, names.package),
    ):
        _copy_downloads(library, folder, made, name, place=_download)


def _download(source: Path, target: Path) -> None:
    """A deck or SCORM zip into the site: hard-linked when it is readable by anyone already
    (the build writes them so: `pipeline._temp_file`), else copied and made so (a link shares
    the file's mode: changing it would change the deck's too); copied where links fail
    (another file system). Linking is safe because no build writes a deck or zip in place:
    each is written to a temporary file that replaces it (`pipeline.Output.commit`), so the
    site's file keeps the bytes it linked. (Copying the bundled course's six took 0.6-1.7 ms.)"""
    try:
        if source.stat().st_mode & 0o7777 == FILE_MODE:
            os.link(source, target)
            return
    except OSError:
        pass
    shutil.copyfile(source, target)
    target.chmod(FILE_MODE)


def scorm_file_name(course: Course, names: Names = RELEASE) -> str:
    """`<course id>-<lang>-scorm12.zip`: the language's SCORM 1.2 package (or a draft's:
    `places.Names`)."""
    return names.package(course)


def make_readable(root: Path, taken: Iterable[Path] = ()) -> None:
    """Directories 0755 and files 0644 from `root` down, whatever the umask or mkdtemp gave;
    files in the folders `taken` over from a site made so are left as they are (they are its
    files, with their modes: a changed mode is a changed folder, outputs._signature)."""
    root.chmod(DIR_MODE)
    skip = tuple(str(folder) + os.sep for folder in taken)
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            os.chmod(f"{folder}{os.sep}{name}", DIR_MODE)
        if (folder + os.sep).startswith(skip):
            continue
        for name in names:
            os.chmod(f"{folder}{os.sep}{name}", FILE_MODE)


class SearchSegment(NamedTuple):
    """A run of the search script (`search_runs`): its name (its first lesson's ID; `[` the
    script's head, `]` its tail), what it is made from, hashed (`key`), and its text
    (`text(started)`, given whether a record comes before it; with whether it holds one)."""

    name: str
    key: str
    text: Callable[[bool], tuple[str, bool]]


EmitSegments = Callable[[str, Iterable[SearchSegment]], None]
"""Where a package's search script goes, in runs (`CourseSite.search_runs`)."""
Emit = Callable[[str, Iterable[str]], None]
"""Where a course page's files go, one by one as they are made: `emit(path, chunks)` writes the
text of the file at `path` (from the language's folder) from its chunks, and keeps nothing."""
EmitBytes = Callable[[str, Iterable[bytes]], None]
"""The same for a package's files (assets, images and pages), by path from the package root."""


class Earlier(Protocol):
    """The last build's copy of the output being written (a language's folder of the site, a
    SCORM zip), as far as it can be taken over. Its `pieces` (outputs.Pieces) say what each
    piece was made from: a lesson's files beside a split page (by lesson ID, `lesson_key`), an
    asset or image of a package (by path), a lesson's part of the search script
    (`search_script`); the writer records in them what it makes, taken over or not."""

    @property
    def pieces(self) -> Pieces: ...

    def take(self, names: Sequence[str]) -> bool:
        """Put the last build's files `names` (paths as the writer's `Emit` takes them) in the
        new output as they are; False, with none of them put, when it cannot."""
        ...

    def data(self, name: str) -> bytes | None:
        """The bytes of the last build's file `name`, or None when it cannot be read."""
        ...


def file_writer(folder: Path) -> Emit:
    """An `Emit` that writes each file into `folder`, creating its subfolder (once: a split
    language's 130 files in `lessons/` asked mkdir for each, 20 ms at 10k under a profiler)."""
    made: set[Path] = set()

    def emit(name: str, chunks: Iterable[str]) -> None:
        path = folder / name
        if path.parent not in made:
            path.parent.mkdir(exist_ok=True)
            made.add(path.parent)
        with path.open("w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(chunk)

    return emit


def bytes_writer(folder: Path) -> EmitBytes:
    """An `EmitBytes` that writes each file into `folder` (an existing subfolder: the search
    script's is the folder itself), in one write per chunk given."""

    def emit(name: str, chunks: Iterable[bytes]) -> None:
        with (folder / name).open("wb") as out:
            for chunk in chunks:
                out.write(chunk)

    return emit


def write_site(
    library: Library,
    out: Path,
    decks: Mapping[str, Path],
    changes: Mapping[str, ReleaseNotes] = MappingProxyType({}),
    packages: Mapping[str, Path] = MappingProxyType({}),
    reuse: Callable[[Course, str | None, Path], bool] = lambda course, deck, folder: False,
    downloads: bool = True,
    earlier: Callable[[Course, Path], Earlier | None] = lambda course, folder: None,
    facts: LessonFacts | None = None,
    paired: Callable[[Course, str | None, Path], bool] = lambda course, deck, folder: False,
    names: Names = RELEASE,
) -> None:
    """Write the whole course into the empty folder `out`, readable by anyone (0755/0644);
    `changes` is each language's latest release, for the course home's "what changed" list;
    `packages` each language's SCORM zip, offered on the landing page beside its deck.
    `reuse(course, deck link, out/<lang>)` may fill a language's empty folder itself, from an
    earlier build of the same inputs (`language_inputs`), and return True; else the language is
    rendered, taking over what it can of the `earlier(course, out/<lang>)` folder (`Earlier`).
    `facts`: what the build knows of its lessons (`LessonFacts`). `downloads` False: the decks
    and zips are still being written (each file exists); the pages link them all the same, and
    `copy_downloads` copies them once they are done. `paired(course, deck link, out/<lang>)`:
    True when the language's folder (made, empty) is to be written with its SCORM package
    (`SiteSide`), later: its files are then made readable by `make_readable` on it. `names`:
    the decks' and zips' file names in the site (a draft's site offers a draft's: `Names`)."""
    templates = _environment(template_cache(library))
    deck_links = _copy_files(library, out, decks, downloads, names)
    package_links = _copy_downloads(library, out / "scorm", packages, names.package, downloads)
    _write_landing(library, out, templates, deck_links, package_links)
    languages_of = lesson_languages(library)
    facts = LessonFacts() if facts is None else facts
    taken: list[Path] = []
    for course in library.courses:
        folder = out / course.lang
        folder.mkdir()
        if reuse(course, deck_links.get(course.lang), folder):
            taken.append(folder)
            continue
        if paired(course, deck_links.get(course.lang), folder):
            continue
        site = CourseSite(library, course, _languages(library), languages_of, facts=facts)
        deck, notes = deck_links.get(course.lang), changes.get(course.lang)
        site.write(templates, file_writer(folder), deck, notes, earlier=earlier(course, folder))
        (folder / GUIDE_FILE).write_text(render_guide(course, templates), encoding="utf-8")
    make_readable(out, taken)


def _write_landing(
    library: Library,
    out: Path,
    templates: jinja2.Environment,
    deck_links: Mapping[str, str],
    package_links: Mapping[str, str],
) -> None:
    """The landing page (`out/index.html`): every language with its item count, deck and
    SCORM package."""
    landing = templates.get_template("landing.html").render(
        t=messages(FALLBACK_LANG),
        lang=FALLBACK_LANG,
        root="",
        library=library,
        courses=[(c, messages(c.lang), item_count(c)) for c in library.courses],
        decks=deck_links,
        packages=package_links,
    )
    (out / "index.html").write_text(landing, encoding="utf-8")


def lesson_languages(library: Library) -> dict[str, list[str]]:
    """Lesson ID -> the languages that have it, in the library's order."""
    found: dict[str, list[str]] = {}
    for course in library.courses:
        for lesson in course.lessons:
            found.setdefault(lesson.id, []).append(course.lang)
    return found


def language_inputs(library: Library, course: Course) -> list[str]:
    """What a language's folder of the site depends on besides its own lessons and settings,
    release notes and deck link (outputs.py hashes these with them): the library's languages,
    which of them have each of its lessons (the language switch and the "also in" links), and
    the split threshold."""
    languages_of = lesson_languages(library)
    parts = [f"{lang}={name}" for lang, name in _languages(library)]
    parts += [f"{lesson.id}={','.join(languages_of[lesson.id])}" for lesson in course.lessons]
    return [*parts, f"split={SPLIT_BYTES}"]


def package_site(library: Library, course: Course, facts: LessonFacts | None = None) -> CourseSite:
    """The language's page as a SCORM package shows it: no links out of the package (other
    languages, landing page, deck)."""
    only_here = {lesson.id: [course.lang] for lesson in course.lessons}
    facts = LessonFacts() if facts is None else facts
    return CourseSite(library, course, [], only_here, template=PACKAGE_TEMPLATE, facts=facts)


class PackageFile(NamedTuple):
    """A file of a package besides the course page's own: how to read it, and for an asset or an
    image, what it is made from (its `Earlier` piece's key: its bytes or its content-hash name)."""

    read: Callable[[], Iterable[bytes]]
    key: str | None = None


def _package_rest(page: CourseSite) -> dict[str, PackageFile]:
    """A package's files besides the course page's own (`CourseSite.file_names`), by path:
    the learner guide, the assets and the images its lessons show, each read when written."""
    course = page.course
    templates = _environment(template_cache(page.library))
    rest = {
        f"{course.lang}/{GUIDE_FILE}": PackageFile(
            lambda: [render_guide(course, templates).encode()]
        )
    }
    for name, data in static_files().items():
        key = _key("asset", hashlib.sha256(data).hexdigest())
        rest[f"assets/{name}"] = PackageFile(lambda data=data: [data], key)  # type: ignore[misc]
    for lesson in course.lessons:
        for media in lesson.media:
            read = lambda path=media.path: [path.read_bytes()]  # noqa: E731
            rest[f"media/{media.name}"] = PackageFile(read, _key("image", media.name))
    return rest


def package_names(page: CourseSite, split: bool) -> list[str]:
    """Every file of the language's package by its path from the package's root: the course
    page first, then the others in name order."""
    lang = page.course.lang
    first, *own = (f"{lang}/{name}" for name in page.file_names(split))
    return [first, *sorted([*own, *_package_rest(page)])]


def write_package_files(
    page: CourseSite,
    emit: EmitBytes,
    split: bool,
    changes: ReleaseNotes | None = None,
    earlier: Earlier | None = None,
    segments: EmitSegments | None = None,
    side: SiteSide | None = None,
) -> None:
    """One language's course as a self-contained package (`package_site`), file by file into
    `emit`: the course page (split above SPLIT_BYTES as on the site), then the learner guide,
    the assets and the images in name order. Unzipped, it is the plain HTML course of that
    language. What did not change is taken over from the `earlier` package (paths from its
    root) where it can be. `segments`: where the search script goes, in runs, if not to
    `emit`. `side`: the language's folder of the site, written meanwhile from the same renders
    (`SiteSide`)."""
    lang = page.course.lang
    templates = _environment(template_cache(page.library))

    def emit_page(name: str, chunks: Iterable[str]) -> None:
        emit(f"{lang}/{name}", (chunk.encode() for chunk in chunks))

    def emit_runs(name: str, runs: Iterable[SearchSegment]) -> None:
        assert segments is not None
        segments(f"{lang}/{name}", runs)

    inside = None if earlier is None else _Within(earlier, f"{lang}/")
    runs = emit_runs if segments else None
    if side is None:
        page.write(templates, emit_page, None, changes, split, inside, runs)
    else:
        _write_twins(side, page, templates, emit_page, changes, split, inside, runs)
    rest = _package_rest(page)
    guide = f"{lang}/{GUIDE_FILE}"
    for name in sorted(rest):
        read, key = rest[name]
        if name == guide and side is not None:
            text = render_guide(page.course, templates)
            side.emit(GUIDE_FILE, [text])
            emit(name, [text.encode()])
        elif key is None or earlier is None or not _taken(earlier, name, [name], key):
            emit(name, read())


class SiteSide(NamedTuple):
    """A language's folder of the site written with its SCORM package (`write_package_files`):
    each lesson's files rendered once for both (`_package_files`), its search parts and the
    learner guide made once. What `write_site` would write there (`CourseSite.write`, the
    guide), taking over what it can of `earlier`."""

    page: CourseSite
    emit: Emit
    deck: str | None
    earlier: Earlier | None
    write: EmitBytes
    """Where a file goes as bytes (the search script taken from `earlier`'s)."""


def site_side(
    library: Library, course: Course, folder: Path, deck: str | None,
    earlier: Earlier | None, facts: LessonFacts,
) -> SiteSide:  # fmt: skip
    """The `SiteSide` of the site's folder `folder` (made, empty) for `course`: its deck link
    `deck` as `write_site` gives it."""
    languages, languages_of = _languages(library), lesson_languages(library)
    page = CourseSite(library, course, languages, languages_of, facts=facts)
    return SiteSide(page, file_writer(folder), deck, earlier, bytes_writer(folder))


def _write_twins(
    side: SiteSide,
    package: CourseSite,
    templates: jinja2.Environment,
    emit: Emit,
    changes: ReleaseNotes | None,
    split: bool,
    earlier: Earlier | None,
    segments: EmitSegments | None,
) -> None:
    """`package.write` (into `emit`) and the site's `side.page.write` (into `side.emit`)
    together: the same lessons, each one's pages made and its files rendered once (the
    package's from the site's: `_package_files`), its search part made once. Each takes over
    what it can of its own earlier output (`earlier`, `side.earlier`) and records its pieces as
    its own write would, in the same order."""
    site, course = side.page, package.course
    t = messages(course.lang)
    numbers = range(1, len(course.lessons) + 1)
    pages = [_lesson_page(course, n, site.languages_of, not split) for n in numbers]
    side.emit(PAGE_FILE, [site.render(templates, t, pages, split, side.deck, changes)])
    bare = [replace(page, translations=()) for page in pages]  # no other language
    emit(PAGE_FILE, [package.render(templates, t, bare, split, None, changes)])
    if not split:
        return
    texts = SearchTexts()
    for outline, plain in zip(pages, bare, strict=True):
        lesson_id = outline.lesson.id
        names = lesson_file_names(lesson_id)
        on_site = side.earlier is None or not _taken(
            side.earlier, lesson_id, names, site.lesson_key(outline)
        )
        in_package = earlier is None or not _taken(
            earlier, lesson_id, names, package.lesson_key(plain)
        )
        if not (on_site or in_package):
            continue
        page = _lesson_page(course, outline.number, site.languages_of)
        files = list(site.lesson_files(templates, t, page))
        if on_site:
            for name, text in files:
                side.emit(name, [text])
        if in_package:
            for name, text in _package_files(templates, t, site, page, files):
                emit(name, [text])
        texts.keep(page.lesson)
    del pages, bare
    _write_search_twins(side, package, texts, emit, earlier, segments)


def _write_search_twins(
    side: SiteSide,
    package: CourseSite,
    texts: SearchTexts,
    emit: Emit,
    earlier: Earlier | None,
    segments: EmitSegments | None,
) -> None:
    """`_write_twins`' search scripts from the parts `texts` kept: the package's first (its
    runs into `segments` where given), then the site's, which drops the parts."""
    if segments is not None:
        segments(SEARCH_SCRIPT, package.search_runs(texts.again()))
    else:
        emit(SEARCH_SCRIPT, package.search_script(earlier, texts.again()))
    if side.earlier is None:
        side.emit(SEARCH_SCRIPT, side.page.search_script(None, texts))
    else:
        side.write(SEARCH_SCRIPT, side.page.search_bytes(side.earlier, texts))


def _package_files(
    templates: jinja2.Environment,
    t: Messages,
    site: CourseSite,
    page: LessonPage,
    files: list[tuple[str, str]],
) -> list[tuple[str, str]]:
    """A package's lesson files from the site's (`files`: `site.lesson_files` of `page`):
    the same without the "also in" paragraph (ALSO_IN_TEMPLATE), their only difference, where
    it is found once (its one place in the script's JSON, in the plain page); rendered for the
    package otherwise."""
    if not page.translations:
        return files
    context = {"t": t, "lang": site.course.lang, "root": "../", "page": page, "split": True}
    also = templates.get_template(ALSO_IN_TEMPLATE).render(context)
    (script_name, script), (plain_name, plain) = files
    cut = [(script_name, script, json.dumps(also, ensure_ascii=False)[1:-1])]
    cut.append((plain_name, plain, also))
    if also and all(text.find(part) == text.rfind(part) >= 0 for _, text, part in cut):
        return [(name, text.replace(part, "", 1)) for name, text, part in cut]
    return list(site.lesson_files(templates, t, replace(page, translations=())))


class SearchParts:
    """Each lesson's part of an `Earlier` output's search script: pieces named
    `search-data.js:<lesson id>`, holding `<key> <start> <end>` (its place in the script, in
    bytes: the script is held as read, never decoded whole)."""

    def __init__(self, earlier: Earlier | None) -> None:
        self._earlier = earlier
        self._data: bytes | None = None

    @staticmethod
    def name(lesson_id: str) -> str:
        return f"{SEARCH_SCRIPT}:{lesson_id}"

    def old(self, lesson_id: str, key: str) -> tuple[str, int] | None:
        """The lesson's part as the earlier script has it, if made from `key`, with its size
        in bytes."""
        span = self.span(lesson_id, key)
        if span is None:
            return None
        begin, stop = span
        try:
            return self.data[begin:stop].decode("utf-8"), stop - begin
        except UnicodeDecodeError:
            return None

    def span(self, lesson_id: str, key: str) -> tuple[int, int] | None:
        """Where the lesson's part is in the earlier script (`data`), in bytes, if made from
        `key`: a place that does not cut a character (the script is UTF-8)."""
        if self._earlier is None:
            return None
        value = self._earlier.pieces.old.get(self.name(lesson_id))
        match value.split(" ") if isinstance(value, str) else None:
            case [found, start, end] if found == key and start.isdigit() and end.isdigit():
                data, begin, stop = self.data, int(start), int(end)
                if begin <= stop <= len(data) and _starts_character(data, begin, stop):
                    return begin, stop
        return None

    @property
    def data(self) -> bytes:
        """The earlier script's bytes (read once, when first asked for)."""
        if self._data is None:
            self._data = b"" if self._earlier is None else self._earlier.data(SEARCH_SCRIPT) or b""
        return self._data

    def new(self, lesson_id: str, key: str, start: int, end: int) -> None:
        if self._earlier is not None:
            self._earlier.pieces.new[self.name(lesson_id)] = f"{key} {start} {end}"


def _starts_character(data: bytes, *at: int) -> bool:
    """Whether each place `at` in the UTF-8 `data` is the start of a character or its end (not
    a continuation byte, 0b10xxxxxx)."""
    size = len(data)
    return all(i >= size or data[i] & 0xC0 != 0x80 for i in at)


def _search_text(lesson: Lesson) -> str:
    """A lesson's part of the search script: its records as the items of a JSON array (no
    brackets), "" when it has none."""
    records = search_records(lesson)
    return _json_for_script([r.record() for r in records])[1:-1] if records else ""


class SearchTexts:
    """Lessons' parts of the search script (`_search_text`), made while their strings are
    loaded for their files and kept up to SEARCH_KEPT characters (`keep`), until the script
    takes them (`take`): a part not kept is made then, its lesson's strings loaded again."""

    __slots__ = "_drop", "_kept", "_room"

    def __init__(self, room: int = SEARCH_KEPT) -> None:
        self._kept: dict[Lesson, str] = {}
        self._room = room
        self._drop = True

    def again(self) -> SearchTexts:
        """The same parts, for a script written before this one's: taking one keeps it here."""
        view = SearchTexts(0)
        view._kept, view._drop = self._kept, False
        return view

    def keep(self, lesson: Lesson) -> None:
        if self._room > 0:
            text = self._kept[lesson] = _search_text(lesson)
            self._room -= len(text)

    def take(self, lesson: Lesson) -> str:
        found = self._kept.pop(lesson, None) if self._drop else self._kept.get(lesson)
        return _search_text(lesson) if found is None else found


def _constant_run(name: str, text: str) -> SearchSegment:
    return SearchSegment(name, _key("search", text), lambda started: (text, False))


def _taken(earlier: Earlier, piece: str, names: Sequence[str], key: str) -> bool:
    """Whether the files `names` of `piece`, made from `key`, were taken over from `earlier`
    (the key recorded either way)."""
    return earlier.pieces.same(piece, key) and earlier.take(names)


@dataclass(frozen=True, slots=True)
class _Within:
    """An `Earlier` package seen from a folder of it (the course page's): its paths prefixed."""

    outer: Earlier
    prefix: str

    @property
    def pieces(self) -> Pieces:
        return self.outer.pieces

    def take(self, names: Sequence[str]) -> bool:
        return self.outer.take([self.prefix + name for name in names])

    def data(self, name: str) -> bytes | None:
        return self.outer.data(self.prefix + name)


def package_files(
    library: Library, course: Course, changes: ReleaseNotes | None = None
) -> dict[str, bytes]:
    """The package's files (`write_package_files`) in memory, by path: for a small course."""
    page = package_site(library, course)
    found: dict[str, bytes] = {}

    def keep(name: str, chunks: Iterable[bytes]) -> None:
        found[name] = b"".join(chunks)

    write_package_files(page, keep, page.is_split(), changes)
    return found


@dataclass(frozen=True, slots=True)
class CourseSite:
    """One language's course page: its lessons rendered, and the data its scripts read."""

    library: Library
    course: Course
    languages: list[tuple[str, str]]
    languages_of: Mapping[str, Sequence[str]]
    template: str = SITE_TEMPLATE
    """`course.html` on the site; `package.html` in a SCORM package (no language switch)."""
    split_bytes: int | None = None
    """See SPLIT_BYTES (None: the module's value when the page is written); a negative number
    never splits."""
    facts: LessonFacts = field(default_factory=LessonFacts)
    """What is known of its lessons (sizes, graded checks): shared by the site and the package
    of a build, and kept between builds."""

    def is_split(self) -> bool:
        """Whether the page keeps the outline only (SPLIT_BYTES)."""
        limit = SPLIT_BYTES if self.split_bytes is None else self.split_bytes
        if limit < 0:
            return False
        total = 0
        for lesson in self.course.lessons:
            total += self.facts.of(lesson).size
            if total > limit:
                return True
        return False

    def file_names(self, split: bool) -> list[str]:
        """The page's files by path from the language's folder, the course page first."""
        names = [PAGE_FILE]
        if split:
            for lesson in self.course.lessons:
                names += lesson_file_names(lesson.id)
            names.append(SEARCH_SCRIPT)
        return names

    def write(
        self,
        templates: jinja2.Environment,
        emit: Emit,
        deck: str | None,
        changes: ReleaseNotes | None = None,
        split: bool | None = None,
        earlier: Earlier | None = None,
        segments: EmitSegments | None = None,
    ) -> None:
        """The page's files into `emit`, one by one. Split, the course page holds the outline
        and each lesson's files are rendered and written in turn, unless they are taken over
        from the `earlier` output (by `lesson_key`), and so is each lesson's part of the search
        script; only one lesson's strings are alive at a time. `segments`: where the search
        script goes instead, in runs (`search_runs`)."""
        split = self.is_split() if split is None else split
        t = messages(self.course.lang)
        numbers = range(1, len(self.course.lessons) + 1)
        pages = [_lesson_page(self.course, n, self.languages_of, not split) for n in numbers]
        emit(PAGE_FILE, [self.render(templates, t, pages, split, deck, changes)])
        if not split:
            return
        texts = SearchTexts()
        for outline in pages:
            lesson_id = outline.lesson.id
            key, names = self.lesson_key(outline), lesson_file_names(lesson_id)
            if earlier is not None and _taken(earlier, lesson_id, names, key):
                continue
            page = _lesson_page(self.course, outline.number, self.languages_of)
            for name, text in self.lesson_files(templates, t, page):
                emit(name, [text])
            texts.keep(page.lesson)  # its strings are loaded now
        del pages
        if segments is not None:
            segments(SEARCH_SCRIPT, self.search_runs(texts))
        else:
            emit(SEARCH_SCRIPT, self.search_script(earlier, texts))

    def lesson_key(self, outline: LessonPage) -> str:
        """What a lesson's files beside a split page (`lesson_files`) are made from, hashed: the
        tool (templates, messages, Jinja), the page's template and course, the lesson's place in
        the page (`outline`, its page without text and items: number, neighbours, sections,
        other languages) and the lesson itself (`LessonFacts.content`)."""
        return _key(
            "files",
            self.template,
            repr(_COURSE(self.course)),
            repr(_OUTLINE(outline)),
            self.facts.content(outline.lesson),
        )

    def render(
        self,
        templates: jinja2.Environment,
        t: Messages,
        pages: Sequence[LessonPage],
        split: bool,
        deck: str | None,
        changes: ReleaseNotes | None,
    ) -> str:
        """The course page: the whole course, or (split) its outline."""
        return templates.get_template(self.template).render(
            t=t,
            lang=self.course.lang,
            root="../",
            library=self.library,
            course=self.course,
            pages=pages,
            split=split,
            article=ARTICLE_TEMPLATE,
            total_items=sum(p.count for p in pages),
            deck=f"../{deck}" if deck else None,
            languages=self.languages,
            data=_json_for_html(self.data(t, pages, split)),
            updates=updates_view(self.course, changes),
        )

    def lesson_files(
        self, templates: jinja2.Environment, t: Messages, page: LessonPage
    ) -> Iterator[tuple[str, str]]:
        """A lesson's files beside a split page: `lessons/<id>.js` (registers the lesson's
        article, card sheet, sidebar sections and the sides of its items with the page:
        `Course.lesson`) and `lesson-<id>.html` (the article and sheet as a plain page, the
        path without JavaScript)."""
        context = {"t": t, "lang": self.course.lang, "root": "../", "page": page, "split": True}
        article = templates.get_template(ARTICLE_TEMPLATE).render(context)
        sheet = templates.get_template(SHEET_TEMPLATE).render(context) if page.items else ""
        payload = {
            "id": page.lesson.id,
            "article": article,
            "sheet": sheet,
            "nav": templates.get_template(SECTIONS_TEMPLATE).render(context),
            "items": {i.id: [i.front, i.back] for i in page.items},
        }
        script, plain = lesson_file_names(page.lesson.id)
        yield script, f"Course.lesson({_json_for_script(payload)});\n"
        yield (
            plain,
            templates.get_template("lesson_static.html").render(
                context, course=self.course, article=article, sheet=sheet
            ),
        )

    def search_script(
        self, earlier: Earlier | None = None, texts: SearchTexts | None = None
    ) -> Iterator[str]:
        """`search-data.js` (`Course.searchData`), loaded on the first search, lesson by lesson:
        the same text as the records' list in one JSON array. A lesson's part is taken from the
        `earlier` script when the lesson did not change (`LessonFacts.content`), without loading
        its strings; each part's place is recorded (`SearchParts`). `texts`: the parts made
        already."""
        parts, texts = SearchParts(earlier), SearchTexts(0) if texts is None else texts
        yield SEARCH_HEAD
        at, first = len(SEARCH_HEAD), True
        for lesson in self.course.lessons:
            key = self.facts.content(lesson)
            taken = parts.old(lesson.id, key)
            if taken is not None:
                text, size = taken
            else:
                text = texts.take(lesson)
                size = len(text.encode("utf-8"))
            if text and not first:
                yield ","
                at += 1
            parts.new(lesson.id, key, at, at + size)
            if text:
                yield text
                at, first = at + size, False
        yield SEARCH_TAIL

    def search_bytes(self, earlier: Earlier, texts: SearchTexts) -> Iterator[bytes]:
        """`search_script`'s bytes, the same, its lessons' parts recorded alike: a part taken
        from the `earlier` script is its bytes as they are there, not decoded and encoded again
        (a 13.8 MB script at 100,000 cards: 40 ms of a one-edit rebuild), and a run of parts
        that lie there one after the other, with their commas, is one slice."""
        parts = SearchParts(earlier)
        yield SEARCH_HEAD.encode()
        at, first = len(SEARCH_HEAD), True
        begin = end = -1  # the run of the earlier script's bytes (`parts.data`) not yet given
        for lesson in self.course.lessons:
            key = self.facts.content(lesson)
            span = parts.span(lesson.id, key)
            text = b"" if span is not None else texts.take(lesson).encode()
            size = span[1] - span[0] if span is not None else len(text)
            comma = size > 0 and not first
            parts.new(lesson.id, key, at + comma, at + comma + size)
            if not size:
                continue
            at, first = at + comma + size, False
            if span is not None and end >= 0 and span[0] == end + 1 and parts.data[end] == 44:
                end = span[1]  # (44: the comma between them there)
                continue
            if end > begin:
                yield parts.data[begin:end]
            if comma:
                yield b","
            if span is not None:
                begin, end = span
            else:
                begin = end = -1
                yield text
        if end > begin:
            yield parts.data[begin:end]
        yield SEARCH_TAIL.encode()

    def search_runs(self, texts: SearchTexts | None = None) -> Iterator[SearchSegment]:
        """`search-data.js` (`search_script`) in runs: its head, its lessons' records in runs of
        about SEARCH_RUN lessons (one ends after each lesson whose ID's CRC-32 is a multiple of
        it: adding or removing a lesson changes one run), its tail. A run's key is made from its
        lessons (`LessonFacts.content`); its text loads their records only when asked for
        (`texts`: the parts made already)."""
        texts = SearchTexts(0) if texts is None else texts
        yield _constant_run("[", SEARCH_HEAD)
        run: list[Lesson] = []
        for lesson in self.course.lessons:
            run.append(lesson)
            if zlib.crc32(lesson.id.encode()) % SEARCH_RUN == 0:
                yield self._search_run(run, texts)
                run = []
        if run:
            yield self._search_run(run, texts)
        yield _constant_run("]", SEARCH_TAIL)

    def _search_run(self, lessons: Sequence[Lesson], texts: SearchTexts) -> SearchSegment:
        key = _key("search", *(self.facts.content(lesson) for lesson in lessons))

        def text(started: bool) -> tuple[str, bool]:
            parts = [part for part in map(texts.take, lessons) if part]
            return ("," if started and parts else "") + ",".join(parts), bool(parts)

        return SearchSegment(lessons[0].id, key, text)

    def data(
        self, t: Messages, pages: Sequence[LessonPage], split: bool = False
    ) -> dict[str, object]:
        """What the page's scripts read from its `course-data` block (see course.js). Split, the
        review items are an index (`cards`: each lesson's item IDs, from which course.js makes
        the items: their sides come with the lesson's script), search has a script of its own
        (`searchScript`); a split package's page lists the lessons with a check (`graded`,
        check.py: scorm.js reports a status without any lesson's script; the site's page does
        without, as its copy is not launched by an LMS: scorm.js then loads every lesson)."""
        course = self.course
        data: dict[str, object] = {
            "course": self.library.id,
            "lang": course.lang,
            "title": course.title,
            "storageKey": f"course-progress:{self.library.id}:{course.lang}",
            "newPerDay": NEW_PER_DAY,
            "masteryScore": course.mastery_score,
            "messages": dict(t.table),
            "lessons": [
                {"id": p.lesson.id, "title": p.lesson.title, "anchor": p.anchor} for p in pages
            ],
            "items": [] if split else [item.record() for p in pages for item in p.items],
            "search": []
            if split
            else [r.record() for lesson in course.lessons for r in search_records(lesson)],
            "switch": {
                p.lesson.id: {lang: href for lang, _name, href in p.translations}
                for p in pages
                if p.translations
            },
        }
        if split:
            data["cards"] = {p.lesson.id: self.facts.index(p.lesson) for p in pages}
            data["lessonsDir"] = LESSONS_DIR
            data["searchScript"] = SEARCH_SCRIPT
            if self.template == PACKAGE_TEMPLATE:  # where an LMS runs scorm.js
                data["graded"] = graded_lessons(course, self.facts)
        return data


# -- updates: the "what changed" list and the learner guide ---------------------------------------


@dataclass(frozen=True, slots=True)
class UpdatesView:
    """What the course home shows about updates (texts from `templates/updates/<lang>.json`)."""

    text: Mapping[str, str]
    guide: str
    """The learner guide's file name, beside the course page."""
    release: str
    added: tuple[tuple[str, str, str], ...]
    """(question text, lesson ID, anchor) of each new card (`lesson_link`)."""
    changed: tuple[tuple[str, str, str], ...]
    retired: str


def updates_view(course: Course, notes: ReleaseNotes | None) -> UpdatesView:
    def text(key: str, **args: str) -> str:
        return anki.update_text(course.lang, key, **args)

    keys = ("changes_title", "changes_added", "changes_changed", "changes_none", "guide_link")
    if notes is None or notes.release < 2:  # the first release is the course itself
        return UpdatesView({k: text(k) for k in keys}, GUIDE_FILE, "", (), (), "")
    # Only the cards the release names (a rebuild after an edit names one of thousands; the
    # course page and the SCORM zip's page each ask).
    named = {i for i in (*notes.added, *notes.changed) if i}
    cards = {
        card.id: (lesson, n)
        for lesson in course.lessons
        for n, card in enumerate(lesson.cards)
        if card.id in named
    }

    def links(ids: Sequence[str]) -> tuple[tuple[str, str, str], ...]:
        return tuple(
            (_question_text(*cards[i]), cards[i][0].id, card_anchor(i)) for i in ids if i in cards
        )

    return UpdatesView(
        {k: text(k) for k in keys},
        GUIDE_FILE,
        text("changes_release", n=str(notes.release)),
        links(notes.added),
        links(notes.changed),
        text("changes_retired", n=str(notes.retired)) if notes.retired else "",
    )


def _question_text(lesson: Lesson, n: int) -> str:
    """The question, without markup, of the lesson's card number `n`."""
    return lesson.site_text().cards[n].question_text


GUIDE_FILE = "guide.html"


def render_guide(course: Course, templates: jinja2.Environment) -> str:
    """`<lang>/guide.html`: importing the deck, what updates do, retired cards, FSRS."""
    return templates.get_template("guide.html").render(
        t=messages(course.lang),
        lang=course.lang,
        root="../",
        course=course,
        body=_guide_body(course.lang, anki.retired_tag(course), templates),
        back=anki.update_text(course.lang, "guide_back"),
    )


@functools.cache
def _guide_body(lang: str, tag: str, templates: jinja2.Environment) -> str:
    """The guide's text as HTML: rendered once per process, for the site and the SCORM zip, and
    kept with the compiled templates (`templating.kept_text`): a rebuild whose lessons come from
    the cache does not import the Markdown parser to render it again."""
    folder = PACKAGE / "templates" / "updates"
    source = folder.joinpath(f"guide-{lang}.md")
    if not source.is_file():
        source = folder.joinpath(f"guide-{FALLBACK_LANG}.md")
    text = source.read_text("utf-8").replace("{tag}", tag).replace("{search}", f"tag:{tag}")
    name = "guide-" + hashlib.sha256(f"{lang}\0{tag}".encode()).hexdigest()[:20]
    return templating.kept_text(templates, name, text, _commonmark)


def _commonmark(text: str) -> str:
    from markdown_it import MarkdownIt  # (imported only when the guide is not kept)

    body: str = MarkdownIt("commonmark").render(text)
    return body
