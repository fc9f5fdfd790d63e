"""The benchmark's instruments (bench/): its corpus is what it claims, its measurements add up.

No timing is asserted: speed is checked by running bench/bench.py, never by tests.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402
import measure  # noqa: E402

import bench  # noqa: E402

CARDS = 300  # 6 lessons of 50 cards: 2 per language


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus") / "c"
    corpus.write_corpus(root, CARDS)
    return root


def notes_in(apkg: Path, tmp: Path) -> int:
    with zipfile.ZipFile(apkg) as archive:
        db = tmp / f"{apkg.stem}.anki2"
        names = set(archive.namelist())
        db.write_bytes(
            archive.read(next(n for n in ("collection.anki21", "collection.anki2") if n in names))
        )
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("select count(*) from notes").fetchone()[0])


def test_project_builds_every_card_of_the_corpus(written: Path, tmp_path: Path) -> None:
    """Through the bench's own command line: every card has a valid ID and becomes a note."""
    project = bench.Project(written / "project" / "lessons", ())
    project.fresh(tmp_path / "run")
    project.build(tmp_path / "run", site=False)
    decks = sorted((tmp_path / "run" / "decks").glob("*.apkg"))
    assert len(decks) == len(corpus.LANGS)  # one deck per language
    assert sum(notes_in(d, tmp_path) for d in decks) == CARDS


def test_every_form_holds_the_same_cards(written: Path) -> None:
    notes = json.loads((written / "notes.json").read_text(encoding="utf-8"))
    assert sum(len(rows) for rows in notes.values()) == CARDS
    ankdown = [p.read_text(encoding="utf-8") for p in (written / "ankdown").rglob("*.md")]
    assert sum(text.count("\n---\n") + 1 for text in ankdown) == CARDS
    assert all(text.count("\n%\n") == 2 * (text.count("\n---\n") + 1) for text in ankdown)
    pages = [p.read_text(encoding="utf-8") for p in (written / "pages").glob("*/*.md")]
    assert sum(len(re.findall(r"^\*\*.+\*\*$", t, re.M)) for t in pages) == CARDS
    assert len(pages) == CARDS // 50
    greek = next((written / "project" / "lessons" / "el").glob("*.md")).read_text("utf-8")
    assert "\u037e::" in greek  # Greek questions end with the Greek question mark


def test_edit_changes_one_card_line(written: Path, tmp_path: Path) -> None:
    lessons = tmp_path / "run" / "lessons"
    bench.Project(written / "project" / "lessons", ()).fresh(tmp_path / "run")
    before = {p: p.read_text("utf-8") for p in lessons.rglob("*.md")}
    edited = corpus.edit_one_card(lessons)
    changed = [p for p, text in before.items() if p.read_text("utf-8") != text]
    assert changed == [edited]
    old, new = before[edited].splitlines(), edited.read_text("utf-8").splitlines()
    changed_lines = [b for a, b in zip(old, new, strict=True) if a != b]
    assert len(changed_lines) == 1
    assert "::" in changed_lines[0]
    assert "<!-- id: " in changed_lines[0]


def test_peak_memory_adds_up_a_process_tree(tmp_path: Path) -> None:
    """Two children holding 60 MB each at the same time: the tree's peak counts both."""
    hold = (
        "import time; b = bytearray(60 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1)"
    )
    spawn = (
        "import subprocess, sys; "
        f"ps = [subprocess.Popen([sys.executable, '-c', {hold!r}]) for _ in range(2)]; "
        "[p.wait() for p in ps]"
    )
    tree = measure.run([sys.executable, "-c", spawn], tmp_path)
    single = measure.run([sys.executable, "-c", hold], tmp_path)
    assert single.peak_mb > 60
    assert tree.peak_mb > 120
    assert tree.seconds >= 1


def test_a_failing_run_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(measure.RunFailed, match="exited 3"):
        measure.run([sys.executable, "-c", "import sys; sys.exit(3)"], tmp_path)


def test_ratios_pair_runs_of_the_same_round() -> None:
    rounds = bench.Rounds()
    for index, (a, b) in enumerate([(2.0, 1.0), (9.0, 3.0), (4.0, 4.0)]):
        rounds.add("a", index, measure.Run(a, 1))
        rounds.add("b", index, measure.Run(b, 1))
    assert rounds.ratio("a", "b") == 2.0  # median of 2, 3, 1; not median(a) / median(b) = 4/3
    assert rounds.median("a") == measure.Run(4.0, 1)


def test_compare_trees_finds_one_changed_byte(tmp_path: Path) -> None:
    for side in ("one", "two"):
        for name in ("decks", "site", "lessons"):
            (tmp_path / side / name).mkdir(parents=True)
            (tmp_path / side / name / "f.txt").write_text("same")
        (tmp_path / side / "lessons" / ".cache").mkdir()
        (tmp_path / side / "lessons" / ".cache" / "x").write_text(side)  # caches are ignored
    assert bench.compare_trees(tmp_path / "one", tmp_path / "two") == "identical"
    (tmp_path / "two" / "site" / "f.txt").write_text("samf")
    assert bench.compare_trees(tmp_path / "one", tmp_path / "two") == "site/f.txt differs"


def test_the_bundled_course_row_names_its_rounds_and_judges_the_paired_ratio() -> None:
    """Target 6 is read from many short runs (`--bundled-rounds`, 21 by default): its line says
    how many, and judges the median of per-round ratios against the 2x bound."""
    rounds = bench.Rounds()
    for index, (build, bare) in enumerate([(0.29, 0.14), (0.30, 0.14), (0.28, 0.15)]):
        rounds.add(bench.BUNDLED, index, measure.Run(build, 70))
        rounds.add(bench.BARE, index, measure.Run(bare, 30))
    (line,) = [x for x in bench.target_lines({10_000: bench.Rounds()}, rounds) if "target 6" in x]
    assert "(3 rounds)" in line
    assert "2.07x" in line  # median of 2.07, 2.14, 1.87
    assert "not met" in line
    assert bench.parse_args([]).bundled_rounds == 21
    assert bench.parse_args(["--quick"]).bundled_rounds < 21


def test_no_sizes_reports_the_bundled_course_alone() -> None:
    """`--sizes` with none runs only target 6's rounds: no corpus tables, its line still."""
    rounds = bench.Rounds()
    rounds.add(bench.BUNDLED, 0, measure.Run(0.19, 70))
    rounds.add(bench.BARE, 0, measure.Run(0.10, 30))
    assert bench.parse_args(["--sizes"]).sizes == []
    text = bench.report({}, rounds, {})
    assert "| tool |" not in text
    assert "target 6, bundled course (1 rounds)" in text
    assert "1.90x" in text
    assert "met" in text.split("1.90x")[1]


def test_the_two_process_parser_peer_writes_every_page_once(written: Path, tmp_path: Path) -> None:
    """`py2` (the parser's floor on two cores) deals the pages between two processes: together
    they write exactly the pages, and the HTML, of the one-process run."""
    script = str(BENCH / "peer_markdown.py")
    outs = {}
    for engine in ("py", "py2"):
        outs[engine] = tmp_path / engine
        command = [sys.executable, script, engine, str(written / "pages"), str(outs[engine])]
        measure.run(command, tmp_path)
    pages = {p.relative_to(outs["py"]) for p in outs["py"].rglob("*.html")}
    assert len(pages) == len(list((written / "pages").rglob("*.md"))) > CARDS // 50
    assert {p.relative_to(outs["py2"]) for p in outs["py2"].rglob("*.html")} == pages
    for page in pages:
        assert (outs["py2"] / page).read_bytes() == (outs["py"] / page).read_bytes()


def test_the_rebuild_floor_imports_only_what_a_one_edit_rebuild_imports(
    written: Path, tmp_path: Path
) -> None:
    """Target 5's floor row (`REBUILD_IMPORT`) claims to be start-up a one-edit rebuild cannot
    skip: each module it names is one the project's rebuild after `edit_one_card` imports."""
    run = tmp_path / "run"
    project = bench.Project(written / "project" / "lessons", ())
    project.fresh(run)
    project.build(run)
    corpus.edit_one_card(run / "lessons")
    args = project.argv(site=True)[3:]  # after python, build.py, "build"
    script = (
        "import sys; from course.cli import main\n"
        f"main(['build', *{args!r}], standalone_mode=False)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [bench.project_python(), "-c", script], cwd=run, env=bench.project_env(run),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    imported = set(done.stdout.split())
    named = set(re.findall(r"\w+", bench.REBUILD_IMPORT.removeprefix("import ")))
    assert len(named) == 4
    assert named <= imported, named - imported


def test_the_baseline_engine_runs_the_rebuild_rows_it_has(written: Path, tmp_path: Path) -> None:
    """`--baseline` runs the cold build in its own slot and the no-op, one-edit and watch rows
    beside this engine's, in its own tree, so their before/after ratios are taken from runs
    back to back; an engine without `watch --release` runs the others. With a twin, the tree
    after the edits is checked against a cold build of its sources."""
    work = tmp_path / "w"
    (work / "corpus").mkdir(parents=True)
    (work / "corpus" / "project").symlink_to(written / "project", target_is_directory=True)
    old = tmp_path / "old"  # this engine, but its `watch` has no --release (and fails)
    old.mkdir()
    (old / "course").symlink_to(bench.ROOT / "course", target_is_directory=True)
    (old / "build.py").write_text(
        "import sys\nif sys.argv[1:2] == ['watch']:\n"
        "    print('Usage: build.py watch [--lessons DIR]')\n"
        "    sys.exit(0 if '--help' in sys.argv else 2)\n"
        f"exec(open({str(bench.ROOT / 'build.py')!r}).read())\n"
    )
    for engine, watch_rows in ((bench.ROOT, 1), (old, 0)):
        result = bench.Rounds()
        args = bench.parse_args(["--sizes", "--baseline", str(engine), "--work", str(work)])
        slots, engines = bench._project_slots(work, args, result)
        for name, slot in slots:
            if name in ("project", "baseline engine"):
                slot(0)
        bench.cheap_rebuilds(engines, 0, 2, result, work / "twin")
        for label in (bench.FULL, bench.NOOP, bench.NOOP_AGAIN, bench.BASE_FULL, bench.BASE_NOOP):
            assert len(result.of(label)) == 1, label
        assert len(result.of(bench.EDIT)) == len(result.of(bench.BASE_EDIT)) == 2
        assert len(result.of(bench.WATCH_EDIT)) == bench.WATCH_EDITS
        assert len(result.of(bench.BASE_WATCH_EDIT)) == watch_rows * bench.WATCH_EDITS
        verdict = result.notes["one-edit rebuild vs cold build of the same sources"]
        assert verdict.startswith("identical (after 2 edits; they changed the decks: True)")
    pairs = [(a, b) for a, b, _, _ in bench.RATIOS]
    assert (bench.EDIT, bench.BASE_EDIT) in pairs
    assert (bench.WATCH_EDIT, bench.BASE_WATCH_EDIT) in pairs
    assert (bench.EDIT, bench.FULL) in pairs


def fake_engines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[bench.Engine], list[str]]:
    """This engine (A) and a baseline (B) whose builds, edits and watch rows only log what ran,
    in which tree: the layout of the cheap rebuilds without running them."""
    events: list[str] = []
    names = {tmp_path / "a": "A", tmp_path / "b": "B"}

    def build(self: bench.Project, scratch: Path, site: bool = True) -> measure.Run:
        events.append(f"build {names.get(scratch, 'twin')}")
        (scratch / "decks").mkdir(parents=True, exist_ok=True)
        (scratch / "decks" / "d.apkg").write_text(str(len(events)))  # each build's own bytes
        return measure.Run(float(len(events)), 1)

    def edit(lessons: Path) -> Path:
        events.append(f"edit {names[lessons.parent]}")
        return lessons

    def watch(project: bench.Project, scratch: Path, edits: int = 1) -> list[measure.Run]:
        events.append(f"watch {names[scratch]}")
        return [measure.Run(float(len(events) * 10 + n), 1) for n in range(edits)]

    monkeypatch.setattr(bench.Project, "build", build)
    monkeypatch.setattr(corpus, "edit_one_card", edit)
    monkeypatch.setattr(bench, "watch_edit", watch)
    project = bench.Project(tmp_path / "lessons", ())
    a = bench.Engine(project, tmp_path / "a", (bench.NOOP, bench.NOOP_AGAIN), bench.EDIT,
                     bench.WATCH_EDIT)  # fmt: skip
    b = bench.Engine(project, tmp_path / "b", (bench.BASE_NOOP,), bench.BASE_EDIT,
                     bench.BASE_WATCH_EDIT)  # fmt: skip
    return [a, b], events


def test_the_cheap_rebuilds_alternate_the_engines_back_to_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round 1 (the second) with 3 edits: pairs 3, 4, 5, each one edit in each tree then the two
    rebuilds, the engine that runs first alternating (B A, A B, B A) as it does for the no-ops
    and the watch rows; nothing else runs between them."""
    engines, events = fake_engines(tmp_path, monkeypatch)
    result = bench.Rounds()
    bench.cheap_rebuilds(engines, 1, 3, result, None)
    pair = {0: ["build A", "build B"], 1: ["build B", "build A"]}
    assert events == [
        "build B", "build A",  # the no-ops, round 1: B first
        "build A",  # the second no-op: this engine's alone
        "edit A", "edit B", *pair[1],
        "edit A", "edit B", *pair[0],
        "edit A", "edit B", *pair[1],
        "watch B", "watch A",
    ]  # fmt: skip
    for label in (bench.EDIT, bench.BASE_EDIT):
        column = result.runs[label]
        assert [run is not None for run in column] == [False] * 3 + [True] * 3, label
    # each pair's two runs recorded at the same index, whichever ran first (n = the nth event)
    assert [r.seconds for r in result.of(bench.EDIT)] == [7.0, 10.0, 15.0]
    assert [r.seconds for r in result.of(bench.BASE_EDIT)] == [6.0, 11.0, 14.0]
    assert len(result.of(bench.NOOP)) == 1
    # each watch session's edits recorded at round x WATCH_EDITS + n, beside the other engine's
    for label, session in ((bench.WATCH_EDIT, 17), (bench.BASE_WATCH_EDIT, 16)):  # nth event
        column = result.runs[label]
        width = bench.WATCH_EDITS
        assert [run is not None for run in column] == [False] * width + [True] * width, label
        assert [r.seconds for r in result.of(label)] == [session * 10 + n for n in range(width)]
    assert result.samples(bench.WATCH_EDIT, bench.BASE_WATCH_EDIT) == f"{width} pairs"


def test_n_edits_a_round_give_n_samples_a_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--edits 4` over 2 rounds: 8 paired samples of each engine's one-edit rebuild (and one
    no-op each round); the report's cells say how many runs and pairs they are made of."""
    engines, events = fake_engines(tmp_path, monkeypatch)
    result = bench.Rounds()
    for index in range(2):
        result.add(bench.FULL, index, measure.Run(10.0, 1))
        bench.cheap_rebuilds(engines, index, 4, result, None)
    assert events.count("edit A") == events.count("edit B") == 8
    assert len(result.of(bench.EDIT)) == len(result.of(bench.BASE_EDIT)) == 8
    assert len(result.of(bench.NOOP)) == 2
    assert result.samples(bench.EDIT, bench.BASE_EDIT) == "8 pairs"
    assert result.samples(bench.EDIT, bench.FULL) == "8 / 2 runs"
    assert result.samples(bench.NOOP, bench.FULL) == ""
    assert bench._run_cell(result, bench.EDIT).endswith(", 8 runs")
    assert bench._run_cell(result, bench.NOOP).endswith(" MB")
    assert bench.parse_args([]).edits == [5, 3]


def test_verify_builds_a_cold_twin_of_the_edited_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a twin (`--verify`, first round), this engine's tree after its edits is compared
    with a cold build of a copy of its lessons: here every build writes other bytes, so the
    note says where they differ; the twin is removed."""
    engines, events = fake_engines(tmp_path, monkeypatch)
    (tmp_path / "a" / "lessons").mkdir(parents=True)
    (tmp_path / "a" / "lessons" / "x.md").write_text("x")
    result = bench.Rounds()
    bench.cheap_rebuilds(engines, 0, 2, result, tmp_path / "twin")
    assert events[-3:] == ["build twin", "watch A", "watch B"]
    note = result.notes["one-edit rebuild vs cold build of the same sources"]
    assert note == "decks/d.apkg differs (after 2 edits; they changed the decks: True)"
    assert not (tmp_path / "twin").exists()


def test_the_one_edit_ratios_are_per_pair_and_of_medians() -> None:
    """Engine / baseline: the median of per-pair ratios (not the ratio of the medians);
    target 5: the median of all one-edit runs over the median cold build of the size."""
    rounds = bench.Rounds()
    for pair, (a, b) in enumerate([(0.5, 0.5), (0.7, 0.5), (0.6, 0.7), (0.9, 0.7), (1.2, 0.8)]):
        rounds.add(bench.EDIT, pair, measure.Run(a, 1, a))
        rounds.add(bench.BASE_EDIT, pair, measure.Run(b, 1, b))
    for index, cold in enumerate([5.0, 4.0, 7.0]):
        rounds.add(bench.FULL, index, measure.Run(cold, 1, cold))
    # per pair 1.0, 1.4, 0.857, 1.286, 1.5 -> 1.286; the medians' ratio is 0.7 / 0.7 = 1.0
    assert rounds.ratio(bench.EDIT, bench.BASE_EDIT) == pytest.approx(0.9 / 0.7)
    # all five edits over the three cold builds' median (pairing edit i with round i: 0.10)
    assert rounds.ratio(bench.EDIT, bench.FULL) == pytest.approx(0.7 / 5.0)
    cell = bench._ratio_cell(rounds, bench.EDIT, bench.FULL, 0.10)
    assert cell == "0.14x (0.14x CPU) not met, 5 / 3 runs"
    cell = bench._ratio_cell(rounds, bench.EDIT, bench.BASE_EDIT, None)
    assert cell == "1.29x (1.29x CPU), 5 pairs"
    text = bench.report({10_000: rounds}, None, {10_000: 3})
    assert "| project: rebuild, one card edited | 0.70 s (0.70 s CPU) / 1 MB, 5 runs |" in text


def test_a_peers_environment_is_made_again_when_moved_or_broken(tmp_path: Path) -> None:
    """`ensure_peers` keeps bench/.peers only while its stamp names the pinned peers and the
    folder it is in, and its interpreter runs."""
    peers = tmp_path / "peers"
    (peers / "bin").mkdir(parents=True)
    (peers / "bin" / "python").symlink_to(sys.executable)
    wanted = bench._peers_stamp(peers)
    (peers / "peers.txt").write_text(wanted)
    assert bench.peers_current(peers, wanted)
    assert not bench.peers_current(peers, wanted.replace("# made in", "# made  in"))
    moved = tmp_path / "moved"
    peers.rename(moved)
    assert bench._peers_stamp(moved) != wanted
    assert not bench.peers_current(moved, bench._peers_stamp(moved))
    moved.rename(peers)
    (peers / "bin" / "python").unlink()
    (peers / "bin" / "python").symlink_to(tmp_path / "gone")
    assert not bench.peers_current(peers, wanted)
    (peers / "bin" / "python").unlink()
    (peers / "bin" / "python").write_text("#!/bin/sh\nexit 1\n")
    (peers / "bin" / "python").chmod(0o755)
    assert not bench.peers_current(peers, wanted)


def test_the_baseline_builds_its_own_bundled_lessons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each engine builds the bundled course from its own checkout: an older engine refuses a
    newer manifest's keys (phase 18 added the course ID), which stopped a whole bench run."""
    built: list[tuple[Path, Path]] = []

    def build(self: bench.Project, scratch: Path, site: bool = True) -> measure.Run:
        built.append((self.lessons, self.script))
        return measure.Run(1.0, 1)

    monkeypatch.setattr(bench.Project, "fresh", lambda self, scratch: None)
    monkeypatch.setattr(bench.Project, "build", build)
    monkeypatch.setattr(measure, "run", lambda *a, **k: measure.Run(0.5, 1))
    old = tmp_path / "old"
    args = bench.parse_args(["--sizes", "--baseline", str(old), "--work", str(tmp_path / "w")])
    bench.bundled_rounds(1, args)
    assert sorted(built) == sorted(
        [(bench.ROOT / "lessons", bench.ROOT / "build.py"), (old / "lessons", old / "build.py")]
    )
