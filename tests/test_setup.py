"""What setup.sh installs from npm runs on this machine's Node: `npm ci` as the setup runs it
(`--engine-strict`) refuses a tool whose engines exclude it (npm would otherwise only warn,
EBADENGINE, hidden in the quiet setup's log, and the tests would drive Firefox through a tool
made for another Node). Offline and `--dry-run`: nothing is downloaded or installed."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail("npm is not installed; CI needs it (bash setup.sh runs npm ci)")
        pytest.skip("npm is not installed")
    return npm


def setup_npm_ci() -> list[str]:
    """setup.sh's `npm ci` command line, from `npm` on."""
    (line,) = [ln for ln in (ROOT / "setup.sh").read_text().splitlines() if " npm ci " in ln]
    words = shlex.split(line)
    return words[words.index("npm") + 1 :]


def dry_run(folder: Path) -> subprocess.CompletedProcess[str]:
    """setup.sh's `npm ci` in `folder`, offline, installing nothing."""
    return subprocess.run(
        [_npm(), *setup_npm_ci(), "--dry-run", "--offline"],
        cwd=folder, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_every_npm_tool_the_setup_installs_supports_this_node(tmp_path: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / name, tmp_path / name)
    proc = dry_run(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "EBADENGINE" not in proc.stdout + proc.stderr


def test_the_setup_stops_on_a_tool_that_does_not_support_this_node(tmp_path: Path) -> None:
    shutil.copy(ROOT / "package.json", tmp_path / "package.json")
    lock = json.loads((ROOT / "package-lock.json").read_text())
    lock["packages"]["node_modules/scorm-again"]["engines"] = {"node": ">=999"}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    proc = dry_run(tmp_path)
    assert proc.returncode != 0
    assert "EBADENGINE" in proc.stderr
