"""What a build process loads: a replayed build (nothing changed since the last one) prints its
lines without importing the build itself (the pipeline, the lessons' records and parsers,
Jinja, Babel); no build imports genanki (a test dependency: apkg.py writes what it wrote).
Nothing here is timed: the tests look at which modules a fresh interpreter imported."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from course import cli
from course.model import CourseError

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    *("course.pipeline", "course.anki", "course.site", "jinja2", "babel"),
    *("course.lessons", "course.model", "markdown_it", "yaml"),  # the parse and its records
)
PROBE = """
import gc, json, sys
from course.cli import main
try:
    main.main(sys.argv[1:], prog_name="course-build")
except SystemExit as exit:
    assert not exit.code, exit.code
modules = sorted(m for m in sys.modules if m.split(".")[0] in {0})
print(json.dumps([modules, gc.isenabled(), gc.get_freeze_count()]))
"""


def build(folder: Path, *args: str) -> tuple[list[str], bool, int]:
    """What a fresh `build` in `folder` imported of HEAVY's top-level packages, whether the
    garbage collector was on at its end, and how many objects it had frozen."""
    tops = sorted({name.split(".")[0] for name in HEAVY})
    code = PROBE.replace("{0}", repr(set(tops)))
    names, collecting, frozen = probe(code, folder, args, cache=str(folder / "cache"))
    return names, collecting, frozen


def probe(code: str, folder: Path, args: Sequence[str], cache: str) -> Any:
    """Run the probe `code` with the command line's `args` in `folder` (the project importable,
    build times fixed, the cache in `cache`, "" for none): the JSON of its last printed line."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", COURSE_CACHE_DIR=cache)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_a_replayed_build_imports_nothing_of_the_build(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    args = ("build", "--decks", "decks", "--site", "site", "--scorm", "scorm")
    first, _, _ = build(tmp_path, *args)
    assert all(any(m == h or m.startswith(h + ".") for m in first) for h in HEAVY)
    again, _, _ = build(tmp_path, *args)  # the bundled course's manifests are up to date: replayed
    assert not [m for m in again if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_no_build_imports_genanki_or_asyncio(tmp_path: Path) -> None:
    """genanki (and asyncio, which its `cached_property` dependency imports) were 35-41 ms of
    the bundled course's build: apkg.py writes what the build took from it."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    code = PROBE.replace("{0}", repr({"genanki", "asyncio", "chevron", "cached_property"}))
    args = ("build", "--decks", "decks", "--site", "site", "--scorm", "scorm")
    names, _, _ = probe(code, tmp_path, args, cache=str(tmp_path / "cache"))
    assert names == []
    assert list((tmp_path / "decks").glob("*.apkg"))


def test_the_build_modules_load_out_of_the_collectors_way(tmp_path: Path) -> None:
    """The first build of a process freezes what it imported (no collection walks the modules
    again) and leaves the collector on: garbage the build makes is collected as before."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    _, collecting, frozen = build(tmp_path, "build", "--draft", "--no-scorm")
    assert collecting
    assert frozen > 10_000


RUN_PROBE = """
import gc, json, sys
gc.disable()  # as build.py starts
from course import cli
cli._end = lambda code: None  # (else the process leaves at once: os._exit)
sys.argv = ["build.py", *sys.argv[1:]]
try:
    cli.run()
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps([gc.isenabled(), gc.get_freeze_count()]))
"""


@pytest.mark.parametrize(
    "command",
    [("build", "--decks", "decks", "--site", "site", "--scorm", "scorm"), ("check",), ("ids",)],
)
def test_the_collector_paused_for_start_up_is_turned_back_on(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """build.py turns the collector off before the command line's modules load; `cli.run`
    turns it back on: a build once its library is loaded (frozen), any other command at once."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    collecting, frozen = probe(RUN_PROBE, tmp_path, command, cache=str(tmp_path / "cache"))
    assert collecting
    assert (frozen > 10_000) == (command[0] == "build")


def test_build_py_pauses_the_collector_before_importing_the_command_line() -> None:
    code = (
        "import gc, runpy, sys; sys.modules['course.cli'] = type(sys)('course.cli'); "
        "sys.modules['course.cli'].run = lambda: print(gc.isenabled()); "
        f"runpy.run_path({str(ROOT / 'build.py')!r}, run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_loading_pauses_the_collector_and_always_turns_it_back_on() -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    with cli._loading(fresh=False):  # a process that built before: left as it is
        assert gc.isenabled()
    assert gc.get_freeze_count() == before
    try:
        with cli._loading(fresh=True):
            assert not gc.isenabled()
        assert gc.isenabled()
        assert gc.get_freeze_count() > before
        with pytest.raises(CourseError), cli._loading(fresh=True):
            raise CourseError([])  # a lesson with errors: the build stops here
        assert gc.isenabled()
    finally:
        gc.unfreeze()  # the test process goes on: its objects go back to the collector


def test_the_parse_needs_none_of_the_writers(tmp_path: Path) -> None:
    """The command line imports the deck, site and SCORM stages (apkg.py, Jinja, Babel) and the
    card IDs' checks while a forked child parses lessons (`load_library(meanwhile=...)`): that
    pays only while the parse's own modules, and a parse of the bundled course, import none of
    them."""
    code = (
        "import json, sys; from pathlib import Path; import course.cli, course.outputs, "
        "course.lessons; course.forked.available = lambda: False; "
        f"course.lessons.load_library(Path({str(tmp_path / 'lessons')!r})); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    env["COURSE_CACHE_DIR"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    writers = (
        *("course.pipeline", "course.anki", "course.site", "course.scorm", "course.apkg", "jinja2"),
        *("course.manifest", "course.translations", "course.updates"),
        *("babel", "course.ids"),  # counts and plurals; the card IDs' checks (after the parse)
    )
    assert not [m for m in loaded if any(m == w or m.startswith(w + ".") for w in writers)]
    assert "course.lessons" in loaded


FORK_PROBE = """
import json, os, sys
from course import forked
forked.cores = lambda: 2  # the parse forks on any machine (a one-core one would not)
at_fork: list[list[str]] = []
real_fork = os.fork

def fork() -> int:
    at_fork.append(sorted(sys.modules))
    return real_fork()

os.fork = fork
from course.cli import main
try:
    main.main(sys.argv[1:], prog_name="course-build")
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(at_fork))
"""


WRITERS = (
    *("course.pipeline", "course.anki", "course.site", "course.scorm", "course.decided"),
    *("course.manifest", "course.translations", "course.updates", "course.ids"),
    *("course.apkg", "jinja2", "babel", "sqlite3", "zipfile"),
)
OUTPUTS = ("--decks", "decks", "--site", "site", "--scorm", "scorm")


@pytest.mark.parametrize(
    ("command", "writers"),
    [
        (("build", *OUTPUTS), ("course.pipeline", "course.site", "course.apkg")),
        (("build", *OUTPUTS, "--no-site", "--no-scorm"), ("course.pipeline", "course.apkg")),
        (("check",), ()),
        (("ids",), ()),
    ],
)
def test_the_command_line_forks_the_parse_before_it_imports_the_writers(
    tmp_path: Path, command: tuple[str, ...], writers: tuple[str, ...]
) -> None:
    """A small course's build forks the child that parses lessons as soon as the parse's own
    modules are loaded: the deck, site and SCORM stages (apkg.py, Jinja, Babel), the manifests
    and the card IDs' checks are imported by this process while the child parses (`cli`'s
    `_import_build`), not before the fork, where the whole build would wait for them; `check`
    and `ids` too. A build forks again for its `writers`, which were imported by then."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    first, *later = probe(FORK_PROBE, tmp_path, command, cache="")
    assert "course.lessons" in first  # the first fork is the parse's
    assert not [m for m in first if any(m == w or m.startswith(w + ".") for w in WRITERS)]
    assert len(later) == (1 if writers else 0)
    assert all(w in later[0] for w in writers)


@pytest.mark.parametrize("scorm", [True, False])
def test_a_build_without_scorm_imports_none_of_its_stage(tmp_path: Path, scorm: bool) -> None:
    """`--no-scorm`: the SCORM stage (scorm.py, its XML library) is not imported, nor are its
    packages' assets deflated, while the lessons are parsed; a build of the packages has it
    loaded before its writers' fork."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    outputs = OUTPUTS if scorm else (*OUTPUTS, "--no-scorm")
    _parse, writers = probe(FORK_PROBE, tmp_path, ("build", *outputs), cache="")
    stage = [m for m in writers if m in ("course.scorm", "xml.etree.ElementTree")]
    assert stage == (["course.scorm", "xml.etree.ElementTree"] if scorm else [])
    assert "course.site" in writers


def test_a_rebuild_parses_the_edited_lesson_in_a_child_while_it_imports_the_writers(
    tmp_path: Path,
) -> None:
    """After one lesson is edited, the build forks a child for its parse (one lesson:
    `lessons.FORK_MEANWHILE`) before it imports the writers, which it imports meanwhile: the
    parse is off the rebuild's path. The build forks again for its writes."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    cache = str(tmp_path / "cache")
    probe(FORK_PROBE, tmp_path, ("build", *OUTPUTS), cache=cache)
    edited = sorted((tmp_path / "lessons").glob("*/*.md"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    parse, *later = probe(FORK_PROBE, tmp_path, ("build", *OUTPUTS), cache=cache)
    assert "course.lessons" in parse
    assert not [m for m in parse if any(m == w or m.startswith(w + ".") for w in WRITERS)]
    assert len(later) == 1
    assert all(w in later[0] for w in ("course.pipeline", "course.site", "course.apkg"))


PARSERS = ("yaml", "markdown_it", "mdit_py_plugins")
"""The parsers' packages: PyYAML for the course files, markdown-it for the lessons."""


def test_a_rebuild_that_parses_in_a_child_imports_no_parser(tmp_path: Path) -> None:
    """A rebuild whose course files' parses are kept (`lessons.read_course_file`) and whose
    edited lesson a forked child parses never imports PyYAML or markdown-it: not before the
    parse's fork (which it would delay), nor after (the learner guide's Markdown is kept with
    the compiled templates: `templating.kept_text`). A first build parses in this process and a
    forked child: it imports both before the fork, once for the two."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    cache = str(tmp_path / "cache")
    first = probe(FORK_PROBE, tmp_path, ("build", *OUTPUTS), cache=cache)
    assert all(parser in first[0] for parser in PARSERS)
    edited = sorted((tmp_path / "lessons").glob("*/*.md"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    code = FORK_PROBE.replace("print(json.dumps(at_fork))", "at_fork.append(sorted(sys.modules))")
    parse, *_, end = probe(
        code + "print(json.dumps(at_fork))\n", tmp_path, ("build", *OUTPUTS), cache=cache
    )
    assert "course.lessons" in parse
    imported = {m.split(".")[0] for m in [*parse, *end]}
    assert not imported & set(PARSERS), imported & set(PARSERS)
