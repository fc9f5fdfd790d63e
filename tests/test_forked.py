"""A forked child takes a share of a list of calls: the results come back in order, both processes
work, and whatever stops a call in the child stops the caller, with the same error."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import pytest

from course import forked
from course.model import CourseError, Problem, SourceLoc


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "cores", lambda: 2)


def pid_and(value: int) -> tuple[int, int]:
    time.sleep(0.002)  # long enough for the child to start and take its share
    return os.getpid(), value


def test_results_come_back_in_order_from_both_processes() -> None:
    calls = [partial(pid_and, n) for n in range(40)]
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


def test_the_child_leaves_no_process_behind() -> None:
    forked.share([partial(pid_and, n) for n in range(10)])
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
