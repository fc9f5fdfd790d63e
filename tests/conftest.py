"""Shared fixtures: copies of the sample course, a build helper, and a fresh Anki collection."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


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
