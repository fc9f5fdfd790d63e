"""Rebuilds render only what changed: each output (a language's deck and SCORM zip, the site) is
rendered again only when its inputs changed or the output on disk is not the one the last build
wrote, and whatever a rebuild gives is byte for byte what a cold build of the same sources gives.

Nothing here is timed: the tests assert on what a build rendered and which files it wrote."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from spies import calls

from course import pipeline
from course.cache import ENV as CACHE_ENV
from course.cli import main
from course.lessons import load_library

LANGS = ("el", "lv", "pl")


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache folder of this test's own, and a fixed clock (a cold build in another folder must
    give the same mod times)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


def build(lessons: Path, out: Path) -> pipeline.BuildResult:
    return pipeline.build(
        load_library(lessons), out / "decks", out / "site", scorm_dir=out / "scorm"
    )


def outputs(out: Path) -> dict[Path, Path]:
    """Every output of a build in `out`, by kind: each deck, each zip, the site folder."""
    found = {p.relative_to(out): p for p in sorted((out / "decks").glob("*.apkg"))}
    found |= {p.relative_to(out): p for p in sorted((out / "scorm").glob("*.zip"))}
    found[Path("site")] = out / "site"
    return found


def files(out: Path) -> dict[str, bytes]:
    """Every file under `out`, by relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def cold(lessons: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What a cold build of `lessons` gives: fresh cache, fresh output folders."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cold-cache"))
    shutil.rmtree(tmp_path / "cold", ignore_errors=True)
    result = build(lessons, tmp_path / "cold")
    assert result.unchanged == ()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return files(tmp_path / "cold")


def test_a_second_build_renders_and_writes_nothing(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build(sample, out)
    assert set(first.rendered) == {p.resolve() for p in outputs(out).values()}
    assert len(first.rendered) == 2 * len(LANGS) + 1
    before, written = stamps(out), files(out)
    second = build(sample, out)
    assert second.rendered == ()
    assert set(second.unchanged) == set(first.rendered)
    assert stamps(out) == before  # no file rewritten, not even with the same bytes
    assert files(out) == written
    assert [r.notes for r in second.languages] == [r.notes for r in first.languages]


@pytest.mark.parametrize("kind", ["deck", "zip", "site"])
@pytest.mark.parametrize("how", ["deleted", "edited"])
def test_an_output_changed_on_disk_comes_back(
    sample: Path, tmp_path: Path, kind: str, how: str
) -> None:
    out = tmp_path / "out"
    build(sample, out)
    written = files(out)
    target = {
        "deck": next((out / "decks").glob("*-pl.apkg")),
        "zip": next((out / "scorm").glob("*-pl-*.zip")),
        "site": out / "site" / "index.html",
    }[kind]
    if how == "deleted":
        target.unlink()
    else:
        with target.open("ab") as edit:
            edit.write(b"\n")
    again = build(sample, out)
    back = out / "site" if kind == "site" else target
    # The site's deck and zip are links to the build's (site.copy_downloads; copies on Windows):
    # one edited in place edits the site's too, which comes back with it; one deleted does not.
    shared = kind != "site" and how == "edited" and sys.platform != "win32"
    assert set(again.rendered) == {back.resolve(), *([(out / "site").resolve()] if shared else [])}
    assert files(out) == written


def test_an_edited_card_renders_only_its_language(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(sample, out)
    before = stamps(out)
    lesson = sample / "el" / "01-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("Η *καλή* επικοινωνία.", "Η *σαφής* επικοινωνία."), "utf-8")
    again = build(sample, out)
    outs = outputs(out)
    el = {p.resolve() for name, p in outs.items() if "-el" in name.name}
    assert set(again.rendered) == el | {(out / "site").resolve()}
    assert len(el) == 2
    after = stamps(out)
    for name in before:
        # the other languages' folders of the site are the same files, linked into the new site,
        # and so are their decks and zips (links to the build's: site.copy_downloads)
        downloads = name.startswith(("site/decks/", "site/scorm/")) and sys.platform != "win32"
        unchanged = name.startswith(("site/lv/", "site/pl/")) or (
            (downloads or not name.startswith("site")) and "-el" not in name
        )
        assert (after.get(name) == before[name]) is unchanged, name
    assert files(out) == cold(sample, tmp_path, monkeypatch)


def test_a_language_folder_is_taken_over_only_as_written_and_from_the_same_inputs(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A language folder of the site is linked into a rebuilt site only when the files on disk
    are the ones the last build wrote and what they show is unchanged: an edited file, another
    language's new lesson (its "also in" links) render the folder again."""
    out = tmp_path / "out"
    build(sample, out)
    written = files(out)
    edited = out / "site" / "pl" / "index.html"
    with edited.open("ab") as edit:
        edit.write(b"\n")
    (out / "site" / "index.html").unlink()  # the site is rendered again: pl must not be linked
    again = build(sample, out)
    assert again.rendered == ((out / "site").resolve(),)
    assert files(out) == written
    before = stamps(out)
    lesson = sample / "pl" / "02-strengths.md"
    source = (sample / "lv" / "01-strengths.md").read_text("utf-8")
    lesson.write_text(source.replace("lang: lv", "lang: pl").replace("lv-", "pl-new-"), "utf-8")
    build(sample, out)
    after = stamps(out)
    assert all(after[n] != before[n] for n in before if n.startswith("site/lv/")), "also in pl"
    assert all(after[n] == before[n] for n in before if n.startswith("site/el/"))
    assert files(out) == cold(sample, tmp_path, monkeypatch)


def test_changed_options_and_missing_record_render_again(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(sample, out)
    (tmp_path / "cache" / "outputs.json").unlink()
    assert len(build(sample, out).rendered) == 2 * len(LANGS) + 1
    draft = pipeline.build(
        load_library(sample), out / "decks", None, pipeline.BuildOptions(draft=True)
    )
    assert draft.rendered == ()  # nothing new since the release: a draft deck is the same deck
    monkeypatch.setenv(CACHE_ENV, "")  # no cache folder: every output is rendered
    assert len(build(sample, out).rendered) == 2 * len(LANGS) + 1


def test_edited_prose_renders_the_page_outputs_but_no_deck(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text outside cards is on the site and in the zip, never in the deck."""
    out = tmp_path / "out"
    build(sample, out)
    lesson = sample / "el" / "01-basics.md"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(text.replace("Εισαγωγή στο μάθημα.", "Εισαγωγή στο νέο μάθημα."), "utf-8")
    again = build(sample, out)
    zip_el = next((out / "scorm").glob("*-el-*.zip"))
    assert set(again.rendered) == {zip_el.resolve(), (out / "site").resolve()}
    assert files(out) == cold(sample, tmp_path, monkeypatch)


def test_a_changed_deck_renders_the_site_that_offers_it(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notes stamped with other mod times (a new edition, the manifest removed, another build
    time) change the deck but no lesson: the site, which ships a copy of every deck, is rendered
    again with it."""
    out = tmp_path / "out"
    build(sample, out)
    (sample / "el" / "manifest.jsonl").unlink()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790086400")
    again = pipeline.build(
        load_library(sample),
        out / "decks",
        out / "site",
        pipeline.BuildOptions(new_edition=True),
        scorm_dir=out / "scorm",
    )
    deck = next((out / "decks").glob("*-el.apkg"))
    assert deck.resolve() in again.rendered
    assert (out / "site").resolve() in again.rendered
    copies = list((out / "site").rglob(deck.name))
    assert copies
    assert all(p.read_bytes() == deck.read_bytes() for p in copies)


def _edit_manifest(lessons: Path, card: str, **values: int) -> None:
    """Set fields of one card's line in the el manifest (as a merge of branches may)."""
    path = lessons / "el" / "manifest.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        entry = json.loads(line)
        if entry.get("card") == card:
            lines[i] = json.dumps({**entry, **values}, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_note_mod_time_from_the_manifest_renders_the_deck(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(sample, out)
    _edit_manifest(sample, "el-key", mod=1790000001)
    again = build(sample, out)
    deck = next((out / "decks").glob("*-el.apkg"))
    assert set(again.rendered) == {deck.resolve(), (out / "site").resolve()}


def test_release_notes_from_the_manifest_render_the_zip(sample: Path, tmp_path: Path) -> None:
    """The course page lists the latest release's changes: the zip and the site show them."""
    out = tmp_path / "out"
    build(sample, out)
    path = sample / "el" / "manifest.jsonl"
    path.write_text(path.read_text("utf-8") + '{"release": 2, "time": 1790000500}\n', "utf-8")
    _edit_manifest(sample, "el-key", changed=2)
    again = build(sample, out)
    zip_el = next((out / "scorm").glob("*-el-*.zip"))
    assert set(again.rendered) == {zip_el.resolve(), (out / "site").resolve()}


def cli_args(sample: Path, out: Path) -> list[str]:
    args = ["build", "--lessons", str(sample), "--decks", str(out / "decks")]
    return [*args, "--site", str(out / "site"), "--scorm", str(out / "scorm")]


def cli_build(sample: Path, out: Path) -> str:
    result = CliRunner().invoke(main, cli_args(sample, out), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every real build the command line runs (a replayed one runs none)."""
    return calls(monkeypatch, pipeline, "build")


def forget_last_build(tmp_path: Path) -> None:
    (tmp_path / "cache" / "last-build.json").unlink()


def test_a_build_that_changed_nothing_is_replayed(
    sample: Path, tmp_path: Path, builds: list[object]
) -> None:
    """The next identical build prints the same lines as a real one, without loading a lesson,
    also after a build that recorded a release; any change to a lesson, a manifest or an output
    on disk makes it a real build again."""
    out = tmp_path / "out"
    released = cli_build(sample, out)  # records a release in the manifests
    quiet = cli_build(sample, out)
    assert len(builds) == 1  # replayed: what it prints was worked out by the first build
    assert quiet != released
    forget_last_build(tmp_path)
    assert cli_build(sample, out) == quiet  # a real rebuild prints the same
    assert len(builds) == 2
    for path in sample.glob("*/manifest.jsonl"):
        path.unlink()
    written = stamps(out)
    refused = CliRunner().invoke(main, cli_args(sample, out))
    assert refused.exit_code == 1  # a real build: the decks it wrote say they were published
    assert refused.output.count("no manifest, but decks of this language were published") == 3
    assert len(builds) == 3
    assert stamps(out) == written
    shutil.rmtree(out)  # back to the state the first build started from
    assert cli_build(sample, out) == released
    assert len(builds) == 4
    assert len(list(sample.glob("*/manifest.jsonl"))) == len(LANGS)
    written = stamps(out)
    assert cli_build(sample, out) == quiet
    assert len(builds) == 4  # replayed
    assert stamps(out) == written
    next((out / "scorm").glob("*-pl-*.zip")).unlink()
    assert cli_build(sample, out) == quiet
    assert len(builds) == 5
    lesson = sample / "lv" / "01-strengths.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nMore text.\n", "utf-8")
    assert cli_build(sample, out) == quiet
    assert len(builds) == 6


def test_lessons_named_from_the_working_directory_are_replayed_too(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[object]
) -> None:
    """Lesson paths are then relative (`display_path`): the check that every lesson still holds
    what the build parsed finds each in the folder all the same."""
    monkeypatch.chdir(sample.parent)
    out = tmp_path / "out"
    released = cli_build(Path(sample.name), out)
    assert "lessons/" in released  # the change report names lessons from here
    cli_build(Path(sample.name), out)
    assert len(builds) == 1  # replayed


def test_a_lesson_saved_while_the_build_runs_is_built_by_the_next_one(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The author saves a lesson after the build read it: the build records no replay for
    that folder, so the next build is a real one and the saved text reaches the deck."""
    out = tmp_path / "out"
    cli_build(sample, out)
    cli_build(sample, out)  # settled: from now on an unchanged folder is replayed
    lesson = sample / "lv" / "01-strengths.md"
    edited = lesson.read_text(encoding="utf-8") + "\nSaved during the build.\n"
    real = pipeline.build

    def saving(*args: Any, **kwargs: Any) -> pipeline.BuildResult:
        built = real(*args, **kwargs)
        lesson.write_text(edited, "utf-8")  # after the lessons were read, before remember
        return built

    other = sample / "pl" / "01-traits.md"
    other.write_text(other.read_text(encoding="utf-8") + "\nMore.\n", "utf-8")  # a real build
    monkeypatch.setattr(pipeline, "build", saving)
    cli_build(sample, out)
    monkeypatch.setattr(pipeline, "build", real)
    found: list[object] = []

    def counting(*args: Any, **kwargs: Any) -> pipeline.BuildResult:
        found.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "build", counting)
    cli_build(sample, out)
    assert found, "the build after a lesson was saved during the last one was replayed"


def test_a_file_moved_while_the_build_runs_is_built_by_the_next_one(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list[object]
) -> None:
    """A note (no build reads it) moved into its language folder while the build runs, after
    the lessons were read: no lesson the build parsed changed, but the folder did, so what this
    build printed is not what the next one prints: that one is a real build, which builds the
    note and names nothing (`build.py watch` replayed the note's warning after the move)."""
    out = tmp_path / "out"
    note = sample / "pl" / "notes" / "02-new.md"
    note.parent.mkdir()
    note.write_text("---\nid: new\ntitle: Nowa\nlang: pl\norder: 2\n---\n\n## S\n\nP::O\n", "utf-8")
    cli_build(sample, out)
    assert "not built" in cli_build(sample, out)  # settled (replayed), the note named
    other = sample / "el" / "01-basics.md"
    other.write_text(other.read_text(encoding="utf-8") + "\nMore.\n", "utf-8")  # a real build
    real = pipeline.build

    def moving(*args: Any, **kwargs: Any) -> pipeline.BuildResult:
        built = real(*args, **kwargs)
        note.rename(sample / "pl" / "02-new.md")  # after the lessons were read, before remember
        return built

    monkeypatch.setattr(pipeline, "build", moving)
    assert "not built" in cli_build(sample, out)
    monkeypatch.setattr(pipeline, "build", real)
    count = len(builds)
    printed = cli_build(sample, out)
    assert len(builds) == count + 1, "the build after a file moved during the last was replayed"
    assert "not built" not in printed
    assert "pl: release 2: 1 card added" in printed, printed


def test_the_build_after_one_that_gave_ids_is_replayed_as_a_real_one_prints(
    sample: Path, tmp_path: Path, builds: list[object]
) -> None:
    """A build that wrote IDs into a lesson and recorded a release: the next build replays what a
    real rebuild prints (no "IDs added", no warning about a missing ID)."""
    out = tmp_path / "out"
    lesson = sample / "pl" / "01-traits.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nNowe pytanie::Odpowiedź\n", "utf-8")
    first = cli_build(sample, out)
    assert "card IDs added" in first or "card ID added" in first
    replayed = cli_build(sample, out)
    assert len(builds) == 1
    forget_last_build(tmp_path)
    assert cli_build(sample, out) == replayed
    assert "ID" not in replayed
    assert len(builds) == 2


def test_after_an_edit_to_an_original_the_replay_prints_the_stale_translations(
    tmp_path: Path, builds: list[object]
) -> None:
    """The bundled course: an original's card edited makes its translations stale; the build
    records a release of the original's language and warns. The next build, replayed, prints
    what a real one prints: the same warnings (the translations' manifests are unchanged)."""
    lessons = tmp_path / "lessons"
    shutil.copytree(Path(__file__).parent.parent / "lessons", lessons)
    out = tmp_path / "out"
    cli_build(lessons, out)
    original = lessons / "el" / "01-six-skills.md"
    text = original.read_text(encoding="utf-8")
    assert "::Με όρους που καταλαβαίνουν εύκολα." in text
    edited = text.replace("::Με όρους που καταλαβαίνουν εύκολα.", "::Με όρους που καταλαβαίνουν.")
    original.write_text(edited, "utf-8")
    released = cli_build(lessons, out)
    assert "el: release 2" in released
    assert "stale" in released or "changed" in released
    replayed = cli_build(lessons, out)
    count = len(builds)
    forget_last_build(tmp_path)
    assert cli_build(lessons, out) == replayed
    assert len(builds) == count + 1
    assert "el: nothing changes for learners" in replayed
    warned = [line for line in released.splitlines() if "(warning)" in line]
    assert warned
    assert all(line in replayed for line in warned)


def test_settled_is_none_when_the_next_build_would_write_something(
    sample: Path, tmp_path: Path
) -> None:
    """`pipeline.settled` tells a replayable state only when the next build would write nothing:
    not when a manifest on disk is not the text the build writes (hand-reordered: the next build
    rewrites it), nor when the next plan would stamp a note with another time than the deck
    this build wrote."""
    out = tmp_path / "out"
    result = build(sample, out)
    again = load_library(sample)
    assert pipeline.settled(again, result, pipeline.BuildOptions()) is not None
    assert pipeline.settled(again, result, pipeline.BuildOptions(draft=True)) is None
    path = sample / "el" / "manifest.jsonl"
    text = path.read_text(encoding="utf-8")
    path.write_text("".join(reversed(text.splitlines(keepends=True))), "utf-8")
    assert pipeline.settled(again, result, pipeline.BuildOptions()) is None
    path.write_text(text, "utf-8")
    assert pipeline.settled(again, result, pipeline.BuildOptions()) is not None
    plan = result.plans[0]
    assert plan.deck is not None
    first = next(iter(plan.deck.plan.note_mods))
    older = replace(plan.deck.plan, note_mods={**plan.deck.plan.note_mods, first: 1})
    deck = replace(plan.deck, plan=older)
    other = replace(result, plans=(replace(plan, deck=deck), *result.plans[1:]))
    assert pipeline.settled(again, other, pipeline.BuildOptions()) is None


def test_settled_takes_the_next_outcome_the_build_worked_out_at_the_same_time(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that writes a manifest works out the next build's outcome against it while its
    decks' zips are written (`_render_manifest`); `settled` takes that outcome when asked at
    the same build time (the manifest on disk is the one written), and decides again at
    another: the same outcome either way. Not with a report file (`settled` gives None)."""
    from course import anki

    out = tmp_path / "out"
    result = build(sample, out)
    assert result.plans
    assert all(p.written is not None and p.written.now == 1790000000 for p in result.plans)
    assert all(p.written is not None and p.written.next is not None for p in result.plans)
    asked: list[int] = []
    replan = anki.replan

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[2])
        return replan(*args, **kwargs)

    monkeypatch.setattr(anki, "replan", spy)
    again = load_library(sample)
    taken = pipeline.settled(again, result, pipeline.BuildOptions())
    assert taken is not None
    assert asked == []
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000100")
    fresh = pipeline.settled(again, result, pipeline.BuildOptions())
    assert fresh is not None
    assert asked == [1790000100] * len(result.plans)
    assert [u.text() for u in taken.updates] == [u.text() for u in fresh.updates]
    assert taken.update_warnings == fresh.update_warnings
    lesson = next((sample / "el").glob("*.md"))
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("::", ":: Changed, ", 1), "utf-8")
    report = pipeline.BuildOptions(report=tmp_path / "report.md")
    reported = pipeline.build(load_library(sample), tmp_path / "decks", None, report)
    written = [p.written for p in reported.plans if p.written is not None]
    assert written
    assert all(w.now is None for w in written)


def test_a_folders_signature_is_cut_only_from_a_folder_holding_it(tmp_path: Path) -> None:
    """Before the commit, a language folder's signature is cut from the site's (found first),
    the same as a walk of it gives; not from a folder whose name only starts the same."""
    from course import outputs as outputs_module

    root = tmp_path.resolve()
    for name, files in (("site", {"pl/a.html": "a", "pl/lessons/b.js": "b"}), ("site2", {})):
        for path, text in files.items():
            (root / name / path).parent.mkdir(parents=True, exist_ok=True)
            (root / name / path).write_text(text, "utf-8")
    (root / "site2" / "pl").mkdir(parents=True)
    (root / "site2" / "pl" / "c.html").write_text("cc", "utf-8")
    record = outputs_module.Record(None)
    record._found[str(root / "site")] = outputs_module._signature(root / "site")
    for name in ("site", "site2"):
        target = root / name / "pl"
        found = record._signature(str(target), target)
        assert found == outputs_module._signature(target)
        assert found


def test_a_rebuild_walks_the_site_once_before_and_once_after_its_commit(
    sample: Path, tmp_path: Path, builds: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's signature is found before the build (is the last one intact?), its language
    folders' cut from it, and once after the commit, for the record of outputs, its language
    folders and the build's record of itself alike (each walk is thousands of files at 100,000
    cards); the next build is still replayed."""
    from course import outputs as outputs_module

    out = tmp_path / "out"
    cli_build(sample, out)
    lesson = sample / "lv" / "01-strengths.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nMore text.\n", "utf-8")
    walked: list[str] = []
    walk = outputs_module._walk

    def counting(folder: str, prefix: str, found: list[object]) -> None:
        if not prefix:
            walked.append(folder)
        walk(folder, prefix, found)

    monkeypatch.setattr(outputs_module, "_walk", counting)
    printed = cli_build(sample, out)
    assert len(builds) == 2
    site = str((out / "site").resolve())
    assert walked.count(site) == 2
    for lang in LANGS:  # its signatures before and after the commit are cut from the site's
        assert sum(w in {str(out / "site" / lang), f"{site}/{lang}"} for w in walked) == 0
    assert cli_build(sample, out) == printed
    assert len(builds) == 2  # replayed: the recorded signature is the site's
