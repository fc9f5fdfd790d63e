"""Watch mode (`build.py watch`): the real command in a process of its own, files edited under
it. Each rebuild is byte for byte a cold build of the same lessons; a bad lesson prints
`path:line: message` and keeps the last good outputs; the build's own writes start no build;
the lock is held only while building; Ctrl-C ends it with status 0 and no traceback.

Nothing here is timed: waits are only upper bounds for what the watch prints."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import click
import pytest

from course.cache import ENV as CACHE_ENV
from course.cache import content_digest
from course.watch import Folder, Session, Used, settle

BUILD_PY = Path(__file__).resolve().parent.parent / "build.py"
OUTPUTS = ["--decks", "decks", "--site", "site", "--scorm", "scorm"]
LESSON = Path("el/01-basics.md")
WAIT = 60.0
"""Seconds a line may take to come (a loaded machine); a passing test waits far less."""
QUIET = 1.5
"""Seconds without a line that show a watch is idle (it builds within QUIET_MS of a change)."""


def _env(cache: Path) -> dict[str, str]:
    return dict(os.environ, SOURCE_DATE_EPOCH="1700000000", **{CACHE_ENV: str(cache)})


def _sigint_default() -> None:  # (a shell may start the tests with Ctrl-C ignored)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watching:
    """`build.py watch` running in `work` (lessons, decks, site, scorm), its output read as it
    comes (stdout and stderr as one stream, in the order it wrote them: the watch's own lines
    and the problems go to stderr, the reports to stdout, each line flushed)."""

    def __init__(self, work: Path, *extra: str) -> None:
        args = [sys.executable, str(BUILD_PY), "watch", "--lessons", "lessons", *OUTPUTS, *extra]
        # A session of its own: Ctrl-C at a terminal reaches its whole group (`interrupt`).
        self.process = subprocess.Popen(
            args, cwd=work, env=_env(work / "cache"), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, preexec_fn=_sigint_default,
            start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        """Each line as it comes; None once the output ended (the process did)."""
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,))
        self.reader.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        with stream:
            for line in stream:
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def end(self) -> None:
        """Kill it if it still runs; its output read to the end."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.reader.join()

    def until(self, pattern: str) -> list[str]:
        """The lines up to the first one matching `pattern` (searched), that one included."""
        got: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=WAIT)
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line matching {pattern!r} after {got}")
            got.append(line)
            self.seen.append(line)
            if re.search(pattern, line):
                return got

    def quiet(self) -> list[str]:
        """The lines that come before the watch has been silent for QUIET seconds."""
        got: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=QUIET)
            except queue.Empty:
                line = None
            if line is None:
                self.seen.extend(got)
                return got
            got.append(line)

    def idle(self) -> None:
        """It prints nothing for QUIET seconds, and runs still."""
        assert self.quiet() == []
        assert self.process.poll() is None

    def stop(self) -> tuple[int, list[str]]:
        """Ctrl-C; the exit status and the lines printed since the last read."""
        self.interrupt()
        code = self.process.wait(timeout=WAIT)
        return code, self.quiet()

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: to the watch and any process it started."""
        os.killpg(self.process.pid, signal.SIGINT)


@pytest.fixture
def work(sample: Path) -> Path:
    return sample.parent


@pytest.fixture
def watching(work: Path) -> Iterator[Watching]:
    """A watch that records releases (`--release`), as `build` does: its builds are `build`'s."""
    watch = Watching(work, "--release")
    watch.until(r"^watch: watching lessons for changes")
    yield watch
    watch.end()


def tree(folder: Path) -> dict[str, str]:
    """Each file's digest, by path relative to `folder` (caches left out)."""
    return {
        str(p.relative_to(folder)): content_digest(p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "cache" not in p.parts
    }


def outputs(work: Path) -> dict[str, str]:
    return {name: d for name, d in tree(work).items() if name.split("/")[0] != "lessons"}


def cold_build(work: Path, *extra: str) -> None:
    """`build` in a process of its own, with a cache of its own (empty)."""
    args = [sys.executable, str(BUILD_PY), "build", "--lessons", "lessons", *OUTPUTS, *extra]
    subprocess.run(args, cwd=work, env=_env(work / "cache"), check=True, capture_output=True)


def edit(lessons: Path, old: str, new: str) -> None:
    path = lessons / LESSON
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_rebuild_is_a_cold_build_of_the_same_lessons(
    watching: Watching, work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The watch's first build, then an edit rebuilt: its report says what learners get, and
    its outputs (and the lessons folder it wrote) are byte for byte a cold build's of the same
    lessons, built in a folder of its own by `build`."""
    twin = tmp_path_factory.mktemp("twin")
    shutil.copytree(work / "lessons", twin / "lessons")  # as the first build left them
    for lessons in (work / "lessons", twin / "lessons"):
        edit(lessons, "Η *καλή* επικοινωνία.", "Η *καλή* και ευγενική επικοινωνία.")
    got = watching.until(r"^watch: built in \d+\.\d\d s$")
    assert f"watch: changed: {LESSON}" in got
    assert "el: release 2: 1 card changed" in got
    assert any(line.startswith("el: 1 lesson") for line in got)
    cold_build(twin)
    assert tree(work / "lessons") == tree(twin / "lessons")
    mine, theirs = outputs(work), outputs(twin)
    assert mine == theirs
    assert any(name.endswith(".apkg") for name in mine)
    code, _ = watching.stop()
    assert code == 0


def test_a_watch_records_no_release_unless_asked(
    work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """By default each build is a draft: a card added while editing is reported, given its ID
    and built, but the manifest records no release (a card removed again never retires); the
    outputs are `build --draft`'s of the same lessons, beside the release's, which stay as
    they were (test_drafts.py)."""
    cold_build(work)  # release 1, recorded
    released = outputs(work)
    watch = Watching(work)
    try:
        watch.until(r"^watch: watching lessons for changes")
        manifests = {k: v for k, v in tree(work / "lessons").items() if "manifest" in k}
        with (work / "lessons" / LESSON).open("a", encoding="utf-8") as file:
            file.write("\nΠοια λέξη λείπει;::Η ευγένεια.\n")
        got = watch.until(r"^watch: built in")
    finally:
        watch.end()
    assert "el: draft (not recorded) of release 2: 1 card added" in got
    assert {k: v for k, v in tree(work / "lessons").items() if "manifest" in k} == manifests
    twin = tmp_path_factory.mktemp("twin")
    shutil.copytree(work / "lessons", twin / "lessons")  # (the new card's ID as the watch gave it)
    cold_build(twin, "--draft")
    drafts = outputs(twin)
    assert drafts
    assert all(name.split("/")[0].endswith("-draft") for name in drafts)
    assert outputs(work) == {**released, **drafts}


def test_ctrl_c_ends_the_watch_with_status_0(watching: Watching) -> None:
    code, lines = watching.stop()
    assert code == 0
    assert lines == ["watch: stopped"]


def test_ctrl_c_during_a_build(bundled: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Ctrl-C while a build runs (the bundled course, every language rebuilt for a new course
    title): status 0, no traceback, and the next `build` gives a cold build's bytes."""
    work = bundled.parent
    watch = Watching(work)
    try:
        watch.until(r"^watch: watching lessons for changes")
        twin = tmp_path_factory.mktemp("twin")
        shutil.copytree(bundled, twin / "lessons")
        for lessons in (bundled, twin / "lessons"):
            course = lessons / "course.yml"
            text = course.read_text(encoding="utf-8")
            course.write_text(re.sub(r"(?m)^title: .*$", "title: Renamed", text), "utf-8")
        watch.until(r"^watch: changed: course\.yml$")
        watch.interrupt()
        assert watch.process.wait(timeout=WAIT) == 0
        lines = watch.quiet()
    finally:
        watch.end()
    assert lines[-1:] == ["watch: stopped"], lines
    assert not any("built in" in line or "Traceback" in line for line in lines), lines
    cold_build(work)
    cold_build(twin)
    assert outputs(work) == outputs(twin)
    assert tree(bundled) == tree(twin / "lessons")


def test_a_missing_lessons_folder_is_an_error(tmp_path: Path) -> None:
    """As `build` says it, status 1: there is nothing to watch."""
    args = [sys.executable, str(BUILD_PY), "watch", "--lessons", "missing", *OUTPUTS]
    done = subprocess.run(
        args, cwd=tmp_path, env=_env(tmp_path / "cache"), capture_output=True, text=True,
        timeout=WAIT,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "missing: lessons folder not found", done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_lesson_keeps_the_last_good_outputs(watching: Watching, work: Path) -> None:
    """A card without an answer: `path:line: message`, nothing written, the watch goes on;
    fixed, the next change is built."""
    before = outputs(work)
    edit(work / "lessons", "Η *καλή* επικοινωνία.", "")
    got = watching.until(r"^watch: build failed")
    problems = [line for line in got if re.match(rf"^lessons/{LESSON}:\d+: ", line)]
    assert problems, got
    assert "1 error; nothing was written." in got
    assert outputs(work) == before
    assert watching.process.poll() is None
    edit(work / "lessons", "::", "::Η *καλή* επικοινωνία.")
    got = watching.until(r"^watch: built in")
    assert not any("nothing was written" in line for line in got)
    assert outputs(work) == before  # the lesson is back as the first build read it


def test_outputs_inside_the_lessons_folder_start_no_build(work: Path) -> None:
    """Decks and SCORM zips written into the lessons folder (`--decks lessons/decks`): the
    watch ignores them (a draft's: `lessons/decks-draft`), so its own outputs never start the
    next build."""
    watch = Watching(work, "--decks", "lessons/decks", "--scorm", "lessons/scorm")
    try:
        watch.until(r"^watch: watching lessons for changes")
        assert list((work / "lessons" / "decks-draft").glob("*-draft.apkg"))
        watch.idle()
        edit(work / "lessons", "Η *καλή* επικοινωνία.", "Η *καλή* και ευγενική επικοινωνία.")
        watch.until(r"^watch: built in")
        watch.idle()
    finally:
        watch.end()


def test_the_builds_own_writes_start_no_build(watching: Watching, work: Path) -> None:
    """A card without an ID: the build writes its ID into the lesson and a new release into the
    manifest; neither starts another build."""
    lesson = work / "lessons" / LESSON
    with lesson.open("a", encoding="utf-8") as file:
        file.write("\nΠοια λέξη λείπει;::Η ευγένεια.\n")
    got = watching.until(r"^watch: built in")
    assert "el: release 2: 1 card added" in got
    assert re.search(r"Η ευγένεια\. <!-- id: [0-9a-z]+ -->", lesson.read_text(encoding="utf-8"))
    watching.idle()
    code, lines = watching.stop()
    assert (code, lines) == (0, ["watch: stopped"])


def test_any_file_the_build_reads_starts_a_build(watching: Watching, work: Path) -> None:
    """course.yml is not a lesson; a new lesson file; an editor's hidden swap file is
    neither."""
    (work / "lessons" / "el" / ".01-basics.md.swp").write_bytes(b"\0swap")
    watching.idle()
    course = work / "lessons" / "course.yml"
    course.write_text(course.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    got = watching.until(r"^watch: built in")
    assert "watch: changed: course.yml" in got
    new = work / "lessons" / "pl" / "02-new.md"
    shutil.copy(work / "lessons" / "pl" / "01-traits.md", new)
    got = watching.until(r"^watch: (built|build failed)")
    assert "watch: changed: pl/02-new.md" in got


def test_a_markdown_file_no_build_reads_is_named_when_it_comes_and_changes(
    watching: Watching, work: Path
) -> None:
    """A note saved in a language folder's subfolder starts a build, which names it (the
    author sees why it is not in the course); so does each save of it; once it is moved into
    its language folder, the next build builds it and names nothing."""
    note = work / "lessons" / "pl" / "notes" / "02-new.md"
    note.parent.mkdir()
    watching.until(r"^watch: built in")  # (a new folder is a change too)
    watching.idle()
    lesson = "---\nid: new\ntitle: Nowa\nlang: pl\norder: 2\n---\n\n## S\n\nP::O <!-- id: n1 -->\n"
    note.write_text(lesson, encoding="utf-8")
    warned = "lessons/pl/notes/02-new.md: not built: lessons are read from lessons/pl/ itself"
    got = watching.until(r"^watch: (built|build failed)")
    assert any(re.match(r"watch: changed: .*pl/notes/02-new\.md", line) for line in got), got
    assert any(line.startswith(warned) for line in got), got
    note.write_text(note.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    got = watching.until(r"^watch: (built|build failed)")
    assert any(line.startswith(warned) for line in got), got
    note.rename(work / "lessons" / "pl" / "02-new.md")
    got = watching.until(r"^watch: (built|build failed)")
    assert any(line.startswith("pl: release 2: 1 card added") for line in got), got
    assert not any("not built" in line for line in got), got


def test_the_lock_is_held_only_while_building(watching: Watching, work: Path) -> None:
    """Between builds, `build --no-wait` of the same lessons (other outputs) does not find
    the watch's lock."""
    args = [sys.executable, str(BUILD_PY), "build", "--lessons", "lessons", "--no-wait"]
    args += ["--decks", "d2", "--site", "s2", "--scorm", "z2"]
    done = subprocess.run(args, cwd=work, env=_env(work / "cache"), capture_output=True)
    assert done.returncode == 0, done.stderr


def test_used_tells_a_change_from_what_the_build_used(tmp_path: Path) -> None:
    """A lesson rewritten with the bytes the build parsed is unchanged (its IDs written by the
    build); any other file is changed when its stat is; a file made and removed between two
    looks is no change."""
    (tmp_path / "el").mkdir()
    lesson, course = tmp_path / "el" / "a.md", tmp_path / "course.yml"
    lesson.write_text("one", encoding="utf-8")
    course.write_text("id: x", encoding="utf-8")
    folder = Folder.of(tmp_path, [tmp_path / "decks"])
    used = Used(dict(folder.stats()))
    used.marks[lesson] = content_digest(b"one")
    lesson.write_text("one", encoding="utf-8")
    temporary = tmp_path / "el" / "b.md"
    assert used.changed([lesson, temporary]) == []
    lesson.write_text("two", encoding="utf-8")
    course.write_text("id: y", encoding="utf-8")
    temporary.write_text("", encoding="utf-8")
    assert used.changed([course, lesson, temporary]) == [course, lesson, temporary]
    lesson.unlink()
    assert used.changed([lesson]) == [lesson]
    assert not folder.wanted(tmp_path / "decks" / "x.apkg")
    assert not folder.wanted(tmp_path / "el" / ".a.md.swp")
    assert folder.wanted(lesson)


def test_rebuilds_after_an_undone_edit_and_a_changed_image_are_cold_builds(
    watching: Watching, work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The watch keeps its lessons' parses and notes in memory between builds
    (`lessons.Kept`, `decided.keep_notes`): after an edit, the edit undone and an image's new
    bytes (the lesson's unchanged), each rebuild is byte for byte what a cold build (no cache)
    of a twin that went through the same builds writes."""
    twin = tmp_path_factory.mktemp("twin")
    shutil.copytree(work / "lessons", twin / "lessons")  # as the first build left them
    image = Path("el/img/dot.png")
    steps: list[Callable[[Path], object]] = [
        lambda lessons: edit(lessons, "Η *καλή* επικοινωνία.", "Η *καλή* και ευγενική."),
        lambda lessons: edit(lessons, "Η *καλή* και ευγενική.", "Η *καλή* επικοινωνία."),
        lambda lessons: (lessons / image).write_bytes((lessons / image).read_bytes() + b"new"),
    ]
    for step in steps:
        for lessons in (work / "lessons", twin / "lessons"):
            step(lessons)
        watching.until(r"^watch: built in \d+\.\d\d s$")
        shutil.rmtree(twin / "cache", ignore_errors=True)
        cold_build(twin)
        assert tree(work / "lessons") == tree(twin / "lessons")
        assert outputs(work) == outputs(twin)


def test_a_build_is_said_done_once_its_outputs_are_committed(tmp_path: Path) -> None:
    """`built in` comes when the build says its outputs are committed and its report printed,
    before its work for the next build (`cli._remember`), once; a build that does not say so
    (a replay) is done when it returns."""
    said: list[str] = []
    session = Session(lambda done: None, Folder.of(tmp_path, []), said.append)

    def build(done: Callable[[], object]) -> None:
        said.append("committed")
        done()
        said.append("remembered")
        done()  # (once)

    session.build = build
    assert session.run()
    assert [line.split(" in ")[0] for line in said] == ["committed", "built", "remembered"]
    said.clear()
    session.build = lambda done: None
    assert session.run()
    assert [line.split(" in ")[0] for line in said] == ["built"]


def test_the_build_command_says_it_is_done_before_remembering(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build`'s `reported` runs after the report is printed, before `_remember`."""
    from course import cli

    monkeypatch.chdir(work)
    monkeypatch.setenv(CACHE_ENV, str(work / "cache"))
    order: list[str] = []
    real = cli._remember

    def remember(*args: Any) -> None:
        order.append("remember")
        real(*args)

    monkeypatch.setattr(cli, "_remember", remember)
    monkeypatch.setattr(cli, "_report", lambda *args: order.append("report"))
    with click.Context(cli.main) as ctx:
        options = dict(lessons=Path("lessons"), decks_dir=Path("decks"), site_dir=Path("site"))
        ctx.invoke(cli.build_command, **options, reported=lambda: order.append("reported"))
    # (`_remember` reports again: what the next build prints, not printed)
    assert order[:3] == ["report", "reported", "remember"]


def test_a_build_waits_until_the_changed_files_are_still(tmp_path: Path) -> None:
    """`settle` returns once the changed files and their folders have not changed for the
    quiet window (by their change times): a file written again meanwhile (an editor's save
    still going on) is waited for again; a file removed is waited for by its folder's change;
    a file that keeps changing, at most the longest wait."""
    lesson = tmp_path / "a.md"
    lesson.write_text("half", encoding="utf-8")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds / 2 if len(waits) == 1 else seconds)
        if len(waits) == 1:  # (halfway through the wait)
            lesson.write_text("half and the rest", encoding="utf-8")

    settle([lesson], quiet_ms=30, sleep=sleep)
    assert len(waits) >= 2
    assert time.time_ns() - lesson.stat().st_ctime_ns >= 30_000_000
    waits.clear()
    settle([lesson], quiet_ms=30, sleep=sleep)
    assert waits == []  # still for 30 ms already
    lesson.unlink()
    settle([lesson], quiet_ms=30, sleep=sleep)
    assert waits
    assert time.time_ns() - tmp_path.stat().st_ctime_ns >= 30_000_000
    lesson.write_text("", encoding="utf-8")
    writes: list[float] = []

    def keeps_writing(seconds: float) -> None:
        writes.append(seconds)
        assert len(writes) < 10_000, "never gave up"
        lesson.write_text(str(seconds), encoding="utf-8")
        time.sleep(0.001)

    start = time.perf_counter()
    settle([lesson], quiet_ms=30, most_ms=120, sleep=keeps_writing)
    assert time.perf_counter() - start >= 0.12  # (then it gave up)


def test_a_change_is_built_once_its_files_are_still(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build after a change starts once the changed files are still (`settle`)."""
    from course import watch

    lesson = tmp_path / "a.md"
    order: list[str] = []
    monkeypatch.setattr(watch, "settle", lambda paths: order.append(f"settled {paths}"))
    session = Session(lambda done: order.append("built"), Folder.of(tmp_path, []), order.append)
    lesson.write_text("new", encoding="utf-8")
    assert session.changes([lesson])
    assert order[0] == f"settled {[lesson]}"
    assert "built" in order[1:]
