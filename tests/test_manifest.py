"""The manifest (`lessons/<lang>/manifest.jsonl`): every corruption is a `path:line` error, merges
of two branches go through git with the shipped `.gitattributes`, duplicates keep the newest."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from course import manifest, updates
from course.cli import main
from course.manifest import CardEntry, Manifest, Release
from course.model import CardKind, CourseError

ROOT = Path(__file__).resolve().parent.parent

LESSON = """---
id: alpha
title: Podstawy
lang: pl
order: 1
---

## Sekcja

{cards}
"""
GOOD_CARD = '{"card": "a1", "kind": "basic", "lesson": "alpha", "hash": "h", "mod": 5, "added": 1, "changed": 1}'

# name: (manifest text, line, message start)
CORRUPTIONS = {
    "not JSON": ("{not json\n", 1, "not a JSON line"),
    "a list, not an object": ('[{"card": "a1"}]\n', 1, "expected a JSON object"),
    "no record type": ('{"mod": 5}\n', 1, "expected exactly one of"),
    "two record types": ('{"card": "a1", "deck": "x"}\n', 1, "expected exactly one of"),
    "card without mod": (
        GOOD_CARD.replace(', "mod": 5', "") + "\n",
        1,
        "card entry without 'mod'",
    ),
    "mod as text": (GOOD_CARD.replace('"mod": 5', '"mod": "5"') + "\n", 1, "'mod' must be a whole"),
    "negative time": (
        GOOD_CARD.replace('"mod": 5', '"mod": -5') + "\n",
        1,
        "'mod' must be a whole",
    ),
    "unknown kind": (GOOD_CARD.replace('"basic"', '"fancy"') + "\n", 1, "'kind' must be 'basic'"),
    "kind as a list": (GOOD_CARD.replace('"basic"', '["basic"]') + "\n", 1, "'kind' must be"),
    "unknown key": (GOOD_CARD[:-1] + ', "colour": "red"}\n', 1, "unknown key 'colour'"),
    "bad clozes": (GOOD_CARD[:-1] + ', "clozes": [0]}\n', 1, "'clozes' must be a list"),
    "bad earlier lessons": (
        GOOD_CARD[:-1] + ', "earlier": "alpha"}\n',
        1,
        "'earlier' must be a list of lesson IDs",
    ),
    "earlier lessons that are not all IDs": (
        GOOD_CARD[:-1] + ', "earlier": ["alpha", 3]}\n',
        1,
        "'earlier' must be a list of lesson IDs",
    ),
    "bad cloze hashes": (
        GOOD_CARD[:-1] + ', "cloze_hashes": ["0a1b2c3d", null]}\n',
        1,
        "'cloze_hashes' must be a list of hashes",
    ),
    "release without time": ('{"release": 1, "time": 9}\n\n{"release": 2}\n', 3, "release entry"),
    "a conflict marker left by a merge": (
        f"{GOOD_CARD}\n<<<<<<< HEAD\n",
        2,
        "not a JSON line",
    ),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_every_corruption_is_a_path_line_error_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    text, line, message = CORRUPTIONS[name]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lessons" / "pl").mkdir(parents=True)
    (tmp_path / "lessons" / "pl" / "alpha.md").write_text(
        LESSON.format(cards="Pytanie?::Odpowiedź. <!-- id: a1 -->"), "utf-8"
    )
    (tmp_path / "lessons" / "pl" / "manifest.jsonl").write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(f"lessons/pl/manifest.jsonl:{line}: {message}"), result.output
    assert "Traceback" not in result.output
    assert "nothing was written" in result.output
    assert not (tmp_path / "decks").exists()
    assert not (tmp_path / "site").exists()
    assert (tmp_path / "lessons" / "pl" / "manifest.jsonl").read_text("utf-8") == text


def test_every_bad_line_is_listed_in_one_run(tmp_path: Path) -> None:
    path = tmp_path / manifest.MANIFEST_FILE
    path.write_text(f"{{oops\n{GOOD_CARD}\n[]\n", "utf-8")
    with pytest.raises(CourseError) as caught:
        manifest.read(tmp_path)
    assert [p.loc.line for p in caught.value.problems] == [1, 3]


def test_round_trip_keeps_every_field() -> None:
    entries: list[manifest.Entry] = [
        Release(2, 20),
        CardEntry("a1", CardKind.CLOZE, "alpha", "h", 5, 1, 2, (1, 3), 0, "src"),
        CardEntry("a2", CardKind.REVERSED, "", "h2", 6, 1, 1, (), 2),
        CardEntry("a3", CardKind.BASIC, "beta", "h3", 7, 1, 3, earlier=("", "alpha", "Ω")),
    ]
    text = Manifest.of(entries).dumps()
    again = Manifest.of(manifest.parse_line(json.loads(x)) for x in text.splitlines())
    assert again.dumps() == text
    assert again.cards["a1"].source == "src"
    assert again.cards["a2"].retired == 2
    assert again.cards["a3"].earlier == ("", "alpha", "Ω")


def test_duplicate_keys_after_a_merge_keep_the_newest(tmp_path: Path) -> None:
    older = GOOD_CARD
    newer = GOOD_CARD.replace('"hash": "h", "mod": 5', '"hash": "h2", "mod": 9')
    (tmp_path / manifest.MANIFEST_FILE).write_text(f"{newer}\n{older}\n", "utf-8")
    assert manifest.read(tmp_path).cards["a1"].hash == "h2"
    (tmp_path / manifest.MANIFEST_FILE).write_text(f"{older}\n{newer}\n", "utf-8")
    assert manifest.read(tmp_path).cards["a1"].hash == "h2"


def test_a_manifest_is_parsed_once_until_its_text_changes(tmp_path: Path) -> None:
    path = tmp_path / manifest.MANIFEST_FILE
    path.write_text(f"{GOOD_CARD}\n", "utf-8")
    first = manifest.read(tmp_path)
    assert manifest.read(tmp_path) is first, "the translations check and the plan share it"
    path.write_text(GOOD_CARD.replace('"mod": 5', '"mod": 6') + "\n", "utf-8")
    assert manifest.read(tmp_path).cards["a1"].mod == 6, "same size, same second: read again"
    path.write_text(f"{GOOD_CARD}\n{{oops\n", "utf-8")
    with pytest.raises(CourseError):
        manifest.read(tmp_path)


@pytest.mark.parametrize(
    ("low", "high", "label"),
    [
        (None, None, "1"),
        ("1", None, "2"),
        ("1", "2", "1.5"),
        ("1", "4", "2"),
        (None, "1", "0.5"),
        ("1.5", "2", "1.7"),
        ("1", "1.5", "1.2"),
        ("1.9", "2", "1.95"),
    ],
)
def test_a_new_deck_label_sorts_between_its_neighbours(
    low: str | None, high: str | None, label: str
) -> None:
    got = updates._between(Decimal(low) if low else None, Decimal(high) if high else None)
    assert got == Decimal(label)
    name = f"{updates._format(got, 2)} X"
    if low:
        assert f"{updates._format(Decimal(low), 2)} A" < name
    if high:
        assert name < f"{updates._format(Decimal(high), 2)} A"


NEW_NAMES: dict[str, tuple[list[str | None], list[str]]] = {
    # name: (published names in lesson order, None for a new lesson; the new names chosen)
    "first publication": ([None, None], ["01", "02"]),
    "inserted": (["01", None, "02"], ["01.5"]),
    "before the first": ([None, "01"], ["00.5"]),
    "after 99": (["98", "99", None, None], ["99.5", "99.7"]),
    "between 99 and 99.5": (["99", None, "99.5"], ["99.2"]),
    "after 100 published with two digits": (["10", "100", None, "11"], ["100.5"]),
    "after 10, before a published 100": (["10", None, "100"], ["10.5"]),
    "three digits": (["009", None, "010"], ["009.5"]),
    "after 999": (["999", None], ["999.5"]),
}


@pytest.mark.parametrize("name", sorted(NEW_NAMES))
def test_a_new_lesson_deck_sorts_as_text_after_the_lesson_before_it(name: str) -> None:
    published, new = NEW_NAMES[name]
    lessons = [(f"l{i}", "T") for i in range(len(published))]
    names = {f"l{i}": f"{label} T" for i, label in enumerate(published) if label is not None}
    chosen = updates.lesson_names(lessons, names, names.values())
    assert [chosen[f"l{i}"] for i, label in enumerate(published) if label is None] == [
        f"{label} T" for label in new
    ]


@pytest.mark.parametrize(("lessons", "first", "last"), [(9, "01", "09"), (120, "001", "120")])
def test_a_first_publication_pads_to_the_lesson_count(lessons: int, first: str, last: str) -> None:
    chosen = updates.lesson_names([(f"l{i}", "T") for i in range(lessons)], {}, ())
    names = list(chosen.values())
    assert (names[0], names[-1]) == (f"{first} T", f"{last} T")
    assert sorted(names, key=updates.anki_order) == names


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.org",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@example.org",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def build_in(repo: Path, epoch: str) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "build", "--no-site", "--no-scorm"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_two_branches_adding_adjacent_cards_merge_cleanly(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "lessons" / "pl").mkdir(parents=True)
    shutil.copy(ROOT / ".gitattributes", repo / ".gitattributes")
    (repo / ".gitignore").write_text("/decks/\n", "utf-8")
    lesson = repo / "lessons" / "pl" / "alpha.md"
    base = ["Pierwsze?::Jeden. <!-- id: a1 -->", "Ostatnie?::Trzy. <!-- id: a9 -->"]
    lesson.write_text(LESSON.format(cards="\n\n".join(base)), "utf-8")
    git(repo, "init", "-q", "-b", "main")
    build_in(repo, "1700000000")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release 1")

    git(repo, "checkout", "-qb", "left")
    lesson.write_text(
        LESSON.format(cards="\n\n".join([base[0], "Lewe?::L. <!-- id: a4 -->", base[1]])), "utf-8"
    )
    build_in(repo, "1700000100")
    git(repo, "commit", "-qam", "left card")

    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "right")
    lesson.write_text(
        LESSON.format(cards="\n\n".join([base[0], base[1], "Prawe?::P. <!-- id: a5 -->"])), "utf-8"
    )
    build_in(repo, "1700000200")
    git(repo, "commit", "-qam", "right card")

    git(repo, "checkout", "-q", "left")
    git(repo, "merge", "-q", "--no-edit", "right")  # the lesson merges; the manifest by union
    merged = manifest.read(repo / "lessons" / "pl")
    assert {"a1", "a4", "a5", "a9"} <= set(merged.cards)
    assert merged.cards["a4"].mod == 1700000100
    assert merged.cards["a5"].mod == 1700000200
    assert merged.last_release == Release(2, 1700000200), "two release 2 lines: the newest wins"
    build_in(repo, "1700000300")
    text = (repo / "lessons" / "pl" / manifest.MANIFEST_FILE).read_text("utf-8")
    assert text == manifest.read(repo / "lessons" / "pl").dumps(), "sorted again, one per key"
    assert git(repo, "status", "--porcelain") in ("", " M lessons/pl/manifest.jsonl\n")


def test_the_terminal_report_names_a_few_cards_and_the_markdown_all() -> None:
    items = tuple(updates.Item(f"c{n:03d}", f"lessons/el/01.md:{n}") for n in range(1, 31))
    report = updates.Report("el", 1, False, added=items)
    line = report.text().splitlines()[1]
    assert line.count("lessons/el/01.md:") == updates.TERMINAL_ITEMS
    assert line.endswith(f"and {30 - updates.TERMINAL_ITEMS} more (--report FILE lists all)")
    assert report.markdown().count("lessons/el/01.md:") == 30
    few = updates.Report("el", 1, False, added=items[:3])
    assert "more" not in few.text()
    exactly = updates.Report("el", 1, False, added=items[: updates.TERMINAL_ITEMS])
    assert "more" not in exactly.text()


# -- the fast reader and writer against the plain `json` ones -------------------------------------

TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
COUNT = st.integers(min_value=0, max_value=2**53)
ENTRIES = st.one_of(
    st.builds(Release, COUNT, COUNT),
    st.builds(manifest.NoteTypeEntry, TEXT, TEXT, COUNT),
    st.builds(manifest.DeckEntry, TEXT, TEXT, COUNT, TEXT, TEXT),
    st.builds(
        CardEntry,
        TEXT,
        st.sampled_from(CardKind),
        TEXT,
        TEXT,
        COUNT,
        COUNT,
        COUNT,
        st.lists(st.integers(1, 500), max_size=4).map(tuple),
        COUNT,
        TEXT,
        TEXT,
        st.lists(TEXT, max_size=3).map(tuple),
    ),
)
PROPERTIES = settings(derandomize=True, database=None, deadline=None, max_examples=300)


def plain_line(entry: manifest.Entry) -> str:
    """The line as `json.dumps` writes the entry's non-default fields (the writer it replaced)."""
    obj: dict[str, object] = {}
    for f in dataclasses.fields(entry):
        value = getattr(entry, f.name)
        if f.default is not dataclasses.MISSING and value == f.default:
            continue
        obj[f.name] = value.value if isinstance(value, CardKind) else (
            list(value) if isinstance(value, tuple) else value
        )  # fmt: skip
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


@PROPERTIES
@given(ENTRIES)
def test_a_line_is_what_json_dumps_writes_and_reads_back(entry: manifest.Entry) -> None:
    line = manifest.to_line(entry)
    assert line == plain_line(entry)
    assert manifest.parse_line(json.loads(line)) == entry


def plain_parse(obj: dict[str, object]) -> manifest.Entry:
    """The checks one at a time, in their order: the reader's first message names the problem."""
    [kind] = [key for key in ("release", "note_type", "deck", "card") if key in obj]
    record = next(r for r in (Release, manifest.NoteTypeEntry, manifest.DeckEntry, CardEntry)
                  if dataclasses.fields(r)[0].name == kind)  # fmt: skip
    names = [f.name for f in dataclasses.fields(record)]
    unknown = sorted(set(obj) - set(names))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (written by a newer version?)")
    for f in dataclasses.fields(record):
        if f.name not in obj and f.default is dataclasses.MISSING:
            raise ValueError(f"{kind} entry without {f.name!r}")
        if f.name in obj:
            try:
                manifest._FIELDS[record][f.name](obj[f.name])
            except ValueError as exc:
                raise ValueError(f"{f.name!r} must be {exc}") from None
    return manifest.parse_line(obj)


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), TEXT, st.lists(st.integers(-1, 3)))


@PROPERTIES
@given(ENTRIES, st.data())
def test_a_spoilt_line_gets_the_message_of_its_first_problem(
    entry: manifest.Entry, data: st.DataObject
) -> None:
    obj = json.loads(manifest.to_line(entry))
    names = [f.name for f in dataclasses.fields(entry)]
    for name in data.draw(st.lists(st.sampled_from([*names[1:], "colour"]), max_size=3)):
        if data.draw(st.booleans()):
            obj.pop(name, None)
        else:
            obj[name] = data.draw(JUNK)
    try:
        expected: object = plain_parse(obj)
    except ValueError as exc:
        expected = str(exc)
    try:
        got: object = manifest.parse_line(obj)
    except ValueError as exc:
        got = str(exc)
    assert got == expected


@PROPERTIES
@given(
    st.one_of(ENTRIES.map(manifest.to_line), TEXT),
    st.text(" \t\r\x0b\xa0", min_size=1, max_size=3),
    st.booleans(),
)
def test_lines_decode_as_json_loads_decodes_them(line: str, space: str, before: bool) -> None:
    for text in (line, space + line if before else line + space):
        try:
            expected: object = json.loads(text)
        except json.JSONDecodeError as exc:
            expected = (exc.msg, exc.pos)
        try:
            got: object = manifest._decode(text)
        except json.JSONDecodeError as exc:
            got = (exc.msg, exc.pos)
        assert got == expected


# -- a lost manifest ------------------------------------------------------------------------------

LOST = "lessons/pl/manifest.jsonl: no manifest, but decks of this language were published ("
"""How the error about a published language's lost manifest starts (`updates.lost_manifest`)."""


def project(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-lesson Polish course in `folder`, the working directory (paths print relative)."""
    monkeypatch.chdir(folder)
    (folder / "lessons" / "pl").mkdir(parents=True)
    (folder / "lessons" / "course.yml").write_text("id: demo\ntitle: Demo\n", "utf-8")
    (folder / "lessons" / "pl" / "alpha.md").write_text(
        LESSON.format(cards="Pytanie?::Odpowiedź. <!-- id: a1 -->"), "utf-8"
    )
    return folder / "lessons" / "pl" / manifest.MANIFEST_FILE


def cli(*args: str) -> str:
    """`args` run through the command line: "exit N" and what it printed (a warning first)."""
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    return f"exit {result.exit_code}\n{result.output}"


def ok(out: str, text: str = "") -> bool:
    return out.startswith("exit 0\n") and text in out


def every_file(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".course-cache" not in p.parts
    }


@pytest.mark.parametrize("kept", ["decks", "site/decks"])
def test_a_lost_manifest_of_published_decks_is_an_error_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: str
) -> None:
    """QA3's rough edge 8: the deck (or the site's copy of it) a release wrote says learners
    have the decks: without the manifest, the build would give them a first edition over their
    cards. `check` and `build` refuse it alike; `--new-edition` is the deliberate way on."""
    path = project(tmp_path, monkeypatch)
    assert ok(cli("build", "--no-scorm"), "pl: release 1: 1 card added")
    path.unlink()
    shutil.rmtree(tmp_path / ("site" if kept == "decks" else "decks"))  # (the other one)
    before = every_file(tmp_path)
    for command in (["check"], ["build", "--no-scorm"], ["build", "--no-scorm", "--draft"]):
        out = cli(*command)
        assert out.startswith(f"exit 1\n{LOST}{kept}/demo-pl.apkg exists). "), out
        for phrase in (
            "every card reported as added",
            "stamped with this build's time",
            "new deck (the lesson split in two)",
            "conflicting note",
            "git log --oneline -- lessons/pl/manifest.jsonl; "
            "git checkout <commit> -- lessons/pl/manifest.jsonl",
            "build with --new-edition",
            "1 error; nothing was written.",
        ):
            assert phrase in out, out
        assert every_file(tmp_path) == before
    assert ok(cli("check", "--new-edition"), "pl: 1 lesson, 1 card: ok")
    out = cli("build", "--no-scorm", "--new-edition")
    assert ok(out, "pl: release 1: 1 card added"), out
    assert manifest.read(path.parent).last_release is not None
    assert ok(cli("check"))


def test_a_brand_new_language_builds_and_warns_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing says it was published (no deck, no site, not in git): the first build starts it
    and records its manifest, with a warning naming the way back should it have been."""
    path = project(tmp_path, monkeypatch)
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "other-pl.apkg").write_bytes(b"another course's deck")
    assert ok(cli("check"))
    out = cli("build", "--no-scorm")
    assert ok(out, "pl: release 1: 1 card added"), out
    assert "lessons/pl/manifest.jsonl: no manifest: this build starts a first edition" in out
    assert "git checkout <commit> -- lessons/pl/manifest.jsonl" in out
    assert path.exists()


def test_a_draft_deck_is_no_sign_of_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A draft (`build --draft`, `watch`) writes its deck under a name and in a folder of its
    own (`places.Names`): a new language's first release after drafts is no error, though a
    draft of a published language whose manifest is lost is one (it looks in the release's
    folders, not its own)."""
    path = project(tmp_path, monkeypatch)
    for _ in range(2):
        assert ok(cli("build", "--no-site", "--no-scorm", "--draft"))
        assert not path.exists()
    assert (tmp_path / "decks-draft" / "demo-pl-draft.apkg").is_file()
    assert not (tmp_path / "decks").exists()
    assert ok(cli("check"))
    assert ok(cli("build", "--no-site", "--no-scorm"), "pl: release 1")
    path.unlink()
    out = cli("build", "--no-site", "--no-scorm", "--draft")
    assert out.startswith(f"exit 1\n{LOST}decks/demo-pl.apkg exists). "), out


def test_a_manifest_in_gits_history_is_a_sign_of_publication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh checkout has no decks: a manifest that git's history holds (a release wrote it)
    says learners have the decks, whichever branch has it; git's commit is named. Without git
    on the PATH, or outside a repository, nothing is said."""
    path = project(tmp_path, monkeypatch)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "lessons")
    assert ok(cli("build", "--no-decks", "--no-site", "--no-scorm"))
    assert not path.exists(), "a build without decks records no release"
    assert ok(cli("build", "--no-site", "--no-scorm"))
    git(tmp_path, "checkout", "-qb", "release")
    git(tmp_path, "add", str(path))
    git(tmp_path, "commit", "-qm", "release 1")
    commit = git(tmp_path, "rev-parse", "--short", "HEAD").strip()
    git(tmp_path, "checkout", "-q", "main")
    shutil.rmtree(tmp_path / "decks")
    assert not path.exists()
    out = cli("build", "--no-site", "--no-scorm")
    assert out.startswith(f"exit 1\n{LOST}git's history has it, commit {commit}). "), out
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert ok(cli("check"))
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    shutil.rmtree(tmp_path / ".git")
    asked: list[object] = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kw: asked.append(args))
    assert ok(cli("check"))
    assert not asked, "outside a repository, git is not asked"
