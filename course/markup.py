"""HTML text that needs no Markdown parser: escaping as markdown-it escapes, and the course
page's anchors (the URL fragments of a lesson, a section, a card and a card sheet).

Its own module so that what only reads rendered strings (the deck writer's notes, the site's
pages) imports no parser: a rebuild that parses its edited lesson in a forked child then
imports markdown-it there only (render.py and site.py share these names)."""

from __future__ import annotations


def escape_html(raw: str) -> str:
    """`&`, `<`, `>` and `"` as entities, as markdown-it-py's `escapeHtml` gives them (single
    quotes stay): the decks' fields must be the bytes the parser's own escaping made before
    (tests/test_markup.py compares the two on generated text)."""
    escaped = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace('"', "&quot;")


def heading_id(lesson_id: str, section_id: str) -> str:
    return f"lesson/{lesson_id}/{section_id}"


def lesson_anchor(lesson_id: str) -> str:
    return f"lesson/{lesson_id}"


def card_anchor(card_id: str) -> str:
    return f"card-{card_id}"


def sheet_anchor(lesson_id: str) -> str:
    """The printable card sheet of a lesson (a view of its own, not a section of the lesson)."""
    return f"cards/{lesson_id}"
