"""A rebuild's writers on both cores: a build of any size whose process is small (a rebuild after
one edit: `pipeline.SHARE_RESIDENT`) writes its decks and SCORM zips in a forked child while this
process renders the site, the zips rendered whole first; a large process writes them alone (the
child's pages would count again against the memory target). What the child makes of a zip's
pieces comes back to the record, so the next rebuild still takes unchanged entries over. Nothing
is timed: the tests check which process writes, in which order, and that the outputs are those
of one process.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from test_pieces import edit, files, write_course

from course import forked, outputs, pipeline, scorm, site
from course import lessons as loader
from course.cache import ENV as CACHE_ENV
from course.files import named
from course.lessons import load_library


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Seven lessons, treated as a large course (above the small-course threshold), with a cache
    of this test's own and a fixed clock; forking as on a 2-core machine with no other thread."""
    monkeypatch.setattr(pipeline, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(site, "SPLIT_BYTES", 0)  # each lesson's files apart: pieces to take
    monkeypatch.setattr(loader, "FORK_THRESHOLD", 10**9)  # the parse forks no child here
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked, "alone", lambda: True)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    return write_course(tmp_path)


def build(lessons: Path, out: Path) -> pipeline.BuildResult:
    return pipeline.build(
        load_library(lessons), out / "decks", out / "site", scorm_dir=out / "scorm"
    )


def resident(monkeypatch: pytest.MonkeyPatch, size: int | None) -> None:
    monkeypatch.setattr(pipeline, "_resident", lambda: size)


@dataclass
class Shares:
    """What the build's `forked.share`s were given: each one's writes, by function name, in the
    order the processes take them; and whether one is running now."""

    writes: list[list[str]] = field(default_factory=list)
    running: bool = False


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Shares:
    """A spy on `forked.share` (which it still runs)."""
    found = Shares()
    real = forked.share

    def spy(calls: Sequence[Callable[[], object]], meanwhile: object = None) -> list[object]:
        found.writes.append([_name(call) for call in calls])
        found.running = True
        try:
            return real(calls, meanwhile)  # type: ignore[arg-type]
        finally:
            found.running = False

    monkeypatch.setattr(forked, "share", spy)
    return found


def _name(call: Callable[[], object]) -> str:
    """The writer function under a write's partials (its arguments bound around it, and the
    output it names when it fails: `files.named`)."""
    assert isinstance(call, partial)
    write: Callable[..., object] = call
    while isinstance(write, partial):
        write = write.args[1] if write.func is named else write.func
    return getattr(write, "__name__", repr(write))


def test_a_small_process_shares_the_writes_the_zips_rendered_whole_first(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared: Shares,
    forks: list[int],
) -> None:
    """A cold build's zips, every lesson rendered (`Write.whole`), start before the decks;
    after an edit, a zip takes its unchanged entries over from the last one and the edited
    language's deck, written whole, starts first. This process renders the manifests while
    the child starts on the writes (`forked.share`'s `meanwhile`), once."""
    resident(monkeypatch, pipeline.SHARE_RESIDENT)
    rendered: list[bool] = []  # whether a share was running when the manifests were rendered
    real_render = pipeline._render_manifests

    def render(*args: Any) -> Any:
        rendered.append(shared.running)
        return real_render(*args)

    monkeypatch.setattr(pipeline, "_render_manifests", render)
    out = tmp_path / "out"
    build(course, out)
    assert shared.writes == [["_write_package"] * 2 + ["_write_deck"] * 2]
    assert rendered == [True]
    edit(course / "el" / "01-lesson.md", "::Απάντηση 1.0", "::Νέα απάντηση 1.0")
    build(course, out)
    assert shared.writes[1] == ["_write_deck", "_write_package"]
    assert rendered == [True, True]
    assert len(forks) == 2


@pytest.mark.parametrize("size", [pipeline.SHARE_RESIDENT + 1, None], ids=["large", "unknown"])
def test_a_large_process_writes_alone(
    size: int | None,
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared: Shares,
    forks: list[int],
) -> None:
    """Its child would count its pages again (or its size is not known)."""
    resident(monkeypatch, size)
    build(course, tmp_path / "out")
    assert shared.writes == []
    assert forks == []


def zip_pieces(cache: Path, out: Path, kind: str = "pieces") -> dict[str, dict[str, str]]:
    """What the record (in the cache folder) keeps of each SCORM zip's pieces (or `sums`)."""
    record = json.loads((cache / outputs.RECORD_FILE).read_text())
    scorm = str((out / "scorm").resolve())
    return {k: v for k, v in record[kind].items() if k.startswith(scorm)}


def test_the_pieces_a_child_makes_are_recorded_and_taken_over(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zip of the edited language is written by the child: its pieces (by entry) come back
    to the record, as one process records them (the same pieces; their keys name the folder);
    the next edit takes the unchanged entries over from that zip; and every output is what one
    process writes, which has a thread deflate its zips' entries (`background.Aside`)."""
    runs: dict[str, tuple[dict[str, dict[str, str]], dict[str, bytes]]] = {}
    sums: dict[str, list[list[tuple[str, str]]]] = {}  # each zip's entries' checksums, written
    taken: list[str] = []
    aside: dict[str, set[bool]] = {}  # by mode: whether each zip's entries were deflated aside
    real_take, real_write = scorm.EarlierZip.take, scorm.write_package

    def take(self: scorm.EarlierZip, names: Sequence[str]) -> bool:
        done = real_take(self, names)
        if done:
            taken.extend(names)
        return done

    def write(*args: Any, **kwargs: Any) -> None:
        aside.setdefault(mode, set()).add(kwargs["aside"])
        real_write(*args, **kwargs)

    monkeypatch.setattr(scorm.EarlierZip, "take", take)
    monkeypatch.setattr(scorm, "write_package", write)
    for mode, size in (("shared", 1), ("alone", None)):
        resident(monkeypatch, size)
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / mode / "cache"))
        lessons = tmp_path / mode / "lessons"
        shutil.copytree(course, lessons)
        out = tmp_path / mode / "out"
        build(lessons, out)
        edit(lessons / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
        build(lessons, out)
        pieces = zip_pieces(tmp_path / mode / "cache", out)
        runs[mode] = (pieces, files(out))
        recorded = zip_pieces(tmp_path / mode / "cache", out, "sums")
        sums[mode] = [sorted(recorded[target].items()) for target in sorted(recorded)]
    shared_pieces, shared_files = runs["shared"]
    alone_pieces, alone_files = runs["alone"]
    assert aside == {"shared": {False}, "alone": {forked.cores() >= 2}}
    assert shared_files == alone_files
    assert len(sums["shared"]) == 2
    assert sums["shared"] == sums["alone"]
    assert len(shared_pieces) == 2
    assert all(shared_pieces.values())
    assert [sorted(p) for p in shared_pieces.values()] == [sorted(p) for p in alone_pieces.values()]
    # The next edit, written by the child again, copies the unchanged lessons' entries: in the
    # child, so the spy cannot see them; written here, the same record gives the same copies.
    taken.clear()
    lessons = tmp_path / "shared" / "lessons"
    edit(lessons / "el" / "04-lesson.md", "Απάντηση 4.0.", "Απάντηση 4.0 (γ).")
    resident(monkeypatch, None)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "shared" / "cache"))
    build(lessons, tmp_path / "shared" / "out")
    assert any("lesson-1" in name for name in taken)
    assert not any("lesson-4" in name for name in taken)


@pytest.fixture
def zip_threads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Each deck zip written (`anki._write_zip`): its file's name and whether it was written in
    another thread than the build's."""
    import threading

    from course import anki

    found: list[tuple[str, bool]] = []
    real = anki._write_zip

    def spy(out: Path, *args: object) -> None:
        found.append((out.name, threading.current_thread() is not threading.main_thread()))
        real(out, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(anki, "_write_zip", spy)
    return found


def test_a_large_process_deflates_its_decks_in_a_thread_meanwhile(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zip_threads: list[tuple[str, bool]],
) -> None:
    """Written alone, each deck's zip step (zlib lets other threads run) is in another thread
    while the build goes on to the SCORM zips and the site; the outputs are those of a build
    that zips in its own thread (one core), byte for byte, cold and after an edit."""
    runs: dict[int, dict[str, bytes]] = {}
    for cores in (2, 1):
        monkeypatch.setattr(forked, "cores", lambda cores=cores: cores)
        resident(monkeypatch, None)
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / f"cores{cores}" / "cache"))
        lessons = tmp_path / f"cores{cores}" / "lessons"
        shutil.copytree(course, lessons)
        out = tmp_path / f"cores{cores}" / "out"
        build(lessons, out)
        edit(lessons / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
        build(lessons, out)
        runs[cores] = files(out)
        assert len(zip_threads) == 3  # both decks, then the edited one's
        assert all(threaded == (cores == 2) for _, threaded in zip_threads), zip_threads
        zip_threads.clear()
    assert runs[2] == runs[1]
    assert not [
        p for p in (tmp_path / "cores2" / "out" / "decks").iterdir() if p.name.startswith(".")
    ]


def test_a_shared_build_zips_its_decks_where_it_writes_them(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zip_threads: list[tuple[str, bool]],
) -> None:
    """A process that shares its writers with a forked child starts no thread (a fork copies
    only the forking one): here the child cannot fork, so this process writes them all."""
    resident(monkeypatch, 1)
    monkeypatch.setattr(forked, "alone", lambda: False)
    build(course, tmp_path / "out")
    assert len(zip_threads) == 2
    assert not any(threaded for _, threaded in zip_threads)


def test_a_deck_zip_failing_in_its_thread_fails_the_build_and_leaves_no_file(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread's error is the build's: nothing is committed, the last outputs stay as they
    were and neither the deck's temporary file nor its scratch collection is left behind, nor
    the manifest's (rendered while the zip deflates)."""
    from course import anki

    resident(monkeypatch, None)
    out = tmp_path / "out"
    build(course, out)
    before = files(out)
    manifests = {p: p.read_bytes() for p in sorted((course / "el").iterdir()) if p.is_file()}
    real = anki._write_zip

    def failing(target: Path, *args: object) -> None:
        real(target, *args)  # type: ignore[arg-type]
        if "-el" in target.name:
            raise OSError("disk full")

    monkeypatch.setattr(anki, "_write_zip", failing)
    edit(course / "el" / "03-lesson.md", "Απάντηση 3.1.", "Απάντηση 3.1, αλλαγμένη.")
    with pytest.raises(OSError, match="disk full"):
        build(course, out)
    assert files(out) == before
    assert not [p.name for p in (out / "decks").iterdir() if p.name.startswith(".")]
    left = {p: p.read_bytes() for p in sorted((course / "el").iterdir()) if p.is_file()}
    edited = course / "el" / "03-lesson.md"
    assert left.keys() == manifests.keys()
    assert {p: d for p, d in left.items() if p != edited} == {
        p: d for p, d in manifests.items() if p != edited
    }


def test_a_large_process_copies_its_decks_into_the_site_once_they_are_zipped(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's copy of each deck is the deck: its zip step, in a thread, may end after the
    site's pages are written (here it waits for them, and a while), and the site takes it once
    it ended, not a file half written (the zips and the decks left as they were are copied
    meanwhile)."""
    import threading
    import time

    from course import anki

    resident(monkeypatch, None)
    pages = threading.Event()
    real_zip, real_site = anki._write_zip, site.write_site

    def late(out: Path, *args: object) -> None:
        pages.wait(10)
        time.sleep(0.2)
        real_zip(out, *args)  # type: ignore[arg-type]

    def write_site(*args: object, **kwargs: object) -> None:
        real_site(*args, **kwargs)  # type: ignore[arg-type]
        pages.set()

    monkeypatch.setattr(anki, "_write_zip", late)
    monkeypatch.setattr(site, "write_site", write_site)
    out = tmp_path / "out"
    result = build(course, out)
    assert [p.course.lang for p in result.plans] == ["el", "pl"]  # each manifest rendered once
    assert [u.lang for u in result.updates] == ["el", "pl"]
    for lang in ("el", "pl"):
        deck = (out / "decks").glob(f"*-{lang}.apkg")
        made = next(deck).read_bytes()
        assert (out / "site" / "decks" / f"pieces-{lang}.apkg").read_bytes() == made


def test_a_call_in_a_thread_runs_at_a_short_switch_interval_until_joined() -> None:
    """While the zip step runs in its thread, the build's thread gives the GIL back soon after
    it is asked for (`background.SWITCH_INTERVAL`); joined, even with its error, the interval
    is the one before."""
    import sys
    import threading

    from course import background

    before = sys.getswitchinterval()
    assert before > background.SWITCH_INTERVAL
    seen: list[float] = []
    go = threading.Event()
    calls = background.Background()
    calls.enabled = True

    def call() -> None:
        go.wait(5)
        seen.append(sys.getswitchinterval())
        raise OSError("disk full")

    calls.run(call)
    calls.run(lambda: seen.append(sys.getswitchinterval()))
    go.set()
    with pytest.raises(OSError, match="disk full"):
        calls.join()
    assert sorted(seen) == [background.SWITCH_INTERVAL] * 2
    assert sys.getswitchinterval() == before
