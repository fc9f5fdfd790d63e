"""Deck stage: Course -> one `.apkg` per language, with stable identities and honest mod times.

Identity is decided once: note types and decks have fixed IDs, a note's GUID comes from the course,
the language and the author's card ID, and a note's `mod` is the time its content last changed
(kept in `lessons/<lang>/anki-mod-times.json`), so that re-importing with Anki's default options
applies real edits, duplicates nothing and keeps every card's review history.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from . import markdown
from .cards import cloze_meta
from .model import (
    Card,
    CardKind,
    Course,
    CourseError,
    Lesson,
    MediaFile,
    Problem,
    Source,
    SourceLoc,
)

MOD_TIMES_FILE = "anki-mod-times.json"

# Chosen once, never to change: learners' collections know these note types by these IDs.
MODEL_IDS = MappingProxyType(
    {CardKind.BASIC: 1_731_500_001, CardKind.REVERSED: 1_731_500_002, CardKind.CLOZE: 1_731_500_003}
)
MODEL_NAMES = MappingProxyType(
    {
        CardKind.BASIC: "Course · Basic",
        CardKind.REVERSED: "Course · Basic and reversed",
        CardKind.CLOZE: "Course · Cloze",
    }
)
# Fields are forever once decks are out (adding one makes Anki import a copy of the note type).
CONTEXT_FIELDS = ("Lesson", "Section", "Source", "Lang")
FRONT_BACK_FIELDS = ("Front", "Back", *CONTEXT_FIELDS)
CLOZE_FIELDS = ("Text", "Extra", *CONTEXT_FIELDS)
SWAP = MappingProxyType({"{{Front}}": "{{Back}}", "{{Back}}": "{{Front}}"})


def _template(name: str) -> str:
    return files("course").joinpath("templates", "anki", name).read_text(encoding="utf-8")


def note_types() -> dict[CardKind, genanki.Model]:
    """The three note types, with templates and CSS shipped in the package."""
    css = _template("card.css")
    front, back = _template("front.html"), _template("back.html")

    def swapped(html: str) -> str:  # the reverse card asks for the front
        return re.sub(r"\{\{(Front|Back)\}\}", lambda m: SWAP[m.group(0)], html)

    def fields(names: Sequence[str]) -> list[dict[str, Any]]:
        return [{"name": n, "font": "Arial", "size": 20} for n in names]

    card1 = {"name": "Card 1", "qfmt": front, "afmt": back}
    return {
        CardKind.BASIC: genanki.Model(
            MODEL_IDS[CardKind.BASIC],
            MODEL_NAMES[CardKind.BASIC],
            fields=fields(FRONT_BACK_FIELDS),
            templates=[card1],
            css=css,
        ),
        CardKind.REVERSED: genanki.Model(
            MODEL_IDS[CardKind.REVERSED],
            MODEL_NAMES[CardKind.REVERSED],
            fields=fields(FRONT_BACK_FIELDS),
            templates=[
                card1,
                {"name": "Card 2", "qfmt": swapped(front), "afmt": swapped(back)},
            ],
            css=css,
        ),
        CardKind.CLOZE: genanki.Model(
            MODEL_IDS[CardKind.CLOZE],
            MODEL_NAMES[CardKind.CLOZE],
            fields=fields(CLOZE_FIELDS),
            templates=[
                {
                    "name": "Cloze",
                    "qfmt": _template("cloze-front.html"),
                    "afmt": _template("cloze-back.html"),
                }
            ],
            css=css,
            model_type=genanki.Model.CLOZE,
        ),
    }


def stable_id(*parts: str) -> int:
    """A deck ID fixed by what the deck is (course, language, lesson), below 2**53."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return (int.from_bytes(digest[:6], "big") | 1 << 47) & (2**53 - 1)


def note_guid(course_id: str, lang: str, card_id: str) -> str:
    return str(genanki.guid_for(course_id, lang, card_id))


# -- rendering the fields -------------------------------------------------------------------------


def _cloze_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    return f"{{{{c{cloze_meta(tokens[idx])['n']}::"


def _cloze_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    hint = cloze_meta(tokens[idx])["hint"]  # the plugin gives open and close one meta
    return f"::{escapeHtml(hint)}}}}}" if hint else "}}"


ANKI_RULES: Mapping[str, markdown.Rule] = MappingProxyType(
    {"cloze_open": _cloze_open, "cloze_close": _cloze_close}
)


def source_html(source: Source | None) -> str:
    if source is None:
        return ""
    title = f"<cite>{escapeHtml(source.title)}</cite>"
    if source.url:
        title = f'<a href="{escapeHtml(source.url)}">{title}</a>'
    extra = ", ".join(escapeHtml(x) for x in (source.author, source.publisher) if x)
    return f"{title}{' — ' + extra if extra else ''}"


@dataclass(frozen=True, slots=True)
class NoteData:
    """One note, ready to write: what Anki will see, and the hash that dates it."""

    card: Card
    kind: CardKind
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    guid: str
    deck_id: int

    @property
    def digest(self) -> str:
        blob = "\x1e".join((MODEL_NAMES[self.kind], "\x1f".join(self.fields), " ".join(self.tags)))
        return hashlib.sha256(blob.encode()).hexdigest()


def lesson_deck_name(course: Course, index: int, lesson: Lesson) -> str:
    return f"{course.title}::{index:02d} {lesson.title}"


def notes_for(course: Course) -> Iterator[NoteData]:
    out = markdown.renderer(ANKI_RULES)
    env = {"media_prefix": ""}
    for lesson in course.lessons:
        deck_id = stable_id(course.id, course.lang, lesson.id)
        source = source_html(lesson.source)
        for card in lesson.cards:
            if card.id is None:
                continue  # reported as a warning: a card without identity never reaches a learner
            context = (
                escapeHtml(lesson.title),
                escapeHtml(card.section.title),
                source,
                course.lang,
            )
            first = markdown.render(out, card.question, env).strip()
            second = markdown.render(out, card.answer, env).strip()
            tags = [lesson.id]
            if card.section.id:
                tags.append(f"{lesson.id}::{card.section.id}")
            tags += lesson.tags
            tags += card.tags
            yield NoteData(
                card=card,
                kind=card.kind,
                fields=(first, second, *context),
                tags=tuple(dict.fromkeys(tags)),
                guid=note_guid(course.id, course.lang, card.id),
                deck_id=deck_id,
            )


# -- mod times ------------------------------------------------------------------------------------


def build_time() -> int:
    """Time stamped on content that changed in this build: SOURCE_DATE_EPOCH when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else int(time.time())


@dataclass(slots=True)
class ModTimes:
    """When each note and note type last changed, kept beside the lessons.

    `{"note_types": {name: {hash, mod}}, "notes": {card id: {hash, mod}}}`
    """

    data: dict[str, dict[str, dict[str, Any]]]

    @classmethod
    def read(cls, path: Path) -> ModTimes:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", 0)
            raise CourseError(
                [
                    Problem(
                        SourceLoc(path, line),
                        f"unreadable ({exc}); restore it from version control",
                    )
                ]
            ) from None
        if not isinstance(data, dict):
            raise CourseError([Problem(SourceLoc(path, 1), "expected a JSON object")])
        return cls({"note_types": data.get("note_types", {}), "notes": data.get("notes", {})})

    def stamp(self, table: str, key: str, digest: str, now: int) -> int:
        """The entry's mod: unchanged content keeps its time; changed content gets a newer one."""
        entry = self.data[table].get(key)
        if entry and entry.get("hash") == digest:
            return int(entry["mod"])
        mod = max(now, int(entry["mod"]) + 1) if entry else now
        self.data[table][key] = {"hash": digest, "mod": mod}
        return mod

    def keep_only(self, table: str, keys: set[str]) -> None:
        self.data[table] = {k: v for k, v in self.data[table].items() if k in keys}

    def dumps(self) -> str:
        return json.dumps(self.data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# -- writing the package --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeckResult:
    path: Path
    notes: int
    cards: int


def deck_file_name(course: Course) -> str:
    return f"{course.id}-{course.lang}.apkg"


def write_deck(course: Course, out: Path, mod_times: ModTimes, now: int) -> DeckResult:
    """Write `out` (an .apkg) for one language; updates `mod_times` for what changed."""
    models = note_types()
    model_mods = {
        kind: mod_times.stamp(
            "note_types",
            model.name,
            hashlib.sha256(
                json.dumps([model.fields, model.templates, model.css], sort_keys=True).encode()
            ).hexdigest(),
            now,
        )
        for kind, model in models.items()
    }
    notes = list(notes_for(course))
    note_mods = [mod_times.stamp("notes", n.card.id or "", n.digest, now) for n in notes]
    mod_times.keep_only("notes", {n.card.id or "" for n in notes})
    stamp = max([*note_mods, *model_mods.values()], default=now)

    db_fd, db_name = tempfile.mkstemp(suffix=".anki2")
    os.close(db_fd)
    cards = 0
    try:
        conn = sqlite3.connect(db_name)
        cursor = conn.cursor()
        cursor.executescript(APKG_SCHEMA)
        cursor.executescript(APKG_COL)
        _write_decks_and_models(cursor, course, models, model_mods)
        ids = itertools.count(stamp * 1000)
        for note, mod in zip(notes, note_mods, strict=True):
            gnote = genanki.Note(
                model=models[note.kind],
                fields=list(note.fields),
                tags=list(note.tags),
                guid=note.guid,
            )
            gnote.write_to_db(cursor, mod, note.deck_id, ids)
            cards += len(gnote.cards)
        conn.commit()
        conn.close()
        media = _card_media(course, notes)
        _write_zip(out, Path(db_name), media, stamp)
    finally:
        Path(db_name).unlink(missing_ok=True)
    return DeckResult(out, len(notes), cards)


def _write_decks_and_models(
    cursor: sqlite3.Cursor,
    course: Course,
    models: Mapping[CardKind, genanki.Model],
    mods: Mapping[CardKind, int],
) -> None:
    """Write the whole deck tree and all note types in one update each (not once per deck)."""
    (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
    decks = json.loads(decks_json)
    top = stable_id(course.id, course.lang)
    entries = [(top, course.title, course.description)] + [
        (
            stable_id(course.id, course.lang, lesson.id),
            lesson_deck_name(course, i, lesson),
            lesson.description,
        )
        for i, lesson in enumerate(course.lessons, start=1)
    ]
    for deck_id, name, description in entries:
        deck = genanki.Deck(deck_id, name, description).to_json()
        deck["mod"] = 0
        decks[str(deck_id)] = deck
    model_json = {
        str(model.model_id): model.to_json(mods[kind], top) for kind, model in models.items()
    }
    cursor.execute(
        "UPDATE col SET decks = ?, models = ?",
        (json.dumps(decks, sort_keys=True), json.dumps(model_json, sort_keys=True)),
    )


def _card_media(course: Course, notes: Sequence[NoteData]) -> list[MediaFile]:
    """The images the notes show (Anki drops files no note references), by name."""
    used = {
        token.meta["media"]
        for note in notes
        for block in (*note.card.question, *note.card.answer)
        for token in markdown.walk(block.children or [])
        if token.type == "image" and "media" in token.meta
    }
    known = {m.name: m for lesson in course.lessons for m in lesson.media}
    return [known[name] for name in sorted(used)]


def _write_zip(out: Path, db: Path, media: Sequence[MediaFile], stamp: int) -> None:
    """A zip whose bytes depend only on its content: fixed entry dates and order."""
    date = time.gmtime(max(stamp, 315_532_800))[:6]  # zip dates start in 1980

    def entry(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=date)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(entry("collection.anki2"), db.read_bytes())
        archive.writestr(entry("media"), json.dumps({str(i): m.name for i, m in enumerate(media)}))
        for i, item in enumerate(media):
            archive.writestr(entry(str(i)), item.path.read_bytes())
