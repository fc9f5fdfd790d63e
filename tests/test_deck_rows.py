"""The deck writer's rows equal what genanki's own `Note.write_to_db` writes, byte for byte.

`anki.write_deck` inserts the notes and cards rows itself (no genanki object per
note); the reference below is the writer it replaced, one `genanki.Note` per note."""

from __future__ import annotations

import gc
import itertools
import json
import os
import sqlite3
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import genanki
import pytest
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA
from hypothesis import given, settings
from hypothesis import strategies as st

from course import anki, outputs, pipeline, site, sweep
from course.lessons import load_library

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402
from test_apkg import genanki_model  # noqa: E402 (the reference note type)

BUNDLED = Path(__file__).resolve().parent.parent / "lessons"
NOW = 1_790_000_000


class _Note(genanki.Note):  # type: ignore[misc]
    def __init__(self, ords: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ords = tuple(ords)

    @property
    def cards(self) -> list[genanki.Card]:
        return [genanki.Card(ord_) for ord_ in self._ords]


def genanki_deck(deck: anki.DeckPlan, out: Path) -> None:
    """The previous writer: one genanki Note per note, `write_to_db` each."""
    plan = deck.plan
    stamp = max([*plan.note_mods.values(), *plan.note_type_mods.values()], default=0)
    db_fd, db_name = tempfile.mkstemp(suffix=".anki2")
    os.close(db_fd)
    try:
        with closing(sqlite3.connect(db_name)) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.executescript(APKG_SCHEMA)
            cursor.executescript(APKG_COL)
            anki._write_decks_and_models(cursor, deck)
            ids = itertools.count(stamp * 1000)
            lessons = deck.course.lessons
            deck_ids = {lesson.id: anki._deck_id(deck.course, lesson.id) for lesson in lessons}
            models = {key: genanki_model(model) for key, model in deck.models.items()}
            for note in deck.notes:
                gnote = _Note(
                    note.ords,
                    model=models[note.note_type],
                    fields=list(note.fields),
                    tags=list(note.tags),
                    guid=note.guid,
                )
                deck_id = deck_ids.get(note.lesson, anki._deck_id(deck.course, ""))
                gnote.write_to_db(cursor, plan.note_mods[note.card_id], deck_id, ids)
            conn.commit()
        anki._write_zip(out, Path(db_name), anki._card_media(deck), stamp)
    finally:
        Path(db_name).unlink(missing_ok=True)


def assert_same_decks(lessons: Path, tmp_path: Path) -> int:
    plans = pipeline.plan_decks(load_library(lessons), NOW, pipeline.BuildOptions(draft=True))
    notes = 0
    for deck in plans:
        rows, reference = tmp_path / f"rows-{deck.course.lang}", tmp_path / "genanki"
        written = anki.write_deck(deck, rows)
        genanki_deck(deck, reference)
        assert rows.read_bytes() == reference.read_bytes(), deck.course.lang
        notes += written.notes
    return notes


def test_rows_equal_genanki_on_the_bundled_course(tmp_path: Path) -> None:
    assert assert_same_decks(BUNDLED, tmp_path) > 50


def test_rows_equal_genanki_on_a_generated_course(tmp_path: Path) -> None:
    corpus.write_corpus(tmp_path / "corpus", 600, cards_per_lesson=50)
    assert assert_same_decks(tmp_path / "corpus" / "project" / "lessons", tmp_path) == 600


def test_retired_notes_have_no_card_rows(sample: Path, tmp_path: Path) -> None:
    pytest.importorskip("genanki")
    first = sample.parent / "first"
    pipeline.build(load_library(sample), first, None)
    lesson = next((sample / "el").glob("*.md"))
    lesson.write_text(lesson.read_text(encoding="utf-8").split("\n## ")[0] + "\n", "utf-8")
    assert assert_same_decks(sample, tmp_path) > 0


@settings(derandomize=True, database=None, deadline=None, max_examples=500)
@given(st.text(max_size=8), st.text(max_size=3), st.text(max_size=12))
def test_note_guids_are_genankis(course_id: str, lang: str, card_id: str) -> None:
    assert anki.note_guid(course_id, lang, card_id) == genanki.guid_for(course_id, lang, card_id)


def test_the_collector_runs_again_after_planning_and_writing(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = load_library(sample)
    seen: list[bool] = []
    prepare = anki.prepare

    def watched(*args: Any, **kwargs: Any) -> anki.DeckPlan:
        seen.append(gc.isenabled())
        return prepare(*args, **kwargs)

    monkeypatch.setattr(anki, "prepare", watched)
    pipeline.build(library, tmp_path / "decks", None)
    assert seen == [False, False, False], "paused while planning"
    assert gc.isenabled()

    def broken(*args: Any, **kwargs: Any) -> anki.DeckPlan:
        raise RuntimeError("a bug")

    monkeypatch.setattr(anki, "prepare", broken)
    with pytest.raises(RuntimeError):
        pipeline.build(library, tmp_path / "decks", None)
    assert gc.isenabled(), "and after a plan that fails"


@pytest.mark.parametrize("stage", ["collection", "rows", "zip"])
def test_a_deck_that_fails_leaves_no_file_behind(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    library = load_library(sample)
    decks = tmp_path / "decks"
    pipeline.build(library, decks, None)
    before = {p.name: p.read_bytes() for p in decks.iterdir()}
    (sample / "pl" / "new.md").write_text(
        "---\nid: new\ntitle: Nowa\nlang: pl\norder: 9\n---\n\n## A\n\nPytanie?::Tak. <!-- id: pl-new -->\n",
        "utf-8",
    )
    # (deck, ...); (cursor, deck, ...), the scratch collection made; (out, ...), the .apkg's zip
    name = {"collection": "_scratch", "rows": "_write_rows", "zip": "_write_zip"}[stage]
    real = getattr(anki, name)

    def failing(*args: Any) -> Any:
        first = args[1] if stage == "rows" else args[0]
        lang = first.name.split("-")[-1][:2] if stage == "zip" else first.course.lang
        if lang == "pl":
            raise OSError("disk full")
        return real(*args)

    monkeypatch.setattr(anki, name, failing)
    with pytest.raises(OSError, match="disk full"):
        pipeline.build(load_library(sample), decks, None)
    assert {p.name: p.read_bytes() for p in decks.iterdir()} == before


def test_the_scratch_collection_is_beside_the_deck_where_the_sweep_finds_it(
    sample: Path, tmp_path: Path
) -> None:
    """A build killed while it writes a deck leaves its scratch collection; the next build's sweep
    of the deck's folder removes it (not the system's temporary folder, which nobody sweeps)."""
    (deck, *_) = pipeline.plan_decks(load_library(sample), NOW, pipeline.BuildOptions(draft=True))
    decks = tmp_path / "decks"
    decks.mkdir()
    with anki.collection(deck, decks) as made:
        assert made.path.parent == decks
        assert made.path.read_bytes().startswith(b"SQLite format 3")
        sweep.outputs([decks / anki.deck_file_name(deck.course)], None)
        assert not made.path.exists()
    assert list(decks.iterdir()) == []


def test_a_decks_zip_is_the_same_whatever_the_reads_it_is_deflated_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The collection is deflated in reads of ZIP_CHUNK bytes (a thread's fewer waits for the
    GIL): the .apkg's bytes must not depend on that size, as earlier builds' decks were written
    in 1 MB reads."""
    corpus.write_corpus(tmp_path / "corpus", 600, cards_per_lesson=50)
    library = load_library(tmp_path / "corpus" / "project" / "lessons")
    (deck, *_) = pipeline.plan_decks(library, NOW, pipeline.BuildOptions(draft=True))
    made = {}
    for size in (anki.ZIP_CHUNK, 1 << 20, 4093):
        monkeypatch.setattr(anki, "ZIP_CHUNK", size)
        out = tmp_path / f"deck-{size}.apkg"
        anki.write_deck(deck, out)
        made[size] = out.read_bytes()
    assert len(set(made.values())) == 1


@pytest.mark.parametrize(("threshold", "frozen"), [(2, True), (1000, False)])
def test_a_large_build_runs_without_the_collector_and_leaves_its_records_frozen(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, frozen: bool
) -> None:
    """Above FREEZE_THRESHOLD lessons a build makes records that live till it ends (a few per
    note) and almost no cycles: the collector is paused from its plans to its record's save,
    and what it leaves alive is frozen before the collector resumes; a small build (tests, the
    bundled course) is left to the collector."""
    library = load_library(sample)
    monkeypatch.setattr(pipeline, "FREEZE_THRESHOLD", threshold)
    enabled: list[bool] = []

    def watch(owner: Any, name: str) -> None:
        real = getattr(owner, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            enabled.append(gc.isenabled())
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)

    watch(pipeline, "decide")
    watch(site, "write_site")
    watch(outputs.Record, "save")
    gc.unfreeze()
    gc.collect()
    before = gc.get_freeze_count()
    try:
        result = pipeline.build(library, tmp_path / "decks", tmp_path / "site")
        assert result.plans
        assert gc.isenabled()
        assert enabled == [not frozen] * 3
        assert (gc.get_freeze_count() > before) is frozen
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(("threshold", "paused"), [(2, True), (1000, False)])
def test_a_large_builds_settled_replan_runs_without_the_collector(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int, paused: bool
) -> None:
    library = load_library(sample)
    options = pipeline.BuildOptions()
    result = pipeline.build(library, tmp_path / "decks", None, options)
    lesson = next((sample / "el").glob("*.md"))
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("::", ":: Changed, ", 1), "utf-8")
    library = load_library(sample)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    result = pipeline.build(library, tmp_path / "decks", None, options)
    # Later than the build: its own replan against the manifest it wrote is not taken.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000100")
    monkeypatch.setattr(pipeline, "FREEZE_THRESHOLD", threshold)
    enabled: list[bool] = []
    replan = anki.replan

    def watched(*args: Any, **kwargs: Any) -> Any:
        enabled.append(gc.isenabled())
        return replan(*args, **kwargs)

    monkeypatch.setattr(anki, "replan", watched)
    try:
        assert pipeline.settled(library, result, options) is not None
        assert enabled
        assert set(enabled) == {not paused}
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_large_build_that_fails_is_not_frozen(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed build's objects may be garbage (the error's traceback holds frames): left to
    the collector."""
    library = load_library(sample)
    monkeypatch.setattr(pipeline, "FREEZE_THRESHOLD", 2)

    def broken(*args: Any, **kwargs: Any) -> anki.DeckPlan:
        raise RuntimeError("a bug")

    monkeypatch.setattr(anki, "prepare", broken)
    gc.unfreeze()
    try:
        with pytest.raises(RuntimeError):
            pipeline.build(library, tmp_path / "decks", None)
        assert gc.get_freeze_count() == 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_collections_deck_tree_and_note_types_are_canonical_json(tmp_path: Path) -> None:
    """The `col` row's deck tree and note types are written with their keys sorted at every
    level: the deck's bytes do not depend on the order the build met its decks and note types
    in (the reference writer above shares `_write_decks_and_models`, so it cannot show this)."""
    plans = pipeline.plan_decks(load_library(BUNDLED), NOW, pipeline.BuildOptions(draft=True))
    for deck in plans:
        out = tmp_path / f"{deck.course.lang}.apkg"
        anki.write_deck(deck, out)
        db = tmp_path / f"{deck.course.lang}.anki2"
        with zipfile.ZipFile(out) as archive:
            db.write_bytes(archive.read("collection.anki2"))
        with closing(sqlite3.connect(db)) as conn:
            decks, models = conn.execute("SELECT decks, models FROM col").fetchone()
        for text in (decks, models):
            assert text == json.dumps(json.loads(text), sort_keys=True), deck.course.lang
        assert len(json.loads(models)) == len(deck.models)
        assert len(json.loads(decks)) == len(deck.course.lessons) + 2  # and Anki's "Default"
