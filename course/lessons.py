"""Load stage: find `lessons/<lang>/*.md`, read front matter, parse once, build the model.

Every problem in every file is collected; `load_library` raises one `CourseError` carrying all of
them, so an author sees the whole list in one run and nothing downstream runs on bad input.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from markdown_it.token import Token

from .cards import ParseProblem, collect, slugify
from .frontmatter import (
    CourseFile,
    Report,
    display_path,
    read_course_yaml,
    read_front_matter,
)
from .markdown import parser, walk
from .model import (
    Course,
    CourseError,
    Lesson,
    Library,
    MediaFile,
    Problem,
    SourceLoc,
)

LANG_DIR = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
COURSE_FILE = "course.yml"
__all__ = ["Report", "collect", "display_path", "load_library", "slugify"]


def read_text(path: Path, report: Report) -> str | None:
    """UTF-8 text without BOM; None (and an error) if the file is not UTF-8 or is empty."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.error(path, 0, f"cannot read the file: {exc.strerror or exc}")
        return None
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


def read_course_file(path: Path, report: Report) -> CourseFile:
    if not path.is_file():
        return CourseFile()
    text = read_text(path, report)
    return CourseFile() if text is None else read_course_yaml(path, text, report)


def load_library(root: Path, langs: Sequence[str] = ()) -> Library:
    """Read every language under `root` (or only `langs`). Raises CourseError on any error."""
    # Loading makes millions of tokens and frees almost none: the cyclic collector would walk
    # them again and again (a quarter of the CPU at 100,000 cards). It runs again afterwards.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_library(root, langs)
    finally:
        if was_enabled:
            gc.enable()


def _load_library(root: Path, langs: Sequence[str]) -> Library:
    report = Report()
    if not root.is_dir():
        raise CourseError([Problem(SourceLoc(display_path(root), 0), "lessons folder not found")])
    meta = read_course_file(root / COURSE_FILE, report)
    course_id = meta.id or "course"
    title = meta.title or "Course"
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
        title=meta.title or default_title,
        description=meta.description or "",
        lessons=tuple(lessons),
        root=folder,
        mastery_score=meta.mastery_score,
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
    problem: ParseProblem
    for problem in env.get("problems", []):
        (report.warn if problem.warning else report.error)(path, problem.line0 + 1, problem.message)
    if not tokens or tokens[0].type != "front_matter":
        report.error(
            path,
            1,
            "missing front matter: start the file with a '---' block"
            " holding id, title, lang and order",
        )
        return None
    front = read_front_matter(path, tokens[0].content, lang, report)
    if front is None:
        return None
    media = resolve_images(path, root, tokens, report)
    sections, cards = collect(display_path(path), tokens)
    return Lesson(
        id=front.id,
        title=front.title,
        lang=lang,
        order=front.order,
        path=display_path(path),
        tokens=tuple(tokens),
        sections=sections,
        cards=cards,
        media=media,
        source=front.source,
        tags=front.tags,
        description=front.description,
        translated_from=front.translated_from,
    )


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
