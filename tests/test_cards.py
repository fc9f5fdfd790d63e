"""Parse stage: card syntax, from a fixture table of Markdown input and expected cards."""

from __future__ import annotations

import html
import json
import re
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from course import markdown, render
from course.cards import collect

FIXTURES = Path(__file__).parent / "fixtures"


def read_fixtures(path: Path) -> list[tuple[str, str, str]]:
    """markdown-it-py style cases: a title line, then input and expected, each closed by '.'."""
    lines = path.read_text(encoding="utf-8").splitlines()
    cases, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        title = lines[i]
        parts: list[list[str]] = [[], []]
        i += 2  # the title, then the '.' that opens the input
        for part in parts:
            while lines[i] != ".":
                part.append(lines[i])
                i += 1
            i += 1
        cases.append((title, "\n".join(parts[0]) + "\n", "\n".join(parts[1])))
    return cases


CASES = read_fixtures(FIXTURES / "cards.md")


def parse(source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The cards of `source`, rendered as Anki shows them, and its warnings as 'line: message'."""
    env: dict[str, Any] = {}
    tokens = markdown.parser().parse(source, env)
    _sections, cards = collect(Path("lesson.md"), tokens, lambda part: render.card_text(part, "el"))
    problems = env.get("problems", [])
    assert not [p for p in problems if not p.warning], problems
    result = []
    for card in cards:
        result.append(
            {
                "kind": card.kind.value,
                "id": card.id,
                "front": card.rendered.front,
                "back": card.rendered.back,
                "explanation": card.rendered.explanation,
                "section": card.section.title,
                "clozes": list(card.clozes),
                "tags": list(card.tags),
                "line": card.loc.line,
            }
        )
    return result, [f"{p.line0 + 1}: {p.message}" for p in problems]


def cards_of(source: str) -> list[dict[str, Any]]:
    return parse(source)[0]


def test_fixture_file_has_cases() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize(("title", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cards(title: str, source: str, expected: str) -> None:
    want = json.loads(expected)
    if isinstance(want, list):
        want = {"cards": want, "warnings": []}
    got, warnings = parse(source)
    # Compare only the keys the fixture names, so a case states what it is about.
    trimmed = [
        {k: card[k] for k in w if k != "plugin"}
        for card, w in zip(got, want["cards"], strict=False)
    ]
    assert len(got) == len(want["cards"]), got
    assert trimmed == [{k: v for k, v in w.items() if k != "plugin"} for w in want["cards"]]
    assert len(warnings) == len(want["warnings"]), warnings
    for message, fragment in zip(warnings, want["warnings"], strict=True):
        assert message.startswith(fragment)


# -- parity with the Obsidian Spaced Repetition plugin -------------------------------------------
#
# A fixture card's "plugin" key lists the cards the plugin (default settings) makes from the same
# note, as [front, back] text: from its tests (tests/unit/parser.test.ts) and documentation, with
# `[...]` (or `[hint]`) where it hides a cloze. Both sides are compared as plain text: the plugin
# keeps a list or quote marker on the front ("- Q"), which renders as the list it is.

PARITY = [
    (title, source, card)
    for title, source, expected in CASES
    for card in (json.loads(expected) if expected.startswith("[") else [])
    if "plugin" in card
]
OBSIDIAN = MarkdownIt("commonmark")
"""How Obsidian shows a side: plain Markdown, no card syntax (highlights: see `plugin_side`)."""
ANKI_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::([^}]*))?\}\}", re.DOTALL)


def plain(html_text: str) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", html_text))
    return " ".join(text.split())


def plugin_side(markdown_text: str) -> str:
    return plain(OBSIDIAN.render(re.sub(r"==(.+?)==", r"<mark>\1</mark>", markdown_text)))


def our_sides(card: dict[str, Any]) -> list[list[str]]:
    """The sides a learner sees, as Anki makes them from our note."""
    front, back = card["front"], card["back"]
    if card["kind"] == "basic":
        return [[plain(front), plain(back)]]
    if card["kind"] == "reversed":
        return [[plain(front), plain(back)], [plain(back), plain(front)]]
    answer = plain(ANKI_CLOZE.sub(lambda m: m.group(2), front))
    return [[plain(ANKI_CLOZE.sub(partial(_asked, n), front)), answer] for n in card["clozes"]]


def _asked(number: int, cloze: re.Match[str]) -> str:
    """A cloze on the question side of card `number`: its hint in brackets when it is the one
    asked, its text when not."""
    if int(cloze.group(1)) == number:
        return f"[{cloze.group(3) or '...'}]"
    return cloze.group(2)


def test_parity_cases_cover_the_issue() -> None:
    titles = " ".join(title for title, _source, _card in PARITY)
    for rule in ("comment", "fence", "highlight", "Anki cloze", "list", "quote", "tag", "block ID"):
        assert rule in titles, rule


@pytest.mark.parametrize(("title", "source", "card"), PARITY, ids=[p[0] for p in PARITY])
def test_same_cards_as_the_obsidian_plugin(title: str, source: str, card: dict[str, Any]) -> None:
    got = cards_of(source)
    ours = next(
        c
        for c in got
        if c["front"] == card.get("front", c["front"]) and c["line"] == card.get("line", c["line"])
    )
    want = [[plugin_side(front), plugin_side(back)] for front, back in card["plugin"]]
    assert our_sides(ours) == want


# -- sides that show nothing ----------------------------------------------------------------------
#
# A card side whose rendering shows no character (tags removed, entities decoded, blanks and
# invisible characters dropped) and no image is an error, whatever markup stands around the
# blanks; each case: the Markdown, then every problem of its parse as "line: message".

BLANK_SIDES = read_fixtures(FIXTURES / "blank_sides.md")


@pytest.mark.parametrize(
    ("title", "source", "expected"), BLANK_SIDES, ids=[c[0] for c in BLANK_SIDES]
)
def test_a_side_that_shows_nothing_is_an_error(title: str, source: str, expected: str) -> None:
    env: dict[str, Any] = {}
    tokens = markdown.parser().parse(source, env)
    said = [f"{p.line0 + 1}: {p.message}" for p in env.get("problems", [])]
    assert said == json.loads(expected)
    assert [t.type for t in tokens].count("card_open") == 1


def test_blank_sides_table_covers_passes_and_errors() -> None:
    verdicts = [json.loads(expected) == [] for _title, _source, expected in BLANK_SIDES]
    assert verdicts.count(True) >= 8
    assert verdicts.count(False) >= 12
