"""Which outputs are up to date: a build renders a deck, a SCORM zip or the site only when what it
is made from changed, or when the output on disk is not the one the last build wrote.

Each output's inputs are hashed (`deck_inputs`, `package_inputs`, `site_inputs`): the tool's
version and own files, the lessons' bytes, the images' names (content hashes), the course files'
settings, the manifest's state as the deck plan gives it (every note's mod time and content) and
the build's options. Equal inputs give equal bytes, so an output whose inputs hash is the one
recorded for it, and whose file (or folder) on disk still has the size and modification time the
build recorded after writing it, is left alone. The record is one file in the cache folder
(`outputs.json`), safe to delete: without it every output is rebuilt.

An output that must be rendered again is not always made again whole: the record also keeps, for
a language's folder of the site and a SCORM zip, what each of its pieces was made from
(`Pieces`: a lesson's files, its part of the search script, an asset), so that the writers take
over the pieces whose key did not change from the output on disk (site.Earlier), and what the
site stage found of each lesson (its size and graded check: site.LessonFacts).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .cache import Store, content_digest, tool_digest
from .files import Resolver, atomic_write

if TYPE_CHECKING:
    from .anki import DeckPlan
    from .model import Course, Library
    from .updates import ReleaseNotes

RECORD_FILE = "outputs.json"
LAST_BUILD_FILE = "last-build.json"
FORMAT = 2
"""Bump when the record's layout or what an inputs hash covers changes."""


HASH_BATCH = 4096
"""Parts joined per hash update: few updates (a deck's inputs are some 70,000 parts at 10,000
cards), never one string of a whole deck's text (60 MB of Greek at 100,000 cards)."""
HASH_CHARS = 1 << 18
"""Characters after which the parts gathered are hashed, however few (a deck's notes come in
parts of HASH_BATCH notes each: `_deck_parts`)."""


def _hash(parts: Iterable[str]) -> str:
    """sha256 of the tool's digest, then each part followed by a NUL."""
    digest = hashlib.sha256(tool_digest().encode())
    batch: list[str] = []
    size = 0
    for part in parts:
        batch.append(part)
        size += len(part)
        if len(batch) == HASH_BATCH or size >= HASH_CHARS:
            digest.update(("\0".join(batch) + "\0").encode())
            batch.clear()
            size = 0
    if batch:
        digest.update(("\0".join(batch) + "\0").encode())
    return digest.hexdigest()


def hash_parts(parts: Iterable[str]) -> str:
    """The hash `_hash` gives, for other modules' inputs (a kept deck plan's: decided.py)."""
    return _hash(parts)


def _file_digest(path: Path) -> str:
    """A file's bytes hashed as a lesson's are (`Lesson.digest`, its cache key): the replay's
    check and the loader's known digests compare the two."""
    return content_digest(path.read_bytes())


def course_inputs(library: Library, course: Course) -> str:
    """What one language's content was made from: its settings and every lesson's bytes. Worked
    out once per course of a library (a build asks for each output and kept plan: a dozen reads
    of every lesson at 100,000 cards); a library is never changed."""
    if not _COURSES or _COURSES[0][0] is not library:
        _COURSES[:] = [(library, {})]
    known = _COURSES[0][1]
    if id(course) not in known:
        known[id(course)] = _course_inputs(library, course)
    return known[id(course)]


_COURSES: list[tuple[Library, dict[int, str]]] = []
"""The last library `course_inputs` was asked about, and its courses' inputs by identity (the
library holds the courses: an identity is not taken by another object while it is kept)."""


def _course_inputs(library: Library, course: Course) -> str:
    parts = [library.id, library.title, course.id, course.lang, course.title, course.description]
    parts += [str(course.mastery_score), str(course.root)]
    for lesson in course.lessons:
        parts += [str(lesson.path), lesson.digest or _file_digest(lesson.path)]
        parts += [m.name for m in lesson.media]
    return _hash(parts)


def deck_inputs(plan: DeckPlan) -> str:
    """A deck's inputs: its notes as written (fields, tags, ids, mod times) and its deck tree."""
    return _hash(_deck_parts(plan))


def _deck_parts(plan: DeckPlan) -> Iterator[str]:
    """One part at a time: a deck's notes are never joined into one list."""
    course, decks = plan.course, plan.plan
    yield from (course.id, course.lang, course.title, course.description, decks.top_deck)
    yield from (f"{k}={v}" for k, v in sorted(decks.note_type_mods.items()))
    for lesson in course.lessons:
        yield from (lesson.id, lesson.description, decks.lesson_decks.get(lesson.id, ""))
        yield from (f"{m.name}={m.path}" for m in lesson.media)
    # A note's parts as one, joined by the NUL that `_hash` puts after each part, and HASH_BATCH
    # notes' as one: the same hash, without a step of this generator per part (five per note)
    # or per note (33,000 a language at 100,000 cards: 16 ms before a one-edit rebuild writes
    # its deck). Its fields, tags and note type by their hash: `note.digest`.
    mods, shown, join, notes = decks.note_mods, {(): "()", (0,): "(0,)"}, "\0".join, plan.notes
    for at in range(0, len(notes), HASH_BATCH):
        batch = []
        for n in notes[at : at + HASH_BATCH]:
            ords = shown.get(n.ords) or shown.setdefault(n.ords, repr(n.ords))
            batch.append(join((n.guid, n.lesson, str(mods[n.card_id]), n.digest, ords, *n.media)))
        yield join(batch)


def package_inputs(library: Library, course: Course, changes: ReleaseNotes | None) -> str:
    return _hash(["scorm", course_inputs(library, course), repr(changes)])


def site_inputs(
    library: Library,
    changes: Mapping[str, ReleaseNotes],
    decks: Mapping[str, str],
    packages: Mapping[str, str],
) -> str:
    """The site: every language's content and release notes, and the decks and zips it offers
    (by their own inputs hashes)."""
    parts = ["site"]
    for course in library.courses:
        lang = course.lang
        parts += [lang, course_inputs(library, course), repr(changes.get(lang))]
        parts += [decks.get(lang, "-"), packages.get(lang, "-")]
    return _hash(parts)


def language_inputs(
    library: Library, course: Course, changes: ReleaseNotes | None, site: Sequence[str]
) -> str:
    """One language's folder of the site: its content and release notes, and what else the site
    stage says the folder shows (`site`: other languages, the deck link, the page's split)."""
    return _hash(["site-language", course_inputs(library, course), repr(changes), *site])


def _signature(path: Path) -> list[object] | None:
    """Size and modification time of a file, or of every file of a folder: what tells an output
    the build wrote from one deleted or edited since."""
    try:
        if not path.is_dir():
            st = path.stat()
            return [st.st_size, st.st_mtime_ns, st.st_ino]
        found: list[object] = []
        _walk(str(path), "", found)
        return sorted(found, key=str)
    except OSError:
        return None


def _signatures(targets: Sequence[str]) -> dict[str, list[object] | None]:
    """Each target's `_signature`; a folder inside another target (a language's folder of the
    site) is taken from that one's walk, not walked again."""
    found: dict[str, list[object] | None] = {}
    for target in sorted(targets, key=len):  # a folder before those inside it
        outer = next((o for o in found if target.startswith(o + os.sep)), None)
        if outer is None:
            found[target] = _signature(Path(target))
        else:
            found[target] = _inside(found[outer], target[len(outer) + 1 :])
    return found


def _inside(signature: list[object] | None, name: str) -> list[object] | None:
    """The signature of the folder `name` of a folder whose signature is `signature`: its
    files' entries, named from it (in the same order: they share the prefix cut off)."""
    if signature is None:
        return None
    prefix = name + os.sep
    return [
        [entry[0][len(prefix) :], *entry[1:]]
        for entry in signature
        if isinstance(entry, list) and entry[0].startswith(prefix)
    ]


def _walk(folder: str, prefix: str, found: list[object]) -> None:
    """[path from the top, size, mtime, mode] of every file under `folder` (as `os.walk` finds
    them: a link to a folder is not followed), into `found`; os.scandir, and strings, not Paths:
    a large site's folder has thousands of files."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():
                if not entry.is_symlink():
                    _walk(entry.path, f"{prefix}{entry.name}{os.sep}", found)
                continue
            st = entry.stat()
            found.append([prefix + entry.name, st.st_size, st.st_mtime_ns, st.st_mode])


@dataclass(frozen=True, slots=True)
class Pieces:
    """The pieces of one output (a lesson's files in a language's folder of the site or in a
    SCORM zip; an asset in a zip), each by name with the key of what it is made from: the last
    build's (`old`: only while the output on disk is as that build left it) and this build's
    (`new`, filled as the output is made)."""

    old: Mapping[str, str]
    new: dict[str, str] = field(default_factory=dict)
    old_sums: Mapping[str, int] = field(default_factory=dict)
    """The output's files' checksums as the last build wrote them (a zip's entries' compressed
    data: zips.Writer.sums), by file name; `sums`: this build's (filled as it writes)."""
    sums: dict[str, int] = field(default_factory=dict)

    def same(self, name: str, key: str) -> bool:
        """Record that this build makes `name` from `key`; whether the last build's output has
        it made from the same: then it can be taken over as it is."""
        self.new[name] = key
        return self.old.get(name) == key


def _key(target: Path) -> str:
    """An output's key in the record: its real path."""
    return str(target.resolve())


@dataclass(slots=True)
class Record:
    """Each output's inputs hash and signature on disk, as the last successful build left them."""

    file: Path | None
    entries: dict[str, list[object]] = field(default_factory=dict)
    written: dict[str, list[object]] = field(default_factory=dict)
    skipped: list[Path] = field(default_factory=list)
    parts: dict[str, list[object]] = field(default_factory=dict)
    """Parts of an output (a language's folder of the site), recorded like outputs so that a
    later build can take them over unrendered; not outputs of their own (`written`)."""
    pieces: dict[str, dict[str, str]] = field(default_factory=dict)
    """Each output's or part's `Pieces` as the last build made them (by target), then this
    build's: those that `pieces_of` hands out, and the old ones of an output left as it was."""
    facts: dict[str, list[object]] = field(default_factory=dict)
    """What the site stage knows of each lesson (site.LessonFacts.known): read and added to in
    place, kept for the lessons of the last build's library (`keep_facts`)."""
    sums: dict[str, dict[str, int]] = field(default_factory=dict)
    """Each output's `Pieces.sums` as the last build wrote them (by target), then this build's."""
    signed: dict[str, list[object] | None] = field(default_factory=dict)
    """Each output's and part's signature as `save` found it, once committed: the build's
    record of itself (`LastBuild.remember`) takes them instead of walking the site again."""
    _made: dict[str, Pieces] = field(default_factory=dict)
    _kept: set[str] = field(default_factory=set)
    _found: dict[str, list[object] | None] = field(default_factory=dict)
    """Each target's signature as found before this build commits (asked more than once)."""

    @classmethod
    def load(cls, lessons: Path) -> Record:
        folder = Store.beside(lessons).folder
        if folder is None:
            return cls(None)
        file = folder / RECORD_FILE
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(file)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return cls(file)
        entries, pieces, facts = data.get("outputs"), data.get("pieces"), data.get("facts")
        sums = data.get("sums")
        return cls(
            file,
            entries if isinstance(entries, dict) else {},
            pieces=pieces if isinstance(pieces, dict) else {},
            facts=facts if isinstance(facts, dict) else {},
            sums=sums if isinstance(sums, dict) else {},
        )

    def _intact(self, key: str, target: Path) -> list[object] | None:
        """The last build's entry of `target` (`key`: its key), if it is on disk as that build
        left it."""
        entry = self.entries.get(key)
        if not isinstance(entry, list) or len(entry) != 2 or entry[1] is None:
            return None
        if key not in self._found:
            self._found[key] = self._signature(key, target)
        return entry if entry[1] == self._found[key] else None

    def _signature(self, key: str, target: Path) -> list[object] | None:
        """`_signature(target)` (`key`: its real path), cut from the signature of a folder
        holding it found already (a language's folder of the site, from the site's: `_inside`,
        as `save` records it) when `target` is a folder: no second walk of its files (1,300 at
        100,000 cards, for each language). A real path has no link in it, so that walk, which
        follows none, went through it."""
        for outer, found in self._found.items():
            if found is not None and key.startswith(outer + os.sep):
                if target.is_dir():
                    return _inside(found, key[len(outer) + 1 :])
                break
        return _signature(target)

    def unchanged(self, target: Path, inputs: str) -> bool:
        """The output at `target` is the one these inputs give: nothing to render."""
        entry = self._intact(_key(target), target)
        return entry is not None and entry[0] == inputs

    def pieces_of(self, target: Path) -> Pieces:
        """The pieces of `target` as the last build made them (none when the output on disk is
        not as that build left it), for this build to fill in as it makes the output again."""
        key = _key(target)
        intact = self._intact(key, target) is not None
        old, sums = (self.pieces.get(key), self.sums.get(key)) if intact else (None, None)
        made = Pieces(_mapping(old), old_sums=_mapping(sums))
        self._made[key] = made
        return made

    def has_pieces(self, target: Path) -> bool:
        """Whether the last build recorded pieces of `target` (a zip whose entries a build can
        take over, if it is still as that build left it: `pieces_of` looks)."""
        return bool(self.pieces.get(_key(target)))

    def adopt(self, target: Path, pieces: Pieces) -> None:
        """`target` was made with `pieces` (filled in a forked child: a copy of `pieces_of`'s)."""
        self._made[_key(target)] = pieces

    def keep_pieces(self, target: Path) -> None:
        """`target` (a part) is taken over from the last build as it is: so are its pieces."""
        self._kept.add(_key(target))

    def keep_facts(self, names: Iterable[str]) -> None:
        """Forget what is known of lessons but those `names` (`<lang>/<lesson id>`)."""
        keep = set(names)
        self.facts = {name: fact for name, fact in self.facts.items() if name in keep}

    def done(self, target: Path, inputs: str) -> None:
        """`target` holds (or, once committed, will hold) what `inputs` give."""
        self.written[_key(target)] = [inputs]

    def part(self, target: Path, inputs: str) -> None:
        """`target`, a part of an output, holds (once committed) what `inputs` give."""
        self.parts[_key(target)] = [inputs]

    def save(self) -> None:
        """After the commit: record every output's signature; any failure only costs speed."""
        if self.file is None or not self.written:
            return
        kept = self._kept | {str(path) for path in self.skipped}
        self.signed.update(_signatures([*self.written, *self.parts]))
        for target, entry in (*self.written.items(), *self.parts.items()):
            self.entries[target] = [entry[0], self.signed[target]]
            if target in self._made:
                self.pieces[target] = self._made[target].new
                self.sums[target] = self._made[target].sums
            elif target not in kept:  # made again without pieces: the old ones are not its
                self.pieces.pop(target, None)
                self.sums.pop(target, None)
        self.sums = {target: sums for target, sums in self.sums.items() if sums}
        data = {"format": FORMAT, "outputs": self.entries, "pieces": self.pieces}
        data.update(facts=self.facts, sums=self.sums)
        _write(self.file, json.dumps(data, sort_keys=True))


def _mapping(value: object) -> dict[str, Any]:
    """A mapping read from the record, or an empty one when it is not one (a damaged record)."""
    return value if isinstance(value, dict) else {}


Seen = dict[str, tuple[tuple[int, int, int, int], str]]
"""A file's digest by its path in the lessons folder, with the stat it was read under (size,
inode, mtime, ctime)."""

RACY_NS = 2_000_000_000
"""A file changed this close to (or after) the first hashing is read again, whatever its stat
says: file times are coarse, so a write in the same tick can leave the stat as it was (git's
"racily clean" rule)."""


def _folder_key(
    lessons: Path, settings: Sequence[object], seen: Seen | None = None, since: int = 0
) -> tuple[str, Seen] | None:
    """Every file under the lessons folder (path and bytes: lessons, images, course files,
    manifests), the build's options and the working directory; None if a file cannot be read.
    `seen`: digests from an earlier call that started at `since` (time.time_ns()): a file whose
    stat is unchanged and whose last change came well before then is not read again."""
    parts = [str(Path.cwd()), repr(list(settings))]
    found: Seen = {}
    try:
        for name, entry in sorted(_files_under(str(lessons)), key=_in_path_order):
            info = _file_stat(entry)
            if info is None:
                continue
            stat = _stat_key(info)
            old = seen.get(name) if seen is not None else None
            if old is not None and _unchanged(old, stat, since):
                digest = old[1]
            else:
                digest = _file_digest(Path(entry.path))
            found[name] = (stat, digest)
            parts += [name, digest]
    except OSError:
        return None
    return _hash(parts), found


def _files_under(folder: str, prefix: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(name from the top folder, entry) of everything under `folder`, as `Path.rglob("*")`
    finds it (a link to a folder is not followed); os.scandir and strings, not Paths: a large
    course's lessons folder has thousands of files, walked twice by every build."""
    with os.scandir(folder) as entries:
        for entry in entries:
            name = prefix + entry.name
            yield name, entry
            if entry.is_dir() and not entry.is_symlink():
                yield from _files_under(entry.path, name + os.sep)


def _in_path_order(found: tuple[str, os.DirEntry[str]]) -> tuple[str, ...]:
    """The order of `sorted` Paths: part by part."""
    return tuple(found[0].split(os.sep))  # noqa: PTH206 (a name, not a path: no Path made)


def _file_stat(entry: os.DirEntry[str]) -> os.stat_result | None:
    """The stat of a file (a link followed), or None for a folder or what `Path.is_file` would
    not take for a file (gone since, a link to nothing): one system call, not two. (On
    Windows an entry's own stat has no inode number: the file's is asked for.)"""
    try:
        info = entry.stat() if os.name == "posix" else Path(entry.path).stat()
    except OSError:
        return None
    return info if S_ISREG(info.st_mode) else None


def _stat_key(info: os.stat_result) -> tuple[int, int, int, int]:
    """What `Seen` keeps of a file's stat: size, inode, modification and change times."""
    return (info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)


def _unchanged(old: tuple[tuple[int, ...], str], stat: tuple[int, ...], since: int) -> bool:
    """A file hashed (`old`: stat and digest) by a walk that started at `since` still holds the
    bytes hashed: same stat, and its last change well before then (`RACY_NS`)."""
    return old[0] == stat and max(stat[2:]) < since - RACY_NS


@dataclass(frozen=True, slots=True)
class LastBuild:
    """The last build from a lessons folder, and what the same build run again would print: the
    next build with the same options, the lessons folder byte for byte as the last build left it
    and every output still on disk as written renders the same bytes and prints the same lines,
    so it prints them (`replay`) and does nothing else."""

    file: Path
    lessons: Path
    settings: tuple[object, ...]
    key: str
    seen: Seen = field(default_factory=dict, compare=False)
    since: int = 0
    entry: Mapping[str, object] = field(default_factory=dict, compare=False)
    """What the file recorded of the last build from this lessons folder, as `of` read it."""

    @classmethod
    def of(cls, lessons: Path, settings: Sequence[object], replayable: bool) -> LastBuild | None:
        """The lessons folder as it is now (`_folder_key`): each file hashed, but a file whose
        stat the last build recorded (`remember`: `FILES`) and whose last change came well
        before that build looked at it, which holds the bytes it hashed then (as git's index
        tells an unchanged file: size, inode, modification and change times)."""
        folder = Store.beside(lessons).folder
        if folder is None or not replayable or not lessons.is_dir():
            return None
        file, lessons = folder / LAST_BUILD_FILE, lessons.resolve()
        entry = _read_builds(file).get(str(lessons))
        entry = entry if isinstance(entry, dict) else {}
        since = time.time_ns()
        found = _folder_key(lessons, settings, *_recorded_files(entry))
        if found is None:
            return None
        key, seen = found
        return cls(file, lessons, tuple(settings), key, seen, since, entry)

    def known(self, name: str, path: Path) -> str | None:
        """The sha256 (hex) of the file `name` of the lessons folder (at `path`) as `of` read
        it, if its stat says it holds those bytes still (`_unchanged`); None: read it again.
        The loader keys the lesson's cached parse on it (lessons.Known): a lesson is hashed
        once per build."""
        old = self.seen.get(name)
        if old is None:
            return None
        try:
            info = path.stat()
        except OSError:
            return None
        stat = _stat_key(info)
        return old[1] if _unchanged(old, stat, self.since) else None

    def replay(self) -> list[tuple[bool, str]] | None:
        """The lines the last build printed, if this build would be the same; else None."""
        entry = self.entry
        if entry.get("key") != self.key:
            return None
        made, lines = entry.get("outputs"), entry.get("lines")
        if not isinstance(made, dict) or not made or not isinstance(lines, list):
            return None
        for target, signature in made.items():
            if signature is None or _signature(Path(target)) != signature:
                return None
        gone = entry.get(GONE, [])
        if not isinstance(gone, list) or any(os.path.lexists(str(path)) for path in gone):
            return None  # (a draft made since: the build removes it, `pipeline._drafts_gone`)
        return [(bool(err), str(text)) for err, text in lines]

    def remember(
        self,
        targets: Sequence[Path],
        lines: Sequence[tuple[bool, str]],
        next_lines: Callable[[], Sequence[tuple[bool, str]] | None],
        built: Mapping[Path, str] = MappingProxyType({}),
        signed: Mapping[str, list[object] | None] = MappingProxyType({}),
        gone: Sequence[Path] = (),
        wrote: Sequence[Path] = (),
    ) -> None:
        """After a successful build: record what the same build, run again, prints. That is
        `lines` when this build left the lessons folder as it found it; when it wrote there (a
        release recorded in a manifest, IDs given), `next_lines()` tells what the next build
        would print, or None when it would not be a no-op (then nothing is recorded). `built`:
        each lesson file's digest as the build parsed it; a lesson saved since (while the build
        ran) records nothing, so the next build builds it; so does any other file of the
        lessons folder added, removed or written since `of` looked (a note moved into a
        language folder: the lines printed, and `next_lines()`, are of the folder as it was),
        but the files the build itself writes there besides lessons (`wrote`: its manifests).
        `signed`: the targets' signatures as the build found them once committed
        (`Record.signed`; the others are found here). `gone`: the drafts of its outputs, which
        the build removed (`GONE`)."""
        builds = _read_builds(self.file)
        keys = [(t, _key(t)) for t in targets]
        since = time.time_ns()
        found = _folder_key(self.lessons, self.settings, self.seen, self.since)
        if found is not None and not self._as_built(found[1], built, wrote):
            found = None
        key = None if found is None else found[0]
        shown = lines if key == self.key else next_lines() if key is not None else None
        if found is None:
            builds.pop(str(self.lessons), None)
        elif shown is None:  # not replayed: the next build hashes only what changed since
            builds[str(self.lessons)] = _files_entry(found[1], since)
        else:
            made = {key: signed[key] if key in signed else _signature(t) for t, key in keys}
            entry: dict[str, object] = {"key": key, "outputs": made, "lines": list(shown)}
            entry[GONE] = [str(path.absolute()) for path in gone]
            builds[str(self.lessons)] = {**entry, **_files_entry(found[1], since)}
        text = json.dumps({"format": FORMAT, "builds": builds}, sort_keys=True)
        _write(self.file, text)

    def _as_built(self, seen: Seen, built: Mapping[Path, str], wrote: Sequence[Path]) -> bool:
        """Whether every lesson file holds the bytes the build parsed (`Lesson.digest`) and every
        other file of the lessons folder the bytes `of` found (`seen`: the folder now), but the
        files the build `wrote`."""
        resolve, top = Resolver().real, str(self.lessons) + os.sep
        own: set[str] = set()
        for path, digest in built.items():
            real = resolve(path)  # (strings: thousands of lessons at 100,000 cards)
            if not real.startswith(top):
                return False
            name = real[len(top) :]
            if digest and seen.get(name, ((), ""))[1] != digest:
                return False
            own.add(name)
        own.update(real[len(top) :] for real in map(resolve, wrote) if real.startswith(top))
        return _changed(self.seen, seen) <= own


def _changed(before: Seen, after: Seen) -> set[str]:
    """The names of the files added, removed or whose bytes differ from `before` to `after`."""
    changed = before.keys() ^ after.keys()
    changed.update(
        name for name in before.keys() & after.keys() if before[name][1] != after[name][1]
    )
    return changed


GONE = "gone"
"""A last build's entry: the drafts of its outputs (`places.draft_outputs`), which it removed:
one made since (`build --draft`, which leaves the lessons and the release's outputs as they
were) is removed by the next build, which is not replayed."""
FILES = "files"
"""A last build's entry (`LastBuild.remember`): each file of the lessons folder by name, as
[size, inode, modification time, change time, digest] when the walk that started at `SINCE`
(time.time_ns()) found it; `LastBuild.of` takes the digest of a file whose stat is the same."""
SINCE = "since"


def _read_builds(file: Path) -> dict[str, object]:
    """The last builds recorded in `file`, by lessons folder (none when it is unreadable)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    builds = data.get("builds")
    return builds if isinstance(builds, dict) else {}


def _files_entry(seen: Seen, since: int) -> dict[str, object]:
    """`seen` (found by a walk that started after `since`) for the record (`FILES`)."""
    return {FILES: {name: [*stat, digest] for name, (stat, digest) in seen.items()}, SINCE: since}


def _recorded_files(entry: Mapping[str, object]) -> tuple[Seen, int]:
    """What an entry recorded of the lessons folder's files (`FILES`), and since when; entries
    that are not as `_files_entry` writes them are left out (their files are hashed)."""
    files, since = entry.get(FILES), entry.get(SINCE)
    if not isinstance(files, dict) or not isinstance(since, int):
        return {}, 0
    seen: Seen = {}
    for name, value in files.items():
        match value:
            case [int(size), int(inode), int(mtime), int(ctime), str(digest)]:
                seen[name] = ((size, inode, mtime, ctime), digest)
    return seen, since


def _write(file: Path, text: str) -> None:
    """Atomically; a failure (read-only or full disk) only costs the speed-up."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(file, text.encode())
    except OSError:
        return
