"""Regenerate the README's screenshots of the HTML course (docs/*.png) in headless Chromium.

Builds the bundled course (lessons/) into a temporary folder, gives the Polish course a few days
of simulated reviews (so the dashboard has something to show), and shoots a desktop and a phone.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course import pipeline
from course.lessons import load_library

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
CHROMIUM = "/usr/bin/chromium"

# Five days of study: 8 new cards a day, each rated Good, the earlier ones reviewed again.
SIMULATE = """() => {
  const data = JSON.parse(document.getElementById('course-data').textContent);
  let state = CourseProgress.empty();
  const day = 86400000, start = Date.now() - 5 * day;
  data.items.slice(0, 40).forEach((item, i) => {
    let t = start + Math.floor(i / 8) * day + i * 60000;
    let card = FSRS.review(FSRS.newCard(t), 3, t).card;
    card = FSRS.review(card, 3, card.due).card;
    state = CourseProgress.recordReview(state, item.id, card, t);
  });
  localStorage.setItem(data.storageKey, JSON.stringify(state));
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        pipeline.build(load_library(ROOT / "lessons"), None, site)
        page_url = (site / "pl" / "index.html").as_uri()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            shots = (
                ("course-desktop.png", {"width": 1280, "height": 800}, ""),
                ("course-phone.png", {"width": 390, "height": 844}, "#lesson/ideal-employee"),
            )
            for name, viewport, fragment in shots:
                context = browser.new_context(viewport=viewport, color_scheme="light")
                page = context.new_page()
                page.goto(page_url)
                page.evaluate(SIMULATE)
                page.goto(page_url + fragment)
                page.reload()
                page.wait_for_timeout(300)
                page.screenshot(path=str(DOCS / name))
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
