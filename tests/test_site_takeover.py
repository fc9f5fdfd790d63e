"""A rebuild takes the site's unchanged languages over whole: each such folder is moved into the
new site when it is committed (one rename), not linked file by file into it (and its old files
unlinked with the old site). Where a folder cannot be moved, its files are linked; where that
fails too, the folders already moved go back and the current site is left as it was. The outputs
are those of a cold build either way. Nothing is timed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_pieces import build, cold, edit, files, write_course

from course import outputs, pipeline


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return write_course(tmp_path)


def inode(path: Path) -> int:
    return path.stat().st_ino


def test_an_unchanged_language_folder_is_moved_into_the_new_site(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(course, out)
    folders = {lang: inode(out / "site" / lang) for lang in ("el", "pl")}
    page = inode(out / "site" / "pl" / "index.html")
    edit(course / "el" / "02-lesson.md", "Απάντηση 2.0.", "Απάντηση 2.0 (α).")
    build(course, out)
    assert inode(out / "site" / "pl") == folders["pl"]  # the same folder, moved
    assert inode(out / "site" / "el") != folders["el"]  # rendered again
    assert inode(out / "site" / "pl" / "index.html") == page
    assert files(out) == cold(course, tmp_path, monkeypatch)
    assert {p.name for p in out.iterdir()} == {"decks", "site", "scorm"}  # nothing left beside


def test_a_folder_that_cannot_be_moved_is_linked_instead(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(course, out)
    folder = inode(out / "site" / "pl")
    page = inode(out / "site" / "pl" / "index.html")

    def refuse(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        raise PermissionError(13, "refused", str(source))

    monkeypatch.setattr(pipeline, "_rename", refuse)
    edit(course / "el" / "02-lesson.md", "Απάντηση 2.0.", "Απάντηση 2.0 (α).")
    build(course, out)
    assert inode(out / "site" / "pl") != folder  # a new folder, its files linked
    assert inode(out / "site" / "pl" / "index.html") == page
    assert files(out) == cold(course, tmp_path, monkeypatch)


def test_a_failed_take_over_puts_back_what_it_moved(tmp_path: Path) -> None:
    """The second folder can be neither moved nor linked (it is gone): the first goes back, and
    the commit fails with the current site whole."""
    site, new = tmp_path / "site", tmp_path / "new"
    for lang in ("el", "pl"):
        (site / lang).mkdir(parents=True)
        (site / lang / "index.html").write_text(lang, "utf-8")
        (new / lang).mkdir(parents=True)
    (new / "lv").mkdir()
    with pytest.raises(OSError, match="cannot take its files over"):
        pipeline._move_folders(site, new, ["el", "lv"])
    assert (site / "el" / "index.html").read_text("utf-8") == "el"
    assert (site / "pl" / "index.html").read_text("utf-8") == "pl"
    assert not (new / "el" / "index.html").exists()


def test_files_taken_over_are_linked_all_or_none(tmp_path: Path) -> None:
    """A lesson's files taken over from the current site (`EarlierFolder.take`) are linked into
    the new folder, each subfolder made once; when one cannot be, none of them stays."""
    source, folder = tmp_path / "old", tmp_path / "new"
    (source / "lessons").mkdir(parents=True)
    for name in ("lessons/a.js", "a.html", "b.html"):
        (source / name).write_text(name, "utf-8")
    folder.mkdir()
    earlier = pipeline.EarlierFolder(outputs.Pieces({}), source, folder)
    assert earlier.take(["lessons/a.js", "a.html"])
    assert inode(folder / "lessons" / "a.js") == inode(source / "lessons" / "a.js")
    assert inode(folder / "a.html") == inode(source / "a.html")
    assert earlier.made == {"lessons"}
    assert not earlier.take(["b.html", "lessons/gone.js"])
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "a.html",
        "lessons",
        "lessons/a.js",
    ]
    (folder / "lessons" / "a.js").unlink()
    (folder / "lessons").rmdir()
    earlier.made.clear()
    assert earlier.take(["lessons/a.js"])  # made again when not known made
