"""Can a resident process meet target 5 at 10k? Time a one-edit rebuild kept warm.

    .venv/bin/python bench/watch_probe.py LESSONS [--rounds 3] [--profile FILE]

Copies LESSONS to a temporary folder, builds it cold in this process through the command line's
own entry point (decks, site and SCORM, as the bench's project rows), then edits one card as the
bench does (`corpus.edit_one_card`) and builds again in the same process: the modules imported,
the templates loaded, the OS's file cache warm. Each stage of `cli.build_command` of that second
build is timed by wrapping it (wall and CPU). A rebuild parses the edited lesson in this
process (since s3's watch commit; before it, a forked child parsed it, as in a fresh process,
which imports the writers meanwhile: 14 ms more at 10k). Each round also prints the process's
resident memory (VmRSS) after the rebuild: a resident process must not grow build after build.
As the watch does, the lessons' parses and notes are kept in memory from build to build, and
the parses the last build made read from the cache after it, and every language's notes and
manifest prepared for the next build (`cli._between_builds`: `lessons.read_kept`,
`decided.prepare`; not timed); --no-keep keeps nothing, as a build run once.
(The watch keeps notes from its second build on; here from the cold build, whose notes are
made from fresh parses, not the kept ones: the first round takes none of them either.)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import edit_one_card  # noqa: E402

from course import cli  # noqa: E402

STAGES = ("_hold", "_load_checked", "_sweep_outputs", "_write", "_report", "_remember")
SPENT: dict[str, list[float]] = {}


def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent = SPENT.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    return call


def args_for(lessons: Path, out: Path) -> list[str]:
    return [
        "build", "--lessons", str(lessons), "--decks", str(out / "decks"),
        "--site", str(out / "site"), "--scorm", str(out / "scorm"),
    ]  # fmt: skip


def build(args: list[str]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    cli.main.main(args, prog_name="course-build", standalone_mode=False)
    return time.perf_counter() - wall, time.process_time() - cpu


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lessons", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, help="cProfile the first rebuild into FILE")
    parser.add_argument("--no-keep", action="store_true", help="keep no parse in memory")
    options = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    for name in STAGES:
        setattr(cli, name, timed(name, getattr(cli, name)))
    from course import decided, pipeline  # noqa: F401
    from course import lessons as lesson_files

    if not options.no_keep:
        lesson_files.keep_parses()
        decided.keep_notes()

    with tempfile.TemporaryDirectory(prefix="watch-probe-") as tmp:
        work = Path(tmp)
        lessons = work / "lessons"
        shutil.copytree(options.lessons, lessons)
        args = args_for(lessons, work)
        cold = build(args)
        print(f"cold build in this process: {cold[0]:.3f} s wall, {cold[1]:.3f} s CPU")
        for index in range(options.rounds):
            if not options.no_keep:  # the watch's work after each build (not timed)
                cli._between_builds(lessons, (), True)
            edit_one_card(lessons)
            SPENT.clear()
            profile = cProfile.Profile() if options.profile and index == 0 else None
            if profile is not None:
                profile.enable()
            spent = build(args)
            if profile is not None:
                profile.disable()
                profile.dump_stats(options.profile)
            print(
                f"round {index}: one-edit rebuild {spent[0]:.3f} s wall ({spent[0] / cold[0]:.3f}x"
                f" the cold build), {spent[1]:.3f} s CPU, {resident_mb():.0f} MB resident"
            )
            for name, (wall, cpu) in SPENT.items():
                print(f"    {name:16} {wall * 1000:7.1f} ms wall {cpu * 1000:7.1f} ms CPU")


if __name__ == "__main__":
    main()
