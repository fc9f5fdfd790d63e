"""Every build replaces the site folder whole (the commit swaps the new one in and deletes the
old one with whatever it held): a site folder that is or holds the lessons, the working folder or
another output, or lies inside the lessons, stops the build before it writes anything (places.py),
from the command line and from `pipeline.build`. Real builds, real folders."""

from __future__ import annotations

import errno
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_pieces import cold, edit, write_course

from course import anki, pipeline, site, zips
from course.cache import ENV as CACHE_ENV
from course.cli import main
from course.files import naming
from course.lessons import load_library
from course.pipeline import Share
from course.places import Overlap

BUILD_PY = Path(__file__).resolve().parent.parent / "build.py"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A course in `project/lessons`, the build run from the folder above the project."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    project = tmp_path / "project"
    write_course(project)
    return project


def files(top: Path) -> dict[str, bytes]:
    return {str(p.relative_to(top)): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def run(*options: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", *options])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("site", "said"),
    [
        ("project", "holds the lessons folder"),
        ("project/lessons", "holds the lessons folder"),
        ("project/lessons/xx", "is inside the lessons folder"),
        (".", "holds the folder the build runs in"),
    ],
)
def test_a_site_folder_over_or_in_the_lessons_stops_the_build(
    project: Path, tmp_path: Path, site: str, said: str
) -> None:
    before = files(tmp_path)
    code, output = run("--lessons", "project/lessons", "--site", site, "--decks", "d", "--no-scorm")
    assert code == 2, output
    assert f"--site {Path(site)} {said}" in output
    assert "Give the site a folder of its own" in output
    assert files(tmp_path) == before  # the lessons as they were, nothing written


@pytest.mark.parametrize(
    ("option", "path"),
    [("--decks", "out/site/dl"), ("--scorm", "out/site"), ("--report", "out/site/notes.md")],
)
def test_an_output_inside_the_site_folder_stops_the_build(
    project: Path, tmp_path: Path, option: str, path: str
) -> None:
    """Committed there, it would be deleted with the site the build replaces: the build said
    where the decks went, exit 0, and they were not there; a report there failed every build
    that rendered the site again, at its commit."""
    outputs = {"--decks": "out/decks", "--scorm": "out/scorm", "--site": "out/site"}
    given = [arg for pair in {**outputs, option: path}.items() for arg in pair]
    code, output = run("--lessons", "project/lessons", *given)
    assert code == 2, output
    assert f"--site {Path('out/site')} holds {option} {Path(path)}" in output
    assert not (tmp_path / "out").exists()


def test_outputs_beside_or_around_the_site_folder_build(project: Path, tmp_path: Path) -> None:
    """No false alarm: the decks' folder holding the site, the report beside it, the site in a
    folder whose name starts as the lessons' does."""
    given = ["--decks", "out", "--site", "out/site", "--scorm", "out/scorm"]
    for again in (False, True):  # (the second one replaces the site, edited)
        if again:
            edit(project / "lessons" / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1 (α).")
        code, output = run("--lessons", "project/lessons", *given, "--report", "out/r.md")
        assert code == 0, output
    assert (tmp_path / "out" / "r.md").is_file()
    assert [p.name for p in (tmp_path / "out").glob("*.apkg")]
    code, output = run("--lessons", "project/lessons", "--site", "project/lessons2", "--no-decks")
    assert code == 0, output


def test_a_library_build_checks_the_site_folder_first(project: Path) -> None:
    library = load_library(project / "lessons")
    saved = project.parent / "saved"
    shutil.copytree(project, saved)
    with pytest.raises(Overlap, match="holds the lessons folder"):
        pipeline.build(library, project / "decks", project)
    assert files(project) == files(saved)


@pytest.mark.parametrize("option", ["--decks", "--site", "--scorm", "--report"])
def test_an_output_that_cannot_be_written_is_named_without_a_traceback(
    project: Path, tmp_path: Path, option: str
) -> None:
    """A file in the way of an output's folder (as a full disk or a refused folder): the build
    stops naming it, exit 1, and the outputs are as the last build left them."""
    outputs = {"--decks": "out/decks", "--scorm": "out/scorm", "--site": "out/site"}
    given = [arg for pair in outputs.items() for arg in pair]
    code, output = run("--lessons", "project/lessons", *given)
    assert code == 0, output
    before = files(tmp_path / "out")
    (tmp_path / "in-the-way").write_text("a file", "utf-8")
    edit(project / "lessons" / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1 (α).")
    moved = {**outputs, option: "in-the-way/out" + ("/r.md" if option == "--report" else "")}
    code, output = run("--lessons", "project/lessons", *[a for p in moved.items() for a in p])
    assert code == 1, output
    assert re.search(r"in-the-way\S*: cannot write the build's outputs: \w", output), output
    assert files(tmp_path / "out") == before


def no_space(*args: object, **kwargs: object) -> None:
    """A write refused as a full disk refuses it: `write()` names no file."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def no_space_for_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifests' temporary files (`.manifest.jsonl.XXXXXXXX.tmp`) cannot be written."""
    real = Path.write_bytes

    def write_bytes(path: Path, data: Any) -> int:
        if path.name.startswith(".manifest.jsonl."):
            no_space()
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def full(owner: object, name: str) -> Callable[[pytest.MonkeyPatch], None]:
    return lambda monkeypatch: monkeypatch.setattr(owner, name, no_space)


FULL = {
    "deck": (full(anki, "_deflate_into"), r"out/decks/pieces-el\.apkg"),
    "site": (full(site, "_write_landing"), r"out/site"),
    "SCORM zip": (full(zips.Writer, "close"), r"out/scorm/pieces-el-scorm12\.zip"),
    "manifest": (no_space_for_manifests, r"project/lessons/el/manifest\.jsonl"),
}
"""What a full disk stops (a writer made to fail as one) -> the path the build names."""


@pytest.mark.parametrize("share", [Share.SMALL, Share.SHARED, Share.ALONE])
@pytest.mark.parametrize("output", list(FULL))
def test_a_full_disk_names_the_output_it_stopped(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    output: str,
    share: Share,
) -> None:
    """ENOSPC from a write names no file: the build says which output it was writing (in a
    forked child, a thread or this process: `share`), exit 1, no traceback, the outputs and
    lessons as the last build left them and no temporary file left beside them."""
    outputs = ["--decks", "out/decks", "--site", "out/site", "--scorm", "out/scorm"]
    code, said = run("--lessons", "project/lessons", *outputs)
    assert code == 0, said
    edit(project / "lessons" / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1 (α).")
    before = files(tmp_path / "out") | files(project)
    inject, where = FULL[output]
    inject(monkeypatch)
    monkeypatch.setattr(pipeline, "_share", lambda library: share)
    code, said = run("--lessons", "project/lessons", *outputs)
    assert code == 1, said
    shown = (
        rf"^Error: {where}: cannot write the build's outputs: No space left on device\. Fix that"
    )
    assert re.search(shown, said, re.MULTILINE), said
    assert files(tmp_path / "out") | files(project) == before


def test_a_named_error_keeps_what_it_said() -> None:
    """`files.naming`: an error naming a file keeps it; one made of a text alone keeps the
    text (its message would read "[Errno None] None" with a file name and no `strerror`)."""
    with pytest.raises(OSError, match="disk full") as caught, naming(Path("out/x.zip")):
        raise OSError("disk full")
    said = pipeline.Unwritten.of(caught.value).message
    assert (
        said
        == "out/x.zip: cannot write the build's outputs: disk full. Fix that, then build again."
    )
    with pytest.raises(FileNotFoundError) as found, naming(Path("out/x.zip")):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "out/y")
    assert found.value.filename == "out/y"


def test_a_deck_over_the_file_size_limit_is_named(project: Path, tmp_path: Path) -> None:
    """A real refusal (RLIMIT_FSIZE: `write()` fails with EFBIG, as it fails with ENOSPC on a
    full disk): SQLite, writing the deck's scratch collection, says only "disk I/O error";
    the build names the deck, exit 1, no traceback, the last decks kept, no temporary file."""
    build = [sys.executable, str(BUILD_PY), "build", "--lessons", "project/lessons"]
    build += ["--decks", "out/decks", "--no-site", "--no-scorm"]
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", **{CACHE_ENV: ""})
    subprocess.run(build, cwd=tmp_path, env=env, check=True, capture_output=True)
    edit(project / "lessons" / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1 (α).")
    before = files(tmp_path / "out") | files(project)
    done = subprocess.run(
        build, cwd=tmp_path, env=env, capture_output=True, text=True, preexec_fn=small_files
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    shown = r"^Error: out/decks/pieces-el\.apkg: cannot write the build's outputs: disk I/O error"
    assert re.search(shown, done.stderr, re.MULTILINE), done.stderr
    assert files(tmp_path / "out") | files(project) == before


def small_files() -> None:
    """No file over 16 KB (the decks' scratch collections are larger): a write past it fails
    with EFBIG (the signal it would send ignored, as a shell's `ulimit -f` does not)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, resource.RLIM_INFINITY))


def test_a_site_folder_given_as_a_link_is_written_where_it_points(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`out/site -> ../www/course` (a web server's folder): each build replaces the folder the
    link points to and keeps the link; it replaced the link with a folder of its own, and the
    server's folder was never written. A rebuild (el edited: pl's folder moved over) gives what
    a cold build gives; what a killed build left beside the folder is swept."""
    www = tmp_path / "www" / "course"
    www.mkdir(parents=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "site").symlink_to(Path("..") / "www" / "course")
    given = ["--lessons", "project/lessons", "--decks", "out/decks", "--scorm", "out/scorm"]
    code, output = run(*given, "--site", "out/site")
    assert code == 0, output
    assert (tmp_path / "out" / "site").is_symlink()
    assert (www / "index.html").is_file()
    for stale in (".course.tmp-abcd1234", ".course.old-123"):  # a killed build's: swept
        (www.parent / stale).mkdir()
    edit(project / "lessons" / "el" / "02-lesson.md", "Απάντηση 2.1.", "Απάντηση 2.1 (α).")
    code, output = run(*given, "--site", "out/site")
    assert code == 0, output
    assert (tmp_path / "out" / "site").is_symlink()
    site = {
        k[len("site/") :]: v
        for k, v in cold(project / "lessons", tmp_path, monkeypatch).items()
        if k.startswith("site/")
    }
    assert files(www) == site
    assert sorted(p.name for p in www.parent.iterdir()) == ["course"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["decks", "scorm", "site"]


@pytest.mark.parametrize(
    ("report", "said"),
    [
        ("project/lessons/course.yml", "is inside the lessons folder"),
        ("project/lessons/el/manifest.jsonl", "is inside the lessons folder"),
        ("project/lessons/el/notes.md", "is inside the lessons folder"),
        ("d/course-el.apkg", "is a file of --decks d"),
        ("d/other.APKG", "is a file of --decks d"),
        ("s/course-el-scorm12.zip", "is a file of --scorm s"),
    ],
)
def test_a_report_over_the_lessons_or_an_output_stops_the_build(
    project: Path, tmp_path: Path, report: str, said: str
) -> None:
    """`--report` replaced whatever file it named: a lesson, `course.yml` (the next build then
    ran under another course id), a manifest, a deck. In the lessons folder or another output's
    it stops the build (status 2) before anything is written, whatever exists there."""
    run("--lessons", "project/lessons", "--site", "w", "--decks", "d", "--scorm", "s")
    before = files(tmp_path)
    code, output = run(
        "--lessons", "project/lessons", "--site", "w", "--decks", "d", "--scorm", "s",
        "--report", report,
    )  # fmt: skip
    assert code == 2, output
    assert f"--report {Path(report)} {said}" in output
    assert "Give the report a file of its own" in output
    assert files(tmp_path) == before


def test_a_report_beside_the_outputs_is_written(project: Path, tmp_path: Path) -> None:
    """A Markdown file in the decks' or packages' folder, or anywhere else, is the report's."""
    for report in ("notes.md", "d/notes.md", "s/notes.md", "notes.zip"):
        code, output = run(
            "--lessons", "project/lessons", "--site", "w", "--decks", "d", "--scorm", "s",
            "--report", report,
        )  # fmt: skip
        assert code == 0, output
        assert "## el: " in (tmp_path / report).read_text()
