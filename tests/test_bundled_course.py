"""The bundled course (lessons/): its shape and the card rules, without freezing its wording."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from course import anki, markdown
from course.cards import CardTokens, card_meta, iter_cards
from course.lessons import load_library
from course.model import CardKind, Lesson

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LIBRARY = load_library(LESSONS)
ALL = [lesson for course in LIBRARY.courses for lesson in course.lessons]
SUMMARY = {"el": "Σύνοψη", "pl": "Podsumowanie", "lv": "Kopsavilkums"}
MAX_ANSWER_WORDS = 15
MAX_CLOZE_WORDS = 6


def words(text: str) -> list[str]:
    return re.findall(r"\w+(?:[-’']\w+)*", text)


def card_tokens(lesson: Lesson) -> list[CardTokens]:
    """The lesson's cards as the parser gives them (the model holds only rendered strings)."""
    return list(iter_cards(markdown.parser().parse(lesson.path.read_text(encoding="utf-8"))))


def text_of(card: CardTokens, side: str) -> str:
    tokens = card.question if side == "question" else card.answer
    return markdown.plain_text([t for t in tokens if t.type == "inline"])


def cloze_parts(card: CardTokens) -> list[str]:
    """The hidden text of each cloze deletion."""
    parts, depth, current = [], 0, ""
    for block in card.question:
        for token in block.children or []:
            if token.type == "cloze_open":
                depth, current = depth + 1, ""
            elif token.type == "cloze_close":
                depth -= 1
                parts.append(current)
            elif depth:
                current += token.content
    return parts


def lesson_ids(lesson: Lesson) -> str:
    return f"{lesson.lang}/{lesson.id}"


def test_no_warnings() -> None:
    assert LIBRARY.warnings == ()


COURSE_ORDER = ["ideal-employee", "six-skills", "soft-skills", "strengths-weaknesses", "career"]


def test_lessons_per_language() -> None:
    """The parallel edition: the same five lessons, in the same order, in every language."""
    for course in LIBRARY.courses:
        assert [lesson.id for lesson in course.lessons] == COURSE_ORDER, course.lang
    assert {c.lang for c in LIBRARY.courses} == {"el", "pl", "lv"}
    for course in LIBRARY.courses:
        assert course.title != LIBRARY.title, "each language has its own course title"
        assert course.description


@pytest.mark.parametrize("lesson", ALL, ids=lesson_ids)
def test_lesson_front_matter_credits_its_source(lesson: Lesson) -> None:
    assert lesson.source is not None
    assert lesson.source.title
    assert lesson.description


@pytest.mark.parametrize("lesson", ALL, ids=lesson_ids)
def test_cards_per_lesson_and_section(lesson: Lesson) -> None:
    assert len(lesson.cards) >= 12
    assert all(card.id for card in lesson.cards)
    headings = [s for s in lesson.sections if s.level == 2]
    assert headings[-1].title == SUMMARY[lesson.lang], "the lesson closes with a summary"
    for section in headings[:-1]:
        assert lesson.cards_in(section), f"section {section.title!r} has no card"


def test_every_card_form_is_used_in_each_language() -> None:
    """A lesson uses the forms its content needs; the course as a whole shows learners all."""
    for course in LIBRARY.courses:
        assert {card.kind for card in course.cards} == set(CardKind), course.lang


def test_the_ten_skills_lesson_is_richer() -> None:
    soft = next(lesson for lesson in ALL if lesson.id == "soft-skills")
    assert len(soft.cards) >= 40


@pytest.mark.parametrize("lesson", ALL, ids=lesson_ids)
def test_answers_are_short(lesson: Lesson) -> None:
    cards = card_tokens(lesson)
    assert [card_meta(c.open)["id"] for c in cards] == [c.id for c in lesson.cards]
    for card, parsed in zip(cards, lesson.cards, strict=True):
        if parsed.kind is CardKind.CLOZE:
            sentence = len(words(text_of(card, "question")))
            for part in cloze_parts(card):
                assert 0 < len(words(part)) <= MAX_CLOZE_WORDS, (
                    f"{parsed.loc}: cloze {part!r} too long"
                )
                assert len(words(part)) * 2 <= sentence, (
                    f"{parsed.loc}: cloze hides half the sentence"
                )
        else:
            answer = text_of(card, "answer")
            assert len(words(answer)) <= MAX_ANSWER_WORDS, (
                f"{parsed.loc}: answer too long: {answer!r}"
            )
            assert len(re.findall(r"[.!?;;]\s+\S", answer)) == 0, (
                f"{parsed.loc}: more than one sentence"
            )


@pytest.mark.parametrize("lesson", ALL, ids=lesson_ids)
def test_questions_and_typography(lesson: Lesson) -> None:
    source = lesson.path.read_text(encoding="utf-8")
    assert '"' not in source.split("---", 2)[2], "straight quotes: use the language's own"
    for card, site in zip(lesson.cards, lesson.site_text().cards, strict=True):
        if card.kind is CardKind.BASIC:
            question = site.question_text
            mark = "\u037e" if lesson.lang == "el" else "?"
            assert question.endswith(mark), f"{card.loc}: question should end with {mark!r}"
            yes_no = {"pl": ("Czy ",), "lv": ("Vai ",), "el": ()}[lesson.lang]
            assert not question.startswith(yes_no), f"{card.loc}: yes/no question"
    if lesson.lang == "el":
        assert not re.search(r"\w;(\s|$)", source), "Greek questions take ';' (U+037E), not ';'"


def test_every_note_reaches_the_deck(tmp_path: Path) -> None:
    for course in LIBRARY.courses:
        notes = list(anki.notes_for(course))
        assert len(notes) == len(course.cards)
        assert len({n.guid for n in notes}) == len(notes)


@pytest.mark.anki
def test_bundled_decks_import_into_anki(tmp_path: Path, anki_collection: object) -> None:
    from anki.collection import ImportAnkiPackageRequest

    from course import pipeline

    shutil.copytree(LESSONS, tmp_path / "lessons")  # the build records mod times beside the lessons
    result = pipeline.build(load_library(tmp_path / "lessons"), tmp_path / "decks", None)
    col: Any = anki_collection
    for lang in result.languages:
        assert lang.deck is not None
        options = col._backend.get_import_anki_package_presets()
        col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(lang.deck), options=options)
        )
    assert col.note_count() == sum(len(c.cards) for c in LIBRARY.courses)
    expected_cards = sum(
        {CardKind.BASIC: 1, CardKind.REVERSED: 2}.get(card.kind, len(card.clozes))
        for course in LIBRARY.courses
        for card in course.cards
    )
    assert col.card_count() == expected_cards
