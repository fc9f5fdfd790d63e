"""Author tooling: give every card without an ID one, in place, touching no other byte."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .files import atomic_write
from .model import Course, Library

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: IDs get read aloud and retyped
ID_LENGTH = 8


def new_id(taken: set[str]) -> str:
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


@dataclass(frozen=True, slots=True)
class Added:
    path: Path
    count: int


def add_missing_ids(library: Library) -> list[Added]:
    """Append ` <!-- id: xxxxxxxx -->` to the last line of every card that has no ID."""
    return [added for course in library.courses for added in _course_ids(course)]


def _course_ids(course: Course) -> Iterator[Added]:
    taken = {card.id for card in course.cards if card.id is not None}
    for lesson in course.lessons:
        lines = sorted({card.id_line for card in lesson.cards if card.id is None})
        if not lines:
            continue
        data = lesson.path.read_bytes()
        rows = data.splitlines(keepends=True)
        for line in lines:
            row = rows[line]
            body = row.rstrip(b"\r\n")
            comment = f" <!-- id: {new_id(taken)} -->".encode()
            rows[line] = body + comment + row[len(body) :]
        atomic_write(lesson.path, b"".join(rows))
        yield Added(lesson.path, len(lines))
