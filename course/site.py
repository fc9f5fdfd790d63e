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
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import CodeType, MappingProxyType

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from . import anki
from .cache import Store, tool_digest
from .messages import FALLBACK_LANG, Messages, messages
from .model import CardKind, Course, Lesson, Library, SearchRecord
from .render import card_anchor, heading_id, lesson_anchor, sheet_anchor
from .updates import ReleaseNotes

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
SITE_TEMPLATE = "course_page.html"
"""The course page: `course.html` with the features' blocks filled (the lesson check)."""
PACKAGE_TEMPLATE = "package.html"
"""The same page inside a SCORM package: no links out of it (no language switch)."""
SPLIT_BYTES = 1_000_000
"""Above this many bytes of rendered lessons (bodies and review items) a language's page keeps
only the course's outline: each lesson's content goes to `lessons/<id>.js`, loaded when the lesson
is opened, and the search records to `search-data.js`, loaded on the first search. Below it, and
in SCORM packages, the page holds everything (one file, as small courses always had)."""
LESSONS_DIR = "lessons"
SEARCH_SCRIPT = "search-data.js"
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


def review_items(lesson: Lesson) -> list[ReviewItem]:
    """The lesson's review items, from its cards' rendered sides (render.py)."""
    items: list[ReviewItem] = []
    for card, site in zip(lesson.cards, lesson.site_text().cards, strict=True):
        if card.id is None:
            continue
        sides = site.sides
        if card.kind is CardKind.CLOZE:
            for n, (front, back) in zip(card.clozes, sides, strict=True):
                items.append(
                    ReviewItem(f"{card.id}:c{n}", card.id, lesson.id, "cloze", front, back)
                )
            continue
        ((question, answer),) = sides
        items.append(ReviewItem(card.id, card.id, lesson.id, "basic", question, answer))
        if card.kind is CardKind.REVERSED:
            items.append(ReviewItem(f"{card.id}:r", card.id, lesson.id, "basic", answer, question))
    return items


def item_count(course: Course) -> int:
    """Review items (Anki cards) of a course: as `review_items` makes them, without rendering."""
    sizes = {CardKind.BASIC: 1, CardKind.REVERSED: 2}
    return sum(
        len(card.clozes) if card.kind is CardKind.CLOZE else sizes[card.kind]
        for card in course.cards
        if card.id is not None
    )


def search_records(lesson: Lesson) -> tuple[SearchRecord, ...]:
    return lesson.site_text().search


@dataclass(frozen=True, slots=True)
class LessonPage:
    lesson: Lesson
    number: int
    anchor: str
    body: str
    items: tuple[ReviewItem, ...]
    """Review items (Anki cards) of the lesson: its card sheet, and what the review asks."""
    toc: tuple[tuple[str, str], ...]
    """(heading id, title) of the lesson's top-level sections."""
    translations: tuple[tuple[str, str, str], ...]
    """(lang, language name, href) of the same lesson in the other languages."""

    @property
    def sheet(self) -> str:
        return sheet_anchor(self.lesson.id)


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


def static_page(page: LessonPage) -> str:
    """The lesson as a plain page beside the split course page (its path without JavaScript)."""
    return static_page_name(page.lesson.id)


def static_page_name(lesson_id: str) -> str:
    return f"lesson-{lesson_id}.html"


PART = re.compile(r"<!--part:(\w+):([\w-]+)-->\n?(.*?)<!--/part-->\n?", re.DOTALL)
"""A part of a split page (course.html marks them): kind, lesson ID, content. Lesson text cannot
contain the end mark: raw HTML is off, so every `<` of it is escaped."""


def lesson_link(page: LessonPage, split: bool) -> Markup:
    """A link to a lesson: its plain page on a split course page (course.js makes it a
    #lesson/<id> link), else its anchor."""
    if split:
        return Markup('href="{}" data-lesson-link="{}"').format(static_page(page), page.lesson.id)
    return Markup('href="#{}"').format(page.anchor)


def _json_for_script(data: object) -> str:
    """JSON as a JavaScript expression in a script file of its own (nothing can end it early)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


TEMPLATE_CACHE = "templates"
"""The compiled templates' folder in the cache folder (`cache.Store`)."""


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept in the cache folder, so that a build in a new process does not
    compile them again (a quarter of the bundled course's site and SCORM rendering). One entry per
    template, used only when its checksum matches: a hash of the tool (`tool_digest`: every file
    of the package, so the environment's options too), Jinja's version and the template's source.
    A changed template or a new tool is compiled again and its entry rewritten; an unreadable or
    corrupt entry is compiled again; a failure to write only costs the speed-up."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder), "%s.jinja")

    def get_source_checksum(self, source: str) -> str:
        digest = hashlib.sha256(f"{tool_digest()}\0{jinja2.__version__}\0".encode())
        digest.update(source.encode("utf-8"))
        return digest.hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # truncated or foreign bytes (Jinja catches only marshal's errors)
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def template_cache(library: Library) -> Path | None:
    """Where the library's builds keep compiled templates; None when the cache is off."""
    folder = Store.beside(library.root).folder
    return None if folder is None else folder / TEMPLATE_CACHE


def environment(loader: jinja2.BaseLoader, cache: Path | None) -> jinja2.Environment:
    """The site's template environment over `loader`, compiled templates kept in `cache`."""
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=None if cache is None else TemplateCache(cache),
    )
    env.globals["csp"] = CSP
    env.globals["scripts"] = SCRIPTS
    env.globals["lesson_link"] = lesson_link
    return env


@functools.cache
def _environment(cache: Path | None = None) -> jinja2.Environment:
    """One environment per process (and cache folder): its templates are compiled once, not
    once per write_site and again per SCORM package (the globals never change; Jinja's own
    cache is thread safe), and not at all when `cache` holds them from an earlier build."""
    return environment(jinja2.PackageLoader("course", "templates/site"), cache)


def _lesson_page(
    course: Course,
    number: int,
    lesson: Lesson,
    t: Messages,
    languages_of: Mapping[str, Sequence[str]],
) -> LessonPage:
    body = lesson.site_text().body
    items = review_items(lesson)
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
        lesson, number, lesson_anchor(lesson.id), body, tuple(items), toc, translations
    )


def _languages(library: Library) -> list[tuple[str, str]]:
    """(lang, language name) of every course of the library."""
    return [(c.lang, messages(c.lang)("language_name")) for c in library.courses]


@functools.cache
def static_files() -> Mapping[str, bytes]:
    """The assets every page uses (course/static/), by name: read once per process, for the site
    and every SCORM zip."""
    static = files("course").joinpath("static")
    return MappingProxyType({name: static.joinpath(name).read_bytes() for name in STATIC_FILES})


def _copy_files(library: Library, out: Path, decks: Mapping[str, Path]) -> dict[str, str]:
    """Assets, lesson images and decks into `out`; returns each language's deck link."""
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
    return _copy_downloads(library, out / "decks", decks, anki.deck_file_name)


def _copy_downloads(
    library: Library, folder: Path, made: Mapping[str, Path], name: Callable[[Course], str]
) -> dict[str, str]:
    """Copy each language's file of `made` (a deck, a SCORM zip) into `folder` as `name(course)`;
    returns its link from the landing page, by language."""
    links: dict[str, str] = {}
    for course in library.courses:
        if course.lang in made and made[course.lang].is_file():
            folder.mkdir(exist_ok=True)
            shutil.copyfile(made[course.lang], folder / name(course))
            links[course.lang] = f"{folder.name}/{name(course)}"
    return links


def scorm_file_name(course: Course) -> str:
    """`<course id>-<lang>-scorm12.zip`: the language's SCORM 1.2 package."""
    return f"{course.id}-{course.lang}-scorm12.zip"


def make_readable(root: Path) -> None:
    """Directories 0755 and files 0644 from `root` down, whatever the umask or mkdtemp gave."""
    root.chmod(DIR_MODE)
    for folder, dirs, names in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod(DIR_MODE)
        for name in names:
            (Path(folder) / name).chmod(FILE_MODE)


def write_site(
    library: Library,
    out: Path,
    decks: Mapping[str, Path],
    changes: Mapping[str, ReleaseNotes] = MappingProxyType({}),
    packages: Mapping[str, Path] = MappingProxyType({}),
) -> None:
    """Write the whole course into the empty folder `out`, readable by anyone (0755/0644);
    `changes` is each language's latest release, for the course home's "what changed" list;
    `packages` each language's SCORM zip, offered on the landing page beside its deck."""
    templates = _environment(template_cache(library))
    deck_links = _copy_files(library, out, decks)
    package_links = _copy_downloads(library, out / "scorm", packages, scorm_file_name)
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

    languages_of: dict[str, list[str]] = {}  # lesson ID -> languages that have it
    for course in library.courses:
        for lesson in course.lessons:
            languages_of.setdefault(lesson.id, []).append(course.lang)
    for course in library.courses:
        site = CourseSite(
            library, course, _languages(library), languages_of, split_bytes=SPLIT_BYTES
        )
        folder = out / course.lang
        folder.mkdir()
        html = site.render(templates, deck_links.get(course.lang), changes.get(course.lang))
        (folder / "index.html").write_text(html, encoding="utf-8")
        for name, text in site.parts.items():
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        (folder / GUIDE_FILE).write_text(render_guide(course, templates), encoding="utf-8")
    make_readable(out)


def package_files(
    library: Library, course: Course, changes: ReleaseNotes | None = None
) -> dict[str, bytes]:
    """One language's course as a self-contained package (the SCORM zip's content), by path from
    the package's root: `<lang>/index.html` without the links that lead out of the package (other
    languages, landing page, deck), `<lang>/guide.html`, the assets and the media its lessons
    use. Unzipped, it is the plain HTML course of that language."""
    found = {f"assets/{name}": data for name, data in static_files().items()}
    for lesson in course.lessons:
        for media in lesson.media:
            found[f"media/{media.name}"] = media.path.read_bytes()
    templates = _environment(template_cache(library))
    only_here = {lesson.id: [course.lang] for lesson in course.lessons}
    page = CourseSite(library, course, [], only_here, template=PACKAGE_TEMPLATE, split_bytes=None)
    found[f"{course.lang}/index.html"] = page.render(templates, None, changes).encode()
    found[f"{course.lang}/{GUIDE_FILE}"] = render_guide(course, templates).encode()
    return found


@dataclass(frozen=True, slots=True)
class CourseSite:
    """One language's course page: its lessons rendered, and the data its scripts read."""

    library: Library
    course: Course
    languages: list[tuple[str, str]]
    languages_of: Mapping[str, Sequence[str]]
    template: str = SITE_TEMPLATE
    """`course_page.html` on the site; `package.html` in a SCORM package (no language switch)."""
    split_bytes: int | None = SPLIT_BYTES
    """See SPLIT_BYTES; None never splits (SCORM packages)."""
    parts: dict[str, str] = field(default_factory=dict)
    """After render(): the split page's other files (lesson scripts and pages, search data), by
    path from the language's folder; empty when the page holds everything."""

    def render(
        self, templates: jinja2.Environment, deck: str | None, changes: ReleaseNotes | None = None
    ) -> str:
        t = messages(self.course.lang)
        pages = [
            _lesson_page(self.course, number, lesson, t, self.languages_of)
            for number, lesson in enumerate(self.course.lessons, start=1)
        ]
        size = sum(
            len(p.body) + sum(len(i.front) + len(i.back) for i in p.items) for p in pages
        )
        split = self.split_bytes is not None and size > self.split_bytes
        data = self.data(t, pages, split)
        html = templates.get_template(self.template).render(
            t=t,
            lang=self.course.lang,
            root="../",
            library=self.library,
            course=self.course,
            pages=pages,
            split=split,
            total_items=sum(len(p.items) for p in pages),
            deck=f"../{deck}" if deck else None,
            languages=self.languages,
            data=_json_for_html({k: v for k, v in data.items() if k != "searchRecords"}),
            updates=updates_view(self.course, changes),
        )
        if not split:
            return html
        home, parts = self.split_parts(html, pages, templates, t, data)
        self.parts.update(parts)
        return home

    def split_parts(
        self, page: str, pages: Sequence[LessonPage], templates: jinja2.Environment,
        t: Messages, data: dict[str, object],
    ) -> tuple[str, dict[str, str]]:
        """The page rendered split, without its marked parts; and its other files: per lesson
        `lessons/<id>.js` (registers the lesson's article, card sheet, sidebar sections and the
        sides of its items with the page: `Course.lesson`) and `lesson-<id>.html` (the article
        and sheet as a plain page, the path without JavaScript); `search-data.js`
        (`Course.searchData`), loaded on the first search."""
        found: dict[tuple[str, str], str] = {}

        def cut(match: re.Match[str]) -> str:
            found[(match[1], match[2])] = match[3]
            return ""

        home = PART.sub(cut, page)
        parts: dict[str, str] = {}
        static = templates.get_template("lesson_static.html")
        for p in pages:
            key = p.lesson.id
            payload = {
                "id": key,
                "article": found[("article", key)],
                "sheet": found.get(("sheet", key), ""),
                "nav": found[("nav", key)],
                "items": {i.id: [i.front, i.back] for i in p.items},
            }
            parts[f"{LESSONS_DIR}/{key}.js"] = f"Course.lesson({_json_for_script(payload)});\n"
            parts[static_page(p)] = static.render(
                t=t, lang=self.course.lang, root="../", course=self.course, page=p,
                article=payload["article"], sheet=payload["sheet"],
            )
        search = data["searchRecords"]
        parts[SEARCH_SCRIPT] = f"Course.searchData({_json_for_script(search)});\n"
        return home, parts

    def data(
        self, t: Messages, pages: Sequence[LessonPage], split: bool = False
    ) -> dict[str, object]:
        """What the page's scripts read from its `course-data` block (see course.js). Split, the
        review items are an index (`cards`: each lesson's item IDs, from which course.js makes
        the items: their sides come with the lesson's script) and search has a script of its own
        (`searchScript`; the records are returned under `searchRecords` for it)."""
        course = self.course
        search = [r.record() for lesson in course.lessons for r in search_records(lesson)]
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
            "search": [] if split else search,
            "switch": {
                p.lesson.id: {lang: href for lang, _name, href in p.translations}
                for p in pages
                if p.translations
            },
        }
        if split:
            data["cards"] = {p.lesson.id: _compact([i.id for i in p.items]) for p in pages}
            data["lessonsDir"] = LESSONS_DIR
            data["searchScript"] = SEARCH_SCRIPT
            data["searchRecords"] = search
        return data


# -- updates: the "what changed" list and the learner guide ---------------------------------------


@dataclass(frozen=True, slots=True)
class UpdatesView:
    """What the course home shows about updates (texts from `templates/updates/<lang>.json`)."""

    text: Mapping[str, str]
    guide: str
    """The learner guide's file name, beside the course page."""
    release: str
    added: tuple[tuple[str, str], ...]
    """(question text, link) of each new card."""
    changed: tuple[tuple[str, str], ...]
    retired: str


def updates_view(course: Course, notes: ReleaseNotes | None) -> UpdatesView:
    def text(key: str, **args: str) -> str:
        return anki.update_text(course.lang, key, **args)

    cards = {
        card.id: (lesson, n)
        for lesson in course.lessons
        for n, card in enumerate(lesson.cards)
        if card.id
    }

    def links(ids: Sequence[str]) -> tuple[tuple[str, str], ...]:
        return tuple(
            (_question_text(*cards[i]), f"#{card_anchor(i)}") for i in ids if i in cards
        )

    keys = ("changes_title", "changes_added", "changes_changed", "changes_none", "guide_link")
    if notes is None or notes.release < 2:  # the first release is the course itself
        return UpdatesView({k: text(k) for k in keys}, GUIDE_FILE, "", (), (), "")
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
        body=_guide_body(course.lang, anki.retired_tag(course)),
        back=anki.update_text(course.lang, "guide_back"),
    )


@functools.cache
def _guide_body(lang: str, tag: str) -> str:
    """The guide's text as HTML: rendered once per process, for the site and the SCORM zip."""
    folder = files("course") / "templates" / "updates"
    source = folder.joinpath(f"guide-{lang}.md")
    if not source.is_file():
        source = folder.joinpath(f"guide-{FALLBACK_LANG}.md")
    text = source.read_text("utf-8").replace("{tag}", tag).replace("{search}", f"tag:{tag}")
    body: str = MarkdownIt("commonmark").render(text)
    return body
