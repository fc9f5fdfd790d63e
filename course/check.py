"""Which lessons have a graded lesson check, decided at build time exactly as check.js decides it.

A split page (site.SPLIT_BYTES) has none of its lessons' cards until their scripts come, yet
scorm.js must know which lessons have a check to report a status: the page's data carries the
list (`graded`), made here. check.js's `gradedLessons(records, lessons, fold)` keeps a lesson
when `draw(records, lesson, 1, fold)` yields a question; a record yields one when its answer is
short enough to be typed, or when another record of the lesson has a different answer to offer as
a distractor. So, over the lesson's pool (forward items with an answer that is not empty once
normalised), a lesson has a check when one answer is typed or two answers differ: the order the
PRNG draws in never matters. tests/test_check.py runs check.js's own `gradedLessons` against this
on the bundled course, the fixtures and generated lessons.

The ports, function by function (keep them in step with check.js and search.js):
  - `fold`: search.js `fold` (per code point: NFD, marks dropped, lower case, ς ł ß);
  - `normalize`: check.js `normalize` (punctuation, symbols and JavaScript's white space as one
    space, trimmed);
  - `is_typed`: check.js `isTyped` (lengths in UTF-16 code units, as JavaScript counts);
  - `answer`: check.js `records` (a cloze's hidden `.cloze-text` parts joined by " … ", another
    item's back as text; `textContent` with white space collapsed).
"""

from __future__ import annotations

import functools
import html.parser
import unicodedata
from collections.abc import Iterable
from typing import Protocol

TYPED_MAX = 25
"""check.js TYPED_MAX: the longest typed answer, in UTF-16 code units once normalised."""
TYPED_WORDS = 2
"""check.js TYPED_WORDS: the most words of a typed answer."""

JS_SPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
"""JavaScript's `\\s` (WhiteSpace and LineTerminator), which differs from Python's."""
SPECIAL = {"ς": "σ", "ł": "l", "ß": "ss"}
CLOZE_TEXT = "cloze-text"
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr"}
)
"""HTML's void elements: no content, no end tag."""


class Item(Protocol):
    """What the decision reads of a review item (site.ReviewItem)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def front(self) -> str: ...
    @property
    def back(self) -> str: ...


def fold(text: str) -> str:
    """search.js `fold`: without case, accents, Greek final sigma, Polish ł."""
    return "".join(map(_fold, text))


@functools.cache
def _fold(ch: str) -> str:
    """`fold` of one code point (kept: a course's answers use a few dozen; the build asks it
    of every character of every lesson's first answers, 30 ms at 10,000 cards uncached)."""
    bare = "".join(c for c in unicodedata.normalize("NFD", ch) if not _is_mark(c)).lower()
    return "".join(SPECIAL.get(c, c) for c in bare)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")


@functools.cache
def _is_gap(ch: str) -> bool:
    """What check.js's `normalize` turns into a space: `[\\p{P}\\p{S}\\s]`."""
    return ch in JS_SPACE or unicodedata.category(ch)[0] in "PS"


def normalize(text: str) -> str:
    """check.js `normalize`: folded, punctuation and symbols as space, spaces collapsed."""
    words: list[str] = []
    word: list[str] = []
    for ch in fold(text):
        if _is_gap(ch):
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    return " ".join(words)


def _js_length(text: str) -> int:
    """`text.length` in JavaScript: UTF-16 code units, two for a code point above U+FFFF
    (counted, not encoded: the UTF-16 codec is a module each building process would import,
    about 0.4 ms)."""
    return len(text) + sum(ch > "\uffff" for ch in text)


def is_typed(norm: str) -> bool:
    """check.js `isTyped` of a normalised answer."""
    return _js_length(norm) <= TYPED_MAX and len(norm.split(" ")) <= TYPED_WORDS


def _collapse(text: str) -> str:
    """check.js `text`: white space runs as one space, trimmed."""
    spaced = "".join(" " if c in JS_SPACE else c for c in text)
    return " ".join(word for word in spaced.split(" ") if word)


class _Text(html.parser.HTMLParser):
    """An HTML fragment's `textContent`, and each `.cloze-text` element's, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.all: list[str] = []
        self.clozes: list[list[str]] = []
        self.stack: list[tuple[str, list[str] | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        classes = next((v or "" for k, v in attrs if k == "class"), "").split()
        part: list[str] | None = [] if CLOZE_TEXT in classes else None
        if part is not None:
            self.clozes.append(part)
        self.stack.append((tag, part))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # HTML ignores `/>`: a <span/> stays open

    def handle_endtag(self, tag: str) -> None:
        # closes the innermost open element of that name and those inside it
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.all.append(data)
        for _tag, part in self.stack:
            if part is not None:
                part.append(data)


def _parsed(fragment: str) -> _Text:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return parser


def answer(item: Item) -> str:
    """check.js `records`' answer of an item: a cloze's hidden parts, another item's back."""
    if item.kind == "cloze":
        return " … ".join(_collapse("".join(p)) for p in _parsed(item.front).clozes)
    return _collapse("".join(_parsed(item.back).all))


def has_check(items: Iterable[Item]) -> bool:
    """Whether check.js draws a question from these items (one lesson's): see the module's doc."""
    answers: set[str] = set()
    for item in items:
        if item.id.endswith(":r"):
            continue
        norm = normalize(answer(item))
        if not norm:
            continue
        if is_typed(norm):
            return True
        answers.add(norm)
        if len(answers) > 1:
            return True
    return False
