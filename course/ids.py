"""Author tooling: give every card without an ID one, in place, touching no other byte, and
move an ID comment standing on a line of its own under its card to the end of the card's last
line (where the Obsidian plugin reads the card as we do).

`ids` does it on request; `build` does it before building (unless `--frozen`), so a new card
reaches learners with no extra step. Every file is prepared and checked before any is written.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .files import staged
from .model import Card, Course, CourseError, Library, Problem, SourceLoc

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: IDs get read aloud and retyped
ID_LENGTH = 8
BLOCK_ID_END = re.compile(rb" \^[A-Za-z0-9-]+[ \t]*$")
"""An Obsidian block ID ends its line: a card ID goes before it, so Obsidian's links still work."""


def new_id(taken: set[str]) -> str:
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


@dataclass(frozen=True, slots=True)
class Added:
    """Card IDs written into one lesson file: what `build` and `ids` print."""

    path: Path
    count: int
    moved: int = 0
    """ID comments moved from a line of their own to their card's last line."""

    def __str__(self) -> str:
        done = [f"{self.count} card ID{'s' if self.count != 1 else ''} added"] if self.count else []
        if self.moved:
            done.append(f"{self.moved} moved to the end of the card's last line")
        return f"{self.path}: {', '.join(done)}; commit them"


@dataclass(frozen=True, slots=True)
class _Edit:
    """One lesson file's new bytes, with the card IDs it gains."""

    path: Path
    data: bytes
    count: int
    moved: int


def missing_ids(library: Library, message: str) -> list[Problem]:
    """One problem per card without an ID, at the card's first line. (Each lesson's cards in
    turn, not `Course.cards`: a tuple of every card made for one look at each.)"""
    return [
        Problem(card.loc, message)
        for course in library.courses
        for lesson in course.lessons
        for card in lesson.cards
        if card.id is None
    ]


def misplaced_ids(library: Library, message: str) -> list[Problem]:
    """One problem per ID comment on a line of its own under its card (`Card.id_own_line`), at
    that line."""
    return [
        Problem(SourceLoc(lesson.path, card.id_own_line + 1), message)
        for course in library.courses
        for lesson in course.lessons
        for card in lesson.cards
        if card.id_own_line is not None
    ]


def lost_ids(library: Library) -> list[Problem]:
    """A warning at each card without an ID whose content is that of a published card that left
    the lessons since the last release (`anki.lost_ids`): said before it gets a new ID."""
    from . import anki, manifest
    from .frontmatter import display_path

    problems: list[Problem] = []
    for course in library.courses:
        present = {card.id for card in course.cards}
        if None not in present:
            continue
        try:
            old = manifest.read(course.root, display_path(course.root))
        except CourseError:  # (the build reports it)
            continue
        leaving = [e.card for e in old.cards.values() if not e.retired and e.card not in present]
        problems += anki.lost_ids(course, old, leaving, lambda card: card.id is None, _give_back)
    return problems


def _give_back(card: Card, published: str) -> str:
    return (
        f"this card has the content of card {published}, which left the lessons since the last "
        f"release: if it is that card with its ID comment lost, write `<!-- id: {published} -->` "
        "in place of the ID it is given now, so that learners keep its review history"
    )


def add_missing_ids(library: Library) -> list[Added]:
    """Append ` <!-- id: xxxxxxxx -->` to the last line of every card that has no ID (its
    `id_line`: the last that a comment leaves as it is, `cards._id_line`), and move there the
    ID comment of a card that has it on a line of its own under the card (`Card.id_own_line`:
    that line holds only comments, the last of the card's lines; the line goes, its comments
    end the card's last line, so the card shows and reads as before).

    Raises CourseError (writing nothing) if a lesson that needs IDs cannot be written.
    """
    edits = [edit for course in library.courses for edit in _course_edits(course)]
    unwritable = [
        Problem(
            SourceLoc(edit.path, 0),
            f"cannot write the file to {_what(edit)}: permission denied;"
            " make it writable, or build with --frozen to change no lesson",
        )
        for edit in edits
        if not (os.access(edit.path, os.W_OK) and os.access(edit.path.parent, os.W_OK))
    ]
    if unwritable:
        raise CourseError(unwritable)
    ready = _stage(edits)
    added: list[Added] = []
    for at, (edit, tmp) in enumerate(ready):  # renames in one folder: no room needed
        try:
            os.replace(tmp, edit.path)
        except OSError as exc:
            for _, left in ready[at:]:
                left.unlink(missing_ok=True)
            done = "".join(f"; {item} (already written)" for item in added)
            problem = Problem(SourceLoc(edit.path, 0), f"cannot write card IDs: {_why(exc)}{done}")
            raise CourseError([problem]) from None
        added.append(Added(edit.path, edit.count, edit.moved))
    return added


def _what(edit: _Edit) -> str:
    parts = [f"add {edit.count}"] * bool(edit.count) + [f"move {edit.moved}"] * bool(edit.moved)
    return f"{' and '.join(parts)} card ID(s)"


def _stage(edits: Sequence[_Edit]) -> list[tuple[_Edit, Path]]:
    """Every edit written to a temporary file beside its lesson (`files.staged`), before any
    lesson is replaced: a lesson that cannot be written (a full disk, a name too long for its
    temporary file's) changes none. Raises CourseError, the temporary files removed."""
    ready: list[tuple[_Edit, Path]] = []
    try:
        for edit in edits:
            try:
                ready.append((edit, staged(edit.path, edit.data)))
            except OSError as exc:
                reason = f"cannot write card IDs: {_why(exc)}; no lesson was changed"
                raise CourseError([Problem(SourceLoc(edit.path, 0), reason)]) from None
    except BaseException:
        for _, tmp in ready:
            tmp.unlink(missing_ok=True)
        raise
    return ready


def _why(error: OSError) -> str:
    if error.errno == errno.ENAMETOOLONG:
        return "its name is too long for the temporary copy written beside it; shorten it"
    return error.strerror or str(error)


def _course_edits(course: Course) -> Iterator[_Edit]:
    taken = {card.id for card in course.cards if card.id is not None}
    for lesson in course.lessons:
        lines = sorted({card.id_line for card in lesson.cards if card.id is None})
        moves = [
            (card.id_own_line, card.id_line)
            for card in lesson.cards
            if card.id_own_line is not None and card.id_own_line != card.id_line
        ]
        if not lines and not moves:
            continue
        rows = lesson.path.read_bytes().splitlines(keepends=True)
        for line in lines:
            _append(rows, line, f" <!-- id: {new_id(taken)} -->".encode())
        for own, line in moves:
            _append(rows, line, b" " + rows[own].strip())
            rows[own] = b""
        yield _Edit(lesson.path, b"".join(rows), len(lines), len(moves))


def _append(rows: list[bytes], line: int, comment: bytes) -> None:
    """`comment` at the end of row `line`, before its line break and a block ID ending it."""
    row = rows[line]
    body = row.rstrip(b"\r\n")
    block = BLOCK_ID_END.search(body)
    at = block.start() if block else len(body)
    rows[line] = body[:at] + comment + body[at:] + row[len(body) :]
