"""The watch mode's parses and notes kept in memory (`lessons.Kept`, `decided.keep_notes`):
builds of one process that keep them write byte for byte what cold builds write, through
edits, an edit undone, a changed image, a new lesson and a deleted one, a new course ID, a new
version of the tool; a parse is kept under its cache entry's key only, for the lessons the last
build looked up only, and none is changed once kept; notes only for the lessons there are.

Nothing here is timed: the tests compare what the builds wrote and what is kept."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from spies import calls
from test_kept_notes import MORE, edit, tree
from test_kept_notes import cli as build

from course import anki, cache, decided, lessons, manifest, outputs, site, templating
from course.cli import _between_builds
from course.lessons import Kept, Parsed
from course.model import Lesson

LESSON = Path("el/01-basics.md")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


@pytest.fixture(autouse=True)
def none_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test keeps is gone after it (`keep_parses`, `keep_notes` set the modules'
    stores)."""
    monkeypatch.setattr(lessons, "_kept", None)
    monkeypatch.setattr(decided, "_held", None)


def _new_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (cache, outputs, site, templating):  # (those that import it by name too)
        monkeypatch.setattr(module, "tool_digest", lambda: "another version of the tool")


IMAGE = Path("el/img/dot.png")

STEPS: list[tuple[str, Callable[[Path, pytest.MonkeyPatch], object]]] = [
    ("cold build", lambda f, m: None),
    ("nothing changed (replayed)", lambda f, m: None),
    ("a card's answer edited", lambda f, m: edit(f / "lessons" / LESSON, "::", "::Νέα ")),
    ("the edit undone", lambda f, m: edit(f / "lessons" / LESSON, "::Νέα ", "::")),
    (
        "an image's bytes changed, not the lesson's",
        lambda f, m: (f / "lessons" / IMAGE).write_bytes(
            (f / "lessons" / IMAGE).read_bytes() + b"another image"
        ),
    ),
    ("a lesson added", lambda f, m: (f / "lessons" / "el" / "02-more.md").write_text(MORE)),
    ("a card of it edited", lambda f, m: edit(f / "lessons/el/02-more.md", "::", "::Νέα ")),
    ("the lesson deleted", lambda f, m: (f / "lessons" / "el" / "02-more.md").unlink()),
    ("a new course's ID, new manifests: every GUID", lambda f, m: _new_course(f)),
    ("a new version of the tool", lambda f, m: _new_tool(m)),
    ("a card edited again", lambda f, m: edit(f / "lessons" / LESSON, "::", "::Άλλη ")),
]


def _new_course(folder: Path) -> None:
    """The course ID changed and, as the build asks for a new course, the manifests moved out."""
    edit(folder / "lessons/course.yml", "id: ", "id: new-")
    for recorded in (folder / "lessons").glob(f"*/{manifest.MANIFEST_FILE}"):
        recorded.unlink()


def snapshot(parsed: Parsed) -> bytes:
    """A kept parse's records pickled, its cards' texts loaded (`CardTexts` unpickles them
    when first asked: the same values)."""
    lesson = parsed.lesson
    if lesson is None:
        return cache.dumps(parsed)
    cards = tuple(replace(card, text=card.rendered) for card in lesson.cards)
    return cache.dumps(replace(parsed, lesson=replace(lesson, cards=cards)))


def lesson_slots(folder: Path) -> set[tuple[Path, str]]:
    return {(p.resolve(), p.parent.name) for p in (folder / "lessons").glob("*/*.md")}


def notes_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The lesson ID of each lesson whose notes are made from now on (`anki.hashed_lesson_notes`
    counted)."""
    return calls(monkeypatch, anki, "hashed_lesson_notes", _lesson_id)


def _lesson_id(course: object, lesson: Lesson, *hashes: object) -> str:
    return lesson.id


@pytest.mark.parametrize("keep_from", [0, decided.KEEP_FROM])
def test_kept_parses_build_what_cold_builds_build(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_from: int
) -> None:
    """Twins: one keeps its parses and notes from build to build (and reads after each build
    the parses it made and prepares every language's notes and manifest, as the watch does), the other builds cold every time (no parse cache,
    nothing kept, no last build). After each step, both printed and wrote the same; only the
    parses of the lessons there are are kept, under their present keys, and no kept parse
    changed; only their notes are kept, and an unchanged lesson's are not made again. With
    `keep_from` 0, the notes' hashes are kept on disk too (a large language)."""
    monkeypatch.setattr(decided, "KEEP_FROM", keep_from)
    twins = {name: tmp_path / name for name in ("kept", "cold")}
    for folder in twins.values():
        shutil.copytree(sample, folder / "lessons")
    kept = Kept()
    held: dict[Path, tuple[bytes, dict[str, object]]] = {}
    made = notes_made(monkeypatch)
    seen_records: dict[int, tuple[Parsed, bytes]] = {}
    opened: list[Path] = []
    real_open = cache.Store.open

    def counted(self: cache.Store, path: Path, *args: object, **kwargs: object) -> object:
        opened.append(path)
        return real_open(self, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache.Store, "open", counted)
    for what, change in STEPS:
        seen: dict[str, object] = {}
        before = dict(kept.parses)
        for name, folder in twins.items():
            monkeypatch.setenv(cache.ENV, str(folder / "cache"))
            change(folder, monkeypatch)
            if name == "cold":
                shutil.rmtree(folder / "cache", ignore_errors=True)
                manifest._LAST_READ.clear()
                monkeypatch.setattr(lessons, "_kept", None)
                monkeypatch.setattr(decided, "_held", None)
            else:
                monkeypatch.setattr(lessons, "_kept", kept)
                monkeypatch.setattr(decided, "_held", held)
            opened.clear()
            made.clear()
            seen[name] = (build(folder, monkeypatch), tree(folder))
            if name == "kept":
                built_opened, built_made = list(opened), list(made)
                used = dict(kept.parses)
                _between_builds(Path("lessons"), (), True)  # (read_kept, prepare)
        assert seen["kept"] == seen["cold"], what
        assert seen["kept"][0][0] == 0, seen["kept"][0][1]  # type: ignore[index]
        # Kept: the lessons there are, each under the key its cache entry has now.
        slots = {(slot[1], slot[2]) for slot in kept.parses}
        assert slots == lesson_slots(twins["kept"]), what
        assert {(slot[1], slot[2]) for slot in used} <= slots, what
        store = cache.Store(twins["kept"] / "cache")
        for slot, (key, _) in kept.parses.items():
            assert slot[0] == store.folder
            entry = real_open(store, slot[1], slot[2], key, "lessons", slot[1])
            assert entry is not None, (what, slot)
            entry.close()
        # Unchanged since kept.
        for _, result in kept.parses.values():
            parsed = result[0]
            first = seen_records.setdefault(id(parsed), (parsed, snapshot(parsed)))
            assert first[0] is parsed
            assert first[1] == snapshot(parsed), what
        if what == "a card's answer edited":
            # Only the edited lesson's entry was read: the others' parses were in memory.
            assert built_opened == [Path("lessons") / LESSON], built_opened
        if what == "a card of it edited":
            # Only its notes were made: the other Greek lesson's were the last build's.
            assert built_made == ["more"], built_made
        # Notes kept: the last decided language's lessons there are, one key each.
        there = {str(p.relative_to(twins["kept"])) for p in twins["kept"].glob("lessons/*/*.md")}
        for _, by_lesson in held.values():
            paths = [key.split("\0")[0] for key in by_lesson]
            assert len(set(paths)) == len(paths), what
            assert set(paths) <= there, what
        if what == "a new version of the tool":
            # Every parse kept before was made under the tool's old digest: none is used.
            assert not any(
                result is old for _, result in kept.parses.values() for _, old in before.values()
            )


def test_a_build_run_once_keeps_nothing(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build` keeps no parse in memory: only a process that asks for it does."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    assert build(sample.parent, monkeypatch)[0] == 0
    edit(sample / LESSON, "::", "::Νέα ")
    assert build(sample.parent, monkeypatch)[0] == 0
    assert lessons._kept is None
    assert lessons.read_kept(sample) == 0


def test_a_kept_parse_is_found_under_its_key_only(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once kept, a parse is found without its cache entry (deleted here), under the key it
    was kept under; under another key (other bytes, another tool) it is not: the cache is
    asked, and has none."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    monkeypatch.chdir(sample.parent)
    lessons.load_library(sample)
    store = cache.Store.beside(sample)
    job = lessons.LessonJob(sample / LESSON, "el", sample)
    real = job.path.resolve()
    data = job.path.read_bytes()
    key = store.key(job.path, "el", Path("lessons") / LESSON, cache.content_digest(data), real)
    kept = Kept()
    found = kept.get(store, job, key, real)
    assert found is not None
    kept.forget_unused()
    shutil.rmtree(tmp_path / "cache")
    assert kept.get(store, job, key, real) is found
    assert kept.get(store, job, b"0" * len(key), real) is None
    kept.forget_unused()
    assert list(kept.parses) == [(store.folder, real, "el", True)]
    kept.forget_unused()
    assert kept.parses == {}
