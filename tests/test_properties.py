"""No input gives a traceback: random lessons made of card-syntax fragments either load or fail
with `path:line: message` problems, `build` gives every card an ID without touching another byte,
and without changing a card or a warning, and the command line answers with an exit status and problems, never an exception.

Hypothesis runs derandomized (a fixed seed: the same examples on every run and in CI) with a
bounded number of examples, so these add a few seconds to the suite.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any
from unicodedata import category

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markdown_it.token import Token

from course import cards, markdown, render
from course.cards import collect
from course.cli import main
from course.ids import add_missing_ids
from course.lessons import Report, load_lesson, load_library
from course.model import CardKind, CourseError, Library

FRONT = "---\nid: random\ntitle: Random\nlang: el\norder: 1\n---\n"
FRAGMENTS = [
    # card syntax
    "Q::A",
    "Q:::A",
    "::",
    ":::",
    "?",
    "??",
    "Question",
    "Answer",
    "a::b:::c",
    "==x==",
    "====",
    "==1;;x;;h==",
    "{{c1::x}}",
    "{{c2::x::hint}}",
    "{{c1::}}",
    "{{c1::x",
    # comments, IDs, scheduling data, tags, block IDs
    "<!--",
    "-->",
    "<!-- Q::A -->",
    "<!--SR:!2021-08-11,4,270-->",
    "<!-- id: ab12 -->",
    "<!-- id: bad id -->",
    "<!--ID:ab13-->",
    "<!--  Id :  ab14 -->",
    "#tag ",
    "#a/b Q::A",
    " ^abc-1",
    "^x",
    # containers, fences, headings, other blocks
    "- ",
    "* ",
    "1. ",
    "> ",
    "> [!sr|card-metadata]",
    "# H",
    "## ",
    "```",
    "~~~",
    "```py",
    "    ",
    "---",
    "===",
    "|a|b|",
    "|-|-|",
    "[r]: javascript:x",
    "<div>",
    # inline Markdown, links the parser refuses, images
    "`",
    "`a::b`",
    "*",
    "_",
    "[",
    "]",
    "[l](javascript:x)",
    "![i](data:text/html,x)",
    "![i](img/dot.png)",
    "<https://example.org>",
    "\\",
    # odd Unicode and blanks
    "\t",
    " ",
    "\u00a0",
    "\u200b",
    "&nbsp;",
    "&#8203;",
    "&amp;",
    "&#x41;",
    "\u0301",
    "é",
    "ς;",
    "«»",
    "„”",
    "\u2028",
    "\ufeff",
    "\x00",
]
WHOLE_LINES = [
    "",
    "?",
    "??",
    "Q::A",
    "Question",
    "a ==b== c",
    "x {{c1::y}}",
    "```",
    "~~~",
    "<!--",
    "-->",
    "> why",
    "- item",
    "  ?",
    "  answer",
    "# Heading",
    "#tag",
    "> ?",
    "- ??",
    "> - ?",
    "? <!-- x -->",
    "---",
    "| a | b |",
    "|---|---|",
]
"""Lines as authors write them, so blocks, multi-line cards and fences form often."""
line = st.one_of(
    st.sampled_from(WHOLE_LINES),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=2), max_size=5).map("".join),
)
lines = st.lists(line, max_size=14)
lessons = st.builds(
    lambda body, newline, bom: (
        ("\ufeff" if bom else "") + (FRONT + "\n".join(body)).replace("\n", newline)
    ),
    lines,
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
PROBLEM = re.compile(r"lessons/el/01\.md:\d+: \S")
FAST = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=12)


@contextmanager
def lesson_folder(text: str) -> Iterator[Path]:
    """A lessons folder holding `text` as el/01.md (a fresh one per example)."""
    root = Path(tempfile.mkdtemp(prefix="prop-"))
    try:
        (root / "lessons" / "el" / "img").mkdir(parents=True)
        (root / "lessons" / "el" / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        (root / "lessons" / "el" / "01.md").write_bytes(text.encode("utf-8", "surrogatepass"))
        yield root
    finally:
        shutil.rmtree(root)


@FAST
@given(lessons)
def test_any_lesson_loads_or_reports_path_line_problems(text: str) -> None:
    with lesson_folder(text) as root:
        path = root / "lessons" / "el" / "01.md"
        try:
            library = load_library(root / "lessons")
        except CourseError as exc:
            for problem in exc.problems:
                assert problem.loc.path.name == "01.md"
                assert problem.loc.line >= 1, problem
                assert problem.loc.line <= text.count("\n") + 1, problem
            return
        for problem in library.warnings:
            assert problem.loc.line >= 1, problem
        lesson = library.courses[0].lessons[0]
        tokens = markdown.parser().parse(path.read_bytes().decode("utf-8-sig"))
        assert_cards_do_not_nest(tuple(tokens), len(lesson.cards))
        original = path.read_bytes()
        if any(card.id is None for card in library.courses[0].cards):
            add_missing_ids(library)
            again = load_library(root / "lessons")  # the IDs given parse back as IDs
            assert all(card.id is not None for card in again.courses[0].cards)
            assert len(again.courses[0].cards) == len(library.courses[0].cards)
            rendered = [card.rendered for card in library.courses[0].cards]
            assert [card.rendered for card in again.courses[0].cards] == rendered
            assert again.warnings == library.warnings  # no `?` line took an ID, say
            added = re.compile(rb" <!-- id: [2-9a-z]{8} -->")
            if all(card.id_own_line is None for card in library.courses[0].cards):
                assert added.sub(b"", path.read_bytes()) == original  # no other byte changed
            assert add_missing_ids(again) == []


ANSWER_BLOCKS = [
    "A",
    "- item",
    "```\nx\n```",
    "~~~py\ny\n~~~",
    "| a | b |\n|---|---|",
    "| a |\n|---|\n| 1 |",
    "T\n---",
    "T\n===",
    "$$\nx^2\n$$",
    "> why",
]
"""What a multi-line card's answer is made of, among them lines a comment would change."""
multiline_cards = st.builds(
    lambda question, separator, answer: f"{question}\n{separator}\n" + "\n".join(answer),
    st.sampled_from(["Q", "#tag Q", "Q\nmore", "Q `x`"]),
    st.sampled_from(["?", "??"]),
    st.lists(st.sampled_from(ANSWER_BLOCKS), min_size=1, max_size=3),
)


def ids_added(text: str) -> tuple[Library, Library, str]:
    """The lesson `text` loaded, `ids` run on it, the lesson loaded again, and what it wrote."""
    with lesson_folder(text) as root:
        library = load_library(root / "lessons")
        add_missing_ids(library)
        again = load_library(root / "lessons")
        return library, again, (root / "lessons" / "el" / "01.md").read_text(encoding="utf-8")


@FAST
@given(st.lists(multiline_cards, min_size=1, max_size=3))
def test_ids_given_to_multiline_cards_change_no_card_for_either_parser(cards: list[str]) -> None:
    """`ids` on multi-line cards whatever their answer ends with (a fence, a table, a setext
    underline, a `$$` line): every `?` line stays bare (else the plugin sees no card), every
    card renders and warns as before, and has an ID."""
    text = FRONT + "\n\n".join(cards) + "\n\nProse.\n"
    library, again, written = ids_added(text)
    separators = [n for n, row in enumerate(text.split("\n")) if row in ("?", "??")]
    assert [written.split("\n")[n] for n in separators] == [text.split("\n")[n] for n in separators]
    rendered = [card.rendered for card in library.courses[0].cards]
    assert [card.rendered for card in again.courses[0].cards] == rendered
    assert again.warnings == library.warnings
    assert all(card.id is not None for card in again.courses[0].cards)


@FAST
@given(lessons, st.data())
def test_a_nul_anywhere_is_the_one_error_at_its_line(text: str, data: st.DataObject) -> None:
    """CommonMark would replace a NUL with U+FFFD: the reader refuses the lesson instead,
    naming the first NUL's line, whatever the rest of the lesson holds."""
    assume(not any("\ud800" <= char <= "\udfff" for char in text))  # (not UTF-8: that error)
    at = data.draw(st.integers(0, len(text)))
    text = text[:at] + "\x00" + text[at:]
    line = text[: text.index("\x00")].count("\n") + 1
    with lesson_folder(text) as root, pytest.raises(CourseError) as caught:
        load_library(root / "lessons")
    [problem] = caught.value.problems
    assert (problem.loc.path.name, problem.loc.line) == ("01.md", line)
    assert problem.message.startswith("a NUL character (byte 0x00)")


def assert_cards_do_not_nest(tokens: tuple[Token, ...], cards: int) -> None:
    """Every card_open closes before the next opens, and each one became a Card."""
    depth = opened = 0
    for token in tokens:
        if token.type in ("card_open", "card_close"):
            depth += token.nesting
            opened += token.nesting == 1
            assert depth in (0, 1), "a card inside a card"
    assert depth == 0
    assert opened == cards


@FAST
@given(lessons)
def test_parser_gives_well_formed_cards_whatever_it_reports(text: str) -> None:
    env: dict[str, Any] = {}
    tokens = markdown.parser().parse(text.removeprefix("\ufeff"), env)
    _sections, cards = collect(Path("01.md"), tokens, lambda part: render.card_text(part, "el"))
    assert_cards_do_not_nest(tuple(tokens), len(cards))
    for problem in env.get("problems", []):
        assert 0 <= problem.line0 <= text.count("\n"), problem


@SLOW
@given(lessons)
def test_check_and_build_answer_with_problems_never_a_traceback(text: str) -> None:
    with lesson_folder(text) as root:
        where = ["--lessons", str(root / "lessons")]
        outputs = ["--decks", str(root / "decks"), "--site", str(root / "site")]
        outputs += ["--scorm", str(root / "scorm")]
        for args in (
            ["check", *where],
            ["build", "--frozen", *where, *outputs],
            ["build", *where, *outputs],
        ):
            result = CliRunner().invoke(main, args)
            assert result.exit_code in (0, 1), (args, result.output)
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                args,
                result.output,
            )
            if result.exit_code == 1:
                assert PROBLEM.search(result.output), (args, result.output)


@FAST
@given(lessons)
def test_the_cheap_pre_checks_never_change_a_parse(text: str) -> None:
    """The multi-line and cloze rules skip a block whose raw text cannot hold their syntax
    (`cards._may_hold`): parsing with that test always passing gives the very same tokens and
    problems."""
    source = text.removeprefix("\ufeff")
    fast_env: dict[str, Any] = {}
    fast = markdown.parser().parse(source, fast_env)
    original = cards._may_hold
    cards._may_hold = lambda *args: True
    try:
        slow_env: dict[str, Any] = {}
        slow = markdown.parser().parse(source, slow_env)
    finally:
        cards._may_hold = original
    assert fast == slow
    assert fast_env.get("problems", []) == slow_env.get("problems", [])


def card_ids(source: str) -> tuple[list[tuple[str | None, int]], list[cards.ParseProblem]]:
    """Each card's ID and the line a missing one goes on, and the parse's problems."""
    env: dict[str, Any] = {}
    tokens = markdown.parser().parse(source, env)
    metas = [cards.card_meta(t) for t in tokens if t.type == "card_open"]
    return [(meta["id"], meta["id_line"]) for meta in metas], env.get("problems", [])


respellings = st.tuples(
    st.sampled_from(["", " ", "  ", "\t"]),
    st.sampled_from(["id", "ID", "Id", "iD"]),
    st.sampled_from(["", " "]),
    st.sampled_from(["", " ", "  "]),
)
"""How an author or a tool may write an ID comment's opening: `<!--`, blanks, the key in any
case, blanks, `:`, blanks (`<!--ID:x -->`, `<!--  id : x -->`)."""


lines_with_ids = st.lists(
    st.tuples(line, st.sampled_from(["", " <!-- id: ab12 -->", "<!-- id: ab13 --> <!--SR:x-->"])),
    max_size=14,
).map(lambda rows: "\n".join(text + comment for text, comment in rows))
"""Lessons' bodies where many lines end in an ID comment (`lessons` rarely gives one a card)."""


@FAST
@given(lines_with_ids, respellings)
def test_an_id_comment_spelled_otherwise_is_the_same_id(
    source: str, respelling: tuple[str, str, str, str]
) -> None:
    """Whatever the case of its key and the blanks around it, an ID comment gives the same IDs
    and the same problems as `<!-- id: x -->` does (so `build` never adds a second ID), and the
    plugin's `<!--SR:...-->` comments stay what they were."""
    before, key, after, value = respelling
    respelled = source.replace("<!-- id: ", f"<!--{before}{key}{after}:{value}")
    assert card_ids(respelled) == card_ids(source)


@contextmanager
def rendering_every_side_again() -> Iterator[None]:
    """render.py as it was before a card side's HTML was reused: the site renders each review
    side with its own rules, the page renders every card's tokens again."""
    shared, page_tokens = render.shared, render._page_tokens
    render.shared = lambda tokens: False
    render._page_tokens = lambda tokens, sites: list(tokens)
    try:
        yield
    finally:
        render.shared, render._page_tokens = shared, page_tokens


@FAST
@given(lessons)
def test_a_card_side_rendered_once_gives_what_rendering_it_again_gives(text: str) -> None:
    """The site's review sides take the decks' HTML, and the page the review sides' HTML, where
    both outputs render those tokens alike (`render.shared`, `render.PAGE_OWN`): the lesson's
    strings are those that rendering every side for every output gives."""
    with lesson_folder(text) as root:
        path = root / "lessons" / "el" / "01.md"
        reused = load_lesson(path, "el", root / "lessons", Report())
        with rendering_every_side_again():
            again = load_lesson(path, "el", root / "lessons", Report())
    if reused is None or again is None:
        assert reused is again
        return
    assert [card.rendered for card in reused.cards] == [card.rendered for card in again.cards]
    assert reused.site_text() == again.site_text()


def push_paragraph(state: Any, content: str, line: int, end: int) -> None:
    """cards.py as it was before a one-line card side became its inline token alone: the side a
    paragraph, hidden afterwards (`cards.hide_single_paragraph`)."""
    token = state.push("paragraph_open", "p", 1)
    token.map = [line, end]
    token = state.push("inline", "", 0)
    token.content, token.map, token.children = content, [line, end], []
    state.push("paragraph_close", "p", -1)


@FAST
@given(lessons)
def test_a_one_line_card_side_without_its_paragraph_gives_the_same_lesson(text: str) -> None:
    """A `Q::A` card's sides and a one-line cloze's text are pushed as inline tokens alone, not
    as paragraphs that every output hides: the lesson's strings and problems are those the
    paragraphs gave, on both outputs."""
    with lesson_folder(text) as root:
        path = root / "lessons" / "el" / "01.md"
        for site in (True, False):
            report = Report()
            short = load_lesson(path, "el", root / "lessons", report, site=site)
            original, cards._push_inline = cards._push_inline, push_paragraph
            try:
                old_report = Report()
                old = load_lesson(path, "el", root / "lessons", old_report, site=site)
            finally:
                cards._push_inline = original
            assert (report.errors, report.warnings) == (old_report.errors, old_report.warnings)
            if short is None or old is None:
                assert short is old
                continue
            assert repr(short) == repr(old)  # records compare by identity: their fields
            if site:
                assert short.site_text() == old.site_text()


def test_a_line_card_pushes_no_paragraph() -> None:
    """The cut the test above guards: a `Q::A` card is 8 block tokens, not 12."""
    tokens = markdown.parser().parse("Q *x*::A <!-- id: a1 -->\n")
    assert [t.type for t in tokens] == [
        "card_open",
        "card_question_open",
        "inline",
        "card_question_close",
        "card_answer_open",
        "inline",
        "card_answer_close",
        "card_close",
    ]


def shows_a_character(html: str) -> bool:
    """Rendered HTML that shows something: an image, or a character that is no blank."""
    text = unescape(re.sub(r"<[^>]*>", "", html))
    return "<img" in html or any(not (c.isspace() or category(c) == "Cf") for c in text)


@FAST
@given(lessons)
def test_a_side_said_to_show_nothing_renders_no_character(text: str) -> None:
    """`cards.shows_nothing` tests a card side's Markdown: a side it calls empty (an error at the
    card's line) renders nothing a learner could read, whatever the lesson."""
    for line, html, said in side_reports(text.removeprefix("\ufeff")):
        if said:
            assert not shows_a_character(html), (line, html)


def side_reports(text: str) -> Iterator[tuple[int, str, bool]]:
    """Each side of each card of `text` that is not a cloze: its card's line, what the deck shows
    of it, and whether the parse reported it as showing nothing ("no question"/"no answer")."""
    env: dict[str, Any] = {}
    tokens = markdown.parser().parse(text, env)
    _sections, found = collect(Path("01.md"), tokens, lambda part: render.card_text(part, "el"))
    said = {(problem.line0 + 1, problem.message) for problem in env.get("problems", [])}
    for card in found:
        if card.kind is not CardKind.CLOZE:
            yield card.line, card.rendered.front, (card.line, cards.NO_QUESTION) in said
            yield card.line, card.rendered.back, (card.line, cards.NO_ANSWER) in said


OWN_ID_LINE = re.compile(r"\n<!-- id: m\d -->")
END_ID = re.compile(r" <!-- id: (?:m\d|[2-9a-z]{8}) -->")


@FAST
@given(st.lists(st.tuples(multiline_cards, st.booleans()), min_size=1, max_size=3))
def test_an_id_on_a_line_of_its_own_moves_and_changes_no_card(
    found: list[tuple[str, bool]],
) -> None:
    """Multi-line cards whatever their answer ends with, some with their ID on a line of its
    own under them (where the plugin runs the card on): `ids` moves each such comment to the
    end of a line of its card (its line goes), and gives the others IDs; every card keeps its
    ID, renders as before, and no ID is left on a line of its own; no other byte changes.
    (After an explanation quote the comment is outside the card: an error, test_errors.)"""
    assume(not any(alone and "\n> why" in card for card, alone in found))
    blocks = [
        f"{card}\n<!-- id: m{n} -->" if alone else card for n, (card, alone) in enumerate(found)
    ]
    text = FRONT + "\n\n".join(blocks) + "\n\nProse.\n"
    library, again, written = ids_added(text)
    before, after = library.courses[0].cards, again.courses[0].cards
    assert [card.rendered for card in after] == [card.rendered for card in before]
    assert [a.id for a, b in zip(after, before, strict=True) if b.id] == [
        b.id for b in before if b.id
    ]
    assert all(card.id is not None and card.id_own_line is None for card in after)
    assert again.warnings == library.warnings
    moved = {card.id_own_line for card in before if card.id_own_line is not None}
    kept = [row for n, row in enumerate(text.split("\n")) if n not in moved]
    assert all(OWN_ID_LINE.fullmatch("\n" + text.split("\n")[n]) for n in moved)
    assert END_ID.sub("", written) == END_ID.sub("", "\n".join(kept))


SIDE_PIECES = [
    # blanks, as characters and entities, and characters that print nothing
    " ",
    "\u00a0",
    "\u200b",
    "\u3164",
    "&nbsp;",
    "&#8203;",
    "&#x3164;",
    "&ensp;",
    # markup that may stand around them
    "**",
    "*",
    "_",
    "~~",
    "==",
    "==;;h==",
    "`",
    "[",
    "]",
    "](x)",
    "[ ](x)",
    "[&nbsp;][r]",
    "<x>",
    "<b>",
    "\\",
    " ^ab",
    "<!-- c -->",
    "- ",
    "> ",
    "#t ",
    # what shows
    "x",
    "7",
    "&amp;",
    "&#42;",
    "![](img/dot.png)",
    "![[dot.png]]",
]
sides = st.lists(st.sampled_from(SIDE_PIECES), max_size=6).map("".join)
blank_cards = st.one_of(
    st.builds("{}::{}".format, sides, sides),
    st.builds("{}\n?\n{}".format, sides, sides),
    st.builds("{}\n{}\n??\n{}".format, sides, sides, sides),
)
PRINTS_NOTHING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")


def shows_something(html: str) -> bool:
    """Rendered HTML that shows an image, or a character that is no blank, no format character
    and none of the letters that print nothing (Hangul fillers, the blank Braille pattern)."""
    text = unescape(re.sub(r"<[^>]*>", "", html))
    visible = (c for c in text if not (c.isspace() or category(c) == "Cf"))
    return "<img" in html or any(c not in PRINTS_NOTHING for c in visible)


@FAST
@given(st.lists(blank_cards, min_size=1, max_size=3))
def test_a_side_is_reported_exactly_when_its_rendering_shows_nothing(found: list[str]) -> None:
    """Whatever markup stands around blanks: a card side is "no question" / "no answer" exactly
    when what the deck shows of it holds no character and no image (the Markdown's quick
    answers, `cards.side_shows`, never disagree with the rendering)."""
    text = "\n\n".join(found) + "\n\n[r]: https://example.org\n"
    for line, html, said in side_reports(text):
        assert said is not shows_something(html), (line, html)
