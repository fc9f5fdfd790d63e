"""A language whose inputs did not change is not decided again: its deck plan's outcome is kept in
the cache (`decided.py`). Whatever a build prints and writes with kept outcomes is byte for byte
what the same build prints and writes with none (the `plans` cache folder deleted before every
build), through releases, drafts, IDs given, retired cards, renamed decks and stale translations.

Nothing here is timed: the tests count what a build decided and compare what it printed and
wrote."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from spies import calls

from course import anki, cache, decided, ids, manifest, pipeline, translations
from course.cli import main
from course.lessons import load_library
from course.manifest import CardEntry, DeckEntry, Manifest, Release
from course.model import CardKind

BUNDLED = Path(__file__).parent.parent / "lessons"
ARGS = ["--lessons", "lessons", "--decks", "decks", "--site", "site", "--scorm", "scorm"]


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The language of every plan a build decided (a kept one is not decided)."""
    found: list[str] = []
    real = anki.prepare

    def counting(course: Any, *args: Any, **kwargs: Any) -> anki.DeckPlan:
        found.append(course.lang)
        return real(course, *args, **kwargs)

    monkeypatch.setattr(anki, "prepare", counting)
    return found


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


@pytest.fixture
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """New card IDs from a counter (`reset()` starts it again): two twins give the same IDs."""
    counter: list[Iterator[int]] = [itertools.count()]

    def new_id(taken: set[str]) -> str:
        while (candidate := f"zz{next(counter[0]):06d}") in taken:
            pass
        taken.add(candidate)
        return candidate

    monkeypatch.setattr(ids, "new_id", new_id)
    return lambda: counter.__setitem__(0, itertools.count())


def cli(folder: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)  # the same relative paths in both twins' messages
    result = CliRunner().invoke(main, ["build", *ARGS, *extra], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def tree(folder: Path) -> dict[str, bytes]:
    """Every file a build reads or writes (lessons, manifests, decks, site, zips)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".course-cache" not in p.parts and "cache" not in p.parts
    }


def edit(folder: Path, lang: str, name: str, old: str, new: str) -> None:
    path = next((folder / "lessons" / lang).glob(name))
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def first_answer(folder: Path, lang: str, name: str) -> str:
    path = next((folder / "lessons" / lang).glob(name))
    match = re.search(r"::(\S+)", path.read_text(encoding="utf-8"))
    assert match is not None
    return match.group(0)


STEPS: list[tuple[str, Callable[[Path], object], tuple[str, ...]]] = [
    ("cold build", lambda f: None, ()),
    ("nothing changed", lambda f: None, ()),
    (
        "an original's card edited: its translations go stale",
        lambda f: edit(f, "el", "01-six-skills.md", "εύκολα.", "εύκολα, πάντα."),
        (),
    ),
    ("nothing changed again", lambda f: None, ()),
    (
        "a draft of an edit",
        lambda f: edit(f, "pl", "02-six-skills.md", "::", "::Nowa "),
        ("--draft",),
    ),
    ("the edit released", lambda f: None, ()),
    (
        "a card without an ID: the build gives it one",
        lambda f: (f / "lessons" / "lv" / "05-career.md").write_text(
            (f / "lessons" / "lv" / "05-career.md").read_text("utf-8") + "\nJauns?::Jā.\n",
            "utf-8",
        ),
        (),
    ),
    ("a card retired", lambda f: _drop_last_card(f / "lessons" / "lv" / "05-career.md"), ()),
    (
        "a lesson retitled, decks renamed",
        lambda f: edit(f, "el", "02-career.md", "title: ", "title: Νέος τίτλος: "),
        ("--rename-decks",),
    ),
    ("frozen", lambda f: None, ("--frozen",)),
    ("a deck deleted", lambda f: next((f / "decks").glob("*-pl.apkg")).unlink(), ()),
    ("a manifest reordered by hand", lambda f: _reorder(f / "lessons" / "lv"), ()),
    ("the translations brought in line", lambda f: _touch_translations(f), ()),
    ("the last build again", lambda f: None, ()),
]


def _drop_last_card(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[max(i for i, line in enumerate(lines) if "::" in line and "<!-- id:" in line)]
    path.write_text("".join(lines), "utf-8")


def _reorder(folder: Path) -> None:
    path = folder / manifest.MANIFEST_FILE
    path.write_text("".join(reversed(path.read_text("utf-8").splitlines(True))), "utf-8")


def _touch_translations(folder: Path) -> None:
    for lang in ("pl", "lv"):
        path = folder / "lessons" / lang / "02-six-skills.md"
        if path.exists():
            path.write_text(path.read_text("utf-8") + "\nKrótko.\n", "utf-8")


def test_kept_outcomes_print_and_write_what_deciding_again_does(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    decisions: list[str],
    fixed_ids: Callable[[], None],
) -> None:
    """Two copies of the bundled course built step by step: one keeps outcomes between builds,
    the other has none (its cache's `plans` folder is deleted before each build)."""
    twins = {name: tmp_path / name for name in ("kept", "none")}
    for folder in twins.values():
        shutil.copytree(BUNDLED, folder / "lessons")
    decided_by: dict[str, int] = {}
    for what, change, extra in STEPS:
        seen: dict[str, object] = {}
        for name, folder in twins.items():
            monkeypatch.setenv(cache.ENV, str(folder / "cache"))
            if name == "none":
                shutil.rmtree(folder / "cache" / decided.KIND, ignore_errors=True)
            change(folder)
            fixed_ids()
            before = len(decisions)
            seen[name] = (cli(folder, monkeypatch, *extra), tree(folder))
            decided_by[name] = decided_by.get(name, 0) + len(decisions) - before
        assert seen["kept"] == seen["none"], what
    assert (tmp_path / "kept" / "cache" / decided.KIND).is_dir()
    assert decided_by["kept"] < decided_by["none"] - 5, decided_by


def test_an_edited_card_decides_only_its_language(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decisions: list[str]
) -> None:
    """The cold build's replay keeps every language's outcome; editing a card of one language
    decides that one again, and what the build wrote is what a cold build writes."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    folder = sample.parent
    assert cli(folder, monkeypatch)[0] == 0
    assert sorted(decisions) == ["el", "lv", "pl"]
    lesson = sample / "el" / "01-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("Η *καλή* επικοινωνία.", "Η *σαφής* επικοινωνία."), "utf-8")
    decisions.clear()
    code, printed, _ = cli(folder, monkeypatch)
    assert code == 0
    assert "el: release 2" in printed
    assert decisions == ["el"]
    decisions.clear()
    (tmp_path / "cache" / "last-build.json").unlink()  # a real build, not a replay
    assert cli(folder, monkeypatch)[1] == printed.replace(
        printed[printed.index("el: release 2") : printed.index("lv:")],
        "el: nothing changes for learners\n",
    )
    assert decisions == [], "the release's replay kept the edited language's outcome too"
    built = tree(folder)
    twin = tmp_path / "cold"
    shutil.copytree(sample, twin / "lessons")
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cold-cache"))
    cli(twin, monkeypatch)
    assert tree(twin) == built


def test_a_kept_outcome_is_decided_again_when_an_input_changes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decisions: list[str]
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    folder = sample.parent
    cli(folder, monkeypatch)
    (tmp_path / "cache" / "last-build.json").unlink()

    def decided_on_build(*extra: str) -> list[str]:
        decisions.clear()
        (tmp_path / "cache" / "last-build.json").unlink(missing_ok=True)
        assert cli(folder, monkeypatch, *extra)[0] == 0
        return sorted(decisions)

    assert decided_on_build() == []
    assert decided_on_build("--rename-decks") == ["el", "lv", "pl"]  # another option
    assert decided_on_build("--draft") == ["el", "lv", "pl"]
    # One outcome is kept per language: the last options' (a draft keeps none).
    assert decided_on_build() == ["el", "lv", "pl"]
    assert decided_on_build() == []
    path = sample / "lv" / manifest.MANIFEST_FILE
    path.write_bytes(path.read_bytes() + b"\n")  # the manifest's bytes
    assert decided_on_build() == ["lv"]
    (sample / "pl" / "course.yml").write_text(
        (sample / "pl" / "course.yml").read_text("utf-8").replace("title: ", "title: Nowy "),
        "utf-8",
    )  # the course's settings
    assert "pl" in decided_on_build()
    for entry in (tmp_path / "cache" / decided.KIND).iterdir():
        entry.write_bytes(entry.read_bytes()[:-3] + b"xyz")  # damaged: decided again
    assert decided_on_build() == ["el", "lv", "pl"]
    shutil.rmtree(tmp_path / "cache" / decided.KIND)
    assert decided_on_build() == ["el", "lv", "pl"]
    assert decided_on_build() == []


def test_a_one_edit_rebuild_parses_one_manifest_and_works_out_links_once(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edited language's manifest is parsed before its plan, and the one the build writes is
    not parsed again when read back; the translations' links are worked out once."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    folder = sample.parent
    cli(folder, monkeypatch)
    lesson = sample / "el" / "01-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("Η *καλή* επικοινωνία.", "Η *σαφής* επικοινωνία."), "utf-8")
    parsed = calls(monkeypatch, manifest, "_parse_lines", lambda text, shown: shown)
    worked_out = calls(monkeypatch, translations, "_links")
    manifest._LAST_READ.clear()
    shutil.rmtree(tmp_path / "cache" / manifest.STORED)  # else read unparsed: test_manifest_store
    assert cli(folder, monkeypatch)[0] == 0
    assert [p.parent.name for p in parsed] == ["el"]
    assert len(worked_out) == 1


# -- a manifest written, read back ----------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
COUNT = st.integers(min_value=0, max_value=2**53)
ENTRIES = st.lists(
    st.one_of(
        st.builds(Release, COUNT, COUNT),
        st.builds(DeckEntry, TEXT, TEXT, COUNT, TEXT, TEXT),
        st.builds(
            CardEntry,
            TEXT,
            st.sampled_from(list(CardKind)),
            TEXT,
            TEXT,
            COUNT,
            COUNT,
            COUNT,
            st.lists(st.integers(1, 500), max_size=3).map(tuple),
            COUNT,
            TEXT,
            TEXT,
        ),
    ),
    max_size=6,
)


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(ENTRIES)
def test_a_written_manifest_reads_back_as_the_record_it_was_written_from(
    entries: list[manifest.Entry],
) -> None:
    """What `manifest.wrote` relies on: the parse of `dumps` is the manifest (U+2028 and U+0085,
    which the writer leaves as they are inside strings, included)."""
    written = Manifest.of(entries)
    text = written.dumps()
    assert manifest._parse_lines(text, Path("m")) == written


def test_a_line_separator_inside_a_name_survives_a_rebuild(tmp_path: Path) -> None:
    folder = tmp_path / "el"
    folder.mkdir()
    written = Manifest.of([DeckEntry("", "Μάθημα\u2028δύο\x85τρία", 5), Release(1, 5)])
    (folder / manifest.MANIFEST_FILE).write_text(written.dumps(), "utf-8")
    manifest._LAST_READ.clear()
    assert manifest.read(folder) == written


def test_a_kept_plan_builds_the_deck_again_when_it_was_deleted(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    out = tmp_path / "out"
    pipeline.build(load_library(sample), out / "decks", None)
    written = {p.name: p.read_bytes() for p in (out / "decks").iterdir()}
    again = pipeline.build(load_library(sample), out / "decks", None)  # keeps every outcome
    assert all(plan.deck is not None and plan.settled for plan in again.plans)
    deck = next((out / "decks").glob("*-pl.apkg"))
    deck.unlink()
    third = pipeline.build(load_library(sample), out / "decks", None)
    assert [plan.deck is None for plan in third.plans] == [True, True, True]
    assert third.rendered == (deck.resolve(),)
    assert {p.name: p.read_bytes() for p in (out / "decks").iterdir()} == written


def test_a_manifest_changed_after_a_build_that_left_it_is_decided_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`settled` takes the outcome of a language whose manifest the build left as it was only
    while the file is still the one it was decided against."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    out = tmp_path / "out"
    pipeline.build(load_library(sample), out / "decks", None)
    library = load_library(sample)
    result = pipeline.build(library, out / "decks", None)
    assert all(plan.settled for plan in result.plans)
    assert pipeline.settled(library, result, pipeline.BuildOptions()) is not None
    path = sample / "lv" / manifest.MANIFEST_FILE
    text = path.read_text(encoding="utf-8")
    path.write_text("".join(reversed(text.splitlines(keepends=True))), "utf-8")
    assert pipeline.settled(library, result, pipeline.BuildOptions()) is None
    path.write_text(text, "utf-8")
    assert pipeline.settled(library, result, pipeline.BuildOptions()) is not None


def test_a_note_changed_under_the_same_mod_time_renders_its_deck(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a manifest every note gets the build's time: an edited card then has the mod time
    it had, and only its content (the note's digest in the deck's inputs) tells the deck apart."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    out = tmp_path / "out"
    pipeline.build(load_library(sample), out / "decks", None, pipeline.BuildOptions(draft=True))
    lesson = sample / "el" / "01-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("Η *καλή* επικοινωνία.", "Η *σαφής* επικοινωνία."), "utf-8")
    again = pipeline.build(
        load_library(sample), out / "decks", None, pipeline.BuildOptions(draft=True)
    )
    deck = next((out / "decks").glob("*-el.apkg"))
    assert again.rendered == (deck.resolve(),)
    written = deck.read_bytes()
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cold-cache"))
    pipeline.build(load_library(sample), tmp_path / "cold", None, pipeline.BuildOptions(draft=True))
    assert (tmp_path / "cold" / deck.name).read_bytes() == written


def test_a_lesson_saved_while_a_build_runs_is_built_by_the_next_build(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An author saves a lesson after the build read it (an editor's autosave during a build):
    that build's deck and kept plan are the lesson as it was read, and must be recorded so; the
    next build decides and writes the lesson as saved, not the last build's as up to date."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    decks = tmp_path / "out" / "decks"
    pipeline.build(load_library(sample), decks, None)
    pipeline.build(load_library(sample), decks, None)  # every outcome kept
    library = load_library(sample)  # the build reads the lessons...
    edit(sample.parent, "pl", "01-traits.md", "Bo to z nim", "Bo właśnie z nim")  # ...then a save
    pipeline.build(library, decks, None)
    deck = next(decks.glob("*-pl.apkg")).resolve()
    result = pipeline.build(load_library(sample), decks, None)
    (pl,) = [plan for plan in result.plans if plan.course.lang == "pl"]
    assert pl.deck is not None  # decided again, not kept
    assert pl.outcome.report.release
    assert deck in result.rendered
