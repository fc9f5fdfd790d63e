"""Load stage: find `lessons/<lang>/*.md`, read front matter, parse once, build the model.

Every problem in every file is collected; `load_library` raises one `CourseError` carrying all of
them, so an author sees the whole list in one run and nothing downstream runs on bad input.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from markdown_it.token import Token

from .cards import hide_single_paragraph, iter_card_sides, strip_comments
from .markdown import parser, plain_text, walk
from .model import (
    Card,
    CardKind,
    Course,
    CourseError,
    Lesson,
    Library,
    MediaFile,
    Problem,
    Section,
    Source,
    SourceLoc,
)

LANG_DIR = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
LESSON_KEYS = {"id", "title", "lang", "order", "source", "tags", "description"}
SOURCE_KEYS = {"title", "publisher", "url", "author"}
COURSE_FILE = "course.yml"


def display_path(path: Path) -> Path:
    """The path as an author would type it: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


@dataclass
class Report:
    """Problems found so far: errors stop the build, warnings are logged (or fail with --strict)."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: Path, line: int, message: str) -> None:
        self.errors.append(Problem(SourceLoc(display_path(path), line), message))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.warnings.append(Problem(SourceLoc(display_path(path), line), message))


def slugify(text: str) -> str:
    """A tag- and anchor-safe slug that keeps every script's letters: 'Η Υπομονή' -> 'η-υπομονή'."""
    text = unicodedata.normalize("NFC", text).lower()  # lower(), not casefold(): keeps final ς
    return re.sub(r"[^\w]+", "-", text).strip("-_") or "section"


def read_text(path: Path, report: Report) -> str | None:
    """UTF-8 text without BOM; None (and an error) if the file is not UTF-8 or is empty."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(
            path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        )
        return None
    if not text.strip():
        report.error(path, 0, "file is empty")
        return None
    return text


def read_yaml(
    path: Path, text: str, report: Report, first_line: int = 1
) -> tuple[Any, dict[str, int]]:
    """Parse YAML; return (data, {top-level key: line}). Errors carry the file's line."""
    try:
        loader = yaml.SafeLoader(text)
        try:  # one parse gives both the values and the key lines
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        report.error(path, line, f"invalid YAML: {problem}")
        return None, {}
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            lines[str(key.value)] = first_line + key.start_mark.line
    return data, lines


def read_course_file(path: Path, report: Report) -> dict[str, Any]:
    if not path.is_file():
        return {}
    text = read_text(path, report)
    if text is None:
        return {}
    data, lines = read_yaml(path, text, report)
    if data is None:
        return {}
    if not isinstance(data, dict):
        report.error(path, 1, "expected keys such as 'title:' and 'description:'")
        return {}
    for key in ("id", "title", "description"):
        if key in data and not isinstance(data[key], str):
            report.error(path, lines.get(key, 1), f"'{key}' must be text")
            del data[key]
    for key in sorted(set(data) - {"id", "title", "description"}):
        report.warn(path, lines.get(str(key), 1), f"unknown key '{key}' ignored")
    if "id" in data and not SLUG.match(data["id"]):
        report.error(
            path, lines.get("id", 1), "'id' must be a slug: lowercase letters, digits, '-', '_'"
        )
    return data


def load_library(root: Path, langs: Sequence[str] = ()) -> Library:
    """Read every language under `root` (or only `langs`). Raises CourseError on any error."""
    report = Report()
    if not root.is_dir():
        raise CourseError([Problem(SourceLoc(display_path(root), 0), "lessons folder not found")])
    meta = read_course_file(root / COURSE_FILE, report)
    course_id = meta.get("id", "course")
    title = meta.get("title", "Course")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and LANG_DIR.match(p.name))
    for lang in langs:
        if lang not in found:
            report.error(root / lang, 0, f"no lessons for language '{lang}'")
    courses = [
        load_course(root / lang, course_id, title, report)
        for lang in found
        if not langs or lang in langs
    ]
    if not courses and not report.errors:
        report.error(root, 0, "no language folders (such as lessons/el/) with lessons")
    if report.errors:
        raise CourseError(report.errors)
    return Library(course_id, title, root, tuple(courses), tuple(report.warnings))


def load_course(folder: Path, course_id: str, default_title: str, report: Report) -> Course:
    lang = folder.name
    meta = read_course_file(folder / COURSE_FILE, report)
    lessons = [
        lesson
        for path in sorted(folder.glob("*.md"))
        if (lesson := load_lesson(path, lang, folder.parent, report)) is not None
    ]
    if not lessons:
        report.warn(folder, 0, "no lessons (*.md) in this language folder")
    check_unique(
        report, ((lesson.id, SourceLoc(lesson.path, 1)) for lesson in lessons), "lesson ID"
    )
    check_unique(
        report,
        ((c.id, c.loc) for lesson in lessons for c in lesson.cards if c.id is not None),
        "card ID",
    )
    lessons.sort(key=lambda lesson: (lesson.order, lesson.id))
    return Course(
        id=course_id,
        lang=lang,
        title=meta.get("title", default_title),
        description=meta.get("description", ""),
        lessons=tuple(lessons),
        root=folder,
    )


def check_unique(report: Report, items: Iterable[tuple[str, SourceLoc]], what: str) -> None:
    seen: dict[str, list[SourceLoc]] = defaultdict(list)
    for key, loc in items:
        seen[key].append(loc)
    for key, locs in seen.items():
        for loc in locs[1:]:
            report.errors.append(
                Problem(loc, f"duplicate {what} '{key}' (first used at {locs[0]})")
            )


def load_lesson(path: Path, lang: str, root: Path, report: Report) -> Lesson | None:
    text = read_text(path, report)
    if text is None:
        return None
    env: dict[str, Any] = {}
    tokens = parser().parse(text, env)
    for line0, message in env.get("problems", []):
        report.error(path, line0 + 1, message)
    if not tokens or tokens[0].type != "front_matter":
        report.error(
            path,
            1,
            "missing front matter: start the file with a '---' block"
            " holding id, title, lang and order",
        )
        return None
    front = read_front_matter(path, tokens[0], lang, report)
    if front is None:
        return None
    media = resolve_images(path, root, tokens, report)
    sections, cards = collect(path, tokens, report)
    return Lesson(
        id=front["id"],
        title=front["title"],
        lang=lang,
        order=front["order"],
        path=display_path(path),
        tokens=tuple(tokens),
        sections=sections,
        cards=cards,
        media=media,
        source=front.get("source"),
        tags=tuple(front.get("tags", ())),
        description=front.get("description", ""),
    )


def read_front_matter(path: Path, token: Token, lang: str, report: Report) -> dict[str, Any] | None:
    before = len(report.errors)
    data, lines = read_yaml(path, token.content, report, first_line=2)
    if len(report.errors) > before:
        return None
    if not isinstance(data, dict):
        report.error(path, 2, "front matter must be 'key: value' lines (id, title, lang, order)")
        return None

    def line(key: str) -> int:
        return lines.get(key, 1)

    for key in ("id", "title", "lang", "order"):
        if key not in data or data[key] in (None, ""):
            report.error(path, 1, f"front matter has no '{key}'")
    for key in sorted(set(data) - LESSON_KEYS, key=str):
        report.warn(path, line(str(key)), f"unknown front matter key '{key}' ignored")
    if "id" in data and not (isinstance(data["id"], str) and SLUG.match(data["id"])):
        report.error(path, line("id"), "'id' must be a slug: lowercase letters, digits, '-', '_'")
    if "title" in data and not isinstance(data["title"], str):
        report.error(path, line("title"), "'title' must be text")
    if data.get("lang") not in (None, "", lang):
        report.error(
            path, line("lang"), f"lang '{data['lang']}' disagrees with the folder '{lang}'"
        )
    if "order" in data and (not isinstance(data["order"], int) or isinstance(data["order"], bool)):
        report.error(path, line("order"), "'order' must be a whole number")
    if "description" in data and not isinstance(data["description"], str):
        report.error(path, line("description"), "'description' must be text")
    tags = data.get("tags", [])
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(
        isinstance(t, str) and t and not re.search(r"\s", t) for t in tags
    ):
        report.error(path, line("tags"), "'tags' must be a list of words without spaces")
    else:
        data["tags"] = tags
    if "source" in data:
        data["source"] = read_source(path, data["source"], line("source"), report)
    return data if len(report.errors) == before else None


def read_source(path: Path, value: Any, line: int, report: Report) -> Source | None:
    if isinstance(value, str):
        return Source(title=value)
    if not isinstance(value, dict) or not isinstance(value.get("title"), str):
        report.error(path, line, "'source' needs a 'title' (and optionally publisher, url, author)")
        return None
    for key in sorted(set(value) - SOURCE_KEYS, key=str):
        report.warn(path, line, f"unknown source key '{key}' ignored")
    fields = {k: value[k] for k in SOURCE_KEYS if k in value}
    if not all(isinstance(v, str) for v in fields.values()):
        report.error(path, line, "source fields must be text")
        return None
    return Source(**fields)


def resolve_images(
    path: Path, root: Path, tokens: Sequence[Token], report: Report
) -> tuple[MediaFile, ...]:
    """Check every image and give it its content-hash name (`token.meta["media"]`)."""
    media: dict[str, MediaFile] = {}
    top = root.resolve()
    for block in tokens:
        for token in walk(block.children or []):
            if token.type != "image":
                continue
            line = block.map[0] + 1 if block.map else 0
            src = str(token.attrGet("src") or "")
            if urlsplit(src).scheme or src.startswith("//"):
                report.error(
                    path, line, f"image '{src}' is not a local file: put it beside the lesson"
                )
                continue
            target = (path.parent / unquote(src)).resolve()
            if not target.is_relative_to(top):
                report.error(path, line, f"image '{src}' is outside the lessons folder")
                continue
            if not target.is_file():
                report.error(path, line, f"image '{src}' not found")
                continue
            digest = hashlib.sha256(target.read_bytes()).hexdigest()[:20]
            name = f"{digest}{target.suffix.lower()}"
            token.meta["media"] = name
            media[name] = MediaFile(target, name)
    return tuple(media[name] for name in sorted(media))


def collect(
    path: Path, tokens: Sequence[Token], report: Report
) -> tuple[tuple[Section, ...], tuple[Card, ...]]:
    """Sections from headings, cards from card tokens, each card in the section above it."""
    shown = display_path(path)
    intro = Section("", "", 0, SourceLoc(shown, 1))
    sections: list[Section] = []
    current = intro
    slugs: set[str] = set()
    sides = {id(card): (q, a) for card, q, a in iter_card_sides(tokens)}
    cards: list[Card] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = plain_text([tokens[i + 1]])
            slug = base = slugify(title)
            n = 2
            while slug in slugs:
                slug, n = f"{base}-{n}", n + 1
            slugs.add(slug)
            current = Section(
                slug, title, int(token.tag[1:]), SourceLoc(shown, (token.map or [0])[0] + 1)
            )
            sections.append(current)
        elif token.type == "card_open":
            if current is intro and intro not in sections:
                sections.insert(0, intro)
            question, answer = sides[id(token)]
            hide_single_paragraph(question)
            hide_single_paragraph(answer)
            start = (token.map or [0])[0]
            card = Card(
                id=token.meta["id"],
                kind=CardKind(token.meta["kind"]),
                question=tuple(question),
                answer=tuple(answer),
                text=strip_comments(
                    "\n".join(t.content for t in (*question, *answer) if t.type == "inline")
                ),
                section=current,
                loc=SourceLoc(shown, start + 1),
                id_line=token.meta["id_line"],
                clozes=tuple(token.meta.get("clozes", ())),
            )
            if card.id is None:
                report.warn(path, start + 1, "card has no ID: run `python build.py ids` to add one")
            cards.append(card)
    return tuple(sections), tuple(cards)
