"""Manifest: what each language's learners have been given, kept beside the lessons.

`lessons/<lang>/manifest.jsonl` holds one JSON object per line, sorted, one line per entry:

    {"release": 2, "time": 1795392540}
    {"note_type": "qa", "hash": "…", "mod": 1795392540}
    {"deck": "", "name": "Course title", "mod": 1795392540, "course": "customer-service",
     "lang": "el"}
    {"deck": "six-skills", "name": "01 Six skills", "mod": 1795392540}
    {"card": "k3m9qz2a", "kind": "basic", "lesson": "six-skills", "hash": "…", "mod": 1795392540,
     "added": 1, "changed": 2}

One line per entry, so two branches that add cards merge line by line (the shipped
`.gitattributes` merges the file with git's `union` driver); when a merge leaves two lines for one
key, the one with the newest time wins. The build rewrites the file sorted. Anything malformed is a
`path:line: message` error, never a traceback.

Records are frozen dataclasses. A new optional key is one field with a default in its record and
one row in its `_FIELDS` table; a key this version does not know is an error (rewriting the file
would otherwise drop it).
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TypeVar, cast

from .model import CardKind, CourseError, Problem, SourceLoc

MANIFEST_FILE = "manifest.jsonl"
LEGACY_FILE = "anki-mod-times.json"
"""The manifest's predecessor (one JSON document of hashes and times); migrated on first build."""


@dataclass(frozen=True, slots=True)
class Release:
    """A build that reached learners: every build but a `--draft` one, when it changed anything."""

    release: int
    """1, 2, 3…: the release's number in this language."""
    time: int
    """The build time (seconds since the epoch): the `mod` of what changed in it."""

    @property
    def key(self) -> str:
        return str(self.release)

    @property
    def newness(self) -> int:
        return self.time


@dataclass(frozen=True, slots=True)
class NoteTypeEntry:
    """A note type as last shipped: Anki applies its templates and CSS when `mod` is newer."""

    note_type: str
    """'qa' (basic and reversed cards) or 'cloze'."""
    hash: str
    """sha256 of the name, fields, templates and CSS."""
    mod: int

    @property
    def key(self) -> str:
        return self.note_type

    @property
    def newness(self) -> int:
        return self.mod


@dataclass(frozen=True, slots=True)
class DeckEntry:
    """A published deck name: Anki matches decks by name, so once out, a name stays."""

    deck: str
    """The lesson ID; '' for the course's top deck."""
    name: str
    """The top deck's full name, or a lesson deck's name below it ('01 Lesson title')."""
    mod: int
    """When the name was published (or deliberately renamed)."""
    source: str = ""
    """For a translated lesson: the content hash of its original lesson's prose (title,
    description, text outside cards) when the translation was last brought in line with it."""
    synced: str = ""
    """For a translated lesson: its own prose hash at that moment (see `CardEntry.synced`)."""
    course: str = ""
    """The top deck's (''): the course ID its decks were released under (every note's GUID and
    the note types' IDs derive from it: `updates.course_changed`); '' until a build records it.
    That build records its own ID: nothing else in a manifest is made from it (no note GUID is
    recorded, and a card's `hash` is not of its GUID), so a changed ID cannot be told there."""
    lang: str = ""
    """The top deck's (''): the language code its decks were released under, its folder's name
    (the GUIDs and every deck's and note type's ID derive from it too: `updates.lang_changed`);
    '' until a build records it."""

    @property
    def key(self) -> str:
        return self.deck

    @property
    def newness(self) -> int:
        return self.mod


@dataclass(frozen=True, slots=True)
class CardEntry:
    """A card (one Anki note) that learners have been given."""

    card: str
    """The author's card ID."""
    kind: CardKind
    lesson: str
    """The lesson ID it was last published in: its deck in collections that have it ('' when
    unknown: migrated from `anki-mod-times.json`, filled in by the next build)."""
    hash: str
    """sha256 of what Anki sees of the note (fields, tags, note type)."""
    mod: int
    """When that content last changed: the note's `mod` in every package."""
    added: int
    """The release that first published it."""
    changed: int
    """The release that last changed what learners see."""
    clozes: tuple[int, ...] = ()
    """A cloze card's numbers as last published (a retired cloze note keeps them)."""
    retired: int = 0
    """The release that retired it (0: it is in the lessons)."""
    source: str = ""
    """For a translated card: the content hash of its original-language card when this
    translation was last brought in line with it (`translations.py`)."""
    synced: str = ""
    """For a translated card: its own content hash at that moment. A translation whose hash still
    equals `synced` while its original's hash differs from `source` is stale."""
    cloze_hashes: tuple[str, ...] = ()
    """For each of `clozes`, a short hash of the text it hides as last published: what tells a
    cloze that moved to another number (updates.py); none in entries written before them."""
    earlier: tuple[str, ...] = ()
    """The lessons other than `lesson` it was published in, in the order it left them: learners
    who got it there keep it in that lesson's deck (Anki never moves a card). Written by a build
    that moves it; '' first when it may have moved before that was recorded (an older manifest:
    `updates._decks_of`)."""

    @property
    def key(self) -> str:
        return self.card

    @property
    def newness(self) -> int:
        return self.mod


Entry = Release | NoteTypeEntry | DeckEntry | CardEntry
E = TypeVar("E", Release, NoteTypeEntry, DeckEntry, CardEntry)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a whole number")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("text")
    return value


_KINDS = {kind.value: kind for kind in CardKind}


def _kind(value: Any) -> CardKind:
    try:
        return _KINDS[value]
    except (KeyError, TypeError):  # (TypeError: a list or an object is no kind either)
        raise ValueError(" or ".join(repr(k.value) for k in CardKind)) from None


def _clozes(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value
    ):
        raise ValueError("a list of cloze numbers")
    return tuple(value)


def _strings(what: str) -> Callable[[Any], tuple[str, ...]]:
    """The reader of a list of strings; `what` names it in the error."""

    def read(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(what)
        return tuple(value)

    return read


_hashes = _strings("a list of hashes")
_lessons = _strings("a list of lesson IDs")


# Record type, its key field, then how each JSON key is read (a missing key takes the default).
_FIELDS: Mapping[type[Any], Mapping[str, Callable[[Any], Any]]] = {
    Release: {"release": _int, "time": _int},
    NoteTypeEntry: {"note_type": _str, "hash": _str, "mod": _int},
    DeckEntry: {
        "deck": _str,
        "name": _str,
        "mod": _int,
        "source": _str,
        "synced": _str,
        "course": _str,
        "lang": _str,
    },
    CardEntry: {
        "card": _str,
        "kind": _kind,
        "lesson": _str,
        "hash": _str,
        "mod": _int,
        "added": _int,
        "changed": _int,
        "clozes": _clozes,
        "retired": _int,
        "source": _str,
        "synced": _str,
        "cloze_hashes": _hashes,
        "earlier": _lessons,
    },
}
_BY_KEY = {next(iter(readers)): record for record, readers in _FIELDS.items()}


_REQUIRED = {
    record: frozenset(f.name for f in fields(record) if f.default is MISSING) for record in _FIELDS
}


def parse_line(obj: Any) -> Entry:
    """One decoded line -> its record; ValueError with a message an author can act on."""
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object ({...}) on each line")
    kinds = [key for key in _BY_KEY if key in obj]
    if len(kinds) != 1:
        raise ValueError(f"expected exactly one of {', '.join(map(repr, _BY_KEY))}")
    record = _BY_KEY[kinds[0]]
    readers = _FIELDS[record]
    try:  # the usual line, read in one pass: every key known, every value well-formed
        entry: Entry = record(**{key: readers[key](value) for key, value in obj.items()})
    except (KeyError, TypeError, ValueError):
        entry = _read_checked(record, kinds[0], obj)  # raises, naming the first problem
    return entry


def _read_checked(record: type[Any], kind: str, obj: dict[str, Any]) -> Any:
    """`obj` read key by key in the record's order: ValueError for the first problem."""
    readers = _FIELDS[record]
    unknown = sorted(set(obj) - set(readers))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (written by a newer version?)")
    values: dict[str, Any] = {}
    for key, read in readers.items():
        if key not in obj:
            if key in _REQUIRED[record]:
                raise ValueError(f"{kind} entry without {key!r}")
            continue
        try:
            values[key] = read(obj[key])
        except ValueError as exc:
            raise ValueError(f"{key!r} must be {exc}") from None
    return record(**values)


def _json_list(value: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, value))}]"


def _json_strings(value: tuple[str, ...]) -> str:
    return f"[{', '.join(map(encode_basestring, value))}]"


def _json_kind(value: CardKind) -> str:
    return encode_basestring(value.value)


_ENCODERS: Mapping[Callable[[Any], Any], Callable[[Any], str]] = {
    _int: str,
    _str: encode_basestring,
    _kind: _json_kind,
    _clozes: _json_list,
    _hashes: _json_strings,
    _lessons: _json_strings,
}
"""How a value of each kind is written: as `json.dumps(value, ensure_ascii=False)` writes it."""
_LAYOUT = {
    record: tuple(
        (f.name, f.default, f'"{f.name}": ', _ENCODERS[_FIELDS[record][f.name]])
        for f in fields(record)
    )
    for record in _FIELDS
}
"""Record type -> (field name, default or MISSING, its JSON key, its JSON writer) of each field."""


def to_line(entry: Entry) -> str:
    """The entry as one JSON line, keys in the record's order, defaults left out: what
    `json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))` writes, without its per-call
    set-up (a manifest has a line per card)."""
    parts = []
    for name, default, key, write in _LAYOUT[type(entry)]:
        value = getattr(entry, name)
        if default is MISSING or value != default:
            parts.append(key + write(value))
    return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True, slots=True)
class Text:
    """The text of the manifest file another one was made from (`with_entries`), when that
    file's text is its manifest's `dumps()` (the build wrote it: `wrote`, `_stored`): `dumps`
    then writes again only the lines of the cards put in since, not a line per card."""

    data: bytes
    """The file's bytes (UTF-8): decoded when `dumps` asks."""
    head: int
    """Its lines before the cards' (releases, note types, decks)."""
    changed: frozenset[str] = frozenset()
    """The cards put in since (their keys)."""
    stored: bytes | None = None
    """The pickled manifest the file's cache entry starts from (`_store`), when it was read from
    there: the entry of a manifest made from this one is that pickle again, as it is, and the
    cards changed since (not a pickle of every card)."""
    since: frozenset[str] = frozenset()
    """The cards that entry changed after `stored`."""


ORDER: Mapping[type[Any], int] = {Release: 0, NoteTypeEntry: 1, DeckEntry: 2, CardEntry: 3}
"""The tables' order in the file."""
_CARD_KEY_AT = len('{"card": ')
"""Where a card line's key (its JSON string) starts: `card` is its first field."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything one language's learners have been given, by key."""

    releases: Mapping[str, Release] = field(default_factory=dict)
    note_types: Mapping[str, NoteTypeEntry] = field(default_factory=dict)
    decks: Mapping[str, DeckEntry] = field(default_factory=dict)
    cards: Mapping[str, CardEntry] = field(default_factory=dict)
    found: bool = True
    """False when there was no manifest (nor a legacy file) to read."""
    text: Text | None = field(default=None, compare=False, repr=False)
    """The file it was made from, when `dumps` can take that file's card lines (not pickled:
    `_store`)."""

    @property
    def last_release(self) -> Release | None:
        return max(self.releases.values(), key=lambda r: r.release, default=None)

    def entries(self) -> Iterable[Entry]:
        for table in (self.releases, self.note_types, self.decks, self.cards):
            yield from table.values()

    def dumps(self) -> str:
        """The file's text: a line per entry, sorted by table, then key (a release by number)."""
        if self.text is not None:
            return self._spliced(self.text).decode("utf-8")
        return _lines(self.entries())

    def encoded(self) -> bytes:
        """`dumps().encode()`, the file's bytes, made without the whole file's text when there
        is no earlier text to take lines from: one Greek deck name makes that text 2 bytes a
        character (12 MB for the 6 MB of a 100,000-card file, at a large build's peak)."""
        if self.text is not None:
            return self._spliced(self.text)
        return _encoded_lines(self.entries())

    def _spliced(self, text: Text) -> bytes:
        """`dumps().encode()`, the card lines taken from `text` but those of the cards put in
        since: its bytes split and joined as they are, not decoded and encoded again (a line
        end is one byte in UTF-8 and in no other character's; a 33,000-card file took 27 ms
        to splice as text in a one-edit rebuild at 100,000 cards)."""
        cards = text.data.split(b"\n")[text.head : -1]  # (the text ends with a line end)
        for key in sorted(text.changed):
            line = to_line(self.cards[key]).encode()
            at = bisect.bisect_left(cards, key, key=_card_key_of)
            if at < len(cards) and _card_key_of(cards[at]) == key:
                cards[at] = line
            else:
                cards.insert(at, line)
        head = _lines((*self.releases.values(), *self.note_types.values(), *self.decks.values()))
        return head.encode() + b"\n".join(cards) + b"\n" if cards else head.encode()

    @classmethod
    def of(cls, entries: Iterable[Entry], found: bool = True) -> Manifest:
        """Group entries by table; two entries for one key (a merge) keep the newest."""
        tables: dict[type[Any], dict[str, Any]] = {record: {} for record in _FIELDS}
        for entry in entries:
            table = tables[type(entry)]
            old = table.get(entry.key)
            if old is None or (entry.newness, to_line(entry)) > (old.newness, to_line(old)):
                table[entry.key] = entry
        return cls(
            tables[Release], tables[NoteTypeEntry], tables[DeckEntry], tables[CardEntry], found
        )


def _ordered(entries: Iterable[Entry]) -> list[Entry]:
    def order(e: Entry) -> tuple[int, int, str]:
        return (ORDER[type(e)], e.release if isinstance(e, Release) else 0, e.key)

    return sorted(entries, key=order)


def _lines(entries: Iterable[Entry]) -> str:
    return "".join(to_line(e) + "\n" for e in _ordered(entries))


LINES_PER_PART = 1000
"""Lines `_encoded_lines` encodes at a time."""


def _encoded_lines(entries: Iterable[Entry]) -> bytes:
    """`_lines(entries).encode()`, a part of LINES_PER_PART lines at a time: no text of every
    line at once, and ASCII card lines stay a byte a character until encoded."""
    ordered = _ordered(entries)
    return b"".join(
        "".join(to_line(e) + "\n" for e in ordered[at : at + LINES_PER_PART]).encode()
        for at in range(0, len(ordered), LINES_PER_PART)
    )


def same_text(path: Path, data: bytes) -> bool:
    """The file at `path` has the text of `data` (UTF-8), as `read_text` reads it (any line
    ends), without decoding either."""
    found = path.read_bytes()
    return found == data or found.replace(b"\r\n", b"\n").replace(b"\r", b"\n") == data


def _card_key(line: str) -> str:
    """The key of a card's line as `to_line` writes it."""
    key: str = _DECODER.raw_decode(line, _CARD_KEY_AT)[0]
    return key


def _card_key_of(line: bytes) -> str:
    """The key of a card's line as `to_line` writes it, from its bytes (UTF-8)."""
    return _card_key(line.decode("utf-8"))


def read(folder: Path, shown: Path | None = None) -> Manifest:
    """The manifest of `folder` (a `lessons/<lang>/` folder); the legacy file when it is the only
    one; an empty manifest with `found=False` when there is neither. Raises CourseError."""
    return File.read(folder, shown).parse()


@dataclass(frozen=True, slots=True)
class File:
    """A language's manifest file as read once: its bytes' hash (what a kept deck plan was
    decided against: `decided.py`) and, when asked, its parse."""

    path: Path
    """`manifest.jsonl`, or the legacy file when it is the only one."""
    shown: Path
    data: bytes | None
    """None: neither file exists."""
    digest: str
    """sha256 of which file it is and its bytes."""

    @property
    def lines(self) -> bool:
        """It is a `manifest.jsonl` (not the legacy file, not missing)."""
        return self.data is not None and self.path.name == MANIFEST_FILE

    @classmethod
    def read(cls, folder: Path, shown: Path | None = None) -> File:
        shown = shown or folder
        data = None
        for name in (MANIFEST_FILE, LEGACY_FILE):
            path = folder / name
            if path.exists():
                data = path.read_bytes()
                break
        return cls(path, shown / path.name, data, _digest(path, data or b""))

    def parse(self) -> Manifest:
        """Raises CourseError."""
        if self.data is None:
            return Manifest(found=False)
        if not self.lines:
            return read_legacy(self.path, self.shown)
        return _read_lines(self.path, self.shown, self.data, self.digest)


TOP_DECK_KEY = b'"deck": ""'
"""Where a line may be the top deck's entry, as the build writes it (`top_deck_name`)."""


def top_deck_name(folder: Path) -> str:
    """The top deck name the language folder's manifest records, '' when it records none (or
    cannot be read: its own build reports that). Only the lines that name the top deck are
    parsed: what another language's plan needs of it (`updates.namings`), at a fraction of the
    whole file's parse. Two lines (a union merge): the newest, as `read` keeps."""
    try:
        data = (folder / MANIFEST_FILE).read_bytes()
    except OSError:
        return ""
    newest: tuple[int, str] | None = None
    at = data.find(TOP_DECK_KEY)  # (bytes.find: 0.6 ms through a 10,000-card file; a regular
    while at >= 0:  # expression's search took 2.7 ms)
        start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at)
        end = end if end >= 0 else len(data)
        at = data.find(TOP_DECK_KEY, end)
        try:
            entry = json.loads(data[start:end])
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("deck") != "":
            continue
        name, mod = entry.get("name"), entry.get("mod")
        if isinstance(name, str) and isinstance(mod, int) and (newest is None or mod >= newest[0]):
            newest = (mod, name)
    return newest[1] if newest is not None else ""


def _digest(path: Path, data: bytes) -> str:
    return hashlib.sha256(path.name.encode() + b"\0" + data).hexdigest()


_LAST_READ: dict[Path, tuple[str, Manifest]] = {}
"""The last manifest read from each file, by the file's hash: a build reads each language's
manifest twice (the translations check, then the deck plan) and parses it once; the one a build
writes is not parsed when read back (`wrote`)."""
_LAST_READ_MAX = 16


def _remember(path: Path, digest: str, read: Manifest) -> None:
    _LAST_READ.pop(path, None)
    if len(_LAST_READ) >= _LAST_READ_MAX:
        del _LAST_READ[next(iter(_LAST_READ))]
    _LAST_READ[path] = (digest, read)


def wrote(path: Path, data: bytes, written: Manifest) -> str:
    """`data`, the text of `written` (`written.dumps()`), goes to `path`: reading those bytes back
    gives `written` without parsing them (the parse of `dumps` equals the manifest: tested).
    Returns the file's `File.digest`."""
    digest = _digest(path, data)
    _store(path, digest, written)
    _remember(path, digest, written)  # (not with `data` as its text: kept till the build ends)
    return digest


def _with_text(
    written: Manifest, data: bytes, stored: bytes | None = None, since: frozenset[str] = frozenset()
) -> Manifest:
    """`written`, whose `dumps()` is `data`, with that text: `dumps` of what is made from it
    writes only the lines that change (`stored`, `since`: see `Text`)."""
    head = len(written.releases) + len(written.note_types) + len(written.decks)
    return replace(written, text=Text(data, head, frozenset(), stored, since))


STORED = "manifests"
"""The cache folder's subfolder (`cache.Store`) of parsed manifests: the one a build writes is
the one the next build after an edit reads, and unpickling it takes a quarter of parsing it
(0.065 against 0.24 s for 33,000 cards)."""

_RECORDS = (Release, NoteTypeEntry, DeckEntry, CardEntry, Manifest)
"""The manifest's records, pickled as their constructor's arguments (`cache.dumps`)."""


def _stored_key(digest: str) -> bytes:
    from . import cache  # not at import: the replay of a build reads no manifest

    return hashlib.sha256(f"{cache.tool_digest()}\0{digest}".encode()).hexdigest().encode()


_Since = tuple[tuple[Any, Any, Any, bool], tuple[CardEntry, ...]]
"""What an entry holds after its pickled manifest: the releases, note types, decks and `found`
of the manifest, and the cards changed after the pickled one."""
SINCE_MAX = 2000
"""Cards an entry may list as changed after its pickled manifest (`Text.since`) before a build
pickles the whole manifest again."""


def _store(path: Path, digest: str, written: Manifest) -> None:
    """`written`, pickled, for the next build that reads the file `digest` names: the pickled
    manifest `written` was made from, when there is one, and the entries changed since (the
    cards `with_entries` put in, and the few entries of the other tables); else all of it."""
    from . import cache

    store = cache.Store.beside(path.parent.parent)
    if store.folder is None:
        return
    text = written.text
    cards = text.since | text.changed if text is not None else frozenset()
    if (
        text is None
        or text.stored is None
        or len(cards) > SINCE_MAX
        or not cards <= written.cards.keys()
    ):
        value = cache.pack(cache.dumps(replace(written, text=None), _RECORDS), b"")
    else:
        changed = tuple(written.cards[key] for key in sorted(cards))
        head = (written.releases, written.note_types, written.decks, written.found)
        value = cache.pack(text.stored, cache.dumps((head, changed), _RECORDS))
    store.put(path, "", _stored_key(digest), value, STORED)


def _stored(path: Path, digest: str) -> tuple[Manifest, bytes, frozenset[str]] | None:
    """The manifest `_store` kept for these bytes, the pickle it starts from and the cards
    changed after it; None when there is none."""
    from . import cache

    store = cache.Store.beside(path.parent.parent)
    data = store.get(path, "", _stored_key(digest), STORED)
    if data is None:
        return None
    try:
        first, second = cache.unpack(data)
        value = cache.loads(first)
        if not isinstance(value, Manifest):
            return None
        since: frozenset[str] = frozenset()
        if second:
            head, changed = cast(_Since, cache.loads(second))
            cards = {**value.cards, **{entry.card: entry for entry in changed}}
            value = Manifest(*head[:3], cards, head[3])
            since = frozenset(entry.card for entry in changed)
    except Exception:  # a corrupt entry: a miss
        return None
    return value, bytes(first), since


def _read_lines(path: Path, shown: Path, data: bytes, digest: str) -> Manifest:
    last = _LAST_READ.get(path)
    if last is not None and last[0] == digest:
        return last[1]
    stored = _stored(path, digest)
    if stored is not None:  # (its `dumps()` is `data`: `wrote`)
        read = _with_text(stored[0], data, stored[1], stored[2])
        _remember(path, digest, read)
        return read
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(shown, 0, "not UTF-8 text; restore it from version control") from None
    read = _parse_lines(text, shown)
    _remember(path, digest, read)
    return read


def _parse_lines(text: str, shown: Path) -> Manifest:
    problems: list[Problem] = []
    entries: list[Entry] = []
    # Lines end at "\n" only: the writer leaves U+2028, U+0085... as they are inside strings (as
    # `json.dumps(ensure_ascii=False)` does), and `splitlines` would cut a line there.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            entries.append(parse_line(_decode(line)))
        except json.JSONDecodeError as exc:
            problems.append(Problem(SourceLoc(shown, number), f"not a JSON line ({exc.msg})"))
        except ValueError as exc:
            problems.append(Problem(SourceLoc(shown, number), str(exc)))
    if problems:
        raise CourseError(problems)
    return Manifest.of(entries)


_DECODER = json.JSONDecoder()


def _decode(line: str) -> Any:
    """`json.loads(line)`: in one call of the decoder when the line is one JSON value and nothing
    else, as the build writes them; anything else goes through `json.loads` (its exact error)."""
    try:
        value, end = _DECODER.raw_decode(line)
    except json.JSONDecodeError:
        return json.loads(line)
    return value if end == len(line) else json.loads(line)


def read_legacy(path: Path, shown: Path) -> Manifest:
    """`anki-mod-times.json` (`{"note_types": {name: {hash, mod}}, "notes": {id: {hash, mod}}}`):
    each note keeps its hash and time; kind and lesson are filled in by the first build."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", 0)
        raise _error(shown, line, f"unreadable ({exc}); restore it from version control") from None
    notes = data.get("notes") if isinstance(data, dict) else None
    if not isinstance(notes, dict):
        raise _error(shown, 1, "expected a JSON object with 'notes'")
    entries: list[Entry] = []
    for card_id, value in sorted(notes.items()):
        if not (isinstance(value, dict) and isinstance(value.get("hash"), str)):
            raise _error(shown, 0, f"note {card_id!r}: expected 'hash' and 'mod'")
        try:
            mod = _int(value.get("mod"))
        except ValueError:
            raise _error(shown, 0, f"note {card_id!r}: 'mod' must be a whole number") from None
        entries.append(CardEntry(card_id, CardKind.BASIC, "", value["hash"], mod, 1, 1))
    if entries:
        entries.append(Release(1, max(e.newness for e in entries)))
    return Manifest.of(entries)


def _error(path: Path, line: int, message: str) -> CourseError:
    return CourseError([Problem(SourceLoc(path, line), message)])


def with_entries(manifest: Manifest, entries: Iterable[Entry]) -> Manifest:
    """`manifest` with `entries` put in (replacing entries with the same key)."""
    tables: dict[type[Any], dict[str, Any]] = {
        Release: dict(manifest.releases),
        NoteTypeEntry: dict(manifest.note_types),
        DeckEntry: dict(manifest.decks),
        CardEntry: dict(manifest.cards),
    }
    cards: list[str] = []
    for entry in entries:
        tables[type(entry)][entry.key] = entry
        if isinstance(entry, CardEntry):
            cards.append(entry.card)
    text = manifest.text
    if text is not None and cards:
        text = replace(text, changed=text.changed.union(cards))
    return replace(
        manifest,
        releases=tables[Release],
        note_types=tables[NoteTypeEntry],
        decks=tables[DeckEntry],
        cards=tables[CardEntry],
        text=text,
    )
