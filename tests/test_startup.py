"""What a build process loads: a replayed build (nothing changed since the last one) prints its
lines without importing the build itself (the pipeline, genanki, Jinja, Babel). Nothing here is
timed: the tests look at which modules a fresh interpreter imported."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("course.pipeline", "course.anki", "course.site", "genanki", "jinja2", "babel")
PROBE = """
import json, sys
from course.cli import main
try:
    main.main(sys.argv[1:], prog_name="course-build")
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {0})))
"""


def loaded(folder: Path, *args: str) -> list[str]:
    """The modules among HEAVY's top-level packages that a fresh `build` in `folder` imported."""
    tops = sorted({name.split(".")[0] for name in HEAVY})
    code = PROBE.replace("{0}", repr(set(tops)))
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", COURSE_CACHE_DIR=str(folder / "cache"))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    names: list[str] = json.loads(done.stdout.splitlines()[-1])
    return names


def test_a_replayed_build_imports_nothing_of_the_build(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    args = ("build", "--decks", "decks", "--site", "site", "--scorm", "scorm")
    first = loaded(tmp_path, *args)
    assert all(any(m == h or m.startswith(h + ".") for m in first) for h in HEAVY)
    again = loaded(tmp_path, *args)  # the bundled course's manifests are up to date: replayed
    assert not [m for m in again if any(m == h or m.startswith(h + ".") for h in HEAVY)]
