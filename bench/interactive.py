"""How fast each language's course page becomes interactive in headless Chromium (file://).

"Interactive" is the moment course.js has loaded the learner's progress, shown the first view and
emitted its "course:ready" event (every handler attached), measured from navigation start with
the page's own clock. Builds the bundled course (lessons/) into a temporary folder; prints the
median and worst of several cold loads per page. The target for the Polish page is 300 ms.

    .venv/bin/python bench/interactive.py [--runs 15] [--lessons lessons]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from course import pipeline
from course.lessons import load_library

CHROMIUM = "/usr/bin/chromium"
NAVIGATION = "() => performance.getEntriesByType('navigation')[0]"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
RECORD = """document.addEventListener('course:ready', () => {
  window.__ready = performance.now();
}, {once: true});"""


def measure(site: Path, langs: list[str], runs: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for lang in langs:
            page_file = site / lang / "index.html"
            ready: list[float] = []
            loaded: list[float] = []
            parsed: list[float] = []
            for _ in range(runs):
                context = browser.new_context()  # cold: no cache, no stored progress
                page = context.new_page()
                page.add_init_script(RECORD)
                page.goto(page_file.as_uri())
                page.wait_for_function("() => window.__ready !== undefined")
                ready.append(page.evaluate("() => window.__ready"))
                timing = page.evaluate(f"() => ({NAVIGATION})().toJSON()")
                parsed.append(timing["domInteractive"])
                loaded.append(timing["loadEventEnd"])
                context.close()
            size = page_file.stat().st_size / 1024
            print(
                f"{lang}: {size:.0f} KB page; interactive median {statistics.median(ready):.0f} ms,"
                f" worst {max(ready):.0f} ms (HTML parsed at {statistics.median(parsed):.0f} ms,"
                f" load event {statistics.median(loaded):.0f} ms)"
                f" ({runs} cold loads)"
            )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--lessons", type=Path, default=Path("lessons"))
    options = parser.parse_args()
    library = load_library(options.lessons)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        pipeline.build(library, None, site)
        measure(site, [course.lang for course in library.courses], options.runs)


if __name__ == "__main__":
    main()
