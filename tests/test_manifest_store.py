"""The manifest a build writes is kept, parsed, in the cache: the next build (after an edit) reads
it back without parsing its text, and only for exactly those bytes under this tool's version."""

from __future__ import annotations

from pathlib import Path

import pytest

from course import cache, manifest
from course.manifest import CardEntry, Manifest, Release
from course.model import CardKind


def _written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Manifest]:
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "lessons" / "pl"
    folder.mkdir(parents=True)
    written = Manifest.of(
        [
            Release(1, 10),
            CardEntry("a1", CardKind.CLOZE, "alpha", "h", 5, 1, 2, (1, 3), 0, "src"),
            CardEntry("a2", CardKind.REVERSED, "", "h2", 6, 1, 1, (), 2),
        ]
    )
    data = written.dumps().encode()
    path = folder / manifest.MANIFEST_FILE
    path.write_bytes(data)
    manifest.wrote(path, data, written)
    manifest._LAST_READ.clear()  # as in the next build's process
    return folder, written


def _no_parse(text: str, shown: Path) -> Manifest:
    raise AssertionError("parsed")


def test_the_written_manifest_is_read_back_unparsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, written = _written(tmp_path, monkeypatch)
    monkeypatch.setattr(manifest, "_parse_lines", _no_parse)
    again = manifest.read(folder)
    assert again == written
    assert again.dumps() == written.dumps()


def test_other_bytes_are_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, written = _written(tmp_path, monkeypatch)
    path = folder / manifest.MANIFEST_FILE
    path.write_text(written.dumps().replace('"mod": 5', '"mod": 7'), "utf-8")
    assert manifest.read(folder).cards["a1"].mod == 7


def test_a_new_tool_version_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = _written(tmp_path, monkeypatch)
    monkeypatch.setattr("course.cache.tool_digest", lambda: "another version")
    monkeypatch.setattr(manifest, "_parse_lines", _no_parse)
    with pytest.raises(AssertionError, match="parsed"):
        manifest.read(folder)


def test_a_corrupt_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, written = _written(tmp_path, monkeypatch)
    for entry in (tmp_path / "cache" / manifest.STORED).iterdir():
        entry.write_bytes(entry.read_bytes()[:-10])
    assert manifest.read(folder) == written


def test_no_cache_folder_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_CACHE_DIR", "")
    path = tmp_path / manifest.MANIFEST_FILE
    written = Manifest.of([Release(1, 10)])
    manifest.wrote(path, written.dumps().encode(), written)
    assert list(tmp_path.iterdir()) == []


def test_a_manifest_made_from_a_stored_one_is_stored_as_its_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry of a manifest made from one read from the cache is that one's pickle and the
    entries changed since (not a pickle of every card); read back through two such builds, it is
    the manifest written, not parsed."""
    folder, written = _written(tmp_path, monkeypatch)
    path = folder / manifest.MANIFEST_FILE
    builds: list[list[manifest.Entry]] = [
        [Release(2, 20), CardEntry("a1", CardKind.CLOZE, "alpha", "h9", 20, 1, 2, (1,))],
        [Release(3, 30), CardEntry("a0", CardKind.BASIC, "beta", "new", 30, 3, 3)],
        [manifest.DeckEntry("beta", "02 Beta", 30)],
    ]
    monkeypatch.setattr(manifest, "_parse_lines", _no_parse)
    first = cache.dumps(written, manifest._RECORDS)
    for number, entries in enumerate(builds):
        read = manifest.read(folder)
        assert read.text is not None
        assert read.text.stored == first, "the entry starts from the first build's pickle"
        assert read == written, number
        written = manifest.with_entries(read, entries)
        data = written.dumps().encode()
        path.write_bytes(data)
        manifest.wrote(path, data, written)
        manifest._LAST_READ.clear()
        entry = next((tmp_path / "cache" / manifest.STORED).iterdir()).read_bytes()
        assert first in entry, "the pickle as it was"
    again = manifest.read(folder)
    assert again == written
    assert again.cards["a1"].hash == "h9"
    assert again.cards["a0"].lesson == "beta"
    assert again.dumps() == written.dumps() == path.read_text("utf-8")
    monkeypatch.setattr(manifest, "SINCE_MAX", 0)  # too many changes: all of it pickled again
    made = manifest.with_entries(again, [Release(4, 40)])
    path.write_bytes(made.dumps().encode())
    manifest.wrote(path, made.dumps().encode(), made)
    manifest._LAST_READ.clear()
    assert manifest.read(folder) == made
    assert first not in next((tmp_path / "cache" / manifest.STORED).iterdir()).read_bytes()
