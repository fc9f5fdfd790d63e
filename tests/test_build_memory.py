"""What a large build keeps in memory till it ends (target 3: its peak at 100,000 cards): the
cards' texts of lessons parsed in this build are held in place, and no string the library keeps
carries a UTF-8 copy that pickling or SQLite's binding left inside it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from course import anki, cache, lessons, manifest, model
from course.cli import main
from course.lessons import load_library
from course.model import Library


@pytest.fixture
def course(bundled: Path) -> Path:
    return bundled


def holds_utf8_copy(text: str) -> bool:
    """CPython keeps a string's UTF-8 form inside it once C code asked for it that way (the
    pickler, SQLite's binding), for as long as the string lives: it shows in the string's size.
    (An ASCII string is its own UTF-8 form: never.)"""
    return sys.getsizeof(text) > sys.getsizeof(text.encode().decode())


def card_strings(library: Library) -> list[str]:
    texts = [card.rendered for c in library.courses for le in c.lessons for card in le.cards]
    return [s for t in texts for s in (t.front, t.back, t.explanation) if not s.isascii()]


def test_the_probe_sees_a_utf8_copy() -> None:
    text = "Ποια είναι η πρώτη δεξιότητα;"[:-1] + ";"  # made here: no copy inside yet
    assert not holds_utf8_copy(text)
    cache.dumps(text)
    assert holds_utf8_copy(text)


def pool(monkeypatch: pytest.MonkeyPatch, cached: bool, tmp_path: Path) -> None:
    """Every lesson parsed by the pool: worker processes and this process (its share)."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache") if cached else "")
    monkeypatch.setattr(lessons, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(lessons, "_cores", lambda: 2)


@pytest.mark.parametrize("cached", [True, False], ids=["cache-on", "cache-off"])
def test_a_lesson_parsed_in_this_build_holds_its_cards_texts_in_place(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    """Parsed by a worker or here, a lesson's cards hold their `CardText` (its deck is decided in
    this build and reads them all), not a `Pending` handle on pickled bytes freed while the
    decks are decided; loaded from the cache, they wait (test_parse_cache)."""
    pool(monkeypatch, cached, tmp_path)
    library = load_library(course)
    cards = [card for c in library.courses for le in c.lessons for card in le.cards]
    assert len(cards) > 100
    assert all(type(card.text) is model.CardText for card in cards)
    if cached:
        monkeypatch.setattr(lessons, "load_lesson", None)  # every lesson from the cache now
        again = load_library(course)
        held = [card.text for c in again.courses for le in c.lessons for card in le.cards]
        pending = [text for text in held if isinstance(text, model.Pending)]
        assert len(pending) == len(held)
        assert [t.load() for t in pending] == [card.text for card in cards]


def test_a_large_builds_card_texts_hold_no_utf8_copy(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process's share of the lessons is pickled for the cache: the library takes the
    records that pickle gives back, not the parse's own strings, which pickling left with a
    UTF-8 copy inside (7 MB at 100,000 cards)."""
    pool(monkeypatch, True, tmp_path)
    strings = card_strings(load_library(course))
    assert len(strings) > 100
    assert not [s for s in strings if holds_utf8_copy(s)]


def test_writing_a_deck_leaves_no_utf8_copy_in_the_librarys_strings(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's binding keeps the UTF-8 form inside each string it is given: the sort field is
    bound as a copy, not as the library's string, kept till the build ends (5 MB at 100,000
    cards)."""
    monkeypatch.setenv(cache.ENV, "")
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 10**9)  # parsed here, never pickled
    library = load_library(course)
    strings = card_strings(library)
    assert strings
    assert not [s for s in strings if holds_utf8_copy(s)]
    for course_ in library.courses:
        old = manifest.read(course_.root)
        path = course_.root / manifest.MANIFEST_FILE
        deck = anki.prepare(course_, old, 1700000000, manifest_path=path)
        anki.write_deck(deck, tmp_path / f"{course_.lang}.apkg")
    assert not [s for s in strings if holds_utf8_copy(s)]


def cli_build(course: Path, *more: str) -> None:
    args = ["build", "--lessons", str(course), "--decks", str(course.parent / "decks")]
    result = CliRunner().invoke(main, [*args, "--no-site", "--no-scorm", *more])
    assert result.exit_code == 0, result.output


def test_a_cold_build_writes_each_manifest_without_its_whole_text(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's bytes are made a part at a time (`Manifest.encoded`), not from the whole
    file's text (2 bytes a character with a Greek deck name: 12 MB at 100,000 cards)."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))

    def whole_text(self: manifest.Manifest) -> str:
        raise AssertionError("the whole manifest's text was made")

    monkeypatch.setattr(manifest.Manifest, "dumps", whole_text)
    cli_build(course)
    monkeypatch.undo()
    for folder in sorted(p for p in course.iterdir() if p.is_dir()):
        data = (folder / manifest.MANIFEST_FILE).read_bytes()
        assert data == manifest.read(folder).dumps().encode()
        assert not data.isascii()  # (deck names in the language)


def entries(cards: int) -> list[manifest.Entry]:
    made: list[manifest.Entry] = [
        manifest.Release(1, 5),
        manifest.DeckEntry("", "Εξυπηρέτηση πελατών", 5),
        manifest.DeckEntry("l1", "Obsługa klienta „na żywo”", 5),
    ]
    for n in range(cards):
        made.append(manifest.CardEntry(f"c{n:03d}", model.CardKind.BASIC, "l1", "h", 5, 1, 1))
    return made


@pytest.mark.parametrize("cards", [0, 1, 3, 4, 7, 9])
def test_a_manifests_bytes_are_its_texts_whatever_the_parts(
    monkeypatch: pytest.MonkeyPatch, cards: int
) -> None:
    monkeypatch.setattr(manifest, "LINES_PER_PART", 3)
    made = manifest.Manifest.of(entries(cards))
    assert made.encoded() == made.dumps().encode()
    assert made.encoded().count(b"\n") == cards + 3
    data = made.encoded()
    spliced = manifest._with_text(made, data)
    again = manifest.with_entries(
        spliced, [manifest.CardEntry("c001", model.CardKind.BASIC, "l1", "g", 6, 1, 2)]
    )
    assert again.text is not None
    assert again.encoded() == again.dumps().encode()


def test_a_manifest_with_other_line_ends_is_left_as_it_is(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manifest checked out with CRLF line ends (git's autocrlf) has the text the build would
    write (as `read_text` reads it): the build does not write it again."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    cli_build(course)
    path = course / "pl" / manifest.MANIFEST_FILE
    crlf = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(crlf)
    cli_build(course)
    assert path.read_bytes() == crlf
