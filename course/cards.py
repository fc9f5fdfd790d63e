"""Parse stage: a markdown-it plugin that turns card syntax into typed tokens, and the one place
where those tokens become `Card` and `Section` records.

Card forms (Obsidian Spaced Repetition defaults, plus Anki's cloze syntax), one block rule each:

    Question::Answer            basic             Question:::Answer         basic and reversed
    question lines / ? / answer lines           question lines / ?? / answer lines (reversed)
    text with ==hidden== parts  cloze, one card per highlight (`==1;;hidden;;hint==` numbered)
    text with {{c1::hidden::hint}}              cloze, Anki numbering

A card becomes `card_open` ... `card_close` around `card_question_*` and `card_answer_*` blocks and,
when a block quote follows the card's last line, one `card_explanation` token whose `children` are
the quote's block tokens. A cloze deletion becomes `cloze_open` / `cloze_close` inline tokens.
`token.meta` is typed: `CardMeta` on `card_open`, `ClozeMeta` on cloze tokens, `HeadingMeta` on
headings outside cards. HTML comments (`<!-- ... -->`, one line or several) are never shown and
never hold cards. Problems go to `env["problems"]` as `ParseProblem`s: one parse reports them all.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, TypedDict, cast
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.rules_block import StateBlock, blockquote, fence
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.image import image as md_image
from markdown_it.token import Token

from .model import Card, CardKind, CardText, Section, SourceLoc, digest

ID_COMMENT = re.compile(r"<!--\s*id\s*:\s*([^\s>]*)\s*-->", re.IGNORECASE)
"""The author-owned card ID, `<!-- id: k3m9qz2a -->`, as an author or a tool may spell it:
`<!-- ID: x -->`, `<!--id:x-->`, `<!--  id : x  -->` are the same ID, silently (the key's
spelling changes nothing; the ID itself is case-sensitive). The plugin's `<!--SR:...-->` is
no ID comment."""
VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
BLOCK_ID = re.compile(r" \^[A-Za-z0-9-]+[ \t]*(?=\n|\Z)")
"""An Obsidian block ID (` ^abc123`) ending a line: a link target in Obsidian, never shown."""
CARD_TAG = re.compile(r"#([^\s#]+)\s*")
"""The plugin's deck tag at the very start of a card (`#flashcards/science Q::A`)."""
SR_CALLOUT = "[!sr|card-metadata]"
"""The plugin's callout that holds scheduling comments under a card: data, never shown."""
ANKI_CLOZE = re.compile(r"\{\{c(\d+)::")
HIGHLIGHT = re.compile(r"==[^\s=](?:.*?[^\s=])?==")
HIGHLIGHT_PARTS = re.compile(r"(?:(\d+);;)?(.*?)(?:;;([^;]*))?\Z", re.DOTALL)
"""Inside `==...==`: the plugin's optional sequence number (`1;;`) and hint (`;;hint`)."""
EMPTY_CLOZE = re.compile(r"====|\{\{c\d+::\s*(?:::[^}]*)?\}\}")
SEPARATORS = {"?": CardKind.BASIC, "??": CardKind.REVERSED}
"""A line holding only `?` (basic) or `??` (reversed) splits a multi-line card."""
HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|\Z)")
BARE_LINE = re.compile(
    r"(?:.*\$\$|(?:[*_=-][ \t]*)+|\|?(?:[ \t]*:?-+:?[ \t]*\|)*[ \t]*:?-+:?[ \t]*\|?)[ \t]*\Z"
)
"""A line a comment appended to would change: a setext underline or thematic break (`---`,
`===`, `***`), a table's delimiter row (`|--|:-:|`), a line ending Obsidian's `$$` math block.
(A fence's lines are no prose; a separator is known by its line.) No ID is added there."""
SEPARATOR_LINE = re.compile(r"(?:^|[\s>])\?\??[ \t]*$", re.MULTILINE)
"""A raw line that may hold only `?` or `??` once its prefix (quote mark, list marker) is gone."""
NO_QUESTION = "card has an answer but no question"
NO_ANSWER = "card has a question but no answer"
QUESTION, ANSWER = 1, 2
"""`CardMeta.unsure`'s bits."""
DEPTH = "card_depth"
"""`env` key: >0 while a card's own lines are tokenized (cards do not nest)."""
SCAN = "card_scan"
"""`env` key: the last block scanned, with where it was scanned from."""
WINDOW = "card_window"
"""`env` key: the last window `_may_hold` read, with where it starts."""
DECKS_ONLY = "card_decks_only"
"""`env` key: true when only the decks' strings are wanted (no site): prose (inline text
outside cards and headings) keeps its `content` and gets no children, unless it may hold
something the decks' build still reports or uses (`_decks_need`)."""
REFUSED_SCHEMES = ("javascript", "vbscript", "file", "data")
"""The schemes markdown-it's `validateLink` refuses (`normalize_url.BAD_PROTO_RE`; a test checks
they are the same): an address it refuses is a warning (`parse_inline`)."""


class CardMeta(TypedDict):
    """`card_open.meta`."""

    kind: CardKind
    id: str | None
    id_line: int
    """0-based line where a missing ID is appended."""
    id_own_line: int | None
    """0-based line of the card's ID comment when it stands alone under the card's last line,
    where the plugin runs the card on (`_own_line`): `ids` moves it to `id_line`."""
    tags: tuple[str, ...]
    """Anki tags from the plugin's `#tag` at the start of the card (`a/b` -> `a::b`)."""
    clozes: tuple[int, ...]
    """Cloze numbers of a cloze card, ascending (set after inline parsing)."""
    cloze_hashes: tuple[str, ...]
    """For each of `clozes`, a short hash of the text it hides (`cloze_hashes`)."""
    section: str
    """Slug of the section the card stands in ('' before the first heading)."""
    reported: bool
    """An empty cloze was already reported on its own line."""
    unsure: int
    """The sides (`QUESTION`, `ANSWER` bits) whose Markdown cannot tell whether they show
    anything (`side_shows` None): `finish` looks at their tokens."""


class ClozeMeta(TypedDict):
    """`cloze_open.meta` (the matching `cloze_close` shares it)."""

    n: int
    hint: str


class HeadingMeta(TypedDict):
    """`heading_open.meta` for a heading outside cards: the section it starts."""

    section: str


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A problem the parser found in a lesson, at its line counted from 0 (messages: line0 + 1)."""

    line0: int
    message: str
    warning: bool = False


def card_meta(token: Token) -> CardMeta:
    return cast(CardMeta, token.meta)


def cloze_meta(token: Token) -> ClozeMeta:
    return cast(ClozeMeta, token.meta)


def heading_section(token: Token) -> str | None:
    """The section slug a `heading_open` starts; None for a heading inside a card."""
    return cast(HeadingMeta, token.meta).get("section")


# -- text helpers ---------------------------------------------------------------------------------


def comment_end(text: str, start: int, end: int | None = None, depth: int = 0) -> tuple[int, int]:
    """Scan `text[start:end]` for comment marks: (position after the mark that closes every open
    comment, 0), or (end, depth still open). HTML comments (IDs, Obsidian's `<!--SR:...-->` data,
    an author's notes) nest, as the plugin documents: `<!-- Q::A <!--SR:...--> -->` hides a card."""
    stop = len(text) if end is None else end
    pos = start
    while True:
        close = text.find("-->", pos, stop)
        opened = text.find("<!--", pos, stop if close < 0 else close)
        if opened >= 0:
            depth, pos = depth + 1, opened + 4
            continue
        if close < 0:
            return stop, depth
        depth, pos = max(depth - 1, 0), close + 3
        if depth == 0:
            return pos, 0


def _comment_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each complete comment in `text`, with the blanks before it."""
    pos = 0
    while (opened := text.find("<!--", pos)) >= 0:
        end, depth = comment_end(text, opened)
        if depth:
            return
        start = opened
        while start > pos and text[start - 1] in " \t":
            start -= 1
        yield start, end
        pos = end


def strip_comments(text: str) -> str:
    """The text without HTML comments (IDs, scheduling data, notes)."""
    if "<!--" not in text:
        return text
    parts, pos = [], 0
    for start, end in _comment_spans(text):
        parts.append(text[pos:start])
        pos = end
    return "".join(parts) + text[pos:]


def _mask(text: str) -> str:
    """`text` with code spans and comments blanked out (same length): where syntax may be found."""
    if "`" not in text:
        return _blank_comments(text) if "<!--" in text else text
    out = list(text)
    pos = 0
    while (tick := text.find("`", pos)) >= 0:
        run_end = tick
        while run_end < len(text) and text[run_end] == "`":
            run_end += 1
        close = re.compile(rf"(?<!`){re.escape(text[tick:run_end])}(?!`)").search(text, run_end)
        if close is None:  # an unmatched backtick run is literal text
            pos = run_end
            continue
        out[tick : close.end()] = " " * (close.end() - tick)
        pos = close.end()
    for start, end in _comment_spans(text):
        out[start:end] = " " * (end - start)
    return "".join(out)


def _blank_comments(text: str) -> str:
    """`text` with its comments blanked out (`_mask` of a text without code spans: a card line
    with its ID comment), in slices rather than a list of characters."""
    parts: list[str] = []
    pos = 0
    for start, end in _comment_spans(text):
        parts += (text[pos:start], " " * (end - start))
        pos = end
    return "".join(parts) + text[pos:]


class InlineCard(NamedTuple):
    question: str
    answer: str
    kind: CardKind


def split_inline_card(line: str) -> InlineCard | None:
    """`Question::Answer` -> its parts; None if the line is no such card. As the plugin does, a
    `:::` anywhere makes it reversed; code spans and comments never hold the separator."""
    masked = _mask(line)
    if ANKI_CLOZE.search(masked):
        return None  # Anki's cloze syntax uses `::` too: such a line is a cloze
    for sep, kind in ((":::", CardKind.REVERSED), ("::", CardKind.BASIC)):
        at = masked.find(sep)
        if at >= 0:
            return InlineCard(line[:at].strip(), line[at + len(sep) :].strip(), kind)
    return None


SHOWN_LETTER = re.compile(
    r"(?:[^&<\[\]^`~=\w]|[_\u115f\u1160\u3164\uffa0])*[^\W_\u115f\u1160\u3164\uffa0]"
)
"""Matches from a side's start when a letter or digit (not a Hangul filler, which shows
nothing) stands before any mark that may hide what follows it: an entity's name (`&nbsp;`),
a link's address or label (`[ ](x)`, `[ ][x]`, `<x>`, a reference definition `[x]: /u`), a
block ID (` ^x`), a fence's info string, a highlight's number or hint (`==1;;x;;hint==`). No
Markdown hides a letter with none of those before it (raw HTML is off): the side shows it."""
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")
"""Characters that print as nothing but are no blank nor format character (Hangul fillers,
the blank Braille pattern, the combining grapheme joiner)."""


def side_shows(text: str) -> bool | None:
    """Whether a card side's Markdown shows a character, told from the Markdown: True when a
    letter or digit comes before anything that may hide it (`SHOWN_LETTER`: most sides, one
    short match); False when it holds only blanks, comments, entities of blanks (`&nbsp;`,
    `&#8203;`) or other `invisible` characters; None when only its rendering can tell
    (`**&nbsp;**`, `[ ](x)`, `[a](x)`: `finish` asks `shows_something` of its tokens). Asked of
    a card already found, never of every line."""
    if SHOWN_LETTER.match(text):  # (a comment before the letter starts with `<`)
        return True
    text = strip_comments(text).strip()
    if not text:
        return False
    if "&" in text:
        text = unescapeAll(text)
    return None if not invisible(text) else False


def invisible(text: str) -> bool:
    """Whether `text` prints as nothing: blanks (NBSP and every Unicode space), format
    characters (zero-width space, joiners, marks of direction, BOM) and `FILLERS`."""
    return all(c.isspace() or c in FILLERS or unicodedata.category(c) == "Cf" for c in text)


SHOWN_AS_TEXT = frozenset({"text", "text_special", "code_inline", "code_block", "fence"})
"""Tokens whose `content` is shown as it is (`text_special`: an entity or an escape, decoded;
`text_join` has not merged it yet when `finish` runs)."""


def shows_something(tokens: Sequence[Token]) -> bool:
    """Whether rendered tokens show anything: a character that is not `invisible`, or an image
    (the one thing without text the renderer makes: raw HTML is off, no math, no media)."""
    for token in tokens:
        if token.type == "image":
            return True
        if token.type in SHOWN_AS_TEXT and not invisible(token.content):
            return True
        if token.children and shows_something(token.children):
            return True
    return False


def _has_cloze(text: str) -> bool:
    masked = _mask(text)
    return bool(ANKI_CLOZE.search(masked) or HIGHLIGHT.search(masked))


def obsidian_tags(text: str) -> tuple[tuple[str, ...], int]:
    """The plugin's deck tags starting a card's first line, as Anki tags, and their length."""
    tags: list[str] = []
    pos = 0
    while match := CARD_TAG.match(text, pos):
        tags.append(match.group(1).replace("/", "::"))
        pos = match.end()
    return tuple(tags), pos


# -- block rules ----------------------------------------------------------------------------------


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _problem(
    state: StateBlock | StateCore, line0: int, message: str, warning: bool = False
) -> None:
    state.env.setdefault("problems", []).append(ParseProblem(line0, message, warning))


def _in_card(state: StateBlock) -> bool:
    return bool(state.env.get(DEPTH))


def _comment_close(state: StateBlock, start: int, end_line: int) -> tuple[int, int] | None:
    """Where the HTML comment block opening at `start` closes: its last line and the position
    after its `-->` in that line (`_line`'s text); (end_line, 0) when it never closes; None if
    none opens there."""
    if state.is_code_block(start) or not _line(state, start).startswith("<!--"):
        return None
    line, (end, depth) = start, comment_end(_line(state, start), 0)
    while depth:
        line += 1
        if line >= end_line:
            return end_line, 0
        end, depth = comment_end(_line(state, line), 0, depth=depth)
    return line, end


def _comment_end(state: StateBlock, start: int, end_line: int) -> int | None:
    """First line after the HTML comment block opening at `start`; None if none opens there."""
    close = _comment_close(state, start, end_line)
    return None if close is None else min(close[0] + 1, end_line)


def comment_block(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """Block rule: an HTML comment opening a line hides everything up to its `-->` line, text
    after the `-->` too: a card there is reported, not hidden without a word."""
    close = _comment_close(state, start, end_line)
    if close is None:
        return False
    if not silent:
        if close[0] < end_line:
            _hidden_card(state, close[0], _line(state, close[0])[close[1] :])
        if close[0] == start and not _in_card(state):
            _stray_id(state, start)
        state.line = min(close[0] + 1, end_line)
    return True


def _stray_id(state: StateBlock, line: int) -> None:
    """An ID comment alone on a line outside any card (under a `Q::A` line, after a card's
    explanation, after a blank line) belongs to no card: the card it was meant for would get
    a new ID and learners its history lost, so it is an error, before anything is written."""
    match = ID_COMMENT.fullmatch(_line(state, line).strip())
    if match is not None:
        card_id = match.group(1)
        _problem(
            state,
            line,
            f"the ID comment '{card_id}' stands on a line of its own, outside any card: the "
            "card it belongs to would get a new ID (and learners would lose its history); put "
            f"it at the end of the card's last line (Question::Answer <!-- id: {card_id} -->)",
        )


def _hidden_card(state: StateBlock, line: int, rest: str) -> None:
    """`rest`, the text after a comment that opens its line, is hidden with it: an error when
    it holds a card (a separator, a cloze or an ID comment). With nothing but comments before
    its `::`, the card has no question, as the plugin reads it."""
    card = split_inline_card(rest) if "::" in rest else None
    if card is not None and side_shows(card.question) is False:
        _problem(state, line, NO_QUESTION)
    elif card is not None or _has_cloze(rest) or ID_COMMENT.search(rest):
        message = (
            "this card is hidden: a comment that starts a line hides the whole line (and the "
            "comment's other lines); start the line with the card, the comment after it"
        )
        _problem(state, line, message)


def _fence_end(state: StateBlock, start: int, end_line: int) -> int | None:
    """First line after the fenced code block opening at `start` (markdown-it's own rule)."""
    if _line(state, start)[:1] not in ("`", "~"):
        return None
    old_line, count = state.line, len(state.tokens)
    if not fence(state, start, end_line, False):
        return None
    end = state.line
    del state.tokens[count:]
    state.line = old_line
    return end


@dataclass(slots=True)
class _Block:
    """The lines of a paragraph-like block that may be a multi-line or cloze card."""

    end: int
    separator: int | None = None
    prose: list[int] = field(default_factory=list)
    """Lines outside fences and comments: where card syntax counts."""
    body: list[int] = field(default_factory=list)
    """Lines outside comments (fences included): what the card shows."""
    id_lines: list[int] = field(default_factory=list)
    """Lines an ID comment may stand on: `prose` plus one-line comments."""
    quote: int | None = None
    """First line opening a block quote before any separator (where a cloze card's text ends)."""


def _cloze_marks(text: str) -> bool:
    return "==" in text or "{{c" in text


def _may_hold(state: StateBlock, start: int, test: Callable[[str], object]) -> bool:
    """A cheap test before `_scan`: False only when the raw text from `start` to the next blank
    line (a superset of the block `_scan` reads, unless a fence or a comment may stretch it past
    that line) fails `test`, so the card rule cannot match there."""
    hiding, window = _window(state, state.bMarks[start])
    return hiding or bool(test(window))


def _window(state: StateBlock, begin: int) -> tuple[bool, str]:
    """`_may_hold`'s window from `begin` to the next blank line, and whether a fence or a
    comment may stand in it (a block holding one may run past a blank line: no cheap answer):
    made once for the multi-line and the cloze rule, which look at each block in turn."""
    cached = state.env.get(WINDOW)
    if cached is not None and cached[0] is state.src and cached[1] == begin:
        return cast(tuple[bool, str], cached[2:])
    blank = BLANK_LINE.search(state.src, begin)
    window = state.src[begin : blank.start() if blank else len(state.src)]
    hiding = "`" in window or "~" in window or "<!--" in window
    state.env[WINDOW] = (state.src, begin, hiding, window)
    return hiding, window


def _scan_once(state: StateBlock, start: int, end_line: int) -> _Block:
    """`_scan`, done once for the multi-line and the cloze rule that both look at a block."""
    key = (id(state), start, end_line, state.blkIndent)
    cached = state.env.get(SCAN)
    if cached is not None and cached[0] == key:
        return cast(_Block, cached[1])
    block = _scan(state, start, end_line)
    state.env[SCAN] = (key, block)
    return block


def _scan(state: StateBlock, start: int, end_line: int) -> _Block:
    """Read the block at `start` up to a blank line, a heading, a `::` card line, a less indented
    line, or a block quote after the first answer line (the explanation); fences and comments
    inside it belong to it."""
    block = _Block(end_line)
    line = start
    while line < end_line:
        text = _line(state, line)
        if line > start and (
            state.isEmpty(line)
            or state.sCount[line] < state.blkIndent
            or HEADING.match(text)
            or (text.startswith(">") and block.separator is not None and line > block.separator + 1)
        ):
            block.end = line
            return block
        code = state.is_code_block(line)
        if not code and (skip := _fence_end(state, line, end_line)) is not None:
            block.body.extend(range(line, skip))
        elif not code and (skip := _comment_end(state, line, end_line)) is not None:
            block.id_lines.extend([line] if skip == line + 1 else [])
        else:
            if line > start and "::" in text and split_inline_card(text) is not None:
                block.end = line
                return block
            if text.startswith(">") and line > start and block.quote is None:
                block.quote = line
            if (
                block.separator is None
                and text.startswith("?")
                and not code
                and strip_comments(text).strip() in SEPARATORS
            ):
                block.separator = line
            skip = line + 1
            block.prose.append(line)
            block.body.append(line)
            block.id_lines.append(line)
        line = skip
    return block


def _card_id(state: StateBlock, lines: Sequence[int]) -> tuple[str | None, int]:
    """The card's ID and the line of its comment (-1 without one)."""
    texts = ((line, _line(state, line)) for line in lines)
    found = [
        (m.group(1), line)
        for line, text in texts
        if "<!--" in text
        for m in ID_COMMENT.finditer(text)
    ]
    if not found:
        return None, -1
    if len(found) > 1:
        _problem(state, found[1][1], "card has more than one ID comment")
    card_id, line = found[0]
    if not VALID_ID.match(card_id):
        _problem(state, line, f"invalid card ID {card_id!r}: use letters, digits, '-' and '_'")
    return card_id, line


def _own_line(state: StateBlock, lines: _Block, at: int, end: int) -> int | None:
    """`at`, the line of the card's ID comment, when it stands on a line of its own (comments
    only) as the last of the card's lines [.., end): the plugin takes a comment that starts a
    line (other than its `<!--SR:`) as hiding the next line too, the blank line that ends the
    card, which then runs on into the next paragraph. None when it stands anywhere else."""
    if at != end - 1 or (lines.prose and lines.prose[-1] == at):
        return None
    return at if not strip_comments(_line(state, at)).strip() else None


def _id_line(state: StateBlock, lines: _Block, last: int) -> int:
    """Where a missing ID is appended: the card's last line of text that a comment leaves as it
    is, in its answer, else in its question: not its `?` line (the plugin sees a card only when
    that line holds nothing else), not a fence or a `BARE_LINE`. Not a line of its own after the
    card either: the plugin takes a comment line (other than its `<!--SR:` line) as a comment
    that hides the next line too, the blank line that ends the card, which then runs on into
    the next paragraph. No such line: the last line of text."""
    for line in reversed(lines.prose):
        if line != lines.separator and not _bare(state, line):
            return line
    return lines.prose[-1] if lines.prose else last


def _bare(state: StateBlock, line: int) -> bool:
    """A `BARE_LINE`, or a table's header row (a cell more, and it is no table)."""
    if BARE_LINE.match(_line(state, line)):
        return True
    below = _line(state, line + 1) if line + 1 < state.lineMax else ""
    return "|" in below and BARE_LINE.match(below) is not None


def _open_card(
    state: StateBlock, kind: CardKind, span: tuple[int, int], lines: _Block, tags: tuple[str, ...]
) -> Token:
    card_id, at = _card_id(state, lines.id_lines)
    meta: CardMeta = {
        "kind": kind,
        "id": card_id,
        "id_line": _id_line(state, lines, span[1] - 1),
        "id_own_line": _own_line(state, lines, at, span[1]) if at >= 0 else None,
        "tags": tags,
        "clozes": (),
        "cloze_hashes": (),
        "section": "",
        "reported": False,
        "unsure": 0,
    }
    token = state.push("card_open", "div", 1)
    token.map = [span[0], span[1]]
    token.meta = dict(meta)
    token.block = True
    return token


def _push_inline(state: StateBlock, content: str, line: int, end: int) -> None:
    """A card side that is one line of text: its inline token alone. A paragraph around it
    would be hidden (`hide_single_paragraph`) and render as nothing on every output."""
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [line, end]
    token.children = []


def _tokenize_lines(state: StateBlock, start: int, end: int, skip: int = 0) -> None:
    """Run the block rules over lines [start, end) as a nested container does, without the first
    `skip` characters of the first line (a deck tag); no card nests in another."""
    old = state.parentType, state.lineMax, state.bMarks[start], state.tShift[start]
    state.parentType = "card"
    state.lineMax = end
    if skip:
        state.bMarks[start] += state.tShift[start] + skip
        state.tShift[start] = 0
    state.env[DEPTH] = state.env.get(DEPTH, 0) + 1
    state.md.block.tokenize(state, start, end)
    state.env[DEPTH] -= 1
    state.parentType, state.lineMax, state.bMarks[start], state.tShift[start] = old


def _close_card(state: StateBlock, end: int, end_line: int) -> None:
    """Close the card; a block quote right under its last line is its explanation."""
    state.line = end
    if end < end_line and not state.is_code_block(end) and _line(state, end).startswith(">"):
        count = len(state.tokens)
        state.env[DEPTH] = state.env.get(DEPTH, 0) + 1
        blockquote(state, end, end_line, False)
        state.env[DEPTH] -= 1
        inner = state.tokens[count + 1 : -1]  # without the quote's own open and close
        del state.tokens[count:]
        if not _line(state, end)[1:].strip().startswith(SR_CALLOUT):
            token = state.push("card_explanation", "", 0)
            token.map = [end, state.line]
            token.block = True
            token.children = inner
    state.push("card_close", "div", -1)


def _push_side(state: StateBlock, side: str, fill: Callable[[], None]) -> None:
    state.push(f"card_{side}_open", "div", 1)
    fill()
    state.push(f"card_{side}_close", "div", -1)


def line_card(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """`Question::Answer` or `Question:::Answer` on one line."""
    text = _line(state, start)
    if "::" not in text or state.is_code_block(start):
        return False  # most lines: no separator, so no card (and no regex work)
    tags, skip = obsidian_tags(text)
    card = split_inline_card(text[skip:])
    if card is None:
        return False
    if silent:  # a card line ends a paragraph or a quote (an explanation too)
        return True
    if _in_card(state):
        return False
    sides = _sides(state, start, side_shows(card.question), side_shows(card.answer))
    token = _open_card(
        state, card.kind, (start, start + 1), _Block(start + 1, None, [start], [], [start]), tags
    )
    card_meta(token)["unsure"] = sides
    state.push("card_question_open", "div", 1)
    _push_inline(state, card.question, start, start + 1)
    state.push("card_question_close", "div", -1)
    state.push("card_answer_open", "div", 1)
    _push_inline(state, card.answer, start, start + 1)
    state.push("card_answer_close", "div", -1)
    _close_card(state, start + 1, end_line)
    return True


def multiline_card(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """Question lines, a line holding only `?` or `??`, answer lines, up to a blank line."""
    if silent or _in_card(state) or not _may_hold(state, start, SEPARATOR_LINE.search):
        return False
    if state.is_code_block(start):
        return False
    block = _scan_once(state, start, end_line)
    sep = block.separator
    if sep is None:
        return False
    if sep == start:
        message = "a '?' line with no question above it is not a card (the plugin ignores it)"
        _problem(state, start, message, warning=True)
        return False
    if "<!--" in _line(state, sep):  # an ID written there by an older build, or by hand
        message = "the Obsidian plugin sees no card when its '?' line holds a comment: move it"
        _problem(state, sep, f"{message} to the end of a question or answer line", warning=True)
    tags, skip = obsidian_tags(_line(state, start))
    question = _lines_show(state, [line for line in block.body if line < sep], skip)
    sides = _sides(state, start, question, _lines_show(state, [x for x in block.body if x > sep]))
    kind = SEPARATORS[strip_comments(_line(state, sep)).strip()]
    card_meta(_open_card(state, kind, (start, block.end), block, tags))["unsure"] = sides
    _push_side(state, "question", lambda: _tokenize_lines(state, start, sep, skip))
    _push_side(state, "answer", lambda: _tokenize_lines(state, sep + 1, block.end))
    _close_card(state, block.end, end_line)
    return True


def _lines_show(state: StateBlock, lines: Sequence[int], skip: int = 0) -> bool | None:
    """`side_shows` of the card side of these lines (the first `skip` characters of the card's
    first line a deck tag): True when a line shows a character, False when none may."""
    shows: bool | None = False
    for at, line in enumerate(lines):
        line_shows = side_shows(_line(state, line)[skip if at == 0 else 0 :])
        if line_shows:
            return True
        shows = shows if line_shows is False else None
    return shows


def _sides(state: StateBlock, line: int, question: bool | None, answer: bool | None) -> int:
    """Report a side that shows nothing (`side_shows` False); the sides only the rendering can
    tell about (None), as `CardMeta.unsure` bits for `finish`."""
    if question is False:
        _problem(state, line, NO_QUESTION)
    if answer is False:
        _problem(state, line, NO_ANSWER)
    return (QUESTION if question is None else 0) | (ANSWER if answer is None else 0)


def cloze_card(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """A paragraph with `==hidden==` or `{{c1::hidden}}` text: the paragraph is the card."""
    if silent or _in_card(state) or not _may_hold(state, start, _cloze_marks):
        return False
    if state.is_code_block(start):
        return False
    block = _scan_once(state, start, end_line)
    end = block.quote if block.quote is not None else block.end
    prose = [line for line in block.prose if line < end]
    text = "\n".join(_line(state, line) for line in prose)
    if not _has_cloze(text) and not EMPTY_CLOZE.search(text):
        return False
    tags, skip = obsidian_tags(_line(state, start))
    empty = [line for line in prose if EMPTY_CLOZE.search(_line(state, line))]
    for line in empty:
        _problem(state, line, "empty cloze: nothing to hide")
    lines = replace(block, prose=prose, id_lines=[line for line in block.id_lines if line < end])
    token = _open_card(state, CardKind.CLOZE, (start, end), lines, tags)
    card_meta(token)["reported"] = bool(empty)
    if end == start + 1:  # one line of text (most clozes): a paragraph, no nested block parse
        one_line = _line(state, start)[skip:].strip()
        _push_side(state, "question", lambda: _push_inline(state, one_line, start, end))
    else:
        _push_side(state, "question", lambda: _tokenize_lines(state, start, end, skip))
    _close_card(state, end, end_line)
    return True


BlockRule = Callable[[StateBlock, int, int, bool], bool]
BLOCK_RULES: tuple[tuple[str, str, BlockRule, list[str]], ...] = (
    # (name, the markdown-it rule it goes before, rule, the blocks it may interrupt)
    ("comment", "html_block", comment_block, ["paragraph", "reference", "blockquote", "list"]),
    ("card_line", "lheading", line_card, ["paragraph", "blockquote"]),
    ("card_multiline", "lheading", multiline_card, []),
    ("card_cloze", "lheading", cloze_card, []),
)
"""One rule per card form, tried in this order, as markdown-it-py's own block rules."""


# -- inline rules ---------------------------------------------------------------------------------


def _drop_trailing_blanks(state: StateInline, end: int) -> None:
    """Something hidden at the end of a line takes the blanks before it along."""
    if end >= state.posMax or state.src[end] == "\n":
        state.pending = state.pending.rstrip(" \t")


def inline_comment(state: StateInline, silent: bool) -> bool:
    """Inline rule: `<!-- ... -->` is never shown (IDs and scheduling data included)."""
    if not state.src.startswith("<!--", state.pos):
        return False
    end, depth = comment_end(state.src, state.pos, state.posMax)
    if depth:
        return False
    if not silent and state.pending.endswith(" ") and state.src[end : end + 1] == " ":
        end += 1  # `a <!-- x --> b` reads `a b`
    state.pos = end
    if not silent:
        _drop_trailing_blanks(state, state.pos)
    return True


def block_id(state: StateInline, silent: bool) -> bool:
    """Inline rule: an Obsidian block ID (` ^abc123`) ending a line is not shown."""
    if state.src[state.pos] != "^" or state.pos == 0 or state.src[state.pos - 1] != " ":
        return False
    match = BLOCK_ID.match(state.src, state.pos - 1, state.posMax)
    if match is None:
        return False
    state.pos = match.end()
    if not silent:
        _drop_trailing_blanks(state, state.pos)
    return True


def anki_cloze(state: StateInline, silent: bool) -> bool:
    """Inline rule: `{{cN::text}}` or `{{cN::text::hint}}`."""
    match = ANKI_CLOZE.match(state.src, state.pos)
    if match is None:
        return False
    body_start = match.end()
    close = state.src.find("}}", body_start, state.posMax)
    if close < 0:
        return False
    body = state.src[body_start:close]
    hint_at = body.rfind("::")
    text_end = body_start + hint_at if hint_at >= 0 else close
    if silent:
        state.pos = close + 2
        return True
    hint = body[hint_at + 2 :] if hint_at >= 0 else ""
    meta: ClozeMeta = {"n": int(match.group(1)), "hint": hint}
    markup = (match.group(), state.src[text_end : close + 2])
    _wrap(state, "cloze", meta, markup, (body_start, text_end))
    state.pos = close + 2
    return True


def highlight(state: StateInline, silent: bool) -> bool:
    """Inline rule: `==text==` becomes `mark_open`/`mark_close`; in a cloze card, a cloze.
    The plugin's `==1;;text;;hint==` gives the cloze number and hint."""
    if not state.src.startswith("==", state.pos):
        return False
    match = HIGHLIGHT.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if silent:
        state.pos = match.end()
        return True
    inner = match.group()[2:-2]
    parts = HIGHLIGHT_PARTS.match(inner)
    assert parts is not None  # the pattern matches any text
    body = match.start() + 2 + parts.start(2)
    number = int(parts.group(1)) if parts.group(1) else 0
    meta: ClozeMeta = {"n": number, "hint": parts.group(3) or ""}
    _wrap(state, "mark", meta, ("==", "=="), (body, body + len(parts.group(2))))
    state.pos = match.end()
    return True


def _wrap(
    state: StateInline, kind: str, meta: ClozeMeta, markup: tuple[str, str], body: tuple[int, int]
) -> None:
    token = state.push(f"{kind}_open", "mark" if kind == "mark" else "span", 1)
    token.meta, token.markup = dict(meta), markup[0]
    # A separate parse of the body: markdown-it's text rule may run past a lowered posMax.
    children: list[Token] = []
    state.md.inline.parse(state.src[body[0] : body[1]], state.md, state.env, children)
    state.tokens.extend(children)
    close = state.push(f"{kind}_close", token.tag, -1)
    close.meta, close.markup = token.meta, markup[1]  # renderers read n/hint on close too


EMBED = re.compile(r"!\[\[([^\[\]|#^\n]+)(?:\|([^\[\]\n]*))?\]\]")
"""Obsidian's embed: `![[name]]`, `![[name|alias or size]]` (no heading or block part)."""
EMBED_SIZE = re.compile(r"[0-9]+(?:x[0-9]+)?\Z")
"""An embed's `|300` or `|300x200`: a size, not an alternative text."""
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".bmp"})
"""The files Obsidian embeds as images (`embed`): an embedded note stays text."""


def embed(state: StateInline, silent: bool) -> bool:
    """Inline rule: Obsidian's image embed `![[x.png]]` (`![[x.png|a dog]]`: the alternative
    text; `|300`: a size, dropped) is the image `![](x.png)`: its file found from the lesson's
    folder as any image's, checked, packed (`lessons.resolve_images`)."""
    if not state.src.startswith("![[", state.pos):
        return False
    match = EMBED.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    name = match.group(1).strip()
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        return False
    if not silent:
        alt = (match.group(2) or "").strip()
        alt = "" if EMBED_SIZE.match(alt) else alt
        token = state.push("image", "img", 0)
        token.attrs = {"src": quote(name), "alt": ""}
        token.content, token.markup = alt, "![["
        text = Token("text", "", 0)
        text.content = alt
        token.children = [text] if alt else []
    state.pos = match.end()
    return True


def image(state: StateInline, silent: bool) -> bool:
    """markdown-it's `image` rule, Obsidian's embed (`embed`) tried first: one rule, not a rule
    of its own before it, which every position the text rule stops at would call: 1.049x the
    CPU of a 67-lesson parse that way, 0.995x this way (12 alternating pairs each); only a `!`
    reaches the embed's test."""
    return state.src[state.pos] == "!" and (embed(state, silent) or md_image(state, silent))


INLINE_RULES: tuple[tuple[str, str, Callable[[StateInline, bool], bool]], ...] = (
    ("comment", "autolink", inline_comment),
    ("block_id", "autolink", block_id),
    ("anki_cloze", "emphasis", anki_cloze),
    ("highlight", "emphasis", highlight),
)


# -- core rules -----------------------------------------------------------------------------------


def parse_inline(state: StateCore, refused: list[str]) -> None:
    """Core `inline`, replaced: also inside explanations, and a link or image the parser refuses
    (`javascript:`, `data:`) is a warning on its line instead of silent raw Markdown."""
    in_definitions = list(dict.fromkeys(refused))  # refused by the block parse: reference lines
    refused.clear()
    decks_only, depth = bool(state.env.get(DECKS_ONLY)), 0
    tokens = state.tokens
    for i, token in enumerate(tokens):
        kind = token.type
        if kind in ("card_open", "card_close"):
            depth += token.nesting
        elif kind == "card_explanation":
            _parse_inline_token(state, token, refused)
        elif kind == "inline":
            if in_definitions:
                refused.extend(url for url in in_definitions if url in token.content)
            prose = depth == 0 and i > 0 and tokens[i - 1].type != "heading_open"
            needed = not (decks_only and prose) or _decks_need(token.content)
            _parse_inline_token(state, token, refused, needed)


def _decks_need(text: str) -> bool:
    """Whether the inline parse of prose `text` may find what a decks-only build still needs:
    an image (`![`: its file is checked and goes with the lesson's media) or an address that
    `validateLink` refuses (a warning). markdown-it lowercases an address before testing its
    scheme and decodes entities in it (`&#106;avascript:`): a refused scheme's letters stand
    in the text as they are, or an `&` does."""
    if "![" in text or "&" in text:
        return True
    lower = text.lower()
    return any(scheme in lower for scheme in REFUSED_SCHEMES)


def _parse_inline_token(
    state: StateCore, token: Token, refused: list[str], needed: bool = True
) -> None:
    """Parse an inline token's content into its children (`needed`: else it gets none)."""
    if token.type == "card_explanation":
        for child in token.children or []:
            _parse_inline_token(state, child, refused)
        return
    if token.type != "inline":
        return
    if token.children is None:
        token.children = []
    if needed:
        state.md.inline.parse(token.content, state.md, state.env, token.children)
    if refused:
        line = token.map[0] if token.map else 0
        for url in dict.fromkeys(refused):
            message = f"link or image address '{url}' refused as unsafe: it shows as plain text"
            _problem(state, line, message, warning=True)
        refused.clear()


def finish(state: StateCore) -> None:
    """Core rule after `inline`, one walk: number each cloze card's clozes, show cloze syntax
    outside cloze cards as written, and give headings and cards their section slug."""
    card: Token | None = None
    inlines: list[list[Token]] = []
    first = 0
    slugs: set[str] = set()
    section = ""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "card_open":
            card, inlines, first = token, [], i
            card_meta(token)["section"] = section
        elif token.type == "card_close":
            if card is not None and card_meta(card)["kind"] is CardKind.CLOZE:
                _finish_cloze(state, card, inlines)
            elif card is not None and card_meta(card)["unsure"]:
                _check_sides(state, next(iter_cards(tokens[first : i + 1])))
            card = None
        elif token.type == "heading_open" and card is None:
            section = _unique(slugify(plain_text([tokens[i + 1]])), slugs)
            cast(HeadingMeta, token.meta)["section"] = section
        elif token.type == "inline" and token.children:
            if card is not None and card_meta(card)["kind"] is CardKind.CLOZE:
                inlines.append(token.children)
            else:
                _plain_clozes(token.children)
        elif token.type == "card_explanation":
            for child in token.children or []:
                _plain_clozes(child.children or [])


def _check_sides(state: StateCore, part: CardTokens) -> None:
    """Report each of the card's `unsure` sides whose tokens show nothing (`shows_something`)."""
    unsure = card_meta(part.open)["unsure"]
    line = (part.open.map or [0])[0]
    if unsure & QUESTION and not shows_something(part.question):
        _problem(state, line, NO_QUESTION)
    if unsure & ANSWER and not shows_something(part.answer):
        _problem(state, line, NO_ANSWER)


def _unique(slug: str, taken: set[str]) -> str:
    result, n = slug, 2
    while result in taken:
        result, n = f"{slug}-{n}", n + 1
    taken.add(result)
    return result


def _plain_clozes(children: list[Token]) -> None:
    """Anki cloze syntax outside a cloze card is text as written (a highlight stays a highlight)."""
    for child in children:
        if child.type in ("cloze_open", "cloze_close"):
            child.type, child.tag, child.nesting, child.content = "text", "", 0, child.markup


def _finish_cloze(state: StateCore, card: Token, inlines: list[list[Token]]) -> None:
    """Number the card's clozes: Anki's `{{cN::}}` numbers when it uses them (then `==x==` is a
    highlight), else one number per `==highlight==` in order (or the plugin's `==N;;x==`)."""
    children = [child for inline in inlines for child in inline]
    anki = [cloze_meta(t)["n"] for t in children if t.type == "cloze_open"]
    if anki:
        for child in children:
            if child.type in ("mark_open", "mark_close"):
                child.meta = {}
    else:
        n = 0
        for child in children:
            if child.type == "mark_open":
                n += 1
                cloze_meta(child)["n"] = cloze_meta(child)["n"] or n
            if child.type in ("mark_open", "mark_close"):
                child.type, child.tag = child.type.replace("mark", "cloze"), "span"
        anki = [cloze_meta(t)["n"] for t in children if t.type == "cloze_open"]
    card_meta(card)["clozes"] = tuple(sorted(set(anki)))
    card_meta(card)["cloze_hashes"] = cloze_hashes(children, card_meta(card)["clozes"])
    if card_meta(card)["reported"]:
        return  # the block rule has reported the empty cloze on its own line
    if not anki and card.map:
        _problem(state, card.map[0], "cloze card has no ==hidden== or {{c1::hidden}} text")
    _check_cloze_text(state, card, children)


def cloze_hashes(children: Sequence[Token], numbers: Sequence[int]) -> tuple[str, ...]:
    """For each cloze number, a short hash of the text its clozes hide: a cloze whose text now
    stands under another number has moved, and Anki gives it that number's review history
    (updates.py). A CRC-32 (8 hex digits): it only tells the clozes of one card apart, and
    costs 2/3 of a truncated SHA-256 (3.6 against 5.7 microseconds for 3 clozes). Clozes do not
    nest: a close ends the text."""
    texts = dict.fromkeys(numbers, "")
    number = None
    for child in children:
        if child.type == "cloze_open":
            number = cloze_meta(child)["n"]
            texts[number] += "\x1f"  # (a number used twice: its texts one after the other)
        elif child.type == "cloze_close":
            number = None
        elif number is not None:
            texts[number] += child.content
    return tuple(f"{zlib.crc32(texts[n].encode()):08x}" for n in numbers)


def _check_cloze_text(state: StateCore, card: Token, children: Sequence[Token]) -> None:
    depth, text = 0, ""
    for child in children:
        if child.type == "cloze_open":
            depth, text = depth + 1, ""
        elif child.type == "cloze_close":
            depth -= 1
            if not text.strip() and card.map:
                _problem(state, card.map[0], "empty cloze: nothing to hide")
        elif depth:
            text += child.content


def card_plugin(md: MarkdownIt) -> None:
    """Register the card rules on a parser (`md.use(card_plugin)`)."""
    for name, before, block_rule, alt in BLOCK_RULES:
        md.block.ruler.before(before, name, block_rule, {"alt": alt})
    for name, before_inline, inline_rule in INLINE_RULES:
        md.inline.ruler.before(before_inline, name, inline_rule)
    md.inline.ruler.at("image", image)
    refused: list[str] = []
    validate = md.validateLink

    def validate_and_record(url: str) -> bool:
        ok = validate(url)
        if not ok:
            refused.append(url)
        return ok

    md.validateLink = validate_and_record  # type: ignore[method-assign]
    md.core.ruler.at("inline", lambda state: parse_inline(state, refused))
    md.core.ruler.after("inline", "card_finish", finish)


# -- tokens -> records ----------------------------------------------------------------------------


def slugify(text: str) -> str:
    """A tag- and anchor-safe slug that keeps every script's letters: 'Η Υπομονή' -> 'η-υπομονή'."""
    text = unicodedata.normalize("NFC", text).lower()  # lower(), not casefold(): keeps final ς
    return re.sub(r"[^\w]+", "-", text).strip("-_") or "section"


def plain_text(tokens: Sequence[Token]) -> str:
    """The text of inline tokens, without markup: for titles, tags and search."""
    parts: list[str] = []
    for token in tokens:
        if token.children:
            parts.append(plain_text(token.children))
        elif token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


class CardTokens(NamedTuple):
    open: Token
    question: list[Token]
    answer: list[Token]
    explanation: list[Token]


def iter_cards(tokens: Sequence[Token]) -> Iterator[CardTokens]:
    """Every card of a token stream with the block tokens of each of its parts."""
    card: CardTokens | None = None
    side: list[Token] | None = None
    for token in tokens:
        if token.type == "card_open":
            card, side = CardTokens(token, [], [], []), None
        elif card is None:
            continue
        elif token.type == "card_close":
            yield card
            card = None
        elif token.type in ("card_question_open", "card_answer_open"):
            side = card.question if token.type == "card_question_open" else card.answer
        elif token.type in ("card_question_close", "card_answer_close"):
            side = None
        elif token.type == "card_explanation":
            card.explanation.extend(token.children or [])
        elif side is not None:
            side.append(token)


def hide_single_paragraph(tokens: list[Token]) -> None:
    """A card side that is one paragraph renders without `<p>` (like a tight list item)."""
    opens = [t for t in tokens if t.type == "paragraph_open"]
    if (
        len(opens) == 1
        and tokens[0].type == "paragraph_open"
        and tokens[-1].type == "paragraph_close"
    ):
        tokens[0].hidden = tokens[-1].hidden = True


def collect(
    path: Path, tokens: Sequence[Token], render: Callable[[CardTokens], CardText]
) -> tuple[tuple[Section, ...], tuple[Card, ...]]:
    """Sections from headings, cards from card tokens, each card in the section above it; each
    card's strings from `render` (render.py), given its tokens once they are final."""
    intro = Section("", "", 0, SourceLoc(path, 1))
    sections: dict[str, Section] = {}
    for i, token in enumerate(tokens):
        slug = heading_section(token) if token.type == "heading_open" else None
        if slug is not None:
            line = (token.map or [0])[0] + 1
            title = plain_text([tokens[i + 1]])
            sections[slug] = Section(slug, title, int(token.tag[1:]), SourceLoc(path, line))
    cards = tuple(
        _card(path, part, sections.get(card_meta(part.open)["section"], intro), render)
        for part in iter_cards(tokens)
    )
    used_intro = any(card.section is intro for card in cards)
    return ((intro,) if used_intro else ()) + tuple(sections.values()), cards


def _card(
    path: Path, part: CardTokens, section: Section, render: Callable[[CardTokens], CardText]
) -> Card:
    meta = card_meta(part.open)
    hide_single_paragraph(part.question)
    hide_single_paragraph(part.answer)
    inline = [t.content for t in (*part.question, *part.answer) if t.type == "inline"]
    text = strip_comments("\n".join(inline))
    explanation = plain_text([t for t in part.explanation if t.type == "inline"])
    return Card(
        id=meta["id"],
        kind=meta["kind"],
        text=render(part),
        source_hash=digest(meta["kind"].value, text, explanation),
        section=section,
        line=(part.open.map or [0])[0] + 1,
        id_line=meta["id_line"],
        clozes=meta["clozes"],
        tags=meta["tags"],
        cloze_hashes=meta["cloze_hashes"],
        id_own_line=meta["id_own_line"],
    )
