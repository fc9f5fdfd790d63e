"""Parse stage: a markdown-it plugin that turns card syntax into tokens with source lines.

Card forms (Obsidian Spaced Repetition defaults, plus Anki's cloze syntax):

    Question::Answer            basic             Question:::Answer         basic and reversed
    question lines / ? / answer lines           question lines / ?? / answer lines (reversed)
    text with ==hidden== parts  cloze, one card per highlight
    text with {{c1::hidden::hint}}              cloze, Anki numbering

A card becomes `card_open` ... `card_close` around `card_question_*` and `card_answer_*` blocks;
a cloze deletion becomes `cloze_open` / `cloze_close` inline tokens with `meta["n"]`.
Problems go to `env["problems"]` as `(line0, message)`, so one parse reports them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

ID_COMMENT = re.compile(r"[ \t]*<!--\s*id:\s*([^\s>]*)\s*-->")
"""The author-owned card ID, `<!-- id: k3m9qz2a -->`, with the blanks before it."""
VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
SR_COMMENT = re.compile(r"[ \t]*<!--SR:[^>]*-->")
"""Obsidian Spaced Repetition's scheduling comment: its data, not ours; dropped."""
ANKI_CLOZE = re.compile(r"\{\{c(\d+)::")
HIGHLIGHT = re.compile(r"==[^\s=](?:.*?[^\s=])?==")
EMPTY_CLOZE = re.compile(r"====|\{\{c\d+::\s*(?:::[^}]*)?\}\}")
SEPARATORS = {"?": False, "??": True}
"""A line holding only `?` (basic) or `??` (reversed) splits a multi-line card."""
HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")


def strip_comments(text: str) -> str:
    """The card's text without its ID and scheduling comments."""
    return SR_COMMENT.sub("", ID_COMMENT.sub("", text))


def _outside_code(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) spans of `text` that are not inside inline code spans."""
    pos = 0
    start = 0
    while True:
        tick = text.find("`", pos)
        if tick < 0:
            yield start, len(text)
            return
        run_end = tick
        while run_end < len(text) and text[run_end] == "`":
            run_end += 1
        fence = text[tick:run_end]
        close = re.compile(rf"(?<!`){re.escape(fence)}(?!`)").search(text, run_end)
        if close is None:  # an unmatched backtick run is literal text
            pos = run_end
            continue
        yield start, tick
        start = pos = close.end()


def _find_outside_code(text: str, needle: str) -> int:
    for start, end in _outside_code(text):
        found = text.find(needle, start, end)
        if found >= 0:
            return found
    return -1


def _has_cloze(text: str) -> bool:
    return any(
        ANKI_CLOZE.search(text, start, end) or HIGHLIGHT.search(text, start, end)
        for start, end in _outside_code(text)
    )


def split_inline_card(line: str) -> tuple[str, str, bool] | None:
    """`Question::Answer` -> (question, answer, reversed); None if the line is no such card."""
    text = strip_comments(line)
    if any(ANKI_CLOZE.search(text, s, e) for s, e in _outside_code(text)):
        return None  # Anki's cloze syntax uses `::` too: such a line is a cloze
    at = _find_outside_code(text, "::")
    if at < 0:
        return None
    reversed_ = text.startswith(":::", at)
    sep = 3 if reversed_ else 2
    return text[:at].strip(), text[at + sep :].strip(), reversed_


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _problem(state: StateBlock | StateCore, line0: int, message: str) -> None:
    state.env.setdefault("problems", []).append((line0, message))


def _card_id(state: StateBlock, start: int, end: int) -> tuple[str | None, int]:
    """Find the card's ID comment in lines [start, end); returns (id, line0 to append one)."""
    found: list[tuple[str, int]] = []
    for line in range(start, end):
        found += [(m.group(1), line) for m in ID_COMMENT.finditer(_line(state, line))]
    if not found:
        return None, end - 1
    if len(found) > 1:
        _problem(state, found[1][1], "card has more than one ID comment")
    card_id, line = found[0]
    if not VALID_ID.match(card_id):
        _problem(state, line, f"invalid card ID {card_id!r}: use letters, digits, '-' and '_'")
    return card_id, end - 1


def _push_paragraph(state: StateBlock, content: str, line: int, end: int) -> None:
    token = state.push("paragraph_open", "p", 1)
    token.map = [line, end]
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [line, end]
    token.children = []
    state.push("paragraph_close", "p", -1)


def _open_card(state: StateBlock, kind: str, start: int, end: int) -> Token:
    card_id, id_line = _card_id(state, start, end)
    token = state.push("card_open", "div", 1)
    token.map = [start, end]
    token.meta = {"kind": kind, "id": card_id, "id_line": id_line}
    token.block = True
    return token


def _tokenize_lines(state: StateBlock, start: int, end: int) -> None:
    """Run the block rules over lines [start, end) as a nested container does."""
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "card"
    state.lineMax = end
    state.md.block.tokenize(state, start, end)
    state.parentType, state.lineMax = old_parent, old_max


def _block_end(state: StateBlock, start: int, end_line: int) -> int:
    """First line after the paragraph-like block at `start`: blank line, heading or `::` card."""
    line = start + 1
    while line < end_line and not state.isEmpty(line):
        if state.sCount[line] < state.blkIndent:
            break
        text = _line(state, line)
        if HEADING.match(text) or split_inline_card(text) is not None:
            break
        line += 1
    return line


def card_block(state: StateBlock, start: int, end_line: int, silent: bool) -> bool:
    """Block rule: recognise a card starting at line `start`."""
    if state.is_code_block(start):
        return False
    first = _line(state, start)
    inline = split_inline_card(first)
    if silent:  # asked whether a card line may interrupt a paragraph
        return inline is not None
    if inline is not None:
        question, answer, reversed_ = inline
        if not question:
            _problem(state, start, "card has an answer but no question")
        if not answer:
            _problem(state, start, "card has a question but no answer")
        _open_card(state, "reversed" if reversed_ else "basic", start, start + 1)
        for side, content in (("question", question), ("answer", answer)):
            state.push(f"card_{side}_open", "div", 1)
            _push_paragraph(state, content, start, start + 1)
            state.push(f"card_{side}_close", "div", -1)
        state.push("card_close", "div", -1)
        state.line = start + 1
        return True

    end = _block_end(state, start, end_line)
    seps = [
        line
        for line in range(start, end)
        if strip_comments(_line(state, line)).strip() in SEPARATORS
        and state.sCount[line] - state.blkIndent < 4
    ]
    if seps:
        sep = seps[0]
        reversed_ = SEPARATORS[strip_comments(_line(state, sep)).strip()]
        if sep == start:
            _problem(state, start, "card has an answer but no question")
        answer_lines = [strip_comments(_line(state, line)).strip() for line in range(sep + 1, end)]
        if not any(answer_lines):
            _problem(state, start, "card has a question but no answer")
        _open_card(state, "reversed" if reversed_ else "basic", start, end)
        state.push("card_question_open", "div", 1)
        _tokenize_lines(state, start, sep)
        state.push("card_question_close", "div", -1)
        state.push("card_answer_open", "div", 1)
        _tokenize_lines(state, sep + 1, end)
        state.push("card_answer_close", "div", -1)
        state.push("card_close", "div", -1)
        state.line = end
        return True

    text = state.getLines(start, end, state.blkIndent, False)
    if not _has_cloze(text) and not EMPTY_CLOZE.search(text):
        return False
    empty = [line for line in range(start, end) if EMPTY_CLOZE.search(_line(state, line))]
    for line in empty:
        _problem(state, line, "empty cloze: nothing to hide")
    _open_card(state, "cloze", start, end).meta["reported"] = bool(empty)
    state.push("card_question_open", "div", 1)
    _push_paragraph(state, strip_comments(text).strip(), start, end)
    state.push("card_question_close", "div", -1)
    state.push("card_close", "div", -1)
    state.line = end
    return True


def strip_card_comments(state: StateCore) -> None:
    """Core rule before `inline`: ID and scheduling comments are data, never shown."""
    depth = 0
    for token in state.tokens:
        if token.type == "card_open":
            depth += 1
        elif token.type == "card_close":
            depth -= 1
        elif depth and token.type == "inline":
            token.content = strip_comments(token.content).rstrip()


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
    token = state.push("cloze_open", "span", 1)
    token.meta = {"n": int(match.group(1)), "hint": body[hint_at + 2 :] if hint_at >= 0 else ""}
    old_max = state.posMax
    state.pos, state.posMax = body_start, text_end
    state.md.inline.tokenize(state)
    state.posMax = old_max
    state.push("cloze_close", "span", -1).meta = token.meta  # renderers read n/hint here too
    state.pos = close + 2
    return True


def highlight(state: StateInline, silent: bool) -> bool:
    """Inline rule: `==text==` becomes `mark_open`/`mark_close` (a cloze inside a cloze card)."""
    if not state.src.startswith("==", state.pos):
        return False
    match = HIGHLIGHT.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if silent:
        state.pos = match.end()
        return True
    state.push("mark_open", "mark", 1).markup = "=="
    old_max = state.posMax
    state.pos, state.posMax = match.start() + 2, match.end() - 2
    state.md.inline.tokenize(state)
    state.posMax = old_max
    state.push("mark_close", "mark", -1).markup = "=="
    state.pos = match.end()
    return True


def number_clozes(state: StateCore) -> None:
    """Core rule after `inline`: in a cloze card, each `==highlight==` is its own cloze number,
    unless the card uses Anki's numbered syntax; record the numbers on `card_open`."""
    card: Token | None = None
    for token in state.tokens:
        if token.type == "card_open":
            card = token if token.meta["kind"] == "cloze" else None
        elif token.type == "card_close":
            card = None
        elif card is not None and token.type == "inline" and token.children:
            _number_card_clozes(state, card, token.children)


def _number_card_clozes(state: StateCore, card: Token, children: list[Token]) -> None:
    anki = [t.meta["n"] for t in children if t.type == "cloze_open"]
    if not anki:
        n = 0
        opened: list[dict[str, Any]] = []
        for child in children:
            if child.type == "mark_open":
                n += 1
                opened.append({"n": n, "hint": ""})
                child.type, child.tag, child.meta = "cloze_open", "span", opened[-1]
            elif child.type == "mark_close":
                child.type, child.tag, child.meta = "cloze_close", "span", opened.pop()
        anki = list(range(1, n + 1))
    card.meta["clozes"] = tuple(sorted(set(anki)))
    if card.meta.get("reported"):
        return  # the block rule has reported the empty cloze on its own line
    if not anki and card.map:
        _problem(state, card.map[0], "cloze card has no ==hidden== or {{c1::hidden}} text")
    _check_cloze_text(state, card, children)


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
    md.block.ruler.before("paragraph", "card", card_block, {"alt": ["paragraph"]})
    md.core.ruler.before("inline", "card_comments", strip_card_comments)
    md.inline.ruler.before("emphasis", "anki_cloze", anki_cloze)
    md.inline.ruler.before("emphasis", "highlight", highlight)
    md.core.ruler.after("inline", "card_clozes", number_clozes)


def iter_card_sides(tokens: Sequence[Token]) -> Iterator[tuple[Token, list[Token], list[Token]]]:
    """Yield (card_open, question tokens, answer tokens) for every card in a token stream."""
    card: Token | None = None
    sides: dict[str, list[Token]] = {}
    side: str | None = None
    for token in tokens:
        if token.type == "card_open":
            card, sides, side = token, {"question": [], "answer": []}, None
        elif token.type == "card_close" and card is not None:
            yield card, sides["question"], sides["answer"]
            card = None
        elif token.type in ("card_question_open", "card_answer_open"):
            side = token.type[5:-5]
        elif token.type in ("card_question_close", "card_answer_close"):
            side = None
        elif card is not None and side is not None:
            sides[side].append(token)


def hide_single_paragraph(tokens: list[Token]) -> None:
    """A card side that is one paragraph renders without `<p>` (like a tight list item)."""
    opens = [t for t in tokens if t.type == "paragraph_open"]
    if (
        len(opens) == 1
        and tokens[0].type == "paragraph_open"
        and tokens[-1].type == "paragraph_close"
    ):
        tokens[0].hidden = tokens[-1].hidden = True
