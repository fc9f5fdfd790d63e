"""A language decided again (one card of it edited) hashes only the edited lesson's notes: the
other lessons' notes' GUIDs and digests are kept by lesson (`decided.notes`), and its manifest's
text is written again from the file it was made from, only the changed cards' lines new
(`manifest.Text`). Whatever a build prints and writes with them is byte for byte what it prints
and writes without them (the deck side's cache folders deleted before every build), through
edits, a changed image, a new course ID, a retitled lesson, added and retired cards.

Nothing here is timed: the tests count the notes hashed and compare what the builds wrote."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from test_manifest import ENTRIES, PROPERTIES, TEXT

from course import anki, cache, decided, manifest, markup, outputs, pipeline, site, templating
from course.cli import main
from course.manifest import CardEntry, Manifest
from course.model import CardKind

ARGS = ["--lessons", "lessons", "--decks", "decks", "--site", "site", "--scorm", "scorm"]
DECK_SIDE = (decided.NOTES, manifest.STORED, decided.KIND)
"""What the deck side keeps in the cache (the lessons' parses stay in both twins)."""


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


@pytest.fixture(autouse=True)
def kept_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample's languages are far below `decided.KEEP_FROM`: their hashes kept all the
    same, as a large course's are."""
    monkeypatch.setattr(decided, "KEEP_FROM", 0)


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The card ID of every note whose GUID a build works out."""
    found: list[str] = []
    real = anki.note_guid

    def counting(course_id: str, lang: str, card_id: str) -> str:
        found.append(card_id)
        return real(course_id, lang, card_id)

    monkeypatch.setattr(anki, "note_guid", counting)
    return found


def cli(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(folder)  # the same relative paths in both twins' messages
    result = CliRunner().invoke(main, ["build", *ARGS], catch_exceptions=False)
    return result.exit_code, result.output


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "cache" not in p.parts
    }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def _new_course(folder: Path) -> None:
    """The course ID changed and, as the build asks for a new course, the manifests moved out."""
    edit(folder / "lessons" / "course.yml", "id: ", "id: new-")
    for recorded in (folder / "lessons").glob(f"*/{manifest.MANIFEST_FILE}"):
        recorded.unlink()


def _add_card(folder: Path) -> None:
    path = folder / "lessons" / "el" / "01-basics.md"
    path.write_text(
        path.read_text("utf-8") + "\nΤι ζητά ο πελάτης;::Λύση. <!-- id: el-added -->\n", "utf-8"
    )


def _retire_card(folder: Path) -> None:
    path = folder / "lessons" / "el" / "01-basics.md"
    lines = path.read_text("utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "id: el-added" not in line), "utf-8")


STEPS: list[tuple[str, Callable[[Path], object]]] = [
    ("cold build", lambda f: None),
    ("nothing changed", lambda f: None),
    (
        "a card's answer edited",
        lambda f: edit(f / "lessons" / "el" / "01-basics.md", "::", "::Νέα "),
    ),
    (
        "an image's bytes changed, not the lesson's: its name in the card's field",
        lambda f: (f / "lessons" / "el" / "img" / "dot.png").write_bytes(
            (f / "lessons" / "el" / "img" / "dot.png").read_bytes() + b"another image"
        ),
    ),
    ("a new course's ID, new manifests: every GUID", _new_course),
    (
        "a lesson retitled: every note's Lesson field",
        lambda f: edit(f / "lessons" / "pl" / "01-traits.md", "title: ", "title: Nowy tytuł — "),
    ),
    ("a card added: a manifest line inserted", _add_card),
    ("the card retired", _retire_card),
    ("nothing changed again", lambda f: None),
]


def test_kept_notes_and_manifest_lines_write_what_a_build_without_them_writes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    twins = {name: tmp_path / name for name in ("kept", "none")}
    for folder in twins.values():
        shutil.copytree(sample, folder / "lessons")
    for what, change in STEPS:
        seen: dict[str, object] = {}
        for name, folder in twins.items():
            monkeypatch.setenv(cache.ENV, str(folder / "cache"))
            manifest._LAST_READ.clear()  # each build in its own process
            if name == "none":
                for kind in DECK_SIDE:
                    shutil.rmtree(folder / "cache" / kind, ignore_errors=True)
                (folder / "cache" / "last-build.json").unlink(missing_ok=True)
            change(folder)
            seen[name] = (cli(folder, monkeypatch), tree(folder))
        assert seen["kept"] == seen["none"], what
        assert seen["kept"][0][0] == 0, seen["kept"][0][1]  # type: ignore[index]
    assert (twins["kept"] / "cache" / decided.NOTES).is_dir()


def test_kept_notes_are_not_taken_by_another_version_of_the_tool(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new version of the tool may render an unchanged lesson's notes otherwise (their fields,
    so their digests): its build hashes them again, and writes what a build without the kept
    hashes writes (every lesson file as it was)."""
    twins = {name: tmp_path / name for name in ("kept", "none")}
    for folder in twins.values():
        shutil.copytree(sample, folder / "lessons")
    seen: dict[str, object] = {}
    for folder in twins.values():
        monkeypatch.setenv(cache.ENV, str(folder / "cache"))
        manifest._LAST_READ.clear()
        assert cli(folder, monkeypatch)[0] == 0
    real_escape = markup.escape_html
    for module in (cache, outputs, site, templating):  # (those that import it by name too)
        monkeypatch.setattr(module, "tool_digest", lambda: "another version of the tool")
    monkeypatch.setattr(anki, "escape_html", lambda text: real_escape(text) + " (new)")
    for name, folder in twins.items():
        monkeypatch.setenv(cache.ENV, str(folder / "cache"))
        manifest._LAST_READ.clear()
        if name == "none":
            for kind in DECK_SIDE:
                shutil.rmtree(folder / "cache" / kind, ignore_errors=True)
            (folder / "cache" / "last-build.json").unlink(missing_ok=True)
        seen[name] = (cli(folder, monkeypatch), tree(folder))
    assert seen["kept"] == seen["none"]
    assert "cards changed" in seen["kept"][0][1]  # type: ignore[index]


MORE = """---
id: more
title: Περισσότερα
lang: el
order: 2
---

Τι είναι η υπομονή;::Η ηρεμία μπροστά στη δυσκολία. <!-- id: el-more-1 -->

Τι είναι η σαφήνεια;::Λόγια που καταλαβαίνει ο πελάτης. <!-- id: el-more-2 -->
"""


def built_with_more(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, list[str]]:
    """The sample with a second Greek lesson (MORE), built cold with its cache in `tmp_path`:
    the project folder, the first Greek lesson and its card IDs."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    folder = sample.parent
    (sample / "el" / "02-more.md").write_text(MORE, "utf-8")
    assert cli(folder, monkeypatch)[0] == 0
    lesson = sample / "el" / "01-basics.md"
    return folder, lesson, re.findall(r"<!-- id: (\S+) -->", lesson.read_text("utf-8"))


def test_an_edit_hashes_only_its_lessons_notes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[str]
) -> None:
    folder, lesson, cards = built_with_more(sample, tmp_path, monkeypatch)
    assert {*cards, "el-more-1", "el-more-2"} < set(hashed), "the cold build hashed every note"
    edit(lesson, "::", "::Νέα ")
    hashed.clear()
    code, printed = cli(folder, monkeypatch)
    assert code == 0, printed
    assert "el: release 2: 1 card changed" in printed
    assert sorted(hashed) == sorted(cards), "only the edited lesson's notes"
    deck = tmp_path / "deck"
    shutil.unpack_archive(folder / "decks" / "sample-course-el.apkg", deck, "zip")
    assert "Νέα ".encode() in (deck / "collection.anki2").read_bytes(), "the edit reached the deck"


def test_damaged_kept_notes_are_hashed_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[str]
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    folder = sample.parent
    assert cli(folder, monkeypatch)[0] == 0
    built = tree(folder)
    for entry in (tmp_path / "cache" / decided.NOTES).iterdir():
        data = bytearray(entry.read_bytes())
        data[-5] ^= 0xFF
        entry.write_bytes(bytes(data))
    shutil.rmtree(tmp_path / "cache" / decided.KIND)
    for deck in (folder / "decks").iterdir():
        deck.unlink()
    hashed.clear()
    assert cli(folder, monkeypatch)[0] == 0
    assert tree(folder) == built
    assert hashed, "hashed again"


def test_kept_hashes_of_other_cards_are_not_used(sample: Path) -> None:
    """Kept hashes that do not name the lesson's cards, in order, are not used."""
    from course.lessons import load_library

    course = load_library(sample, ["el"]).courses[0]
    lesson = course.lessons[0]
    notes = anki.lesson_notes(course, lesson)
    wrong: Any = tuple((card, "guid", "digest") for card, _, _ in reversed(anki.note_hashes(notes)))
    assert anki.lesson_notes(course, lesson, wrong) == notes
    right = anki.note_hashes(notes)
    assert anki.lesson_notes(course, lesson, right) == notes


def test_taken_hashes_are_handed_back_as_they_were_given(sample: Path) -> None:
    """A lesson whose kept hashes were taken hands back those very hashes (decided.notes counts
    it as not hashed by identity, without comparing its notes' triples again); hashes not taken
    are made anew, equal to those the lesson's notes hash to."""
    from course.lessons import load_library

    course = load_library(sample, ["el"]).courses[0]
    lesson = course.lessons[0]
    notes, made = anki.hashed_lesson_notes(course, lesson)
    assert made
    assert made == anki.note_hashes(notes)
    kept = tuple(list(made))  # equal, another object
    again, taken = anki.hashed_lesson_notes(course, lesson, kept)
    assert taken is kept
    assert again == notes
    wrong: Any = tuple((card, "guid", "digest") for card, _, _ in reversed(made))
    _, remade = anki.hashed_lesson_notes(course, lesson, wrong)
    assert remade is not wrong
    assert remade == made


# -- the manifest's text, written again from the file it was made from ---------------------------

CARDS = st.builds(
    CardEntry,
    st.one_of(TEXT, st.sampled_from(["a1", "a2", '"q\\', "ζ", "a1\u2028"])),
    st.sampled_from(CardKind),
    TEXT,
    TEXT,
    st.integers(0, 2**40),
    st.integers(0, 9),
    st.integers(0, 9),
)


@PROPERTIES
@given(
    st.lists(ENTRIES | CARDS, max_size=30),
    st.lists(st.lists(ENTRIES | CARDS, max_size=6), max_size=3),
)
def test_a_manifest_made_from_a_written_one_dumps_what_it_holds(
    first: list[manifest.Entry], changes: list[list[manifest.Entry]]
) -> None:
    written = Manifest.of(first)
    data = written.dumps().encode()
    made = manifest._with_text(written, data)
    assert made.text is not None
    for entries in changes:  # (a plan, then the translations' record: two steps)
        made = manifest.with_entries(made, entries)
    whole = Manifest.of(made.entries())
    assert whole.text is None
    assert made.dumps() == whole.dumps()
    assert made.encoded() == whole.encoded() == whole.dumps().encode()


@pytest.mark.parametrize(("batch", "chars"), [(4096, 1 << 18), (3, 1 << 18), (1, 1), (5, 200)])
def test_a_decks_inputs_hash_is_one_part_per_value(
    sample: Path, monkeypatch: pytest.MonkeyPatch, batch: int, chars: int
) -> None:
    """`outputs.deck_inputs` joins a note's parts, and a batch of notes', with the NUL the hash
    puts after each: the hash of every value as its own part (what earlier builds recorded)."""
    from course import outputs
    from course.lessons import load_library

    monkeypatch.setattr(outputs, "HASH_BATCH", batch)
    monkeypatch.setattr(outputs, "HASH_CHARS", chars)

    course = load_library(sample, ["el"]).courses[0]
    deck = anki.prepare(course, Manifest(found=False), 1790000000, manifest_path=Path("m"))
    assert any(note.media for note in deck.notes)
    decks = deck.plan
    parts = [course.id, course.lang, course.title, course.description, decks.top_deck]
    parts += [f"{k}={v}" for k, v in sorted(decks.note_type_mods.items())]
    for lesson in course.lessons:
        parts += [lesson.id, lesson.description, decks.lesson_decks.get(lesson.id, "")]
        parts += [f"{m.name}={m.path}" for m in lesson.media]
    for note in deck.notes:
        parts += [note.guid, note.lesson, str(decks.note_mods[note.card_id]), note.digest]
        parts += [repr(note.ords), *note.media]
    assert outputs.deck_inputs(deck) == outputs.hash_parts(parts)


@pytest.mark.parametrize("rewrite", [decided.REWRITE, 0])
def test_the_build_after_an_edit_hashes_what_the_entry_lacks(
    sample: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hashed: list[str],
    rewrite: int,
) -> None:
    """The entry is written again when a build hashed enough notes (the edited lesson here is
    most of its language's notes); else the next build hashes that lesson's notes again."""
    monkeypatch.setattr(decided, "REWRITE", rewrite)
    folder, lesson, cards = built_with_more(sample, tmp_path, monkeypatch)
    edit(lesson, "::", "::Νέα ")
    assert cli(folder, monkeypatch)[0] == 0
    built = tree(folder)
    hashed.clear()
    shutil.rmtree(tmp_path / "cache" / decided.KIND)  # decided again, not kept
    (tmp_path / "cache" / "last-build.json").unlink()  # built, not replayed
    for deck in (folder / "decks").iterdir():
        deck.unlink()
    assert cli(folder, monkeypatch)[0] == 0
    assert tree(folder) == built
    assert sorted(hashed) == (sorted(cards) if rewrite == 0 else [])


def test_the_entry_is_not_written_again_for_an_edit_of_a_few_notes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[str]
) -> None:
    """Only the edited lesson's notes count as hashed: the lessons whose kept hashes were taken
    do not (here the entry would be written again if they did), so the next build hashes the
    edited lesson's notes again, and only them."""
    monkeypatch.setattr(decided, "REWRITE", 1)  # written again when every note was hashed
    folder, lesson, cards = built_with_more(sample, tmp_path, monkeypatch)
    more = lesson.parent / "02-more.md"
    edit(more, "::", "::Νέα ")
    assert cli(folder, monkeypatch)[0] == 0
    hashed.clear()
    shutil.rmtree(tmp_path / "cache" / decided.KIND)  # decided again, not kept
    (tmp_path / "cache" / "last-build.json").unlink()  # built, not replayed
    assert cli(folder, monkeypatch)[0] == 0
    more_cards = re.findall(r"<!-- id: (\S+) -->", more.read_text("utf-8"))
    assert len(cards) > len(more_cards) > 0
    assert sorted(hashed) == sorted(more_cards)


KEEP_FROM = decided.KEEP_FROM
"""As the tool has it (the fixture `kept_at_any_size` sets it to 0 for every test)."""


@pytest.mark.parametrize("keep_from", [KEEP_FROM, 0])
def test_a_small_language_keeps_no_hashes_and_builds_the_same(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_from: int
) -> None:
    """Under KEEP_FROM cards a language's notes are hashed by every build that decides it, and
    no entry is written (its file costs more than the hashing); the outputs are the same."""
    cards = [len(lesson.cards) for c in pipeline.check(sample).courses for lesson in c.lessons]
    assert 0 < sum(cards) < KEEP_FROM
    monkeypatch.setattr(decided, "KEEP_FROM", keep_from)
    built = {}
    for kept in (True, False):
        folder = tmp_path / str(kept)
        shutil.copytree(sample, folder / "lessons")
        monkeypatch.setenv(cache.ENV, str(folder / "cache"))
        manifest._LAST_READ.clear()
        monkeypatch.setattr(decided, "KEEP_FROM", keep_from if kept else 10**9)
        assert cli(folder, monkeypatch)[0] == 0
        built[kept] = tree(folder)
        assert (folder / "cache" / decided.NOTES).is_dir() == (kept and keep_from == 0)
    assert built[True] == built[False]
