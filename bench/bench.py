"""Benchmark: build synthetic courses of growing size and report time and peak memory.

    .venv/bin/python bench/bench.py               # 1,000 / 10,000 / 100,000 cards
    .venv/bin/python bench/bench.py 10000 --lessons-per-1000 20

The pipeline must stay linear in lessons and cards: the seconds-per-1,000-cards column should
stay flat as the course grows. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from course import pipeline
from course.lessons import load_library

CARD_FORMS = (
    "Ερώτηση {n} για την εξυπηρέτηση;::Απάντηση με *έμφαση* {n}. <!-- id: b{n} -->",
    "Όρος {n}:::Ορισμός του όρου {n} <!-- id: r{n} -->",
    "Η ==υπομονή {n}== βοηθά σε δύσκολες συζητήσεις. <!-- id: c{n} -->",
)


def write_course(root: Path, cards: int, lessons: int) -> None:
    folder = root / "el"
    folder.mkdir(parents=True)
    per_lesson = max(1, cards // lessons)
    n = 0
    for index in range(lessons):
        lines = [f"---\nid: l{index}\ntitle: Μάθημα {index}\nlang: el\norder: {index}\n---\n"]
        for card in range(per_lesson):
            if card % 10 == 0:
                lines.append(
                    f"## Ενότητα {card // 10}\n\nΚείμενο της ενότητας με **λίγη** μορφοποίηση.\n"
                )
            lines.append(CARD_FORMS[n % 3].format(n=n) + "\n")
            n += 1
        (folder / f"{index:05d}.md").write_text("\n".join(lines), encoding="utf-8")


def run(cards: int, lessons_per_1000: int, site: bool) -> None:
    lessons = max(1, cards * lessons_per_1000 // 1000)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_course(root / "lessons", cards, lessons)
        start = time.perf_counter()
        library = load_library(root / "lessons")
        loaded = time.perf_counter()
        pipeline.build(library, root / "decks", root / "site" if site else None)
        done = time.perf_counter()
        size = sum(p.stat().st_size for p in (root / "decks").iterdir())
        shutil.rmtree(root / "lessons")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = done - start
    print(
        f"{cards:>8} cards {lessons:>6} lessons  parse {loaded - start:6.2f} s"
        f"  build {done - loaded:6.2f} s  total {total:6.2f} s"
        f"  {1000 * total / cards:5.3f} s/1k cards  deck {size / 1e6:6.1f} MB"
        f"  peak RSS {peak:6.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000, 100_000])
    parser.add_argument("--lessons-per-1000", type=int, default=20, help="lessons per 1,000 cards")
    parser.add_argument("--site", action="store_true", help="also build the HTML course")
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.lessons_per_1000, args.site)


if __name__ == "__main__":
    main()
