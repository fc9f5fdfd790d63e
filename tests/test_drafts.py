"""Drafts through the command line (`build --draft`; `watch` builds drafts: test_watch.py): a
draft takes no release's file name or folder (`places.Names`, `places.draft_folder`), leaves
the released decks, site and SCORM packages byte for byte as they were, and is removed by the
next build that is not a draft, whose outputs replace it (`pipeline._drafts_gone`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from course import pipeline
from course.cli import DRAFT_NOTE, main

OUTPUTS = ["--decks", "decks", "--site", "site", "--scorm", "scorm"]
RELEASED = ("decks", "site", "scorm")
DRAFTS = ("decks-draft", "site-draft", "scorm-draft")
LANGS = ("el", "lv", "pl")
LESSON = Path("pl/01-traits.md")


@pytest.fixture
def work(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample course's project folder (lessons in `lessons/`), the working directory."""
    monkeypatch.chdir(sample.parent)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return sample.parent


def build(*args: str) -> Result:
    return CliRunner().invoke(main, ["build", "--lessons", "lessons", *OUTPUTS, *args])


def built(*args: str) -> Result:
    result = build(*args)
    assert result.exit_code == 0, result.output
    return result


def files(work: Path, tops: tuple[str, ...]) -> dict[str, tuple[bytes, int, int]]:
    """Every file under the folders `tops` of `work`: its bytes, inode and modification time
    (a file written again, even with the same bytes, is another)."""
    found = {}
    for top in tops:
        for path in sorted((work / top).rglob("*")):
            if path.is_file():
                info = path.stat()
                found[str(path.relative_to(work))] = (
                    path.read_bytes(),
                    info.st_ino,
                    info.st_mtime_ns,
                )
    return found


def manifests(work: Path) -> dict[str, bytes]:
    return {lang: (work / "lessons" / lang / "manifest.jsonl").read_bytes() for lang in LANGS}


def edit(work: Path) -> None:
    """A changed answer in the Polish lesson."""
    path = work / "lessons" / LESSON
    text = path.read_text(encoding="utf-8")
    assert "Bo to z nim klient ma kontakt." in text
    path.write_text(text.replace("Bo to z nim klient ma kontakt.", "WIP: nie publikować."), "utf-8")


def deck(lang: str, draft: bool = False) -> str:
    return f"sample-course-{lang}{'-draft' if draft else ''}.apkg"


def package(lang: str, draft: bool = False) -> str:
    return f"sample-course-{lang}{'-draft' if draft else ''}-scorm12.zip"


def test_a_draft_leaves_the_release_as_it_was_and_writes_its_own(work: Path) -> None:
    built()  # release 1
    released, recorded = files(work, RELEASED), manifests(work)
    edit(work)
    draft = built("--draft")
    assert "pl: draft (not recorded) of release 2: 1 card changed" in draft.output
    assert files(work, RELEASED) == released  # not one file written again
    assert manifests(work) == recorded
    assert f"pl: 1 lesson, 3 notes, 5 cards -> decks-draft/{deck('pl', True)}" in draft.output
    assert "site: site-draft/index.html" in draft.output
    assert DRAFT_NOTE in draft.output
    for lang in LANGS:
        made = (work / "decks-draft" / deck(lang, True)).read_bytes()
        assert (work / "site-draft" / "decks" / deck(lang, True)).read_bytes() == made
        assert (work / "scorm-draft" / package(lang, True)).is_file()
        assert (work / "site-draft" / "scorm" / package(lang, True)).is_file()
        # Only the edited language's deck is another: the others are the release's, renamed.
        same = made == (work / "decks" / deck(lang)).read_bytes()
        assert same == (lang != "pl")
    outputs = [name for name in files(work, DRAFTS) if name.endswith((".apkg", ".zip"))]
    assert len(outputs) == 12
    assert all("-draft." in name or "-draft-" in name for name in outputs)
    landing = (work / "site-draft" / "index.html").read_text(encoding="utf-8")
    assert f'"decks/{deck("pl", True)}"' in landing
    assert f'"decks/{deck("pl")}"' not in landing
    home = (work / "site-draft" / "pl" / "index.html").read_text(encoding="utf-8")
    assert f'"../decks/{deck("pl", True)}"' in home


def test_a_release_removes_the_drafts_and_is_a_cold_builds(
    work: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The next release writes what a cold build of the same lessons writes, and removes the
    drafts it replaces with their folders: a killed draft's temporary file first."""
    built()
    edit(work)
    built("--draft")
    twin = tmp_path_factory.mktemp("twin")
    shutil.copytree(work / "lessons", twin / "lessons")  # (release 1's manifests)
    killed = work / "decks-draft" / f".{deck('el', True)}.abcd_123.tmp"
    killed.write_bytes(b"half a deck")
    release = built()
    assert "pl: release 2: 1 card changed" in release.output
    assert DRAFT_NOTE not in release.output
    assert not any((work / name).exists() for name in DRAFTS)
    os.chdir(twin)
    built()
    ours = {name: data for name, (data, *_) in files(work, RELEASED).items()}
    assert ours == {name: data for name, (data, *_) in files(twin, RELEASED).items()}


def test_a_release_of_one_language_removes_its_drafts(work: Path) -> None:
    built()
    built("--draft")
    built("--lang", "pl")
    assert not (work / "decks-draft" / deck("pl", True)).exists()
    assert not (work / "scorm-draft" / package("pl", True)).exists()
    assert not (work / "site-draft").exists()  # (the release's site replaces the whole site)
    for lang in ("el", "lv"):  # not built: their drafts are left
        assert (work / "decks-draft" / deck(lang, True)).is_file()
        assert (work / "scorm-draft" / package(lang, True)).is_file()


def test_a_build_after_a_draft_is_not_replayed(work: Path) -> None:
    """A build whose lessons and outputs are as the last one left them prints what it printed
    and does nothing else (`outputs.LastBuild`); a draft made since (its lessons unchanged, the
    release's outputs untouched) is not left behind."""
    built()  # release 1
    first = built()  # nothing changes for learners: replayed from now on
    assert built().output == first.output
    built("--draft")
    again = built()
    assert not any((work / name).exists() for name in DRAFTS)
    assert again.output == first.output
    assert built().output == first.output


def test_decks_only_drafts(work: Path) -> None:
    """A draft without site and SCORM packages: its decks only; a release without decks
    removes no draft deck."""
    built("--no-site", "--no-scorm", "--draft")
    names = sorted(p.name for p in (work / "decks-draft").iterdir())
    assert names == [deck(lang, True) for lang in LANGS]
    assert not (work / "decks").exists()
    assert not (work / "site-draft").exists()
    built("--no-decks", "--no-scorm")
    assert (work / "decks-draft").is_dir()
    assert (work / "site").is_dir()


def test_a_draft_with_problems_writes_nothing(work: Path) -> None:
    built()
    released = files(work, RELEASED)
    path = work / "lessons" / LESSON
    path.write_text(path.read_text(encoding="utf-8") + "\nPytanie bez odpowiedzi::\n", "utf-8")
    failed = build("--draft")
    assert failed.exit_code == 1
    assert "card has a question but no answer" in failed.output
    assert not any((work / name).exists() for name in DRAFTS)
    assert files(work, RELEASED) == released


def test_a_draft_that_cannot_be_written_leaves_nothing(work: Path) -> None:
    """A file where the drafts' decks folder goes: the build stops, having put nothing in
    place and left no temporary file; the release is as it was."""
    built()
    released = files(work, RELEASED)
    (work / "decks-draft").write_text("in the way", encoding="utf-8")
    failed = build("--draft")
    assert failed.exit_code == 1
    assert "cannot write the build's outputs" in failed.output
    assert not (work / "site-draft").exists()
    assert not (work / "scorm-draft").exists()
    assert files(work, RELEASED) == released
    left = [p.name for p in work.iterdir() if p.name.startswith(".") and "draft" in p.name]
    assert left == []


def test_a_failed_release_keeps_the_drafts(work: Path) -> None:
    built()
    built("--draft")
    drafts = files(work, DRAFTS)
    path = work / "lessons" / LESSON
    path.write_text(path.read_text(encoding="utf-8") + "\nPytanie bez odpowiedzi::\n", "utf-8")
    assert build().exit_code == 1
    assert files(work, DRAFTS) == drafts


def test_a_draft_never_writes_into_a_releases_folder(work: Path) -> None:
    """`--site x-draft` is the folder a draft's decks of `--decks x` would go to: refused
    before anything is written."""
    args = ["build", "--lessons", "lessons", "--decks", "out", "--site", "out-draft", "--draft"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    assert "a draft never writes into a release's folders" in refused.output
    assert [p.name for p in work.iterdir()] == ["lessons"]


class Killed(BaseException):
    """The build's process killed (not an error it reports)."""


def test_a_release_killed_while_removing_the_drafts_is_finished_by_the_next_build(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drafts' removal is a step of the release's journaled commit (journal.py): killed
    before the draft site is deleted, the next build deletes it, then the emptied folders."""
    built()
    built("--draft")
    edit(work)
    remove = pipeline._remove

    def killed(target: Path) -> None:
        if target.name == "site-draft":
            raise Killed
        remove(target)

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "_remove", killed)
        with pytest.raises(Killed):
            CliRunner().invoke(main, ["build", "--lessons", "lessons", *OUTPUTS])
    assert (work / "site-draft" / "index.html").is_file()
    assert not (work / "decks-draft" / deck("pl", True)).exists()
    again = built()
    assert "pl: nothing changes for learners" in again.output  # (release 2 was committed)
    assert not any((work / name).exists() for name in DRAFTS)
