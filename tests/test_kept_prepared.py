"""What the watch prepares between builds for whichever language is edited next
(`cli._between_builds`: `lessons.kept_library`, `decided.prepare`): every language's notes made
and its manifest parsed from the parses kept in memory. The next build takes them when it loads
the same parses and reads the same manifest bytes, and writes what a cold build writes; a
changed lesson's notes and a changed manifest are made and read again; nothing is loaded while
a lesson's parse is not kept (the lesson changed since: it would be parsed outside a build).

Nothing here is timed: the tests count what the builds make and compare what they wrote."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import click
import pytest
from spies import calls
from test_kept_notes import MORE, edit, tree
from test_kept_notes import cli as build
from test_kept_parses import notes_made

from course import anki, cache, cli, decided, lessons, manifest, pipeline
from course.cli import _between_builds
from course.lessons import Kept


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


@pytest.fixture(autouse=True)
def none_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lessons, "_kept", None)
    monkeypatch.setattr(decided, "_held", None)
    monkeypatch.setattr(manifest, "_LAST_READ", {})


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lesson ID of each lesson whose notes are made."""
    return notes_made(monkeypatch)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each manifest file read back from its bytes (not found in memory by its hash)."""
    return calls(monkeypatch, manifest, "_stored")


def _watching(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`folder` built cold, then a watch started on it: its first build replays that one (it
    decides nothing, reads no manifest), then prepares the next."""
    shutil.copytree(folder / "lessons", folder.parent / "cold" / "lessons")
    assert _cold(folder.parent / "cold", monkeypatch)[0][0] == 0
    monkeypatch.setenv(cache.ENV, str(folder / "cache"))
    assert build(folder, monkeypatch)[0] == 0
    monkeypatch.setattr(lessons, "_kept", Kept())
    decided.keep_notes()
    manifest._LAST_READ.clear()
    assert build(folder, monkeypatch)[0] == 0  # (replayed)
    _between_builds(Path("lessons"), (), True)


def _cold(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[int, str], object]:
    """A cold build of the same lessons (a process that keeps nothing, no cache)."""
    shutil.rmtree(folder / "cache", ignore_errors=True)
    monkeypatch.setenv(cache.ENV, str(folder / "cache"))
    monkeypatch.setattr(lessons, "_kept", None)
    monkeypatch.setattr(decided, "_held", None)
    manifest._LAST_READ.clear()
    return build(folder, monkeypatch), tree(folder)


@pytest.fixture
def watched(sample: Path, tmp_path: Path) -> Path:
    """The sample with a second Greek lesson, in `tmp_path / "kept"` (its twin in "cold")."""
    (sample / "el" / "02-more.md").write_text(MORE, "utf-8")
    folder = tmp_path / "kept"
    shutil.copytree(sample, folder / "lessons")
    return folder


def test_the_first_edit_takes_the_prepared_notes_and_manifest(
    watched: Path, monkeypatch: pytest.MonkeyPatch, made: list[str], parsed: list[Path]
) -> None:
    """Prepared: every language's notes, for the lessons there are, and every manifest. The
    first edit makes only its lesson's notes and parses no manifest; it writes what a cold
    build writes."""
    _watching(watched, monkeypatch)
    assert decided._held is not None
    held = {
        root.name: sorted(key.split("\0")[0] for key in by_lesson)
        for root, (_, by_lesson) in decided._held.items()
    }
    assert held == {
        "el": ["lessons/el/01-basics.md", "lessons/el/02-more.md"],
        "lv": ["lessons/lv/01-strengths.md"],
        "pl": ["lessons/pl/01-traits.md"],
    }
    assert sorted(path.parent.name for path in manifest._LAST_READ) == ["el", "lv", "pl"]
    made.clear()
    parsed.clear()
    monkeypatch.setenv(cache.ENV, str(watched / "cache"))
    edit(watched / "lessons/el/02-more.md", "::", "::Νέα ")
    kept = (build(watched, monkeypatch), tree(watched))
    assert made == ["more"]
    assert parsed == []
    cold = watched.parent / "cold"
    edit(cold / "lessons/el/02-more.md", "::", "::Νέα ")
    assert kept == _cold(cold, monkeypatch)
    assert kept[0][0] == 0


def test_prepared_notes_of_a_changed_lesson_or_course_are_made_again(
    watched: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """A lesson saved after the preparation, and the course's ID changed (every note's GUID),
    are made again, not taken: the builds write what cold builds write."""
    _watching(watched, monkeypatch)
    cold = watched.parent / "cold"
    changes = [
        ("lessons/el/01-basics.md", "::", "::Νέα "),
        ("lessons/course.yml", "id: ", "id: new-"),
    ]
    for name, old, new in changes:
        made.clear()
        monkeypatch.setenv(cache.ENV, str(watched / "cache"))
        edit(watched / name, old, new)
        _new_manifests(watched, name)
        kept = (build(watched, monkeypatch), tree(watched))
        assert "basics" in made, name
        _between_builds(Path("lessons"), (), True)  # (as the watch does after each build)
        edit(cold / name, old, new)
        _new_manifests(cold, name)
        kept_now, held_now = lessons._kept, decided._held
        assert kept == _cold(cold, monkeypatch), name
        monkeypatch.setattr(lessons, "_kept", kept_now)
        monkeypatch.setattr(decided, "_held", held_now)


def _new_manifests(folder: Path, changed: str) -> None:
    """A new course ID: the manifests moved out, as the build asks for a new course."""
    if changed == "lessons/course.yml":
        for recorded in (folder / "lessons").glob(f"*/{manifest.MANIFEST_FILE}"):
            recorded.unlink()


def test_a_manifest_changed_after_the_preparation_is_read_again(
    watched: Path, monkeypatch: pytest.MonkeyPatch, parsed: list[Path]
) -> None:
    """The manifest is found in memory by its bytes' hash only: replaced after the
    preparation (an earlier version checked out), the file's bytes are what the next build
    reads."""
    _watching(watched, monkeypatch)
    path = watched / "lessons" / "el" / manifest.MANIFEST_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))  # the last card's line gone
    parsed.clear()
    again = manifest.File.read(Path("lessons/el")).parse()
    assert parsed == [Path("lessons/el") / manifest.MANIFEST_FILE]
    manifest._LAST_READ.clear()
    assert again == manifest.File.read(Path("lessons/el")).parse()


def test_nothing_is_prepared_while_a_lesson_is_not_kept(
    watched: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """A lesson saved since the last build has no parse kept: the library is not loaded (it
    would parse the lesson outside a build), no notes are made."""
    _watching(watched, monkeypatch)
    edit(watched / "lessons/el/02-more.md", "::", "::Νέα ")
    made.clear()
    parses: list[object] = []
    monkeypatch.setattr(lessons, "_parse", lambda task: parses.append(task))
    assert lessons.read_kept(Path("lessons")) == 0
    assert lessons.kept_library(Path("lessons")) is None
    _between_builds(Path("lessons"), (), True)
    assert parses == []
    assert made == []


def test_notes_are_held_for_the_lessons_there_are(
    watched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lesson gone since the notes were prepared is not held by the next preparation."""
    _watching(watched, monkeypatch)
    (watched / "lessons/el/02-more.md").unlink()
    assert decided.prepare(lessons.load_library(Path("lessons"))) == 0
    assert decided._held is not None
    _, by_lesson = decided._held[Path("lessons/el")]
    assert [key.split("\0")[0] for key in by_lesson] == ["lessons/el/01-basics.md"]


@pytest.mark.parametrize("reported", [True, False])
def test_a_build_that_says_it_is_done_works_out_the_next_outcome_after(
    watched: Path, monkeypatch: pytest.MonkeyPatch, reported: bool
) -> None:
    """The next build's outcome against the manifest a release wrote (`pipeline._next_outcome`)
    is worked out after the watch's build says it is done (`reported`, then `cli._remember`,
    the lock still held: `BuildOptions.replan_later`); a build that says nothing (run once)
    works it out while the manifests are rendered. Both record what a cold build's next run
    prints (the twin tests)."""
    _watching(watched, monkeypatch)
    order: list[str] = []
    for name in ("_next_outcome", "_commit"):
        real = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, partial(_noted, order, name, real))
    edit(watched / "lessons/el/02-more.md", "::", "::Νέα ")
    with click.Context(cli.main) as ctx:
        places = {"decks_dir": Path("decks"), "site_dir": Path("site"), "scorm_dir": Path("scorm")}
        done = lambda: order.append("reported")  # noqa: E731
        said_done = {"reported": done} if reported else {}
        ctx.invoke(cli.build_command, lessons=Path("lessons"), **places, **said_done)
    expected = (
        ["_commit", "reported", "_next_outcome"] if reported else ["_next_outcome", "_commit"]
    )
    assert order == expected


def _noted(order: list[str], name: str, real: Callable[..., object], *args: Any) -> object:
    order.append(name)
    return real(*args)


def test_nothing_is_prepared_above_the_most_cards(
    watched: Path, monkeypatch: pytest.MonkeyPatch, made: list[str]
) -> None:
    """Above `decided.PREPARE_MAX` cards (its memory), the next build makes its notes itself."""
    monkeypatch.setattr(decided, "PREPARE_MAX", 11)  # (the sample with MORE: 12 cards in all)
    _watching(watched, monkeypatch)
    assert decided._held == {}
    assert not manifest._LAST_READ
    monkeypatch.setattr(decided, "PREPARE_MAX", 12)
    made.clear()
    _between_builds(Path("lessons"), (), True)
    assert sorted(made) == ["basics", "more", "strengths", "traits"]


def _hashes_given(course: object, lesson: object, hashes: object = None) -> bool:
    return hashes is not None


def test_notes_made_between_builds_take_the_hashes_a_build_kept(
    watched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hold_notes` makes each lesson's notes from the hashes the last build kept on disk (as
    `notes` does; it writes none), not by hashing every note again."""
    monkeypatch.setattr(decided, "KEEP_FROM", 0)  # (the sample's languages keep their hashes)
    _watching(watched, monkeypatch)
    given = calls(monkeypatch, anki, "hashed_lesson_notes", _hashes_given)
    monkeypatch.setattr(decided, "_held", {})  # (nothing held: every lesson's notes made)
    library = lessons.load_library(Path("lessons"))
    assert sum(decided.hold_notes(course) for course in library.courses) == len(given) == 4
    assert all(given)


def _kind(store: object, path: object, lang: object, key: object, data: object, *more: str) -> str:
    """A `cache.Store.put`'s kind of entry."""
    return more[0] if more else "lessons"


def test_held_notes_count_as_hashed_only_where_hashed_again(
    watched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A held lesson whose hashes equal those kept on disk counts as not hashed, as in a process
    that keeps nothing: an edit to one of a language's lessons hashes fewer notes than the
    language has, so with REWRITE 1 its kept hashes are not written again."""
    monkeypatch.setattr(decided, "KEEP_FROM", 0)
    monkeypatch.setattr(decided, "REWRITE", 1)
    _watching(watched, monkeypatch)
    kinds = calls(monkeypatch, cache.Store, "put", _kind)
    edit(watched / "lessons/el/02-more.md", "::", "::Νέα ")
    with click.Context(cli.main) as ctx:
        places = {"decks_dir": Path("decks"), "site_dir": Path("site"), "scorm_dir": Path("scorm")}
        ctx.invoke(cli.build_command, lessons=Path("lessons"), **places)
    assert "lessons" in kinds  # (the edited lesson's parse: the build ran)
    assert decided.NOTES not in kinds
