"""The HTML course's side of updates: the "what changed" list, retired cards out of review, the
learner guide."""

from __future__ import annotations

import json
import re
from pathlib import Path

from course import pipeline
from course.lessons import load_library


def course_data(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="course-data">(.*?)</script>', page)
    assert match
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_what_changed_lists_the_latest_release_and_retired_cards_leave_review(
    sample: Path, tmp_path: Path
) -> None:
    pipeline.build(load_library(sample), tmp_path / "decks", tmp_path / "site")
    first = (tmp_path / "site" / "pl" / "index.html").read_text("utf-8")
    assert "Od pierwszej wersji kursu nic się nie zmieniło." in first

    lesson = sample / "pl" / "01-traits.md"
    text = lesson.read_text("utf-8")
    text = text.replace("Bo to z nim klient ma kontakt.", "Bo to z nim klient rozmawia.")
    text = text.replace(
        "Opanowanie:::Zachowanie spokoju w trudnej sytuacji <!-- id: pl-poise -->", ""
    )
    text += "\nCo to jest uprzejmość?::Życzliwość wobec klienta. <!-- id: pl-new -->\n"
    lesson.write_text(text, "utf-8")
    pipeline.build(load_library(sample), tmp_path / "decks", tmp_path / "site")
    page = (tmp_path / "site" / "pl" / "index.html").read_text("utf-8")
    updates = page[page.index('<section class="updates"') :]
    updates = updates[: updates.index("</section>")]
    assert "Aktualizacja 2" in updates
    added = re.search(r'<ul data-changes="changes_added">(.*?)</ul>', updates, re.S)
    changed = re.search(r'<ul data-changes="changes_changed">(.*?)</ul>', updates, re.S)
    assert added
    assert changed
    assert '<a href="#card-pl-new">Co to jest uprzejmość?</a>' in added.group(1)
    assert "#card-pl-card" in changed.group(1)
    assert "#card-pl-new" not in changed.group(1)
    assert "Wycofane fiszki: 1" in updates
    items = course_data(page)["items"]
    assert isinstance(items, list)
    assert "pl-poise" not in {item["card"] for item in items}, "retired: not in the review"
    assert "pl-new" in {item["card"] for item in items}


def test_learner_guide_in_every_language(sample: Path, tmp_path: Path) -> None:
    pipeline.build(load_library(sample), None, tmp_path / "site")
    for lang, heading in (
        ("el", "Ενεργοποίησε το FSRS"),
        ("pl", "Włącz FSRS"),
        ("lv", "Ieslēdziet FSRS"),
    ):
        guide = (tmp_path / "site" / lang / "guide.html").read_text("utf-8")
        assert f'<html lang="{lang}">' in guide
        assert heading in guide
        assert "<code>tag:sample-course::retired</code>" in guide
        assert "{search}" not in guide
        home = (tmp_path / "site" / lang / "index.html").read_text("utf-8")
        assert '<a href="guide.html">' in home
