"""What an author writes reaches learners as written, in the page and in Anki: comments and block
IDs never show, an explanation shows under the answer, a deck tag becomes an Anki tag, and a refused
link is a warning naming its line."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main

LESSON = """---
id: authoring
title: Authoring
lang: el
order: 1
---

Prose with a <!-- hidden note --> comment and a block ID. ^prose-1

<!--
Draft::never a card
-->

## Cards

#flashcards/science What is empathy?::Understanding how the customer feels. <!-- id: t1 --> ^blk-2
> It is not *agreeing* with them.

Active listening means ==full attention==. <!-- id: c1 -->
> Because people notice.

Question
?
Answer <!-- id: m1 -->
<!--SR:!2021-08-11,4,270-->

See [this](javascript:alert(1)).
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("authoring")
    (root / "lessons" / "el").mkdir(parents=True)
    (root / "lessons" / "el" / "01.md").write_text(LESSON, encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--frozen",
            "--lessons",
            str(root / "lessons"),
            "--decks",
            str(root / "decks"),
            "--site",
            str(root / "site"),
            "--scorm",
            str(root / "scorm"),
        ],
    )
    assert result.exit_code == 0, result.output
    return root, result.output


def notes(root: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(root / "decks" / "course-el.apkg") as archive:
        (root / "collection.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(root / "collection.anki2") as db:
        return list(db.execute("select flds, tags from notes"))


def page(root: Path) -> str:
    return (root / "site" / "el" / "index.html").read_text(encoding="utf-8")


def test_refused_link_is_a_warning_with_its_line(built: tuple[Path, str]) -> None:
    _root, output = built
    assert re.search(r"01\.md:27: link or image address 'javascript:alert\(1\)' refused", output)


def test_comments_and_block_ids_never_show(built: tuple[Path, str]) -> None:
    root, _output = built
    html = page(root)
    for hidden in ("hidden note", "Draft", "never a card", "SR:", "id: t1", "^prose-1", "^blk-2"):
        assert hidden not in html, hidden
    assert "&lt;!--" not in html
    assert "Prose with a comment and a block ID." in html
    fields = " ".join(flds for flds, _tags in notes(root))
    for hidden in ("<!--", "&lt;!--", "SR:", "^blk-2", "never a card"):
        assert hidden not in fields, hidden
    assert len(notes(root)) == 3


def test_deck_tag_is_an_anki_tag_not_question_text(built: tuple[Path, str]) -> None:
    root, _output = built
    rows = {flds.split("\x1f")[0]: tags.split() for flds, tags in notes(root)}
    assert "flashcards::science" in rows["What is empathy?"]
    assert "#flashcards" not in page(root)


def test_explanation_shows_under_the_answer_in_the_page(built: tuple[Path, str]) -> None:
    html = page(built[0])
    for card_id, answer, explanation in (
        ("t1", "Understanding how the customer feels.", "It is not <em>agreeing</em> with them."),
        ("c1", '<mark class="cloze">full attention</mark>', "Because people notice."),
    ):
        card = html.split(f'data-card-id="{card_id}">', 1)[1].split("data-card-id=", 1)[0]
        details = re.search(r"<details class=\"card-a\">(.*?)</details>", card, re.DOTALL)
        assert details, card_id
        body = details.group(1)
        assert answer in body
        assert explanation in body
        assert body.index(answer) < body.index(explanation)
        assert '<div class="card-explanation">' in body
