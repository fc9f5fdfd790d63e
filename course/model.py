"""Typed records passed between the pipeline's stages: lessons, sections, cards, courses."""

from __future__ import annotations

import abc
import enum
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

import click

COURSE_FILE = "course.yml"
"""The course file: `lessons/course.yml` (the course ID, title) and `lessons/<lang>/course.yml`
(a language's title). Here, for the loader (lessons.py) and the update planner (updates.py: where
a changed course ID is reported), which does not import the loader."""


def digest(*parts: str) -> str:
    """The hash recorded in manifests (`source`, `synced`: translations.py): it must never
    change for the same parts, or every translation would read as out of date. Here, not in
    translations.py, so that the parse (cards.py, render.py) does not import the manifests'
    module: the command line imports that while lessons are parsed."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]  # detects change only


def retired_tag(course_id: str) -> str:
    """The tag of a course's retired notes: the learner guide tells learners to search for it
    (`tag:<course id>::retired`, which Anki matches in any case and with the tags below it) and
    delete every note found, so no live note may have it (`lessons.check_retired_tag`)."""
    return f"{course_id}::retired"


@dataclass(frozen=True, slots=True, order=True)
class SourceLoc:
    """A place in a source file, for messages an author can act on."""

    path: Path
    """The file, as it was found (relative to the working directory where possible)."""
    line: int
    """1-based line number; 0 when the problem concerns the whole file."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else f"{self.path}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or doubtful) in the sources."""

    loc: SourceLoc
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


class CourseError(click.ClickException):
    """The sources have errors; nothing was written. Carries every problem found.

    A `click.ClickException`: raised anywhere under a command, Click prints every problem as
    `path:line: message`, then how many there were, and exits with status 1.
    """

    exit_code = 1

    def __init__(self, problems: list[Problem], what: str = "error") -> None:
        self.problems = sorted(problems, key=lambda p: (str(p.loc.path), p.loc.line, p.message))
        self.what = what
        """What each problem is, for the closing line: 'error', 'warning (--strict)'."""
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[CourseError], tuple[list[Problem], str]]:
        """Pickled (from a worker process: forked.py) as its problems, not its message."""
        return CourseError, (self.problems, self.what)

    def show(self, file: IO[Any] | None = None) -> None:
        for problem in self.problems:
            click.echo(str(problem), err=True, file=file)
        count = len(self.problems)
        plural = "s" if count != 1 else ""
        what = self.what.replace(" ", f"{plural} ", 1) if " " in self.what else self.what + plural
        click.echo(f"{count} {what}; nothing was written.", err=True, file=file)


class CardKind(enum.Enum):
    """How a card is written and which Anki note type it becomes."""

    BASIC = "basic"
    """`Question::Answer` or a `?` line: one card."""
    REVERSED = "reversed"
    """`Question:::Answer` or a `??` line: a card each way."""
    CLOZE = "cloze"
    """`==hidden==` or `{{c1::hidden}}`: a card per cloze number."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a lesson's material comes from (front matter `source`)."""

    title: str
    publisher: str = ""
    url: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class MediaFile:
    """An image a lesson references, packed under a content-hash name."""

    path: Path
    """The file on disk."""
    name: str
    """`<sha256 prefix><suffix>`: unique across lessons, stable across builds."""


class CardText(NamedTuple):
    """A card as the decks (and translation checks) show it: strings rendered from its tokens in
    the process that parsed the lesson (render.py), so that no token outlives its lesson's parse.
    What the site shows of it is in its lesson's `SiteText` (`CardSite`), loaded when needed. A
    named tuple, not a frozen record: a language decided again unpickles every card's (33,350 at
    100,000 cards, in a one-edit rebuild), each made by C code, pickled as a tuple is."""

    front: str
    """Anki's first field (`Front`; a cloze's `Text`): the question, clozes as `{{cN::...}}`."""
    back: str
    """Anki's `Back`: the answer ('' for a cloze)."""
    explanation: str
    """Anki's `Explanation`: the block quote under the card ('' when there is none)."""
    media: tuple[str, ...] = ()
    """Image names the card shows (the deck packs them), sorted."""


class CardTexts:
    """One lesson's cards' `CardText`, pickled, unpickled when a card's text is first asked: a
    cached lesson of a language whose decks are kept never is (three quarters of a cache entry's
    bytes). The bytes come from a checked entry (cache.py: its checksum) or from the worker that
    pickled them, so a failure to unpickle them is a bug, not a damaged cache."""

    __slots__ = ("_data", "_value")

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data
        self._value: tuple[CardText, ...] | None = None

    def __reduce__(self) -> tuple[type[CardTexts], tuple[bytes]]:
        """Pickled as the texts' own pickle, made again once they were unpickled."""
        if self._data is not None:
            return CardTexts, (self._data,)
        from .cache import dumps  # cache.py imports this module

        return CardTexts, (dumps(self._value),)

    def get(self, index: int) -> CardText:
        value = self._value
        if value is None:
            from .cache import loads  # cache.py imports this module

            assert self._data is not None
            loaded = loads(self._data)
            if not isinstance(loaded, tuple):
                raise TypeError(f"not a lesson's card texts: {type(loaded).__name__}")
            value = self._value = loaded
            self._data = None  # the bytes are not needed again
        text = value[index]
        assert isinstance(text, CardText)
        return text


class Pending(tuple[CardTexts, int]):
    """A card's text, not unpickled yet: the `index`th of its lesson's `texts`; made as
    `Pending((texts, index))`. A pair, not a frozen record: loading a cached lesson makes one per
    card, and a tuple is made by C code (2,000 cached lessons of 50 cards: 46 ms as records
    through their `__init__`)."""

    __slots__ = ()

    @property
    def texts(self) -> CardTexts:
        return self[0]

    def load(self) -> CardText:
        return self[0].get(self[1])

    def __reduce__(self) -> tuple[type[Pending], tuple[tuple[CardTexts, int]]]:
        return Pending, ((self[0], self[1]),)


@dataclass(frozen=True, slots=True)
class CardSite:
    """A card as the site (and SCORM packages) show it: part of its lesson's `SiteText`."""

    sides: tuple[tuple[str, str], ...]
    """The site's review sides (front, back): one pair for a Q/A card (question, answer; a
    reversed card's reverse swaps them), one per cloze number (in `Card.clozes` order)."""
    question_text: str
    """The question without markup (search, "what changed" list)."""
    answer_text: str


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """One thing search can find: a lesson's introduction, a section (prose without its cards) or
    a card (question as title, answer as text)."""

    href: str
    title: str
    text: str
    lesson: str
    card: bool = False

    def record(self) -> dict[str, str | bool]:
        """The record as search.js reads it."""
        return {
            "href": self.href,
            "title": self.title,
            "text": self.text,
            "lesson": self.lesson,
            "card": self.card,
        }


@dataclass(frozen=True, slots=True)
class SiteText:
    """A lesson's strings for the site and SCORM packages (render.py): most of what a loaded
    library would weigh, so a large build keeps them out of memory (lessons.py spills them to a
    temporary file) and the writers load them one lesson at a time: `Lesson.site_text()`."""

    body: str
    """The lesson's article on the course page (HTML, cards included)."""
    search: tuple[SearchRecord, ...]
    """Its search records: the introduction and each section's prose, then each card."""
    cards: tuple[CardSite, ...]
    """Each card's site strings, in `Lesson.cards` order."""


class SiteRef(abc.ABC):
    """Where a lesson's `SiteText` is: in memory (`Held`) or in a build's spill file."""

    __slots__ = ()

    @abc.abstractmethod
    def load(self) -> SiteText: ...

    @abc.abstractmethod
    def digest(self) -> str:
        """A hash of the strings (sha256 of their pickled form): what the site's writers key a
        lesson's files on, to take them over from the last build (site.lesson_key); equal
        digests mean equal strings."""


@dataclass(frozen=True, slots=True)
class Held(SiteRef):
    """A `SiteText` in memory: what a lesson's parse makes, before the loader spills it."""

    value: SiteText

    def load(self) -> SiteText:
        return self.value

    def digest(self) -> str:
        from .cache import dumps  # cache.py imports this module

        return hashlib.sha256(dumps(self.value)).hexdigest()


@dataclass(frozen=True, slots=True)
class LessonText:
    """A lesson's strings for the outputs (render.py), beside its cards' `CardText`."""

    prose_digest: str
    """The hash of its prose (title, description, text outside cards): translations.py."""
    site: SiteRef | None = None
    """Where its site strings are; None when they were not rendered (a build without site and
    SCORM packages: decks only)."""


@dataclass(frozen=True, slots=True, eq=False)
class Card:
    """One card (one Anki note) as the author wrote it."""

    id: str | None
    """The author-owned ID from the `<!-- id: ... -->` comment; None while missing."""
    kind: CardKind
    text: CardText | Pending
    """What every output shows of the card, rendered where the lesson was parsed, or where its
    lesson's `CardTexts` will give it (a cached lesson: `rendered`)."""
    source_hash: str
    """What a translator translates of the card, hashed (translations.card_hash): its kind, its
    Markdown source without the ID comment and its explanation's text (the source itself is not
    kept: a library of 100,000 cards would hold it for this hash only)."""
    section: Section
    line: int
    """The card's first line (1-based; its file is its section's)."""
    id_line: int
    """0-based line (in the file) where a missing ID would be appended (`cards._id_line`)."""
    clozes: tuple[int, ...] = ()
    """Cloze numbers used by a cloze card, in ascending order."""
    tags: tuple[str, ...] = ()
    """Anki tags from the Obsidian plugin's deck tag at the card's start (`#a/b` -> `a::b`)."""
    cloze_hashes: tuple[str, ...] = ()
    """For each of `clozes`, a short hash of the text it hides (`cards.cloze_hashes`)."""
    id_own_line: int | None = None
    """0-based line of the card's ID comment when it stands on a line of its own under the
    card, where the Obsidian plugin runs the card on into the next paragraph: a warning, and
    `ids` moves it to `id_line` (`cards._own_line`)."""

    @property
    def rendered(self) -> CardText:
        """What every output shows of the card (its lesson's texts unpickled on first use)."""
        text = self.text
        return text if isinstance(text, CardText) else text.load()

    @property
    def loc(self) -> SourceLoc:
        """The card's first line, for messages (made when asked: not one record per card)."""
        return SourceLoc(self.section.loc.path, self.line)


@dataclass(frozen=True, slots=True, eq=False)
class Section:
    """A heading of a lesson and what stands below it, up to the next heading."""

    id: str
    """Slug of the title, unique within the lesson ('' for text before the first heading)."""
    title: str
    level: int
    loc: SourceLoc


@dataclass(frozen=True, slots=True, eq=False)
class Lesson:
    """One Markdown file of `lessons/<lang>/`."""

    id: str
    title: str
    lang: str
    order: int
    path: Path
    rendered: LessonText
    """The lesson's page body, search records and prose digest, rendered where it was parsed."""
    sections: tuple[Section, ...]
    cards: tuple[Card, ...]
    media: tuple[MediaFile, ...]
    source: Source | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    translated_from: str | None = None
    """Front matter `translated_from`: the language of the lesson (same id) this one translates."""
    digest: str = ""
    """sha256 of the bytes parsed (hex): what the outputs' inputs hash holds (outputs.py), not
    the file as it is later (saved again while a build runs)."""

    def site_text(self) -> SiteText:
        """The lesson's site strings (page body, search records, each card's sides), loaded
        from where the loader put them: the site and SCORM writers ask one lesson at a time."""
        if self.rendered.site is None:
            raise ValueError(f"{self.path}: loaded for the decks only (load_library(site=False))")
        return self.rendered.site.load()

    def site_digest(self) -> str:
        """A hash of `site_text()` (`SiteRef.digest`), without loading it."""
        if self.rendered.site is None:
            raise ValueError(f"{self.path}: loaded for the decks only (load_library(site=False))")
        return self.rendered.site.digest()

    def cards_in(self, section: Section) -> tuple[Card, ...]:
        return tuple(c for c in self.cards if c.section is section)


@dataclass(frozen=True, slots=True, eq=False)
class Course:
    """The lessons of one language, in order, with the course's title in that language."""

    id: str
    """Course identity shared by every language; part of every note's GUID."""
    lang: str
    title: str
    description: str
    lessons: tuple[Lesson, ...]
    root: Path
    """The `lessons/<lang>/` folder."""
    mastery_score: int = 80
    """`mastery_score` of `lessons/<lang>/course.yml`: the pass mark, in percent, of the graded
    lesson checks (the mean of their best results); the SCORM manifest gives it to the LMS."""
    id_line: int | None = None
    """Where `id` comes from: the line of its key in `lessons/course.yml` (1-based), 0 when that
    file has no `id`, None when there is no such file (the ID is then the default): where a
    changed course ID is reported (`updates.course_changed`; the course file's reader knows the
    line, `frontmatter.CourseFile.id_line`)."""

    @property
    def cards(self) -> tuple[Card, ...]:
        return tuple(c for lesson in self.lessons for c in lesson.cards)


@dataclass(frozen=True, slots=True, eq=False)
class Library:
    """Every language's course, read from one lessons folder."""

    id: str
    title: str
    root: Path
    courses: tuple[Course, ...]
    warnings: tuple[Problem, ...] = field(default=())
    titles: tuple[tuple[str, str], ...] = ()
    """(language, course title) of every language folder, in order, built or not (`--lang`):
    what a language's note types and top deck are told apart from (`updates.namings`)."""

    def course(self, lang: str) -> Course:
        return next(c for c in self.courses if c.lang == lang)

    def lesson_count(self) -> int:
        """Lessons in every language: what the build's thresholds are measured in."""
        return sum(len(c.lessons) for c in self.courses)
