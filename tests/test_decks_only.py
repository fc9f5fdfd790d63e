"""A decks-only build (`--no-site --no-scorm`) leaves prose without its inline parse
(`cards.DECKS_ONLY`): what it loads and reports must be what a full build loads and reports,
less the site's strings, for any lesson."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it.common import normalize_url
from spies import calls
from test_properties import FAST, FRAGMENTS, FRONT, WHOLE_LINES, lesson_folder

from course import cards, markdown
from course.frontmatter import Report
from course.lessons import load_lesson
from course.model import LessonText

PROSE_FRAGMENTS = [
    # what the prose's inline parse still finds in a decks-only build: images, refused addresses
    "![i](img/dot.png)",
    "![i](missing.png)",
    "![i][r]",
    "==![i](img/dot.png)==",
    "{{c1::![i](img/dot.png)}}",
    "[![i](img/dot.png)](x)",
    "![![i](img/dot.png)](x)",
    "[r]: img/dot.png",
    "[l](&#106;avascript:x)",
    "[l](javascript&colon;x)",
    "[l](javascript\\:x)",
    "[l](JavaScript:x)",
    "<JAVASCRIPT:x>",
    "<vbscript:x>",
    "[l](file:///etc)",
    "[l](data:text/html,x)",
    "![i](data:image/png;base64,x)",
    "[l](java%73cript:x)",
    "[l](https://example.org)",
    "&",
    "&#106;",
    "!",
    "![",
    "İ",
    "\u212a",
    "| ",
    "# ",
    "Setext\n---",
]
prose_line = st.one_of(
    st.sampled_from(WHOLE_LINES),
    st.lists(st.sampled_from(FRAGMENTS + PROSE_FRAGMENTS) | st.text(max_size=2), max_size=5).map(
        "".join
    ),
)
prose_lessons = st.lists(prose_line, max_size=14).map(lambda body: FRONT + "\n".join(body))


def _load(root: Path, site: bool) -> tuple[Any, list[Any], list[Any]]:
    """The lesson as a tuple of its fields (its site strings left out), its errors, warnings."""
    report = Report()
    path = root / "lessons" / "el" / "01.md"
    lesson = load_lesson(path, "el", root / "lessons", report, site=site)
    if lesson is not None:
        assert (lesson.rendered.site is not None) is site
        lesson = dataclasses.replace(lesson, rendered=LessonText(lesson.rendered.prose_digest))
    fields = None if lesson is None else dataclasses.astuple(lesson)
    return fields, report.errors, report.warnings


@FAST
@given(prose_lessons)
def test_a_decks_only_parse_loads_and_reports_what_a_full_one_does(text: str) -> None:
    """Cards (their sides as the decks show them, IDs, hashes, sections), sections, media,
    the prose digest, and every error and warning, in order: the same with the shortcut."""
    with lesson_folder(text) as root:
        assert _load(root, site=False) == _load(root, site=True)


CASES = [
    # (prose line, what a decks-only build must still report of it)
    ("See ![a dot](missing.png) here.", "image 'missing.png' not found"),
    ("|a|b|\n|-|-|\n|![x](gone.png)|y|", "image 'gone.png' not found"),
    ("A [link](&#106;avascript:alert(1)).", "'javascript:alert(1)' refused"),
    ("A [link](javascript&colon;alert(1)).", "'javascript:alert(1)' refused"),
    ("A [link](javascript\\:alert(1)).", "'javascript:alert(1)' refused"),
    ("An <JAVASCRIPT:alert(1)> autolink.", "'JAVASCRIPT:alert(1)' refused"),
    ("A [file](FILE:///etc/passwd).", "'FILE:///etc/passwd' refused"),
    ("A [page](vbscript:x) link.", "'vbscript:x' refused"),
    ("A [page](data:text/html,x) link.", "'data:text/html,x' refused"),
]


@pytest.mark.parametrize(("prose", "message"), CASES)
def test_a_decks_only_parse_still_reports_prose_images_and_refused_links(
    prose: str, message: str
) -> None:
    with lesson_folder(f"{FRONT}\n{prose}\n\nQ::A\n") as root:
        full, decks = _load(root, site=True), _load(root, site=False)
    problems = [p.message for p in (*decks[1], *decks[2])]
    assert any(message in p for p in problems), problems
    assert decks == full


def test_prose_is_left_unparsed_when_only_decks_are_built() -> None:
    """The shortcut itself: prose and table cells get no inline children, card sides,
    explanations and headings do (and headings still give sections their titles)."""
    source = (
        f"{FRONT}\n# The *title*\n\nSome *prose* [link](https://example.org).\n\n"
        "|a|b|\n|-|-|\n|*c*|d|\n\nQ *one*::A **two**\n> Why *so*.\n"
    )
    full = markdown.parser().parse(source, {})
    decks = markdown.parser().parse(source, {cards.DECKS_ONLY: True})
    assert [t.type for t in decks] == [t.type for t in full]
    children = {t.content: [c.type for c in t.children or []] for t in decks if t.type == "inline"}
    assert children["Some *prose* [link](https://example.org)."] == []
    assert children["*c*"] == []
    assert "em_open" in children["The *title*"]
    assert "em_open" in children["Q *one*"]
    assert "strong_open" in children["A **two**"]
    (explanation,) = [t for t in decks if t.type == "card_explanation"]
    assert any(c.children for c in explanation.children or [] if c.type == "inline")
    assert [t.meta for t in decks if t.type == "heading_open"] == [{"section": "the-title"}]


def test_the_refused_schemes_are_markdown_its() -> None:
    """`_decks_need` looks for the schemes `validateLink` refuses: a markdown-it-py upgrade that
    refuses another scheme must update `cards.REFUSED_SCHEMES`."""
    found = re.fullmatch(r"\^\((.*)\):", normalize_url.BAD_PROTO_RE.pattern)
    assert found is not None
    assert sorted(found.group(1).split("|")) == sorted(cards.REFUSED_SCHEMES)
    # Links come only from link, image and autolink syntax: linkify (bare URLs in text, which
    # `_decks_need` does not look for) stays off.
    assert markdown.parser().options["linkify"] is False


def test_a_decks_only_load_leaves_the_prose_unparsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`load_lesson(site=False)` asks the parser for the shortcut; with the site it does not."""
    inline = markdown.parser().inline
    parsed = calls(monkeypatch, inline, "parse")
    prose = "Some *prose* here."
    with lesson_folder(f"{FRONT}\n{prose}\n\nQ *one*::A\n") as root:
        _load(root, site=False)
        assert prose not in parsed
        assert "Q *one*" in parsed
        _load(root, site=True)
        assert prose in parsed


@FAST
@given(prose_lessons, st.booleans())
def test_the_images_of_a_block_are_those_a_full_walk_finds(text: str, decks_only: bool) -> None:
    """`markdown.images` walks an inline token's children only when its text has `![`: it finds
    every image a walk of all of them finds (links, clozes, reference images, images in alt
    text, explanations)."""
    env = {cards.DECKS_ONLY: True} if decks_only else {}
    tokens = markdown.parser().parse(text, env)
    walked = [
        (block, t)
        for block in tokens
        for t in markdown.walk(block.children or [])
        if t.type == "image"
    ]
    assert list(markdown.images(tokens)) == walked


@pytest.mark.parametrize(
    "body",
    [
        "A ![dot][r] here.\n\n[r]: img/dot.png",
        "A ![r] here.\n\n[r]: img/dot.png",
        "Q ==![dot](img/dot.png)== here",
        "[![dot](img/dot.png)](https://example.org)::A",
        "Q::A\n> Why ![dot](img/dot.png)",
    ],
)
def test_reference_and_nested_images_are_found(body: str) -> None:
    tokens = markdown.parser().parse(f"{FRONT}\n{body}\n", {})
    found = list(markdown.images(tokens))
    assert found
    assert found == [
        (block, t)
        for block in tokens
        for t in markdown.walk(block.children or [])
        if t.type == "image"
    ]


def test_text_without_an_image_mark_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of `markdown.images`: inline tokens whose text has no `![` are skipped."""
    tokens = markdown.parser().parse(f"{FRONT}\nSome *text* [l](https://x.org).\n\nQ *a*::A\n", {})
    walked = calls(monkeypatch, markdown, "walk")
    assert list(markdown.images(tokens)) == []
    assert walked == []
