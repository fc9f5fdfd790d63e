"""Run one command in a fresh process and measure its wall time and peak memory.

Peak memory is the larger of two readings: `wait4`'s `ru_maxrss` (the largest single process of
the tree: the child or any descendant it waited for) and the sum of the resident sets of the whole
process tree, sampled every 20 ms from /proc (worker processes running at the same time add up).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.02


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    peak_mb: float


class RunFailed(RuntimeError):
    pass


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:  # the process ended between two reads
        pass
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss(current)
        todo.extend(_children(current))
    return total


class TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, tree_rss(self.pid))


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run `argv` in `cwd`; raise RunFailed (with its stderr's end) on a non-zero exit."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise RunFailed(f"{' '.join(argv)} (in {cwd}) exited {proc.returncode}:\n{tail}")
    peak = max(usage.ru_maxrss * 1024, sampler.peak)
    return Run(seconds, peak / 2**20)
