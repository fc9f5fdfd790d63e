"""Deck stage, checked through Anki's own backend: import, render, review, update, rebuild."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from course import anki, pipeline
from course.lessons import load_library

pytest.importorskip("anki")
from anki.collection import ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer

pytestmark = pytest.mark.anki


def build_decks(lessons: Path, decks: Path) -> dict[str, Path]:
    result = pipeline.build(load_library(lessons), decks, None)
    return {lang.lang: lang.deck for lang in result.languages if lang.deck is not None}


def import_deck(col: Any, path: Path) -> Any:
    """Import with the options Anki's import dialog starts with."""
    options = col._backend.get_import_anki_package_presets()
    request = ImportAnkiPackageRequest(package_path=str(path), options=options)
    return col.import_anki_package(request)


def notes_by_guid(col: Any) -> dict[str, Any]:
    return {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}


def strip_style(html: str) -> str:
    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


# -- round trip -----------------------------------------------------------------------------------


EXPECTED = {
    # lang: (deck names, notes, cards)
    "el": ({"Δείγμα μαθήματος", "Δείγμα μαθήματος::01 Βασικές δεξιότητες"}, 5, 6),
    "pl": ({"Kurs przykładowy", "Kurs przykładowy::01 Cechy pracownika"}, 3, 5),
    "lv": ({"Sample course", "Sample course::01 Stiprās puses"}, 2, 2),
}


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_round_trip_decks_notes_cards(
    sample: Path, tmp_path: Path, anki_collection: Any, lang: str
) -> None:
    decks = build_decks(sample, tmp_path / "decks")
    assert decks[lang].name == f"sample-course-{lang}.apkg"
    import_deck(anki_collection, decks[lang])
    names, notes, cards = EXPECTED[lang]
    got_names = {d.name for d in anki_collection.decks.all_names_and_ids()} - {"Default"}
    assert got_names == names
    assert anki_collection.note_count() == notes
    assert anki_collection.card_count() == cards
    # Every card sits in its lesson's subdeck, not the top deck.
    subdeck = next(n for n in names if "::" in n)
    assert len(anki_collection.find_cards(f'deck:"{subdeck}" -deck:"{subdeck}::*"')) == cards


def test_round_trip_rendering_of_every_note_type(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    decks = build_decks(sample, tmp_path / "decks")
    import_deck(anki_collection, decks["el"])
    import_deck(anki_collection, decks["pl"])
    notes = notes_by_guid(anki_collection)

    basic = notes[anki.note_guid("sample-course", "el", "el-key")]
    assert basic.note_type()["name"] == "Course · Basic"
    assert set(basic.tags) == {"basics", "basics::επικοινωνία", "δεξιότητες"}
    (card,) = basic.cards()
    question, answer = strip_style(card.question()), strip_style(card.answer())
    assert 'lang="el"' in question
    assert "Ποιο είναι το κλειδί της καλής εξυπηρέτησης;" in question
    assert "Βασικές δεξιότητες" in question
    assert "Επικοινωνία" in question
    assert "<em>καλή</em>" not in question
    assert "Η <em>καλή</em> επικοινωνία." in answer
    assert "Έξι δεξιότητες εξυπηρέτησης πελατών" in answer
    assert "Έξι δεξιότητες" not in question

    reversed_note = notes[anki.note_guid("sample-course", "el", "el-empathy")]
    assert reversed_note.note_type()["name"] == "Course · Basic and reversed"
    forward, backward = sorted(reversed_note.cards(), key=lambda c: c.ord)
    assert "Ενσυναίσθηση" in strip_style(forward.question())
    assert "Η κατανόηση των συναισθημάτων" not in strip_style(forward.question())
    assert "Η κατανόηση των συναισθημάτων" in strip_style(backward.question())
    assert "Ενσυναίσθηση" in strip_style(backward.answer()).split('id="answer"')[1]

    cloze = notes[anki.note_guid("sample-course", "pl", "pl-empathy")]
    assert cloze.note_type()["name"] == "Course · Cloze"
    first, second = sorted(cloze.cards(), key=lambda c: c.ord)
    q1 = strip_style(first.question())
    assert "[...]" in q1
    assert "Empatia</span>" not in q1
    assert "wczuwania się" in q1
    assert "[w co?]" in strip_style(second.question())  # the hint
    assert "Empatia" in strip_style(first.answer())
    assert 'lang="pl"' in q1

    multi = notes[anki.note_guid("sample-course", "el", "el-apology")]
    assert "<li>ανάληψη ευθύνης</li>" in strip_style(multi.cards()[0].answer())
    assert "basics::υπομονή" in multi.tags


def test_images_are_packed_under_content_hash_names(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    decks = build_decks(sample, tmp_path / "decks")
    import_deck(anki_collection, decks["el"])
    digest = hashlib.sha256((sample / "el" / "img" / "dot.png").read_bytes()).hexdigest()[:20]
    name = f"{digest}.png"
    note = notes_by_guid(anki_collection)[anki.note_guid("sample-course", "el", "el-diagram")]
    assert f'<img src="{name}"' in note["Back"]
    assert (Path(anki_collection.media.dir()) / name).read_bytes() == (
        sample / "el/img/dot.png"
    ).read_bytes()


def package_decks(apkg: Path, tmp_path: Path) -> dict[str, int]:
    """Deck name -> ID as written in the package's collection."""
    with zipfile.ZipFile(apkg) as archive:
        db = tmp_path / f"{apkg.stem}.anki2"
        db.write_bytes(archive.read("collection.anki2"))
    with closing(sqlite3.connect(db)) as conn:
        (decks,) = conn.execute("select decks from col").fetchone()
    return {d["name"]: d["id"] for d in json.loads(decks).values()}


def test_note_type_and_deck_ids_are_fixed(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    decks = build_decks(sample, tmp_path / "decks")
    import_deck(anki_collection, decks["el"])
    ids = {m["name"]: m["id"] for m in anki_collection.models.all()}
    for kind, model_id in anki.MODEL_IDS.items():
        assert ids[anki.MODEL_NAMES[kind]] == model_id
    # Deck IDs in the package come from course, language and lesson ID, whatever the titles say.
    assert package_decks(decks["el"], tmp_path) == {
        "Default": 1,
        "Δείγμα μαθήματος": anki.stable_id("sample-course", "el"),
        "Δείγμα μαθήματος::01 Βασικές δεξιότητες": anki.stable_id("sample-course", "el", "basics"),
    }


# -- update scenario ------------------------------------------------------------------------------


def review_everything(col: Any) -> None:
    """Answer every queued card Good with Anki's v3 scheduler until nothing is due."""
    for deck in col.decks.all_names_and_ids():
        if "::" not in deck.name and deck.name != "Default":
            col.decks.select(deck.id)
    for _ in range(200):
        queued = col.sched.get_queued_cards(fetch_limit=1).cards
        if not queued:
            return
        card = col.get_card(queued[0].card.id)
        card.start_timer()
        col.sched.answer_card(
            col.sched.build_answer(card=card, states=queued[0].states, rating=CardAnswer.GOOD)
        )
    raise AssertionError("the review queue never emptied")


def scheduling(col: Any) -> dict[tuple[str, int], tuple[int, ...]]:
    """(note guid, card ord) -> (card id, type, queue, due, ivl, reps, revlog entries)."""
    result = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        revlog = col.db.scalar("select count() from revlog where cid = ?", cid)
        key = (card.note().guid, card.ord)
        result[key] = (card.id, card.type, card.queue, card.due, card.ivl, card.reps, revlog)
    return result


EDITED_LESSON = """---
id: basics
title: Βασικές δεξιότητες
lang: el
order: 1
source:
  title: Έξι δεξιότητες εξυπηρέτησης πελατών
  publisher: Παράδειγμα
  url: https://example.org/arthro
tags: [δεξιότητες]
---

Εισαγωγή στο μάθημα.

## Επικοινωνία

Νέα κάρτα στην αρχή;::Μια καινούρια απάντηση. <!-- id: el-new -->

Ποιο είναι το κλειδί της καλής εξυπηρέτησης;::Η *σαφής* και ευγενική επικοινωνία. <!-- id: el-key -->

Ποια τρία πράγματα περιέχει μια καλή συγγνώμη;
?
- αναγνώριση του προβλήματος
- ανάληψη ευθύνης
- λύση <!-- id: el-apology -->

## Υπομονή

Η ==υπομονή== βοηθά σε δύσκολες συζητήσεις. <!-- id: el-patience -->

Ενσυναίσθηση:::Η κατανόηση των συναισθημάτων του άλλου <!-- id: el-empathy -->

Πώς μοιάζει το διάγραμμα της ενότητας;::![Διάγραμμα](img/dot.png) <!-- id: el-diagram -->
"""


@pytest.mark.parametrize("pinned_epoch", [False, True], ids=["wall-clock", "SOURCE_DATE_EPOCH"])
def test_update_keeps_history_applies_edits_and_adds_no_duplicates(
    sample: Path,
    tmp_path: Path,
    anki_collection: Any,
    monkeypatch: pytest.MonkeyPatch,
    pinned_epoch: bool,
) -> None:
    if pinned_epoch:  # a pinned build time must not stop real edits from applying
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    col = anki_collection
    import_deck(col, build_decks(sample, tmp_path / "v1")["el"])
    review_everything(col)
    before = scheduling(col)
    assert all(entry[6] > 0 for entry in before.values()), "every card was reviewed"
    notes_before = {guid: note.id for guid, note in notes_by_guid(col).items()}

    # The author edits a card, reorders cards, moves one to another section and inserts a new one.
    (sample / "el" / "01-basics.md").write_text(EDITED_LESSON, encoding="utf-8")
    import_deck(col, build_decks(sample, tmp_path / "v2")["el"])

    notes_after = notes_by_guid(col)
    new_guid = anki.note_guid("sample-course", "el", "el-new")
    assert set(notes_after) == set(notes_before) | {new_guid}, "no duplicates, one new note"
    assert {g: n.id for g, n in notes_after.items() if g != new_guid} == notes_before
    assert col.note_count() == len(notes_before) + 1
    assert sorted(m["name"] for m in col.models.all() if m["name"].startswith("Course")) == sorted(
        anki.MODEL_NAMES.values()
    ), "no copied note types"

    after = scheduling(col)
    for key, state in before.items():
        assert after[key] == state, f"review history and scheduling kept for {key}"
    assert len(after) == len(before) + 1

    edited = notes_after[anki.note_guid("sample-course", "el", "el-key")]
    assert edited["Back"] == "Η <em>σαφής</em> και ευγενική επικοινωνία."
    assert "σαφής" in edited.cards()[0].answer()
    moved = notes_after[anki.note_guid("sample-course", "el", "el-apology")]
    assert moved["Section"] == "Επικοινωνία"
    assert "basics::επικοινωνία" in moved.tags
    assert "basics::υπομονή" not in moved.tags


def test_mod_times_change_only_for_edited_notes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build_decks(sample, tmp_path / "v1")
    first = anki.ModTimes.read(sample / "el" / anki.MOD_TIMES_FILE).data["notes"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    (sample / "el" / "01-basics.md").write_text(EDITED_LESSON, encoding="utf-8")
    build_decks(sample, tmp_path / "v2")
    second = anki.ModTimes.read(sample / "el" / anki.MOD_TIMES_FILE).data["notes"]
    assert second["el-key"]["mod"] == 1_800_000_000  # text changed
    assert second["el-apology"]["mod"] == 1_800_000_000  # section (tags, context) changed
    assert second["el-new"]["mod"] == 1_800_000_000
    assert second["el-empathy"]["mod"] == 1_800_000_000  # moved to the next section
    for unchanged in ("el-patience", "el-diagram"):  # reordered within their section only
        assert second[unchanged] == first[unchanged]


# -- reproducible builds --------------------------------------------------------------------------


def test_rebuild_without_edits_is_byte_identical(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {lang: path.read_bytes() for lang, path in build_decks(sample, tmp_path / "a").items()}
    times = {p: p.read_bytes() for p in sample.glob("*/" + anki.MOD_TIMES_FILE)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")  # a later build, same content
    second = {lang: path.read_bytes() for lang, path in build_decks(sample, tmp_path / "b").items()}
    assert first == second
    assert {p: p.read_bytes() for p in sample.glob("*/" + anki.MOD_TIMES_FILE)} == times


def test_source_date_epoch_dates_new_content(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    decks = build_decks(sample, tmp_path / "decks")
    with zipfile.ZipFile(decks["pl"]) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    notes = anki.ModTimes.read(sample / "pl" / anki.MOD_TIMES_FILE).data["notes"]
    assert {entry["mod"] for entry in notes.values()} == {1_700_000_000}
