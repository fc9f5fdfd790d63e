"""Deck stage, checked through Anki's own backend: import, render, review, update, rebuild.

The update scenarios follow one learner (and, where it matters, a newcomer) through two builds:
import with the GUI's default options, review every card with Anki's scheduler, let the author
edit, build again, import again; then `assert_healthy` checks what every scenario must keep.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course import anki, manifest, pipeline, updates
from course.cli import main
from course.lessons import load_library
from course.model import CourseError

pytest.importorskip("anki")
from anki.collection import Collection, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer

pytestmark = pytest.mark.anki


def build(lessons: Path, decks: Path, **options: Any) -> pipeline.BuildResult:
    return pipeline.build(load_library(lessons), decks, None, pipeline.BuildOptions(**options))


def build_decks(lessons: Path, decks: Path, **options: Any) -> dict[str, Path]:
    result = build(lessons, decks, **options)
    return {lang.lang: lang.deck for lang in result.languages if lang.deck is not None}


def import_deck(col: Any, path: Path) -> Any:
    """Import with the options Anki's import dialog starts with."""
    options = col._backend.get_import_anki_package_presets()
    request = ImportAnkiPackageRequest(package_path=str(path), options=options)
    result = col.import_anki_package(request)
    # The GUI drops its cached note types after an operation that changed them (OpChanges.notetype);
    # without this, the Python layer keeps showing the note types as they were before the import.
    col._clear_caches()
    return result


def notes_by_guid(col: Any) -> dict[str, Any]:
    return {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}


def strip_style(html: str) -> str:
    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def guid(card_id: str, course: str = "sample-course", lang: str = "el") -> str:
    return anki.note_guid(course, lang, card_id)


def read_manifest(lessons: Path, lang: str) -> manifest.Manifest:
    return manifest.read(lessons / lang)


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

    basic = notes[guid("el-key")]
    assert basic.note_type()["name"] == "Δείγμα μαθήματος · Q/A"
    assert list(basic.keys()) == list(anki.QA_FIELDS)
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
    assert '<div class="card-id">el-key</div>' in answer
    assert basic["CardID"] == "el-key"

    reversed_note = notes[guid("el-empathy")]
    assert reversed_note.note_type()["id"] == basic.note_type()["id"], "one Q/A note type"
    assert reversed_note["Reverse"] == anki.REVERSE_ON
    forward, backward = sorted(reversed_note.cards(), key=lambda c: c.ord)
    assert "Ενσυναίσθηση" in strip_style(forward.question())
    assert "Η κατανόηση των συναισθημάτων" not in strip_style(forward.question())
    assert "Η κατανόηση των συναισθημάτων" in strip_style(backward.question())
    assert "Ενσυναίσθηση" in strip_style(backward.answer()).split('id="answer"')[1]

    cloze = notes[guid("pl-empathy", lang="pl")]
    assert cloze.note_type()["name"] == "Kurs przykładowy · Cloze"
    assert list(cloze.keys()) == list(anki.CLOZE_FIELDS)
    first, second = sorted(cloze.cards(), key=lambda c: c.ord)
    q1 = strip_style(first.question())
    assert "[...]" in q1
    assert "Empatia</span>" not in q1
    assert "wczuwania się" in q1
    assert "[w co?]" in strip_style(second.question())  # the hint
    assert "Empatia" in strip_style(first.answer())
    assert 'lang="pl"' in q1

    multi = notes[guid("el-apology")]
    assert "<li>ανάληψη ευθύνης</li>" in strip_style(multi.cards()[0].answer())
    assert "basics::υπομονή" in multi.tags


def with_explanation(lessons: Path, lang: str, card_ids: set[str], markdown: str) -> Any:
    """The library, with an explanation (parsed from `markdown`) on the given cards: the i7
    parser fills the card's explanation from a block quote; this stage only has to show it."""
    from dataclasses import replace

    from course import render
    from course.markdown import parser
    from course.markdown import render as render_tokens

    tokens = parser().parse(markdown)
    html = render_tokens(render.anki_renderer(), tokens, render.ANKI_ENV).strip()
    library = load_library(lessons)
    courses = []
    for course in library.courses:
        lessons_ = tuple(
            replace(
                lesson,
                cards=tuple(
                    replace(c, text=c.rendered._replace(explanation=html))
                    if c.id in card_ids
                    else c
                    for c in lesson.cards
                ),
            )
            for lesson in course.lessons
        )
        courses.append(replace(course, lessons=lessons_))
    return replace(library, courses=tuple(courses))


def test_explanation_is_shown_under_the_answer_of_every_card_kind(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    library = with_explanation(
        sample, "pl", {"pl-empathy", "pl-card", "pl-poise"}, "Bo *klient* to pamięta."
    )
    result = pipeline.build(library, tmp_path / "decks", None)
    deck = next(lang.deck for lang in result.languages if lang.lang == "pl")
    assert deck is not None
    import_deck(anki_collection, deck)
    for card_id in ("pl-empathy", "pl-card", "pl-poise"):
        note = notes_by_guid(anki_collection)[guid(card_id, lang="pl")]
        assert note["Explanation"] == "<p>Bo <em>klient</em> to pamięta.</p>"
        for card in note.cards():
            assert "Bo <em>klient</em> to pamięta." in card.answer()
            assert "klient</em> to pamięta" not in card.question()


def test_images_are_packed_under_content_hash_names(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    decks = build_decks(sample, tmp_path / "decks")
    import_deck(anki_collection, decks["el"])
    digest = hashlib.sha256((sample / "el" / "img" / "dot.png").read_bytes()).hexdigest()[:20]
    name = f"{digest}.png"
    note = notes_by_guid(anki_collection)[guid("el-diagram")]
    assert f'<img src="{name}"' in note["Back"]
    assert (Path(anki_collection.media.dir()) / name).read_bytes() == (
        sample / "el/img/dot.png"
    ).read_bytes()


EMBEDS = [
    # Obsidian's image embed, rendered as `![alt](name)` is
    ("![[x.png]]", '<img src="x.png" alt="" />'),
    ("![[my dot.png|a dog]]", '<img src="my%20dot.png" alt="a dog" />'),
    ("![[x.PNG|300]]", '<img src="x.PNG" alt="" />'),  # a size, not a text
    ("![[x.webp|300x200]]", '<img src="x.webp" alt="" />'),
    ("a ![[b.jpg]] c", 'a <img src="b.jpg" alt="" /> c'),
    ("![[ x.png |  alt ]]", '<img src="x.png" alt="alt" />'),
    ("![[Other note]]", "![[Other note]]"),  # a note's embed: text, as before
    ("![[x.png#part]]", "![[x.png#part]]"),
    ("![[x.png", "![[x.png"),
    ("`![[x.png]]`", "<code>![[x.png]]</code>"),
    ("![](x.png)", '<img src="x.png" alt="" />'),  # markdown-it's own, unchanged
]


@pytest.mark.parametrize(("text", "html"), EMBEDS)
def test_obsidian_image_embeds_are_images(text: str, html: str) -> None:
    from course.markdown import parser

    assert parser().renderInline(text) == html


def test_an_embedded_image_reaches_anki_as_a_markdown_image_does(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    """`![[img/my dot.png|alt]]` (Obsidian's default way to put an image in a note): found from
    the lesson's folder, packed under its content-hash name, shown in Anki; a missing one is
    an error on its line, as `![](...)` is."""
    (sample / "el" / "img" / "my dot.png").write_bytes((sample / "el/img/dot.png").read_bytes())
    lesson = sample / "el" / "01-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(
        text.replace("![Διάγραμμα](img/dot.png)", "![[img/my dot.png|Διάγραμμα]]"), "utf-8"
    )
    decks = build_decks(sample, tmp_path / "decks")
    import_deck(anki_collection, decks["el"])
    digest = hashlib.sha256((sample / "el" / "img" / "dot.png").read_bytes()).hexdigest()[:20]
    note = notes_by_guid(anki_collection)[guid("el-diagram")]
    assert f'<img src="{digest}.png" alt="Διάγραμμα">' in note["Back"]
    assert (Path(anki_collection.media.dir()) / f"{digest}.png").is_file()
    lesson.write_text(text.replace("![Διάγραμμα](img/dot.png)", "![[img/gone.png]]"), "utf-8")
    with pytest.raises(CourseError, match=r"image 'img/gone\.png' not found"):
        load_library(sample)


def package_decks(apkg: Path, tmp_path: Path) -> dict[str, int]:
    """Deck name -> ID as written in the package's collection."""
    with zipfile.ZipFile(apkg) as archive:
        db = tmp_path / f"{apkg.stem}.anki2"
        db.write_bytes(archive.read("collection.anki2"))
    with closing(sqlite3.connect(db)) as conn:
        (decks,) = conn.execute("select decks from col").fetchone()
    return {d["name"]: d["id"] for d in json.loads(decks).values()}


def test_note_type_ids_belong_to_the_course(
    sample: Path, tmp_path: Path, anki_collection: Any
) -> None:
    decks = build_decks(sample, tmp_path / "decks")
    import_deck(anki_collection, decks["el"])
    import_deck(anki_collection, decks["pl"])
    ids = {m["name"]: m["id"] for m in anki_collection.models.all()}
    for course in load_library(sample).courses:
        if course.lang in ("el", "pl"):
            for key in ("qa", "cloze"):
                assert ids[anki.note_type_name(course, key)] == anki.note_type_id(course, key)
    assert (
        len(
            {anki.note_type_id(c, k) for c in load_library(sample).courses for k in ("qa", "cloze")}
        )
        == 6
    )
    assert package_decks(decks["el"], tmp_path) == {
        "Default": 1,
        "Δείγμα μαθήματος": anki.stable_id("sample-course", "el"),
        "Δείγμα μαθήματος::01 Βασικές δεξιότητες": anki.stable_id("sample-course", "el", "basics"),
    }


# -- a learner ------------------------------------------------------------------------------------


@dataclass
class Learner:
    """One Anki collection: imports packages with the default options and reviews everything."""

    col: Any
    reviewed: dict[tuple[str, int], tuple[int, ...]] = field(default_factory=dict)
    logs: list[Any] = field(default_factory=list)

    def take(self, deck: Path) -> Any:
        log = import_deck(self.col, deck).log
        self.logs.append(log)
        return log

    def review(self) -> None:
        """Answer every queued card Good with Anki's v3 scheduler until nothing is due."""
        col = self.col
        for deck in col.decks.all_names_and_ids():
            col.decks.select(deck.id)
            for _ in range(500):
                queued = col.sched.get_queued_cards(fetch_limit=1).cards
                if not queued:
                    break
                card = col.get_card(queued[0].card.id)
                card.start_timer()
                col.sched.answer_card(
                    col.sched.build_answer(
                        card=card, states=queued[0].states, rating=CardAnswer.GOOD
                    )
                )
        self.reviewed = scheduling(col)
        assert self.reviewed
        assert all(s[6] > 0 for s in self.reviewed.values()), "every card reviewed"

    def notes(self) -> dict[str, Any]:
        return notes_by_guid(self.col)

    def deck_of(self, card_guid: str) -> set[str]:
        note = self.notes()[card_guid]
        return {self.col.decks.name(card.did) for card in note.cards()}


def scheduling(col: Any) -> dict[tuple[str, int], tuple[int, ...]]:
    """(note guid, card ord) -> (card id, type, queue, due, ivl, reps, revlog entries)."""
    result: dict[tuple[str, int], tuple[int, ...]] = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        revlog = col.db.scalar("select count() from revlog where cid = ?", cid)
        key = (card.note().guid, card.ord)
        result[key] = (card.id, card.type, queue_of(card), card.due, card.ivl, card.reps, revlog)
    return result


def queue_of(card: Any) -> int:
    return int(card.queue)


@pytest.fixture
def learners(tmp_path: Path) -> Iterator[Any]:
    """Makes fresh collections: learners(name) -> Learner."""
    made: list[Any] = []

    def make(name: str) -> Learner:
        (tmp_path / name).mkdir()
        col = Collection(str(tmp_path / name / "collection.anki2"))
        made.append(col)
        return Learner(col)

    yield make
    for col in made:
        col.close()


def assert_healthy(learner: Learner, moved: Sequence[str] = (), course: str = "demo") -> None:
    """What every update must keep: no duplicates, no conflicting notes, no copied note types, no
    empty or split decks, every reviewed card's history."""
    col = learner.col
    for log in learner.logs:
        assert not log.conflicting, "conflicting notes"  # (log.duplicate: notes unchanged)
    guids = [col.get_note(n).guid for n in col.find_notes("")]
    assert len(guids) == len(set(guids)), "no duplicates"
    names = [m["name"] for m in col.models.all()]
    assert len(names) == len(set(names))
    assert not [n for n in names if n.endswith("+")], "no copied note types"
    after = scheduling(col)
    for key, state in learner.reviewed.items():
        assert after[key] == state, f"review history and scheduling kept for {key}"
    for deck in col.decks.all_names_and_ids():
        if deck.name != "Default":
            assert col.find_cards(f'deck:"{deck.name}"'), f"empty deck {deck.name}"
    retired = set(col.find_notes(f"tag:{course}::retired"))
    lessons: dict[str, set[int]] = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        note = card.note()
        if note.id in retired or note["CardID"] in moved:
            continue
        lessons.setdefault(f"{note.mid} {note.tags[0]}", set()).add(card.did)
    for lesson, dids in lessons.items():
        assert len(dids) == 1, f"lesson {lesson} split across decks {dids}"


# -- the demo course the scenarios edit -----------------------------------------------------------


CARDS = {
    "a1": "Co to jest empatia?::Zrozumienie uczuć klienta.",
    "a2": "Cierpliwość:::Spokój w trudnej rozmowie",
    "a3": "Klient oczekuje {{c1::szybkiej}} i {{c2::uprzejmej}} obsługi.",
    "b1": "Co mierzy CSAT?::Zadowolenie klienta.",
    "b2": "Co to jest NPS?::Gotowość do polecenia firmy.",
}


@dataclass
class Demo:
    """A small Polish course written to disk: lessons (id -> title, order, card ids)."""

    root: Path
    title: str | None = "Obsługa klienta"
    """None: no `lessons/<lang>/course.yml` (the course's title, `Demo`)."""
    course_id: str = "demo"
    lang: str = "pl"
    lessons: dict[str, tuple[str, int, list[str]]] = field(
        default_factory=lambda: {
            "alpha": ("Podstawy", 1, ["a1", "a2", "a3"]),
            "beta": ("Pomiar", 2, ["b1", "b2"]),
        }
    )
    cards: dict[str, str] = field(default_factory=lambda: dict(CARDS))

    def write(self) -> Path:
        lang = self.root / self.lang
        lang.mkdir(parents=True, exist_ok=True)
        (self.root / "course.yml").write_text(f"id: {self.course_id}\ntitle: Demo\n", "utf-8")
        if self.title is None:
            (lang / "course.yml").unlink(missing_ok=True)
        else:
            (lang / "course.yml").write_text(f"title: {self.title}\n", "utf-8")
        for old in lang.glob("*.md"):
            old.unlink()
        for lesson_id, (title, order, ids) in self.lessons.items():
            body = "\n\n".join(f"{self.cards[i]} <!-- id: {i} -->" for i in ids)
            (lang / f"{lesson_id}.md").write_text(
                f"---\nid: {lesson_id}\ntitle: {title}\nlang: {self.lang}\norder: {order}\n---\n\n"
                f"## Sekcja\n\n{body}\n",
                "utf-8",
            )
        return self.root

    def build(self, out: Path, **options: Any) -> tuple[Path, pipeline.BuildResult]:
        result = build(self.write(), out, **options)
        deck = next(lang.deck for lang in result.languages if lang.lang == self.lang)
        assert deck is not None
        return deck, result


def start(tmp_path: Path, learners: Any, **demo: Any) -> tuple[Demo, Learner]:
    """Release 1 of the demo course, imported and fully reviewed by one learner."""
    course = Demo(tmp_path / "lessons", **demo)
    deck, _ = course.build(tmp_path / "v1")
    learner = learners("learner")
    learner.take(deck)
    learner.review()
    return course, learner


def card_text(learner: Learner, card_id: str, ord_: int = 0, side: str = "question") -> str:
    note = learner.notes()[guid(card_id, "demo", "pl")]
    card = next(c for c in note.cards() if c.ord == ord_)
    return strip_style(card.question() if side == "question" else card.answer())


# -- update scenarios -----------------------------------------------------------------------------


@pytest.mark.parametrize("pinned_epoch", [False, True], ids=["wall-clock", "SOURCE_DATE_EPOCH"])
def test_edits_apply_keep_history_and_add_no_duplicates(
    tmp_path: Path, learners: Any, monkeypatch: pytest.MonkeyPatch, pinned_epoch: bool
) -> None:
    if pinned_epoch:  # a pinned build time must not stop real edits from applying
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    course, learner = start(tmp_path, learners)
    course.cards["a1"] = "Co to jest empatia?::Zrozumienie *uczuć* klienta."
    course.cards["a0"] = "Nowa fiszka?::Nowa odpowiedź."
    course.lessons["alpha"] = ("Podstawy", 1, ["a0", "a3", "a1", "a2"])
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    notes = learner.notes()
    assert len(notes) == 6
    assert notes[guid("a1", "demo", "pl")]["Back"] == "Zrozumienie <em>uczuć</em> klienta."
    assert "Nowa odpowiedź." in card_text(learner, "a0", side="answer")
    (report,) = result.updates
    assert [i.card for i in report.added] == ["a0"]
    assert [i.card for i in report.changed] == ["a1"]


def test_basic_to_reversed_and_back_updates_in_place(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.cards["a1"] = "Co to jest empatia?:::Zrozumienie uczuć klienta."
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    assert "Zrozumienie uczuć klienta." in card_text(learner, "a1", 1)  # the reverse card arrived
    assert [i.card for i in result.updates[0].changed] == ["a1"]
    learner.review()

    course.cards["a1"] = "Co to jest empatia?::Zrozumienie uczuć klienta."
    deck, result = course.build(tmp_path / "v3")
    learner.take(deck)
    assert_healthy(learner)
    assert learner.notes()[guid("a1", "demo", "pl")]["Reverse"] == ""
    (item,) = result.updates[0].not_in_place
    assert item.card == "a1"
    assert "Empty Cards" in item.note
    # The learner's reverse card is now empty: Anki's Empty Cards tool offers exactly it.
    empty = [c for n in learner.col.get_empty_cards().notes for c in n.card_ids]
    note = learner.notes()[guid("a1", "demo", "pl")]
    assert empty == [next(c.id for c in note.cards() if c.ord == 1)]


RENUMBERED = "==x== clozes are numbered in order, so removing"
MOVED = "==x== clozes are numbered in order, so inserting"
CLOZE_EDITS = {
    # name: (cloze card before, after, what "Anki cannot update these in place" says, or None)
    "first ==x== removed": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie.",
        "Ateny w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie.",
        ("cloze numbers 1, 2, 3 -> 1, 2", "the card of cloze 3 blank", RENUMBERED),
    ),
    "last ==x== removed": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie.",
        "==Ateny== w Grecji, ==Warszawa== w Polsce, Ryga na Łotwie.",
        ("cloze numbers 1, 2, 3 -> 1, 2", "the card of cloze 3 blank", RENUMBERED),
    ),
    "numbered clozes removed": (
        "==1;;Ateny== w Grecji, ==2;;Warszawa== w Polsce, ==3;;Ryga== na Łotwie.",
        "Ateny w Grecji, Warszawa w Polsce, ==3;;Ryga== na Łotwie.",
        ("cloze numbers 1, 2, 3 -> 3", "the cards of clozes 1, 2 blank"),
    ),
    "Anki's first cloze removed": (
        "{{c1::Ateny}} w Grecji, {{c2::Warszawa}} w Polsce, {{c3::Ryga}} na Łotwie.",
        "Ateny w Grecji, {{c2::Warszawa}} w Polsce, {{c3::Ryga}} na Łotwie.",
        ("cloze numbers 1, 2, 3 -> 2, 3", "the card of cloze 1 blank"),
    ),
    "written numbers keep the published ones": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie.",
        "Ateny w Grecji, ==2;;Warszawa== w Polsce, ==3;;Ryga== na Łotwie.",
        ("cloze numbers 1, 2, 3 -> 2, 3", "the card of cloze 1 blank"),
    ),
    "cloze added": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce.",
        "==Ateny== w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie.",
        None,
    ),
    "cloze inserted before the others": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce.",
        "==Ryga== na Łotwie, ==Ateny== w Grecji, ==Warszawa== w Polsce.",
        ("cloze numbers 1, 2 -> 1, 2, 3", "cloze 1 is now cloze 2, cloze 2 is now cloze 3", MOVED),
    ),
    "clozes swapped": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce.",
        "==Warszawa== w Polsce, ==Ateny== w Grecji.",
        ("cloze numbers 1, 2 -> 1, 2", "cloze 1 is now cloze 2, cloze 2 is now cloze 1", MOVED),
    ),
    "Anki's cloze inserted with a number written": (
        "{{c1::Ateny}} w Grecji, {{c2::Warszawa}} w Polsce.",
        "{{c3::Ryga}} na Łotwie, {{c1::Ateny}} w Grecji, {{c2::Warszawa}} w Polsce.",
        None,
    ),
    "cloze text edited in place": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce.",
        "==Ateny (Athína)== w Grecji, ==Warszawa== w Polsce.",
        None,
    ),
    "text edited": (
        "==Ateny== w Grecji, ==Warszawa== w Polsce.",
        "==Ateny== leżą w Grecji, ==Warszawa== w Polsce.",
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(CLOZE_EDITS))
def test_lost_cloze_numbers_are_named(tmp_path: Path, name: str) -> None:
    before, after, expected = CLOZE_EDITS[name]
    course = Demo(tmp_path / "lessons")
    course.cards["a3"] = before
    course.build(tmp_path / "v1")
    course.cards["a3"] = after
    _, result = course.build(tmp_path / "v2")
    (report,) = result.updates
    assert [i.card for i in report.changed] == ["a3"]
    if expected is None:
        assert not report.not_in_place
        return
    (item,) = report.not_in_place
    assert (item.card, item.where) == ("a3", str(tmp_path / "lessons/pl/alpha.md:14"))
    for phrase in expected:
        assert phrase in item.note
    assert (RENUMBERED in item.note) == (RENUMBERED in expected)
    assert (MOVED in item.note) == (MOVED in expected)
    assert ("Tools > Empty Cards" in item.note) == (MOVED not in expected)  # blank cards
    assert f"\n    {item}" in report.text()  # listed in full, under "cannot update"
    assert item.note in report.markdown()


ASKS = 'data-cloze="{}" data-ordinal="{}">[...]</span>'
"""How a cloze card's front asks for its cloze (the text hidden, its number)."""


def test_removed_cloze_blanks_its_number_and_hands_on_its_history(
    tmp_path: Path, learners: Any
) -> None:
    """What the report says of a removed ==x==, in Anki: the last number's card is blank (and
    Empty Cards offers it), and each cloze after the removed one has the history of its number."""
    cards = dict(CARDS, a3="==Ateny== w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie.")
    course, learner = start(tmp_path, learners, cards=cards)
    history = dict(learner.reviewed)
    course.cards["a3"] = "Ateny w Grecji, ==Warszawa== w Polsce, ==Ryga== na Łotwie."
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    (item,) = result.updates[0].not_in_place
    assert "the card of cloze 3 blank" in item.note
    a3 = guid("a3", "demo", "pl")
    assert ASKS.format("Warszawa", 1) in card_text(learner, "a3", 0)  # cloze 1 asks Warszawa...
    assert scheduling(learner.col)[(a3, 0)] == history[(a3, 0)]  # ...with Ateny's history
    assert ASKS.format("Ryga", 2) in card_text(learner, "a3", 1)
    assert "[...]" not in card_text(learner, "a3", 2)
    note = learner.notes()[a3]
    empty = [c for n in learner.col.get_empty_cards().notes for c in n.card_ids]
    assert empty == [next(c.id for c in note.cards() if c.ord == 2)]


def test_inserted_cloze_takes_the_history_of_the_number_it_has(
    tmp_path: Path, learners: Any
) -> None:
    """What the report says of a ==x== inserted before the others, in Anki: each number keeps its
    history, so the new cloze is asked with the first one's, and the last number is a new card."""
    cards = dict(CARDS, a3="==Ateny== w Grecji, ==Warszawa== w Polsce.")
    course, learner = start(tmp_path, learners, cards=cards)
    history = dict(learner.reviewed)
    course.cards["a3"] = "==Ryga== na Łotwie, ==Ateny== w Grecji, ==Warszawa== w Polsce."
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    (item,) = result.updates[0].not_in_place
    assert "cloze 1 is now cloze 2, cloze 2 is now cloze 3" in item.note
    a3 = guid("a3", "demo", "pl")
    now = scheduling(learner.col)
    assert ASKS.format("Ryga", 1) in card_text(learner, "a3", 0)  # the new cloze...
    assert now[(a3, 0)] == history[(a3, 0)]  # ...with Ateny's history
    assert ASKS.format("Ateny", 2) in card_text(learner, "a3", 1)
    assert now[(a3, 1)] == history[(a3, 1)]  # Ateny with Warszawa's
    assert ASKS.format("Warszawa", 3) in card_text(learner, "a3", 2)
    assert (a3, 2) not in history  # Warszawa: a new card
    assert now[(a3, 2)][6] == 0


def test_an_older_manifest_gets_cloze_hashes_without_a_release(tmp_path: Path) -> None:
    """A manifest written before cloze hashes were recorded: the next build records them and
    nothing else (no release, no mod), and the build after it names an inserted cloze."""
    course = Demo(tmp_path / "lessons")
    course.cards["a3"] = "==Ateny== w Grecji, ==Warszawa== w Polsce."
    course.build(tmp_path / "v1")
    path = course.root / "pl" / manifest.MANIFEST_FILE
    written = path.read_text("utf-8")
    older = re.sub(r', "cloze_hashes": \[[^]]*\]', "", written)
    assert older != written
    path.write_text(older, "utf-8")
    _, result = course.build(tmp_path / "v2")
    assert result.updates[0].release == 0
    assert not result.updates[0].changed
    assert path.read_text("utf-8") == written
    course.cards["a3"] = "==Ryga== na Łotwie, ==Ateny== w Grecji, ==Warszawa== w Polsce."
    _, result = course.build(tmp_path / "v3")
    (item,) = result.updates[0].not_in_place
    assert "cloze 1 is now cloze 2" in item.note


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Co to jest empatia?::Zrozumienie uczuć klienta.", "{{c1::Empatia}} to zrozumienie."),
        ("Klient oczekuje {{c1::szybkiej}} obsługi.", "Czego oczekuje klient?::Szybkiej obsługi."),
    ],
    ids=["basic to cloze", "cloze to basic"],
)
def test_qa_cloze_change_is_an_error_naming_the_card(
    tmp_path: Path, learners: Any, before: str, after: str
) -> None:
    course = Demo(tmp_path / "lessons")
    course.cards["a1"] = before
    deck, _ = course.build(tmp_path / "v1")
    learner = learners("learner")
    learner.take(deck)
    learner.review()
    written = (course.root / "pl" / manifest.MANIFEST_FILE).read_bytes()
    decks = {p: p.read_bytes() for p in (tmp_path / "v1").iterdir()}
    course.cards["a1"] = after
    course.write()
    with pytest.raises(CourseError) as caught:
        build(course.root, tmp_path / "v1")
    (problem,) = caught.value.problems
    assert str(problem).startswith(f"{course.root / 'pl' / 'alpha.md'}:10: card a1 was published")
    assert "Give it a new ID" in problem.message
    assert {p: p.read_bytes() for p in (tmp_path / "v1").iterdir()} == decks
    assert (course.root / "pl" / manifest.MANIFEST_FILE).read_bytes() == written
    checked = CliRunner().invoke(main, ["check", "--lessons", str(course.root)])
    assert checked.exit_code == 1
    assert "card a1 was published" in checked.output

    # The fix the message gives: a new ID. The old card retires, the new one arrives.
    course.cards["a1-new"] = after
    course.lessons["alpha"] = ("Podstawy", 1, ["a1-new", "a2", "a3"])
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    assert [i.card for i in result.updates[0].retired] == ["a1"]
    assert [i.card for i in result.updates[0].added] == ["a1-new"]
    assert "wycofana" in card_text(learner, "a1")


def test_lesson_renamed_keeps_its_deck_and_shows_the_new_title(
    tmp_path: Path, learners: Any
) -> None:
    course, learner = start(tmp_path, learners)
    course.lessons["alpha"] = ("Podstawy obsługi", 1, ["a1", "a2", "a3"])
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    assert learner.deck_of(guid("a1", "demo", "pl")) == {"Obsługa klienta::01 Podstawy"}
    assert "Podstawy obsługi" in card_text(learner, "a1")  # the card's header: the new title
    assert not result.updates[0].decks_added


def test_lessons_reordered_keep_their_decks(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.lessons["alpha"] = ("Podstawy", 2, ["a1", "a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 1, ["b1", "b2"])
    deck, _ = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    assert learner.deck_of(guid("b1", "demo", "pl")) == {"Obsługa klienta::02 Pomiar"}
    decks = {d.name for d in learner.col.decks.all_names_and_ids()} - {"Default"}
    assert decks == {
        "Obsługa klienta",
        "Obsługa klienta::01 Podstawy",
        "Obsługa klienta::02 Pomiar",
    }


def test_inserted_lesson_gets_a_deck_that_sorts_in_its_place(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.cards["n1"] = "Co to jest CES?::Wysiłek klienta."
    course.lessons["gamma"] = ("Wstęp do pomiaru", 2, ["n1"])
    course.lessons["beta"] = ("Pomiar", 3, ["b1", "b2"])
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    newcomer = learners("newcomer")
    newcomer.take(deck)
    for col in (learner.col, newcomer.col):
        (top,) = [c for c in col.decks.deck_tree().children if c.name != "Default"]
        assert [c.name for c in top.children] == [
            "01 Podstawy",
            "01.5 Wstęp do pomiaru",
            "02 Pomiar",
        ]
    assert [i.card for i in result.updates[0].decks_added] == [
        "Obsługa klienta::01.5 Wstęp do pomiaru"
    ]


def test_course_renamed_keeps_its_top_deck(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.title = "Obsługa klienta w praktyce"
    deck, _ = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    decks = {d.name for d in learner.col.decks.all_names_and_ids()} - {"Default"}
    assert decks == {
        "Obsługa klienta",
        "Obsługa klienta::01 Podstawy",
        "Obsługa klienta::02 Pomiar",
    }
    names = {m["name"] for m in learner.col.models.all()}
    assert "Obsługa klienta w praktyce · Q/A" in names, "the note type follows the new title"


COURSE_FILES = {
    # name: (lessons/course.yml's text or None, its line named, what the message says)
    "id changed": ("id: demo2\ntitle: Demo\n", 1, ("the course ID is 'demo2'", "`id: demo`")),
    "id changed below": (
        "# the course\ntitle: Demo\nid: other\n",
        3,
        ("the course ID is 'other'", "set it back to `id: demo`"),
    ),
    "no id": ("title: Demo\n", 0, ("has no 'id', so the course ID is 'course'", "add `id: demo`")),
    # (the key's line as the YAML reader found it, however the key is spelled)
    "id quoted": ('title: Demo\n"id": other\n', 2, ("the course ID is 'other'", "`id: demo`")),
    "id in a flow mapping": ("{title: Demo,\n  id: other}\n", 2, ("is 'other'", "`id: demo`")),
    "id in a block mapping's explicit key": ("title: Demo\n? id\n: other\n", 2, ("'other'",)),
    "comments only": ("# no keys yet\n", 0, ("has no 'id', so the course ID is 'course'",)),
    "no file": (None, 0, ("not found, so the course ID is 'course'", "restore it (git checkout")),
}


@pytest.mark.parametrize("name", sorted(COURSE_FILES))
def test_changed_course_id_is_an_error_naming_the_course_file(tmp_path: Path, name: str) -> None:
    text, line, phrases = COURSE_FILES[name]
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    recorded = course.root / "pl" / manifest.MANIFEST_FILE
    written = recorded.read_bytes()
    assert '"course": "demo"' in written.decode()
    course_file = course.root / "course.yml"
    if text is None:
        course_file.unlink()
    else:
        course_file.write_text(text, "utf-8")
    with pytest.raises(CourseError) as caught:
        build(course.root, tmp_path / "v2")
    (problem,) = caught.value.problems
    assert (problem.loc.path, problem.loc.line) == (course_file, line)
    for phrase in (*phrases, f"pl decks were released as 'demo' ({recorded})", "second copy"):
        assert phrase in problem.message
    assert "move every" in problem.message  # (the way to a new course)
    assert not (tmp_path / "v2").exists()
    assert recorded.read_bytes() == written
    outputs = ["--decks", str(tmp_path / "v2"), "--no-site", "--no-scorm"]
    for command in (["check"], ["build", *outputs]):
        out = CliRunner().invoke(main, [*command, "--lessons", str(course.root)])
        assert out.exit_code == 1, out.output
        assert f"{course_file}{':' + str(line) if line else ''}: " in out.output
        assert "Traceback" not in out.output
    assert not (tmp_path / "v2").exists()
    assert recorded.read_bytes() == written


def test_changed_course_id_is_one_error_naming_every_language(bundled: Path) -> None:
    """QA's case on the bundled course (three languages): one problem, not one per language,
    naming every manifest; exit 1 and nothing written, for `check` and `build` alike."""
    course_file = bundled / "course.yml"
    text = course_file.read_text("utf-8")
    assert "\nid: customer-service\n" in text
    course_file.write_text(text.replace("id: customer-service\n", "id: customer-services\n"))
    recorded = {p: p.read_bytes() for p in sorted(bundled.glob(f"*/{manifest.MANIFEST_FILE}"))}
    assert [p.parent.name for p in recorded] == ["el", "lv", "pl"]
    outputs = ["--decks", "out/decks", "--site", "out/site", "--scorm", "out/scorm"]
    for command in (["check"], ["build", *outputs]):
        out = CliRunner().invoke(main, [*command, "--lessons", "lessons"])
        assert out.exit_code == 1, out.output
        problems = [line for line in out.output.splitlines() if "course ID" in line]
        assert len(problems) == 1, out.output
        assert problems[0].startswith("lessons/course.yml:2: the course ID is 'customer-services'")
        manifests = ", ".join(f"lessons/{lang}/manifest.jsonl" for lang in ("el", "lv", "pl"))
        assert (
            f"the el, lv and pl decks were released as 'customer-service' ({manifests})"
            in (problems[0])
        )
        assert "set it back to `id: customer-service`" in problems[0]
        assert "1 error; nothing was written." in out.output
        assert "Traceback" not in out.output
    assert not list((bundled.parent / "out").glob("*"))  # (the folder is locked: made)
    assert {p: p.read_bytes() for p in recorded} == recorded


def _id_change(lang: str, recorded: str = "demo") -> updates.IdChange:
    return updates.IdChange(lang, recorded, Path(f"lessons/{lang}/manifest.jsonl"), "new", 3)


def test_one_course_id_error_groups_the_languages_by_the_id_they_record() -> None:
    """Languages released under different IDs are named under each; a long list is cut short."""
    problem = updates.course_changed([_id_change("el"), _id_change("lv", "old"), _id_change("pl")])
    assert (str(problem.loc.path), problem.loc.line) == ("lessons/course.yml", 3)
    assert (
        "the el and pl decks were released as 'demo' (lessons/el/manifest.jsonl, "
        "lessons/pl/manifest.jsonl); the lv decks were released as 'old' "
        "(lessons/lv/manifest.jsonl)"
    ) in problem.message
    assert "set it back to the ID its decks were released as" in problem.message
    langs = [f"l{n:02}" for n in range(updates.TERMINAL_ITEMS + 2)]
    many = updates.course_changed([_id_change(lang) for lang in langs])
    assert "lessons/l07/manifest.jsonl and 2 more)" in many.message
    assert "l08/" not in many.message
    assert "set it back to `id: demo`" in many.message


def test_course_id_is_recorded_by_the_next_build_of_an_older_manifest(tmp_path: Path) -> None:
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    recorded = course.root / "pl" / manifest.MANIFEST_FILE
    written = recorded.read_bytes()
    older = written.replace(b', "course": "demo"', b"")
    assert older != written
    recorded.write_bytes(older)
    _, result = course.build(tmp_path / "v2")
    assert result.updates[0].release == 0  # nothing changes for learners...
    assert recorded.read_bytes() == written  # ...and the ID is recorded
    course.build(tmp_path / "v3")
    assert recorded.read_bytes() == written
    course.course_id = "demo2"
    with pytest.raises(CourseError, match="the course ID is 'demo2'"):
        course.build(tmp_path / "v4")


def _rename_language(root: Path, old: str, new: str) -> Path:
    """The author's rename of a language folder, with its manifest and each lesson's `lang`."""
    folder = (root / old).rename(root / new)
    for lesson in folder.glob("*.md"):
        text = lesson.read_text("utf-8")
        lesson.write_text(text.replace(f"\nlang: {old}\n", f"\nlang: {new}\n"), "utf-8")
    return folder


def test_renamed_language_folder_is_an_error_naming_it(tmp_path: Path) -> None:
    """QA3 B1: `lessons/pl` renamed `lessons/pl-PL` (manifest and `lang:` with it) gave every
    note a new GUID, a `+` note type and a second copy of every card, and the build said
    "2 cards changed"."""
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    assert '"lang": "pl"' in (course.root / "pl" / manifest.MANIFEST_FILE).read_text("utf-8")
    folder = _rename_language(course.root, "pl", "pl-PL")
    recorded = folder / manifest.MANIFEST_FILE
    written = recorded.read_bytes()
    with pytest.raises(CourseError) as caught:
        build(course.root, tmp_path / "v2")
    (problem,) = caught.value.problems
    assert (problem.loc.path, problem.loc.line) == (folder, 0)
    for phrase in (
        f"the language folder is 'pl-PL', but its decks were released as 'pl' ({recorded})",
        "second copy of every card",
        f"rename the folder back to {course.root / 'pl'}",
        f"move {recorded} out",
    ):
        assert phrase in problem.message
    assert not (tmp_path / "v2").exists()
    assert recorded.read_bytes() == written
    outputs = ["--decks", str(tmp_path / "v2"), "--no-site", "--no-scorm"]
    for command in (["check"], ["build", *outputs]):
        out = CliRunner().invoke(main, [*command, "--lessons", str(course.root)])
        assert out.exit_code == 1, out.output
        assert f"{folder}: the language folder is 'pl-PL'" in out.output
        assert "Traceback" not in out.output
    assert not (tmp_path / "v2").exists()
    assert recorded.read_bytes() == written
    _rename_language(course.root, "pl-PL", "pl")  # renamed back: the course builds as before
    _, result = course.build(tmp_path / "v3")
    assert result.updates[0].release == 0


def test_language_is_recorded_by_the_next_build_of_an_older_manifest(tmp_path: Path) -> None:
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    recorded = course.root / "pl" / manifest.MANIFEST_FILE
    written = recorded.read_bytes()
    older = written.replace(b', "lang": "pl"', b"")
    assert older != written
    recorded.write_bytes(older)
    _, result = course.build(tmp_path / "v2")
    assert result.updates[0].release == 0  # nothing changes for learners...
    assert recorded.read_bytes() == written  # ...and the language is recorded
    _rename_language(course.root, "pl", "pl-PL")
    with pytest.raises(CourseError, match="the language folder is 'pl-PL'"):
        build(course.root, tmp_path / "v3")


def test_rename_decks_is_deliberate_and_warned(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.title = "Nowy kurs"
    deck, result = course.build(tmp_path / "v2", rename_decks=True)
    learner.take(deck)
    renamed = [i.card for i in result.updates[0].decks_renamed]
    assert renamed == ["Obsługa klienta -> Nowy kurs"]
    assert learner.deck_of(guid("a1", "demo", "pl")) == {"Obsługa klienta::01 Podstawy"}
    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert newcomer.deck_of(guid("a1", "demo", "pl")) == {"Nowy kurs::01 Podstawy"}
    assert read_manifest(course.root, "pl").decks[""].name == "Nowy kurs"


def test_deleted_card_retires_for_learners_and_never_reaches_newcomers(
    tmp_path: Path, learners: Any
) -> None:
    course, learner = start(tmp_path, learners)
    course.lessons["alpha"] = ("Podstawy", 1, ["a1"])  # a2 (reversed) and a3 (cloze) deleted
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)
    assert sorted(i.card for i in result.updates[0].retired) == ["a2", "a3"]
    search = "tag:demo::retired"
    retired = {learner.col.get_note(n)["CardID"] for n in learner.col.find_notes(search)}
    assert retired == {"a2", "a3"}
    for card_id, ords in (("a2", (0, 1)), ("a3", (0, 1))):
        for ord_ in ords:
            text = card_text(learner, card_id, ord_)
            assert "Ta fiszka została wycofana" in text
            assert f"<code>{search}</code>" in text
            assert "Spokój" not in text
            assert "szybkiej" not in text
            assert "front of this card is blank" not in text
            assert "No cloze" not in text

    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert_healthy(newcomer)
    col = newcomer.col
    assert col.card_count() == 3  # a1, b1, b2: the live cards only
    assert not col.find_cards(search), "nothing retired to study or see in a deck"
    assert set(col.find_notes(search)), "the notes are there, without cards"
    # Tools > Check Database gives a card back to each note without one: the search finds them.
    col.fix_integrity()
    assert {col.get_card(c).nid for c in col.find_cards(search)} == set(col.find_notes(search))

    # The next release keeps shipping them, unchanged, for learners who skipped a version.
    deck3, result3 = course.build(tmp_path / "v3")
    assert result3.updates[0].release == 0
    assert deck3.read_bytes() == deck.read_bytes()


def test_deleted_lesson_leaves_no_empty_deck(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    del course.lessons["beta"]
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner)  # the old deck still holds the learner's (retired) cards
    assert sorted(i.card for i in result.updates[0].retired) == ["b1", "b2"]
    assert learner.deck_of(guid("b1", "demo", "pl")) == {"Obsługa klienta::02 Pomiar"}
    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert_healthy(newcomer)
    decks = {d.name for d in newcomer.col.decks.all_names_and_ids()} - {"Default"}
    assert decks == {"Obsługa klienta", "Obsługa klienta::01 Podstawy"}


def test_retired_card_comes_back(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.lessons["beta"] = ("Pomiar", 2, ["b1"])
    deck, _ = course.build(tmp_path / "v2")
    learner.take(deck)
    newcomer = learners("newcomer")
    newcomer.take(deck)
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2"])
    deck, result = course.build(tmp_path / "v3")
    assert [i.card for i in result.updates[0].restored] == ["b2"]
    for person in (learner, newcomer):
        person.take(deck)
        assert_healthy(person)
        assert "Gotowość do polecenia" in card_text(person, "b2", side="answer")
        assert not person.col.find_notes("tag:demo::retired")


def test_moved_card_keeps_its_note_and_is_named(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.lessons["alpha"] = ("Podstawy", 1, ["a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2", "a1"])
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    assert_healthy(learner, moved=["a1"])
    (moved,) = result.updates[0].moved
    assert moved.card == "a1"
    (kept,) = result.updates[0].not_in_place
    assert "keep it in deck 'Obsługa klienta::01 Podstawy'" in kept.note
    assert "a1" in result.updates[0].text()
    assert learner.deck_of(guid("a1", "demo", "pl")) == {"Obsługa klienta::01 Podstawy"}
    assert "Pomiar" in card_text(learner, "a1"), "the header names the new lesson"
    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert newcomer.deck_of(guid("a1", "demo", "pl")) == {"Obsługa klienta::02 Pomiar"}


def test_card_moved_back_names_every_deck_learners_have_it_in(
    tmp_path: Path, learners: Any
) -> None:
    """Anki never moves a card: each learner keeps it in the deck of the lesson it was in when
    they first got it, so moving it back names both decks (QA3 B5)."""
    course, first = start(tmp_path, learners)  # release 1: a1 in alpha
    alpha, beta = "'Obsługa klienta::01 Podstawy'", "'Obsługa klienta::02 Pomiar'"
    course.lessons["alpha"] = ("Podstawy", 1, ["a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2", "a1"])
    deck, result = course.build(tmp_path / "v2")
    (kept,) = result.updates[0].not_in_place
    assert kept.note == f"moved: learners who have it keep it in deck {alpha}"
    first.take(deck)
    second = learners("second")
    second.take(deck)
    second.review()
    course.lessons["alpha"] = ("Podstawy", 1, ["a1", "a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2"])
    deck, result = course.build(tmp_path / "v3")
    (kept,) = result.updates[0].not_in_place
    assert kept.note == (
        f"moved: learners who have it keep it in the deck they first got it in: {alpha} or {beta}"
    )
    assert read_manifest(course.root, "pl").cards["a1"].earlier == ("beta",)
    for learner, where in ((first, alpha), (second, beta)):
        learner.take(deck)
        assert_healthy(learner, moved=["a1"])
        assert learner.deck_of(guid("a1", "demo", "pl")) == {where.strip("'")}


def test_a_moved_card_that_gets_a_new_card_later_names_both_decks(
    tmp_path: Path, learners: Any
) -> None:
    """QA3's rough edge 10: a card moved to another lesson, then made reversed (or given a new
    cloze) in a later release: Anki adds the new card to the deck the package names, the
    current lesson's, and leaves the card a learner has where it is. One package cannot put
    both cards in one deck for learners and newcomers alike, so the report names both decks."""
    course, learner = start(tmp_path, learners)
    alpha, beta = "Obsługa klienta::01 Podstawy", "Obsługa klienta::02 Pomiar"
    course.lessons["alpha"] = ("Podstawy", 1, ["a2"])
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2", "a1", "a3"])
    deck, _ = course.build(tmp_path / "v2")
    learner.take(deck)
    learner.review()
    later = learners("later")  # (first gets them in the lesson they moved to)
    later.take(deck)
    course.cards["a1"] = CARDS["a1"].replace("::", ":::")
    course.cards["a3"] = CARDS["a3"].replace("obsługi.", "{{c3::obsługi}}.")
    course.cards["b1"] = CARDS["b1"].replace("::", ":::")  # (never moved: nothing to say)
    deck, result = course.build(tmp_path / "v3")
    split = {item.card: item.note for item in result.updates[0].not_in_place}
    assert set(split) == {"a1", "a3"}
    kept = (
        "but it moved: learners who have it keep it in the deck they first got it in: "
        f"'{alpha}' or '{beta}'; where that is not '{beta}', its cards are in two decks"
    )
    assert split["a1"] == (
        f"made reversed: its new reverse card goes to deck '{beta}' (where newcomers get all its "
        f"cards), {kept} (Browse > Cards > Change Deck moves them)"
    )
    assert split["a3"].startswith(f"cloze 3 added: its new card goes to deck '{beta}' (")
    assert kept in split["a3"]
    assert f"    a1 ({course.root / 'pl' / 'beta.md'}:" in result.updates[0].text()
    learner.take(deck)
    assert_healthy(learner, moved=["a1", "a3"])
    later.take(deck)
    assert_healthy(later)
    for card in ("a1", "a3"):
        assert learner.deck_of(guid(card, "demo", "pl")) == {alpha, beta}, "as the report says"
        assert later.deck_of(guid(card, "demo", "pl")) == {beta}
    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert_healthy(newcomer)
    for card in ("a1", "a3"):
        assert newcomer.deck_of(guid(card, "demo", "pl")) == {beta}


def test_a_move_of_a_card_changed_before_does_not_claim_its_only_deck(tmp_path: Path) -> None:
    """A manifest without `earlier` cannot tell whether a card that changed since it was first
    published also moved: the message says so instead of naming one deck as the only one."""
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    course.cards["a1"] = "Co to jest empatia?::Zrozumienie klienta."
    course.build(tmp_path / "v2")
    course.lessons["alpha"] = ("Podstawy", 1, ["a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2", "a1"])
    _, result = course.build(tmp_path / "v3")
    (kept,) = result.updates[0].not_in_place
    assert kept.note == (
        "moved: learners who have it keep it in the deck they first got it in: "
        "'Obsługa klienta::01 Podstawy' or an earlier lesson's deck if it moved before (older "
        "manifests do not record moves)"
    )
    assert read_manifest(course.root, "pl").cards["a1"].earlier == ("", "alpha")
    course.lessons["alpha"] = ("Podstawy", 1, ["a1", "a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2"])
    _, result = course.build(tmp_path / "v4")
    (kept,) = result.updates[0].not_in_place
    assert "'Obsługa klienta::01 Podstawy', 'Obsługa klienta::02 Pomiar' or an earlier" in kept.note
    assert read_manifest(course.root, "pl").cards["a1"].earlier == ("", "beta")


def test_new_deck_of_moved_cards_only_is_named(tmp_path: Path, learners: Any) -> None:
    course, learner = start(tmp_path, learners)
    course.lessons["alpha"] = ("Podstawy", 1, ["a1"])  # a lesson split: a2, a3 to a new one
    course.lessons["gamma"] = ("Wskaźniki", 2, ["a2", "a3"])
    course.lessons["beta"] = ("Pomiar", 3, ["b1", "b2"])
    deck, result = course.build(tmp_path / "v2")
    learner.take(deck)
    new_deck = "Obsługa klienta::01.5 Wskaźniki"
    assert learner.deck_of(guid("a2", "demo", "pl")) == {"Obsługa klienta::01 Podstawy"}
    assert new_deck in {d.name for d in learner.col.decks.all_names_and_ids()}
    assert not learner.col.find_cards(f'deck:"{new_deck}"'), "Anki made it, empty"
    report = result.updates[0]
    (empty,) = [i for i in report.not_in_place if i.card == new_deck]
    assert "get this deck empty" in empty.note
    assert f"{new_deck}: a new deck of moved cards only" in report.text()
    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert_healthy(newcomer)
    assert newcomer.deck_of(guid("a2", "demo", "pl")) == {new_deck}


def test_a_published_deck_or_one_with_a_new_card_is_not_named_empty(
    tmp_path: Path, learners: Any
) -> None:
    course, learner = start(tmp_path, learners)
    course.cards["n1"] = "Co to jest CES?::Wysiłek klienta."
    course.lessons["alpha"] = ("Podstawy", 1, ["a1"])
    course.lessons["gamma"] = ("Wskaźniki", 2, ["a2", "a3", "n1"])
    course.lessons["beta"] = ("Pomiar", 3, ["b1", "b2"])
    deck, result = course.build(tmp_path / "v2")  # a new card among the moved ones
    learner.take(deck)
    assert_healthy(learner, moved=["a2", "a3"])
    assert not [i for i in result.updates[0].not_in_place if "::" in i.card]
    course.lessons["alpha"] = ("Podstawy", 1, ["b1", "b2"])  # published decks swap cards
    course.lessons["beta"] = ("Pomiar", 3, ["a1"])
    deck, result = course.build(tmp_path / "v3")
    learner.take(deck)
    assert_healthy(learner, moved=["a1", "a2", "a3", "b1", "b2"])  # no empty deck
    assert len(result.updates[0].moved) == 3
    assert not [i for i in result.updates[0].not_in_place if "::" in i.card]


def test_two_courses_in_one_collection_keep_their_own_style(
    tmp_path: Path, learners: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Demo(tmp_path / "one")
    second = Demo(tmp_path / "two", course_id="other", title="Inny kurs")
    learner = learners("learner")
    learner.take(first.build(tmp_path / "d1")[0])
    learner.take(second.build(tmp_path / "d2")[0])
    learner.review()
    template = anki._template

    def restyled(name: str) -> str:
        extra = "\n.question { color: #c00; }\n" if name == "card.css" else ""
        return template(name) + extra

    monkeypatch.setattr(anki, "_template", restyled)
    learner.take(second.build(tmp_path / "d3")[0])  # the second course restyles
    monkeypatch.undo()
    learner.take(first.build(tmp_path / "d4")[0])  # the first course, rebuilt, changes nothing
    assert_healthy(learner)
    styles = {m["name"]: m["css"] for m in learner.col.models.all()}
    assert "#c00" in styles["Inny kurs · Q/A"]
    assert "#c00" not in styles["Obsługa klienta · Q/A"]
    assert learner.col.note_count() == 2 * len(CARDS)


def bilingual(tmp_path: Path, title: str | None) -> tuple[Demo, Demo]:
    """The demo course in Polish and Latvian, both titled `title` (None: no language course
    files, so both take the course's title), with a lesson of one number and title in both."""
    root = tmp_path / "lessons"
    pl, lv = Demo(root, title=title), Demo(root, title=title, lang="lv")
    lv.cards = {**CARDS, "a1": "Kas ir empātija?::Klienta jūtu izpratne."}
    lv.lessons = {"alpha": ("Podstawy", 1, ["a1", "a2", "a3"])}
    pl.write()
    lv.write()
    return pl, lv


def take_all(learner: Learner, result: pipeline.BuildResult) -> None:
    for lang in result.languages:
        assert lang.deck is not None
        learner.take(lang.deck)


def top_deck_warnings(result: pipeline.BuildResult) -> list[str]:
    return sorted(str(w) for w in result.update_warnings if "top deck" in w.message)


@pytest.mark.parametrize("title", ["Acme Onboarding", None], ids=["brand name", "no course file"])
def test_languages_with_one_title_keep_their_own_note_types_and_decks(
    tmp_path: Path, learners: Any, title: str | None
) -> None:
    pl, lv = bilingual(tmp_path, title)
    name = title or "Demo"
    learner = learners("learner")
    take_all(learner, build(pl.root, tmp_path / "v1"))
    learner.review()
    assert_healthy(learner)
    types = {m["name"] for m in learner.col.models.all()}
    for lang in ("pl", "lv"):
        assert {f"{name} · Q/A ({lang})", f"{name} · Cloze ({lang})"} <= types
        assert learner.deck_of(guid("a1", "demo", lang)) == {f"{name} ({lang})::01 Podstawy"}
        assert read_manifest(pl.root, lang).decks[""].name == f"{name} ({lang})"

    lv.cards["a1"] = "Kas ir empātija?::Klienta jūtu un vajadzību izpratne."
    pl.title = lv.title = "Acme 2027"  # the note types take the new title, in place
    pl.write()
    take_all(learner, build(lv.write(), tmp_path / "v2"))
    assert_healthy(learner)
    types = {m["name"] for m in learner.col.models.all()}
    assert {"Acme 2027 · Q/A (pl)", "Acme 2027 · Q/A (lv)"} <= types
    assert "jūtu un vajadzību" in learner.notes()[guid("a1", "demo", "lv")]["Back"]


def test_language_added_with_a_published_title_gets_its_own_top_deck(
    tmp_path: Path, learners: Any
) -> None:
    pl = Demo(tmp_path / "lessons", title="Acme")
    learner = learners("learner")
    learner.take(pl.build(tmp_path / "v1")[0])
    learner.review()
    # Later: pl is retitled (its top deck keeps its published name) and lv arrives as "Acme".
    pl.title = "Acme 2027"
    pl.write()
    lv = Demo(pl.root, title="Acme", lang="lv")
    result = build(lv.write(), tmp_path / "v2")
    take_all(learner, result)
    assert_healthy(learner)
    assert learner.deck_of(guid("a1", "demo", "pl")) == {"Acme::01 Podstawy"}
    assert learner.deck_of(guid("a1", "demo", "lv")) == {"Acme (lv)::01 Podstawy"}
    types = {m["name"] for m in learner.col.models.all()}
    # lv's note types carry the language: pl's, as first published, may still be "Acme · Q/A"
    # in a learner's collection (as here, when lv is imported first).
    assert {"Acme 2027 · Q/A", "Acme · Q/A (lv)"} <= types
    assert not top_deck_warnings(result)


def test_title_shared_later_renames_both_note_types(tmp_path: Path, learners: Any) -> None:
    pl, lv = bilingual(tmp_path, "Acme")
    lv.title = "Acme LV"
    learner = learners("learner")
    take_all(learner, build(lv.write(), tmp_path / "v1"))
    learner.review()
    build(pl.root, tmp_path / "v1b")  # no change: each language's plan is kept
    lv.title = "Acme"  # only lv's course file changes: pl's plan is decided again
    result = build(lv.write(), tmp_path / "v2")
    reports = {report.lang: report for report in result.updates}
    assert [i.card for i in reports["pl"].note_types] == ["Acme · Cloze (pl)", "Acme · Q/A (pl)"]
    take_all(learner, result)
    assert_healthy(learner)
    types = {m["name"] for m in learner.col.models.all()}
    assert {"Acme · Q/A (pl)", "Acme · Q/A (lv)"} <= types


def test_top_deck_published_by_two_languages_is_kept_and_warned(
    tmp_path: Path, learners: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pl, _ = bilingual(tmp_path, "Acme")
    with monkeypatch.context() as older:  # decks published by a version without the language
        older.setattr(updates, "_top_name", lambda title, lang, shared: title)
        build(pl.root, tmp_path / "v1")
    assert read_manifest(pl.root, "lv").decks[""].name == "Acme"
    result = build(pl.root, tmp_path / "v2")
    assert {r.lang: r.release for r in result.updates} == {"lv": 0, "pl": 0}
    shared = top_deck_warnings(result)
    assert len(shared) == 2
    (lv_warning,) = [w for w in shared if "lv/manifest.jsonl" in w]
    assert "the lv top deck 'Acme' is also the top deck of pl" in lv_warning
    assert "--rename-decks --lang lv" in lv_warning
    assert "'Acme (lv)'" in lv_warning
    assert read_manifest(pl.root, "lv").decks[""].name == "Acme", "a published name stays"
    # As the warning says: lv's decks renamed; newcomers then get decks of their own.
    library = load_library(pl.root, ["lv"])
    options = pipeline.BuildOptions(rename_decks=True)
    renamed = pipeline.build(library, tmp_path / "v3", None, options)
    assert not top_deck_warnings(renamed)
    newcomer = learners("newcomer")
    newcomer.take(tmp_path / "v2" / "demo-pl.apkg")
    newcomer.take(tmp_path / "v3" / "demo-lv.apkg")
    assert_healthy(newcomer)
    assert newcomer.deck_of(guid("a1", "demo", "lv")) == {"Acme (lv)::01 Podstawy"}
    assert newcomer.deck_of(guid("a1", "demo", "pl")) == {"Acme::01 Podstawy"}
    assert not top_deck_warnings(build(pl.root, tmp_path / "v4"))


# -- lesson deck names as Anki lists them ---------------------------------------------------------


def anki_list(col: Any, leaves: Sequence[str]) -> list[str]:
    """`leaves` as Anki lists them under a top deck of their own in `col` (removed after)."""
    top = f"order-{len(col.decks.all_names_and_ids())}"
    for leaf in leaves:
        col.decks.id(f"{top}::{leaf}")
    node = next(c for c in col.decks.deck_tree().children if c.name == top)
    listed = [child.name for child in node.children]
    col.decks.remove([col.decks.id_for_name(top)])
    return listed


def numbered(count: int, start: int = 1) -> dict[str, tuple[str, int, list[str]]]:
    return {f"l{i:03d}": (f"Lekcja {i}", i, [f"c{i}"]) for i in range(start, start + count)}


def lesson_decks_listed(learner: Learner) -> list[str]:
    (top,) = [c for c in learner.col.decks.deck_tree().children if c.name != "Default"]
    return [child.name.split(" ", 1)[1] for child in top.children]


def test_lesson_decks_of_a_long_course_are_listed_in_lesson_order(
    tmp_path: Path, learners: Any
) -> None:
    cards = {f"c{i}": f"Pytanie {i}?::Odpowiedź {i}." for i in range(1, 103)}
    fresh = Demo(tmp_path / "fresh", lessons=numbered(101), cards=cards)
    newcomer = learners("newcomer")
    newcomer.take(fresh.build(tmp_path / "f1")[0])
    assert lesson_decks_listed(newcomer) == [f"Lekcja {i}" for i in range(1, 102)]
    assert read_manifest(fresh.root, "pl").decks["l101"].name == "101 Lekcja 101"

    grown = Demo(tmp_path / "grown", lessons=numbered(99), cards=cards)
    learner = learners("learner")
    learner.take(grown.build(tmp_path / "g1")[0])
    grown.lessons.update(numbered(2, start=100))  # appended after a published "99 …"
    deck, result = grown.build(tmp_path / "g2")
    learner.take(deck)
    assert_healthy(learner)
    assert lesson_decks_listed(learner) == [f"Lekcja {i}" for i in range(1, 102)]
    added = [i.card for i in result.updates[0].decks_added]
    assert added == ["Obsługa klienta::99.5 Lekcja 100", "Obsługa klienta::99.7 Lekcja 101"]


@st.composite
def published_courses(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, str], list[str]]:
    """A course's lessons (ID, title), the names published for some of them (numbered as this
    version or an older one did: padded to 2 or 3 digits, `100` among `01`..`99`, in order or
    after a reorder) and every published lesson deck name (a deleted lesson's too)."""
    count = draw(st.integers(1, 14))
    chosen = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    numbers = st.decimals(1, 160, places=draw(st.sampled_from([0, 1, 2])))
    extra = draw(st.integers(0, 3))
    labels = draw(
        st.lists(numbers, min_size=sum(chosen) + extra, max_size=sum(chosen) + extra, unique=True)
    )
    labels = [label.normalize() for label in labels]
    assume(len(set(labels)) == len(labels))
    labels = sorted(labels) if draw(st.booleans()) else labels  # in order, or reordered
    digits = draw(st.sampled_from([2, 3]))
    titles = st.sampled_from(["Ala", "ala", "Zeta", "Ćma", "10 x", "b"])
    lessons = [(f"l{i}", draw(titles)) for i in range(count)]
    names = [f"{updates._format(label, digits)} {draw(titles)}" for label in labels]
    ids = [lesson for (lesson, _), was in zip(lessons, chosen, strict=True) if was]
    return lessons, dict(zip(ids, names, strict=False)), names


@pytest.fixture(scope="module")
def order_collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    col = Collection(str(tmp_path_factory.mktemp("order") / "collection.anki2"))
    yield col
    col.close()


@settings(max_examples=100, deadline=None, database=None)
@given(leaves=st.lists(st.text("aAzZäÄ01. ", min_size=1, max_size=5), min_size=2, max_size=8))
def test_anki_order_is_how_anki_lists_decks(order_collection: Any, leaves: list[str]) -> None:
    leaves = [leaf.strip() for leaf in leaves if leaf.strip()]
    assume(len({leaf.casefold() for leaf in leaves}) == len(leaves) > 1)
    assert anki_list(order_collection, leaves) == sorted(leaves, key=updates.anki_order)


@settings(max_examples=80, deadline=None, database=None)
@given(course=published_courses())
def test_new_lesson_decks_sort_in_place_as_anki_lists_them(
    order_collection: Any, course: tuple[list[tuple[str, str]], dict[str, str], list[str]]
) -> None:
    lessons, published, taken = course
    chosen = updates.lesson_names(lessons, published, taken)
    names = [chosen[lesson] for lesson, _ in lessons]
    listed = anki_list(order_collection, [*taken, *(n for n in names if n not in taken)])
    assert listed == sorted(listed, key=updates.anki_order), "anki_order is Anki's"
    at = {name: listed.index(name) for name in listed}
    for i, (lesson, _) in enumerate(lessons):
        if lesson in published:
            continue
        # Right after the deck of the lesson before it: no published deck between them...
        low = at[names[i - 1]] if i else -1
        assert low < at[chosen[lesson]]
        assert not set(listed[low + 1 : at[chosen[lesson]]]) & set(taken)
    in_order = [published[lesson] for lesson, _ in lessons if lesson in published]
    if in_order == sorted(in_order, key=updates.anki_order):  # ...so, when it can, in order
        assert [at[name] for name in names] == sorted(at[name] for name in names)


# -- drafts, releases, the report -----------------------------------------------------------------


def test_draft_records_nothing_and_draft_only_cards_vanish(tmp_path: Path, learners: Any) -> None:
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    recorded = (course.root / "pl" / manifest.MANIFEST_FILE).read_bytes()
    course.cards["d1"] = "Szkic?::Tylko w wersji roboczej."
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2", "d1"])
    _, draft = course.build(tmp_path / "draft", draft=True)
    assert (course.root / "pl" / manifest.MANIFEST_FILE).read_bytes() == recorded
    assert draft.updates[0].draft
    assert "draft (not recorded) of release 2" in draft.updates[0].text()
    course.lessons["beta"] = ("Pomiar", 2, ["b1", "b2"])
    deck, release = course.build(tmp_path / "v2")
    assert release.updates[0].release == 0, "nothing changed since release 1"
    assert not release.updates[0].retired
    newcomer = learners("newcomer")
    newcomer.take(deck)
    assert guid("d1", "demo", "pl") not in newcomer.notes()
    assert read_manifest(course.root, "pl").last_release == manifest.Release(
        1, read_manifest(course.root, "pl").releases["1"].time
    )


def test_releases_are_recorded_and_the_report_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    course.cards["b2"] = "Co to jest NPS?::Gotowość klienta do polecenia firmy."
    course.lessons["alpha"] = ("Podstawy", 1, ["a1", "a2"])
    report = tmp_path / "notes" / "release.md"
    (tmp_path / "notes").mkdir()
    course.build(tmp_path / "v2", report=report)
    releases = read_manifest(course.root, "pl").releases
    assert {r.release: r.time for r in releases.values()} == {1: 1_700_000_000, 2: 1_800_000_000}
    text = report.read_text("utf-8")
    assert text.startswith("## pl: release 2: 1 card changed, 1 card retired\n")
    assert "- **Cards changed** (1):\n  - `b2` (" in text
    assert "- **Cards retired** (1):\n  - `a3` (lesson alpha)" in text


def test_the_report_says_what_is_true(tmp_path: Path) -> None:
    """QA3 rough 11-13: a build without decks records nothing and says so (as a draft does); a
    lesson without cards gets no deck in Anki until its first card; counts of one are singular;
    a retired card given another type stays retired."""
    course = Demo(tmp_path / "lessons", lessons={"alpha": ("Podstawy", 1, ["a1"])})
    course.build(tmp_path / "v1")
    written = (course.root / "pl" / manifest.MANIFEST_FILE).read_bytes()
    course.cards["a1"] = "Co to jest empatia?::Zrozumienie klienta."
    course.write()
    site = CliRunner().invoke(
        main, ["build", "--lessons", str(course.root), "--no-decks", "--no-scorm",
               "--site", str(tmp_path / "site")],
    )  # fmt: skip
    assert site.exit_code == 0, site.output
    assert "pl: draft (not recorded) of release 2: 1 card changed" in site.output
    assert (course.root / "pl" / manifest.MANIFEST_FILE).read_bytes() == written
    course.lessons["beta"] = ("Pomiar", 2, [])
    course.write()
    released = CliRunner().invoke(
        main, ["build", "--lessons", str(course.root), "--decks", str(tmp_path / "v2"),
               "--no-site", "--no-scorm"],
    )  # fmt: skip
    assert released.exit_code == 0, released.output
    assert "pl: release 2: 1 card changed, 1 deck added\n" in released.output
    assert (
        "decks added: Obsługa klienta::02 Pomiar (no cards yet: Anki creates it with the "
        "lesson's first card)"
    ) in released.output
    assert "pl: 2 lessons, 1 note, 1 card -> " in released.output
    course.lessons["alpha"] = ("Podstawy", 1, ["a2"])
    course.build(tmp_path / "v3")  # a1 retires
    course.cards["a1"] = "Klient oczekuje {{c1::szybkiej}} obsługi."
    course.lessons["alpha"] = ("Podstawy", 1, ["a1", "a2"])
    course.write()
    with pytest.raises(CourseError) as caught:
        build(course.root, tmp_path / "v4")
    (problem,) = caught.value.problems
    assert problem.message.endswith("the build gives it a new one) and the old card stays retired")


def test_mod_times_change_only_for_edited_notes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build_decks(sample, tmp_path / "v1")
    first = read_manifest(sample, "el").cards
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    path = sample / "el" / "01-basics.md"
    text = path.read_text("utf-8")
    text = text.replace("Η *καλή* επικοινωνία.", "Η *σαφής* επικοινωνία.")
    path.write_text(text, "utf-8")
    build_decks(sample, tmp_path / "v2")
    second = read_manifest(sample, "el").cards
    assert second["el-key"].mod == 1_800_000_000
    assert second["el-key"].changed == 2
    for unchanged in set(first) - {"el-key"}:
        assert second[unchanged] == first[unchanged]


# -- the manifest ---------------------------------------------------------------------------------


def test_missing_manifest_warns_with_the_way_back(tmp_path: Path) -> None:
    course = Demo(tmp_path / "lessons")
    _, result = course.build(tmp_path / "v1")
    (warning,) = result.update_warnings
    assert str(warning).startswith(f"{course.root / 'pl' / manifest.MANIFEST_FILE}: no manifest")
    assert "git checkout" in warning.message
    _, again = course.build(tmp_path / "v2")
    assert not again.update_warnings


def test_legacy_mod_times_are_migrated_keeping_their_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = Demo(tmp_path / "lessons")
    course.write()
    legacy = {
        "note_types": {"Course · Basic": {"hash": "x", "mod": 1_600_000_000}},
        "notes": {"a1": {"hash": "old", "mod": 1_650_000_000}},
    }
    (course.root / "pl" / manifest.LEGACY_FILE).write_text(json.dumps(legacy), "utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1500000000")  # older than the recorded times
    course.build(tmp_path / "v1")
    assert not (course.root / "pl" / manifest.LEGACY_FILE).exists()
    cards = read_manifest(course.root, "pl").cards
    assert cards["a1"].mod == 1_650_000_001, "later than its last time, whatever the clock says"
    assert (cards["a1"].lesson, cards["a1"].added) == ("alpha", 1)


def test_manifest_is_sorted_one_line_per_entry(tmp_path: Path) -> None:
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    lines = (course.root / "pl" / manifest.MANIFEST_FILE).read_text("utf-8").splitlines()
    assert lines[0].startswith('{"release": 1, "time": ')
    cards = [json.loads(line)["card"] for line in lines if line.startswith('{"card"')]
    assert cards == sorted(CARDS)
    assert len(lines) == 1 + 2 + 3 + len(CARDS)
    entry = json.loads(next(line for line in lines if '"a3"' in line))
    assert entry["clozes"] == [1, 2]
    assert set(entry) == {
        "card",
        "kind",
        "lesson",
        "hash",
        "mod",
        "added",
        "changed",
        "clozes",
        "cloze_hashes",
    }
    assert len(entry["cloze_hashes"]) == 2


def test_source_hash_of_a_translation_is_kept(tmp_path: Path) -> None:
    course = Demo(tmp_path / "lessons")
    course.build(tmp_path / "v1")
    path = course.root / "pl" / manifest.MANIFEST_FILE
    lines = path.read_text("utf-8").splitlines()
    lines = [
        line[:-1] + ', "source": "abc123"}' if line.startswith('{"card": "a1"') else line
        for line in lines
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    course.cards["a1"] = "Co to jest empatia?::Rozumienie uczuć klienta."
    course.build(tmp_path / "v2")
    entry = read_manifest(course.root, "pl").cards["a1"]
    assert (entry.source, entry.changed) == ("abc123", 2)


# -- reproducible builds --------------------------------------------------------------------------


def test_rebuild_without_edits_is_byte_identical(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {lang: path.read_bytes() for lang, path in build_decks(sample, tmp_path / "a").items()}
    times = {p: p.read_bytes() for p in sample.glob("*/" + manifest.MANIFEST_FILE)}
    assert len(times) == 3
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")  # a later build, same content
    second = {lang: path.read_bytes() for lang, path in build_decks(sample, tmp_path / "b").items()}
    assert first == second
    assert {p: p.read_bytes() for p in sample.glob("*/" + manifest.MANIFEST_FILE)} == times


def test_source_date_epoch_dates_new_content(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    decks = build_decks(sample, tmp_path / "decks")
    with zipfile.ZipFile(decks["pl"]) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}
    cards = read_manifest(sample, "pl").cards
    assert {entry.mod for entry in cards.values()} == {1_700_000_000}


def test_first_build_after_the_legacy_file_names_the_note_type_change(tmp_path: Path) -> None:
    course = Demo(tmp_path / "lessons")
    course.write()
    legacy = {"notes": {"a1": {"hash": "old", "mod": 1_650_000_000}}}
    (course.root / "pl" / manifest.LEGACY_FILE).write_text(json.dumps(legacy), "utf-8")
    _, result = course.build(tmp_path / "v1")
    (item,) = result.updates[0].not_in_place
    assert item.card == "Obsługa klienta · Q/A"
    assert item.note.startswith("a new note type for 1 published card(s)")
    _, again = course.build(tmp_path / "v2")
    assert not again.updates[0].not_in_place
