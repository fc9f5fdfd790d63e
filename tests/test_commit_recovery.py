"""A build killed while it puts its outputs in place (the commit: decks and SCORM zips renamed,
the site's unchanged languages moved into the new site and the sites swapped, the manifests
replaced, a legacy file deleted, the report written) is finished by the next one (journal.py):
whatever the step it was killed at, the outputs learners see are then the old build's whole or
the new one's whole, byte for byte, and nothing the killed build left is swept before it is in
place. Kills are injected before each change the commit makes on disk (counted in this process)
and, for the site's two windows, by a real SIGKILL in a separate process."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_pieces import edit, write_course

from course import forked, journal, lock, manifest, pipeline, site, sweep
from course.cache import ENV as CACHE_ENV
from course.cli import main
from course.lessons import load_library

ROOT = Path(__file__).resolve().parent.parent
EPOCH = "1790000000"


def swapping_in(index: int, what: str) -> bool:
    """The swap's second rename: the new site in place of the one set aside."""
    return re.match(r"rename \S*[\\/]\.site\.tmp-\w+ \S*[\\/]site$", what) is not None


def setting_aside(index: int, what: str) -> bool:
    """The swap's first rename: the current site aside, its unchanged languages moved out."""
    return re.match(r"rename \S*[\\/]site \S*[\\/]\.site\.old-\d+$", what) is not None


class Killed(BaseException):
    """The build dies here (not an Exception: nothing of the build catches it)."""


@pytest.fixture(autouse=True)
def fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page split (lessons have files of their own), every write in this process, a
    fixed clock and the cache inside the project (restored with it)."""
    monkeypatch.setattr(site, "SPLIT_BYTES", 0)
    monkeypatch.setattr(forked, "cores", lambda: 1)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "project" / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def args(project: Path) -> list[str]:
    out = project / "out"
    return [
        "build", "--lessons", str(project / "lessons"), "--decks", str(out / "decks"),
        "--site", str(out / "site"), "--scorm", str(out / "scorm"),
        "--report", str(out / "report.md"),
    ]  # fmt: skip


def build(project: Path) -> None:
    result = CliRunner().invoke(main, args(project), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def seen(project: Path) -> dict[str, bytes]:
    """What learners and authors get: every output file and the files the build writes into
    the lessons (manifests, the legacy file); not the temporary ones beside them."""
    found = {}
    for top in (project / "out", project / "lessons"):
        for path in sorted(top.rglob("*")):
            name = str(path.relative_to(project))
            hidden = any(part.startswith(".") for part in path.relative_to(project).parts)
            wanted = top.name == "out" or path.name in sweep.LESSON_FILES
            if path.is_file() and not hidden and wanted:
                found[name] = path.read_bytes()
    return found


def unreported(files: dict[str, bytes]) -> dict[str, bytes]:
    """The outputs but the report, which says what the build that wrote it changed."""
    return {name: data for name, data in files.items() if name != "out/report.md"}


def left(project: Path) -> list[str]:
    """Everything named as a build names what it is writing or setting aside, and journals."""
    return sorted(
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.name.endswith((".tmp", ".commit.json")) or ".tmp-" in path.name
        or ".old-" in path.name
    )  # fmt: skip


@pytest.fixture
def states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, dict[str, bytes], dict[str, bytes]]:
    """The project built (old), then edited: el's second lesson, a legacy file beside pl's
    manifest (the next build deletes it); kept in `saved` to start each run from. The old
    outputs, and the new ones an uninterrupted build gives. Built from the folder above the
    project, as the separate processes below are (the lessons' paths in the report and in the
    inputs hashes are the working folder's)."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(tmp_path)
    write_course(project)
    build(project)
    edit(project / "lessons" / "el" / "02-lesson.md", "Απάντηση 2.0.", "Απάντηση 2.0 (α).")
    (project / "lessons" / "pl" / manifest.LEGACY_FILE).write_text("{}", "utf-8")
    old = seen(project)
    saved = tmp_path / "saved"
    shutil.copytree(project, saved, symlinks=True)
    build(project)
    new = seen(project)
    assert new != old
    assert left(project) == []
    restore(saved, project)
    return project, saved, old, new


def restore(saved: Path, project: Path) -> None:
    shutil.rmtree(project)
    shutil.copytree(saved, project, symlinks=True)


def killed_build(
    project: Path, monkeypatch: pytest.MonkeyPatch, stop: Callable[[int, str], bool]
) -> None:
    """A build of `project` killed (`Killed`) before the commit's first change on disk for which
    `stop(index, what)` holds (`kill_before`)."""
    with monkeypatch.context() as patch:
        kill_before(patch, stop)
        with pytest.raises(Killed):
            build(project)


def _at(point: int, index: int, what: str) -> bool:
    """`kill_before`'s stop at the change numbered `point`."""
    return index == point


def kill_before(
    monkeypatch: pytest.MonkeyPatch,
    stop: Callable[[int, str], bool],
    error: Callable[[str], BaseException] = Killed,
) -> list[str]:
    """Make the commit stop (raise `error(what)`) before its first change on disk for which
    `stop(index, what)` holds: a rename, a deletion of a file, an empty folder or a folder tree
    (one change). The changes done, as `what`: "<call> <path> [<target>]"."""
    done: list[str] = []
    active = [False]

    def counted(name: str, call: Callable[..., object]) -> Callable[..., object]:
        def change(*args: object, **kwargs: object) -> object:
            if not active[0]:
                return call(*args, **kwargs)
            what = " ".join([name, *(str(arg) for arg in args[:2])])
            if stop(len(done), what):
                raise error(what)
            done.append(what)
            active[0] = False  # (a folder tree's deletion is one change)
            try:
                return call(*args, **kwargs)
            finally:
                active[0] = True

        return change

    for name in ("replace", "rename", "rmdir", "unlink"):
        monkeypatch.setattr(os, name, counted(name, getattr(os, name)))
    monkeypatch.setattr(pipeline, "_rename", os.rename)
    monkeypatch.setattr(shutil, "rmtree", counted("rmtree", shutil.rmtree))
    commit = pipeline._commit

    def committing(*args: object) -> None:
        active[0] = True
        try:
            commit(*args)  # type: ignore[arg-type]
        finally:
            active[0] = False

    monkeypatch.setattr(pipeline, "_commit", committing)
    return done


def recover(project: Path) -> None:
    """What the next build does before it builds: finish the commit, then sweep."""
    lessons, out = project / "lessons", project / "out"
    journal.recover(lessons)
    sweep.folders(lessons, frozenset(lock.folders(lessons, [out])))
    files = [out / "report.md", *(out / "decks").iterdir(), *(out / "scorm").iterdir()]
    sweep.outputs([f for f in files if not f.name.startswith(".")], out / "site")


def stopped_build(project: Path) -> None:
    """The next build, stopped by an error in a lesson once it has done what it does first
    (cli.py): finish the killed build's commit, sweep the lessons' temporary files."""
    bad = project / "lessons" / "el" / "99-bad.md"
    bad.write_text("---\nid: [\n---\n", "utf-8")
    result = CliRunner().invoke(main, args(project))
    bad.unlink()
    assert result.exit_code == 1, result.output
    assert "99-bad.md:" in result.output
    assert "nothing was written" in result.output


def test_every_kill_point_of_the_commit_is_finished_whole_by_the_next_build(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, saved, old, new = states
    with monkeypatch.context() as patch:  # the whole commit, to count its changes
        steps = kill_before(patch, lambda index, what: False)
        build(project)
    assert seen(project) == new
    kinds = " ".join(steps)
    for kind in ("rmdir", "rename", "replace", "unlink", "rmtree", ".site.old-", "commit.json"):
        assert kind in kinds, steps  # each kind of change is a kill point below
    assert any(map(setting_aside, range(len(steps)), steps)), steps
    assert any(map(swapping_in, range(len(steps)), steps)), steps
    for point, step in enumerate(steps):
        restore(saved, project)
        with monkeypatch.context() as patch:
            kill_before(patch, partial(_at, point))
            with pytest.raises(Killed):
                build(project)
        killed = seen(project)
        stopped_build(project)
        # Killed before the journal is in place: nothing was renamed; after: all of it is.
        assert seen(project) == (old if point == 0 else new), (point, step, killed == old)
        build(project)  # the next build itself (its report: its own changes, none)
        assert unreported(seen(project)) == unreported(new), (point, step)
        assert left(project) == [], (point, step)


def test_a_kill_inside_the_site_swap_is_finished_by_the_command_line(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between the swap's two renames no site folder exists: the next `build` (cli.py: the
    recovery before its sweep, which would delete the new site, the only complete one) puts the
    new site in place whole and leaves nothing else beside it."""
    project, _, _, new = states
    killed_build(project, monkeypatch, swapping_in)
    assert not (project / "out" / "site").exists()
    assert (project / ".lessons.commit.json").is_file()
    build(project)
    assert unreported(seen(project)) == unreported(new)
    assert left(project) == []


def test_a_kill_while_the_old_site_is_deleted_is_finished_by_the_next_build(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The new site is in place, the old one half deleted: the next build deletes the rest of
    it before anything else (and the journal with it)."""
    project, _, _, new = states
    rmtree = shutil.rmtree

    def halfway(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        if ".site.old-" not in str(path):
            return rmtree(path, *args, **kwargs)  # type: ignore[arg-type]
        next(p for p in Path(path).rglob("*") if p.is_file()).unlink()
        raise Killed(str(path))

    with monkeypatch.context() as patch:
        patch.setattr(shutil, "rmtree", halfway)
        with pytest.raises(Killed):
            build(project)
    assert [name for name in left(project) if ".site.old-" in name]
    stopped_build(project)
    assert seen(project) == new
    assert [name for name in left(project) if ".site." in name or "commit" in name] == []


def test_check_says_a_commit_waits_and_finishes_nothing(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, _, _, _ = states
    lessons = ["check", "--lessons", str(project / "lessons")]
    result = CliRunner().invoke(main, lessons)
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output
    killed_build(project, monkeypatch, setting_aside)
    killed, waiting = seen(project), left(project)
    result = CliRunner().invoke(main, lessons)
    assert result.exit_code == 0, result.output
    assert "lessons.commit.json: note: a build was stopped while putting its outputs" in (
        result.output
    )
    assert (seen(project), left(project)) == (killed, waiting)  # `check` writes nothing


def test_a_step_that_cannot_be_finished_stops_the_build_and_keeps_the_journal(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The next build says what it cannot put in place and writes nothing; its files and the
    journal stay for the build after it, which finishes the commit once it can."""
    project, _, _, new = states
    killed_build(project, monkeypatch, setting_aside)
    waiting = [name for name in left(project) if ".site." in name or "commit" in name]
    assert waiting
    site_dir = project / "out" / "site"

    def refuse(source: object, target: object) -> None:
        raise PermissionError(13, "refused", str(source))

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", refuse)
        result = CliRunner().invoke(main, args(project))
    assert result.exit_code == 1
    assert "a build was stopped while putting its outputs in place" in result.output
    assert "refused" in result.output
    assert "Traceback" not in result.output
    kept = [name for name in left(project) if ".site." in name or "commit" in name]
    assert kept == waiting  # nothing swept: the new site holds the only copy of pl
    assert site_dir.is_dir()
    build(project)
    assert unreported(seen(project)) == unreported(new)
    assert left(project) == []


def test_without_a_journal_the_sweep_puts_the_set_aside_site_back(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A commit that could not write its journal (a read-only folder above the lessons), killed
    between the swap's renames: the sweep never deletes the current site set aside, the only
    whole one it can tell; it goes back in place."""
    project, _, old, _ = states
    monkeypatch.setattr(journal, "write", lambda lessons, journal: False)
    killed_build(project, monkeypatch, swapping_in)
    before = {k: v for k, v in old.items() if k.startswith("out/site/")}
    assert not (project / "out" / "site").exists()
    recover(project)
    assert {k: v for k, v in seen(project).items() if k.startswith("out/site/")} == before
    assert left(project) == []


KILLED = """
import os, re, signal, sys
from course import cli, forked, pipeline, site
site.SPLIT_BYTES = 0
forked.cores = lambda: 1
rename, where = os.rename, sys.argv[1]
def killing(source, target, *args, **kwargs):
    if re.fullmatch(where, os.path.basename(str(source))):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(source, target, *args, **kwargs)
os.rename = pipeline._rename = killing
cli.main(sys.argv[2:])
"""
"""A build SIGKILLed before it renames a file or folder whose name matches `argv[1]`."""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    ("where", "site_there"),
    [("site", True), (r"\.site\.tmp-\w+", False)],
    ids=["moving-languages-out-of-the-live-site", "between-the-swap-renames"],
)
def test_a_real_sigkill_in_the_site_commit_is_finished_by_the_next_build(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]], where: str, site_there: bool
) -> None:
    """(a) The live site's unchanged language (pl) moved into the new site, the kill before the
    swap: the live site lacks it. (b) The live site set aside, the new one not yet in place."""
    project, _, _, new = states
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", KILLED, where, *args(project)],
        cwd=project.parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (project / "out" / "site").is_dir() == site_there
    if site_there:
        assert not (project / "out" / "site" / "pl").exists(), proc.stderr  # moved out
    assert journal.recover(project / "lessons")
    assert seen(project) == new
    assert left(project) == []  # the journal's own steps leave nothing for the sweep


def refused(what: str) -> OSError:
    return PermissionError(13, "refused", what.split()[1])


@pytest.mark.parametrize("where", ["pieces-pl.apkg$", r"[\\/]site$", "manifest.jsonl$"])
def test_a_commit_that_fails_half_way_is_finished_by_the_next_build(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """A rename that fails (not a kill): the build says so, without a traceback, and leaves
    what it has not put in place with the journal, not discarded (some outputs new, some old)."""
    project, _, _, new = states
    with monkeypatch.context() as patch:
        kill_before(patch, lambda index, what: re.search(where, what) is not None, refused)
        result = CliRunner().invoke(main, args(project))
    assert result.exit_code == 1, result.output
    assert "the build could not put all its outputs in place" in result.output
    assert journal.GIVE_UP in result.output
    assert "refused" in result.output
    assert "Traceback" not in result.output
    assert (project / ".lessons.commit.json").is_file()
    recover(project)
    assert seen(project) == new
    assert left(project) == []


@pytest.mark.parametrize("window", [setting_aside, swapping_in])
def test_a_build_called_as_a_library_finishes_the_commit_first(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    window: Callable[[int, str], bool],
) -> None:
    """`pipeline.build` itself (no command line, no sweep) finishes a killed build's commit
    before it builds: nothing of it is left beside the outputs."""
    project, _, _, new = states
    killed_build(project, monkeypatch, window)
    out = project / "out"
    library = load_library(project / "lessons")
    options = pipeline.BuildOptions(report=out / "report.md")
    pipeline.build(library, out / "decks", out / "site", options, scorm_dir=out / "scorm")
    assert unreported(seen(project)) == unreported(new)
    assert left(project) == []


def test_the_next_build_locks_the_folders_of_the_commit_it_finishes(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A next build writing elsewhere (decks only, into another folder) still finishes the
    killed build's site, holding the lock of the folder it is in (no other build writes there
    meanwhile)."""
    project, _, _, new = states
    killed_build(project, monkeypatch, swapping_in)
    assert journal.folders(project / "lessons") == [project / "out"]
    locked: list[Path] = []
    hold = lock.hold

    def spy(
        lessons: Path, wait: bool = True, say: object = None, outputs: Sequence[Path] = ()
    ) -> object:
        locked.extend(outputs)
        return hold(lessons, wait, say, outputs)  # type: ignore[arg-type]

    monkeypatch.setattr(lock, "hold", spy)
    elsewhere = ["--decks", str(project / "other" / "decks"), "--no-site", "--no-scorm"]
    result = CliRunner().invoke(main, ["build", "--lessons", str(project / "lessons"), *elsewhere])
    assert result.exit_code == 0, result.output
    assert project / "out" in locked
    site_files = {k: v for k, v in seen(project).items() if k.startswith("out/site/")}
    assert site_files == {k: v for k, v in new.items() if k.startswith("out/site/")}
    assert not (project / ".lessons.commit.json").exists()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"format": 1, "steps": [["/a", "/b", [], null]], "fol', "cannot be read: "),
        ('{"format": 1, "steps": [["/a"]], "folders": []}', "cannot be read: damaged: "),
        ('{"format": 2, "steps": [], "folders": []}', "another version of course-build"),
    ],
    ids=["truncated", "damaged", "newer"],
)
def test_an_unreadable_journal_stops_the_build_naming_it(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    said: str,
) -> None:
    """Killed in the site's commit, its journal then unreadable: its steps are unknown, so the
    build (and `check`) stops with `path: message` and how to recover, sweeping nothing (the
    new site holds the only copy of pl); it dropped the journal and swept them, silently. Once
    the journal is deleted as the message says, the next build makes every output whole."""
    project, _, _, new = states
    killed_build(project, monkeypatch, setting_aside)
    written = project / ".lessons.commit.json"
    written.write_text(text, "utf-8")
    killed, waiting = seen(project), left(project)
    for command in (args(project), ["check", "--lessons", str(project / "lessons")]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1, result.output
        assert f"{written}: a build was stopped while putting its outputs in place" in (
            result.output
        )
        assert said in result.output
        assert "delete this file, then build again" in result.output
        assert "Traceback" not in result.output
        assert (seen(project), left(project)) == (killed, waiting)
    written.unlink()
    build(project)
    assert unreported(seen(project)) == unreported(new)
    assert left(project) == []


def test_a_set_aside_site_whose_new_one_is_gone_goes_back_in_place(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Killed between the swap's renames, and the new site (hidden, `.site.tmp-*`) deleted by
    hand since: the site set aside is the only whole one left. The next build, stopped by an
    error in a lesson, puts it back in place, as the sweep does without a journal; it deleted
    it (learners had no site at all). (pl edited too: no language is moved out of the current
    site, which stays whole.)"""
    project, _, old, _ = states
    edit(project / "lessons" / "pl" / "01-lesson.md", "Απάντηση 1.1.", "Απάντηση 1.1 (α).")
    killed_build(project, monkeypatch, swapping_in)
    (rendered,) = (project / "out").glob(".site.tmp-*")
    shutil.rmtree(rendered)
    stopped_build(project)
    site_files = {k: v for k, v in seen(project).items() if k.startswith("out/site/")}
    assert site_files == {k: v for k, v in old.items() if k.startswith("out/site/")}
    assert not (project / ".lessons.commit.json").exists()


def test_a_commit_whose_outputs_were_deleted_since_is_finished_with_what_is_left(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Killed once the decks and the site are in place, before the manifests; the author then
    deletes the outputs' folder. The next build puts the manifests in place (the release the
    decks it deleted were), skips what is gone, and builds the outputs again, whole."""
    project, _, _, new = states
    killed_build(
        project, monkeypatch, lambda index, what: re.match(r"replace .*manifest", what) is not None
    )
    shutil.rmtree(project / "out")
    build(project)
    assert unreported(seen(project)) == unreported(new)
    assert left(project) == []


def test_the_folders_of_a_commit_deleted_since_are_not_made_again(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The killed build's outputs' folder deleted by the author (or the project moved
    elsewhere): the next build, writing its decks elsewhere, finishes what is left of the commit
    (the manifests) without making that folder again, empty, to lock it."""
    project, _, _, new = states
    killed_build(
        project, monkeypatch, lambda index, what: re.match(r"replace .*manifest", what) is not None
    )
    shutil.rmtree(project / "out")
    elsewhere = ["--decks", str(project / "other" / "decks"), "--no-site", "--no-scorm"]
    result = CliRunner().invoke(main, ["build", "--lessons", str(project / "lessons"), *elsewhere])
    assert result.exit_code == 0, result.output
    assert not (project / "out").exists()
    manifests = {k: v for k, v in seen(project).items() if k.startswith("lessons/")}
    assert manifests == {k: v for k, v in new.items() if k.startswith("lessons/")}
    assert left(project) == []


def test_a_commit_that_cannot_be_finished_can_be_given_up_as_the_message_says(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What cannot be put in place may never be (the site folder a mount point, which no
    rename moves): the message says how to give the commit up, not only "fix that", and doing
    so, the next build makes every output whole. Before, every build stopped the same way."""
    project, _, _, new = states
    killed_build(project, monkeypatch, setting_aside)

    def busy(source: object, target: object) -> None:
        raise OSError(16, "Device or resource busy", str(source))

    with monkeypatch.context() as patch:
        patch.setattr(os, "rename", busy)
        result = CliRunner().invoke(main, args(project))
    assert result.exit_code == 1, result.output
    assert journal.GIVE_UP in result.output
    (project / ".lessons.commit.json").unlink()
    build(project)
    assert unreported(seen(project)) == unreported(new)
    assert left(project) == []


def test_an_unjournaled_commit_that_fails_is_said_without_a_traceback(
    states: tuple[Path, Path, dict[str, bytes], dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No journal (a read-only folder above the lessons), and the site's swap refused: the
    build names the folder, exit 1; the current site is whole (its languages were linked, not
    moved) and the next build gives the new outputs."""
    project, _, old, new = states
    monkeypatch.setattr(journal, "write", lambda lessons, journal: False)
    with monkeypatch.context() as patch:
        kill_before(patch, setting_aside, refused)
        result = CliRunner().invoke(main, args(project))
    assert result.exit_code == 1, result.output
    assert f"{project / 'out' / 'site'}: cannot write the build's outputs: refused" in (
        result.output
    )
    site_files = {k: v for k, v in seen(project).items() if k.startswith("out/site/")}
    assert site_files == {k: v for k, v in old.items() if k.startswith("out/site/")}
    build(project)
    assert unreported(seen(project)) == unreported(new)
