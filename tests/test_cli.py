"""The command line: help and version, the default build, `ids`, and what the output says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from course.cli import main
from course.ids import ALPHABET, ID_LENGTH

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_has_help() -> None:
    runner = CliRunner()
    assert main.help
    for name, command in main.commands.items():
        assert command.help, f"{name} has no help text"
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0
        assert command.help.splitlines()[0] in result.output
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts} has no help"


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"course-build, version \S+\n", result.output)


def test_build_options_and_summary(sample: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--lessons",
            str(sample),
            "--decks",
            str(tmp_path / "d"),
            "--no-site",
            "--no-scorm",
            "--lang",
            "pl",
            "--lang",
            "lv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "sample-course-lv.apkg",
        "sample-course-pl.apkg",
    ]
    assert (
        f"pl: 1 lesson, 3 notes, 5 cards -> {tmp_path / 'd' / 'sample-course-pl.apkg'}"
        in result.output
    )
    assert "lv: 1 lesson, 2 notes, 2 cards" in result.output


def test_unknown_language_is_an_error(sample: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--lessons", str(sample), "--lang", "de"])
    assert result.exit_code == 1
    assert "no lessons for language 'de'" in result.output


def test_python_build_py_without_arguments_builds_everything(sample: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(sample, project / "lessons")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "build.py")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (project / "decks").iterdir()) == [
        f"sample-course-{lang}.apkg" for lang in ("el", "lv", "pl")
    ]
    assert (project / "site" / "index.html").is_file()
    with zipfile.ZipFile(project / "decks" / "sample-course-el.apkg") as archive:
        assert "collection.anki2" in archive.namelist()


# A build.py run whose end shows whether Python tore the process down (its atexit handlers run
# then, after everything the build loaded is freed) or the command line left it at once.
ENDING = """
import atexit, runpy, sys, threading
atexit.register(lambda: print("torn down", file=sys.stderr))
if sys.argv[1] == "thread":  # another thread still running when the build ends (however long
    threading.Thread(target=threading.main_thread().join).start()  # it takes): until Python's exit
if sys.argv[1] == "print":  # a last line still buffered when the command returns
    import course.cli
    report = course.cli._report
    course.cli._report = lambda *args: (report(*args), print("a last line"))
sys.argv = [sys.argv[2], *sys.argv[3:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _ending(folder: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    """build.py with `args` in `folder` (`mode`: see ENDING), its output in pipes (so
    block-buffered)."""
    return subprocess.run(
        [sys.executable, "-c", ENDING, mode, str(ROOT / "build.py"), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COURSE_CACHE_DIR": ""},
    )


def test_the_command_line_ends_without_tearing_the_process_down(
    sample: Path, tmp_path: Path
) -> None:
    """`build.py` (and `course-build`) leave the process once the command is done, its output
    flushed and its exit status kept: Python's teardown would free every object the build made
    and loaded, one at a time, for nothing (cli.run)."""
    args = ("build", "--decks", "d", "--site", "s", "--no-scorm")
    built = _ending(tmp_path, "print", *args)
    assert built.returncode == 0, built.stderr
    assert "torn down" not in built.stderr
    assert built.stdout.splitlines()[-2:] == [f"site: {Path('s') / 'index.html'}", "a last line"]
    (sample / "pl" / "01-traits.md").write_text("# no front matter\n")
    failed = _ending(tmp_path, "-", "check")
    assert failed.returncode == 1
    assert "torn down" not in failed.stderr
    assert failed.stderr.endswith("1 error; nothing was written.\n")
    assert "missing front matter" in failed.stderr


def test_a_process_with_another_thread_running_ends_as_python_ends_it(
    sample: Path, tmp_path: Path
) -> None:
    """Leaving at once would kill a thread a library started and still runs: then Python's own
    exit waits for it (cli.run)."""
    done = _ending(tmp_path, "thread", "check")
    assert done.returncode == 0, done.stderr
    assert "torn down" in done.stderr


# -- ids -----------------------------------------------------------------------------------------

UNTOUCHED = (
    "\ufeff---\r\nid: ids\r\ntitle: IDs\r\nlang: el\r\norder: 1\r\n---\r\n\r\n"
    "## Section\r\n\r\n"
    "First?::One\r\n"
    "Second?::Two <!-- id: keep-me -->\r\n\r\n"
    "- In a list?::Yes, here   \r\n\r\n"
    "Multi\r\n?\r\nline answer\r\n\r\n"
    "A ==cloze== card.\r\n\r\n"
    "`code::span` stays prose.\r\n\r\n"
    "Last?::No final newline"
)


def test_ids_adds_missing_ids_and_changes_no_other_byte(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    (lessons / "el").mkdir(parents=True)
    path = lessons / "el" / "01.md"
    original = UNTOUCHED.encode("utf-8")
    path.write_bytes(original)

    result = CliRunner().invoke(main, ["ids", "--lessons", str(lessons)])
    assert result.exit_code == 0, result.output
    assert "5 card IDs added; commit them" in result.output
    updated = path.read_bytes()
    pattern = rb" <!-- id: ([" + ALPHABET.encode() + rb"]{" + str(ID_LENGTH).encode() + rb"}) -->"
    new_ids = re.findall(pattern, updated)
    assert len(new_ids) == 5
    assert len(set(new_ids)) == 5
    assert re.sub(pattern, b"", updated) == original
    # Each ID went to the end of its card's last line, before the line ending.
    assert re.search(rb"First\?::One <!-- id: \w{8} -->\r\n", updated)
    assert re.search(rb"line answer <!-- id: \w{8} -->\r\n", updated)
    assert re.search(rb"No final newline <!-- id: \w{8} -->$", updated)
    assert b"Second?::Two <!-- id: keep-me -->\r\n" in updated

    again = CliRunner().invoke(main, ["ids", "--lessons", str(lessons)])
    assert "every card has an ID" in again.output
    assert path.read_bytes() == updated
    strict = CliRunner().invoke(main, ["check", "--lessons", str(lessons), "--strict"])
    assert strict.exit_code == 0, strict.output


def test_ids_refuses_to_touch_broken_lessons(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    (lessons / "el").mkdir(parents=True)
    path = lessons / "el" / "01.md"
    path.write_text(
        "---\nid: x\ntitle: T\nlang: el\norder: 1\n---\n\nQ::\n\nOther?::A\n", encoding="utf-8"
    )
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["ids", "--lessons", str(lessons)])
    assert result.exit_code == 1
    assert "card has a question but no answer" in result.output
    assert path.read_bytes() == before


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(proc.stderr)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize("folder", ["course/templates", "course/static", "course/locales"])
def test_package_data_is_in_the_wheel(wheel_names: set[str], folder: str) -> None:
    """Templates, assets and catalogues ship inside the package (pelican's test_wheel_contents)."""
    expected = {
        str(p.relative_to(ROOT))
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected
    assert expected <= wheel_names


# -- what learners get ----------------------------------------------------------------------------


def test_build_prints_the_change_report_and_writes_it_as_markdown(
    sample: Path, tmp_path: Path
) -> None:
    args = ["build", "--lessons", str(sample), "--decks", str(tmp_path / "d"), "--no-site"]
    args.append("--no-scorm")
    first = CliRunner().invoke(main, [*args, "--lang", "pl"])
    assert first.exit_code == 0, first.output
    assert "pl: release 1: 3 cards added, 2 decks added" in first.output
    assert "  decks added: Kurs przykładowy; Kurs przykładowy::01 Cechy pracownika" in first.output
    lesson = sample / "pl" / "01-traits.md"
    text = lesson.read_text("utf-8")
    lesson.write_text(text.replace("Bo to z nim klient ma kontakt.", "Bo to z nim rozmawia."))
    report = tmp_path / "release.md"
    draft = CliRunner().invoke(main, [*args, "--lang", "pl", "--draft"])
    assert "pl: draft (not recorded) of release 2: 1 card changed" in draft.output
    second = CliRunner().invoke(main, [*args, "--lang", "pl", "--report", str(report)])
    assert second.exit_code == 0, second.output
    assert "pl: release 2: 1 card changed\n  cards changed: pl-card (" in second.output
    assert report.read_text("utf-8").startswith("## pl: release 2: 1 card changed\n")
    again = CliRunner().invoke(main, [*args, "--lang", "pl"])
    assert "pl: nothing changes for learners" in again.output


def test_rename_decks_warns_that_learners_keep_the_old_decks(sample: Path, tmp_path: Path) -> None:
    args = ["build", "--lessons", str(sample), "--decks", str(tmp_path / "d"), "--no-site"]
    args.append("--no-scorm")
    CliRunner().invoke(main, [*args, "--lang", "lv"])
    course_file = sample / "lv" / "course.yml"
    course_file.write_text("title: Jauns nosaukums\n", "utf-8")
    kept = CliRunner().invoke(main, [*args, "--lang", "lv"])
    assert "decks renamed" not in kept.output
    renamed = CliRunner().invoke(main, [*args, "--lang", "lv", "--rename-decks"])
    assert renamed.exit_code == 0, renamed.output
    assert "decks renamed (--rename-decks): Sample course -> Jauns nosaukums" in renamed.output
    assert "learners who imported the course keep their cards in the old decks" in renamed.output


def test_the_report_file_holds_every_languages_report(sample: Path, tmp_path: Path) -> None:
    """`--report FILE` on a build of every language: one section per language, in order, each
    the report the build printed for it."""
    report = tmp_path / "release.md"
    args = ["build", "--lessons", str(sample), "--decks", str(tmp_path / "d"), "--no-site"]
    result = CliRunner().invoke(main, [*args, "--no-scorm", "--report", str(report)])
    assert result.exit_code == 0, result.output
    langs = sorted(p.name for p in sample.iterdir() if p.is_dir() and any(p.glob("*.md")))
    heads = re.findall(r"^## (\w+): release 1: ", report.read_text("utf-8"), re.M)
    assert len(langs) > 1
    assert heads == langs
    assert report.read_text("utf-8").count("\n\n## ") == len(langs) - 1  # a blank line between


@pytest.mark.parametrize(
    ("command", "options"),
    [("build", ["--decks", "--site", "--scorm"]), ("check", ["--decks", "--site"])],
)
def test_each_output_folder_option_shows_its_default(command: str, options: list[str]) -> None:
    """`--help` names where each output goes when its option is not given (`folder_option`)."""
    shown = CliRunner().invoke(main, [command, "--help"], terminal_width=200).output
    defaults = {"--decks": "decks", "--site": "site", "--scorm": "scorm"}
    for option in options:
        line = next(row for row in shown.splitlines() if row.strip().startswith(option))
        rest = shown[shown.index(line) :].split("\n  -", 1)[0]
        assert f"[default: {defaults[option]}]" in " ".join(rest.split()), rest
