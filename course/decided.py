"""A language's deck plan as the rest of the build reads it (`Decided`), and what it gives kept
across builds by the hash of everything it was decided from (`Outcome`).

What a plan gives the later stages is small: the report and warnings printed, the release notes
the site and SCORM packages show, the deck's size and its inputs hash. A rebuild after editing one
card of one language takes that from `.course-cache/plans/` for every other language instead of
rendering their notes, hashing their GUIDs and parsing, dumping and comparing their manifests.

An outcome is kept only for a plan that records nothing: no release (so it does not depend on the
build's time) and a manifest whose text is the file's (nothing to write). A build keeps the
outcome of each language whose manifest it left as it was (`pipeline._keep`); a build that
recorded a release keeps the outcome the next build decides against the manifest it wrote, when
that one records nothing (`pipeline.settled`, asked by the command line for its replay).

The key is a hash of: the tool (every file of it), the course's settings and every lesson's path
and bytes (`outputs.course_inputs`), the manifest file's bytes, the originals of the language's
translated lessons (their cards' and prose's hashes: a translation's manifest records them), the
options that change a plan (--draft, --rename-decks), what the course's other languages' titles
and published top deck names give this language's names (`updates.Naming`), and the working
directory (the paths the report prints). Equal inputs decide equally, so a build with the same
inputs takes the outcome; a missing, unreadable or stale entry is decided again. One entry per
language (the last kept options' outcome). Safe to delete.

A language that is decided again (a card of it edited) takes what its unchanged lessons' notes
hash from `notes/` (`notes`): each note's GUID and content digest (`anki.NoteHashes`), by lesson,
one entry per language. They are a function of the course's ID and language (the entry's key) and
of the lesson's parse: its path, the bytes parsed (`Lesson.digest`) and its images' names, which
are content hashes (a lesson's key in the entry), with the tool (both). Only the edited lesson's
notes are hashed again (and on the next builds, until enough are to write the entry again:
`REWRITE`). A small language (under `KEEP_FROM` cards) keeps none: hashing all its notes
costs less than an entry's file. The notes themselves are not kept: their fields are the
strings the lesson's parse holds already, and unpickling them costs about what assembling them
again does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import anki, cache, manifest, outputs, updates
from .frontmatter import display_path
from .model import Card, Course, CourseError, Lesson, Library, Problem, Section
from .translations import Link, card_hash, lesson_hash

KIND = "plans"
"""The cache folder's subfolder (`cache.Store`)."""
FORMAT = "deck-plan 2"
"""Bump when what an outcome holds or what its key covers changes."""
NOTES = "notes"
"""The subfolder of the kept notes' hashes (`notes`)."""
NOTES_FORMAT = "note-hashes 1"
"""Bump when what `anki.lesson_notes` hashes or what a lesson's key covers changes."""
KEEP_FROM = 500
"""Cards of a language from which its notes' hashes are kept (`notes`). Below, hashing them all
again (about 2.5-5 microseconds a note) costs less than the entry: the bundled course's cold
build wrote three entries (0.2-0.5 ms of file creation each, in the serial steps after the
parse), and a rebuild that reads one unpickles it and, after an edit, writes it again."""
REWRITE = 20
"""A language's kept hashes are written again when a build hashed at least 1/REWRITE of its
notes: not for each edit (a lesson's notes hash in a fraction of a millisecond; the entry of
33,000 notes takes about 20 ms to pickle and write). 0: only when there is no entry."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a language's deck plan gives the rest of the build (and the next one)."""

    report: updates.Report
    warnings: tuple[Problem, ...]
    release_notes: updates.ReleaseNotes | None
    """The course page's "what changed" list."""
    notes: int
    """Notes in the deck, retired ones included."""
    cards: int
    deck_inputs: str | None
    """`outputs.deck_inputs` of the deck (None until hashed: a build without decks)."""

    @classmethod
    def of(cls, deck: anki.DeckPlan) -> Outcome:
        plan = deck.plan
        cards = sum(len(n.ords) for n in deck.notes)
        changes = updates.release_notes(plan.manifest)
        return cls(plan.report, plan.warnings, changes, len(deck.notes), cards, None)


@dataclass(frozen=True, slots=True)
class Written:
    """The manifest a build writes: the record and the hash of its file (`manifest.File`)."""

    manifest: manifest.Manifest
    digest: str
    next: Outcome | None = None
    """The next build's outcome against it (what `pipeline.settled` asks), worked out at `now`
    while the decks' zips are written; None: that build would change something."""
    now: int | None = None
    """The build time `next` was worked out at; None: not worked out."""
    plan: updates.Plan | None = None
    """The deck's plan `next` was worked out for (the one the build wrote)."""


@dataclass(frozen=True, slots=True)
class Decided:
    """One language's deck plan, decided in this build (`deck`) or kept from an earlier one."""

    course: Course
    outcome: Outcome
    inputs: str
    """The hash of what it was decided from, but the manifest (`inputs`)."""
    manifest_digest: str
    """The manifest file's hash (`manifest.File.digest`) when it was decided."""
    deck: anki.DeckPlan | None = None
    """The plan itself; None when kept (decided by an earlier build from the same inputs)."""
    written: Written | None = None
    """The manifest this build writes, if it writes one."""
    settled: bool = False
    """The next build decides the same: kept, or its manifest is the file's text as it was."""
    naming: updates.Naming = updates.ALONE
    """What its names took from the course's other languages (`updates.plan`)."""

    @property
    def errors(self) -> tuple[Problem, ...]:
        return self.deck.plan.errors if self.deck is not None else ()

    @property
    def id_change(self) -> updates.IdChange | None:
        """`updates.Plan.id_change` (None when kept: a kept plan had none)."""
        return self.deck.plan.id_change if self.deck is not None else None

    def light(self, deck_inputs: str | None) -> Decided:
        """Without the notes (the deck is written) and with the deck's inputs hash."""
        outcome = self.outcome
        if deck_inputs is not None:
            outcome = replace(outcome, deck_inputs=deck_inputs)
        deck = replace(self.deck, notes=()) if self.deck is not None else None
        return replace(self, outcome=outcome, deck=deck)


def inputs(
    library: Library, course: Course, links: Sequence[Link], options: Sequence[object]
) -> str:
    """Everything a language's plan is decided from but its manifest and the build's time (see
    the module's documentation); `options`: those that change a plan, and its `updates.Naming`."""
    parts = [FORMAT, str(Path.cwd()), repr(list(options)), outputs.course_inputs(library, course)]
    for link in links:
        original = link.original
        parts += [str(link.translation.path), str(original.path), lesson_hash(original)]
        parts += [f"{card.id}={card_hash(card)}" for card in original.cards]
    return outputs.hash_parts(parts)


def _key(inputs: str, file: manifest.File) -> bytes:
    return outputs.hash_parts([inputs, file.digest]).encode()


def load(
    course: Course, inputs: str, file: manifest.File, naming: updates.Naming = updates.ALONE
) -> Decided | None:
    """The language's kept outcome for these inputs and this manifest file, if there is one
    (`naming`: part of `inputs`, kept to decide it again: `pipeline._prepare_again`)."""
    store = cache.Store.beside(course.root.parent)
    if store.folder is None or not file.lines:
        return None
    data = store.get(course.root, course.lang, _key(inputs, file), KIND)
    if data is None:
        return None
    try:
        outcome = cache.loads(data)
    except Exception:  # an entry of another version of a record: decided again
        return None
    if not isinstance(outcome, Outcome) or outcome.deck_inputs is None:
        return None
    return Decided(course, outcome, inputs, file.digest, settled=True, naming=naming)


def kept(folder: Path) -> bool:
    """Whether an earlier build kept a deck plan for the language folder `folder` (`load` may
    take it, without the manifest's parse)."""
    return cache.Store.beside(folder.parent).has(folder, folder.name, KIND)


def save(course: Course, inputs: str, file: manifest.File, outcome: Outcome) -> None:
    """Keep `outcome`, the plan decided from `inputs` against `file`, which records nothing."""
    store = cache.Store.beside(course.root.parent)
    if store.folder is None or not file.lines or outcome.deck_inputs is None:
        return
    if outcome.report.release:
        return  # (never asked: a release's outcome depends on the build's time)
    store.put(course.root, course.lang, _key(inputs, file), cache.dumps(outcome), KIND)


def notes(course: Course) -> list[anki.NoteData]:
    """Every live note of the course (`anki.notes_for`), each lesson's hashes taken from those an
    earlier build kept for the same lesson (see the module's documentation); the entry is
    written again when a lesson's were not there (an edit, a new lesson). A language of fewer
    than KEEP_FROM cards hashes every note and keeps nothing. In a resident process
    (`keep_notes`), an unchanged lesson's notes are the last build's (`_Held`)."""
    key = _notes_key(course)
    store, kept = _kept_for(course, key)
    walk = _walk(course, key, kept)
    hashed, live = walk.hashed, walk.live
    if store is not None and hashed and (not kept or hashed * REWRITE >= len(live)):
        store.put(course.root, course.lang, key, cache.dumps(walk.hashes), NOTES)
    return live


@dataclass(slots=True)
class _Walk:
    """A language's notes as `_walk` made them."""

    live: list[anki.NoteData] = field(default_factory=list)
    hashes: dict[str, anki.NoteHashes] = field(default_factory=dict)
    """Each lesson's note hashes, by lesson key (`_lesson_key`; a lesson without one: none)."""
    hashed: int = 0
    """Notes hashed now, not taken from the kept hashes."""
    made: int = 0
    """Lessons whose notes were made now, not the last build's (`_Held`)."""


def _walk(course: Course, key: bytes, kept: dict[str, anki.NoteHashes]) -> _Walk:
    """Every lesson's notes (`_lesson_notes`, from the hashes `kept` where they are there), held
    for the next build when notes are kept (`_keep`, under the notes `key`). Writes nothing:
    `hold_notes` runs between builds, without the lock."""
    held = _held_now(course, key)
    now: dict[str, _Held] = {}  # (a lesson gone since is not held again)
    walk = _Walk()
    for lesson in course.lessons:
        lesson_key = _lesson_key(lesson)
        given = kept.get(lesson_key)
        last = _held_for(held, lesson_key, lesson)
        walk.made += last is None
        made, made_hashes = _lesson_notes(course, lesson, last, given)
        if held is not None and lesson_key:  # (held for the next build)
            now[lesson_key] = last or _Held(lesson.cards, lesson.sections, tuple(made), made_hashes)
        if lesson_key:
            walk.hashes[lesson_key] = made_hashes
            walk.hashed += len(made) if made_hashes is not given else 0
        walk.live += made
    _keep(course, key, now)
    return walk


def _kept_for(course: Course, key: bytes) -> tuple[cache.Store | None, dict[str, anki.NoteHashes]]:
    """The cache and the note hashes an earlier build kept for the language (none below
    KEEP_FROM cards: no store either)."""
    if sum(len(lesson.cards) for lesson in course.lessons) < KEEP_FROM:
        return None, {}
    store = cache.Store.beside(course.root.parent)
    return store, _kept_hashes(store, course, key)


@dataclass(frozen=True, slots=True)
class _Held:
    """A lesson's notes as a build of this process made them (`keep_notes`): taken by the next
    build for the same lesson key, course ID, language and tool, when the lesson's cards and
    sections are the very records they were made from (a parse kept in memory:
    `lessons.Kept`), which holds every string a note is made of."""

    cards: tuple[Card, ...]
    sections: tuple[Section, ...]
    notes: tuple[anki.NoteData, ...]
    hashes: anki.NoteHashes


_held: dict[Path, tuple[bytes, dict[str, _Held]]] | None = None
"""Each language's lessons' notes, by the language's folder: its notes key (`_notes_key`: the
tool, the course's ID, the language) and its lessons' notes by lesson key (`_lesson_key`), as
the last build that decided it made them. None: not kept."""


def keep_notes() -> None:
    """Keep each decided language's notes in memory for the next build (`_Held`): for a
    process that builds the same lessons again and again (`build.py watch`)."""
    global _held
    if _held is None:
        _held = {}


PREPARE_MAX = 30_000
"""Cards of a lessons folder up to which a resident process prepares every language's notes and
manifest between builds (`prepare`): about 1.1 MB of memory a thousand cards (10,000: 57 ->
68 MB resident; 100,000: 217 -> 333 MB, over the 300 MB target). Above it, the first edit of a
language makes them (a one-edit rebuild of 100,000 cards is 0.07x of a cold build without)."""


def prepare(library: Library) -> int:
    """Between builds of a resident process (`keep_notes`), for whichever language is edited
    next: its lessons' notes made (`hold_notes`) and its manifest read and parsed (kept by its
    bytes' hash: `manifest.File.parse`). Returns how many lessons' notes were made."""
    made = 0
    for course in library.courses:
        made += hold_notes(course)
        try:
            manifest.File.read(course.root, display_path(course.root)).parse()
        except (CourseError, OSError):
            continue  # (the build says so)
    return made


def hold_notes(course: Course) -> int:
    """Between builds of a process keeping notes (`keep_notes`): every lesson's notes of the
    language made now, not by the next build that decides it (the first edit of a language after
    the watch starts, or after a build that kept its outcome). Each is held under exactly what
    `notes` looks it up by (`_Held`: the lesson's key and its very card and section records, the
    course's notes key), so the next build takes a lesson's notes only if it loads the same parse;
    hashes are taken from the entry an earlier build kept (nothing is written). Returns how many
    lessons' notes were made."""
    if _held is None:
        return 0
    key = _notes_key(course)
    return _walk(course, key, _kept_for(course, key)[1]).made


def _held_now(course: Course, key: bytes) -> dict[str, _Held] | None:
    """The language's notes the last build kept, if kept under `key` ({} if not)."""
    if _held is None:
        return None
    last = _held.get(course.root)
    return last[1] if last is not None and last[0] == key else {}


def _held_for(held: dict[str, _Held] | None, key: str, lesson: Lesson) -> _Held | None:
    last = None if held is None or not key else held.get(key)
    if last is None or last.cards is not lesson.cards or last.sections is not lesson.sections:
        return None
    return last


def _lesson_notes(
    course: Course, lesson: Lesson, last: _Held | None, given: anki.NoteHashes | None
) -> tuple[Sequence[anki.NoteData], anki.NoteHashes]:
    """A lesson's notes and their hashes: the last build's if held (`last`: `_held_for`), else
    made (`anki.hashed_lesson_notes`, from the hashes kept on disk, `given`)."""
    if last is None:
        return anki.hashed_lesson_notes(course, lesson, given)
    if given == last.hashes:  # (hashed now, as a process keeping none would count it)
        return last.notes, given
    return last.notes, last.hashes


def _keep(course: Course, key: bytes, now: dict[str, _Held]) -> None:
    """This build's notes of the language, in place of the last build's (`keep_notes`)."""
    if _held is not None:
        _held[course.root] = (key, now)


def _notes_key(course: Course) -> bytes:
    return outputs.hash_parts([NOTES_FORMAT, course.id, course.lang]).encode()


def _lesson_key(lesson: Lesson) -> str:
    """What a lesson's notes are made from, beside the entry's key ('': not kept)."""
    if not lesson.digest:
        return ""
    return "\0".join([str(lesson.path), lesson.digest, *(m.name for m in lesson.media)])


def _kept_hashes(store: cache.Store, course: Course, key: bytes) -> dict[str, anki.NoteHashes]:
    data = store.get(course.root, course.lang, key, NOTES)
    if data is None:
        return {}
    try:
        kept = cache.loads(data)
    except Exception:  # a damaged entry: hashed again
        return {}
    return kept if isinstance(kept, dict) else {}
