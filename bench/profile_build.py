"""Profile one build of a lesson folder in-process: where the time goes and what holds the memory.

    .venv/bin/python bench/profile_build.py LESSONS [--no-site] [--prof out.prof] [--top 25]
    .venv/bin/python bench/profile_build.py LESSONS --memory    # tracemalloc instead of cProfile
    .venv/bin/python bench/profile_build.py LESSONS --rebuild   # profile a no-op rebuild
    .venv/bin/python bench/profile_build.py LESSONS --edit      # profile a one-card-edit rebuild

LESSONS is a folder as `build.py build --lessons` takes it (e.g. a corpus kept by
`bench.py --keep`: /tmp/course-bench/cards-10000/corpus/project/lessons). The build runs through
the command line's own entry point, so this works whatever the engine looks like inside.
--rebuild and --edit build the copy once first, unprofiled, in a process of their own; --edit
then changes one card as the bench does (`corpus.edit_one_card`: one answer of the first
language's middle lesson), so the profile is of the rebuild target 5 measures (the first build
is cold: the cache is keyed by the lessons' real paths, so a copy's is not taken over).

cProfile: the top functions by own time and by cumulative time, and own time summed per module
(markdown-it-py, each course/ module, genanki, jinja2, ...). cProfile slows Python code roughly
3x, unevenly: read shares, not seconds. --memory: tracemalloc's peak, and the allocation sites
of the largest snapshot taken while the build ran (grouped by line and by module).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from corpus import edit_one_card  # noqa: E402 (after the path is set)

from course.cli import main as cli_main  # noqa: E402


def build_args(lessons: Path, out: Path, site: bool) -> list[str]:
    args = ["build", "--lessons", str(lessons), "--decks", str(out / "decks")]
    args += ["--site", str(out / "site")] + ([] if site else ["--no-site"])
    return [*args, "--no-scorm"]  # the stages the benchmark measures: decks and site


def build_call(args: list[str]) -> Callable[[], None]:
    def call() -> None:
        cli_main.main(args, prog_name="course-build", standalone_mode=False)

    return call


def build_apart(args: list[str]) -> None:
    """The build `args` ask for, in a process of its own (the command line, from this working
    directory, which kept plans are keyed on): the profiled rebuild that follows starts as a
    rebuild's process does (nothing imported, cached or held of an earlier build in it; one in
    this process was measured freeing the first build's library, 58 ms under cProfile)."""
    subprocess.run([sys.executable, str(ROOT / "build.py"), *args], check=True)


def bucket(filename: str) -> str:
    """A module group for a profile entry's file."""
    for marker, name in (
        ("markdown_it/", "markdown-it-py"),
        ("mdit_py_plugins/", "mdit-py-plugins"),
        ("genanki/", "genanki"),
        ("jinja2/", "jinja2"),
        ("babel/", "babel"),
        ("yaml/", "PyYAML"),
        ("logging/", "logging"),
        ("json/", "json"),
        ("zipfile", "zipfile"),
        ("sqlite3/", "sqlite3"),
    ):
        if marker in filename:
            return name
    if "/course/" in filename:
        return "course/" + filename.rsplit("/course/", 1)[1]
    if filename == "~":
        return "built-ins (C functions)"
    if filename == "<string>":  # dataclass-generated methods: markdown-it's Token.__init__
        return "generated __init__ (markdown-it Token)"
    return "other Python"


def print_profile(stats: pstats.Stats, top: int) -> None:
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())
    per_bucket: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), entry in raw.items():
        per_bucket[bucket(filename)] += entry[2]
    print(f"\nown time per module (total {total:.1f} s under cProfile):")
    for name, seconds in sorted(per_bucket.items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.005:
            print(f"  {100 * seconds / total:5.1f}%  {seconds:7.2f} s  {name}")
    for order in ("tottime", "cumulative"):
        print(f"\ntop {top} by {order}:")
        stats.sort_stats(order).print_stats(top)


class SnapshotSampler(threading.Thread):
    """Keeps the tracemalloc snapshot taken when traced memory was highest (sampled each second)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.done = threading.Event()
        self.best = 0
        self.snapshot: tracemalloc.Snapshot | None = None

    def run(self) -> None:
        while not self.done.wait(1.0):
            current, _ = tracemalloc.get_traced_memory()
            if current > self.best * 1.05:
                self.snapshot = tracemalloc.take_snapshot()
                self.best = tracemalloc.get_traced_memory()[0]


def print_memory(sampler: SnapshotSampler, peak: int, top: int) -> None:
    print(f"\ntracemalloc peak {peak / 2**20:.0f} MB; largest sample {sampler.best / 2**20:.0f} MB")
    if sampler.snapshot is None:
        return
    lines = sampler.snapshot.statistics("lineno")
    per_bucket: dict[str, int] = defaultdict(int)
    for stat in lines:
        per_bucket[bucket(stat.traceback[0].filename)] += stat.size
    print("allocated memory alive at that sample, per module:")
    for name, size in sorted(per_bucket.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {100 * size / sampler.best:5.1f}%  {size / 2**20:8.1f} MB  {name}")
    print(f"top {top} allocation sites:")
    for stat in lines[:top]:
        frame = stat.traceback[0]
        print(f"  {stat.size / 2**20:8.1f} MB {stat.count:>10,} blocks  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("lessons", type=Path)
    parser.add_argument("--no-site", action="store_true", help="decks only")
    parser.add_argument("--memory", action="store_true", help="tracemalloc instead of cProfile")
    parser.add_argument("--prof", type=Path, help="also write the cProfile data here")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--rebuild", action="store_true", help="build once unprofiled, then profile a rebuild"
    )
    parser.add_argument(
        "--edit",
        action="store_true",
        help="build once unprofiled, edit one card as the bench does, then profile the rebuild",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lessons = Path(tmp) / "lessons"  # the build may write into its lessons folder
        shutil.copytree(args.lessons, lessons)
        build = build_args(lessons, Path(tmp), site=not args.no_site)
        if args.rebuild or args.edit:
            build_apart(build)
        call = build_call(build)
        if args.edit:
            edited = edit_one_card(lessons)
            print(f"edited {edited.relative_to(lessons)}", flush=True)
        start = time.perf_counter()
        if args.memory:
            tracemalloc.start()
            sampler = SnapshotSampler()
            sampler.start()
            call()
            sampler.done.set()
            sampler.join()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print_memory(sampler, peak, args.top)
        else:
            profiler = cProfile.Profile()
            profiler.runcall(call)
            if args.prof:
                profiler.dump_stats(args.prof)
            print_profile(pstats.Stats(profiler), args.top)
        seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbuild under the profiler: {seconds:.1f} s, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
