"""Load stage: find `lessons/<lang>/*.md`, read front matter, parse once, build the model.

Every problem in every file is collected; `load_library` raises one `CourseError` carrying all of
them, so an author sees the whole list in one run and nothing downstream runs on bad input.
"""

from __future__ import annotations

import gc
import hashlib
import io
import os
import pickle
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import unquote, urlsplit

from . import cache, collector, forked, strays
from .files import Resolver
from .frontmatter import (
    CourseFile,
    FrontMatter,
    Report,
    display_path,
    read_course_yaml,
    read_front_matter,
)
from .model import (
    COURSE_FILE,
    Card,
    CardKind,
    CardSite,
    CardText,
    CardTexts,
    Course,
    CourseError,
    Lesson,
    LessonText,
    Library,
    MediaFile,
    Pending,
    Problem,
    Section,
    SiteRef,
    SiteText,
    SourceLoc,
    retired_tag,
)
from .spill import Spill, SpillError
from .spill import Stored as StoredSite

if TYPE_CHECKING:
    from markdown_it.token import Token

    from .cards import ParseProblem

LANG_DIR = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
POOL_THRESHOLD = 20
"""Lessons to parse above which worker processes parse them (a small course does not pay for
starting them)."""
FREEZE_THRESHOLD = 100
"""Lessons above which the loaded library is moved out of the cyclic collector's reach
(`gc.freeze()`): a large build, in a process that ends with it."""
FORK_THRESHOLD = 4
"""Lessons to parse from which, up to POOL_THRESHOLD, a forked child parses a share of them."""
FORK_MEANWHILE = 1
"""The same, when this process has other work meanwhile (`load_library`'s `meanwhile`: the
command line imports the writers then, some 70 ms): a rebuild's edited lesson (about 10 ms to
parse at 50 cards) is parsed by the child while this process imports, not after."""
KEEP_READ = POOL_THRESHOLD
"""Lessons up to which each lesson's site strings, once read back from the spill file, stay in
memory (spill.py): a small course's writers read every lesson several times (its page, the
page's data, whether the page is split; the site and the SCORM zip), and it weighs little."""
CHUNK = 2
"""Lessons per task of the pool (`_run`): a worker holds one task and has up to two queued, so
this process, which takes back the tasks no worker has, waits at most about that long at the
end."""
T = TypeVar("T")
__all__ = ["Report", "display_path", "load_library"]


def read_text(path: Path, report: Report) -> str | None:
    """UTF-8 text without BOM; None (and an error) if the file is not UTF-8 or is empty."""
    data = read_bytes(path, report)
    return None if data is None else decode_text(path, data, report)


def read_bytes(path: Path, report: Report) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        report.error(path, 0, f"cannot read the file: {exc.strerror or exc}")
        return None


def decode_text(path: Path, data: bytes, report: Report) -> str | None:
    """`data` (the file `path`'s bytes) as text, without BOM; None (and an error at the line
    of the first bad byte) if it is not UTF-8, holds a NUL or is empty. A NUL (U+0000) is
    valid UTF-8, but CommonMark replaces it with U+FFFD, the replacement character, which a
    lesson would show in Anki and on the site, and YAML refuses it (one byte search)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(
            path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        )
        return None
    nul = data.find(b"\0")
    if nul >= 0:  # (in UTF-8, a 0x00 byte is U+0000 and nothing else)
        line = data[:nul].count(b"\n") + 1
        report.error(path, line, "a NUL character (byte 0x00) in the text; remove it")
        return None
    if not text.strip():
        report.error(path, 0, "file is empty")
        return None
    return text


DEFAULT_ID = "course"
"""The course ID when `lessons/course.yml` gives none (or there is no such file)."""
DEFAULT_TITLE = "Course"
"""The title of a language whose course file gives none, when `lessons/course.yml` gives none."""
COURSE_FILES = "course-files"
"""The cache's folder of course files' parses (`read_course_file`)."""


def read_course_file(path: Path, report: Report, store: cache.Store | None = None) -> CourseFile:
    """`path` (a course.yml) read, if there is one. `store`: the cache, where a course file's
    parse is kept under its bytes (with the tool's files and its path: `cache.Store.key`) when
    it gave no problem: a build that parses no lesson then imports no YAML parser (11-15 ms of
    a one-edit rebuild, before it could read its cached lessons: frontmatter.py). A file with
    problems is read again by every build, which reports them. No file: `CourseFile()`, whose
    `id_line` (None) says so."""
    if not path.is_file():
        return CourseFile()
    data = read_bytes(path, report)
    if data is None:
        return CourseFile()
    key, real = None, None
    if store is not None and store.folder is not None:
        real = path.resolve()  # (once: the key and the entry's name are made from it)
        key = store.key(path, "", path, cache.content_digest(data), real)
        kept = _kept_course_file(store, real, key)
        if kept is not None:
            return kept
    text = decode_text(path, data, report)
    if text is None:
        return CourseFile()
    problems = len(report.errors), len(report.warnings)
    found = read_course_yaml(path, text, report)
    now = len(report.errors), len(report.warnings)
    if store is not None and key is not None and problems == now:
        store.put(path, "", key, cache.dumps(found), COURSE_FILES, real)
    return found


def _kept_course_file(store: cache.Store, real: Path, key: bytes) -> CourseFile | None:
    """The course file's parse kept under `key` (`read_course_file`; `real`: its path resolved),
    if any (a damaged entry, or one of another version of the record, is none)."""
    data = store.get(real, "", key, COURSE_FILES, real)
    if data is None:
        return None
    try:
        value = cache.loads(data)
    except Exception:
        return None
    return value if isinstance(value, CourseFile) else None


def load_library(
    root: Path,
    langs: Sequence[str] = (),
    site: bool = True,
    meanwhile: Callable[[], object] | None = None,
    known: Known | None = None,
) -> Library:
    """Read every language under `root` (or only `langs`). Raises CourseError on any error.
    `site`: render the strings of the site (and SCORM packages) too, not only the decks'.
    `meanwhile` runs once in this process while other processes parse (if any do): the command
    line imports the rest of the build then. `known`: see `parse_lessons`."""
    # Loading makes millions of objects (tokens while a lesson is parsed, then its strings and
    # records) and frees few (collector.py). The collector runs again afterwards.
    was_enabled = gc.isenabled()
    with collector.paused():
        library = _load_library(root, langs, site, meanwhile, known)
        if was_enabled and library.lesson_count() > FREEZE_THRESHOLD:
            # The library lives as long as the build: leave it out of every later collection
            # (a fifth of a 100,000-card build's CPU went into walking it again). It holds no
            # reference cycles, so reference counting still frees it. Frozen before the
            # collector resumes: its first collection would walk every object made here.
            gc.freeze()
    return library


def _load_library(
    root: Path,
    langs: Sequence[str],
    site: bool,
    meanwhile: Callable[[], object] | None,
    known: Known | None = None,
) -> Library:
    report = Report()
    if not root.is_dir():
        raise CourseError([Problem(SourceLoc(display_path(root), 0), "lessons folder not found")])
    store = cache.Store.beside(root)  # (the course files' cache: `read_course_file`)
    meta = read_course_file(root / COURSE_FILE, report, store)
    course_id = meta.id or DEFAULT_ID
    title = meta.title or DEFAULT_TITLE
    found = language_folders(root)
    for lang in langs:
        if lang not in found:
            report.error(root / lang, 0, f"no lessons for language '{lang}'")
    chosen = [lang for lang in found if not langs or lang in langs]
    jobs = _jobs(root, chosen, site)
    parsed = dict(zip(jobs, parse_lessons(root, jobs, meanwhile, known), strict=True))
    read = {lang: {job.path.name for job in jobs if job.lang == lang} for lang in chosen}
    for stray in strays.find(root, found, read, store.folder):
        report.warn(stray.path, 0, stray.message)
    courses = [
        load_course(
            root / lang,
            meta,
            report,
            [result for job, result in parsed.items() if job.lang == lang],
            store,
        )
        for lang in chosen
    ]
    if not courses and not report.errors:
        report.error(root, 0, "no language folders (such as lessons/el/) with lessons")
    if report.errors:
        raise CourseError(report.errors)
    titles = _titles(root, found, courses, title, store)
    return Library(course_id, title, root, tuple(courses), tuple(report.warnings), titles)


def _titles(
    root: Path, found: Sequence[str], courses: Sequence[Course], default: str, store: cache.Store
) -> tuple[tuple[str, str], ...]:
    """Every language folder's course title: a built language's from its course, another's (not
    asked for: `--lang`) from its course file, whose problems are its own builds' to report."""
    built = {course.lang: course.title for course in courses}
    titles = []
    for lang in found:
        title = built.get(lang)
        if title is None:
            title = read_course_file(root / lang / COURSE_FILE, Report(), store).title or default
        titles.append((lang, title))
    return tuple(titles)


def language_folders(root: Path) -> list[str]:
    """The names of `root`'s language folders (`LANG_DIR`), sorted."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and LANG_DIR.match(p.name))


def lesson_files(folder: Path) -> list[Path]:
    """A language folder's lessons, in order: its `*.md` files but hidden ones (a name starting
    with a dot, which `glob` matches: an editor's lock file such as Emacs's `.#01.md`, a link to
    nothing while the lesson is open), as watch.py and strays.py pass them by."""
    return sorted(path for path in folder.glob("*.md") if not path.name.startswith("."))


def _jobs(root: Path, langs: Sequence[str], site: bool) -> list[LessonJob]:
    """Every lesson of each of `langs` (folders of `root`), in order."""
    return [
        LessonJob(path, lang, root, site) for lang in langs for path in lesson_files(root / lang)
    ]


def load_course(
    folder: Path,
    top: CourseFile,
    report: Report,
    parsed: Sequence[Parsed],
    store: cache.Store | None = None,
) -> Course:
    """One language's course from its lessons' parse results (in file order); `top`: the course
    file beside the language folders (`lessons/course.yml`: the course ID, where it is, and the
    fallback title); `store`: where its course file's parse is kept (`read_course_file`)."""
    lang = folder.name
    meta = read_course_file(folder / COURSE_FILE, report, store)
    lessons: list[Lesson] = []
    for result in parsed:
        report.errors.extend(result.errors)
        report.warnings.extend(result.warnings)
        if result.lesson is not None:
            lessons.append(result.lesson)
    if not lessons:
        report.warn(folder, 0, "no lessons (*.md) in this language folder")
    check_unique(report, ((lesson.id, lesson) for lesson in lessons), "lesson ID", _first_line)
    ids = [c.id for lesson in lessons for c in lesson.cards if c.id is not None]
    if len(set(ids)) < len(ids):  # (every card of every build: pairs made only when one repeats)
        cards = ((c.id, c) for lesson in lessons for c in lesson.cards if c.id is not None)
        check_unique(report, cards, "card ID", _card_line)
    course_id = top.id or DEFAULT_ID
    check_retired_tag(report, course_id, lessons)
    lessons.sort(key=lambda lesson: (lesson.order, lesson.id))
    return Course(
        id=course_id,
        lang=lang,
        title=meta.title or top.title or DEFAULT_TITLE,
        description=meta.description or "",
        lessons=tuple(lessons),
        root=folder,
        mastery_score=meta.mastery_score,
        id_line=top.id_line,
    )


@dataclass(frozen=True, slots=True)
class LessonJob:
    """One lesson file to parse."""

    path: Path
    lang: str
    root: Path
    """The lessons folder (images must stay inside it)."""
    site: bool = True
    """Render the site's strings too (see `render.card_text`)."""

    @property
    def kind(self) -> str:
        """Its cache folder: a lesson rendered for every output, or for the decks only."""
        return "lessons" if self.site else "lessons-decks"


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one lesson gave: the lesson (None if it could not be read) and its problems,
    in the order they were found. What the cache stores and worker processes send back, with the
    lesson's site strings apart (`_split`): the parent spills them to disk unread."""

    lesson: Lesson | None
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    def media_ok(self) -> bool:
        """Every image still has the content its name was made from (a cached parse is stale
        when one changed, though the lesson did not)."""
        return self.lesson is None or all(_media_name(m.path) == m.name for m in self.lesson.media)


@dataclass(frozen=True, slots=True)
class SitePart:
    """A lesson's site strings pickled (b'' when none), with their checksum and sha256 when the
    process that parsed the lesson made them (the cache stores them: `pack`): the spill file
    takes them as they are, and the site's writers key the lesson's files on the hash
    (`SiteRef.digest`) without reading the strings back."""

    data: bytes | memoryview
    crc: int | None = None
    digest: str | None = None
    stored: Stored | None = None
    """Where a cached lesson's entry holds them, unread (`data` is then empty)."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A cached lesson's site strings in its cache entry (`_cached`): the file, where they start
    and their size, and how to make them again (`_site_again`) if the entry cannot give them
    back when they are asked for (`spill.Stored`)."""

    entry: Path
    offset: int
    size: int
    again: Callable[[str], SiteText]
    """Given the lesson's digest (`Lesson.digest`)."""


Result = tuple[Parsed, SitePart]
"""A parse without its lesson's site strings, and those strings."""

DIGEST = 32
"""Bytes of the site strings' sha256 that start a packed parse (`pack`)."""


HEAD = DIGEST + 2 * cache.CRC
"""Bytes before the two pickles of a packed parse (`pack`)."""


def pack(first: bytes, site: bytes) -> bytes:
    """A parse as the cache stores it and a worker sends it: the site strings' sha256 and
    checksum, the records' checksum, then the pickled records and the pickled site strings
    (`cache.pack`). Each part has its checksum: a cached lesson's records are read and checked
    without its site strings (`_read_entry`)."""
    crcs = cache.checksum(site).to_bytes(cache.CRC, "little")
    crcs += cache.checksum(first).to_bytes(cache.CRC, "little")
    return hashlib.sha256(site).digest() + crcs + cache.pack(first, site)


def unpack(data: bytes | memoryview) -> tuple[memoryview, SitePart]:
    """The pickled records and the site strings of a packed parse (`pack`); ValueError when
    `data` is too short to be one."""
    view = memoryview(data)
    if len(view) < HEAD:
        raise ValueError("truncated")
    first, site = cache.unpack(view[HEAD:])  # type: ignore[arg-type]
    return first, _site_part(view, site)


def _site_part(
    head: bytes | memoryview, data: bytes | memoryview, stored: Stored | None = None
) -> SitePart:
    """The site strings of a packed parse whose head (`pack`) is `head`, with their checksum
    and sha256 as it gives them."""
    crc = int.from_bytes(head[DIGEST : DIGEST + cache.CRC], "little")
    return SitePart(data, crc, head[:DIGEST].hex(), stored)


def _read_entry(
    file: BinaryIO, entry: Path, again: Callable[[str], SiteText]
) -> tuple[bytes, SitePart] | None:
    """A packed parse (`pack`) from its cache entry's `file` (open where the value starts:
    `cache.Store.open`): the records read and checked against their checksum, the site strings
    left where they are (their place, size, checksum and sha256: checked when read, `Stored`);
    None when the records are damaged (a miss)."""
    head = file.read(HEAD + cache.SIZE)
    if len(head) < HEAD + cache.SIZE:
        return None
    size = int.from_bytes(head[HEAD:], "little")
    first = file.read(size)
    crc = int.from_bytes(head[DIGEST + cache.CRC : HEAD], "little")
    if len(first) != size or cache.checksum(first) != crc:
        return None
    offset = file.tell()
    place = Stored(entry, offset, os.fstat(file.fileno()).st_size - offset, again)
    return first, _site_part(head, b"", place)


@dataclass(frozen=True, slots=True)
class _Task:
    """A lesson to parse (a cache miss): its bytes as read, and where its parse is kept."""

    job: LessonJob
    data: bytes
    key: bytes
    digest: str
    """`cache.content_digest(data)`: the lesson's `digest`."""
    store: cache.Store
    real: Path
    """`job.path` resolved, and as messages name it (`_Places.of`): not worked out again."""
    display: Path


Known = Callable[[str, Path], str | None]
"""The sha256 (hex) of a file of the lessons folder (its name there, its path) as this build
read it already, when it cannot have changed since (outputs.LastBuild.known); None: read it."""


def parse_lessons(
    root: Path,
    jobs: Sequence[LessonJob],
    meanwhile: Callable[[], object] | None = None,
    known: Known | None = None,
) -> list[Parsed]:
    """Parse every job, in order: from the cache where a lesson is unchanged, the rest in worker
    processes when there are more than POOL_THRESHOLD of them. Any order of work gives the same
    results as a serial, uncached parse. Each lesson's site strings go to one spill file as
    they arrive (spill.py): the library holds a handle on them; up to KEEP_READ lessons, each
    stays in memory once read back (the writers read a lesson several times). `meanwhile`: see
    `load_library`; `known`: a cached lesson whose digest it gives is not read at all."""
    look = _Lookup(root, cache.Store.beside(root), known, _kept)
    if _kept is not None:
        _kept.used = {}  # (a build interrupted while looking left some)
    results: list[Parsed | None] = []
    tasks: dict[int, _Task] = {}
    out = Spill(keep=len(jobs) if len(jobs) <= KEEP_READ else 1)
    for i, job in enumerate(jobs):
        found = look(job)
        if isinstance(found, _Task):
            tasks[i] = found
            results.append(None)
        elif isinstance(found, Parsed):  # the file could not be read
            results.append(found)
        else:
            results.append(_attach(found, out))
    if _kept is not None:
        _kept.forget_unused()
    where = list(tasks)
    for n, result in _run(list(tasks.values()), meanwhile):
        results[where[n]] = _attach(result, out)
    return [result for result in results if result is not None]


@dataclass(frozen=True, slots=True)
class _Places:
    """Where each lesson file really is (`files.Resolver`) and how messages name it (from the
    working directory where it is below it, else as found), worked out once per folder, not
    for each of its lessons (every one of them on every build, cached or not)."""

    cwd: Path
    real: Resolver = field(default_factory=Resolver)
    shown: dict[Path, Path | None] = field(default_factory=dict)
    """A folder (as it really is) -> that from `cwd` (None: not below it)."""

    def of(self, path: Path) -> tuple[Path, Path]:
        real = self.real(path)
        folder = real.parent
        if folder not in self.shown:
            below = folder.is_relative_to(self.cwd)
            self.shown[folder] = folder.relative_to(self.cwd) if below else None
        shown = self.shown[folder]
        return real, path if shown is None else shown / real.name


@dataclass(frozen=True, slots=True)
class _Lookup:
    """Each lesson's parse from the cache, or the task that parses it (or, when the file cannot
    be read, its problems). A lesson whose digest is `known` is looked up without reading it;
    read, it is hashed once: its key and `Lesson.digest` are made from that hash."""

    root: Path
    store: cache.Store
    known: Known | None = None
    kept: Kept | None = None
    """Parses kept in memory by a resident process (`keep_parses`), looked up first."""
    places: _Places = field(default_factory=lambda: _Places(Path.cwd().resolve()))

    def __call__(self, job: LessonJob) -> Result | _Task | Parsed:
        real, display = self.places.of(job.path)  # display_path, key and get would each resolve
        content = self._known(job)
        if content is not None:
            key = self.store.key(job.path, job.lang, display, content, real)
            hit = self._cached(job, key, real)
            if hit is not None:
                return hit
        report = Report()
        data = read_bytes(job.path, report)
        if data is None:
            return Parsed(None, tuple(report.errors), tuple(report.warnings))
        digest = cache.content_digest(data)
        key = self.store.key(job.path, job.lang, display, digest, real)
        hit = None if digest == content else self._cached(job, key, real)
        return _Task(job, data, key, digest, self.store, real, display) if hit is None else hit

    def _cached(self, job: LessonJob, key: bytes, real: Path) -> Result | None:
        if self.kept is None:
            return _cached(self.store, job, key, real)
        return self.kept.get(self.store, job, key, real)

    def _known(self, job: LessonJob) -> str | None:
        if self.known is None or self.store.folder is None:
            return None
        return self.known(str(job.path.relative_to(self.root)), job.path)


def _cached(store: cache.Store, job: LessonJob, key: bytes, real: Path) -> Result | None:
    """The stored result, its site strings left in the entry (`Stored`: read when asked); for
    the decks only, a result rendered for every output serves too (its site strings unused)."""
    kinds = ("lessons",) if job.site else ("lessons", job.kind)
    for kind in kinds:
        file = store.open(job.path, job.lang, key, kind, real)
        if file is None:
            continue
        again = partial(_site_again, job, store, key, real)
        try:
            with file:
                found = _read_entry(file, Path(file.name), again)
            if found is None:
                continue
            first, site = found
            value = cache.loads(first)
        except Exception:  # a corrupt entry (truncated, from another version): a miss
            continue
        if not isinstance(value, Parsed) or not value.media_ok():
            continue
        if value.lesson is None or not job.site:
            return value, NO_SITE
        if site.stored is not None and site.stored.size > 0:
            return value, site
    return None


def _site_again(
    job: LessonJob, store: cache.Store, key: bytes, real: Path, digest: str
) -> SiteText:
    """A cached lesson's site strings when its entry cannot give them back (damaged or changed
    since it was loaded: a miss, as when loading): the lesson parsed again and its entry
    rewritten, if the file still holds the bytes the build loaded (`digest`)."""
    report = Report()
    data = read_bytes(job.path, report)
    if data is None or cache.content_digest(data) != digest:
        raise SpillError(
            f"{display_path(job.path)}: the lesson's cache entry is damaged and the file "
            "changed during the build; nothing was written: build again"
        )
    task = _Task(job, data, key, digest, store, real, display_path(job.path))
    _, site, _ = _parse_and_store(task, send=False)
    value = cache.loads(site.data)
    if not isinstance(value, SiteText):
        raise SpillError(f"{display_path(job.path)}: the lesson has no site strings")
    return value


NO_SITE = SitePart(b"")


Slot = tuple[Path | None, Path, str, bool]
"""Where a kept parse belongs: the cache folder, the lesson file (resolved), its language and
whether it was rendered for the site (`LessonJob.site`): one cache entry's place."""


def _slot(store: cache.Store, job: LessonJob, real: Path) -> Slot:
    """Where `job`'s parse is kept (`Kept`), `real` its resolved path."""
    return (store.folder, real, job.lang, job.site)


@dataclass(slots=True)
class Kept:
    """Lessons' parses as their cache entries gave them (`_cached`), kept in memory by a
    resident process (`build.py watch`: `keep_parses`) for its next build: a one-edit rebuild
    of 10,000 cards read and unpickled its 199 unchanged lessons' entries again (about 25 ms).

    Each is found under exactly the key its cache entry was found under (`cache.Store.key`:
    the lesson's bytes, its path, language and name in messages, the tool's files, the
    parsers' and Python's versions), checked on every build as a cache entry is (its images,
    `Parsed.media_ok`): a parse kept is one the cache would give. Its site strings stay in the
    entry, read when asked (`spill.Stored`, checked then: an entry replaced since is parsed
    again). The records are frozen and shared by the builds: none is changed after it is kept
    (the cards' texts, `CardTexts`, unpickled when first asked, are the same values). Only the
    parses the last build looked up are kept (`forget_unused`): a deleted or changed lesson's
    goes with the next build."""

    parses: dict[Slot, tuple[bytes, Result]] = field(default_factory=dict)
    used: dict[Slot, tuple[bytes, Result]] = field(default_factory=dict)
    """Those this build found (kept or read from the cache)."""
    whole: bool = False
    """The last `read_kept` found every lesson's parse, for the lesson's bytes then (`kept_library`
    loads no other)."""

    def get(self, store: cache.Store, job: LessonJob, key: bytes, real: Path) -> Result | None:
        """`_cached`, from memory when kept under `key`."""
        slot = _slot(store, job, real)
        kept = self.parses.get(slot)
        if kept is not None and kept[0] == key and kept[1][0].media_ok():
            result = kept[1]
        else:
            found = _cached(store, job, key, real)
            if found is None:
                return None
            result = found
        self.used[slot] = (key, result)
        return result

    def forget_unused(self) -> None:
        """Keep only the parses this build found (since the last call)."""
        self.parses, self.used = self.used, {}


_kept: Kept | None = None
"""The parses kept in memory (`keep_parses`); None in a command that builds once."""


def keep_parses() -> Kept:
    """Keep lessons' parses in memory from build to build (`Kept`): for a process that builds
    the same lessons again and again (`build.py watch`). A build that runs once does not pay
    for it."""
    global _kept
    if _kept is None:
        _kept = Kept()
    return _kept


def read_kept(root: Path, langs: Sequence[str] = (), site: bool = True) -> int:
    """Between builds of a resident process (`keep_parses`): every lesson of `root` (of
    `langs`) whose parse is in the cache but not kept yet (a lesson the last build parsed, or
    every one after a build that loaded nothing: replayed) read into memory now, not by the
    next build. The lessons are read and hashed as a build does; a lesson changed since gives
    its new bytes' key (nothing kept when the cache has none). Returns how many were read."""
    kept = _kept
    if kept is None or not root.is_dir():
        return 0
    found = language_folders(root)
    look = _Lookup(root, cache.Store.beside(root), None, None)
    if look.store.folder is None:
        return 0
    parses = dict(kept.parses)
    read = missed = 0
    for job in _jobs(root, [lang for lang in found if not langs or lang in langs], site):
        real, display = look.places.of(job.path)
        slot = _slot(look.store, job, real)
        try:
            data = job.path.read_bytes()
        except OSError:
            missed += 1
            continue
        key = look.store.key(job.path, job.lang, display, cache.content_digest(data), real)
        if slot in parses and parses[slot][0] == key:
            continue
        result = _cached(look.store, job, key, real)
        if result is not None:
            parses[slot] = (key, result)
            read += 1
        else:
            missed += 1
    kept.parses, kept.whole = parses, not missed
    return read


def kept_library(
    root: Path, langs: Sequence[str] = (), site: bool = True, most_cards: int | None = None
) -> Library | None:
    """Between builds of a resident process, after `read_kept`: the library the next build
    loads if no lesson changes, from the parses kept in memory (the same records: what is made
    from them for the next build, `decided.prepare`, is found by it); None when a lesson's parse
    is not kept (loading would parse it), the parses kept hold more than `most_cards` cards or
    the lessons cannot be loaded."""
    if _kept is None or not _kept.whole:
        return None
    if most_cards is not None:
        lessons = (result[0].lesson for _, result in _kept.parses.values())
        if sum(len(lesson.cards) for lesson in lessons if lesson is not None) > most_cards:
            return None
    _kept.whole = False  # (the next `read_kept` tells again)
    try:
        return load_library(root, langs, site)
    except (CourseError, OSError, SpillError):
        return None


def _attach(result: Result, out: Spill) -> Parsed:
    """The parse with its lesson's site strings, if any, in the spill file (or, for a cached
    lesson, where its entry holds them: `spill.Stored`)."""
    parsed, site = result
    lesson = parsed.lesson
    if lesson is None:
        return parsed
    stored = site.stored
    if stored is not None and site.crc is not None and site.digest is not None:
        again = partial(stored.again, lesson.digest)
        place = (stored.entry, stored.offset, stored.size)
        handle: SiteRef = StoredSite(*place, site.crc, site.digest, lesson.path, again, out)
    elif not site.data:
        return parsed
    else:
        handle = out.add(site.data, lesson.path, site.crc, site.digest)
    rendered = LessonText(lesson.rendered.prose_digest, handle)
    return replace(parsed, lesson=replace(lesson, rendered=rendered))


def _split(parsed: Parsed) -> tuple[Parsed, SiteText | None]:
    """The parse without its lesson's site strings, and those strings."""
    lesson = parsed.lesson
    if lesson is None or lesson.rendered.site is None:
        return parsed, None
    site = lesson.rendered.site.load()
    lesson = replace(lesson, rendered=LessonText(lesson.rendered.prose_digest))
    return replace(parsed, lesson=lesson), site


def _nothing() -> None:
    pass


def _run(
    tasks: list[_Task], meanwhile: Callable[[], object] | None
) -> Iterator[tuple[int, Result]]:
    """Each task's result (by its index) as soon as it is ready: a worker's waits in the pool
    only until this process's next lesson is parsed, then goes to the spill file. `meanwhile`
    runs once, here, after the workers have started."""
    cores = _cores()
    fork_from = FORK_THRESHOLD if meanwhile is None else min(FORK_THRESHOLD, FORK_MEANWHILE)
    meanwhile = meanwhile or _nothing
    if len(tasks) > 1:  # this process parses some of them too: its children inherit the parser
        _import_parser()
    if len(tasks) > POOL_THRESHOLD and cores >= 2:
        yield from _run_pool(tasks, meanwhile, cores)
    # A small course: a pool costs more to start than the parse; a forked child takes a share
    # of the lessons instead (forked.py), from FORK_THRESHOLD of them (from FORK_MEANWHILE
    # while this process has the rest of the command to import), or this process parses all.
    elif not tasks or len(tasks) < fork_from or cores < 2:
        meanwhile()
        yield from enumerate(map(_parse, tasks))
    else:
        yield from _run_forked(tasks, meanwhile)


def _import_parser() -> None:
    """Import the parser (markdown-it, the card rules, the renderers: some 30 ms), which
    `load_lesson` imports where it first parses. Before a pool or a forked child starts, when
    this process parses lessons too, so that each process does not import it again. A rebuild
    after one lesson is edited parses it in a forked child while this process imports the
    writers (`FORK_MEANWHILE`): only the child imports the parser, and this process, which reads
    the other lessons' parses from the cache and writes, never does."""
    from . import render  # noqa: F401


def _run_forked(
    tasks: list[_Task], meanwhile: Callable[[], object]
) -> Iterator[tuple[int, Result]]:
    """`_run` for a small course: the lessons shared with one forked child, the longest first
    (whichever process is free at the end takes a short one). Each result comes as its cache
    entry's bytes (made anyway): the child sends them as they are instead of pickling the
    records again (`_parse_packed`). They are unpickled while the child ends (`forked.sharing`:
    the caller takes every result before the child is waited for)."""
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].data))
    calls = [partial(_parse_packed, tasks[i]) for i in order]
    with forked.sharing(calls, meanwhile) as results:
        done = sorted(zip(order, results, strict=True), key=_first)
        for i, data in done:
            yield i, _loaded(data)


def _run_pool(
    tasks: list[_Task], meanwhile: Callable[[], object], cores: int
) -> Iterator[tuple[int, Result]]:
    """`_run` for a large course: a process pool of `cores - 1` workers and this process."""
    # Imported here: a small course never starts a pool and does not pay for the import.
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Every lesson goes to the pool in tasks (CHUNK); this process parses a share too, from the
    # last task back, each one it takes before a worker does (a pending future cancels):
    # whichever side is slower (this one also runs `meanwhile` and takes the workers' results
    # in), the other parses more, and both end within a few tasks of each other. This process's
    # share is never pickled for it (its site strings are: for the spill file).
    # A worker dies with this process (`forked.pool_worker`): it holds the build's locks.
    parent = (os.getpid(),)
    with ProcessPoolExecutor(cores - 1, context, forked.pool_worker, parent) as pool:
        starts = range(0, len(tasks), CHUNK)
        futures = [pool.submit(_parse_in_worker, tasks[i : i + CHUNK]) for i in starts]
        taken_in: Future[list[bytes]] = Future()  # in place of a task's future once read
        meanwhile()
        taken = [0]  # the tasks before this one are taken in (the pool runs them in order)

        def received(wait: bool, end: int) -> Iterator[tuple[int, Result]]:
            """The pool's results up to task `end` (this process's from there), in order: those
            ready, or all of them when `wait`. One look per call, not one per task."""
            while taken[0] < end and (wait or futures[taken[0]].done()):
                task = taken[0]
                taken[0] += 1
                results, futures[task] = futures[task].result(), taken_in  # its bytes freed as read
                for i, data in enumerate(results, starts[task]):
                    yield i, _loaded(data)
                del results

        end = len(futures)
        # A task a worker has started (or has queued) does not cancel: neither does any before it.
        while end > taken[0] and futures[end - 1].cancel():
            end -= 1
            for i in range(starts[end], min(starts[end] + CHUNK, len(tasks))):
                yield i, _parse_here(tasks[i])
                yield from received(False, end)
        yield from received(True, end)


def _first(pair: tuple[int, T]) -> int:
    return pair[0]


def _loaded(data: bytes) -> Result:
    """A worker's parse, its cards' texts in place (`_Fresh`)."""
    first, site = unpack(data)
    parsed = _Fresh(io.BytesIO(first)).load()
    assert isinstance(parsed, Parsed)
    return parsed, site


class _Fresh(pickle.Unpickler):
    """Unpickles a worker's parse (`_dumps_parsed`: the cache entry's records) with each card's
    `CardText` in place of its `Pending` handle. A lesson parsed in this build is one of a
    language whose deck this build decides, which reads every text: held pickled until then, a
    large build would free 100,000 cards' pickled texts while it decides, leaving holes in the
    heap that the rest of the build does not fill (13 MB of its peak at 100,000 cards), and
    keep a handle per card."""

    def find_class(self, module: str, name: str) -> Any:
        if module == Pending.__module__ and name == Pending.__name__:
            return _text_in_place
        return super().find_class(module, name)


def _text_in_place(pair: tuple[CardTexts, int]) -> CardText:
    """What unpickling a `Pending((texts, index))` gives in a worker's parse (`_Fresh`)."""
    return pair[0].get(pair[1])


def _cores() -> int:
    return forked.cores()


def _parse(task: _Task) -> Result:
    """Parse one lesson and store the result in the cache when it has no errors."""
    parsed, site, _ = _parse_and_store(task, send=False)
    return parsed, site


def _parse_packed(task: _Task) -> bytes:
    """Parse one lesson (and store it in the cache, as `_parse` does): the result packed as
    the cache keeps it (`pack`), for another process."""
    return _parse_and_store(task, send=True)[2]


def _parse_here(task: _Task) -> Result:
    """This process's share of a large build's lessons: each parse as the cache stored it,
    unpickled (`_loaded`), when it was stored. Pickling a string leaves a UTF-8 copy of it inside
    it (the pickler's encoding, kept for the string's life): the texts the parse made would
    carry those copies till the build ends (7 MB at 100,000 cards)."""
    parsed, site, data = _parse_and_store(task, send=False)
    return _loaded(data) if data else (parsed, site)


def _parse_in_worker(tasks: Sequence[_Task]) -> list[bytes]:
    """In a worker process: each result pickled once, for the cache and for the parent."""
    return [_parse_and_store(task, send=True)[2] for task in tasks]


def _parse_and_store(task: _Task, send: bool) -> tuple[Parsed, SitePart, bytes]:
    """The parse (without its site strings), the site strings pickled, and both packed (b''
    unless sent or stored: `pack`)."""
    report = Report()
    job = task.job
    lesson = load_lesson(
        job.path, job.lang, job.root, report, task.data, site=job.site, digest=task.digest,
        display=task.display,
    )  # fmt: skip
    parsed, site = _split(Parsed(lesson, tuple(report.errors), tuple(report.warnings)))
    site_data = b"" if site is None else cache.dumps(site)
    store = task.store.folder is not None and not parsed.errors
    if not (send or store):
        return parsed, SitePart(site_data), b""
    data = pack(_dumps_parsed(parsed), site_data)
    if store:
        task.store.put(job.path, job.lang, task.key, data, job.kind, task.real)
    site_part = unpack(data)[1]  # bytes, not a view: a forked child sends it back pickled
    return parsed, SitePart(site_data, site_part.crc, site_part.digest), data


def _dumps_parsed(parsed: Parsed) -> bytes:
    """The parse pickled with its cards' texts apart, in one pickle of their own (`CardTexts`)
    that loading the entry leaves unread: a language whose decks are kept never reads them."""
    lesson = parsed.lesson
    if lesson is None:
        return cache.dumps(parsed)
    texts = CardTexts(cache.dumps(tuple(card.rendered for card in lesson.cards)))
    index = {id(card): i for i, card in enumerate(lesson.cards)}

    def card(value: Card) -> tuple[Callable[..., Card], tuple[object, ...]]:
        args = list(cache.record_args(value))
        args[_TEXT] = Pending((texts, index[id(value)]))
        return _card, tuple(args)

    return cache.dumps(parsed, reducers={Card: card})


_TEXT = [f.name for f in fields(Card) if f.init].index("text")
"""Where a card's text is among its constructor's arguments."""
_CARD_FIELDS = (
    *("id", "kind", "text", "source_hash", "section", "line", "id_line", "clozes", "tags"),
    *("cloze_hashes", "id_own_line"),
)
"""`_card`'s arguments: every field of `Card`, in order (`_made_as_card`)."""


def _made_as_card(record: type) -> bool:
    """Whether `_card` makes what `record(...)` makes: `_CARD_FIELDS` are its fields, each an
    argument of its constructor, which does nothing else (no `__post_init__`)."""
    every = fields(record)
    made = tuple(f.name for f in every) == _CARD_FIELDS and all(f.init for f in every)
    return made and not hasattr(record, "__post_init__")


if not _made_as_card(Card):  # (a field added to the record must be added to `_card` too)
    raise TypeError("Card's fields changed: change lessons._card (and _CARD_FIELDS) with them")
(
    _set_id,
    _set_kind,
    _set_text,
    _set_hash,
    _set_section,
    _set_line,
    _set_id_line,
    _set_clozes,
    _set_tags,
    _set_cloze_hashes,
    _set_id_own_line,
) = (Card.__dict__[name].__set__ for name in _CARD_FIELDS)  # its slots' setters
_new = object.__new__


def _card(
    id: str | None,
    kind: CardKind,
    text: CardText | Pending,
    source_hash: str,
    section: Section,
    line: int,
    id_line: int,
    clozes: tuple[int, ...],
    tags: tuple[str, ...],
    cloze_hashes: tuple[str, ...],
    id_own_line: int | None,
) -> Card:
    """A card as a lesson's cache entry or a worker's parse gives it (`_dumps_parsed`): the same
    record `Card(...)` makes, its slots set one by one, not through the frozen record's
    `__init__` (which assigns each field through `object.__setattr__`, looking its name up):
    10,000 cached cards were 27 of the 54 ms of unpickling their entries, 10-16 ms so. The
    record has no `__post_init__` and every field is an argument (checked at import)."""
    card = _new(Card)
    _set_id(card, id)
    _set_kind(card, kind)
    _set_text(card, text)
    _set_hash(card, source_hash)
    _set_section(card, section)
    _set_line(card, line)
    _set_id_line(card, id_line)
    _set_clozes(card, clozes)
    _set_tags(card, tags)
    _set_cloze_hashes(card, cloze_hashes)
    _set_id_own_line(card, id_own_line)
    return card


def check_retired_tag(report: Report, course_id: str, lessons: Iterable[Lesson]) -> None:
    """An error at each lesson, section and card whose notes would carry the tag of retired
    notes (`model.retired_tag`, or a tag below it, in any case): learners are told to delete
    every note that has it. A section's tag is `<lesson id>::<section>`, so a lesson whose ID
    is the course's, with a section "Retired", would give it to every card there."""
    retired = retired_tag(course_id)
    folded = retired.casefold()

    def taken(tag: str) -> bool:
        tag = tag.casefold()
        return tag == folded or tag.startswith(folded + "::")

    why = f"the tag of retired cards ('{retired}'), which learners are told to delete"
    for lesson in lessons:
        for tag in filter(taken, lesson.tags):
            message = f"lesson tag '{tag}' is {why}: choose another tag"
            report.errors.append(Problem(_first_line(lesson), message))
        for section in lesson.sections if lesson.id.casefold() == course_id.casefold() else ():
            if section.id and taken(f"{lesson.id}::{section.id}"):
                message = (
                    f"section '{section.title}' of lesson '{lesson.id}' (the course ID) would "
                    f"tag its cards '{lesson.id}::{section.id}', {why}: rename the section"
                )
                report.errors.append(Problem(section.loc, message))
        for card in [card for card in lesson.cards if card.tags]:  # (a few: a loop of C)
            for tag in filter(taken, card.tags):
                message = f"card tag '{tag}' is {why}: choose another tag"
                report.errors.append(Problem(card.loc, message))


def check_unique(
    report: Report, items: Iterable[tuple[str, T]], what: str, loc: Callable[[T], SourceLoc]
) -> None:
    """An error at each item (`loc(item)`) whose key an earlier item has. Places are made only
    for those: a course's card IDs are checked on every build, cached lessons or not."""
    first: dict[str, T] = {}
    again: dict[str, list[T]] = defaultdict(list)
    for key, item in items:
        if first.setdefault(key, item) is not item:
            again[key].append(item)
    for key, items_again in again.items():
        where = loc(first[key])
        for item in items_again:
            report.errors.append(
                Problem(loc(item), f"duplicate {what} '{key}' (first used at {where})")
            )


def _first_line(lesson: Lesson) -> SourceLoc:
    return SourceLoc(lesson.path, 1)


def _card_line(card: Card) -> SourceLoc:
    return card.loc


def _front_matter(
    path: Path, tokens: Sequence[Token], lang: str, report: Report
) -> FrontMatter | None:
    """The lesson's front matter, read from its first token (problems go to `report`)."""
    if not tokens or tokens[0].type != "front_matter":
        report.error(
            path,
            1,
            "missing front matter: start the file with a '---' block"
            " holding id, title, lang and order",
        )
        return None
    return read_front_matter(path, tokens[0].content, lang, report)


def load_lesson(
    path: Path,
    lang: str,
    root: Path,
    report: Report,
    data: bytes | None = None,
    *,
    site: bool = True,
    digest: str | None = None,
    display: Path | None = None,
) -> Lesson | None:
    """Parse one lesson file (or its `data`, already read, and `digest`: its hash, if made) and
    render it (render.py): the lesson holds strings, its tokens end here. Problems go to
    `report`. `display`: `display_path(path)`, when the caller has it."""
    from . import render  # the parser: imported where a lesson is parsed (`_import_parser`)
    from .cards import collect

    parsed = _tokens(path, report, data, site)
    if parsed is None:
        return None
    data, tokens = parsed
    front = _front_matter(path, tokens, lang, report)
    if front is None:
        return None
    media = resolve_images(path, root, tokens, report)
    sites: list[CardSite] | None = [] if site else None
    card_text = partial(render.card_text, lang=lang, sites=sites)
    shown = display_path(path) if display is None else display
    sections, cards = collect(shown, tokens, card_text)
    info = render.LessonInfo(front.id, front.title, front.description, lang, sections)
    return Lesson(
        id=front.id,
        title=front.title,
        lang=lang,
        order=front.order,
        path=shown,
        rendered=render.lesson_text(tokens, info, cards, sites),
        sections=sections,
        cards=cards,
        media=media,
        source=front.source,
        tags=front.tags,
        description=front.description,
        translated_from=front.translated_from,
        digest=cache.content_digest(data) if digest is None else digest,
    )


def _tokens(
    path: Path, report: Report, data: bytes | None, site: bool
) -> tuple[bytes, list[Token]] | None:
    """A lesson's bytes (`data`, or read now) and its tokens, its parse's problems reported;
    None when it cannot be read or decoded."""
    from .cards import DECKS_ONLY
    from .markdown import parser

    data = read_bytes(path, report) if data is None else data
    text = None if data is None else decode_text(path, data, report)
    if text is None or data is None:
        return None
    # Decks only: prose needs no inline parse (the decks show card sides and headings' titles).
    env: dict[str, Any] = {} if site else {DECKS_ONLY: True}
    tokens = parser().parse(text, env)
    problem: ParseProblem
    for problem in env.get("problems", []):
        (report.warn if problem.warning else report.error)(path, problem.line0 + 1, problem.message)
    return data, tokens


def resolve_images(
    path: Path, root: Path, tokens: Sequence[Token], report: Report
) -> tuple[MediaFile, ...]:
    """Check every image and give it its content-hash name (`token.meta["media"]`)."""
    from .markdown import images

    media: dict[str, MediaFile] = {}
    top = root.resolve()
    for block, token in images(tokens):
        line = block.map[0] + 1 if block.map else 0
        src = str(token.attrGet("src") or "")
        if urlsplit(src).scheme or src.startswith("//"):
            report.error(path, line, f"image '{src}' is not a local file: put it beside the lesson")
            continue
        target = (path.parent / unquote(src)).resolve()
        if not target.is_relative_to(top):
            report.error(path, line, f"image '{src}' is outside the lessons folder")
            continue
        if not target.is_file():
            report.error(path, line, f"image '{src}' not found")
            continue
        name = _media_name(target)
        token.meta["media"] = name
        media[name] = MediaFile(target, name)
    return tuple(media[name] for name in sorted(media))


def _media_name(path: Path) -> str:
    """An image's name in decks and site: a prefix of its content hash, and its suffix."""
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    except OSError:
        return ""
    return f"{digest}{path.suffix.lower()}"
