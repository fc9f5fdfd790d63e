"""The whole build: load and validate everything, render every output to temporary files, and only
then move them into place, so a failed build leaves the previous output as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import anki
from .files import atomic_write
from .lessons import load_library
from .model import Course, Library, Problem


@dataclass(frozen=True, slots=True)
class LanguageResult:
    lang: str
    lessons: int
    notes: int
    cards: int
    deck: Path | None


@dataclass(frozen=True, slots=True)
class BuildResult:
    languages: tuple[LanguageResult, ...]
    site: Path | None
    warnings: tuple[Problem, ...] = field(default=())


def check(lessons: Path, langs: Sequence[str] = ()) -> Library:
    """Validate only; raises CourseError with every problem found."""
    return load_library(lessons, langs)


def _swap_dir(new: Path, target: Path) -> None:
    """Replace `target` with the finished `new` folder with two renames."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build(library: Library, decks_dir: Path | None, site_dir: Path | None) -> BuildResult:
    """Build decks (into `decks_dir`) and the HTML course (into `site_dir`) from a loaded library;
    None skips an output."""
    now = anki.build_time()
    temps: list[Path] = []
    try:
        deck_files: dict[str, Path] = {}
        results: list[LanguageResult] = []
        mod_times: dict[Course, anki.ModTimes] = {}
        for course in library.courses:
            times = anki.ModTimes.read(course.root / anki.MOD_TIMES_FILE)
            mod_times[course] = times
            deck_path = None
            notes = cards = 0
            if decks_dir is not None:
                decks_dir.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=decks_dir, prefix=".", suffix=".apkg.tmp")
                os.close(fd)
                os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the deck from a web server
                temps.append(Path(tmp))
                result = anki.write_deck(course, Path(tmp), times, now)
                deck_files[course.lang] = Path(tmp)
                deck_path = decks_dir / anki.deck_file_name(course)
                notes, cards = result.notes, result.cards
            results.append(
                LanguageResult(course.lang, len(course.lessons), notes, cards, deck_path)
            )

        site_tmp = None
        if site_dir is not None:
            from .site import write_site  # the site's template engine loads only when asked for

            site_dir.parent.mkdir(parents=True, exist_ok=True)
            site_tmp = Path(tempfile.mkdtemp(dir=site_dir.parent, prefix=f".{site_dir.name}.tmp-"))
            temps.append(site_tmp)
            write_site(library, site_tmp, deck_files)

        # Everything rendered: now put it in place.
        for course in library.courses:
            if course.lang in deck_files and decks_dir is not None:
                os.replace(deck_files[course.lang], decks_dir / anki.deck_file_name(course))
        if site_tmp is not None and site_dir is not None:
            _swap_dir(site_tmp, site_dir)
        if decks_dir is not None:
            for course, times in mod_times.items():
                path = course.root / anki.MOD_TIMES_FILE
                text = times.dumps()
                if not path.exists() or path.read_text(encoding="utf-8") != text:
                    atomic_write(path, text.encode())
    finally:
        for leftover in temps:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    return BuildResult(tuple(results), site_dir, library.warnings)
