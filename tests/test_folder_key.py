"""The lessons folder's key after a build reuses the digests of files the build left alone, and
reads again every file that changed, or may have changed unseen (within the racy window)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from spies import calls

from course import outputs
from course.files import Resolver


def _folder(tmp_path: Path) -> Path:
    lessons = tmp_path / "lessons"
    (lessons / "el").mkdir(parents=True)
    for n in range(3):
        (lessons / "el" / f"{n}.md").write_text(f"lesson {n}\n")
    return lessons


def test_unchanged_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lessons = _folder(tmp_path)
    first = outputs._folder_key(lessons, ["x"])
    assert first is not None
    key, seen = first
    reads = calls(monkeypatch, Path, "read_bytes")
    since = time.time_ns() + 10 * outputs.RACY_NS  # every file's change is long before
    again = outputs._folder_key(lessons, ["x"], seen, since)
    assert again is not None
    assert again[0] == key
    assert reads == []


def test_a_file_changed_within_the_window_is_read_again(tmp_path: Path) -> None:
    """A write in the same clock tick as the first hashing leaves the stat as it was: a stale
    digest stands in for that here (same stat, other bytes recorded)."""
    lessons = _folder(tmp_path)
    since = time.time_ns()
    first = outputs._folder_key(lessons, ["x"])
    assert first is not None
    key, seen = first
    stale = {name: (stat, "0" * 64) for name, (stat, _digest) in seen.items()}
    again = outputs._folder_key(lessons, ["x"], stale, since)
    assert again is not None
    assert again[0] == key


def test_a_changed_size_is_read_again_even_outside_the_window(tmp_path: Path) -> None:
    lessons = _folder(tmp_path)
    first = outputs._folder_key(lessons, ["x"])
    assert first is not None
    key, seen = first
    (lessons / "el" / "2.md").write_text("lesson two, longer\n")
    since = time.time_ns() + 10 * outputs.RACY_NS
    again = outputs._folder_key(lessons, ["x"], seen, since)
    fresh = outputs._folder_key(lessons, ["x"])
    assert again is not None
    assert fresh is not None
    assert again[0] == fresh[0] != key


def test_each_file_is_looked_at_once_and_only_files_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One stat per entry of the folder (the walk's own entry's, which a folder test on a link
    shares: not `is_file`, then `stat` again); a folder and a link to nothing are not files,
    and are not an error."""
    lessons = _folder(tmp_path)
    (lessons / "el" / "gone.md").symlink_to(tmp_path / "nothing")
    first = outputs._folder_key(lessons, ["x"])
    assert first is not None
    assert sorted(first[1]) == [f"el/{n}.md" for n in range(3)]
    stats: list[str] = []
    real = outputs._file_stat

    def spy(entry: os.DirEntry[str]) -> os.stat_result | None:
        stats.append(entry.path)
        return real(entry)

    monkeypatch.setattr(outputs, "_file_stat", spy)
    again = outputs._folder_key(lessons, ["x"])
    assert again == first
    files = [str(p) for p in lessons.rglob("*.md")]
    assert sorted(p for p in stats if p in files) == sorted(files)


def test_real_paths_are_those_paths_resolve_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`files.Resolver` (`real` for the lessons a build parsed, checked against the folder's
    walk after it: `outputs.LastBuild`) gives `Path.resolve()` of each: relative or not, through a linked folder, a
    linked file, a file in the working directory, a folder that is gone."""
    real = tmp_path.resolve()
    (real / "lessons" / "el").mkdir(parents=True)
    (real / "elsewhere").mkdir()
    for name in ("lessons/el/a.md", "lessons/el/b.md", "elsewhere/c.md", "top.md"):
        (real / name).write_text(name, "utf-8")
    (real / "linked").symlink_to(real / "lessons")
    (real / "lessons" / "el" / "c.md").symlink_to(real / "elsewhere" / "c.md")
    monkeypatch.chdir(real)
    paths = [
        Path("lessons/el/a.md"), real / "lessons" / "el" / "b.md", Path("linked/el/a.md"),
        Path("lessons/el/c.md"), Path("top.md"), Path("gone/x.md"), Path("/top.md"),
    ]  # fmt: skip
    resolve = Resolver()
    assert [resolve.real(p) for p in paths] == [str(p.resolve()) for p in paths]
    assert [resolve(p) for p in paths] == [p.resolve() for p in paths]
