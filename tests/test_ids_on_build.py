"""IDs on build: `build` gives new cards their IDs in place and builds them; a second build changes
nothing; `check` writes nothing; `--frozen` turns a missing ID into an error; an unwritable lesson
is a `path: message` error with nothing written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from course import files
from course.cache import ENV as CACHE_ENV
from course.cache import Store, reading_only
from course.cli import main
from course.ids import add_missing_ids
from course.lessons import load_library

FRONT = "---\nid: {id}\ntitle: T\nlang: el\norder: {order}\n---\n\n"
FRESH = (
    "## Section\n\n"
    "What is empathy?::Understanding how the customer feels.\n\n"
    "Active listening means ==full attention==.\n"
    "> Why it matters.\n\n"
    "Which three things?\n?\n- one\n- two ^block-1\n"
)
ADDED = re.compile(rb" <!-- id: [2-9a-z]{8} -->")


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one lesson of fresh cards (LF) and one with BOM and CRLF line endings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    (tmp_path / "lessons" / "el").mkdir(parents=True)
    (tmp_path / "lessons" / "el" / "01-x.md").write_text(
        FRONT.format(id="first", order=1) + FRESH, encoding="utf-8"
    )
    crlf = "\ufeff" + (FRONT.format(id="second", order=2) + "Q?::A\n\nQ2?:::A2").replace(
        "\n", "\r\n"
    )
    (tmp_path / "lessons" / "el" / "02-y.md").write_bytes(crlf.encode("utf-8"))
    return tmp_path


def test_build_gives_new_cards_ids_and_builds_every_one(project: Path) -> None:
    before = {p.name: p.read_bytes() for p in (project / "lessons" / "el").glob("*.md")}
    result = CliRunner().invoke(main, ["build", "--no-site"])
    assert result.exit_code == 0, result.output
    assert "lessons/el/01-x.md: 3 card IDs added; commit them" in result.output
    assert "lessons/el/02-y.md: 2 card IDs added; commit them" in result.output
    assert "el: 2 lessons, 5 notes, 6 cards" in result.output
    assert "card has no ID" not in result.output
    for name, original in before.items():
        updated = (project / "lessons" / "el" / name).read_bytes()
        assert len(ADDED.findall(updated)) == (3 if name == "01-x.md" else 2)
        assert ADDED.sub(b"", updated) == original, "no other byte changed (BOM, CRLF kept)"
    first = (project / "lessons" / "el" / "01-x.md").read_text(encoding="utf-8")
    assert re.search(r"- two <!-- id: \w{8} --> \^block-1\n", first), "before the block ID"
    assert re.search(r"==full attention==\. <!-- id: \w{8} -->\n> Why", first)


def test_second_build_rewrites_nothing_and_gives_identical_decks(project: Path) -> None:
    assert CliRunner().invoke(main, ["build", "--no-site"]).exit_code == 0
    first = snapshot(project)
    again = CliRunner().invoke(main, ["build", "--no-site"])
    assert again.exit_code == 0, again.output
    assert "added" not in again.output
    second = snapshot(project)
    assert second.keys() == first.keys()
    for name, (data, mtime) in first.items():
        assert second[name][0] == data, f"{name} changed"
        if not name.startswith(("decks/", "scorm/")):  # written again, byte for byte the same
            assert second[name][1] == mtime, f"{name} rewritten"


def test_build_without_a_command_gives_ids_too(project: Path) -> None:
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0, result.output
    assert "3 card IDs added; commit them" in result.output
    assert (project / "site" / "index.html").is_file()


def test_an_id_spelled_in_capitals_gets_no_second_one(project: Path) -> None:
    lesson = project / "lessons" / "el" / "01-x.md"
    spelled = (
        FRONT.format(id="first", order=1) + "Q::A <!--ID:Cap1-->\n\nQ2\n?\nA2 <!-- Id : c2 -->\n"
    )
    lesson.write_text(spelled, encoding="utf-8")
    (project / "lessons" / "el" / "02-y.md").unlink()
    result = CliRunner().invoke(main, ["ids"])
    assert result.exit_code == 0, result.output
    assert "added" not in result.output
    assert lesson.read_text(encoding="utf-8") == spelled


PLACES = {
    # an answer's last line that cannot carry a comment: the ID goes on the line above it
    "fenced answer": ("Q\n?\n```py\nx = 1\n```\n", "Q@\n?\n```py\nx = 1\n```\n"),
    "fenced reversed": ("Q\n??\n~~~\nx\n~~~\n", "Q@\n??\n~~~\nx\n~~~\n"),
    "text, then a fence": ("Q\n?\nSee:\n```\nx\n```\n", "Q\n?\nSee:@\n```\nx\n```\n"),
    "setext heading": ("Q\n?\nTitle\n---\n", "Q\n?\nTitle@\n---\n"),
    "table, no body": ("Q\n?\n| a | b |\n|---|---|\n", "Q@\n?\n| a | b |\n|---|---|\n"),
    "table row": ("Q\n?\n| a |\n|---|\n| 1 |\n", "Q\n?\n| a |\n|---|\n| 1 |@\n"),
    "math block": ("Q\n?\n$$\nx^2\n$$\n", "Q\n?\n$$\nx^2@\n$$\n"),
    "plain answer": ("Q\n?\nA\n", "Q\n?\nA@\n"),
    # an ID an older build wrote on the `?` line is read there: nothing moves, nothing is added
    "old ID on ?": ("Q\n? <!-- id: old1 -->\n```\nx\n```\n",) * 2,
}


@pytest.mark.parametrize("card", PLACES, ids=list(PLACES))
def test_an_id_goes_where_both_parsers_keep_the_card(project: Path, card: str) -> None:
    """The plugin sees a multi-line card only when its `?` line holds nothing else, and reads a
    comment line of its own as hiding the blank line after it (the card runs on): the ID goes at
    the end of the card's last line that a comment leaves as it is, and the card renders as it
    did."""
    source, want = PLACES[card]
    lesson = project / "lessons" / "el" / "01-x.md"
    lesson.write_text(FRONT.format(id="first", order=1) + source + "\nProse.\n", encoding="utf-8")
    (project / "lessons" / "el" / "02-y.md").unlink()
    before = load_library(project / "lessons").courses[0].cards
    add_missing_ids(load_library(project / "lessons"))
    written = lesson.read_text(encoding="utf-8").split("---\n\n", 1)[1]
    assert ADDED.sub(b"@", written.encode()).decode() == want + "\nProse.\n"
    after = load_library(project / "lessons").courses[0].cards
    assert [card.rendered for card in after] == [card.rendered for card in before]
    assert all(card.id for card in after)


def test_check_writes_nothing_and_warns(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing at all: not even the cache a build keeps beside the lessons (`.course-cache/`:
    the cache folder is not moved out of the project here), before a build or after one,
    when a lesson changed since (a parse the cache does not have)."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    before = snapshot(project)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "lessons/el/01-x.md:10: card has no ID: `build` gives it one" in result.output
    assert "5 warning(s)" in result.output
    assert snapshot(project) == before
    strict = CliRunner().invoke(main, ["check", "--strict"])
    assert strict.exit_code == 1
    assert snapshot(project) == before
    assert CliRunner().invoke(main, ["build", "--no-site"]).exit_code == 0
    lesson = project / "lessons" / "el" / "01-x.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nNew?::Card\n", encoding="utf-8")
    before = snapshot(project)
    assert (project / ".course-cache").is_dir()
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert snapshot(project) == before
    assert Store.writes  # (the build in this process after it stores again)


def test_the_cache_stores_again_after_reading_only_however_it_ends() -> None:
    seen = []

    def stop() -> None:
        with reading_only():
            seen.append(Store.writes)
            raise KeyError

    with pytest.raises(KeyError):
        stop()
    assert seen == [False]
    assert Store.writes


@pytest.mark.parametrize("command", ["check", "build"])
def test_frozen_makes_a_missing_id_an_error(project: Path, command: str) -> None:
    before = snapshot(project)
    result = CliRunner().invoke(main, [command, "--frozen"])
    assert result.exit_code == 1
    assert "lessons/el/01-x.md:10: card has no ID (--frozen)" in result.output
    assert "lessons/el/02-y.md:8: card has no ID (--frozen)" in result.output
    assert "nothing was written" in result.output
    assert snapshot(project) == before


def test_frozen_build_of_lessons_with_ids_builds(project: Path) -> None:
    assert CliRunner().invoke(main, ["ids"]).exit_code == 0
    result = CliRunner().invoke(main, ["build", "--frozen", "--no-site"])
    assert result.exit_code == 0, result.output
    assert "el: 2 lessons, 5 notes, 6 cards" in result.output


def test_unwritable_lesson_is_an_error_and_nothing_is_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = project / "lessons" / "el" / "02-y.md"
    os.chmod(locked, 0o444)  # what an author sees; as root the permission check is simulated
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode: Path(p) != Path("lessons/el/02-y.md") and real_access(p, mode),
    )
    before = snapshot(project)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith(
        "lessons/el/02-y.md: cannot write the file to add 2 card ID(s): permission denied"
    )
    assert snapshot(project) == before, "not even the writable lesson, no decks, no site"


def test_write_failure_is_a_message_not_a_traceback(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second lesson's temporary file cannot be written (a full disk): the first one's,
    written, goes; no lesson changes."""
    real = files.staged

    def refuse(path: Path, data: bytes) -> Path:
        if path.name == "02-y.md":
            raise OSError(28, "No space left on device")
        return real(path, data)

    before = snapshot(project)
    monkeypatch.setattr("course.ids.staged", refuse)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "lessons/el/02-y.md: cannot write card IDs: No space left on device" in result.output
    assert snapshot(project) == before


def test_a_lesson_whose_ids_cannot_be_written_changes_no_lesson(project: Path) -> None:
    """Every lesson's IDs are written to temporary files first: one that cannot be (here its
    name leaves no room for the temporary file's `.<name>.XXXXXXXX.tmp`, 255 bytes) stops the
    build before any lesson is replaced, and says why, naming it; no temporary file is left."""
    long = project / "lessons" / "el" / f"03-{'β' * 118}.md"  # 241 bytes
    long.write_text(FRONT.format(id="third", order=3) + "Q3?::A3\n", encoding="utf-8")
    before = snapshot(project)
    result = CliRunner().invoke(main, ["build", "--no-site"])
    assert result.exit_code == 1
    assert f"lessons/el/{long.name}: cannot write card IDs: its name is too long" in result.output
    assert "no lesson was changed" in result.output
    assert result.output.endswith("1 error; nothing was written.\n")
    assert snapshot(project) == before


def test_a_rename_that_fails_names_the_lessons_already_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All staged, the renames run; one failing (it cannot for want of room: here patched)
    names what was already replaced, and leaves no temporary file."""
    real = os.replace
    done: list[str] = []

    def second_fails(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if str(dst).endswith(".md") and done:
            raise OSError(5, "Input/output error")
        if str(dst).endswith(".md"):
            done.append(str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)  # (the module ids.py renames with)
    result = CliRunner().invoke(main, ["build", "--no-site"])
    assert result.exit_code == 1
    assert "cannot write card IDs: Input/output error; lessons/el/01-x.md: 3 card IDs added" in (
        result.output
    )
    assert not [p for p in (project / "lessons").rglob("*.tmp")]


def _drop_id(path: Path, line: str) -> str:
    """Remove the ID comment from the lesson's line that starts with `line`: its ID."""
    text = path.read_text("utf-8")
    match = re.search(rf"^{re.escape(line)}.*? <!-- id: (\w+) -->", text, re.MULTILINE)
    assert match is not None
    path.write_text(text.replace(f" <!-- id: {match.group(1)} -->", "", 1), "utf-8")
    return match.group(1)


def test_a_card_that_lost_its_id_comment_is_named_with_the_id_to_put_back(project: Path) -> None:
    """QA3 rough 7: a card whose ID comment an edit dropped would reach learners as a new card,
    without its history, beside the retired one: `ids` says so before it writes a new ID, and
    `build` (after giving it one) says which ID to put back."""
    assert CliRunner().invoke(main, ["build", "--no-site"]).exit_code == 0
    lesson = project / "lessons" / "el" / "01-x.md"
    lost = _drop_id(lesson, "What is empathy?")
    result = CliRunner().invoke(main, ["ids"])
    assert result.exit_code == 0, result.output
    warning = (
        f"lessons/el/01-x.md:10: this card has the content of card {lost}, which left the lessons "
        f"since the last release: if it is that card with its ID comment lost, write "
        f"`<!-- id: {lost} -->` in place of the ID it is given now"
    )
    assert warning in result.output
    assert result.output.index(warning) < result.output.index("1 card ID added")
    _drop_id(lesson, "What is empathy?")  # (the build gives it an ID too)
    result = CliRunner().invoke(main, ["build", "--no-site"])
    assert result.exit_code == 0, result.output
    new = re.search(r"cards added: (\w+) \(lessons/el/01-x.md:10\)", result.output)
    assert new is not None
    assert (
        f"lessons/el/01-x.md:10: card {new.group(1)} has the content of card {lost}, which this "
        f"build retires: if it is that card with its ID comment lost, write `<!-- id: {lost} -->` "
        f"in place of `<!-- id: {new.group(1)} -->` and build again"
    ) in result.output


def test_a_new_card_unlike_the_retired_one_is_no_lost_id(project: Path) -> None:
    assert CliRunner().invoke(main, ["build", "--no-site"]).exit_code == 0
    lesson = project / "lessons" / "el" / "01-x.md"
    _drop_id(lesson, "What is empathy?")
    edited = lesson.read_text("utf-8").replace("how the customer feels", "the customer")
    lesson.write_text(edited, "utf-8")
    for command in (["ids"], ["build", "--no-site"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
        assert "has the content of card" not in result.output
    assert "1 card added, 1 card retired" in result.output


MOVES = {
    # an ID comment on a line of its own under the card (an older writer's place): the plugin
    # runs the card on into the next paragraph; `ids` moves it to where it would write one
    "plain answer": ("Q\n?\nA\n<!-- id: m1 -->\n", "Q\n?\nA <!-- id: m1 -->\n"),
    "list, block ID": (
        "Q\n?\n- a\n- b ^blk\n<!-- id: m1 -->\n",
        "Q\n?\n- a\n- b <!-- id: m1 --> ^blk\n",
    ),
    "fenced answer": (
        "Q\n??\n```\nx\n```\n<!-- id: m1 -->\n",
        "Q <!-- id: m1 -->\n??\n```\nx\n```\n",
    ),
    "cloze": ("A ==b== c\n<!-- id: m1 -->\n", "A ==b== c <!-- id: m1 -->\n"),
    "explanation under it": ("Q\n?\nA\n<!--ID:m1-->\n> Why.\n", "Q\n?\nA <!--ID:m1-->\n> Why.\n"),
    "two comments": (
        "Q\n?\nA\n<!-- id: m1 --> <!-- n -->\n",
        "Q\n?\nA <!-- id: m1 --> <!-- n -->\n",
    ),
}
STAYS = {
    # elsewhere: not under the card's last line, or with text a move would show: left as it is
    "above the ? line": "Q\n<!-- id: m1 -->\n?\nA\n",
    "between answer lines": "Q\n?\nA\n<!-- id: m1 -->\nB\n",
    "text after it": "Q\n?\nA\n<!-- id: m1 --> hidden\n",
    "at the end of the last line": "Q\n?\nA <!-- id: m1 -->\n",
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("card", MOVES, ids=list(MOVES))
def test_an_id_on_a_line_of_its_own_moves_to_the_cards_last_line(
    project: Path, card: str, newline: str
) -> None:
    """`check` warns at the comment's line; `ids` moves the comment (no other byte changes, the
    line goes) and the card reads and renders as it did, with its ID, and no warning."""
    source, want = (text.replace("\n", newline) for text in MOVES[card])
    lesson = project / "lessons" / "el" / "01-x.md"
    front = FRONT.format(id="first", order=1).replace("\n", newline)
    lesson.write_bytes((front + source + f"{newline}Prose.{newline}").encode())
    (project / "lessons" / "el" / "02-y.md").unlink()
    check = CliRunner().invoke(main, ["check"])
    line = 8 + [row.startswith("<!--") for row in source.split(newline)].index(True)
    assert f"lessons/el/01-x.md:{line}: an ID comment on a line of its own" in check.output
    assert "(`build` or `python build.py ids` moves it) (warning)" in check.output
    before = load_library(project / "lessons").courses[0].cards
    result = CliRunner().invoke(main, ["ids"])
    assert "01-x.md: 1 moved to the end of the card's last line; commit them" in result.output
    assert lesson.read_bytes() == (front + want + f"{newline}Prose.{newline}").encode()
    after = load_library(project / "lessons").courses[0].cards
    assert [(c.id, c.rendered, c.source_hash) for c in after] == [
        (c.id, c.rendered, c.source_hash) for c in before
    ]
    assert [c.id_own_line for c in after] == [None]
    assert CliRunner().invoke(main, ["check", "--strict"]).exit_code == 0


@pytest.mark.parametrize("card", STAYS, ids=list(STAYS))
def test_an_id_comment_elsewhere_stays_where_it_is(project: Path, card: str) -> None:
    lesson = project / "lessons" / "el" / "01-x.md"
    text = FRONT.format(id="first", order=1) + STAYS[card] + "\nProse.\n"
    lesson.write_text(text, encoding="utf-8")
    (project / "lessons" / "el" / "02-y.md").unlink()
    assert [c.id_own_line for c in load_library(project / "lessons").courses[0].cards] == [None]
    assert "every card has an ID" in CliRunner().invoke(main, ["ids"]).output
    assert lesson.read_text(encoding="utf-8") == text


def test_build_moves_an_id_off_its_own_line_and_frozen_warns(project: Path) -> None:
    """`build` moves the comment as it gives IDs (said, then built from what it wrote); with
    --frozen it writes no lesson: a warning, which --strict makes an error."""
    lesson = project / "lessons" / "el" / "01-x.md"
    text = FRONT.format(id="first", order=1) + "Q\n?\nA\n<!-- id: m1 -->\n\nQ2::A2\n"
    lesson.write_text(text, encoding="utf-8")
    (project / "lessons" / "el" / "02-y.md").unlink()
    frozen = CliRunner().invoke(main, ["build", "--no-site", "--frozen"])
    assert frozen.exit_code == 1  # (the card without an ID)
    lesson.write_text(text.replace("Q2::A2", "Q2::A2 <!-- id: m2 -->"), encoding="utf-8")
    frozen = CliRunner().invoke(main, ["build", "--no-site", "--frozen"])
    assert frozen.exit_code == 0, frozen.output
    assert "lessons/el/01-x.md:11: an ID comment on a line of its own" in frozen.output
    assert "(--frozen: run `python build.py ids` and commit the result)" in frozen.output
    strict = CliRunner().invoke(main, ["build", "--no-site", "--frozen", "--strict"])
    assert strict.exit_code == 1
    assert "warning (--strict)" in strict.output or "(--strict)" in strict.output
    built = CliRunner().invoke(main, ["build", "--no-site", "--strict"])
    assert built.exit_code == 0, built.output
    assert "01-x.md: 1 moved to the end of the card's last line; commit them" in built.output
    assert "on a line of its own" not in built.output
    assert "A <!-- id: m1 -->\n\nQ2::A2" in lesson.read_text(encoding="utf-8")
    again = CliRunner().invoke(main, ["build", "--no-site"])
    assert "moved" not in again.output
