"""A lesson is hashed once per build: the build's first look at the lessons folder
(outputs.LastBuild) gives each file's digest, and the loader keys a cached parse on it without
reading the file again, but only while the file's stat says it cannot have changed since."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest

from course import cache, lessons, outputs
from course.lessons import load_library

BUNDLED = Path(__file__).resolve().parent.parent / "lessons"


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled course."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    shutil.copytree(BUNDLED, tmp_path / "lessons")
    return tmp_path / "lessons"


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files changed before the first look count as settled (not racily clean) at once, not
    only two seconds later (a test cannot set a file's change time back)."""
    monkeypatch.setattr(outputs, "RACY_NS", 0)
    time.sleep(0.02)


def last_build(lessons_dir: Path) -> outputs.LastBuild:
    last = outputs.LastBuild.of(lessons_dir, ["settings"], replayable=True)
    assert last is not None
    return last


def a_lesson(course: Path) -> tuple[str, Path]:
    path = sorted((course / "el").glob("*.md"))[0]
    return str(path.relative_to(course)), path


@pytest.mark.usefixtures("settled")
def test_an_unchanged_file_is_known(course: Path) -> None:
    name, path = a_lesson(course)
    assert last_build(course).known(name, path) == cache.content_digest(path.read_bytes())


def test_a_file_changed_just_before_the_first_look_is_read_again(course: Path) -> None:
    """Racily clean: a write in the same tick as the hashing can leave the stat as it was."""
    name, path = a_lesson(course)
    assert last_build(course).known(name, path) is None  # copied just now


@pytest.mark.usefixtures("settled")
def test_a_file_changed_after_the_first_look_is_read_again(course: Path) -> None:
    """Same size, and its modification time set back: the change time still differs."""
    name, path = a_lesson(course)
    last = last_build(course)
    info = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace(b"::", b";;", 1))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert last.known(name, path) is None
    later = dataclasses.replace(last, since=time.time_ns() + 10**12)  # the change long settled
    assert later.known(name, path) is None  # the stat alone tells
    path.unlink()
    assert last.known(name, path) is None


def test_a_known_lesson_is_not_read_and_an_edited_one_is_parsed_from_its_bytes(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_library(course)
    _name, edited = a_lesson(course)
    text = edited.read_text("utf-8")
    edited.write_text(text.replace("::", ":: zmienione", 1), "utf-8")
    monkeypatch.setattr(outputs, "RACY_NS", 0)
    time.sleep(0.02)
    last = last_build(course)
    read: list[Path] = []
    original = lessons.read_bytes

    def counting(path: Path, report: lessons.Report) -> bytes | None:
        read.append(path)
        return original(path, report)

    monkeypatch.setattr(lessons, "read_bytes", counting)
    library = load_library(course, known=last.known)
    assert [p for p in read if p.suffix == ".md"] == [edited]
    lesson = next(le for le in library.course("el").lessons if le.path.name == edited.name)
    assert lesson.digest == cache.content_digest(edited.read_bytes())
    assert any("zmienione" in card.rendered.back for card in lesson.cards)


def test_a_wrong_known_digest_costs_a_read_never_a_wrong_parse(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest that is not the file's (which `known` never gives: the stat check) misses the
    cache; the file is read, and keyed and parsed from its own bytes."""
    load_library(course)
    _name, edited = a_lesson(course)
    edited.write_text(edited.read_text("utf-8").replace("::", ":: zmienione", 1), "utf-8")
    library = load_library(course, known=lambda _name, _path: "0" * 64)
    lesson = next(le for le in library.course("el").lessons if le.path.name == edited.name)
    assert any("zmienione" in card.rendered.back for card in lesson.cards)
    assert lesson.digest == cache.content_digest(edited.read_bytes())
    parsed: list[Path] = []
    monkeypatch.setattr(lessons, "load_lesson", lambda path, *a, **k: parsed.append(path))
    load_library(course)  # stored under the key of its bytes: a hit
    assert parsed == []


def remembered(course: Path) -> outputs.LastBuild:
    """A first look at the lessons folder, recorded as a build that changed nothing."""
    first = last_build(course)
    first.remember([], [(False, "built")], lambda: None)
    time.sleep(0.02)
    return first


def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the folder's walk reads and hashes."""
    found: list[str] = []
    real = outputs._file_digest

    def spy(path: Path) -> str:
        found.append(path.name)
        return real(path)

    monkeypatch.setattr(outputs, "_file_digest", spy)
    return found


@pytest.mark.usefixtures("settled")
def test_the_next_build_hashes_only_the_files_changed_since_the_last(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last build recorded each file's stat and digest: the next one reads the edited
    lesson only, and knows the others' digests all the same."""
    first = remembered(course)
    name, path = a_lesson(course)
    path.write_text(path.read_text("utf-8") + "\nOne more line.\n", "utf-8")
    time.sleep(0.02)
    read = hashed(monkeypatch)
    again = last_build(course)
    assert read == [path.name]
    assert again.key != first.key
    assert again.known(name, path) == cache.content_digest(path.read_bytes())
    other = sorted((course / "pl").glob("*.md"))[0]
    assert again.known(str(other.relative_to(course)), other) == cache.content_digest(
        other.read_bytes()
    )


@pytest.mark.usefixtures("settled")
def test_a_file_rewritten_with_its_size_and_time_kept_is_hashed_again(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its change time tells (a copy that keeps modification times, an editor that restores
    them): the new bytes are hashed, and the key is not the last build's."""
    first = remembered(course)
    _, path = a_lesson(course)
    info, data = path.stat(), path.read_bytes()
    path.write_bytes(data[:-1] + (b" " if data[-1:] != b" " else b"\n"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    time.sleep(0.02)
    read = hashed(monkeypatch)
    assert last_build(course).key != first.key
    assert read == [path.name]


def test_a_file_changed_just_before_the_last_build_looked_is_hashed_again(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Racily clean when the last build looked (copied just now): not taken from its record."""
    remembered(course)
    read = hashed(monkeypatch)
    last_build(course)
    assert len(read) == len([p for p in course.rglob("*") if p.is_file()])


def test_the_folder_walk_finds_the_files_rglob_finds_in_its_order(tmp_path: Path) -> None:
    """`_folder_key` walks with os.scandir: the files (a link to a file too, hidden ones too)
    in the order of sorted Paths (part by part: `a/b` before `a-b/c`), a link to a folder not
    followed, as `Path.rglob("*")` gives them."""
    root = tmp_path / "lessons"
    for name in ("a/b", "a-b/c", "a/.hidden", "el/01.md", "el/sub/02.md", "z", ".course.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name, "utf-8")
    (root / "linked-folder").symlink_to(root / "el", target_is_directory=True)
    (root / "linked-file").symlink_to(root / "z")
    found = outputs._folder_key(root, [])
    assert found is not None
    expected = [str(p.relative_to(root)) for p in sorted(root.rglob("*")) if p.is_file()]
    assert list(found[1]) == expected
    assert "linked-file" in expected
    assert not [name for name in expected if name.startswith("linked-folder" + os.sep)]


@pytest.mark.parametrize("other", ["el/course.yml", "el/notes/02-new.md"])
def test_the_next_build_is_replayed_only_when_the_build_changed_the_folder_alone(
    course: Path, other: str
) -> None:
    """A build that wrote its manifest records what the next build prints (`next_lines`); one
    during which another file of the lessons folder changed (written, or made: a note moved)
    records no lines: they are of the folder as the build read it."""
    manifest = course / "el" / "manifest.jsonl"
    first = last_build(course)
    manifest.write_text(manifest.read_text("utf-8") + "\n", "utf-8")  # (the build's)
    first.remember([], [(False, "built")], lambda: [(False, "next")], wrote=[manifest])
    assert last_build(course).entry.get("lines") == [[False, "next"]]
    second = last_build(course)
    path = course / other
    path.parent.mkdir(exist_ok=True)
    path.write_text((path.read_text("utf-8") if path.exists() else "") + "\n# x\n", "utf-8")
    manifest.write_text(manifest.read_text("utf-8") + "\n", "utf-8")
    second.remember([], [(False, "built")], lambda: [(False, "next")], wrote=[manifest])
    assert "lines" not in last_build(course).entry
