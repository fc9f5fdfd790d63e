"""One small page driver for the browser tests, over Chromium and Firefox.

- Chromium: Debian's /usr/bin/chromium through Playwright (executable_path, nothing downloaded).
- Firefox: Debian's /usr/bin/firefox-esr over WebDriver BiDi through puppeteer-core (npm), run by
  tests/firefox_bridge.mjs, a Node process that takes one JSON command per line. Playwright cannot
  launch Debian's Firefox (it needs its own patched build); puppeteer-core needs no driver binary.

Tests use only `Browser.new_page()` and the `Page` methods below, so every test runs the same way
in both. Each page has its own browser context (its own localStorage); the browsers themselves are
started once per test session (see conftest.py). JavaScript passed to `evaluate` and `wait_for` is
the source of a function of one JSON argument, `"(arg) => ..."`; it runs outside the page's
Content-Security-Policy, as devtools code does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal

Scheme = Literal["light", "dark"]
"""The colour schemes the pages are shown in (`prefers-color-scheme`)."""

CHROMIUM = Path("/usr/bin/chromium")
FIREFOX = Path("/usr/bin/firefox-esr")
ROOT = Path(__file__).resolve().parent.parent
BRIDGE = Path(__file__).resolve().parent / "firefox_bridge.mjs"
# Headless Debian Chromium with nothing that phones home: this machine's network is closed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Firefox: light or dark content (BiDi has no media emulation, so the scheme is a launch pref),
# and no update, telemetry or remote-settings traffic.
FIREFOX_PREFS = {
    "app.update.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
}
SCHEME_PREF = "layout.css.prefers-color-scheme.content-override"  # 0 dark, 1 light


class BrowserError(RuntimeError):
    """A command the browser could not carry out (no such element, a timeout, a script error)."""


def missing(name: str) -> str | None:
    """Why the browser `name` cannot run here, or None."""
    if name == "chromium":
        return None if CHROMIUM.exists() else f"{CHROMIUM} is not installed"
    if not FIREFOX.exists():
        return f"{FIREFOX} is not installed"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        return "puppeteer-core is not installed (npm ci)"
    return None


class Page(ABC):
    """A browser tab. Everything a test does goes through these methods."""

    browser: str

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []

    # -- what each browser implements --
    @abstractmethod
    def goto(self, url: str) -> None: ...
    @abstractmethod
    def reload(self) -> None: ...
    @abstractmethod
    def url(self) -> str: ...
    @abstractmethod
    def evaluate(self, source: str, arg: Any = None) -> Any: ...
    @abstractmethod
    def press(self, key: str) -> None: ...
    @abstractmethod
    def type(self, text: str) -> None: ...
    @abstractmethod
    def click(self, selector: str) -> None: ...
    @abstractmethod
    def click_at(self, x: float, y: float) -> None:
        """A real mouse click at a point of the viewport, on whatever is there."""

    @abstractmethod
    def set_files(self, selector: str, path: Path) -> None: ...
    def wait_for(self, source: str, arg: Any = None, timeout: float = 5000) -> None:
        """Wait until the function returns a true value (checked at once, then by polling)."""
        try:
            done = self.evaluate(source, arg)
        except BrowserError:  # a document still loading (after a click that navigates)
            done = False
        if not done:
            self._wait(source, arg, timeout)

    @abstractmethod
    def _wait(self, source: str, arg: Any, timeout: float) -> None: ...
    @abstractmethod
    def screenshot(self, path: Path, full_page: bool = False) -> None: ...
    @abstractmethod
    def pdf(self, path: Path) -> None: ...
    @abstractmethod
    def set_viewport(self, width: int, height: int) -> None: ...
    @abstractmethod
    def drain(self) -> None:
        """Move the console errors, page errors and request URLs seen so far into the lists."""

    @abstractmethod
    def close(self) -> None: ...

    # -- built on evaluate, the same in every browser --
    def text(self, selector: str) -> str:
        result: str = self.evaluate(
            "(s) => { const e = document.querySelector(s); if (!e) throw new Error('no ' + s);"
            " return e.innerText; }",
            selector,
        )
        return result

    def texts(self, selector: str) -> list[str]:
        result: list[str] = self.evaluate(
            "(s) => [...document.querySelectorAll(s)].map(e => e.innerText)", selector
        )
        return result

    def attr(self, selector: str, name: str) -> str | None:
        result: str | None = self.evaluate(
            "([s, n]) => { const e = document.querySelector(s); if (!e) throw new Error('no ' + s);"
            " return e.getAttribute(n); }",
            [selector, name],
        )
        return result

    def count(self, selector: str) -> int:
        result: int = self.evaluate("(s) => document.querySelectorAll(s).length", selector)
        return result

    def visible(self, selector: str) -> bool:
        """The first match takes room on the page and is not hidden (no match: False)."""
        result: bool = self.evaluate(
            "(s) => { const e = document.querySelector(s); if (!e) return false;"
            " const box = e.getBoundingClientRect();"
            " return box.width > 0 && box.height > 0"
            "   && e.checkVisibility({visibilityProperty: true, opacityProperty: true}); }",
            selector,
        )
        return result

    def fill(self, selector: str, text: str) -> None:
        """Focus a text field, clear it and type `text` key by key (input events fire)."""
        self.evaluate(
            "(s) => { const e = document.querySelector(s); e.focus(); e.value = ''; }", selector
        )
        self.type(text)

    def view(self) -> str:
        """The id of the course page's current view."""
        result: str = self.evaluate("() => document.querySelector('.view.is-current')?.id || ''")
        return result

    def expect_view(self, view: str, prefix: bool = False) -> None:
        """Wait for the view (hash changes are handled after the click or key that made them)."""
        check = "v.startsWith(view)" if prefix else "v === view"
        self.wait_for(
            f"(view) => {{ const v = document.querySelector('.view.is-current')?.id || '';"
            f" return {check}; }}",
            view,
        )

    def storage(self, key: str) -> str | None:
        result: str | None = self.evaluate("(k) => localStorage.getItem(k)", key)
        return result

    def set_storage(self, key: str, value: str | None) -> None:
        self.evaluate(
            "([k, v]) => v === null ? localStorage.removeItem(k) : localStorage.setItem(k, v)",
            [key, value],
        )


class Browser(ABC):
    name: str

    @abstractmethod
    def new_page(
        self,
        width: int = 1280,
        height: int = 800,
        scheme: Scheme = "light",
        javascript: bool = True,
    ) -> Page: ...

    @abstractmethod
    def close(self) -> None: ...


# -- Chromium through Playwright ------------------------------------------------------------------


class ChromiumPage(Page):
    browser = "chromium"

    def __init__(self, context: Any) -> None:
        super().__init__()
        self.context = context
        self.page = context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: d.accept())

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def reload(self) -> None:
        self.page.reload()

    def url(self) -> str:
        return str(self.page.url)

    def evaluate(self, source: str, arg: Any = None) -> Any:
        try:
            return self.page.evaluate(source, arg)
        except Exception as error:  # Playwright's own error types vary by version
            raise BrowserError(str(error)) from error

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()

    def click_at(self, x: float, y: float) -> None:
        self.page.mouse.click(x, y)

    def set_files(self, selector: str, path: Path) -> None:
        self.page.locator(selector).set_input_files(str(path))

    def _wait(self, source: str, arg: Any, timeout: float) -> None:
        try:
            self.page.wait_for_function(source, arg=arg, timeout=timeout)
        except Exception as error:
            raise BrowserError(str(error)) from error

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        self.page.screenshot(path=str(path), full_page=full_page)

    def pdf(self, path: Path) -> None:
        self.page.pdf(path=str(path), format="A4")

    def set_viewport(self, width: int, height: int) -> None:
        self.page.set_viewport_size({"width": width, "height": height})

    def drain(self) -> None:
        pass  # Playwright's listeners fill the lists as events come

    def emulate_print(self, on: bool) -> None:
        """Chromium only: WebDriver BiDi has no media emulation for Firefox."""
        self.page.emulate_media(media="print" if on else "screen")

    def close(self) -> None:
        self.context.close()


class ChromiumBrowser(Browser):
    name = "chromium"

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )

    def new_page(
        self,
        width: int = 1280,
        height: int = 800,
        scheme: Scheme = "light",
        javascript: bool = True,
    ) -> Page:
        context = self._browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            java_script_enabled=javascript,
        )
        return ChromiumPage(context)

    @property
    def playwright_browser(self) -> Any:
        """Playwright's Browser, for the few tests that need Playwright's own API."""
        return self._browser

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


# -- Firefox through the Node bridge --------------------------------------------------------------


class Bridge:
    """One firefox-esr, driven by tests/firefox_bridge.mjs; commands go one at a time."""

    def __init__(self, prefs: dict[str, object]) -> None:
        options = json.dumps({"prefs": {**FIREFOX_PREFS, **prefs}})
        self.process = subprocess.Popen(
            ["node", str(BRIDGE), options],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"},
        )
        self.next_id = 1
        self._read()  # "ready" once Firefox is up

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise BrowserError(f"the Firefox bridge stopped (exit {self.process.wait()})")
        reply = json.loads(line)
        if not reply["ok"]:
            raise BrowserError(reply["error"])
        return reply["value"]

    def call(self, op: str, **args: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"id": self.next_id, "op": op, "args": args}) + "\n")
        self.process.stdin.flush()
        self.next_id += 1
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class FirefoxPage(Page):
    browser = "firefox"

    def __init__(self, bridge: Bridge, width: int, height: int) -> None:
        super().__init__()
        self.bridge = bridge
        self.id = bridge.call("newPage", width=width, height=height)

    def _call(self, op: str, **args: Any) -> Any:
        return self.bridge.call(op, page=self.id, **args)

    def goto(self, url: str) -> None:
        self._call("goto", url=url)

    def reload(self) -> None:
        self._call("reload")

    def url(self) -> str:
        return str(self._call("url"))

    def evaluate(self, source: str, arg: Any = None) -> Any:
        return self._call("evaluate", source=source, arg=arg)

    def press(self, key: str) -> None:
        self._call("press", key=key)

    def type(self, text: str) -> None:
        self._call("type", text=text)

    def click(self, selector: str) -> None:
        self._call("click", selector=selector)

    def click_at(self, x: float, y: float) -> None:
        self._call("clickAt", x=x, y=y)

    def set_files(self, selector: str, path: Path) -> None:
        self._call("setFiles", selector=selector, path=str(path))

    def _wait(self, source: str, arg: Any, timeout: float) -> None:
        self._call("wait", source=source, arg=arg, timeout=timeout)

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        self._call("screenshot", path=str(path), fullPage=full_page)

    def pdf(self, path: Path) -> None:
        self._call("pdf", path=str(path))

    def set_viewport(self, width: int, height: int) -> None:
        self._call("setViewport", width=width, height=height)

    def drain(self) -> None:
        got = self._call("drain")
        self.errors += got["errors"]
        self.requests += got["requests"]

    def close(self) -> None:
        self._call("close")


class FirefoxBrowser(Browser):
    """A light-scheme Firefox from the start; one more, started only when a test first asks for
    it, per other setting that is a launch pref in Firefox (dark scheme, JavaScript off)."""

    name = "firefox"

    def __init__(self) -> None:
        self._bridges: dict[tuple[str, bool], Bridge] = {}
        self._bridge("light", True)

    def _bridge(self, scheme: str, javascript: bool) -> Bridge:
        key = (scheme, javascript)
        if key not in self._bridges:
            prefs: dict[str, object] = {SCHEME_PREF: 0 if scheme == "dark" else 1}
            if not javascript:
                prefs["javascript.enabled"] = False
            self._bridges[key] = Bridge(prefs)
        return self._bridges[key]

    def new_page(
        self,
        width: int = 1280,
        height: int = 800,
        scheme: Scheme = "light",
        javascript: bool = True,
    ) -> Page:
        return FirefoxPage(self._bridge(scheme, javascript), width, height)

    def close(self) -> None:
        for bridge in self._bridges.values():
            bridge.close()


def launch(name: str) -> Browser:
    return ChromiumBrowser() if name == "chromium" else FirefoxBrowser()
