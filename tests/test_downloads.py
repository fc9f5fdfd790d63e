"""The decks and SCORM zips the site offers for download (`site.copy_downloads`): hard links to
the files the build wrote where that leaves every file as it would be with a copy; copies
otherwise. Nothing is timed."""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

import pytest
from test_pieces import edit, write_course

from course import pipeline, site
from course.cache import ENV as CACHE_ENV
from course.lessons import load_library

LANGS = ("el", "pl")

pytestmark = pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX file modes: Windows's files are never 0644, always copied",
)


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    return write_course(tmp_path)


def build(lessons: Path, out: Path) -> None:
    pipeline.build(load_library(lessons), out / "decks", out / "site", scorm_dir=out / "scorm")


def downloads(out: Path) -> list[tuple[Path, Path]]:
    """(the build's file, the site's) for each deck and zip."""
    return [
        pair
        for lang in LANGS
        for pair in (
            (out / "decks" / f"pieces-{lang}.apkg", out / "site" / "decks" / f"pieces-{lang}.apkg"),
            (
                out / "scorm" / f"pieces-{lang}-scorm12.zip",
                out / "site" / "scorm" / f"pieces-{lang}-scorm12.zip",
            ),
        )
    ]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_site_links_the_decks_and_zips_and_a_rebuild_replaces_them(
    course: Path, tmp_path: Path
) -> None:
    """The site's deck is the deck's file (one inode); a rebuild that changes the deck writes
    a new file in its place, never into the old one: a site still holding the old one (here a
    link kept aside) keeps its bytes."""
    out = tmp_path / "out"
    build(course, out)
    kept = {}
    for made, offered in downloads(out):
        assert offered.stat().st_ino == made.stat().st_ino, offered
        assert mode(offered) == site.FILE_MODE
        kept[made] = (made.read_bytes(), tmp_path / f"kept-{made.name}")
        os.link(offered, kept[made][1])
    edit(course / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1, αλλαγμένη.")
    build(course, out)
    changed = 0
    for made, offered in downloads(out):
        before, aside = kept[made]
        assert aside.read_bytes() == before, f"{made.name} was written in place"
        assert offered.read_bytes() == made.read_bytes()
        changed += made.read_bytes() != before
    assert changed == 2, "el's deck and zip are new"


def test_a_deck_not_readable_by_all_is_copied_its_mode_kept(course: Path, tmp_path: Path) -> None:
    """A deck left as it was whose mode an author changed: the site gets a copy readable by
    anyone, the deck keeps its mode (a link shares it)."""
    out = tmp_path / "out"
    build(course, out)
    deck = out / "decks" / "pieces-pl.apkg"
    deck.chmod(0o600)
    edit(course / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1, αλλαγμένη.")
    build(course, out)  # the site is new; pl's deck is left as it was
    offered = out / "site" / "decks" / "pieces-pl.apkg"
    assert mode(deck) == 0o600
    assert mode(offered) == site.FILE_MODE
    assert offered.stat().st_ino != deck.stat().st_ino
    assert offered.read_bytes() == deck.read_bytes()


def test_a_download_is_copied_where_links_fail(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another file system (EXDEV): the site gets copies, readable by anyone, whatever the
    umask would give a new file."""

    def cannot(source: object, target: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cannot)
    out = tmp_path / "out"
    umask = os.umask(0o077)
    try:
        build(course, out)
    finally:
        os.umask(umask)
    for made, offered in downloads(out):
        assert offered.read_bytes() == made.read_bytes()
        assert offered.stat().st_ino != made.stat().st_ino
        assert mode(offered) == site.FILE_MODE
