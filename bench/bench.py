"""Benchmark: this project beside its peers on one synthetic corpus, in interleaved rounds.

    .venv/bin/python bench/bench.py                      # 10k (3 rounds) and 100k cards (1 round)
    .venv/bin/python bench/bench.py --quick              # 10k cards, 2 rounds: under 2 minutes
    .venv/bin/python bench/bench.py --sizes 10000 100000 --rounds 3 2 --verify

Each size gets a corpus (`corpus.py`: el/pl/lv lessons, 50 Q/A cards each, prose, lists, links)
written in every tool's own syntax. Every round runs every tool once, each in a fresh process, in
an order rotated from round to round; a ratio between two tools is the median of their per-round
ratios, so both sides of a ratio ran under the same load. After each round's slots, the cheap
rebuilds run back to back in the trees the round's cold builds left, this engine's and the
`--baseline` engine's alternating (A B, B A, ...): the no-ops, `--edits` pairs of one-edit
rebuilds (one card edited in each tree, then both rebuilds; their ratio is the median of per-pair
ratios, target 5's the median of all one-edit runs over the median cold build), the watch rows
(one session each, WATCH_EDITS edits in it): this machine's speed changes in stretches of
seconds, so only runs seconds apart compare.
Reported: median wall time and peak memory (RSS of the process tree, see `measure.py`), this
project's no-op and one-card-edit rebuilds, the bundled course's build beside a bare interpreter
importing the dependencies, the growth from the smallest to the largest size, and the targets of
issue 9.

Peers (genanki, markdown-it-py, markdown-it-pyrs, ankdown, mkdocs; versions in `peers.txt`) are
installed from PyPI into `bench/.peers`, a separate venv made on first use. This project runs
through its command line only (`build.py build --lessons --decks --site [--no-site]`), so the
benchmark measures whatever engine is checked out. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus
import measure
from measure import Run

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / ".peers"
PEERS_FILE = BENCH / "peers.txt"
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"
EPOCH = "1700000000"  # SOURCE_DATE_EPOCH for every project run: rebuilds can be compared bytewise
DEPS_IMPORT = "import click, genanki, markdown_it, yaml, jinja2, babel"
# What the process of any rebuild that parses one lesson and writes its deck and pages must
# import, at least: the command line, templates, the deck's SQLite and zlib. The parsers (the
# lesson's markdown-it, the front matter's YAML) are imported by the forked child that parses the
# edited lesson, meanwhile: the course files' parse and the learner guide's HTML are kept.
REBUILD_IMPORT = "import click, jinja2, sqlite3, zlib"

FULL = "project: full build (decks + site + SCORM), cold"
NOOP = "project: rebuild, nothing changed"
NOOP_AGAIN = "project: rebuild, nothing changed, again"
EDIT = "project: rebuild, one card edited"
WATCH_EDIT = "project: watch mode, one card edited (write to outputs committed)"
DECKS = "project: decks only, cold"
ANKDOWN = "ankdown (cards only)"
GENANKI = "genanki, pre-parsed notes (floor)"
MDIT = "markdown-it-py parse + render"
MDIT2 = "markdown-it-py parse + render, 2 processes"
PYRS = "markdown-it-pyrs parse + render"
MKDOCS = "mkdocs build"
BASE_FULL = "baseline engine: full build, cold"
BASE_NOOP = "baseline engine: rebuild, nothing changed"
BASE_EDIT = "baseline engine: rebuild, one card edited"
BASE_WATCH_EDIT = "baseline engine: watch mode, one card edited"
BUNDLED = "bundled course: build"
BASE_BUNDLED = "bundled course: baseline engine's build"
BARE = "bare interpreter importing the deps"
REBUILD_FLOOR = "bare interpreter importing what a one-lesson rebuild needs"

# (numerator, denominator, the bound on the ratio or None, what the bound is)
RATIOS: tuple[tuple[str, str, float | None, str], ...] = (
    (FULL, ANKDOWN, 1.0, "target 1: full build faster than ankdown"),
    (DECKS, GENANKI, 2.0, "target 2: decks within 2x of genanki"),
    (FULL, MDIT, None, ""),
    (FULL, MKDOCS, None, ""),
    (MDIT, ANKDOWN, None, ""),
    (MDIT2, ANKDOWN, None, "target 1's floor: the parser alone, on both cores"),
    (MDIT2, GENANKI, None, "the parser alone, on both cores / target 2's denominator"),
    (MDIT, PYRS, None, ""),
    (FULL, BASE_FULL, None, "this engine / the --baseline engine"),
    (NOOP, BASE_NOOP, None, "this engine / the --baseline engine"),
    (EDIT, BASE_EDIT, None, "this engine / the --baseline engine"),
    (WATCH_EDIT, BASE_WATCH_EDIT, None, "this engine / the --baseline engine"),
    (NOOP, FULL, 0.05, "target 5: no-op rebuild at most 5%"),
    (NOOP_AGAIN, FULL, 0.05, "target 5, a second no-op"),
    (EDIT, FULL, 0.10, "target 5: one-edit rebuild at most 10%"),
    (WATCH_EDIT, FULL, 0.10, "target 5 in watch mode (a resident process: `build.py watch`)"),
    (REBUILD_FLOOR, FULL, None, "target 5's one-edit floor: start-up alone, before any work"),
)
PEAK_BOUND_MB = 300.0  # target 3, at 100k cards
GROWTH_SLACK = 1.1  # target 4: 100k / 10k at most 11x, i.e. 1.1 x the size factor
BUNDLED_BOUND = 2.0  # target 6
HOME_BOUND_MB = 1.0  # target 7


# Rows run several times a round (`--edits`; the watch rows WATCH_EDITS times), indexed by pair
# (round x runs a round + repetition), not by round: this engine's and the baseline's runs of one
# index ran back to back.
REPEATED = frozenset({EDIT, BASE_EDIT, WATCH_EDIT, BASE_WATCH_EDIT})

WATCH_EDITS = 2
"""One-card edits a watch session of the watch rows times, one after the other: one a round read
1.09x and 1.15x of the baseline's with nothing in the watch path changed but the parse (phase
17), a second steadies the median for a few seconds more."""


@dataclass
class Rounds:
    """Per label, one Run (or None when the tool was not run) per round, or per pair of one-edit
    rebuilds for the `repeated` labels."""

    runs: dict[str, list[Run | None]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    repeated: frozenset[str] = REPEATED

    def add(self, label: str, index: int, run: Run) -> None:
        column = self.runs.setdefault(label, [])
        column.extend([None] * (index + 1 - len(column)))
        column[index] = run

    def of(self, label: str) -> list[Run]:
        return [r for r in self.runs.get(label, []) if r is not None]

    def median(self, label: str) -> Run | None:
        runs = self.of(label)
        if not runs:
            return None
        return Run(
            statistics.median(r.seconds for r in runs),
            statistics.median(r.peak_mb for r in runs),
            statistics.median(r.cpu for r in runs),
        )

    def paired(self, top: str, bottom: str) -> bool:
        """Whether the two rows' runs are indexed alike (both by round, or both by pair)."""
        return (top in self.repeated) == (bottom in self.repeated)

    def ratio(self, top: str, bottom: str, cpu: bool = False) -> float | None:
        """Median over rounds (or pairs) of top/bottom (wall or CPU time), both from the same
        round (pair); of a repeated row over a per-round one: the ratio of their medians."""
        if not self.paired(top, bottom):
            a, b = self.median(top), self.median(bottom)
            if a is None or b is None or (b.cpu if cpu else b.seconds) <= 0:
                return None
            return (a.cpu / b.cpu) if cpu else (a.seconds / b.seconds)
        pairs = zip(self.runs.get(top, []), self.runs.get(bottom, []), strict=False)
        values = [
            (a.cpu / b.cpu) if cpu else (a.seconds / b.seconds)
            for a, b in pairs
            if a is not None and b is not None and (b.cpu if cpu else b.seconds) > 0
        ]
        return statistics.median(values) if values else None

    def samples(self, top: str, bottom: str) -> str:
        """What a ratio with a repeated row stands on: '15 pairs' (paired runs), '15 / 3 runs'
        (a ratio of medians); '' for two per-round rows (the table's rounds)."""
        if top not in self.repeated and bottom not in self.repeated:
            return ""
        if not self.paired(top, bottom):
            return f"{len(self.of(top))} / {len(self.of(bottom))} runs"
        pairs = zip(self.runs.get(top, []), self.runs.get(bottom, []), strict=False)
        return f"{sum(a is not None and b is not None for a, b in pairs)} pairs"


# ---------------------------------------------------------------- environments


def ensure_peers(peers: Path = PEERS) -> Path:
    """`peers` (bench/.peers) with the pinned peers; (re)made unless it is `current`."""
    wanted = _peers_stamp(peers)
    if peers_current(peers, wanted):
        return peers / "bin"
    log(f"installing peers into {peers} (from PyPI) ...")
    shutil.rmtree(peers, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(peers)], check=True)
    pip = [
        str(peers / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, "-r", str(PEERS_FILE)], check=True)
    (peers / "peers.txt").write_text(wanted)
    return peers / "bin"


def _peers_stamp(peers: Path) -> str:
    """What a peers environment records of how it was made: the pinned peers, and where it was
    made (its scripts name their interpreter by that path: a copy or a moved one runs another
    environment's, or none)."""
    return f"{PEERS_FILE.read_text()}# made in {peers.resolve()}\n"


def peers_current(peers: Path, wanted: str) -> bool:
    """Whether `peers` was made from `wanted` (`_peers_stamp`) and its interpreter still runs
    (the interpreter it was made from may have gone)."""
    stamp = peers / "peers.txt"
    if not stamp.is_file() or stamp.read_text() != wanted:
        return False
    python = peers / "bin" / "python"
    try:
        return subprocess.run([str(python), "-c", ""], check=False).returncode == 0
    except OSError:
        return False


def project_python() -> str:
    return str(PROJECT_PYTHON if PROJECT_PYTHON.exists() else Path(sys.executable))


def project_env(scratch: Path) -> dict[str, str]:
    """Fixed build time; user caches inside the scratch folder, so a cold run starts empty."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, XDG_CACHE_HOME=str(scratch / ".xdg-cache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the project's runs


@dataclass(frozen=True, slots=True)
class Project:
    lessons: Path  # pristine lessons of this size
    extra: tuple[str, ...]  # --project-args
    script: Path = ROOT / "build.py"  # another checkout's build.py for --baseline

    def argv(self, site: bool) -> list[str]:
        # Target 1's full build: decks, site and SCORM packages; target 2's: the decks alone.
        args = ["--lessons", "lessons", "--decks", "decks", "--site", "site", "--scorm", "scorm"]
        return [
            project_python(), str(self.script), "build", *args,
            *([] if site else ["--no-site", "--no-scorm"]), *self.extra,
        ]  # fmt: skip

    def fresh(self, scratch: Path) -> None:
        """A cold start: no output, no cache, the pristine lessons."""
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        shutil.copytree(self.lessons, scratch / "lessons")

    def build(self, scratch: Path, site: bool = True) -> Run:
        return measure.run(self.argv(site), scratch, project_env(scratch))


def _not_cache(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n.startswith(".") or "cache" in n.lower()]


def digests(folder: Path) -> dict[str, str]:
    """Relative path -> content hash of every file, skipping caches and dot folders."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(p.startswith(".") or "cache" in p for p in rel.parts):
            found[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def compare_trees(one: Path, two: Path) -> str:
    """'identical' or the first difference between two build folders."""
    for name in ("decks", "site", "scorm", "lessons"):
        left, right = digests(one / name), digests(two / name)
        if left.keys() != right.keys():
            extra = sorted(left.keys() ^ right.keys())[:3]
            return f"different file lists in {name}/: {extra}"
        for rel, digest in left.items():
            if right[rel] != digest:
                return f"{name}/{rel} differs"
    return "identical"


def project_slot(project: Project, work: Path, index: int, rounds: Rounds) -> None:
    """This engine's cold full build, into the tree its cheap rebuilds use after the round's
    slots (`cheap_rebuilds`)."""
    scratch = work / "project"
    project.fresh(scratch)
    rounds.add(FULL, index, project.build(scratch))
    if index == 0:
        rounds.notes.update(site_sizes(scratch / "site"))


@dataclass(frozen=True, slots=True)
class Engine:
    """One engine's tree, cold-built in the round, and the rows its cheap rebuilds go to."""

    project: Project
    scratch: Path
    # The rebuilds with nothing changed, one after the other: the cold build recorded a release
    # and what its next run prints, so both may be replayed; the second also shows that a replay
    # records nothing new.
    noops: tuple[str, ...]
    edit: str
    watch: str | None  # None: the engine has no `watch --release`


def alternate(engines: Sequence[Engine], turn: int) -> list[Engine]:
    """The engines in order on an even turn, reversed on an odd one: A B, B A, A B, ..."""
    return list(engines) if turn % 2 == 0 else list(reversed(engines))


def cheap_rebuilds(
    engines: Sequence[Engine], index: int, edits: int, rounds: Rounds, twin: Path | None
) -> None:
    """After round `index`'s cold builds, each engine's rebuilds in its own tree, back to back
    and alternating, so that the two engines of a pair ran in the same stretch of the machine's
    speed: the no-ops, then `edits` pairs of one-edit rebuilds (one card edited in each tree,
    then the two rebuilds; recorded per pair), then the watch rows. With `twin`, the first
    engine's tree after its edits is checked against a cold build of the same sources."""
    for turn in range(max(len(e.noops) for e in engines)):
        for engine in alternate(engines, index + turn):
            if turn < len(engine.noops):
                rounds.add(engine.noops[turn], index, engine.project.build(engine.scratch))
    before = digests(engines[0].scratch / "decks") if twin is not None else {}
    for repetition in range(edits):
        pair = index * edits + repetition
        for engine in engines:
            corpus.edit_one_card(engine.scratch / "lessons")
        for engine in alternate(engines, pair):
            rounds.add(engine.edit, pair, engine.project.build(engine.scratch))
    if twin is not None:
        changed = digests(engines[0].scratch / "decks") != before
        verdict = compare_cold(engines[0], twin)
        rounds.notes["one-edit rebuild vs cold build of the same sources"] = (
            f"{verdict} (after {edits} edits; they changed the decks: {changed})"
        )
    for engine in alternate(engines, index):
        if engine.watch is not None:
            runs = watch_edit(engine.project, engine.scratch, WATCH_EDITS)
            for repetition, run in enumerate(runs):
                rounds.add(engine.watch, index * WATCH_EDITS + repetition, run)


def compare_cold(engine: Engine, twin: Path) -> str:
    """The engine's rebuilt tree against a cold build, in `twin`, of its lessons."""
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(engine.scratch / "lessons", twin / "lessons", ignore=_not_cache)
    engine.project.build(twin)
    verdict = compare_trees(engine.scratch, twin)
    shutil.rmtree(twin, ignore_errors=True)
    return verdict


def _cpu_seconds(pid: int) -> float:
    """User + system time of process `pid` so far (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle(pid: int, most: float = 10.0) -> None:
    """Wait until process `pid` used no CPU time over a tenth of a second (at most `most` s)."""
    end = time.perf_counter() + most
    while time.perf_counter() < end:
        before = _cpu_seconds(pid)
        time.sleep(0.1)
        if _cpu_seconds(pid) == before:
            return


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def watch_edit(project: Project, scratch: Path, edits: int = 1) -> list[Run]:
    """`build.py watch` started on the built `scratch` (its first build replays the last one),
    then one card edited as the one-edit row does, `edits` times, each once the build before it
    ended: for each, the wall time from the edit's write to the watch's line saying the build
    ended (its outputs committed), the watch process's CPU time over that span, and its peak
    RSS so far in the session."""
    argv = project.argv(site=True)
    argv[argv.index("build")] = "watch"
    argv.append("--release")  # (as the cold build it is compared with: a release, not a draft)
    proc = subprocess.Popen(
        argv, cwd=scratch, env=project_env(scratch), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    out = proc.stdout  # (narrowed here, not inside `until`)

    def until(start: str) -> None:
        for line in out:
            if line.startswith(start):
                return
            if line.startswith("watch: build failed"):
                break
        raise measure.RunFailed(f"watch: no '{start}' line (the build failed or it ended)")

    runs: list[Run] = []
    try:
        until("watch: watching")
        for repetition in range(edits):
            if repetition:
                _idle(proc.pid)  # (the last build's bookkeeping for the next, after its line)
            cpu = _cpu_seconds(proc.pid)
            start = time.perf_counter()
            corpus.edit_one_card(scratch / "lessons")
            until("watch: built in")
            seconds = time.perf_counter() - start
            runs.append(Run(seconds, _peak_mb(proc.pid), _cpu_seconds(proc.pid) - cpu))
        return runs
    finally:
        proc.terminate()
        proc.communicate()


def site_sizes(site: Path) -> dict[str, str]:
    """Target 7: the largest HTML file, and what opening a language's home page reads."""
    pages = list(site.rglob("*.html"))
    if not pages:
        return {}
    largest = max(pages, key=lambda p: p.stat().st_size)
    homes = [p for p in site.glob("*/index.html")]
    home = max((home_read_bytes(p) for p in homes), default=0)
    return {
        "site: largest HTML file": f"{largest.stat().st_size / 1e6:.2f} MB "
        f"({largest.relative_to(site)})",
        "site: opening a language's home reads": f"{home / 1e6:.2f} MB (HTML + scripts + CSS)",
        "site: home read in MB": f"{home / 1e6:.4f}",
    }


ASSET = re.compile(r"""<(?:script[^>]*\bsrc|link[^>]*\bhref)=["']([^"'#?]+)["']""")


def home_read_bytes(page: Path) -> int:
    """The page plus the local scripts and stylesheets it names (what the browser reads first)."""
    text = page.read_text(encoding="utf-8", errors="replace")
    total = page.stat().st_size
    for ref in set(ASSET.findall(text)):
        target = (page.parent / ref).resolve()
        if "://" not in ref and target.is_file():
            total += target.stat().st_size
    return total


# ---------------------------------------------------------------- peers


PEER_NAMES = {
    "ankdown": ANKDOWN, "genanki": GENANKI, "markdown-it-py": MDIT,
    "markdown-it-py-2": MDIT2, "markdown-it-pyrs": PYRS, "mkdocs": MKDOCS,
}  # fmt: skip


def peer_runs(peers: Path, root: Path, out: Path) -> dict[str, list[str]]:
    """Label -> command line of each peer's run over the corpus in `root`."""
    py = str(peers / "python")
    return {
        ANKDOWN: [str(peers / "ankdown"), "-r", str(root / "ankdown"), "-p", str(out / "a.apkg")],
        GENANKI: [py, str(BENCH / "peer_genanki.py"), str(root / "notes.json"), str(out)],
        MDIT: [py, str(BENCH / "peer_markdown.py"), "py", str(root / "pages"), str(out)],
        MDIT2: [py, str(BENCH / "peer_markdown.py"), "py2", str(root / "pages"), str(out)],
        PYRS: [py, str(BENCH / "peer_markdown.py"), "rs", str(root / "pages"), str(out)],
        MKDOCS: [
            str(peers / "mkdocs"), "build", "-q",
            "-f", str(root / "mkdocs" / "mkdocs.yml"), "-d", str(out / "site"),
        ],
    }  # fmt: skip


Slot = Callable[[int], None]


def rotated(slots: Sequence[tuple[str, Slot]], index: int) -> Iterator[tuple[str, Slot]]:
    shift = index % len(slots)
    yield from [*slots[shift:], *slots[:shift]]


def corpus_rounds(
    size: int, rounds: int, edits: int, args: argparse.Namespace, peers: Path
) -> Rounds:
    """`rounds` rounds of every slot in rotated order, each followed by the cheap rebuilds."""
    work = args.work / f"cards-{size}"
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    sizes = corpus.write_corpus(work / "corpus", size, args.cards_per_lesson)
    log(
        f"{size} cards: corpus written in {time.perf_counter() - started:.1f} s "
        f"({sizes['project'] / 1e6:.1f} MB of lessons)"
    )
    result = Rounds()
    result.notes["lessons (MB of Markdown)"] = f"{sizes['project'] / 1e6:.1f}"
    result.notes["one-edit rebuilds a round (back to back with the baseline's)"] = str(edits)
    ours, engines = _project_slots(work, args, result)
    slots = ours + _peer_slots(work, args, peers, result)
    load = os.getloadavg()[0]
    for index in range(rounds):
        for name, slot in rotated(slots, index):
            slot(index)
            log(f"  {size} cards, round {index + 1}: {name} done")
        twin = work / "project-twin" if args.verify and index == 0 else None
        cheap_rebuilds(engines, index, edits, result, twin)
        log(f"  {size} cards, round {index + 1}: rebuilds ({edits} edit pairs) done")
    result.notes["load average (1 min) at start / end"] = f"{load:.1f} / {os.getloadavg()[0]:.1f}"
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _peer_slots(
    work: Path, args: argparse.Namespace, peers: Path, result: Rounds
) -> list[tuple[str, Slot]]:
    """A slot for each peer asked for (`--tools`), each run into an empty output folder."""
    out = work / "out"

    def peer(label: str, argv: list[str]) -> Slot:
        def slot(index: int) -> None:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            result.add(label, index, measure.run(argv, out))

        return slot

    wanted = {PEER_NAMES[name] for name in args.tools} if args.tools else set(PEER_NAMES.values())
    runs = peer_runs(peers, work / "corpus", out).items()
    return [(label, peer(label, argv)) for label, argv in runs if label in wanted]


def _project_slots(
    work: Path, args: argparse.Namespace, result: Rounds
) -> tuple[list[tuple[str, Slot]], list[Engine]]:
    """This project's slots (its cold builds, decks only, the rebuild floor, the baseline
    engine's cold build), and the engines whose trees the cold builds leave for the cheap
    rebuilds."""
    project = Project(work / "corpus" / "project" / "lessons", tuple(args.project_args))

    def decks(index: int) -> None:
        scratch = work / "project-decks"
        project.fresh(scratch)
        result.add(DECKS, index, project.build(scratch, site=False))
        shutil.rmtree(scratch, ignore_errors=True)

    def floor(index: int) -> None:
        argv = [project_python(), "-c", REBUILD_IMPORT]
        result.add(REBUILD_FLOOR, index, measure.run(argv, ROOT))

    slots: list[tuple[str, Slot]] = [
        ("project", lambda i: project_slot(project, work, i, result)),
        ("project-decks", decks),
        ("rebuild floor", floor),
    ]
    engines = [Engine(project, work / "project", (NOOP, NOOP_AGAIN), EDIT, WATCH_EDIT)]
    if args.baseline:
        base = Project(project.lessons, project.extra, args.baseline / "build.py")
        watch = BASE_WATCH_EDIT if _has_watch_release(base) else None
        engines.append(Engine(base, work / "baseline", (BASE_NOOP,), BASE_EDIT, watch))

        def baseline(index: int) -> None:
            """The baseline engine's cold build, into the tree of its cheap rebuilds."""
            base.fresh(engines[1].scratch)
            result.add(BASE_FULL, index, base.build(engines[1].scratch))

        slots.append(("baseline engine", baseline))
    return slots, engines


def _has_watch_release(project: Project) -> bool:
    """Whether the engine has `watch --release` (the watch row's command; an older baseline has
    no watch, or one that records no release)."""
    argv = [project_python(), str(project.script), "watch", "--help"]
    shown = subprocess.run(argv, capture_output=True, text=True, check=False)
    return shown.returncode == 0 and "--release" in shown.stdout


def bundled_rounds(rounds: int, args: argparse.Namespace) -> Rounds:
    """The bundled course's cold build beside `python -c 'import <deps>'`, interleaved."""
    result = Rounds()
    work = args.work / "bundled"
    project = Project(ROOT / "lessons", tuple(args.project_args))
    bare = [project_python(), "-c", DEPS_IMPORT]

    def build(index: int) -> None:
        project.fresh(work)
        result.add(BUNDLED, index, project.build(work))

    def imports(index: int) -> None:
        result.add(BARE, index, measure.run(bare, ROOT))

    slots: list[tuple[str, Slot]] = [("build", build), ("bare", imports)]
    if args.baseline:
        # Its own checkout's lessons: the same course, in the manifest format it reads (an
        # older engine refuses a newer manifest's keys: phase 18's course ID).
        lessons = args.baseline / "lessons"
        base = Project(lessons, tuple(args.project_args), args.baseline / "build.py")

        def baseline(index: int) -> None:
            base.fresh(work)
            result.add(BASE_BUNDLED, index, base.build(work))

        slots.append(("baseline", baseline))
    for index in range(rounds):
        for _, slot in rotated(slots, index):
            slot(index)
    shutil.rmtree(work, ignore_errors=True)
    return result


# ---------------------------------------------------------------- report


def fmt_run(run: Run | None) -> str:
    if run is None:
        return "–"
    return f"{run.seconds:.2f} s ({run.cpu:.2f} s CPU) / {run.peak_mb:.0f} MB"


def fmt_ratio(value: float | None, bound: float | None, cpu: float | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.2f}x" + ("" if cpu is None else f" ({cpu:.2f}x CPU)")
    if bound is None:
        return text
    return f"{text} {'met' if value <= bound else 'not met'}"


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def report(by_size: dict[int, Rounds], bundled: Rounds | None, rounds: dict[int, int]) -> str:
    lines = [f"Machine: {machine()}. Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}."]
    if by_size:
        lines += _runs_table(by_size, rounds) + _ratios_table(by_size)
    lines += growth_lines(by_size)
    lines += target_lines(by_size, bundled)
    lines += ["", "Notes:", ""]
    for size in sorted(by_size):
        for key, value in by_size[size].notes.items():
            if not key.endswith("in MB"):
                lines.append(f"- {size:,} cards, {key}: {value}")
    return "\n".join(lines) + "\n"


def _runs_table(by_size: dict[int, Rounds], rounds: dict[int, int]) -> list[str]:
    """Each row's median run at each size."""
    sizes = sorted(by_size)
    lines = [
        "",
        "Median wall time (median CPU time, user + system) / median peak RSS of the process "
        "tree; each run a fresh process; rounds interleaved (tool order rotated each round).",
        "",
        "| tool | "
        + " | ".join(
            f"{s:,} cards ({rounds[s]} round{'s' if rounds[s] > 1 else ''})" for s in sizes
        )
        + " |",
        "|---" * (len(sizes) + 1) + "|",
    ]
    labels = [FULL, NOOP, NOOP_AGAIN, EDIT, WATCH_EDIT, DECKS, BASE_FULL, BASE_NOOP, BASE_EDIT]
    labels += [BASE_WATCH_EDIT, REBUILD_FLOOR]
    labels += [ANKDOWN, GENANKI, MDIT, MDIT2, PYRS, MKDOCS]
    for label in labels:
        if any(by_size[s].of(label) for s in sizes):
            cells = [_run_cell(by_size[s], label) for s in sizes]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _run_cell(rounds: Rounds, label: str) -> str:
    """The median run; for a row run several times a round, how many runs it is the median of."""
    text = fmt_run(rounds.median(label))
    return f"{text}, {len(rounds.of(label))} runs" if label in rounds.repeated else text


def _ratios_table(by_size: dict[int, Rounds]) -> list[str]:
    """Each of RATIOS that ran, at each size, with its bound."""
    sizes = sorted(by_size)
    lines = [
        "",
        "Ratios of wall time (and of CPU time), median of per-round ratios (same round, same "
        "load); the one-edit rebuilds, run several times a round: median of per-pair ratios "
        "(n pairs, run back to back) between the two engines, ratio of medians (n / m runs) "
        "over a cold build; a bound is judged on wall time:",
        "",
    ]
    lines += ["| ratio | " + " | ".join(f"{s:,}" for s in sizes) + " | bound |"]
    lines += ["|---" * (len(sizes) + 2) + "|"]
    for top, bottom, bound, what in RATIOS:
        if not any(by_size[s].of(top) and by_size[s].of(bottom) for s in sizes):
            continue  # e.g. the baseline rows without --baseline
        cells = [_ratio_cell(by_size[s], top, bottom, bound) for s in sizes]
        lines.append(f"| {top} / {bottom} | " + " | ".join(cells) + f" | {what or '–'} |")
    return lines


def _ratio_cell(rounds: Rounds, top: str, bottom: str, bound: float | None) -> str:
    text = fmt_ratio(rounds.ratio(top, bottom), bound, rounds.ratio(top, bottom, cpu=True))
    samples = rounds.samples(top, bottom)
    return f"{text}, {samples}" if samples and text != "–" else text


def growth_lines(by_size: dict[int, Rounds]) -> list[str]:
    sizes = sorted(by_size)
    if len(sizes) < 2:
        return []
    small, large = sizes[0], sizes[-1]
    factor = large / small
    lines = [
        "",
        f"Growth {large:,} / {small:,} cards (target 4: at most {GROWTH_SLACK * factor:.0f}x):",
        "",
        "| tool | wall time | CPU time | peak memory |",
        "|---|---|---|---|",
    ]
    for label in (FULL, DECKS, NOOP, EDIT, ANKDOWN, GENANKI, MDIT, MDIT2, PYRS, MKDOCS):
        a, b = by_size[small].median(label), by_size[large].median(label)
        if a is not None and b is not None:
            lines.append(
                f"| {label} | {b.seconds / a.seconds:.1f}x | {b.cpu / a.cpu:.1f}x "
                f"| {b.peak_mb / a.peak_mb:.1f}x |"
            )
    return lines


def target_lines(by_size: dict[int, Rounds], bundled: Rounds | None) -> list[str]:
    lines = ["", "Other targets of issue 9:", ""]
    if by_size:
        lines += _largest_lines(max(by_size), by_size[max(by_size)])
    if bundled is not None:
        lines += _bundled_lines(bundled)
    return lines


def _largest_lines(large: int, rounds: Rounds) -> list[str]:
    """Targets 3 and 7, at the largest size."""
    lines = []
    peaks = [m.peak_mb for m in (rounds.median(x) for x in (FULL, DECKS)) if m]
    if peaks and large >= 100_000:
        peak = max(peaks)
        verdict = "met" if peak < PEAK_BOUND_MB else "not met"
        lines.append(f"- target 3, peak memory at {large:,} cards: {peak:.0f} MB ({verdict})")
    home = rounds.notes.get("site: home read in MB")
    if home is not None:
        verdict = "met" if float(home) < HOME_BOUND_MB else "not met"
        lines.append(f"- target 7, opening a language's home at {large:,} cards reads "
                     f"{float(home):.2f} MB ({verdict})")  # fmt: skip
    return lines


def _bundled_lines(bundled: Rounds) -> list[str]:
    """Target 6, with the baseline engine's figure when it ran."""
    ratio = bundled.ratio(BUNDLED, BARE)
    cpu = bundled.ratio(BUNDLED, BARE, cpu=True)
    lines = [
        f"- target 6, bundled course ({len(bundled.of(BUNDLED))} rounds): build "
        f"{fmt_run(bundled.median(BUNDLED))}, bare "
        f"imports {fmt_run(bundled.median(BARE))}: {fmt_ratio(ratio, BUNDLED_BOUND, cpu)}"
    ]
    if bundled.of(BASE_BUNDLED):
        base = fmt_ratio(bundled.ratio(BASE_BUNDLED, BARE), BUNDLED_BOUND,
                         bundled.ratio(BASE_BUNDLED, BARE, cpu=True))  # fmt: skip
        lines.append(
            f"  (baseline engine: {fmt_run(bundled.median(BASE_BUNDLED))}: {base}; this "
            f"engine / baseline {fmt_ratio(bundled.ratio(BUNDLED, BASE_BUNDLED), None)})"
        )
    return lines


def raw(by_size: dict[int, Rounds], bundled: Rounds | None) -> dict[str, object]:
    def dump(r: Rounds) -> dict[str, object]:
        runs = {
            k: [None if x is None else [x.seconds, x.cpu, x.peak_mb] for x in v]
            for k, v in r.runs.items()
        }
        return {"runs": runs, "notes": r.notes}

    data: dict[str, object] = {str(size): dump(r) for size, r in by_size.items()}
    if bundled is not None:
        data["bundled"] = dump(bundled)
    return data


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _corpus_options(parser)
    _run_options(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.rounds, args.bundled_rounds = [10_000], [2], 5
    return args


def _corpus_options(parser: argparse.ArgumentParser) -> None:
    """What is measured: the corpora's sizes and rounds, the peers, the bundled course."""
    parser.add_argument(
        "--sizes",
        nargs="*",
        type=int,
        default=[10_000, 100_000],
        help="cards per corpus (default: 10000 100000; none: only the bundled course)",
    )
    parser.add_argument(
        "--rounds",
        nargs="+",
        type=int,
        default=[3, 1],
        help="rounds per size, in the order of --sizes; the last repeats",
    )
    parser.add_argument(
        "--edits",
        nargs="+",
        type=int,
        default=[5, 3],
        help="pairs of one-edit rebuilds (this engine's, the baseline's, alternating) per round,"
        " per size in the order of --sizes; the last repeats (default: 5 3)",
    )
    parser.add_argument("--quick", action="store_true", help="10,000 cards, 2 rounds")
    parser.add_argument("--cards-per-lesson", type=int, default=50)
    parser.add_argument(
        "--tools",
        nargs="*",
        default=[],
        choices=sorted(PEER_NAMES),
        help="only these peers (default: all); the project always runs",
    )
    parser.add_argument("--no-bundled", action="store_true", help="skip the bundled-course runs")
    parser.add_argument(
        "--bundled-rounds",
        type=int,
        default=21,
        help="rounds of the bundled course beside the bare imports (default 21, about 20 s; with"
        " 0.13 s of imports, 3 rounds move the ratio by a tenth)",
    )


def _run_options(parser: argparse.ArgumentParser) -> None:
    """How it is run: checks, the project's arguments, folders, the baseline engine."""
    parser.add_argument(
        "--verify",
        action="store_true",
        help="check the tree after the one-edit rebuilds against a cold build (first round)",
    )
    parser.add_argument(
        "--project-args",
        nargs="*",
        default=[],
        help="extra arguments for every `build.py build` run",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/course-bench"),
        help="scratch folder (corpora and outputs)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a folder with another checkout's build.py and course/ (e.g. `git archive` of an"
        " older commit): its cold build runs in the same rounds, its rebuilds alternate with this"
        " engine's after each round's cold builds, for before/after ratios",
    )
    parser.add_argument("--keep", action="store_true", help="keep the corpora and outputs")
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH / "results.md",
        help="where to write the Markdown table (and .json of every run)",
    )


def _per_size(sizes: Sequence[int], values: Sequence[int]) -> dict[int, int]:
    """An option given per size, in the order of --sizes; the last value repeats."""
    return {size: values[min(i, len(values) - 1)] for i, size in enumerate(sizes)}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    peers = ensure_peers() if args.sizes else Path()
    rounds, edits = _per_size(args.sizes, args.rounds), _per_size(args.sizes, args.edits)
    by_size = {s: corpus_rounds(s, rounds[s], edits[s], args, peers) for s in args.sizes}
    bundled = None if args.no_bundled else bundled_rounds(args.bundled_rounds, args)
    text = report(by_size, bundled, rounds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(raw(by_size, bundled), indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
