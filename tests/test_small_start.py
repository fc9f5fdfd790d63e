"""A small course's start-up: what the command line reads and loads while a forked child parses
the lessons (`pipeline.warm`), and the order in which the two processes take the lessons. Nothing
here is timed: the tests look at what is read, parsed and handed out, and when."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from course import anki, cli, forked, lessons, manifest, pipeline
from course.lessons import POOL_THRESHOLD, load_library
from course.model import Pending

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled course in a scratch folder, no cache (every manifest is parsed from text)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("COURSE_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    manifest._LAST_READ.clear()
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    return tmp_path / "lessons"


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The shown path of every manifest parsed from its text, in order."""
    seen: list[Path] = []
    real = manifest._parse_lines

    def counting(text: str, shown: Path) -> manifest.Manifest:
        seen.append(shown)
        return real(text, shown)

    monkeypatch.setattr(manifest, "_parse_lines", counting)
    return seen


def test_a_small_courses_manifests_are_parsed_while_the_lessons_are(
    course: Path, parsed: list[Path]
) -> None:
    """The command line's `meanwhile` parses each language's manifest; the build after the parse
    reads the files again and takes those parses: each manifest is parsed once."""
    cli._import_build(course)
    assert sorted(p.parent.name for p in parsed) == ["el", "lv", "pl"]
    result = CliRunner().invoke(
        cli.main, ["build", "--lessons", str(course), "--decks", "d", "--site", "s", "--no-scorm"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.parent.name for p in parsed) == ["el", "lv", "pl"]


def test_a_manifest_changed_after_it_was_read_early_is_parsed_again(
    course: Path, parsed: list[Path]
) -> None:
    pipeline.warm(course)
    path = course / "el" / manifest.MANIFEST_FILE
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    library = pipeline.check(course)
    pipeline.decide(library, 1_700_000_000, pipeline.BuildOptions(draft=True))
    assert [p.parent.name for p in parsed].count("el") == 2


def test_a_large_course_parses_no_manifest_early(course: Path, parsed: list[Path]) -> None:
    """Above POOL_THRESHOLD lessons a build may keep a language's deck plan without parsing its
    manifest (decided.py): the early read would be work the build never does."""
    lesson = next((course / "el").glob("*.md"))
    for n in range(POOL_THRESHOLD):
        shutil.copy(lesson, course / "el" / f"copy-{n}.md")
    pipeline.warm(course)
    assert parsed == []


def test_an_unreadable_manifest_is_left_to_the_build_to_report(course: Path) -> None:
    (course / "pl" / manifest.MANIFEST_FILE).write_text("{not json\n", encoding="utf-8")
    pipeline.warm(course)  # says nothing
    result = CliRunner().invoke(
        cli.main, ["build", "--lessons", str(course), "--decks", "d", "--site", "s", "--no-scorm"]
    )
    assert result.exit_code == 1
    assert f"{Path('lessons') / 'pl' / manifest.MANIFEST_FILE}:1: not a JSON line" in (
        result.output
    )


def test_the_note_types_files_are_read_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Read before the plans (`anki.preload`), a deck plan's note types read no file."""
    anki.preload()
    monkeypatch.setattr(anki, "TEMPLATES", tmp_path / "gone")  # (a file read again: not found)
    library = load_library(ROOT / "lessons", ["el"])
    models = anki.note_types(library.courses[0])
    assert anki._template("card.css") in models["qa"].css


def test_a_forked_writers_first_step_is_loaded_before_the_fork() -> None:
    forked._prctl.cache_clear()
    forked.ready()
    assert forked._prctl.cache_info().currsize == 1


def test_the_longest_lessons_are_handed_out_first_and_come_back_in_order(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever process is free last takes a short lesson (forked.share hands out the calls in
    order); each result still goes with its own file."""
    sizes: list[int] = []

    @contextlib.contextmanager
    def sharing(
        calls: Sequence[Callable[[], Any]], meanwhile: Callable[[], object]
    ) -> Iterator[list[Any]]:
        meanwhile()
        sizes.extend(len(call.args[0].data) for call in calls)  # type: ignore[attr-defined]
        yield [call() for call in calls]

    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    monkeypatch.setattr(forked, "sharing", sharing)
    files = sorted(course.glob("*/*.md"))
    assert len(files) <= POOL_THRESHOLD
    assert [f.stat().st_size for f in files] != sorted(
        (f.stat().st_size for f in files), reverse=True
    )
    jobs = [lessons.LessonJob(f, f.parent.name, course) for f in files]
    results = lessons.parse_lessons(course, jobs)
    assert sizes == sorted((f.stat().st_size for f in files), reverse=True)
    assert [r.lesson.path.name if r.lesson else None for r in results] == [f.name for f in files]
    assert [r.lesson.lang if r.lesson else None for r in results] == [f.parent.name for f in files]


def test_the_forked_parse_sends_each_lesson_as_its_cache_entry(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child sends what it stored in the cache (no second pickle of the records): a lesson
    comes as a worker's does, its cards' deck strings in place (`lessons._Fresh`: the build
    writes them all), and equal to those of a parse in this process."""
    monkeypatch.setattr(lessons, "_cores", lambda: 2)
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked, "alone", lambda: True)
    sent: list[object] = []
    sharing = forked.sharing

    @contextlib.contextmanager
    def spy(calls: Any, *args: Any) -> Iterator[Any]:
        with sharing(calls, *args) as results:
            sent.extend(results)
            yield results

    monkeypatch.setattr(forked, "sharing", spy)
    shared = load_library(course)
    assert sent
    assert all(isinstance(result, bytes) for result in sent)  # entries, not records
    cards = [card for c in shared.courses for lesson in c.lessons for card in lesson.cards]
    assert cards
    assert not any(isinstance(card.text, Pending) for card in cards)
    monkeypatch.setattr(lessons, "FORK_THRESHOLD", 10**9)  # every lesson here
    alone = load_library(course)
    assert [card.rendered for card in cards] == [
        card.rendered for c in alone.courses for lesson in c.lessons for card in lesson.cards
    ]
    assert [lesson.site_text() for c in shared.courses for lesson in c.lessons] == [
        lesson.site_text() for c in alone.courses for lesson in c.lessons
    ]
