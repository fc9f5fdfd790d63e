"""The second core for a small build: a forked child takes a share of a list of calls.

A process pool (lessons.py, above `lessons.POOL_THRESHOLD` lessons) costs more to start than a
small course's whole parse; `os.fork` costs about a millisecond: the child has every module and
every loaded lesson already. The child and this process take the calls one at a time from a pipe
of tokens (whoever is free takes the next), so the shares even out whatever each call costs.
The child sends back its calls' results pickled, or the exception that stopped it; nothing else
of the child survives it. Without `os.fork` or a second core, the calls run here, in order.

The child never outlives this process: on Linux the system kills it when this process ends
(`PR_SET_PDEATHSIG`), however it ends (SIGKILL included); elsewhere it stops before its next call
once its parent is gone (`orphaned`), and `files.atomic_write` renames nothing into place in an
orphaned child. What it was writing stays in temporary files, which the next build sweeps
(sweep.py).
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

MAX_CALLS = 255
"""Calls one `share` hands out (a token is one byte)."""


_parent: int | None = None
"""In a forked child: its parent's process id (None in the process that forks)."""


class ChildError(RuntimeError):
    """The child ended without its results, or its exception could not be sent back."""


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available() -> bool:
    """Whether `share` forks: `os.fork` exists, there is a second core and no other thread (a
    fork copies only this one: a lock another thread holds would stay held in the child)."""
    return hasattr(os, "fork") and cores() >= 2 and alone()


def alone() -> bool:
    """No other thread runs in this process (one a library started counts: Playwright's)."""
    return threading.active_count() == 1


def share(
    calls: Sequence[Callable[[], T]], meanwhile: Callable[[], object] | None = None
) -> list[T]:
    """Every call's result, in order: run by this process and a forked child (see the module's
    docstring), or here alone when forking cannot pay. An exception raised by a call is raised
    here once both are done (the first in the order of the calls). `meanwhile` runs here first,
    while the child takes calls (whatever it sets up stays in this process only): with it, one
    call is worth a child too."""
    with sharing(calls, meanwhile) as results:
        return results


@contextlib.contextmanager
def sharing(
    calls: Sequence[Callable[[], T]], meanwhile: Callable[[], object] | None = None
) -> Iterator[list[T]]:
    """`share`, its results given as soon as the child has sent them: the child is waited for
    when the block ends, so its exit (a few milliseconds for the system to free what it
    touched: 2 ms after a small course's parse) runs on the other core while the block works
    on the results (the parse's are unpickled). No child is left once the block ends, however
    it ends."""
    fewest = 1 if meanwhile is not None else 2
    if not fewest <= len(calls) <= MAX_CALLS or not available():
        yield _here(calls, meanwhile)
        return
    tokens_in, tokens_out = os.pipe()
    os.write(tokens_out, bytes(range(len(calls))))
    os.close(tokens_out)  # once the tokens are taken, a read gives b"": no call left
    results_in, results_out = os.pipe()
    _flush()  # what is buffered is printed here once, not again by the child
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(results_in)
        _child(calls, tokens_in, results_out, parent)  # never returns
    os.close(results_out)
    try:
        if meanwhile is not None:
            meanwhile()
        mine = _take(calls, tokens_in)
    except Exception:  # this process's own error wins over the child's
        os.close(tokens_in)
        _join(pid, results_in, check=False)
        raise
    except BaseException:  # Ctrl-C: the child stops too, before the build discards its files
        os.close(tokens_in)
        _stop(pid, results_in)
        raise
    os.close(tokens_in)
    try:
        yield _results(calls, mine, _received(pid, results_in))
    finally:
        os.waitpid(pid, 0)


def _results(
    calls: Sequence[Callable[[], T]], mine: dict[int, Outcome], theirs: dict[int, Outcome]
) -> list[T]:
    """Every call's result in order, from both processes' outcomes; the first call's exception
    in order raised."""
    done = {**mine, **theirs}
    for index in sorted(done):
        ok, value = done[index]
        if not ok:
            assert isinstance(value, BaseException)
            raise value
    if len(done) != len(calls):
        raise ChildError("a worker process ended without its results")
    return [done[index][1] for index in range(len(calls))]  # type: ignore[misc]


def _here(calls: Sequence[Callable[[], T]], meanwhile: Callable[[], object] | None) -> list[T]:
    """`share` without a child: `meanwhile`, then the calls in order."""
    if meanwhile is not None:
        meanwhile()
    return [call() for call in calls]


Outcome = tuple[bool, object]
"""(True, a call's result) or (False, the exception it raised)."""


def _take(calls: Sequence[Callable[[], T]], tokens: int) -> dict[int, Outcome]:
    """Run the calls whose tokens this process takes, until none is left; stop at the first
    exception (the other process finishes the rest)."""
    done: dict[int, Outcome] = {}
    while not orphaned() and (token := os.read(tokens, 1)):
        index = token[0]
        try:
            done[index] = (True, calls[index]())
        except Exception as exc:
            done[index] = (False, exc)
            break
    return done


def orphaned() -> bool:
    """This process is a forked child whose parent is gone (its parent is now another one)."""
    return _parent is not None and os.getppid() != _parent


def _die_with(parent: int) -> None:
    """In the child: be killed when the parent ends (Linux), and note the parent (`orphaned`)."""
    global _parent
    _parent = parent
    _death_signal()


def pool_worker(parent: int) -> None:
    """A process pool's initializer (the parse workers: lessons.py), `parent` the build: the
    worker dies with it as `share`'s child does. Forked holding the build's locks (lock.py), a
    worker left waiting for work from a killed build held them for ever."""
    _die_with(parent)
    if orphaned():  # the build ended before the signal was asked for
        os._exit(1)


def _death_signal() -> None:
    """Ask Linux to kill this process when its parent ends."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):  # no libc to load: `orphaned` still stops it
            _prctl()(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@functools.cache
def _prctl() -> Callable[..., int]:
    """libc's prctl(2), through ctypes (imported here: only a child asks for it)."""
    import ctypes

    prctl: Callable[..., int] = ctypes.CDLL(None).prctl
    return prctl


def ready() -> None:
    """Load now what a forked child loads first (`_death_signal`): a process that forks later
    (the build's writers) calls this while it waits for other work (a child parsing lessons),
    and its children find it loaded."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            _prctl()


PR_SET_PDEATHSIG = 1
"""prctl(2): the signal this process gets when its parent ends."""


def _child(calls: Sequence[Callable[[], T]], tokens: int, results: int, parent: int) -> None:
    """In the child: take calls, send back what they gave, and end without running anything of
    the parent's (no atexit, no buffered output flushed twice)."""
    code = 1
    try:
        _die_with(parent)
        if orphaned():  # the parent ended before the signal was asked for
            return
        try:
            done = _take(calls, tokens)
            for index, (ok, value) in done.items():
                if not ok and isinstance(value, BaseException) and not _sendable(value):
                    done[index] = (False, ChildError(_text(value)))
            data = pickle.dumps(done, pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # unpicklable, or interrupted: the parent raises
            data = pickle.dumps({-1: (False, ChildError(_text(exc)))}, pickle.HIGHEST_PROTOCOL)
        with os.fdopen(results, "wb") as out:
            out.write(data)
        code = 0
    finally:
        _flush()  # what the calls printed (os._exit flushes nothing)
        os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


def _sendable(exc: object) -> bool:
    """Whether the exception comes out of pickle as it went in (an exception class whose
    constructor takes other arguments than its `args` does not)."""
    try:
        back = pickle.loads(pickle.dumps(exc, pickle.HIGHEST_PROTOCOL))
    except Exception:
        return False
    return type(back) is type(exc) and str(back) == str(exc)


def _text(exc: BaseException) -> str:
    return "in a worker process: " + "".join(traceback.format_exception(exc)).rstrip()


def _join(pid: int, results: int, check: bool = True) -> dict[int, Outcome]:
    """What the child sent, once it ended (without `check`: nothing, whatever it sent; the
    child is waited for all the same)."""
    try:
        done = _received(pid, results, check)
    finally:
        os.waitpid(pid, 0)
    return done


def _received(pid: int, results: int, check: bool = True) -> dict[int, Outcome]:
    """What the child sent (all of it: it has stopped writing, but may not have ended yet;
    without `check`, nothing); the caller waits for it (`os.waitpid`)."""
    try:
        with os.fdopen(results, "rb") as pipe:
            data = pipe.read()
    except BaseException:  # Ctrl-C while waiting: the child stops too (the caller waits)
        _kill(pid)
        raise
    if not check:
        return {}
    try:
        done = pickle.loads(data) if data else {}
    except Exception as exc:
        raise ChildError(f"a worker process's results could not be read: {exc}") from exc
    assert isinstance(done, dict)
    if -1 in done:
        raise done[-1][1]
    return done


def _stop(pid: int, results: int | None = None) -> None:
    """End the child now and wait for it: nothing it writes after this (into temporary files
    the build discards) is left behind."""
    _kill(pid)
    if results is not None:
        os.close(results)
    os.waitpid(pid, 0)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
