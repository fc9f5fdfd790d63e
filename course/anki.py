"""Deck stage: Course -> one `.apkg` per language, with stable identities and honest mod times.

Identity is decided once: note types have IDs derived from the course and language, a note's GUID
comes from the course, the language and the author's card ID, and a note's `mod` is the time its
content last changed (kept in the manifest, `lessons/<lang>/manifest.jsonl`; `updates.py` decides),
so that re-importing with Anki's default options applies real edits, duplicates nothing and keeps
every card's review history. A card that left the lessons is shipped as a retired note.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from types import MappingProxyType
from typing import IO, NamedTuple

from . import manifest, updates
from .apkg import APKG_COL, APKG_SCHEMA, BASE91_DIGITS, CLOZE, Field, NoteType, Template, deck_json
from .files import temp_file
from .markup import escape_html
from .model import Card, CardKind, Course, Lesson, MediaFile, Problem, Source, SourceLoc
from .model import retired_tag as model_retired_tag
from .places import RELEASE, Names

# Fields are forever once decks are out: adding one makes Anki import a copy of the note type, so
# the list is decided once, with room for what later versions need (README: "Decks and updates").
CONTEXT_FIELDS = ("Lesson", "Section", "Source", "Lang", "CardID", "Link", "Retired")
QA_FIELDS = ("Front", "Back", "Reverse", "Explanation", *CONTEXT_FIELDS)
CLOZE_FIELDS = ("Text", "Explanation", *CONTEXT_FIELDS)
REVERSE_ON = "y"
"""The `Reverse` field's value on a reversed card: a non-empty `Reverse` makes Anki add card 2."""
NOTE_TYPE = updates.NOTE_TYPE
SWAP = MappingProxyType({"{{Front}}": "{{Back}}", "{{Back}}": "{{Front}}"})


TEMPLATES = Path(__file__).parent / "templates"
"""The package's templates (a path: `importlib.resources` costs a build's start-up its readers'
imports, as messages.py says)."""
NOTE_TEMPLATES = ("card.css", "front.html", "back.html", "cloze-front.html", "cloze-back.html")
"""The note types' files in `course/templates/anki/` (`note_types`)."""


@cache
def _template(name: str) -> str:
    """A note type's file, read once per process (every language's note types use it)."""
    return (TEMPLATES / "anki" / name).read_text(encoding="utf-8")


def preload() -> None:
    """Read the note types' files now (the command line does while lessons are parsed): the
    deck plans of every language, here or in a forked writer, find them read."""
    for name in NOTE_TEMPLATES:
        _template(name)


def note_type_id(course: Course, key: str) -> int:
    """Each course and language has its own note types: one course's restyle never reaches
    another course's cards in a learner's collection."""
    return stable_id(course.id, course.lang, "note-type", key)


def note_type_name(course: Course, key: str, naming: updates.Naming = updates.ALONE) -> str:
    """`<title> · Q/A`, with the language (`<title> · Q/A (pl)`) when another language of the
    course has (or had) the same title (`updates.Naming.shared_title`): Anki names a second note
    type of an existing name `… · Q/A+`, its mark for a copy. Types are matched by ID, so a name
    that changes reaches learners in place (its digest, so its `mod`, changes)."""
    name = f"{course.title} · {'Cloze' if key == 'cloze' else 'Q/A'}"
    return f"{name} ({course.lang})" if naming.shared_title else name


def note_types(course: Course, naming: updates.Naming = updates.ALONE) -> dict[str, NoteType]:
    """The course's two note types: Q/A (card 2, the reverse, only when `Reverse` is filled:
    Anki's "Basic (optional reversed card)") and cloze; templates and CSS from the package.
    `naming`: what their names take from the course's other languages (`note_type_name`)."""
    css = _template("card.css")
    front, back = _template("front.html"), _template("back.html")

    def reverse(html: str) -> str:  # the reverse card asks for the front, only when reversed
        swapped = re.sub(r"\{\{(Front|Back)\}\}", lambda m: SWAP[m.group(0)], html)
        return f"{{{{#Reverse}}}}{swapped}{{{{/Reverse}}}}"

    def fields(names: Sequence[str]) -> tuple[Field, ...]:
        return tuple(Field(n, "Arial", 20) for n in names)

    return {
        "qa": NoteType(
            note_type_id(course, "qa"),
            note_type_name(course, "qa", naming),
            fields(QA_FIELDS),
            (
                Template("Card 1", front, back),
                Template("Card 2", reverse(front), reverse(back)),
            ),
            css,
        ),
        "cloze": NoteType(
            note_type_id(course, "cloze"),
            note_type_name(course, "cloze", naming),
            fields(CLOZE_FIELDS),
            (Template("Cloze", _template("cloze-front.html"), _template("cloze-back.html")),),
            css,
            CLOZE,
        ),
    }


def note_type_digest(model: NoteType) -> str:
    fields, templates = model.given()
    blob = json.dumps([model.name, fields, templates, model.css], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def stable_id(*parts: str) -> int:
    """A deck ID fixed by what the deck is (course, language, lesson), below 2**53."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return (int.from_bytes(digest[:6], "big") | 1 << 47) & (2**53 - 1)


_BASE91_PAIRS = tuple(a + b for a in BASE91_DIGITS for b in BASE91_DIGITS)
"""Two digits of Anki's base 91 at a time: half the Python steps per GUID."""
_PAIR_BASE = len(_BASE91_PAIRS)


def note_guid(course_id: str, lang: str, card_id: str) -> str:
    """`genanki.guid_for(course_id, lang, card_id)` (a property test compares them): the first 8
    bytes of the SHA-256 of the parts joined by '__', in base 91, most significant digit first."""
    value = hashlib.sha256(f"{course_id}__{lang}__{card_id}".encode()).digest()[:8]
    number, pairs = int.from_bytes(value, "big"), []
    while number:
        number, pair = divmod(number, _PAIR_BASE)
        pairs.append(_BASE91_PAIRS[pair])
    return "".join(reversed(pairs)).lstrip(BASE91_DIGITS[0])  # the top pair's leading zero digit


# -- rendering the fields -------------------------------------------------------------------------


def source_html(source: Source | None) -> str:
    if source is None:
        return ""
    title = f"<cite>{escape_html(source.title)}</cite>"
    if source.url:
        title = f'<a href="{escape_html(source.url)}">{title}</a>'
    extra = ", ".join(escape_html(x) for x in (source.author, source.publisher) if x)
    return f"{title}{' — ' + extra if extra else ''}"


class NoteData(NamedTuple):
    """One note, ready to write: what Anki will see, and the hash that dates it. A named tuple,
    not a frozen record: a one-edit rebuild makes one for every note of the edited language
    (33,350 at 100,000 cards), and a tuple is made by C code (a frozen slotted dataclass's
    `__init__` sets its 11 fields one by one through `object.__setattr__`: 30 ms of the 80 ms
    `decided.notes` spends making notes, 10 ms as a named tuple)."""

    card_id: str
    kind: CardKind
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    guid: str
    lesson: str
    """The lesson ID: the note's cards go to its deck."""
    ords: tuple[int, ...]
    """The card ordinals the package holds (none for a retired note)."""
    loc: SourceLoc
    digest: str
    """sha256 of what Anki sees of the note (`note_digest`): the manifest's `hash`."""
    clozes: tuple[int, ...] = ()
    media: tuple[str, ...] = ()
    """Image names the fields show."""
    cloze_hashes: tuple[str, ...] = ()
    """`Card.cloze_hashes`: what tells a cloze that moved to another number (updates.py)."""

    @property
    def note_type(self) -> str:
        return NOTE_TYPE[self.kind]

    def shipped(self) -> updates.Shipped:
        return updates.Shipped(
            self.card_id, self.kind, self.lesson, self.digest, self.loc, self.clozes,
            self.cloze_hashes,
        )  # fmt: skip


def note_digest(kind: CardKind, fields: Sequence[str], tags: Sequence[str]) -> str:
    blob = "\x1e".join((NOTE_TYPE[kind], "\x1f".join(fields), " ".join(tags)))
    return hashlib.sha256(blob.encode()).hexdigest()


def _ords(card: Card) -> tuple[int, ...]:
    if card.kind is CardKind.CLOZE:
        return tuple(n - 1 for n in card.clozes)
    return (0, 1) if card.kind is CardKind.REVERSED else (0,)


NoteHashes = tuple[tuple[str, str, str], ...]
"""A lesson's notes' (card ID, GUID, digest), in card order: what `lesson_notes` hashes, the part
of a note that costs (two SHA-256 and Anki's base 91 per note); kept per lesson (decided.py)."""


def notes_for(course: Course) -> Iterator[NoteData]:
    """Every live note of the course, in lesson order, from its cards' rendered fields."""
    for lesson in course.lessons:
        yield from lesson_notes(course, lesson)


def lesson_notes(
    course: Course, lesson: Lesson, hashes: NoteHashes | None = None
) -> list[NoteData]:
    """The lesson's live notes. `hashes`: their `note_hashes` as an earlier build made them from
    the same lesson, course ID and language (not hashed again; ignored unless they name the same
    cards in the same order)."""
    return hashed_lesson_notes(course, lesson, hashes)[0]


def hashed_lesson_notes(
    course: Course, lesson: Lesson, hashes: NoteHashes | None = None
) -> tuple[list[NoteData], NoteHashes]:
    """`lesson_notes` and their `note_hashes`: `hashes` itself (the same object) when they were
    taken, so a caller keeping them per lesson knows, without comparing 100,000 triples again,
    that nothing of the lesson was hashed (decided.py)."""
    source, title = source_html(lesson.source), escape_html(lesson.title)
    lang = course.lang
    # One string per section for what its cards share (not one per note: 100,000 notes), and its
    # notes' tags when a card adds none of its own.
    sections = {}
    for s in lesson.sections:
        section_tags = (lesson.id, f"{lesson.id}::{s.id}") if s.id else (lesson.id,)
        tags = tuple(dict.fromkeys((*section_tags, *lesson.tags)))
        sections[s.id] = (escape_html(s.title), section_tags, tags)
    cards = [card for card in lesson.cards if card.id is not None]
    # (a card without identity never reaches a learner: reported as a warning)
    if hashes is not None and [h[0] for h in hashes] != [card.id for card in cards]:
        hashes = None
    notes = []
    for i, card in enumerate(cards):
        card_id = card.id or ""
        section, section_tags, tags = sections[card.section.id]
        # Link (reserved for the card's page when the course has a public address), Retired
        context = (title, section, source, lang, escape_html(card_id), "", "")
        text, kind = card.rendered, card.kind
        if kind is CardKind.CLOZE:
            fields: tuple[str, ...] = (text.front, text.explanation, *context)
        else:
            reverse = REVERSE_ON if kind is CardKind.REVERSED else ""
            fields = (text.front, text.back, reverse, text.explanation, *context)
        if card.tags:
            tags = tuple(dict.fromkeys((*section_tags, *lesson.tags, *card.tags)))
        if hashes is not None:
            guid, digest = hashes[i][1], hashes[i][2]
        else:
            guid, digest = note_guid(course.id, lang, card_id), note_digest(kind, fields, tags)
        note = NoteData(
            card_id, kind, fields, tags, guid, lesson.id, _ords(card), card.loc, digest,
            card.clozes, text.media, card.cloze_hashes,
        )  # fmt: skip
        notes.append(note)
    return notes, hashes if hashes is not None else note_hashes(notes)


def note_hashes(notes: Sequence[NoteData]) -> NoteHashes:
    return tuple((note.card_id, note.guid, note.digest) for note in notes)


# -- retired notes --------------------------------------------------------------------------------


def retired_tag(course: Course) -> str:
    return model_retired_tag(course.id)


@cache
def _update_texts(lang: str) -> Mapping[str, str]:
    """`templates/updates/<lang>.json` over the English one: what learners read about updates."""
    folder = TEMPLATES / "updates"
    table: dict[str, str] = json.loads(folder.joinpath("en.json").read_text("utf-8"))
    own = folder.joinpath(f"{lang}.json")
    if own.is_file():
        table.update(json.loads(own.read_text("utf-8")))
    return MappingProxyType(table)


def update_text(lang: str, key: str, **args: str) -> str:
    text = _update_texts(lang)[key]
    for name, value in args.items():
        text = text.replace(f"{{{name}}}", value)
    return text


def retired_note(course: Course, entry: manifest.CardEntry, loc: SourceLoc) -> NoteData:
    """The note a retired card becomes: its cards, in collections that have them, say it was
    retired and how to find every retired card; the package holds no card of it, so a learner who
    never had it gets nothing to study."""
    search = f"tag:{retired_tag(course)}"
    code = f"<code>{escape_html(search)}</code>"
    notice = update_text(course.lang, "retired_notice", search=code)
    plain = update_text(course.lang, "retired_notice", search=search)
    context = ("", "", "", course.lang, escape_html(entry.card), "", notice)
    if entry.kind is CardKind.CLOZE:
        # The cloze numbers stay, so that Anki renders each existing cloze card (with the notice).
        markers = "".join(f" {{{{c{n}::…}}}}" for n in entry.clozes or (1,))
        fields: tuple[str, ...] = (escape_html(plain) + markers, "", *context)
    else:
        reverse = REVERSE_ON if entry.kind is CardKind.REVERSED else ""
        fields = (escape_html(plain), "", reverse, "", *context)
    tags = (retired_tag(course), *([entry.lesson] if entry.lesson else []))
    return NoteData(
        card_id=entry.card,
        kind=entry.kind,
        fields=fields,
        tags=tags,
        guid=note_guid(course.id, course.lang, entry.card),
        lesson=entry.lesson,
        ords=(),
        loc=loc,
        digest=note_digest(entry.kind, fields, tags),
        clozes=entry.clozes,
    )


# -- planning -------------------------------------------------------------------------------------


def build_time() -> int:
    """Time stamped on content that changed in this build: SOURCE_DATE_EPOCH when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(epoch) if epoch.isdigit() else int(time.time())


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What the planner compares with a manifest: small records of every live note and the note
    types, kept after the notes themselves are dropped (to decide again: `replan`)."""

    shipped: tuple[updates.Shipped, ...]
    note_types: Mapping[str, tuple[str, str]]
    """Note type key -> (name, digest)."""
    manifest_path: Path
    naming: updates.Naming = updates.ALONE
    """What names take from the course's other languages (`updates.plan`)."""


@dataclass(frozen=True, slots=True)
class DeckPlan:
    """One language's package, decided: the notes (live and retired) and the update plan."""

    course: Course
    models: Mapping[str, NoteType]
    notes: tuple[NoteData, ...]
    plan: updates.Plan
    inputs: PlanInputs


def prepare(
    course: Course,
    old: manifest.Manifest,
    now: int,
    *,
    draft: bool = False,
    rename_decks: bool = False,
    manifest_path: Path,
    live: Sequence[NoteData] | None = None,
    naming: updates.Naming = updates.ALONE,
    published: tuple[str, ...] = (),
) -> DeckPlan:
    """Render every note (`live`: the course's notes, `notes_for`, made already) and decide what
    learners get (see `updates.plan`; `naming`: what names take from the other languages;
    `published`: what says its decks were published, when it has no manifest)."""
    models = note_types(course, naming)
    live = list(notes_for(course)) if live is None else live
    inputs = PlanInputs(
        tuple(n.shipped() for n in live),
        {key: (model.name, note_type_digest(model)) for key, model in models.items()},
        manifest_path,
        naming,
    )
    plan, retired = _decide(
        course, inputs, old, now, draft=draft, rename_decks=rename_decks, published=published
    )
    report = plan.report
    if report.added and report.retired:  # (a card whose ID comment was lost is both)
        added = {item.card for item in report.added}
        leaving = {item.card for item in report.retired}
        lost = lost_ids(course, old, leaving, lambda card: card.id in added, _put_back)
        plan = replace(plan, warnings=(*plan.warnings, *lost))
    return DeckPlan(course, models, (*live, *(retired[e.card] for e in plan.retired)), plan, inputs)


def lost_ids(
    course: Course,
    old: manifest.Manifest,
    leaving: Iterable[str],
    new: Callable[[Card], bool],
    message: Callable[[Card, str], str],
) -> list[Problem]:
    """A warning at each `new` card whose note, under the ID of a published card `leaving` the
    lessons, would be exactly that card's as last published (the manifest's `hash`): most likely
    that card with its ID comment lost, which learners would get as a new card, without its
    history, beside the retired one. A note shows its lesson and section, so only a card of the
    same lesson and kind can match."""
    by_place: dict[tuple[str, CardKind], list[manifest.CardEntry]] = {}
    for card_id in sorted(leaving):
        entry = old.cards[card_id]
        by_place.setdefault((entry.lesson, entry.kind), []).append(entry)
    problems = []
    for lesson in course.lessons:
        for card in lesson.cards:
            entries = by_place.get((lesson.id, card.kind), []) if new(card) else []
            same = (e.card for e in entries if _digest_as(course, lesson, card, e.card) == e.hash)
            if (found := next(same, None)) is not None:
                problems.append(Problem(card.loc, message(card, found)))
    return problems


def _digest_as(course: Course, lesson: Lesson, card: Card, card_id: str) -> str:
    """The digest `card`'s note would have under `card_id`."""
    return lesson_notes(course, replace(lesson, cards=(replace(card, id=card_id),)))[0].digest


def _put_back(card: Card, published: str) -> str:
    return (
        f"card {card.id} has the content of card {published}, which this build retires: if it is "
        f"that card with its ID comment lost, write `<!-- id: {published} -->` in place of "
        f"`<!-- id: {card.id} -->` and build again, so that learners keep its review history "
        "(else they get it as a new card, beside the retired one)"
    )


def replan(
    deck: DeckPlan, old: manifest.Manifest, now: int, *, rename_decks: bool = False
) -> updates.Plan:
    """`deck`'s notes decided again against another manifest (what the next build would plan
    against the manifest this one wrote), without rendering them again."""
    return _decide(deck.course, deck.inputs, old, now, rename_decks=rename_decks)[0]


def _decide(
    course: Course,
    inputs: PlanInputs,
    old: manifest.Manifest,
    now: int,
    *,
    draft: bool = False,
    rename_decks: bool = False,
    published: tuple[str, ...] = (),
) -> tuple[updates.Plan, dict[str, NoteData]]:
    present = {n.card for n in inputs.shipped}
    loc = SourceLoc(inputs.manifest_path, 0)
    retired = {
        e.card: retired_note(course, e, loc) for e in old.cards.values() if e.card not in present
    }
    plan = updates.plan(
        course,
        inputs.shipped,
        {card_id: note.digest for card_id, note in retired.items()},
        inputs.note_types,
        old,
        now,
        draft=draft,
        rename_decks=rename_decks,
        manifest_path=inputs.manifest_path,
        naming=inputs.naming,
        published=published,
    )
    return plan, retired


# -- writing the package --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeckResult:
    """A written deck: where it is, and how many notes and cards it holds."""

    path: Path
    notes: int
    cards: int


def deck_file_name(course: Course, names: Names = RELEASE) -> str:
    """`<course id>-<lang>.apkg`, or a draft's name (`places.Names`)."""
    return names.deck(course)


NOTE_SQL = "INSERT INTO notes VALUES(?,?,?,?,-1,?,?,?,0,0,'')"
"""id, guid, note type, mod, usn -1, tags, fields, sort field, checksum 0, flags 0, data '': the
constants in the statement, as SQLite stores a bound value (fewer values bound per row)."""
CARD_SQL = "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,0,0,0,0,0,0,0,0,0,'')"
"""id, note, deck, ord, mod, usn -1, and a new card's type, queue, due, interval, factor, reps,
lapses, left, odue, odid, flags 0 and data ''."""


@dataclass(frozen=True, slots=True)
class Collection:
    """One language's collection (its SQLite scratch file), before it is zipped into its .apkg."""

    deck: DeckPlan
    path: Path
    stamp: int
    """The newest mod time in it: the zip entries' date."""
    cards: int


Later = Callable[[Callable[[], object]], object]
"""Runs a call now or in another thread (`background.Background.run`)."""


def write_deck(
    deck: DeckPlan, out: Path, later: Later | None = None, name: str | None = None
) -> DeckResult:
    """Write `out` (an .apkg) for one language. `later`: runs the zip step (the collection's
    compression, which lets other threads run), which holds the paths, not the plan: the plan's
    notes go when the caller drops them, whenever the zip is done. `name`: the deck's file
    name, when `out` is a temporary file of another than the release's (a draft's)."""
    made = _scratch(deck, out.parent, name)
    zip_step = partial(_zip_and_remove, out, made.path, _card_media(deck), made.stamp)
    if later is None:
        zip_step()
    else:
        later(zip_step)
    return DeckResult(out, len(deck.notes), made.cards)


def _zip_and_remove(out: Path, db: Path, media: Sequence[MediaFile], stamp: int) -> None:
    """The .apkg from the scratch collection `db`, which goes afterwards, whatever happens."""
    try:
        _write_zip(out, db, media, stamp)
    finally:
        db.unlink(missing_ok=True)


@contextmanager
def collection(deck: DeckPlan, folder: Path) -> Iterator[Collection]:
    """The collection's SQLite file, in a scratch file in `folder` deleted on leaving (streamed
    into the zip from there: a 100,000-card collection is never held in memory). Named as the
    build names the deck's own temporary file (`.<deck>.XXXXXXXX.tmp`, `files.temp_file`)
    and put beside it: what a killed build leaves, the next build's sweep removes (sweep.py;
    the system's temporary folder would keep it)."""
    made = _scratch(deck, folder)
    try:
        yield made
    finally:
        made.path.unlink(missing_ok=True)


def _scratch(deck: DeckPlan, folder: Path, name: str | None = None) -> Collection:
    """`collection`'s scratch file, written, for the deck file `name` (by default the
    release's); the caller removes it (here, when writing fails)."""
    plan = deck.plan
    stamp = max([*plan.note_mods.values(), *plan.note_type_mods.values()], default=0)
    db_fd, db_name = temp_file(folder, name or deck_file_name(deck.course))
    os.close(db_fd)
    try:
        with closing(sqlite3.connect(db_name)) as conn:
            cursor = conn.cursor()
            # A scratch file, deleted below: no fsync per commit (the file's bytes are the
            # same; a crash leaves only a temporary file). journal_mode=OFF or MEMORY,
            # locking_mode=EXCLUSIVE, a ":memory:" database (serialize or backup) change the
            # header's change counter; a larger page cache, cache_spill=OFF save at most 10%
            # of the rows' time at 100,000 cards and hold the whole collection in memory.
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.executescript(APKG_SCHEMA)
            cursor.executescript(APKG_COL)
            _write_decks_and_models(cursor, deck)
            cards = _write_rows(cursor, deck, stamp * 1000)
            conn.commit()
    except BaseException as exc:
        Path(db_name).unlink(missing_ok=True)
        refused = _refused(exc)
        if refused is not None:
            raise refused from exc
        raise
    return Collection(deck, Path(db_name), stamp, cards)


SQLITE_REFUSED = MappingProxyType({13: errno.ENOSPC, 10: errno.EIO})
"""SQLite's primary result codes for a write the system refused (SQLITE_FULL: a full disk;
SQLITE_IOERR: any other failed write, a file size limit) -> the errno they stand for."""


def _refused(exc: BaseException) -> OSError | None:
    """The OSError that a SQLite error stands for when the system refused a write to the scratch
    collection (`SQLITE_REFUSED`): the build says so of the deck (`files.naming`), no
    traceback, as of any output that cannot be written."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or not isinstance(code, int):
        return None
    number = SQLITE_REFUSED.get(code & 0xFF)
    return None if number is None else OSError(number, f"{exc} ({os.strerror(number)})")


def _write_rows(cursor: sqlite3.Cursor, deck: DeckPlan, first_id: int) -> int:
    """The notes and cards tables' rows, as genanki's `Note.write_to_db` writes them (ids taken
    in the same order: a note's, then each of its cards'), without a genanki object per note.
    One row at a time, a note then its cards, as genanki does: SQLite allocates the tables'
    pages in insertion order, so all notes before all cards (`executemany` per table) would give
    other file bytes than earlier builds for the same content. (One `executemany` through a
    temporary view whose INSTEAD OF triggers insert the rows keeps every page, but is slower:
    31 against 23 ms for 3,350 notes; SQLite's own work is most of the time: at 100,000 cards
    about 0.2 s of a language's 0.23 s.) Returns the number of cards."""
    course, mods = deck.course, deck.plan.note_mods
    model_ids = {kind: deck.models[key].model_id for kind, key in NOTE_TYPE.items()}
    deck_ids = {lesson.id: _deck_id(course, lesson.id) for lesson in course.lessons}
    top = _deck_id(course, "")
    execute, join, note_id, cards = cursor.execute, "\x1f".join, first_id, 0
    for note in deck.notes:
        mod, fields = int(mods[note.card_id]), note.fields
        tags, joined = f" {' '.join(note.tags)} ", join(fields)
        # The sort field (the first) bound as a copy cut from the joined fields: SQLite's binding
        # keeps a UTF-8 copy inside each string it is given, and the first field is the
        # library's own string, kept till the build ends (5 MB at 100,000 cards).
        sort_field = joined[: len(fields[0])]
        execute(NOTE_SQL, (note_id, note.guid, model_ids[note.kind], mod, tags, joined, sort_field))
        card_id, deck_id = note_id, deck_ids.get(note.lesson, top)
        for ord_ in note.ords:
            card_id += 1
            execute(CARD_SQL, (card_id, note_id, deck_id, ord_, mod))
        cards += len(note.ords)
        note_id = card_id + 1
    return cards


def _deck_id(course: Course, lesson_id: str) -> int:
    if not lesson_id:
        return stable_id(course.id, course.lang)
    return stable_id(course.id, course.lang, lesson_id)


def _write_decks_and_models(cursor: sqlite3.Cursor, deck: DeckPlan) -> None:
    """Write the whole deck tree and all note types in one update each (not once per deck)."""
    (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
    decks = json.loads(decks_json)
    course, plan = deck.course, deck.plan
    top = _deck_id(course, "")
    entries = [(top, plan.top_deck, course.description)] + [
        (_deck_id(course, lesson.id), plan.lesson_decks[lesson.id], lesson.description)
        for lesson in course.lessons
    ]
    for deck_id, name, description in entries:
        entry = deck_json(deck_id, name, description)
        entry["mod"] = 0
        decks[str(deck_id)] = entry
    model_json = {
        str(model.model_id): model.to_json(plan.note_type_mods[key], top)
        for key, model in deck.models.items()
    }
    cursor.execute(
        "UPDATE col SET decks = ?, models = ?",
        (json.dumps(decks, sort_keys=True), json.dumps(model_json, sort_keys=True)),
    )


def _card_media(deck: DeckPlan) -> list[MediaFile]:
    """The images the notes show (Anki drops files no note references), by name."""
    used = {name for note in deck.notes for name in note.media}
    known = {m.name: m for lesson in deck.course.lessons for m in lesson.media}
    return [known[name] for name in sorted(used)]


ZIP_CHUNK = 4 << 20
"""Bytes of the collection read, checksummed and deflated per call when its zip is written, in
one buffer (`_deflate_into`). The zip step runs in a thread beside the build's own
(`write_deck`'s `later`) and each of those calls lets the GIL go: getting it back costs that
thread up to the interpreter's switch interval (5 ms) while the build's thread runs Python, so
fewer, larger calls end sooner. A 33,000-note collection (24 MB, 0.3 s alone) beside a thread
that only ran Python: 1.2 s in 1 MB reads, 0.68 s in 4 MB, 0.58 s in 8 MB (which added 11-16
MB to a cold 100,000-card build's peak; a new buffer per read, as `shutil.copyfileobj` reads,
holds two at a time). The deflated bytes do not depend on how the input is cut."""


def _deflate_into(target: IO[bytes], source: Path) -> None:
    """`source`'s bytes written to `target` (a zip entry) in reads of ZIP_CHUNK bytes into one
    buffer."""
    buffer = memoryview(bytearray(ZIP_CHUNK))
    with source.open("rb", buffering=0) as file:
        while size := file.readinto(buffer):
            target.write(buffer[:size])


def _write_zip(out: Path, db: Path, media: Sequence[MediaFile], stamp: int) -> None:
    """A zip whose bytes depend only on its content: fixed entry dates and order."""
    date = time.gmtime(max(stamp, 315_532_800))[:6]  # zip dates start in 1980

    def entry(name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=date)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    with zipfile.ZipFile(out, "w") as archive:
        info = entry("collection.anki2")
        info.file_size = db.stat().st_size  # as writestr sets it: the same header
        with archive.open(info, "w") as target:
            _deflate_into(target, db)
        archive.writestr(entry("media"), json.dumps({str(i): m.name for i, m in enumerate(media)}))
        for i, item in enumerate(media):
            archive.writestr(entry(str(i)), item.path.read_bytes())
