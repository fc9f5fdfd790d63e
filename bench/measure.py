"""Run one command in a fresh process and measure its wall time, CPU time and peak memory.

Peak memory is the larger of two readings: GNU time's maximum resident set (the largest single
process of the tree) and the sum of the resident sets of the whole tree, sampled every 20 ms from
/proc (worker processes running at the same time add up; pages they share count once per process,
so the sum is an upper bound). `wait4`'s own `ru_maxrss` is not used: Linux carries the parent's
resident set over fork and exec into the child's maximum, so a child of a big process would report
the parent's size. CPU time (user + system of the whole tree) is much less disturbed than wall
time by other processes competing for the cores.
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


GNU_TIME = Path("/usr/bin/time")


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float  # wall time
    peak_mb: float
    cpu: float = 0.0  # user + system seconds of the process tree


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


def tree_rss(pid: int, with_root: bool = True) -> int:
    """Resident bytes of `pid` (unless not `with_root`) and all its descendants, now."""
    total, todo = 0, [pid] if with_root else _children(pid)
    while todo:
        current = todo.pop()
        total += _rss(current)
        todo.extend(_children(current))
    return total


class TreeSampler(threading.Thread):
    def __init__(self, pid: int, with_root: bool) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.with_root = with_root
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, tree_rss(self.pid, self.with_root))


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run `argv` in `cwd`; raise RunFailed (with its stderr's end) on a non-zero exit."""
    wrapped = GNU_TIME.exists()
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile("r") as rss_file:
        command = list(argv)
        if wrapped:  # GNU time's child starts from time's small memory, not from ours
            command = [str(GNU_TIME), "-q", "-f", "%M", "-o", rss_file.name, *command]
        start = time.perf_counter()
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        sampler = TreeSampler(proc.pid, with_root=not wrapped)
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
        largest = int(rss_file.read().split()[-1]) * 1024 if wrapped else 0
    peak = max(largest, sampler.peak)
    return Run(seconds, peak / 2**20, usage.ru_utime + usage.ru_stime)
