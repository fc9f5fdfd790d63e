"""Calls that run in another thread of the build while it goes on: the deck's zip step
(`Background`), a SCORM zip's entries deflated (`Aside`).

Compressing a deck's collection (zlib, 0.3 s for a 33,000-note language) releases the GIL while
it deflates each megabyte, so a thread can deflate on the second core while this one renders the
SCORM zips and the site; so can a SCORM zip's entries while this one renders the next lesson.
Only a large build writes its decks and zips in this process (`pipeline.Share`); a smaller one
shares its writers with a forked child, and a process with a thread must not fork
(`forked.available`): there the calls run at once, in order.

A call's exception is raised by `join`, which the build calls before it commits anything (and,
when it fails, before it discards its temporary files: nothing is written into a discarded file
afterwards).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

P = ParamSpec("P")
T = TypeVar("T")

SWITCH_INTERVAL = 0.0005
"""The interpreter's switch interval (seconds; Python's default is 0.005) while a call runs in a
thread: the time the build's thread, running Python, may keep the GIL once the zip step asks for
it back after each read, checksum and deflate of its collection (`anki.ZIP_CHUNK`). A one-edit
rebuild at 100,000 cards waits for its deck's zip at the end: 0.34-0.38 s beside the build's
thread at 5 ms, 0.33-0.34 s at 0.5 ms (0.29 s alone). The build's thread gives the GIL up only
when the other asks, a few dozen times."""


class _Lowered:
    """The switch interval lowered to SWITCH_INTERVAL while any thread of this module runs
    (`enter`), set back when the last one is done (`leave`)."""

    __slots__ = ("count", "saved")

    def __init__(self) -> None:
        self.count = 0
        self.saved = 0.0

    def enter(self) -> None:
        if self.count == 0:
            self.saved = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL, self.saved))
        self.count += 1

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            sys.setswitchinterval(self.saved)


_SWITCH = _Lowered()


class Background:
    """Calls started by `run` (in a thread of their own once `enabled`), joined by `join`."""

    __slots__ = ("_errors", "_threads", "enabled")

    def __init__(self) -> None:
        self.enabled = False
        """Whether `run` starts a thread (else it calls at once)."""
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    def run(self, call: Callable[[], object]) -> None:
        """`call()`, in another thread when `enabled`: its exception is `join`'s."""
        if not self.enabled:
            call()
            return
        thread = threading.Thread(target=self._call, args=(call,), name="course-background")
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: here, then
            call()
            return
        if not self._threads:  # the first since the last `join`
            _SWITCH.enter()
        self._threads.append(thread)

    def _call(self, call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as exc:  # raised again by join, in the build's thread
            self._errors.append(exc)

    def join(self, check: bool = True) -> None:
        """Wait for every call started; raise the first one's exception (unless not `check`)."""
        if self._threads:
            while self._threads:  # (each one kept until joined: interrupted, a later join ends)
                self._threads[0].join()
                del self._threads[0]
            _SWITCH.leave()
        errors, self._errors = self._errors, []
        if check and errors:
            raise errors[0]


class Aside:
    """One thread that runs the calls given to `submit` one after another, in that order, while
    the build's thread goes on (a SCORM zip's entries deflated: `zips.Writer`). `close` cancels
    the calls not started and waits for the one running: afterwards no thread of it is left.

    The thread starts when the aside is made, so no later `submit` has one to start: where the
    system refuses it, each call runs at once, in the build's thread (as `Background.run`
    does), and its future is already done."""

    __slots__ = ("_open", "_pool")

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor  # (only a large build's zips use it)

        self._open = True
        pool = ThreadPoolExecutor(1, "course-aside")
        self._pool: ThreadPoolExecutor | None = pool
        try:
            pool.submit(_nothing)  # (its one thread started now)
        except RuntimeError:  # no thread to be had: the calls run here, then
            pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        else:
            _SWITCH.enter()

    def submit(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        if not self._open:
            raise RuntimeError("submitted to a closed Aside")
        if self._pool is None:
            return _done(call, *args, **kwargs)
        return self._pool.submit(call, *args, **kwargs)

    def close(self) -> None:
        self._open = False
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                pool.shutdown(wait=True, cancel_futures=True)
            finally:
                _SWITCH.leave()


def _nothing() -> None:
    """What an `Aside` runs first: its thread started."""


def _done(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
    """`call`'s outcome, made now, as a finished future: its result or its exception."""
    from concurrent.futures import Future

    future: Future[T] = Future()
    try:
        future.set_result(call(*args, **kwargs))
    except Exception as exc:  # (as a thread's future holds it: raised by `result`)
        future.set_exception(exc)
    return future
