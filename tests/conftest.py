"""Shared fixtures: copies of the sample course, a build helper, and a fresh Anki collection."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")
# Headless Debian Chromium with nothing that phones home: this machine's network is closed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/sample (el, pl, lv): the lessons folder."""
    target = tmp_path / "lessons"
    shutil.copytree(FIXTURES / "sample", target)
    return target


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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (Debian's package; Playwright downloads nothing)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
