"""Helpers shared by the browser tests of the HTML course: the built fixture site and a watched
page that fails on any console error, page error or load from outside the site."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from browsers import Browser, Page

FIXTURE = Path(__file__).parent / "fixtures" / "site-course"
STORAGE_KEY = "course-progress:site-fixture:el"


def url(site: Path, path: str) -> str:
    """A file:// URL of a page of the built site, with its #fragment."""
    path, _, fragment = path.partition("#")
    return (site / path).as_uri() + (f"#{fragment}" if fragment else "")


def loads_outside(page: Page, site: Path) -> list[str]:
    """Requests (Playwright sees them) and loaded resources (every browser lists them in the
    Performance API) whose URL is not a file inside the site."""
    page.drain()
    root = site.resolve().as_uri() + "/"
    loaded: list[str] = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [
        u for u in [*page.requests, *loaded] if not u.startswith((root, "blob:", "data:", "about:"))
    ]


@contextmanager
def watched(browser: Browser, site: Path, **options: Any) -> Iterator[Page]:
    """A new page (own storage) that must end with no errors and nothing loaded from elsewhere."""
    page = browser.new_page(**options)
    try:
        yield page
        outside = loads_outside(page, site)
        assert not outside, f"loads from outside the site: {outside}"
        assert not page.errors, f"console or page errors: {page.errors}"
    finally:
        page.close()


def stored(page: Page, key: str = STORAGE_KEY) -> Any:
    text = page.storage(key)
    return None if text is None else json.loads(text)


CAPTURE_DOWNLOADS = """() => {
  window.__downloads = [];
  const blobs = new Map();
  const make = URL.createObjectURL;
  URL.createObjectURL = (blob) => { const u = make(blob); blobs.set(u, blob); return u; };
  HTMLAnchorElement.prototype.click = function () {
    window.__downloads.push({name: this.download, blob: blobs.get(this.href)});
  };
}"""


def capture_downloads(page: Page) -> None:
    """Keep what the page offers for download (name and content) instead of saving a file."""
    page.evaluate(CAPTURE_DOWNLOADS)


def last_download(page: Page) -> tuple[str, str]:
    got = page.evaluate(
        "async () => { const d = window.__downloads.at(-1);"
        " return d ? [d.name, await d.blob.text()] : null; }"
    )
    assert got, "nothing was offered for download"
    return got[0], got[1]


def pdf_pages(path: Path) -> int:
    """Pages of a PDF the browser printed: page objects, also inside compressed object streams
    (Firefox's PDFs keep them there)."""
    import re
    import zlib

    data = path.read_bytes()
    page = re.compile(rb"/Type\s*/Page\b")
    count = len(page.findall(data))
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            count += len(page.findall(zlib.decompress(stream.group(1))))
        except zlib.error:
            continue  # not a deflated stream (an image, a font)
    return count


class Quiet(SimpleHTTPRequestHandler):
    """A web server's handler that logs nothing and answers the favicon a browser asks for."""

    def do_GET(self) -> None:
        if self.path == "/favicon.ico":  # what a browser asks a web server for, unasked
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """`folder` served from 127.0.0.1, as a host serves it: its base URL."""
    handler = functools.partial(Quiet, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
