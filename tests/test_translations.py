"""Translations: a translated lesson keeps its original's ID and card IDs (`translated_from`),
`check` validates the link, and says card by card when an original changed after its translation
was last brought in line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from course.lessons import load_library
from course.model import CardKind, Lesson

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LIBRARY = load_library(LESSONS)
TRANSLATED = [
    lesson
    for course in LIBRARY.courses
    for lesson in course.lessons
    if lesson.translated_from is not None
]


def original_of(lesson: Lesson) -> Lesson:
    assert lesson.translated_from is not None
    course = LIBRARY.course(lesson.translated_from)
    return next(x for x in course.lessons if x.id == lesson.id)


def test_every_lesson_exists_in_every_language_once_as_an_original() -> None:
    ids = {lesson.id for course in LIBRARY.courses for lesson in course.lessons}
    for course in LIBRARY.courses:
        assert {lesson.id for lesson in course.lessons} == ids, course.lang
    for lesson_id in ids:
        originals = [
            course.lang
            for course in LIBRARY.courses
            for lesson in course.lessons
            if lesson.id == lesson_id and lesson.translated_from is None
        ]
        assert len(originals) == 1, f"{lesson_id}: originals in {originals}"
    assert len(TRANSLATED) == 10


@pytest.mark.parametrize("lesson", TRANSLATED, ids=lambda x: f"{x.lang}/{x.id}")
def test_a_translation_has_its_originals_cards(lesson: Lesson) -> None:
    original = original_of(lesson)
    assert original.translated_from is None, "translate from the original, not a translation"

    def shape(x: Lesson) -> list[tuple[str | None, CardKind, tuple[int, ...]]]:
        return [(card.id, card.kind, card.clozes) for card in x.cards]

    assert shape(lesson) == shape(original)
    assert [s.level for s in lesson.sections] == [s.level for s in original.sections]
    assert lesson.order == original.order


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def replace_line(path: Path, old: str, new: str) -> int:
    """Replace `old` (once) in `path`; the 1-based line it is on."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def card_line(path: Path, card_id: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if f"id: {card_id} " in line:
            return number
    raise AssertionError(card_id)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A copy of the bundled lessons, built once (the manifests record the translations)."""
    lessons = tmp_path / "lessons"
    shutil.copytree(LESSONS, lessons)
    for path in lessons.glob("*/manifest.jsonl"):  # the build below must record them itself
        text = re.sub(r', "(source|synced)": "\w*"', "", path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
    code, output = run("build", "--lessons", str(lessons), "--decks", str(tmp_path / "d"),
                       "--no-site", "--no-scorm")  # fmt: skip
    assert code == 0, output
    return lessons


def test_an_edited_original_card_makes_its_translations_stale(built: Path) -> None:
    original = built / "el" / "01-six-skills.md"
    card = "w8u3m936"  # a Greek card translated into Polish and Latvian
    text = original.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if f"id: {card} " in x)
    replace_line(original, line, line.replace("::", "::Κυρίως: ", 1))

    code, output = run("check", "--lessons", str(built))
    assert code == 0, output
    stale = [x for x in output.splitlines() if "may be out of date" in x]
    pl, lv = built / "pl" / "02-six-skills.md", built / "lv" / "02-six-skills.md"
    assert len(stale) == 2, output
    for path in (pl, lv):
        expected = f"{path.relative_to(built.parent)}:{card_line(path, card)}: card {card}"
        assert any(expected in x and "el/01-six-skills.md" in x for x in stale), (expected, stale)
    code, output = run("check", "--strict", "--lessons", str(built))
    assert code == 1, output

    # The Polish translator brings the card in line: its warning goes, the Latvian one stays.
    pl_line = next(x for x in pl.read_text(encoding="utf-8").splitlines() if f"id: {card} " in x)
    replace_line(pl, pl_line, pl_line.replace("::", "::Przede wszystkim: ", 1))
    code, output = run("check", "--lessons", str(built))
    stale = [x for x in output.splitlines() if "may be out of date" in x]
    assert len(stale) == 1, output
    assert "lv/02-six-skills.md" in stale[0]

    # A build records the Polish update; the Latvian card stays stale until someone edits it.
    code, output = run("build", "--lessons", str(built), "--decks", str(built.parent / "d"),
                       "--no-site", "--no-scorm")  # fmt: skip
    assert code == 0, output
    code, output = run("check", "--lessons", str(built))
    stale = [x for x in output.splitlines() if "may be out of date" in x]
    assert len(stale) == 1
    assert "lv/02-six-skills.md" in stale[0], output

    # The original changes again: the Polish card, in line since the last build, is stale again.
    line = next(x for x in original.read_text(encoding="utf-8").splitlines() if card in x)
    replace_line(original, line, line.replace("Κυρίως: ", "Κυρίως, ", 1))
    code, output = run("check", "--lessons", str(built))
    stale = [x for x in output.splitlines() if "may be out of date" in x]
    assert len(stale) == 2, output


def test_an_edited_original_lesson_text_makes_the_translation_stale(built: Path) -> None:
    original = built / "lv" / "01-strengths-weaknesses.md"
    body = original.read_text(encoding="utf-8").split("---\n", 2)[2]
    first = next(x for x in body.splitlines() if x and not x.startswith("#"))
    replace_line(original, first, first + " Papildu teikums.")
    code, output = run("check", "--lessons", str(built))
    assert code == 0, output
    stale = sorted(x for x in output.splitlines() if "text may be out of date" in x)
    assert [x.split(":")[0] for x in stale] == [
        str(Path("lessons") / "el" / "04-strengths-weaknesses.md"),
        str(Path("lessons") / "pl" / "04-strengths-weaknesses.md"),
    ] or all("04-strengths-weaknesses.md:1:" in x for x in stale), stale
    assert len(stale) == 2, output


def test_an_unchanged_course_has_no_stale_translation(built: Path) -> None:
    code, output = run("check", "--strict", "--lessons", str(built))
    assert code == 0, output
    assert "out of date" not in output


def test_broken_links_are_warnings_naming_the_line(built: Path) -> None:
    pl = built / "pl" / "02-six-skills.md"
    text = pl.read_text(encoding="utf-8")
    card = re.search(r"id: (\w+) -->", text)
    assert card is not None
    pl.write_text(text.replace(card.group(1), "zz9zz9zz", 1), encoding="utf-8")
    lv = built / "lv" / "05-career.md"
    replace_line(lv, "translated_from: el", "translated_from: fr")
    el = built / "el" / "04-strengths-weaknesses.md"
    replace_line(el, "id: strengths-weaknesses", "id: strengths")

    code, output = run("check", "--lessons", str(built))
    assert code == 0, output
    assert "lessons/pl/02-six-skills.md" in output
    assert "card zz9zz9zz is not in the original" in output
    assert f"card {card.group(1)} of the original" in output
    assert "lessons/lv/05-career.md:1: translated_from: there is no lessons/fr/" in output
    assert "lessons/el/04-strengths-weaknesses.md:1: translated_from: lessons/lv/ has no lesson " \
        "'strengths'" in output  # fmt: skip
    code, _ = run("check", "--strict", "--lessons", str(built))
    assert code == 1


def test_the_language_switcher_leads_to_the_same_lesson(tmp_path: Path) -> None:
    site = tmp_path / "site"
    lessons = tmp_path / "lessons"
    shutil.copytree(LESSONS, lessons)
    code, output = run("build", "--lessons", str(lessons), "--no-decks",
                       "--site", str(site), "--no-scorm")  # fmt: skip
    assert code == 0, output
    for lang in ("el", "pl", "lv"):
        page = (site / lang / "index.html").read_text(encoding="utf-8")
        for other in {"el", "pl", "lv"} - {lang}:
            for lesson_id in ("six-skills", "career", "soft-skills"):
                assert f"../{other}/index.html#lesson/{lesson_id}" in page, (lang, other)


def test_staleness_survives_changes_that_are_not_the_translation_brought_in_line(
    built: Path,
) -> None:
    """A build that re-records a translated card or deck for another reason (a new lesson title
    in its note, a deliberate deck rename) keeps what it was last in line with."""
    original = built / "el" / "01-six-skills.md"
    card = "w8u3m936"
    line = next(x for x in original.read_text(encoding="utf-8").splitlines() if card in x)
    replace_line(original, line, line.replace("::", "::Κυρίως: ", 1))
    lv_original = built / "lv" / "01-strengths-weaknesses.md"
    body = lv_original.read_text(encoding="utf-8").split("---\n", 2)[2]
    first = next(x for x in body.splitlines() if x and not x.startswith("#"))
    replace_line(lv_original, first, first + " Papildu teikums.")

    pl = built / "pl" / "02-six-skills.md"  # its lesson title is in every card's note
    title = next(x for x in pl.read_text(encoding="utf-8").splitlines() if x.startswith("title:"))
    replace_line(pl, title, title.rstrip() + " (wydanie 2)" if not title.endswith('"')
                 else title[:-1] + ' (wydanie 2)"')  # fmt: skip
    pl_sw = built / "pl" / "04-strengths-weaknesses.md"  # a deck renamed on purpose
    replace_line(pl_sw, "order: 4", "order: 6")
    code, output = run("build", "--lessons", str(built), "--decks", str(built.parent / "d"),
                       "--no-site", "--no-scorm", "--rename-decks")  # fmt: skip
    assert code == 0, output
    code, output = run("check", "--lessons", str(built))
    stale = [x for x in output.splitlines() if "out of date" in x]
    assert any("pl/02-six-skills.md" in x and f"card {card}" in x for x in stale), output
    assert any("pl/04-strengths-weaknesses.md:1: the lesson's text" in x for x in stale), output
