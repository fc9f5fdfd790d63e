"""Update stage: what one language's learners will get from this build, against the manifest.

Decides each note's `mod` (unchanged content keeps its time), the deck names (a published name
never moves), which cards retire, whether this build is a release, and the change report. Anki's
rules behind each decision are in README's "Decks and updates".
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from .manifest import (
    CardEntry,
    DeckEntry,
    Manifest,
    NoteTypeEntry,
    Release,
    top_deck_name,
    with_entries,
)
from .model import COURSE_FILE, CardKind, Course, Library, Problem, SourceLoc

NOTE_TYPE: Mapping[CardKind, str] = MappingProxyType(
    {CardKind.BASIC: "qa", CardKind.REVERSED: "qa", CardKind.CLOZE: "cloze"}
)
"""The note type each card kind is written with (basic and reversed share one)."""
LABEL = re.compile(r"(\d+(?:\.\d+)?) ")
TERMINAL_ITEMS = 8
"""Items a terminal report line names before it says how many more there are."""
ONE = re.compile(r"^(\w+(?: type)?|retired card)s")


class Shipped(NamedTuple):
    """One note the package will hold, as the planner needs to know it. A named tuple, not a
    frozen record: made for every note of a language decided again (33,350 at 100,000 cards, in
    a one-edit rebuild), by C code."""

    card: str
    kind: CardKind
    lesson: str
    digest: str
    """sha256 of what Anki sees of the note."""
    loc: SourceLoc
    clozes: tuple[int, ...] = ()
    cloze_hashes: tuple[str, ...] = ()
    """For each of `clozes`, a short hash of the text it hides (`cards.cloze_hashes`)."""


@dataclass(frozen=True, slots=True)
class Naming:
    """What a language's names take from the course's other languages: a learner may import
    several into one collection, where Anki names note types and matches decks by name. All a
    plan needs of them, so part of its kept outcome's key (`decided.inputs`): it stays the same
    when another language is first published, unless that one took this language's names."""

    shared_title: bool = False
    """Another language has this language's title, or published its top deck under it (the
    title it was first published with: a learner who has not imported its later releases still
    has its note types of that name): this language's note types' names, and its top deck's
    when first published, carry the language."""
    same_top: tuple[tuple[str, str], ...] = ()
    """(language, top deck name) of the other languages that published their top deck under
    this language's name (as published, or as it would be first published: `_top_name`)."""


ALONE = Naming()
"""The naming of a language that shares no name with another."""


def namings(library: Library) -> dict[str, Naming]:
    """Each language folder's `Naming`, from every language folder of the lessons (built in this
    build or not: `Library.titles`), their titles and their manifests' top deck names."""
    tops = {lang: top_deck_name(library.root / lang) for lang, _ in library.titles}
    found = {}
    for lang, title in library.titles:
        others = [(other, their, tops[other]) for other, their in library.titles if other != lang]
        shared = any(title in (their, top) for _, their, top in others)
        names = {tops[lang], _top_name(title, lang, shared)} - {""}
        found[lang] = Naming(shared, tuple((o, top) for o, _, top in others if top in names))
    return found


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the change report: a card, where it is, and what happens to it."""

    card: str
    where: str = ""
    note: str = ""

    def __str__(self) -> str:
        where = f" ({self.where})" if self.where else ""
        return f"{self.card}{where}{': ' + self.note if self.note else ''}"


@dataclass(frozen=True, slots=True)
class Report:
    """What learners of one language get from this build."""

    lang: str
    release: int
    """The release this build is (or, for a draft, would be); 0 when nothing changed."""
    draft: bool
    added: tuple[Item, ...] = ()
    changed: tuple[Item, ...] = ()
    moved: tuple[Item, ...] = ()
    retired: tuple[Item, ...] = ()
    restored: tuple[Item, ...] = ()
    note_types: tuple[Item, ...] = ()
    decks_added: tuple[Item, ...] = ()
    decks_renamed: tuple[Item, ...] = ()
    not_in_place: tuple[Item, ...] = ()
    """Cards Anki cannot update in place in existing collections, and why."""

    SECTIONS = (
        ("added", "cards added"),
        ("changed", "cards changed"),
        ("moved", "cards moved"),
        ("retired", "cards retired"),
        ("restored", "retired cards back"),
        ("note_types", "note types changed"),
        ("decks_added", "decks added"),
        ("decks_renamed", "decks renamed (--rename-decks)"),
    )

    def _sections(self) -> Iterable[tuple[str, Sequence[Item]]]:
        for name, title in self.SECTIONS:
            values: Sequence[Item] = getattr(self, name)
            if values:
                yield title, values

    def headline(self) -> str:
        if not self.release:
            return f"{self.lang}: nothing changes for learners"
        what = "draft (not recorded) of release" if self.draft else "release"
        counts = ", ".join(_count(len(v), title) for title, v in self._sections())
        return f"{self.lang}: {what} {self.release}: {counts or 'note times only'}"

    def text(self, limit: int = TERMINAL_ITEMS) -> str:
        """The report for a terminal: at most `limit` items a line (`--report` has them all);
        what Anki cannot update in place is always listed in full."""
        lines = [self.headline()]
        for title, values in self._sections():
            shown = "; ".join(map(str, values[:limit]))
            more = f"; and {len(values) - limit} more (--report FILE lists all)"
            lines.append(f"  {title}: {shown}{more if len(values) > limit else ''}")
        if self.not_in_place:
            lines.append("  Anki cannot update these in place:")
            lines += [f"    {item}" for item in self.not_in_place]
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [f"## {self.headline()}", ""]
        for title, values in self._sections():
            lines.append(f"- **{title[0].upper() + title[1:]}** ({len(values)}):")
            lines += [f"  - {_md(value)}" for value in values]
        if self.not_in_place:
            lines += ["", "### Anki cannot update these in place", ""]
            lines += [f"- {_md(item)}" for item in self.not_in_place]
        return "\n".join(lines) + "\n"


def _count(n: int, title: str) -> str:
    """'1 card added', '2 cards added', '1 note type changed'."""
    return f"{n} {title}" if n != 1 else "1 " + ONE.sub(r"\g<1>", title)


def _md(value: Item) -> str:
    where = f" ({value.where})" if value.where else ""
    return f"`{value.card}`{where}{': ' + value.note if value.note else ''}"


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the deck writer needs, and the manifest to record when the build commits."""

    manifest: Manifest
    note_mods: Mapping[str, int]
    """Card ID -> the note's `mod`, for every note in the package (retired ones too)."""
    note_type_mods: Mapping[str, int]
    top_deck: str
    lesson_decks: Mapping[str, str]
    """Lesson ID -> the deck's full name."""
    retired: tuple[CardEntry, ...]
    """Cards to ship as retired notes (no cards: a learner who never had one gets nothing)."""
    report: Report
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    id_change: IdChange | None = None
    """The manifest records another course ID: an error, reported once for every language
    (`course_changed`), not in `errors`."""


@dataclass(frozen=True, slots=True)
class IdChange:
    """A language whose decks were released under another course ID than this build's (`plan`):
    every note's GUID and the note types' IDs derive from it."""

    lang: str
    recorded: str
    """The course ID its manifest records (the top deck's `course`)."""
    manifest: Path
    """Its manifest, as shown."""
    course: str
    """This build's course ID."""
    id_line: int | None
    """Where this build's ID comes from (`Course.id_line`)."""


@dataclass
class _Draft:
    """The plan being assembled (mutable while planning, frozen into a Plan at the end)."""

    old: Manifest
    now: int
    release: int
    entries: list[CardEntry | DeckEntry | NoteTypeEntry] = field(default_factory=list)
    mods: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[Item]] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    visible: bool = False
    """Whether learners get anything new: then this build is a release."""
    decks: Mapping[str, str] = field(default_factory=dict)
    """Lesson ID -> its deck's full name in this package (`_plan_decks`)."""

    def add(self, section: str, item: Item) -> None:
        self.items.setdefault(section, []).append(item)
        self.visible = True

    def bump(self, old_mod: int | None) -> int:
        """A changed entry's new time: the build time, but always later than its last one."""
        self.visible = True
        return self.now if old_mod is None else max(self.now, old_mod + 1)


def plan(
    course: Course,
    notes: Sequence[Shipped],
    retired_digests: Mapping[str, str],
    note_types: Mapping[str, tuple[str, str]],
    old: Manifest,
    now: int,
    *,
    draft: bool = False,
    rename_decks: bool = False,
    manifest_path: Path,
    naming: Naming = ALONE,
    published: tuple[str, ...] = (),
) -> Plan:
    """Compare `notes` (and the note types: key -> (name, digest)) with `old`; `retired_digests`
    gives the content hash of the retired note each manifest card absent from `notes` becomes;
    `naming`, `published`: what other languages' names give, `published.evidence` (`_problems`)."""
    last = old.last_release
    state = _Draft(old, now, (last.release if last else 0) + 1)
    type_mods = _plan_note_types(state, note_types)
    top, leaves = _plan_decks(state, course, rename_decks, naming)
    full = state.decks = {lesson: f"{top}::{leaf}" for lesson, leaf in leaves.items()}
    _note_empty_decks(state, {full[x.id] for x in course.lessons if not x.cards})
    for note in notes:
        _plan_card(state, note)
    _moved_only_decks(state, course, notes, full)
    retired = _plan_retired(state, {n.card for n in notes}, retired_digests)
    changed = state.visible
    entries: list[CardEntry | DeckEntry | NoteTypeEntry | Release] = list(state.entries)
    if changed:
        entries.append(Release(state.release, now))
    new = replace(with_entries(old, entries), found=True)
    errors, warnings = _problems(course, old, bool(notes), top, naming, manifest_path, published)
    report = Report(
        course.lang,
        state.release if changed else 0,
        draft,
        **{name: tuple(items) for name, items in state.items.items()},
    )
    return Plan(
        new,
        state.mods,
        type_mods,
        top,
        {lesson: full[lesson] for lesson in (x.id for x in course.lessons)},
        retired,
        report,
        (*state.errors, *errors),
        warnings,
        _id_change(course, old, manifest_path),
    )


def _note_empty_decks(state: _Draft, empty: set[str]) -> None:
    """A lesson without cards gets its deck name now, but Anki creates a deck only for a card
    in it: the report says so rather than list a deck learners never see."""
    added = state.items.get("decks_added")
    if added and empty:
        later = "no cards yet: Anki creates it with the lesson's first card"
        state.items["decks_added"] = [
            replace(item, where=later) if item.card in empty else item for item in added
        ]


def _problems(
    course: Course,
    old: Manifest,
    notes: bool,
    top: str,
    naming: Naming,
    manifest_path: Path,
    published: Sequence[str],
) -> tuple[tuple[Problem, ...], tuple[Problem, ...]]:
    """What a plan says besides its cards' errors. Errors: the language folder renamed, no
    manifest though `published` says the decks were (`published.evidence`: none with
    --new-edition). Warnings: no manifest otherwise (with `notes` to ship), a top deck that
    another language published too."""
    lost = None if old.found or not published else lost_manifest(manifest_path, published)
    errors = tuple(filter(None, [lang_changed(course, old, manifest_path), lost]))
    found = []
    if not old.found and notes and lost is None:
        found.append(_missing_manifest(manifest_path))
    if (shared := _shared_top_deck(course, top, naming, manifest_path)) is not None:
        found.append(shared)
    return errors, tuple(found)


def _missing_manifest(path: Path) -> Problem:
    """A language without a manifest, and nothing that says its decks were published (else
    `lost_manifest`): this build starts its first edition."""
    return Problem(
        SourceLoc(path, 0),
        "no manifest: this build starts a first edition of these decks, every note stamped with "
        "the build time, and records it in this file (commit it). If decks of this language were "
        f"ever published, restore the file instead (git log --oneline -- {path}; "
        f"git checkout <commit> -- {path}) and build again",
    )


def lost_manifest(path: Path, published: Sequence[str]) -> Problem:
    """A language without a manifest whose decks were published (`published`: what says so):
    the build would give learners who have them a first edition over their cards."""
    return Problem(
        SourceLoc(path, 0),
        f"no manifest, but decks of this language were published ({'; '.join(published)}). "
        "Without it, learners who have them would get every card reported as added and every "
        "note stamped with this build's time, a renamed lesson's new cards in a new deck (the "
        "lesson split in two), and a Q/A card made cloze as a conflicting note. Restore it from "
        f"version control (git log --oneline -- {path}; git checkout <commit> -- {path}) and "
        "build again. To start a new edition on purpose, build with --new-edition (a deck that "
        "only a draft of an older version wrote, which nobody has: delete it)",
    )


def _shared_top_deck(
    course: Course, top: str, naming: Naming, manifest_path: Path
) -> Problem | None:
    """The language's top deck has the name another language published for its own (decks
    published by an older version, whose names never carried the language): a learner who
    imports both gets both languages' lessons in one deck tree. A published name stays, so this
    is said, with the way to a deck of its own for learners who import the language later."""
    langs = [other for other, name in naming.same_top if name == top]
    if not langs:
        return None
    lang = course.lang
    return Problem(
        SourceLoc(manifest_path, 0),
        f"the {lang} top deck '{top}' is also the top deck of {', '.join(langs)}: a learner who "
        "imports both gets their lessons in one deck tree (and a lesson of the same number and "
        "title in one deck). A published deck name is kept (Anki matches decks by name): to "
        f"give learners who import {lang} from now on decks of its own, build once with "
        f"--rename-decks --lang {lang} (its top deck becomes "
        f"'{_top_name(course.title, lang, naming.shared_title)}' "
        "and each lesson deck takes its current title and number; learners who have the "
        "decks keep their cards in the old ones and get new cards in the renamed ones)",
    )


def _id_change(course: Course, old: Manifest, manifest_path: Path) -> IdChange | None:
    """The course ID differs from the one the language's decks were released under (the top
    deck's `course`, once a build recorded it)."""
    top = old.decks.get("")
    if top is None or not top.course or top.course == course.id:
        return None
    return IdChange(course.lang, top.course, manifest_path, course.id, course.id_line)


def lang_changed(course: Course, old: Manifest, manifest_path: Path) -> Problem | None:
    """The language folder's name differs from the language code the decks were released under
    (the top deck's `lang`, once a build recorded it: a folder renamed with its manifest, `pl`
    to `pl-PL`). Every note's GUID and every deck's and note type's ID derive from it, as do the
    HTML course's address and the key of its stored progress: learners would get a copy of
    every card. The problem is the folder's."""
    top = old.decks.get("")
    if top is None or not top.lang or top.lang == course.lang:
        return None
    folder = manifest_path.parent
    return Problem(
        SourceLoc(folder, 0),
        f"the language folder is '{course.lang}', but its decks were released as "
        f"'{top.lang}' ({manifest_path}). Every note's identity, the decks and the note types "
        "come from the language code, as do the HTML course's address and the progress it "
        "keeps: learners who have the decks would get a second copy of every card, without "
        "its review history. To keep the course, rename the folder back to "
        f"{folder.parent / top.lang}. For a new edition that learners import beside the old "
        f"one, start a new manifest: move {manifest_path} out of the lessons folder and build "
        "again",
    )


def course_changed(changes: Sequence[IdChange]) -> Problem:
    """One problem for every language whose decks were released under another course ID (each
    plan's `id_change`; they share this build's ID and where it comes from): learners would get
    a copy of every card. The problem is `lessons/course.yml`'s: at its `id` line when there is
    one (`Course.id_line`, as the course file's reader found it)."""
    first = changes[0]
    shown = first.manifest.parent.parent / COURSE_FILE
    recorded = {change.recorded: None for change in changes}
    back = f"`id: {first.recorded}`" if len(recorded) == 1 else "the ID its decks were released as"
    line = first.id_line
    if line is None:
        what, fix = "not found, so ", f"restore it (git checkout -- {shown}) with {back}"
    elif line == 0:
        what, fix = "has no 'id', so ", f"add {back} to it"
    else:
        what, fix = "", f"set it back to {back}"
    others = first.manifest.parent.parent / "<lang>" / first.manifest.name
    return Problem(
        SourceLoc(shown, line or 0),
        f"{what}the course ID is '{first.course}', but {_released(changes, recorded)}. Every "
        "note's identity and the note types come from the course ID: learners who have the "
        "decks would get a second copy of every card, without its review history, and the HTML "
        f"course would forget their progress. To keep the course, {fix}. For a new course that "
        f"learners import beside the old one, start new manifests: move every {others} out of "
        "the lessons folder and build again",
    )


def _released(changes: Sequence[IdChange], recorded: Iterable[str]) -> str:
    """'the el, lv and pl decks were released as 'x' (their manifests)', for each recorded ID;
    at most `TERMINAL_ITEMS` manifests named, then how many more."""
    parts = []
    for course_id in recorded:
        group = [change for change in changes if change.recorded == course_id]
        langs = [change.lang for change in group]
        named = ", ".join(str(change.manifest) for change in group[:TERMINAL_ITEMS])
        more = f" and {len(group) - TERMINAL_ITEMS} more" if len(group) > TERMINAL_ITEMS else ""
        which = ", ".join(langs[:-1]) + " and " + langs[-1] if len(langs) > 1 else langs[0]
        parts.append(f"the {which} decks were released as '{course_id}' ({named}{more})")
    return "; ".join(parts)


def _plan_note_types(state: _Draft, note_types: Mapping[str, tuple[str, str]]) -> dict[str, int]:
    mods = {}
    for key, (name, digest) in sorted(note_types.items()):
        old = state.old.note_types.get(key)
        if old is not None and old.hash == digest:
            mods[key] = old.mod
            continue
        mods[key] = state.bump(old.mod if old else None)
        state.entries.append(NoteTypeEntry(key, digest, mods[key]))
        if old is not None:
            state.add("note_types", Item(name))
            continue
        had = sum(1 for e in state.old.cards.values() if NOTE_TYPE[e.kind] == key)
        if had:  # cards published before this note type existed (a manifest from an older version)
            note = (
                f"a new note type for {had} published card(s): collections that have them keep "
                "their old note type, and Anki reports those notes as conflicting and updates "
                "nothing"
            )
            state.add("not_in_place", Item(name, "", note))
    return mods


def _plan_card(state: _Draft, note: Shipped) -> None:
    old = state.old.cards.get(note.card)
    if old is not None and (problem := _type_change(old, note)) is not None:
        state.errors.append(problem)
        return
    if old is not None and old.hash == note.digest and not old.retired:
        state.mods[note.card] = old.mod
        was = (old.kind, old.lesson, old.clozes, old.cloze_hashes)
        if was != (note.kind, note.lesson, note.clozes, note.cloze_hashes):
            # (an entry written before cloze hashes were recorded gets them: no release)
            known = replace(
                old, kind=note.kind, lesson=note.lesson, clozes=note.clozes,
                cloze_hashes=note.cloze_hashes,
            )  # fmt: skip
            state.entries.append(known)
        return
    mod = state.bump(old.mod if old else None)
    state.mods[note.card] = mod
    entry = CardEntry(
        note.card, note.kind, note.lesson, note.digest, mod, state.release, state.release,
        note.clozes, 0, old.source if old else "", old.synced if old else "", note.cloze_hashes,
    )  # fmt: skip
    item = Item(note.card, str(note.loc))
    if old is None:
        state.add("added", item)
        state.entries.append(entry)
        return
    state.entries.append(replace(entry, added=old.added, earlier=_earlier(old, note.lesson)))
    state.add("restored" if old.retired else "changed", item)
    _not_in_place(state, old, note, item)


def _moved_only_decks(
    state: _Draft, course: Course, notes: Sequence[Shipped], full: Mapping[str, str]
) -> None:
    """New lesson decks whose every card was published in another lesson (a lesson split, a
    lesson's `id` changed): learners who have those cards keep them in their old decks, yet Anki
    makes every deck a card of the package names, so they get the new deck empty. Said with the
    cards that moved (`_not_in_place`); newcomers find the cards in it."""
    new = {lesson.id for lesson in course.lessons if lesson.id not in state.old.decks}
    if not new:
        return
    moved: dict[str, bool] = {}
    for note in notes:
        if note.lesson in new:
            old = state.old.cards.get(note.card)
            was_elsewhere = old is not None and bool(old.lesson) and old.lesson != note.lesson
            moved[note.lesson] = moved.get(note.lesson, True) and was_elsewhere
    said = (
        "a new deck of moved cards only: learners who have them keep them in their old decks "
        "and get this deck empty (Anki makes every deck the package's cards name; they may "
        "delete it)"
    )
    for lesson in course.lessons:
        if moved.get(lesson.id):
            state.add("not_in_place", Item(full[lesson.id], "", said))


def _type_change(old: CardEntry, note: Shipped) -> Problem | None:
    """A published Q/A card that became a cloze (or back): Anki cannot follow."""
    if not old.lesson or (old.kind is CardKind.CLOZE) == (note.kind is CardKind.CLOZE):
        return None  # ('' lesson: migrated entry whose kind is not known)
    return Problem(
        note.loc,
        f"card {note.card} was published as a {old.kind.value} card and is now a "
        f"{note.kind.value} card: Anki never changes a note's type, so learners who have it "
        "would never get this card again. Give it a new ID (delete its ID comment; the build "
        f"gives it a new one) and the old card {'stays retired' if old.retired else 'retires'}",
    )


def _not_in_place(state: _Draft, old: CardEntry, note: Shipped, item: Item) -> None:
    """Changes that existing collections cannot follow: name the card and say what they keep."""
    if old.lesson and old.lesson != note.lesson:
        state.add("moved", replace(item, note=f"from lesson {old.lesson} to {note.lesson}"))
        state.add("not_in_place", replace(item, note=f"moved: {_kept_in(state.old, old)}"))
    if (old.kind, note.kind) == (CardKind.REVERSED, CardKind.BASIC):
        state.add(
            "not_in_place",
            replace(
                item,
                note="no longer reversed: learners who have its reverse card see it blank until "
                "they run Tools > Empty Cards",
            ),
        )
    if CardKind.CLOZE is old.kind is note.kind and (
        message := _clozes_lost(old, note) or _clozes_moved(old, note)
    ):
        state.add("not_in_place", replace(item, note=message))
    if split := _split(state, old, note):
        state.add("not_in_place", replace(item, note=split))


def _split(state: _Draft, old: CardEntry, note: Shipped) -> str:
    """A published note that gets a new card (made reversed, a cloze number added) after it
    moved (now or in an earlier release): Anki puts a new card of a note learners have in the
    deck the package names (the current lesson's), and keeps the cards they have in the deck
    they first got them in, so the note's cards end up in two decks. One package cannot give
    newcomers the cards in one deck and learners theirs in another: the report names both. ''
    when it gets no new card, or learners have it in no other deck than the current lesson's."""
    new = _new_cards(old, note)
    if not new or all(lesson == note.lesson for lesson in _decks_of(old).lessons):
        return ""
    deck = state.decks.get(note.lesson, note.lesson)
    return (
        f"{new} to deck '{deck}' (where newcomers get all its cards), but it moved: "
        f"{_kept_in(state.old, old)}; where that is not '{deck}', its cards are in two decks "
        "(Browse > Cards > Change Deck moves them)"
    )


def _new_cards(old: CardEntry, note: Shipped) -> str:
    """The cards a published note gets now, as the report says they go: '' for none."""
    if not old.lesson:
        return ""  # (a migrated entry: its kind is not known)
    if (old.kind, note.kind) == (CardKind.BASIC, CardKind.REVERSED):
        return "made reversed: its new reverse card goes"
    if CardKind.CLOZE is old.kind is note.kind and (added := set(note.clozes) - set(old.clozes)):
        cards = "card goes" if len(added) == 1 else "cards go"
        return f"cloze {_numbers(sorted(added))} added: its new {cards}"
    return ""


def _clozes_lost(old: CardEntry, note: Shipped) -> str:
    """A published cloze note that lost a cloze number: Anki keys each card by its number, so the
    lost number's card goes blank and a cloze now under another number takes that number's
    history. '' when no number was lost (a new number is a new card)."""
    lost = sorted(set(old.clozes) - set(note.clozes))
    if not lost:
        return ""
    cards = (
        f"the cards of clozes {_numbers(lost)}" if len(lost) > 1 else f"the card of cloze {lost[0]}"
    )
    message = (
        f"cloze numbers {_numbers(old.clozes)} -> {_numbers(note.clozes)}: learners who have it "
        f"see {cards} blank until they run Tools > Empty Cards, and each remaining cloze keeps "
        "the review history of the number it has now"
    )
    if note.clozes != tuple(range(1, len(note.clozes) + 1)):
        return message  # numbered by the author: the remaining clozes kept their numbers
    return (
        f"{message}. ==x== clozes are numbered in order, so removing one that is not the last "
        "gives each cloze after it the number (and history) of the one before it: to keep the "
        "published numbers, write them in the lesson (==2;;x== or {{c2::x}}) and build again"
    )


def _clozes_moved(old: CardEntry, note: Shipped) -> str:
    """A published cloze note none of whose numbers was lost, but the text of a cloze now stands
    under another number (a cloze inserted before others, two swapped): Anki keeps each number's
    review history, so that cloze is asked with the history of the one that had its number.
    '' when none moved, or when the manifest has no hashes for it (written before they were
    recorded: the next build records them, changing nothing for learners)."""
    if len(old.cloze_hashes) != len(old.clozes):
        return ""
    hashes = dict(zip(note.clozes, note.cloze_hashes, strict=False))
    numbers = dict(zip(note.cloze_hashes, note.clozes, strict=False))
    moves = [
        f"cloze {n} is now cloze {numbers[text]}"
        for n, text in zip(old.clozes, old.cloze_hashes, strict=True)
        if hashes.get(n) != text and numbers.get(text, n) != n
    ]
    if not moves:
        return ""
    message = (
        f"cloze numbers {_numbers(old.clozes)} -> {_numbers(note.clozes)}, "
        f"{', '.join(moves)}: learners who have it keep each number's review history, so a "
        "cloze that moved is asked with the history of the one that had its number before"
    )
    if note.clozes != tuple(range(1, len(note.clozes) + 1)):
        return message
    return (
        f"{message}. ==x== clozes are numbered in order, so inserting one before others (or "
        "reordering them) gives a cloze another number, and that number's history: to keep the "
        "published numbers, write them in the lesson (==2;;x== or {{c2::x}}) and build again"
    )


def _numbers(clozes: Sequence[int]) -> str:
    return ", ".join(map(str, clozes)) or "none"


def _earlier(old: CardEntry, lesson: str) -> tuple[str, ...]:
    """`CardEntry.earlier` of a card published in `old.lesson`, now in `lesson`."""
    if not old.lesson or old.lesson == lesson:
        return old.earlier
    known = _decks_of(old)
    lessons = [x for x in known.lessons if x != lesson]
    return ("",) * (not known.complete) + tuple(lessons)


class _Decks(NamedTuple):
    lessons: tuple[str, ...]
    """The lessons a card was published in, oldest first: one deck of theirs has it in every
    collection that has it."""
    complete: bool
    """False: it may have been in other lessons before, which the manifest does not record."""


def _decks_of(old: CardEntry) -> _Decks:
    """Where learners may have a published card. `earlier` lists the lessons it left since
    builds record them; an entry without it never moved if it never changed since it was first
    published (a move changes the note's tags), else it may have moved before that was recorded."""
    lessons = tuple(dict.fromkeys(x for x in (*old.earlier, old.lesson) if x))
    complete = (old.earlier[:1] != ("",)) if old.earlier else old.changed == old.added
    return _Decks(lessons, complete)


def _kept_in(old: Manifest, card: CardEntry) -> str:
    """Where learners who have a card keep it, when it moves: the deck each first got it in."""
    lessons, complete = _decks_of(card)
    decks = [f"'{_published_deck(old, lesson)}'" for lesson in lessons]
    if complete and len(decks) == 1:
        return f"learners who have it keep it in deck {decks[0]}"
    if not complete:
        decks.append(
            "an earlier lesson's deck if it moved before (older manifests do not record moves)"
        )
    listed = ", ".join(decks[:-1]) + " or " + decks[-1]
    return f"learners who have it keep it in the deck they first got it in: {listed}"


def _published_deck(old: Manifest, lesson: str) -> str:
    top, leaf = old.decks.get(""), old.decks.get(lesson)
    if top is None or leaf is None:
        return lesson
    return f"{top.name}::{leaf.name}"


def _plan_retired(
    state: _Draft, present: set[str], digests: Mapping[str, str]
) -> tuple[CardEntry, ...]:
    retired = []
    for card_id, old in sorted(state.old.cards.items()):
        if card_id in present:
            continue
        digest = digests[card_id]
        entry = old
        if old.hash != digest:
            entry = replace(
                old,
                hash=digest,
                mod=state.bump(old.mod),
                changed=state.release,
                retired=old.retired or state.release,
            )
            state.entries.append(entry)
        if not old.retired:
            state.add("retired", Item(card_id, f"lesson {old.lesson}" if old.lesson else ""))
        state.mods[card_id] = entry.mod
        retired.append(entry)
    return tuple(retired)


# -- deck names -----------------------------------------------------------------------------------


def _plan_decks(
    state: _Draft, course: Course, rename: bool, naming: Naming
) -> tuple[str, dict[str, str]]:
    """The top deck's name and each lesson's deck name below it. A published name stays (Anki
    matches decks by name); a new lesson's name sorts where the lesson stands (`lesson_names`)."""
    old = state.old.decks
    top = _plan_top(state, course, rename, naming)
    lessons = [(lesson.id, lesson.title) for lesson in course.lessons]
    if rename:
        width = _width(len(lessons))
        leaves = {id_: f"{n:0{width}d} {title}" for n, (id_, title) in enumerate(lessons, 1)}
    else:
        published = {id_: old[id_].name for id_, _ in lessons if id_ in old}
        leaves = lesson_names(lessons, published, [e.name for e in old.values() if e.deck])
    for lesson in course.lessons:
        entry = old.get(lesson.id)
        if entry is None or entry.name != leaves[lesson.id]:
            renamed = DeckEntry(lesson.id, leaves[lesson.id], state.now)
            if entry is not None:  # a rename keeps what the entry knows of its translation
                renamed = replace(entry, name=renamed.name, mod=renamed.mod)
            state.entries.append(renamed)
            state.visible = True
            full = f"{top}::{leaves[lesson.id]}"
            if entry is None:
                state.add("decks_added", Item(full))
            else:
                state.add("decks_renamed", Item(f"{top}::{entry.name} -> {full}"))
    return top, leaves


def lesson_names(
    lessons: Sequence[tuple[str, str]], published: Mapping[str, str], taken: Iterable[str]
) -> dict[str, str]:
    """Each lesson's deck name, for `lessons` ((ID, title) in course order): its `published`
    name, or a new one that sorts, as Anki sorts deck names (`anki_order`), right after the deck
    of the lesson before it and before the next of the names `taken` (every published lesson
    deck name, a deleted lesson's too). A first publication numbers the lessons 1..n, padded to
    the width of n (at least 2: `01`..`99`, `001`..`120`)."""
    names = sorted(taken, key=anki_order)
    width, previous, chosen = _width(len(lessons)), None, {}
    for lesson_id, title in lessons:
        name = published.get(lesson_id)
        if name is None:
            name = _new_name(title, previous, names, width)
            bisect.insort(names, name, key=anki_order)
        chosen[lesson_id] = name
        previous = name if _label(name) is not None else previous
    return chosen


def anki_order(name: str) -> str:
    """How Anki orders deck names: as text, case folded (its `unicase` collation; checked
    against Anki's deck list in tests): `10 …` < `100 …` < `11 …`, `01 …` < `01.5 …` < `02 …`."""
    return name.casefold()


def _width(lessons: int) -> int:
    return max(2, len(str(lessons)))


def _new_name(title: str, previous: str | None, names: Sequence[str], width: int) -> str:
    """A new lesson's deck name: numbered between the `previous` lesson's and the next of
    `names` after it (in Anki's order), with as many whole-number digits as `previous` (or that
    next name, or `width`), so that it sorts between them as text; where no number can (names
    published out of order), the number that follows `previous`'s."""
    at = 0 if previous is None else bisect.bisect_right(names, anki_order(previous), key=anki_order)
    after = names[at] if at < len(names) else None
    low = _label(previous) if previous is not None else None
    high = _label(after) if after is not None else None
    digits = _whole_digits(previous) or _whole_digits(after) or width
    made = [f"{_format(label, digits)} {title}" for label in _candidates(low, high)]
    fits = (
        name
        for name in made
        if (previous is None or anki_order(previous) < anki_order(name))
        and (after is None or anki_order(name) < anki_order(after))
    )
    return next(fits, made[-1])


def _candidates(low: Decimal | None, high: Decimal | None) -> list[Decimal]:
    """Numbers for a deck between labels `low` and `high`, the likeliest first: the shortest
    decimal between them, then the shortest between `low` and its next whole number (`99.5`
    after `99`: `100` would sort between `10` and `11`)."""
    base = low if low is not None else Decimal(0)
    found = [_between(low, high)] if high is None or high > base else []
    return [*found, _between(low, Decimal(int(base) + 1))]


def _whole_digits(name: str | None) -> int:
    """How many digits the whole part of the name's number has (0: no number)."""
    match = LABEL.match(name) if name is not None else None
    return len(match.group(1).partition(".")[0]) if match else 0


def _plan_top(state: _Draft, course: Course, rename: bool, naming: Naming) -> str:
    """The top deck's name: as published, else (or with --rename-decks) `_top_name`."""
    top_entry = state.old.decks.get("")
    if rename or top_entry is None:
        top = _top_name(course.title, course.lang, naming.shared_title)
    else:
        top = top_entry.name
    if top_entry is None or top_entry.name != top:
        state.entries.append(DeckEntry("", top, state.now, course=course.id, lang=course.lang))
        state.visible = True
        if top_entry is None:
            state.add("decks_added", Item(top))
        else:
            state.add("decks_renamed", Item(f"{top_entry.name} -> {top}"))
    elif (top_entry.course, top_entry.lang) != (course.id, course.lang):
        # (a manifest from before the course ID or the language was recorded)
        state.entries.append(replace(top_entry, course=course.id, lang=course.lang))
    return top


def _top_name(title: str, lang: str, shared_title: bool) -> str:
    """A new top deck's name: the course title, with the language when another language of the
    course has that title or published a top deck of that name (`Naming.shared_title`: a brand
    name, or the course's title where a language has no course file of its own). Anki would
    put both languages' lessons in one deck tree, and a published name can never change."""
    return f"{title} ({lang})" if shared_title else title


def _label(name: str) -> Decimal | None:
    match = LABEL.match(name)
    return Decimal(match.group(1)) if match else None


def _between(low: Decimal | None, high: Decimal | None) -> Decimal:
    """The shortest decimal strictly between `low` and `high`, near their middle: a name that
    sorts between two published decks ('01 A' < '01.5 B' < '02 C')."""
    low = low if low is not None else Decimal(0)
    if high is None:
        return Decimal(int(low) + 1)
    for digits in range(0, 30):
        step = Decimal(1).scaleb(-digits)
        first = (low / step).to_integral_value(ROUND_FLOOR) + 1
        last = (high / step).to_integral_value(ROUND_CEILING) - 1
        if first <= last:
            return ((first + last) // 2) * step
    raise AssertionError("decimals between two different numbers always exist")


def _format(label: Decimal, digits: int) -> str:
    """`label` with its whole part padded to `digits` digits: `01.5`, `007`."""
    whole, _, fraction = format(label.normalize(), "f").partition(".")
    return f"{int(whole):0{digits}d}" + (f".{fraction}" if fraction else "")


# -- what the HTML course shows -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseNotes:
    """What the latest release of a language brought: the HTML course's "what changed" list."""

    release: int
    added: tuple[str, ...]
    """Card IDs, in ID order."""
    changed: tuple[str, ...]
    retired: int


def release_notes(manifest: Manifest) -> ReleaseNotes | None:
    last = manifest.last_release
    if last is None:
        return None
    n = last.release
    live = [e for e in sorted(manifest.cards.values(), key=lambda e: e.card) if not e.retired]
    return ReleaseNotes(
        n,
        tuple(e.card for e in live if e.added == n),
        tuple(e.card for e in live if e.changed == n and e.added != n),
        sum(1 for e in manifest.cards.values() if e.retired == n),
    )
