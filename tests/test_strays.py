"""Markdown files under the lessons folder that no build reads (strays.py): each one is a warning
naming it, from `check` and `build`, an error with `--strict`; hidden files, a folder's README,
images and the language folders not asked for are not named. A rebuild replayed from the last
build's record prints the warning again, and no more once the file is gone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from spies import calls

from course import pipeline
from course.cache import ENV as CACHE_ENV
from course.cli import main

LESSON = "---\nid: {id}\ntitle: T\nlang: {lang}\norder: 1\n---\n\n## S\n\nQ::A <!-- id: {id}1 -->\n"
COURSE = {
    "course.yml": "id: strays\n",
    "el/01.md": LESSON.format(id="a", lang="el"),
    "pl/01.md": LESSON.format(id="a", lang="pl"),
    "el/img/x.png": "png",
}
SUBFOLDER = "lessons are read from lessons/el/ itself, not its subfolders; move it there"
ROOT = "a lesson goes in a language folder; move it to lessons/<lang>/ as *.md"
NAME = "only names ending in '.md' (lower case) are lessons; rename it to {}.md"
NOT_LANG = "'{}' is not a language folder (a language code: el, pl, pt-BR); move it to "

# name -> (files added to COURSE, options, the warnings' "path: not built: ..." fragments)
CASES: dict[str, tuple[dict[str, str], list[str], list[str]]] = {
    "a note in a language folder's subfolder": (
        {"el/notes/a.md": "# a", "el/notes/deeper/b.md": "# b"},
        [],
        [f"lessons/el/notes/a.md: not built: {SUBFOLDER}", "lessons/el/notes/deeper/b.md:"],
    ),
    "names not in lower case, or not .md": (
        {"el/02.MD": "x", "el/03.Md": "x", "el/04.markdown": "x", "el/0.5.mkd": "x"},
        [],
        [
            f"lessons/el/0.5.mkd: not built: {NAME.format('0.5')}",
            f"lessons/el/02.MD: not built: {NAME.format('02')}",
            f"lessons/el/03.Md: not built: {NAME.format('03')}",
            f"lessons/el/04.markdown: not built: {NAME.format('04')}",
        ],
    ),
    "at the top of the lessons folder": (
        {"notes.md": "x", "Plan.MD": "x"},
        [],
        [f"lessons/Plan.MD: not built: {ROOT}", f"lessons/notes.md: not built: {ROOT}"],
    ),
    "in a folder that is not a language's": (
        {"English/01.md": "x", "EL/01.md": "x", "drafts/new/x.md": "x"},
        [],
        [
            f"lessons/EL/01.md: not built: {NOT_LANG.format('EL')}",
            f"lessons/English/01.md: not built: {NOT_LANG.format('English')}",
            "lessons/drafts/new/x.md: not built: 'drafts' is not a language folder",
        ],
    ),
    "hidden files and folders (Obsidian's, a trash, an editor's)": (
        {".obsidian/x.md": "x", "el/.trash/y.md": "x", "el/n/.z.md": "x", ".top.md": "x"},
        [],
        [],
    ),
    "a folder's own documentation, images and other files": (
        {
            "README.md": "x",
            "LICENSE.md": "x",
            "English/Readme.markdown": "x",
            "el/img/README.md": "x",
            "el/notes/a.txt": "x",
            "el/notes/b.png": "x",
        },
        [],
        [],
    ),
    "a language folder not asked for (--lang el)": (
        {"pl/notes/a.md": "x", "pl/B.MD": "x", "notes.md": "x"},
        ["--lang", "el"],
        [f"lessons/notes.md: not built: {ROOT}"],
    ),
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, the working directory (paths in messages are relative), holding a
    two-language course in `lessons/`, with a cache folder of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    write(tmp_path / "lessons", COURSE)
    return tmp_path


def run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def warnings(lines: list[str]) -> list[str]:
    """The files named as not built (a first build also warns that it has no manifest)."""
    return [
        line.removesuffix(" (warning)")
        for line in lines
        if line.endswith(" (warning)") and ": not built: " in line
    ]


def matches(got: list[str], expected: list[str]) -> bool:
    """Each line of `got` starts with its fragment of `expected`, in order."""
    return len(got) == len(expected) and all(map(str.startswith, got, expected))


@pytest.mark.parametrize("name", list(CASES))
def test_each_markdown_file_no_build_reads_is_named(project: Path, name: str) -> None:
    files, options, expected = CASES[name]
    write(project / "lessons", files)
    code, lines = run("check", *options)
    assert code == 0, lines
    assert matches(warnings(lines), expected), lines
    code, lines = run("build", *options)
    assert code == 0, lines
    assert matches(warnings(lines), expected), lines
    code, lines = run("check", "--strict", *options)
    assert code == (1 if expected else 0), lines


def test_strict_stops_the_build_and_writes_nothing(project: Path) -> None:
    write(project / "lessons", {"el/notes/a.md": "# a"})
    code, lines = run("build", "--strict")
    assert code == 1
    assert f"lessons/el/notes/a.md: not built: {SUBFOLDER}" in lines
    assert "1 warning (--strict); nothing was written." in lines
    assert not (project / "decks").exists()
    assert not (project / "site").exists()


def test_the_bundled_course_names_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh clone's lessons folder: not a warning."""
    lessons = Path(__file__).resolve().parent.parent / "lessons"
    monkeypatch.chdir(tmp_path)
    code, lines = run("check", "--strict", "--lessons", str(lessons))
    assert code == 0, lines


def test_the_cache_folder_inside_the_lessons_is_not_looked_into(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(project / "lessons" / "cache"))
    write(project / "lessons", {"cache/x.md": "x", "cache2/y.md": "x"})
    code, lines = run("build")
    assert code == 0, lines
    assert warnings(lines) == [
        "lessons/cache2/y.md: not built: 'cache2' is not a language folder (a language code: el, "
        "pl, pt-BR); move it to lessons/<lang>/ as *.md"
    ]


def test_a_link_to_a_folder_below_is_not_followed(project: Path) -> None:
    write(project / "lessons", {"el/notes/a.md": "x"})
    (project / "lessons" / "el" / "notes" / "loop").symlink_to(project / "lessons" / "el")
    (project / "lessons" / "el" / "elsewhere").symlink_to(project / "lessons" / "pl")
    code, lines = run("check")
    assert code == 0, lines
    assert matches(warnings(lines), ["lessons/el/notes/a.md: not built"]), lines


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every real build the command line runs (a replayed one runs none)."""
    return calls(monkeypatch, pipeline, "build")


def test_a_replayed_rebuild_names_the_file_until_it_is_gone(
    project: Path, builds: list[object]
) -> None:
    """The next build after a stray file comes is a real one (the replay's key covers every
    file of the lessons folder) and names it; a rebuild with nothing changed is replayed and
    names it again; once the file is moved into its language folder, no more."""
    run("build")
    settled = run("build")
    assert len(builds) == 1  # replayed
    assert warnings(settled[1]) == []
    stray = project / "lessons" / "el" / "notes" / "02.md"
    write(project / "lessons", {"el/notes/02.md": LESSON.format(id="b", lang="el")})
    warned = [f"lessons/el/notes/02.md: not built: {SUBFOLDER}"]
    code, lines = run("build")
    assert (code, len(builds), warnings(lines)) == (0, 2, warned)
    code, again = run("build")
    assert (code, len(builds), warnings(again)) == (0, 2, warned)  # replayed
    assert again == lines
    shutil.move(stray, project / "lessons" / "el" / "02.md")
    code, lines = run("build")
    assert (code, len(builds), warnings(lines)) == (0, 3, [])
    assert any("1 card added" in line for line in lines), lines
    code, lines = run("build")
    assert (code, len(builds), warnings(lines)) == (0, 3, [])  # replayed


def test_hidden_markdown_in_a_language_folder_is_no_lesson(project: Path) -> None:
    """`glob("*.md")` matches hidden names: Emacs's lock file `.#01.md` (a link to nothing while
    01.md is open) made every build fail with "cannot read the file", and a hidden `.x.md` was
    built as a lesson, though watch.py and strays.py pass hidden files by."""
    el = project / "lessons" / "el"
    (el / ".#01.md").symlink_to("user@host.1234:1700000000")
    write(el, {".draft.md": LESSON.format(id="hidden", lang="el")})
    code, lines = run("build", "--no-site", "--no-scorm")
    assert code == 0, lines
    assert not warnings(lines), lines
    assert any(line.startswith("el: 1 lesson, 1 note, 1 card") for line in lines), lines
