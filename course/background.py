"""Calls that run in another thread of the build while it goes on: the deck's zip step.

Compressing a deck's collection (zlib, 0.3 s for a 33,000-note language) releases the GIL while
it deflates each megabyte, so a thread can deflate on the second core while this one renders the
SCORM zips and the site. Only a large build writes its decks in this process (`pipeline.Share`);
a smaller one shares its writers with a forked child, and a process with a thread must not fork
(`forked.available`): there the calls run at once, in order.

A call's exception is raised by `join`, which the build calls before it commits anything (and,
when it fails, before it discards its temporary files: nothing is written into a discarded file
afterwards).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

SWITCH_INTERVAL = 0.0005
"""The interpreter's switch interval (seconds; Python's default is 0.005) while a call runs in a
thread: the time the build's thread, running Python, may keep the GIL once the zip step asks for
it back after each read, checksum and deflate of its collection (`anki.ZIP_CHUNK`). A one-edit
rebuild at 100,000 cards waits for its deck's zip at the end: 0.34-0.38 s beside the build's
thread at 5 ms, 0.33-0.34 s at 0.5 ms (0.29 s alone). The build's thread gives the GIL up only
when the other asks, a few dozen times."""


class Background:
    """Calls started by `run` (in a thread of their own once `enabled`), joined by `join`."""

    __slots__ = ("_errors", "_interval", "_threads", "enabled")

    def __init__(self) -> None:
        self.enabled = False
        """Whether `run` starts a thread (else it calls at once)."""
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []
        self._interval: float | None = None
        """The switch interval before the first thread started (set again by `join`)."""

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
        self._threads.append(thread)
        if self._interval is None:
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL, self._interval))

    def _call(self, call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as exc:  # raised again by join, in the build's thread
            self._errors.append(exc)

    def join(self, check: bool = True) -> None:
        """Wait for every call started; raise the first one's exception (unless not `check`)."""
        while self._threads:
            self._threads.pop(0).join()
        if self._interval is not None:
            sys.setswitchinterval(self._interval)
            self._interval = None
        errors, self._errors = self._errors, []
        if check and errors:
            raise errors[0]
