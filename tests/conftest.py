"""Shared fixtures: copies of the sample course, a fresh Anki collection, and the browsers."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course import compiled

compiled.install()  # as build.py does: the tests run what the command line runs

from course.cache import ENV as CACHE_ENV  # noqa: E402

import browsers  # noqa: E402
from browsers import Browser  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


PARSE_CACHE: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    """One parse cache for the whole run (collection included: some test modules load the
    bundled course on import), outside the repository and the folders tests compare: tests that
    load a lesson again exercise the cached path as authors do."""
    PARSE_CACHE["old"] = os.environ.get(CACHE_ENV)
    PARSE_CACHE["folder"] = folder = tempfile.mkdtemp(prefix="course-parse-cache-")
    os.environ[CACHE_ENV] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder, old = PARSE_CACHE.get("folder"), PARSE_CACHE.get("old")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
    if old is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = old


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the bundled course (15 lessons in Greek, Polish and Latvian): its
    lessons folder, the working directory its parent, builds at a fixed time."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    shutil.copytree(Path(__file__).resolve().parent.parent / "lessons", tmp_path / "lessons")
    return tmp_path / "lessons"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/sample (el, pl, lv): the lessons folder."""
    target = tmp_path / "lessons"
    shutil.copytree(FIXTURES / "sample", target)
    return target


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children `course.forked` forks from now on (their pids), forked as usual."""
    children: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return children


@pytest.fixture
def anki_collection(tmp_path: Path) -> Iterator[Any]:
    """A new, empty collection in Anki's own backend."""
    collection_mod = pytest.importorskip("anki.collection")
    (tmp_path / "anki").mkdir()
    col = collection_mod.Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


BROWSERS = ("chromium", "firefox")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _require(name: str) -> None:
    """Skip when the browser cannot run here, except in CI (CI=true), where it fails."""
    reason = browsers.missing(name)
    if reason:
        if _in_ci():
            pytest.fail(f"{name}: {reason}; CI needs both browsers (bash setup.sh installs them)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[browsers.ChromiumBrowser]:
    """The one Chromium of the run: Playwright's sync API allows one instance per thread, so the
    `browser` fixture and `playwright_chromium` share it."""
    _require("chromium")
    launched = browsers.ChromiumBrowser()
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session", params=BROWSERS)
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """Each browser test runs in Chromium and in Firefox, one browser process each for the whole
    run (tests/browsers.py). A missing browser skips, except in CI (CI=true), where it fails."""
    name: str = request.param
    if name == "chromium":
        yield request.getfixturevalue("chromium_browser")
        return
    _require(name)
    launched = browsers.launch(name)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/site-course built with decks, once per run (in a copy: a deck build writes
    mod times beside the lessons). Browser tests open it from file://, as a learner opens an
    unzipped folder."""
    from course import pipeline
    from course.lessons import load_library

    root = tmp_path_factory.mktemp("site-course")
    shutil.copytree(FIXTURES / "site-course", root / "lessons")
    pipeline.build(load_library(root / "lessons"), root / "decks", root / "site")
    return root / "site"


@pytest.fixture(scope="session")
def split_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same course with every language's page split (site.SPLIT_BYTES = 0): an outline page,
    each lesson's content in `lessons/<id>.js`, the search records in their own script."""
    from course import pipeline, site
    from course.lessons import load_library

    root = tmp_path_factory.mktemp("split-course")
    shutil.copytree(FIXTURES / "site-course", root / "lessons")
    saved = site.SPLIT_BYTES
    site.SPLIT_BYTES = 0
    try:
        pipeline.build(load_library(root / "lessons"), root / "decks", root / "site")
    finally:
        site.SPLIT_BYTES = saved
    return root / "site"


@pytest.fixture(scope="session")
def playwright_chromium(chromium_browser: browsers.ChromiumBrowser) -> Any:
    """Playwright's own Browser object for Chromium, for a test that needs Playwright's API
    itself (routes, frames, a server origin) rather than the two-browser page driver."""
    return chromium_browser.playwright_browser
