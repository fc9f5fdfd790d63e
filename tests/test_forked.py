"""A forked child takes a share of a list of calls: the results come back in order, both processes
work, and whatever stops a call in the child stops the caller, with the same error."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from course import forked, pipeline, scorm, site
from course.model import CourseError, Problem, SourceLoc

ALONE = forked.alone


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two cores, and no other thread as in the command line's process (in this one, the
    browser tests' Playwright leaves a thread that waits for its driver)."""
    monkeypatch.setattr(forked, "cores", lambda: 2)
    monkeypatch.setattr(forked, "alone", lambda: True)


def pid_and(value: int) -> tuple[int, int]:
    time.sleep(0.002)  # long enough for the child to start and take its share
    return os.getpid(), value


def pid_once_both(parent: int, marks: Path, value: int) -> tuple[int, int]:
    """`pid_and`, but each process's first call waits until the other has taken one (for up to
    30 s): on a busy machine either could take all 40 before the other starts (the parent seen
    doing so, and the child, when the parent is not scheduled after the fork)."""
    mine, other = ("parent", "child") if os.getpid() == parent else ("child", "parent")
    if (marks / mine).exists():  # not this process's first call: the other has been waited for
        return os.getpid(), value
    (marks / mine).touch()
    deadline = time.monotonic() + 30
    while not (marks / other).exists() and time.monotonic() < deadline:
        time.sleep(0.002)
    return os.getpid(), value


def test_results_come_back_in_order_from_both_processes(tmp_path: Path) -> None:
    calls = [partial(pid_once_both, os.getpid(), tmp_path, n) for n in range(40)]
    results = forked.share(calls)
    assert [value for _, value in results] == list(range(40))
    pids = {pid for pid, _ in results}
    assert os.getpid() in pids
    assert len(pids) == 2  # the child took its share


def test_one_core_or_one_call_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    assert forked.share([partial(pid_and, 1)]) == [(os.getpid(), 1)]
    monkeypatch.setattr(forked, "cores", lambda: 1)
    assert forked.share([partial(pid_and, n) for n in range(5)]) == [
        (os.getpid(), n) for n in range(5)
    ]


def test_one_call_goes_to_the_child_while_meanwhile_runs_here(tmp_path: Path) -> None:
    """With work of its own meanwhile (the command line's imports while a rebuild's one edited
    lesson is parsed), this process forks for a single call."""
    mark = tmp_path / "child"

    def call() -> int:
        mark.touch()
        return os.getpid()

    def meanwhile() -> None:  # until the child has taken the call (at most 5 s)
        deadline = time.monotonic() + 5
        while not mark.exists() and time.monotonic() < deadline:
            time.sleep(0.002)

    (pid,) = forked.share([call], meanwhile)
    assert pid != os.getpid()


def fail_in_child(parent: int, value: int) -> int:
    if os.getpid() == parent:
        time.sleep(0.01)  # the child takes some calls however busy the machine
    if os.getpid() != parent:
        raise CourseError([Problem(SourceLoc(Path("lessons/el/01.md"), 7), f"bad {value}")])
    return value


def test_a_course_error_in_the_child_keeps_its_path_and_line() -> None:
    calls = [partial(fail_in_child, os.getpid(), n) for n in range(20)]
    with pytest.raises(CourseError) as caught:
        forked.share(calls)
    (problem,) = caught.value.problems
    assert str(problem).startswith("lessons/el/01.md:7: bad ")


def fail_first(value: int) -> int:
    if value in (3, 5):
        raise ValueError(f"call {value}")
    return value


def test_the_first_failed_call_in_order_is_raised() -> None:
    """Whichever process ran them, the error of the earliest call is the one raised."""
    for _ in range(5):
        with pytest.raises(ValueError, match="call 3"):
            forked.share([partial(fail_first, n) for n in range(8)])


class Odd(Exception):
    """Its constructor takes another argument than its `args`: pickle cannot bring it back."""

    def __init__(self, code: int) -> None:
        super().__init__(f"odd {code}")


def raise_odd(parent: int) -> None:
    if os.getpid() == parent:
        time.sleep(0.01)  # the child takes some calls however busy the machine
    if os.getpid() != parent:
        raise Odd(4)


def test_an_exception_pickle_cannot_carry_comes_back_as_text() -> None:
    with pytest.raises(forked.ChildError, match="odd 4"):
        forked.share([partial(raise_odd, os.getpid()) for _ in range(20)])


def die_in_child(parent: int) -> None:
    if os.getpid() == parent:
        time.sleep(0.01)  # the child takes some calls however busy the machine
    if os.getpid() != parent:
        os._exit(3)


def test_a_child_that_dies_is_an_error_not_missing_results() -> None:
    with pytest.raises(forked.ChildError, match="without its results"):
        forked.share([partial(die_in_child, os.getpid()) for _ in range(20)])


@pytest.mark.parametrize("call", [pid_and, fail_first], ids=["done", "failed"])
def test_the_child_leaves_no_process_behind(
    forks: list[int], call: Callable[[int], object]
) -> None:
    with contextlib.suppress(ValueError):
        forked.share([partial(call, n) for n in range(10)])
    (child,) = forks
    with pytest.raises(ChildProcessError):  # reaped: no such child any more
        os.waitpid(child, os.WNOHANG)


def test_sharing_gives_the_results_before_the_child_is_waited_for(forks: list[int]) -> None:
    """`sharing` yields the results while the child may still be ending (its exit runs beside
    the block's work) and waits for it when the block ends: no process is left."""
    with forked.sharing([partial(pid_and, n) for n in range(10)]) as results:
        assert [value for _, value in results] == list(range(10))
        (child,) = forks
        os.kill(child, 0)  # not waited for yet: still a process (running or ended)
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)


def test_a_block_that_fails_still_waits_for_the_child(forks: list[int]) -> None:
    calls = [partial(pid_and, n) for n in range(10)]
    with pytest.raises(ValueError, match="the block"), forked.sharing(calls):
        raise ValueError("the block")
    (child,) = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)


# -- the build: a small course's decks and SCORM zips written by this process and a child -------

BUNDLED = Path(__file__).resolve().parent.parent / "lessons"


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def build_bundled(out: Path) -> None:
    library = pipeline.check(out / "lessons")
    pipeline.build(
        library,
        out / "decks",
        out / "site",
        pipeline.BuildOptions(draft=True),
        scorm_dir=out / "scorm",
    )


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("COURSE_CACHE_DIR", "")
    shutil.copytree(BUNDLED, tmp_path / "lessons")
    return tmp_path


def test_shared_writes_give_the_outputs_of_one_process(
    bundled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    build_bundled(bundled)
    assert len(forks) == 2  # the parse and the writes
    shared = tree(bundled)
    for name in ("decks", "scorm", "site"):
        shutil.rmtree(bundled / name)
    monkeypatch.setattr(forked, "cores", lambda: 1)
    build_bundled(bundled)
    assert len(forks) == 2
    alone = tree(bundled)
    assert len([n for n in alone if n.startswith(("decks/", "scorm/"))]) == 6
    assert len([n for n in alone if n.startswith(("site/decks/", "site/scorm/"))]) == 6
    assert shared == alone


def test_the_site_renders_while_the_child_writes_and_gets_the_written_downloads(
    bundled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's pages render in this process while the child writes decks and zips; the
    downloads it offers are copied in once written: the same bytes, readable by anyone."""
    parent = os.getpid()
    real = scorm.write_package

    def slow(*args: Any, **kwargs: Any) -> None:
        if os.getpid() != parent:
            time.sleep(0.05)  # still writing while the site's pages render
        real(*args, **kwargs)

    monkeypatch.setattr(scorm, "write_package", slow)
    umask = os.umask(0o077)  # whatever the umask, the site is for anyone to read
    try:
        build_bundled(bundled)
    finally:
        os.umask(umask)
    for folder in ("decks", "scorm"):
        made = sorted((bundled / folder).iterdir())
        assert len(made) == 3
        for path in made:
            offered = bundled / "site" / folder / path.name
            assert offered.read_bytes() == path.read_bytes()
            assert offered.stat().st_mode & 0o777 == 0o644


def test_a_site_that_fails_while_the_child_writes_leaves_nothing_written(
    bundled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site, "write_site", failing)
    with pytest.raises(OSError, match="No space left"):
        build_bundled(bundled)
    left = [p for p in bundled.rglob("*") if p.is_file() and "lessons" not in p.parts]
    assert left == []  # the decks and zips the child wrote went with the site


def test_a_write_that_fails_in_the_child_leaves_nothing_written(
    bundled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    real = scorm.write_package

    def failing(*args: Any, **kwargs: Any) -> None:
        if os.getpid() != parent:
            raise OSError(28, "No space left on device")
        time.sleep(0.05)  # the child takes a zip meanwhile
        real(*args, **kwargs)

    monkeypatch.setattr(scorm, "write_package", failing)
    with pytest.raises(OSError, match="No space left"):
        build_bundled(bundled)
    left = [p for p in bundled.rglob("*") if p.is_file() and "lessons" not in p.parts]
    assert left == []


STATE = {"set up": False}


def set_up() -> None:
    time.sleep(0.02)  # the child takes calls meanwhile
    STATE["set up"] = True


def pid_and_state(value: int) -> tuple[int, bool, int]:
    time.sleep(0.002)
    return os.getpid(), STATE["set up"], value


def test_meanwhile_runs_here_once_while_the_child_takes_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(STATE, "set up", False)
    ran: list[int] = []

    def meanwhile() -> None:
        ran.append(os.getpid())
        set_up()

    results = forked.share([partial(pid_and_state, n) for n in range(30)], meanwhile)
    assert ran == [os.getpid()]
    assert [value for *_, value in results] == list(range(30))
    here = [state for pid, state, _ in results if pid == os.getpid()]
    there = [state for pid, state, _ in results if pid != os.getpid()]
    assert there
    assert not any(there)  # the child never sees what meanwhile set up
    assert all(here)  # this process takes calls only once it is done


def test_meanwhile_runs_first_without_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STATE, "set up", False)
    monkeypatch.setattr(forked, "cores", lambda: 1)
    results = forked.share([partial(pid_and_state, n) for n in range(3)], set_up)
    assert results == [(os.getpid(), True, n) for n in range(3)]


def interrupted() -> None:
    time.sleep(0.02)  # the child takes a call meanwhile, and is interrupted too
    raise KeyboardInterrupt


def interrupted_in_child(parent: int) -> None:
    if os.getpid() != parent:
        raise KeyboardInterrupt  # Ctrl-C reaches the whole process group


def test_an_error_here_wins_over_the_childs_and_the_child_is_reaped(
    forks: list[int],
) -> None:
    """Ctrl-C (or any error) in this process while the child works: that error, not the
    child's, and no child left behind."""
    parent = os.getpid()
    with pytest.raises(KeyboardInterrupt):
        forked.share([partial(interrupted_in_child, parent) for _ in range(10)], interrupted)
    (child,) = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)


def test_problems_found_by_the_child_are_reported_as_path_and_line(
    bundled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lessons with errors, whichever process parses them: every problem as `path:line`, in
    order, and nothing written."""
    monkeypatch.chdir(bundled)
    broken = sorted((bundled / "lessons" / "el").glob("*.md"))[:1]
    broken += sorted((bundled / "lessons" / "pl").glob("*.md"))[-1:]
    for path in broken:
        text = path.read_text("utf-8")
        path.write_text(text + "\nA question with no answer::\n", "utf-8")
    with pytest.raises(CourseError) as caught:
        pipeline.check(Path("lessons"))
    places = [(str(p.loc.path), p.message) for p in caught.value.problems]
    assert [path for path, _ in places] == [str(p.relative_to(bundled)) for p in broken]
    assert all(p.loc.line > 1 for p in caught.value.problems)


# -- what the process around the child may be doing --------------------------------------------


def test_a_process_with_other_threads_runs_the_calls_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork copies one thread: a lock another thread holds stays held in the child (a hang),
    and Python 3.12 warns. A build run from a program with threads (an editor's plugin, a test
    runner) takes its calls here."""

    def no_fork() -> int:
        raise AssertionError("forked while another thread runs")

    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(forked, "alone", ALONE)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forked.available()
        results = forked.share([partial(pid_and, n) for n in range(4)])
    finally:
        stop.set()
        other.join()
    assert results == [(os.getpid(), n) for n in range(4)]


PRINTING = """
import sys, time
from functools import partial
from course import forked
forked.cores = lambda: 2
def say(n):
    time.sleep(0.01)
    print(f"call {n}")
    return n
print("before")
forked.share([partial(say, n) for n in range(8)])
print("after")
"""


def test_what_the_calls_print_is_printed_once(tmp_path: Path) -> None:
    """Standard output into a pipe (a CI log, `| tee`) is buffered: what this process printed
    before the fork is not printed again by the child, and what the child's calls print is not
    lost when it ends."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-c", PRINTING],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert sorted(lines) == sorted(["before", "after", *(f"call {n}" for n in range(8))])
    assert lines[0] == "before"
    assert lines[-1] == "after"


def slow_in_child(parent: int, late: Path, n: int) -> int:
    if os.getpid() != parent:
        (late.parent / "taken").touch()
        time.sleep(1.0)
        late.write_text(str(n))  # as a write into a temporary file the build has discarded
    return n


def test_an_interrupt_while_waiting_for_the_child_stops_and_reaps_it(
    tmp_path: Path, forks: list[int]
) -> None:
    """Ctrl-C (or a SIGINT sent to this process only) while this process waits for the child:
    the child is stopped before the build discards its temporary files, so none is written
    again after the build has ended, and no child is left behind."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    def child_busy_then_alarm() -> None:
        """Wait (however loaded the machine) until the child has taken a slow call, then set
        the interrupt for when this process waits for the child."""
        taken, deadline = tmp_path / "taken", time.monotonic() + 10
        while not taken.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        signal.setitimer(signal.ITIMER_REAL, 0.2)

    late = tmp_path / "late"
    calls = [partial(slow_in_child, os.getpid(), late, n) for n in range(2)]
    before = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            forked.share(calls, child_busy_then_alarm)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    (child,) = forks
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)
    time.sleep(1.2)
    assert not late.exists()


def interrupted_late() -> None:
    time.sleep(0.05)  # the child has taken a slow call
    raise KeyboardInterrupt


def test_an_interrupt_here_stops_the_child_instead_of_waiting_for_its_calls(
    tmp_path: Path,
) -> None:
    """Ctrl-C while this process works: the child's calls do not run on to the end (writing
    into temporary files the build discards) before the interrupt is raised."""
    late = tmp_path / "late"
    calls = [partial(slow_in_child, os.getpid(), late, n) for n in range(2)]
    with pytest.raises(KeyboardInterrupt):
        forked.share(calls, interrupted_late)
    time.sleep(1.2)
    assert not late.exists()
