"""Builds in real processes, at once or killed: one build of a lessons folder at a time (lock.py),
a forked child never outlives its build (forked.py), and what a killed build left is swept by the
next one (sweep.py)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from course import lock, manifest, sweep
from course.cache import ENV as CACHE_ENV
from course.cli import main

ROOT = Path(__file__).resolve().parent.parent
DECKS = [f"sample-course-{lang}.apkg" for lang in ("el", "lv", "pl")]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and fork")


@pytest.fixture
def project(sample: Path, tmp_path: Path) -> Path:
    """A project folder: `lessons/` (the sample course), the cache beside it."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.move(sample, folder / "lessons")
    return folder


def env() -> dict[str, str]:
    """The command line's environment: the cache beside the lessons (the default)."""
    return {**{k: v for k, v in os.environ.items() if k != CACHE_ENV}, "PYTHONPATH": str(ROOT)}


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        cwd=project, capture_output=True, text=True, check=False, env=env(), timeout=120,
    )  # fmt: skip


def start(project: Path, code: str, *args: str) -> subprocess.Popen[str]:
    """A Python process in the project folder running `code` with `args`."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=project, env=env(), text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def line(proc: subprocess.Popen[str], stream: str = "stdout") -> str:
    out = getattr(proc, stream)
    assert out is not None
    text = out.readline()
    assert text, f"the process ended: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}"
    return str(text).rstrip("\n")


def build_here(*args: str) -> None:
    """`build` in this process (the working directory: the project), which succeeds."""
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exit_code == 0, result.output


def leave(paths: list[Path], text: str) -> None:
    """Files as a build (killed, or still running) leaves them."""
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody reaps, as in a container, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the system
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def gone(pid: int, within: float = 5.0) -> bool:
    end = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


Started = list["int | subprocess.Popen[str]"]


@pytest.fixture
def reaper() -> Iterator[Started]:
    """Processes a test started (or their ids), killed at its end whatever it asserted."""
    started: Started = []
    yield started
    for proc in started:
        if isinstance(proc, int):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc, signal.SIGKILL)
            continue
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


HOLD = """
import sys
from pathlib import Path
from course import lock, manifest, sweep
with lock.hold(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""
"""Holds the lessons folder's locks until its stdin closes (or it is killed)."""


def holder(project: Path, reaper: Started) -> subprocess.Popen[str]:
    proc = start(project, HOLD, "lessons")
    reaper.append(proc)
    assert line(proc) == "held"
    return proc


# -- one build at a time ---------------------------------------------------------------------------


def test_a_build_with_no_wait_stops_at_once_naming_the_lock_and_writes_nothing(
    project: Path, reaper: Started
) -> None:
    holder(project, reaper)
    proc = run(project, "build", "--no-wait")
    assert proc.returncode == lock.BUSY == 75
    assert (
        f"another build is running: it holds the lock on {project / '.course-cache'}" in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert not (project / "decks").exists()
    assert not (project / "site").exists()
    ids = run(project, "ids", "--no-wait")  # it writes into the lessons too
    assert ids.returncode == 75, ids.stderr


def test_a_second_build_waits_for_the_first_saying_so_then_builds(
    project: Path, reaper: Started
) -> None:
    held = holder(project, reaper)
    build = start(project, "from course.cli import main; main()", "build")
    reaper.append(build)
    said = line(build, "stderr")
    assert said == (
        f"Blocking waiting for file lock on {project / '.course-cache'}: another build is running"
    )
    time.sleep(0.5)
    assert build.poll() is None  # still waiting
    assert not (project / "decks").exists()
    assert held.stdin is not None
    held.stdin.close()  # the first build ends
    _, err = build.communicate(timeout=120)
    assert build.returncode == 0, err
    assert sorted(p.name for p in (project / "decks").iterdir()) == DECKS


def test_a_killed_build_leaves_no_stale_lock(project: Path, reaper: Started) -> None:
    held = holder(project, reaper)
    held.kill()
    held.wait()
    proc = run(project, "build", "--no-wait")
    assert proc.returncode == 0, proc.stderr
    assert "Blocking" not in proc.stderr


def test_the_locks_are_the_lessons_folder_and_the_cache_folder(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lessons = project / "lessons"
    monkeypatch.setenv(CACHE_ENV, "")
    assert lock.folders(lessons) == [lessons]
    monkeypatch.delenv(CACHE_ENV)
    assert lock.folders(lessons) == [project / ".course-cache", lessons]
    shared = tmp_path / "shared-cache"
    monkeypatch.setenv(CACHE_ENV, str(shared))
    assert lock.folders(lessons) == sorted([lessons, shared])


def test_builds_of_one_lessons_folder_with_other_caches_take_turns(
    project: Path, tmp_path: Path, reaper: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lessons folder itself is locked: not only its cache folder."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, "lessons"], cwd=project, text=True,
        env={**env(), CACHE_ENV: str(tmp_path / "one")},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    reaper.append(proc)
    assert line(proc) == "held"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "other"))
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--no-wait"])
    assert result.exit_code == 75
    assert f"it holds the lock on {project / 'lessons'}" in result.output
    assert not (project / "decks").exists()


def test_a_folder_where_no_lock_can_be_made_is_built_unlocked(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a cache folder on a read-only or lockless mount: here, a path under a file."""
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "file" / "cache"))
    monkeypatch.chdir(project)
    build_here()
    assert (project / "decks" / DECKS[0]).is_file()


def test_a_build_of_a_missing_lessons_folder_makes_no_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--lessons", "no-such-folder"])
    assert result.exit_code == 1
    assert sorted(tmp_path.iterdir()) == []


def test_builds_sharing_a_moved_cache_take_turns(
    project: Path, tmp_path: Path, reaper: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two projects whose builds share a cache folder (CI): the cache's lock is taken too."""
    other = tmp_path / "other"
    shutil.copytree(project, other)
    shared = tmp_path / "shared-cache"
    monkeypatch.setenv(CACHE_ENV, str(shared))
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, "lessons"], cwd=other, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    reaper.append(proc)
    assert line(proc) == "held"
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--no-wait"])
    assert result.exit_code == 75
    assert f"it holds the lock on {shared}" in result.output


# -- a killed build ----------------------------------------------------------------------------------

STUCK = """
import os, sys, time
from course import anki, cli
def stuck(out, db, media, stamp):
    out.write_bytes(b"half a deck")
    os.write(1, f"writing {os.getpid()}\\n".encode())  # one write: the two never interleave
    time.sleep(30)
anki._write_zip = stuck
cli.main(sys.argv[1:])
"""
"""A build whose deck writers (this process and its forked child) stop half-way, forever: each
with its collection written (a scratch file) and half a deck."""


NEW_CARDS = {
    "el/01-basics.md": "Τι ζητά ο πελάτης;::Μια λύση.",
    "lv/01-strengths.md": "Ko klients vēlas?::Risinājumu.",
    "pl/01-traits.md": "Czego chce klient?::Rozwiązania.",
}


def writer(build: subprocess.Popen[str]) -> int:
    """The next process of the build that says it is stuck writing a deck."""
    while not (said := line(build)).startswith("writing "):
        continue
    return int(said.split()[1])


def temporary(project: Path) -> list[str]:
    """Every file or folder under the project named as the build names what it is writing."""
    found = []
    for folder, dirs, names in os.walk(project):
        for name in [*dirs, *names]:
            if name.endswith(".tmp") or ".tmp-" in name or ".old-" in name:
                found.append(str(Path(folder, name).relative_to(project)))
    return sorted(found)


def test_a_killed_build_changes_no_output_its_child_dies_and_the_next_build_sweeps(
    project: Path, reaper: Started
) -> None:
    assert run(project, "build").returncode == 0
    before = {name: (project / "decks" / name).read_bytes() for name in DECKS}
    for lesson, card in NEW_CARDS.items():  # every deck is written again
        path = project / "lessons" / lesson
        path.write_text(path.read_text("utf-8") + f"\n{card}\n", "utf-8")
    build = start(project, STUCK, "build", "--lessons", "lessons")
    reaper.append(build)
    writers = {writer(build), writer(build)}  # both stuck in a deck
    assert build.pid in writers
    (child,) = writers - {build.pid}
    reaper.append(child)
    assert temporary(project)  # what it was writing
    build.kill()
    build.wait()
    assert gone(child)  # the system killed it with its parent (Linux)
    after = {name: (project / "decks" / name).read_bytes() for name in DECKS}
    assert after == before  # nothing half-written was put in place
    stale = temporary(project)
    decks = [name for name in stale if name.startswith("decks/.sample-course-")]
    scratch = [n for n in decks if (project / n).read_bytes().startswith(b"SQLite format 3")]
    assert len(scratch) == 2, stale  # each stuck writer's collection, beside the decks
    proc = run(project, "build", "--no-wait")  # the lock went with the killed build
    assert proc.returncode == 0, proc.stderr
    assert temporary(project) == []
    assert (project / "decks" / "sample-course-pl.apkg").read_bytes() != before[DECKS[2]]
    for name in DECKS:
        with zipfile.ZipFile(project / "decks" / name) as archive:
            assert archive.testzip() is None


def test_builds_of_two_lessons_folders_into_the_same_outputs_take_turns(
    project: Path, reaper: Started
) -> None:
    """Two checkouts of one course, each with its cache beside it, built into the same output
    folders: the lessons' and caches' locks do not serialize them, the output folder's does.
    The second build stops (--no-wait) or waits, and never sweeps the first one's temporary
    files from under it (its decks' renames failed, a traceback, the site's rename too)."""
    shutil.copytree(project / "lessons", project / "other" / "lessons")
    outs = ("--decks", "out/decks", "--site", "out/site", "--scorm", "out/scorm")
    build = start(project, STUCK, "build", "--lessons", "lessons", *outs)
    reaper.append(build)
    writers = {writer(build), writer(build)}  # both stuck in a deck, the scratch files beside
    reaper.extend(writers - {build.pid})
    live = temporary(project / "out")
    assert live
    proc = run(project, "build", "--lessons", "other/lessons", "--no-wait", *outs)
    assert proc.returncode == 75, proc.stderr
    assert f"another build is running: it holds the lock on {project / 'out'}\n" in proc.stderr
    assert temporary(project / "out") == live
    build.kill()
    build.wait()
    proc = run(project, "build", "--lessons", "other/lessons", "--no-wait", *outs)
    assert proc.returncode == 0, proc.stderr
    assert temporary(project / "out") == []  # what the killed build left, swept
    assert sorted(p.name for p in (project / "out" / "decks").iterdir()) == DECKS


ORPHAN = """
import os, sys, time
from functools import partial
from pathlib import Path
from course import files, forked
forked._death_signal = lambda: None  # as where the system cannot kill it (macOS)
forked.cores = lambda: 2
forked.alone = lambda: True
parent, out = os.getpid(), Path(sys.argv[1])
def call(n):
    if os.getpid() == parent:
        time.sleep(30)
    print(os.getpid(), flush=True)
    time.sleep(0.5)
    try:  # as the parse cache does: a failure to write only costs speed
        files.atomic_write(out / f"{n}.txt", b"written")
    except OSError:
        pass
forked.share([partial(call, n) for n in range(20)])
"""
"""A parent stuck in its first call while its child takes the others, each half a second."""


def test_an_orphaned_child_stops_and_renames_nothing_into_place(
    tmp_path: Path, reaper: Started
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    parent = start(tmp_path, ORPHAN, str(out))
    reaper.append(parent)
    child = int(line(parent))  # in its first call, which writes half a second from now
    reaper.append(child)
    parent.kill()
    parent.wait()
    assert gone(child, within=3.0)  # not the 19 calls left: 10 seconds
    assert sorted(p.name for p in out.iterdir()) == []  # no file, no temporary file


# -- the sweep ---------------------------------------------------------------------------------------


def test_a_build_sweeps_only_what_killed_builds_left(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    lessons = project / "lessons"
    stale = [
        lessons / "pl" / ".01-traits.md.ab_cd123.tmp",
        lessons / "el" / ".manifest.jsonl.zz9zz9zz.tmp",
        cache / ".outputs.json.abcdefgh.tmp",
        cache / "lessons" / f".{'0123abcd' * 4}.pickle.k2j4h5g6.tmp",
        cache / "templates" / f"{'0a1b' * 10}.jinjaqwertyui.tmp",
        project / "decks" / ".sample-course-el.apkg.abcdefgh.tmp",
        project / "decks" / ".sample-course-el.apkg.abcdefgh.tmp-journal",  # SQLite's, killed
        project / "scorm" / ".sample-course-lv-scorm12.zip.abcdefgh.tmp",
        project / ".site.tmp-abcdefgh" / "index.html",
        project / ".site.old-12345" / "el" / "index.html",
        project / ".report.md.abcdefgh.tmp",
    ]
    kept = [
        lessons / "pl" / ".notes.abcdefgh.tmp",  # not a file the build writes there
        lessons / "pl" / "01-traits.md.abcdefgh.tmp",  # not hidden: not the build's
        lessons / "pl" / ".01-traits.md.abc.tmp",  # not tempfile's eight characters
        project / "decks" / ".other-course-el.apkg.abcdefgh.tmp",  # another course's deck
        project / "decks" / "notes.tmp",
        project / "decks" / ".sample-course-el.apkg.abcdefgh.tmp-wal",  # not a journal we make
        project / ".site-old.tmp-abcdefgh" / "index.html",  # another folder's
        project / ".cache-of-mine" / ".x.abcdefgh.tmp",
        project / ".course-cache" / "plans" / ".x.pickle.abcdefgh.tmp",  # not this build's cache
    ]
    leave([*stale, *kept], "left")
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["build", "--report", "report.md"])
    assert result.exit_code == 0, result.output
    assert [p for p in stale if p.exists()] == []
    assert not (project / ".site.tmp-abcdefgh").exists()
    assert not (project / ".site.old-12345").exists()
    assert [p for p in kept if not p.exists()] == []


def test_the_sweep_knows_the_files_a_build_writes_into_the_lessons() -> None:
    assert sweep.LESSON_FILES == (manifest.MANIFEST_FILE, manifest.LEGACY_FILE)


# The names the sweep matches without regexes, against the regexes they stand for; drawn from
# the characters that make them up, so that near misses (a ninth character, `old-` with no
# number, an upper-case letter, a non-ASCII digit) come up often.
_PARTS = st.text(alphabet="ab_Z9\u0662.-", max_size=10)
_NAMES = st.builds(
    lambda name, middle, kind, end: f".{name}.{kind}{middle}{end}",
    st.sampled_from(["site", "a.b", "x-y", "s"]),
    _PARTS,
    st.sampled_from(["", "old-", "tmp-", "."]),
    st.sampled_from(["", ".tmp", "tmp", ".tmp-journal", "-journal"]),
)


@given(st.sampled_from(["site", "a.b", "x-y", "s"]), st.one_of(_NAMES, _PARTS))
@example("site", ".site.old-")
@example("site", ".site.old-12")
@example("site", ".site.tmp-ab_9ab_9")
@example("site", ".site.ab_9ab_9.tmp")
@example("a.b", ".a.b.ab_9ab_9.tmp")
@example("a.b", ".a.b.ab_9ab_9a.tmp")
@example("site", ".site.old-\u0662")  # a digit, not an ASCII one
@example("site", ".site.ab_9ab_9_tmp")
@example("site", "xsitexold-1")
@example("a.b", ".a-b.old-1")
@example("site", "xsitexab_9ab_9.tmp")
@example("site", ".site.ab_9ab_Z.tmp")  # not tempfile's characters
@example("site", ".site.ab_9ab_9.tmp-journal")
@example("site", ".site.ab_9ab_9-journal")
@example("site", ".site.tmp-ab_9-b_9")
def test_the_sweep_matches_names_as_the_regexes_would(name: str, found: str) -> None:
    random, escaped = sweep.RANDOM, re.escape(name)
    temp = re.fullmatch(rf"\.{escaped}\.{random}\.tmp(?:-journal)?", found) is not None
    old = re.fullmatch(rf"\.{escaped}\.old-[0-9]+", found) is not None
    site = re.fullmatch(rf"\.{escaped}\.(tmp-{random}|old-[0-9]+)", found) is not None
    assert sweep._temp_of(name)(found) is temp
    assert sweep._site_of(name, tmp=False)(found) is old
    assert sweep._site_of(name, tmp=True)(found) is site


def test_a_build_that_holds_no_lock_sweeps_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a file system without locks (some network mounts) the build runs unlocked: another
    build may be writing what looks stale, so nothing is removed (a live temporary file taken
    from under a build fails its rename)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))

    def no_locks(fd: int) -> bool:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(lock, "_try", no_locks)
    live = [
        project / "lessons" / "pl" / ".01-traits.md.ab_cd123.tmp",
        cache / "lessons" / ".0123abcd.pickle.k2j4h5g6.tmp",
        project / "decks" / ".sample-course-el.apkg.abcdefgh.tmp",
        project / ".site.tmp-abcdefgh" / "index.html",
    ]
    leave(live, "being written")
    monkeypatch.chdir(project)
    build_here()
    assert [p for p in live if not p.exists()] == []


def test_a_build_sweeps_no_cache_folder_it_does_not_lock(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache moved (COURSE_CACHE_DIR), `.course-cache/` beside the lessons is not this
    build's: a build of a sibling lessons folder may be writing there, holding its lock."""
    sibling = project / "other-lessons"
    shutil.copytree(project / "lessons", sibling)
    live = project / ".course-cache" / "lessons" / ".0123abcd.pickle.k2j4h5g6.tmp"
    live.parent.mkdir(parents=True)
    live.write_text("being written")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "moved"))
    monkeypatch.chdir(project)
    with contextlib.ExitStack() as stack:
        monkeypatch.delenv(CACHE_ENV)
        stack.enter_context(lock.hold(sibling, wait=False))  # the sibling's build
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "moved"))
        result = CliRunner().invoke(main, ["build", "--no-wait"])
        assert result.exit_code == 0, result.output
        assert live.exists()


def test_the_sweep_removes_the_temporary_files_jinja_makes_for_the_template_cache(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named as jinja2.FileSystemBytecodeCache names them with templating.py's pattern."""
    import tempfile

    from course.templating import TEMPLATE_CACHE, TemplateCache

    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    folder = cache / TEMPLATE_CACHE
    folder.mkdir(parents=True)
    name = TemplateCache(folder).pattern % ("0123456789abcdef" * 3)[:40]  # a key: sha1's hex
    with tempfile.NamedTemporaryFile(dir=folder, prefix=name, suffix=".tmp", delete=False) as f:
        f.write(b"half compiled")
    monkeypatch.chdir(project)
    build_here()
    assert not Path(f.name).exists()


def test_a_cache_folder_shared_with_other_tools_loses_none_of_their_files(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COURSE_CACHE_DIR may name a folder other programs use too (~/.cache in CI): only the
    names this build gives its own cache files are swept."""
    shared = tmp_path / "dot-cache"
    monkeypatch.setenv(CACHE_ENV, str(shared))
    theirs = [
        shared / ".settings.ini.abcdefgh.tmp",
        shared / "othertool" / ".state.json.k2j4h5g6.tmp",
        shared / "lessons" / ".notes.txt.abcdefgh.tmp",
        shared / "templates" / "__jinja2_0a1b.cacheqwertyui.tmp",  # default Jinja's, not ours
    ]
    ours = [
        shared / ".outputs.json.abcdefgh.tmp",
        shared / ".last-build.json.abcdefgh.tmp",
        shared / "lessons" / f".{'0a' * 16}.pickle.k2j4h5g6.tmp",
        shared / "plans" / f".{'0b' * 16}.pickle.abcdefgh.tmp",
    ]
    leave([*theirs, *ours], "left")
    monkeypatch.chdir(project)
    build_here()
    assert [p for p in theirs if not p.exists()] == []
    assert [p for p in ours if p.exists()] == []


STUCK_PARSE = """
import os, sys, time
from course import cli, lessons
lessons.POOL_THRESHOLD = 0  # a worker process parses a share of the lessons
lessons._cores = lambda: 2
def stuck(tasks):
    os.write(1, f"parsing {os.getpid()}\\n".encode())
    time.sleep(30)
    return []
lessons._parse_in_worker = stuck
cli.main(sys.argv[1:])
"""
"""A build whose parse worker stops half-way."""


def test_a_killed_build_leaves_no_parse_worker_holding_its_lock(
    project: Path, reaper: Started
) -> None:
    """A worker of the parse pool, forked holding the build's locks, dies with the build: left
    waiting for work that never comes, it held the lessons folder's lock for ever, and every
    later build waited for it."""
    build = start(project, STUCK_PARSE, "build", "--lessons", "lessons")
    reaper.append(build)
    said = line(build)
    assert said.startswith("parsing ")
    worker = int(said.split()[1])
    reaper.append(worker)
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    assert gone(worker)
    result = run(project, "build", "--no-wait")
    assert result.returncode == 0, result.stderr


def test_the_sweep_leaves_the_folders_below_the_languages_alone(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build writes lessons and manifests into `lessons/<lang>/` only: what looks like its
    temporary files elsewhere under the lessons (a drafts folder, a repository's or an editor's
    hidden folder, another tool writing with the same naming) is not its own."""
    lessons = project / "lessons"
    ours = lessons / "el" / ".01-basics.md.abcdefgh.tmp"
    theirs = [
        lessons / "el" / "drafts" / ".02-next.md.abcdefgh.tmp",
        lessons / ".git" / ".COMMIT_EDITMSG.md.k2j4h5g6.tmp",
        lessons / "pl" / "notes" / "deep" / ".manifest.jsonl.abcdefgh.tmp",
    ]
    leave([ours, *theirs], "being written")
    monkeypatch.chdir(project)
    build_here()
    assert not ours.exists()
    assert [p for p in theirs if not p.exists()] == []
