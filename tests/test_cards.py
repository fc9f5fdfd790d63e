"""Parse stage: card syntax, from a fixture table of Markdown input and expected cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from course import anki, markdown
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


def cards_of(source: str) -> list[dict[str, Any]]:
    env: dict[str, Any] = {}
    tokens = markdown.parser().parse(source, env)
    _sections, cards = collect(Path("lesson.md"), tokens)
    assert not env.get("problems"), env["problems"]
    out = markdown.renderer(anki.ANKI_RULES)
    result = []
    for card in cards:
        result.append(
            {
                "kind": card.kind.value,
                "id": card.id,
                "front": markdown.render(out, card.question, {}).strip(),
                "back": markdown.render(out, card.answer, {}).strip(),
                "section": card.section.title,
                "clozes": list(card.clozes),
                "line": card.loc.line,
            }
        )
    return result


def test_fixture_file_has_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize(("title", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_cards(title: str, source: str, expected: str) -> None:
    want = json.loads(expected)
    got = cards_of(source)
    # Compare only the keys the fixture names, so a case states what it is about.
    trimmed = [{k: card[k] for k in w} for card, w in zip(got, want, strict=False)]
    assert len(got) == len(want), got
    assert trimmed == want
