"""Bad input: every problem as `path:line: message`, all in one run, exit 1, no traceback, and
nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from course.cli import main
from course.lessons import load_library

GOOD = """---
id: basics
title: Basics
lang: el
order: 1
---

## Section

Question?::Answer <!-- id: good1 -->
"""


def lesson(body: str, *, front: str = "id: basics\ntitle: Basics\nlang: el\norder: 1\n") -> str:
    return f"---\n{front}---\n\n{body}"


# name -> (files relative to the lessons folder, expected "relpath:line: message" fragments)
CASES: dict[str, tuple[dict[str, str | bytes], list[str]]] = {
    "missing front matter": (
        {"el/01.md": "# Title\n\nQ::A <!-- id: a -->\n"},
        ["el/01.md:1: missing front matter"],
    ),
    "invalid yaml": (
        {"el/01.md": "---\nid: basics\ntitle: [unclosed\nlang: el\n---\n"},
        ["el/01.md:4: invalid YAML"],
    ),
    "front matter not a mapping": (
        {"el/01.md": "---\n- a\n- b\n---\n"},
        ["el/01.md:2: front matter must be"],
    ),
    "missing title": (
        {"el/01.md": lesson("x\n", front="id: basics\nlang: el\norder: 1\n")},
        ["el/01.md:1: front matter has no 'title'"],
    ),
    "missing id": (
        {"el/01.md": lesson("x\n", front="title: T\nlang: el\norder: 1\n")},
        ["el/01.md:1: front matter has no 'id'"],
    ),
    "blank title": (
        {"el/01.md": lesson("x\n", front='id: basics\ntitle: "   "\nlang: el\norder: 1\n')},
        ["el/01.md:3: front matter has no 'title'"],
    ),
    "a key given twice (a merge's leftover)": (
        {"el/01.md": lesson("x\n", front="id: basics\ntitle: T\nlang: el\norder: 1\nid: other\n")},
        ["el/01.md:6: 'id' is given twice (first on line 2)"],
    ),
    "a course file key given twice": (
        {"course.yml": "id: one\ntitle: T\nid: two\n", "el/01.md": GOOD},
        ["course.yml:3: 'id' is given twice (first on line 1)"],
    ),
    "invalid id": (
        {"el/01.md": lesson("x\n", front="id: Not A Slug\ntitle: T\nlang: el\norder: 1\n")},
        ["el/01.md:2: 'id' must be a slug"],
    ),
    "lang disagrees with folder": (
        {"el/01.md": lesson("x\n", front="id: b\ntitle: T\nlang: pl\norder: 1\n")},
        ["el/01.md:4: lang 'pl' disagrees with the folder 'el'"],
    ),
    "order not a number": (
        {"el/01.md": lesson("x\n", front="id: b\ntitle: T\nlang: el\norder: first\n")},
        ["el/01.md:5: 'order' must be a whole number"],
    ),
    "duplicate lesson id": (
        {"el/01.md": GOOD, "el/02.md": GOOD.replace("good1", "good2")},
        ["el/02.md:1: duplicate lesson ID 'basics' (first used at lessons/el/01.md:1)"],
    ),
    "duplicate card id": (
        {"el/01.md": GOOD, "el/02.md": GOOD.replace("id: basics", "id: other")},
        ["el/02.md:10: duplicate card ID 'good1' (first used at lessons/el/01.md:10)"],
    ),
    "card id three times": (
        {
            "el/01.md": GOOD,
            "el/02.md": GOOD.replace("id: basics", "id: other"),
            "el/03.md": GOOD.replace("id: basics", "id: third"),
        },
        [
            "el/02.md:10: duplicate card ID 'good1' (first used at lessons/el/01.md:10)",
            "el/03.md:10: duplicate card ID 'good1' (first used at lessons/el/01.md:10)",
        ],
    ),
    "empty answer": (
        {"el/01.md": lesson("Question?:: <!-- id: e1 -->\n")},
        ["el/01.md:8: card has a question but no answer"],
    ),
    "empty question": (
        {"el/01.md": lesson(":::Answer <!-- id: e1 -->\n")},
        ["el/01.md:8: card has an answer but no question"],
    ),
    "a question of blanks' entities": (
        {"el/01.md": lesson("&nbsp;&#8203;::Answer <!-- id: e1 -->\n")},
        ["el/01.md:8: card has an answer but no question"],
    ),
    "an answer of a blank's entity": (
        {"el/01.md": lesson("Question?::&nbsp; <!-- id: e1 -->\n")},
        ["el/01.md:8: card has a question but no answer"],
    ),
    "a question that is only a comment": (
        {"el/01.md": lesson("<!-- note -->::Answer <!-- id: e1 -->\n")},
        ["el/01.md:8: card has an answer but no question"],
    ),
    "a card after a comment that starts its line": (
        {"el/01.md": lesson("<!-- note --> Question?::Answer <!-- id: e1 -->\n")},
        ["el/01.md:8: this card is hidden: a comment that starts a line hides the whole line"],
    ),
    "a cloze after a comment's last line": (
        {"el/01.md": lesson("<!--\nnote\n--> The ==hidden== part. <!-- id: e1 -->\n")},
        ["el/01.md:10: this card is hidden"],
    ),
    "empty multi-line question": (
        {"el/01.md": lesson("&nbsp;\n<!-- a note -->\n?\nAnswer <!-- id: e1 -->\n")},
        ["el/01.md:8: card has an answer but no question"],
    ),
    "multi-line answer of blanks": (
        {"el/01.md": lesson("Question?\n??\n&#xA0; <!-- id: e1 -->\n")},
        ["el/01.md:8: card has a question but no answer"],
    ),
    "a section that would tag live cards retired": (
        {
            "course.yml": "id: demo\n",
            "el/01.md": lesson(
                "## Retired\n\nQ::A <!-- id: r1 -->\n\n## Retired cards\n\nQ2::A <!-- id: r2 -->\n",
                front="id: demo\ntitle: T\nlang: el\norder: 1\n",
            ),
        },
        [
            "el/01.md:8: section 'Retired' of lesson 'demo' (the course ID) would tag its cards "
            "'demo::retired', the tag of retired cards ('demo::retired'), which learners are told "
            "to delete: rename the section"
        ],
    ),
    "a card tag at or below the retired tag, in any case": (
        {
            "course.yml": "id: demo\n",
            "el/01.md": lesson(
                "#demo/retired Q::A <!-- id: r1 -->\n\n#Demo/Retired/old Q2::A <!-- id: r2 -->\n"
                "\n#demo/retired-not Q3::A <!-- id: r3 -->\n"
            ),
        },
        [
            "el/01.md:8: card tag 'demo::retired' is the tag of retired cards ('demo::retired')",
            "el/01.md:10: card tag 'Demo::Retired::old' is the tag of retired cards",
        ],
    ),
    "a lesson tag that is the retired tag": (
        {
            "course.yml": "id: demo\n",
            "el/01.md": lesson(
                "Q::A <!-- id: r1 -->\n",
                front="id: b\ntitle: T\nlang: el\norder: 1\ntags: [x, demo::retired]\n",
            ),
        },
        ["el/01.md:1: lesson tag 'demo::retired' is the tag of retired cards"],
    ),
    "empty multi-line answer": (
        {"el/01.md": lesson("Question?\n?\n<!-- id: e1 -->\n")},
        ["el/01.md:8: card has a question but no answer"],
    ),
    "empty highlight cloze": (
        {"el/01.md": lesson("Text ==== here. <!-- id: e1 -->\n")},
        ["el/01.md:8: empty cloze"],
    ),
    "empty anki cloze": (
        {"el/01.md": lesson("Text {{c1::}} here. <!-- id: e1 -->\n")},
        ["el/01.md:8: empty cloze"],
    ),
    "invalid card id": (
        {"el/01.md": lesson("Q::A <!-- id: bad!id -->\n")},
        ["el/01.md:8: invalid card ID 'bad!id'"],
    ),
    "two ids on one card": (
        {"el/01.md": lesson("Q::A <!-- id: a1 --> <!-- id: a2 -->\n")},
        ["el/01.md:8: card has more than one ID comment"],
    ),
    "two ids on one card, one spelled in capitals": (
        {"el/01.md": lesson("Q::A <!-- id: a1 --> <!--ID:a2-->\n")},
        ["el/01.md:8: card has more than one ID comment"],
    ),
    "not utf-8": (
        {"el/01.md": lesson("Καλημέρα\n").encode("utf-8") + "\nźle\n".encode("cp1250")},
        ["el/01.md:10: not UTF-8 text"],
    ),
    "a NUL in a card (CommonMark would show U+FFFD)": (
        {"el/01.md": lesson("Q::A\x00B <!-- id: n1 -->\n")},
        ["el/01.md:8: a NUL character (byte 0x00) in the text; remove it"],
    ),
    "a NUL in the front matter": (
        {"el/01.md": lesson("x\n", front="id: b\ntitle: T\x00\nlang: el\norder: 1\n")},
        ["el/01.md:3: a NUL character"],
    ),
    "a NUL after a BOM and CRLF lines": (
        {"el/01.md": ("\ufeff" + lesson("a\n\x00\n")).replace("\n", "\r\n")},
        ["el/01.md:9: a NUL character"],
    ),
    "a NUL in the course file": (
        {"course.yml": "id: c\ntitle: T\x00\n", "el/01.md": GOOD},
        ["course.yml:2: a NUL character"],
    ),
    "a NUL in a language's course file": (
        {"el/course.yml": "title: T\n\x00\n", "el/01.md": GOOD},
        ["el/course.yml:2: a NUL character"],
    ),
    "empty file": ({"el/01.md": ""}, ["el/01.md: file is empty"]),
    "missing image": (
        {"el/01.md": lesson("Q::![x](img/none.png) <!-- id: i1 -->\n")},
        ["el/01.md:8: image 'img/none.png' not found"],
    ),
    "image outside the lessons folder": (
        {"el/01.md": lesson("![x](../../secret.png)\n"), "../secret.png": b"png"},
        ["el/01.md:8: image '../../secret.png' is outside the lessons folder"],
    ),
    "remote image": (
        {"el/01.md": lesson("![x](https://example.org/a.png)\n")},
        ["el/01.md:8: image 'https://example.org/a.png' is not a local file"],
    ),
    "course file not yaml mapping": (
        {"el/course.yml": "- a\n", "el/01.md": GOOD},
        ["el/course.yml:1: expected keys"],
    ),
    "translated_from not a language code": (
        {
            "el/01.md": lesson(
                "x\n", front="id: b\ntitle: T\nlang: el\norder: 1\ntranslated_from: Greek\n"
            )
        },
        ["el/01.md:6: 'translated_from' must be a language code such as 'el'"],
    ),
    "translated_from the lesson's own language": (
        {
            "el/01.md": lesson(
                "x\n", front="id: b\ntitle: T\nlang: el\norder: 1\ntranslated_from: el\n"
            )
        },
        ["el/01.md:6: 'translated_from' is the own lang"],
    ),
    "description not text": (
        {
            "el/01.md": lesson(
                "x\n", front="id: b\ntitle: T\nlang: el\norder: 1\ndescription: [a]\n"
            )
        },
        ["el/01.md:6: 'description' must be text"],
    ),
    "lang key left blank": (
        {"el/01.md": lesson("x\n", front="id: b\ntitle: T\nlang:\norder: 1\n")},
        ["el/01.md:4: front matter has no 'lang'"],
    ),
    "ID comment on its own line under a one-line card": (
        {"el/01.md": lesson("Q::A\n<!-- id: q1 -->\n")},
        ["el/01.md:9: the ID comment 'q1' stands on a line of its own, outside any card"],
    ),
    "ID comment on its own line after a card's explanation": (
        {"el/01.md": lesson("Q\n?\nA\n> why\n<!-- ID:q2 -->\n")},
        ["el/01.md:12: the ID comment 'q2' stands on a line of its own, outside any card"],
    ),
    "mastery_score out of range": (
        {"el/course.yml": "title: T\nmastery_score: 120\n", "el/01.md": GOOD},
        ["el/course.yml:2: 'mastery_score' must be a whole number from 0 to 100"],
    ),
    "mastery_score not a number": (
        {"el/course.yml": "mastery_score: high\n", "el/01.md": GOOD},
        ["el/course.yml:1: 'mastery_score' must be a whole number from 0 to 100"],
    ),
    "a folder named like a lesson": (
        {"el/01.md": GOOD, "el/02.md/readme.txt": "not a lesson"},
        ["el/02.md: cannot read the file"],
    ),
    "every problem in one run": (
        {
            "el/01.md": lesson("Q1:: <!-- id: a1 -->\n\nQ2:: <!-- id: a2 -->\n"),
            "el/02.md": "",
            "pl/01.md": lesson("x\n", front="id: b\ntitle: T\nlang: el\norder: 1\n"),
        },
        [
            "el/01.md:8: card has a question but no answer",
            "el/01.md:10: card has a question but no answer",
            "el/02.md: file is empty",
            "pl/01.md:4: lang 'el' disagrees with the folder 'pl'",
        ],
    ),
}


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = (root / rel).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from a project folder so paths in messages are relative, as an author sees them."""
    project = tmp_path / "project"
    (project / "lessons").mkdir(parents=True)
    monkeypatch.chdir(project)
    return project


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_error_is_reported_with_path_and_line(workdir: Path, name: str) -> None:
    files, expected = CASES[name]
    write_tree(workdir / "lessons", files)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for fragment in expected:
        assert any(line.startswith(f"lessons/{fragment}") for line in result.output.splitlines()), (
            f"{fragment!r} not in:\n{result.output}"
        )
    errors = [
        line
        for line in result.output.splitlines()
        if line.startswith("lessons/") and not line.endswith("(warning)")
    ]
    assert len(errors) == len(expected), result.output  # each problem said once, no others


@pytest.mark.parametrize(
    "name",
    [
        "empty answer",
        "not utf-8",
        "a NUL in a card (CommonMark would show U+FFFD)",
        "a NUL in the course file",
        "every problem in one run",
        "missing image",
    ],
)
def test_failed_build_writes_nothing(workdir: Path, name: str) -> None:
    files, _expected = CASES[name]
    write_tree(workdir / "lessons", {"lv/01.md": GOOD.replace("lang: el", "lang: lv")})
    CliRunner().invoke(main, ["build", "--no-site"], catch_exceptions=False)
    before = snapshot(workdir)
    assert "decks/course-lv.apkg" in before

    write_tree(workdir / "lessons", files)
    before = snapshot(workdir)  # the broken sources, next to the earlier output
    result = CliRunner().invoke(main, ["build", "--site", "site"])
    assert result.exit_code == 1
    assert "nothing was written" in result.output
    assert snapshot(workdir) == before, "earlier output and sources untouched, no temporary files"


def test_no_traceback_from_the_real_command(workdir: Path) -> None:
    write_tree(workdir / "lessons", CASES["every problem in one run"][0])
    build_py = Path(__file__).resolve().parent.parent / "build.py"
    proc = subprocess.run(
        [sys.executable, str(build_py), "build"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(build_py.parent)},
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines()[0] == "lessons/el/01.md:8: card has a question but no answer"
    assert not (workdir / "decks").exists()


def test_bom_and_crlf_are_accepted(workdir: Path) -> None:
    text = "\ufeff" + GOOD.replace("\n", "\r\n")
    write_tree(workdir / "lessons", {"el/01.md": text.encode("utf-8")})
    result = CliRunner().invoke(main, ["check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "el: 1 lesson, 1 card: ok" in result.output


def test_an_id_comment_a_card_owns_or_nobody_reads_is_no_stray(workdir: Path) -> None:
    """Only an ID comment alone on a line outside any card is refused (the error table): one
    in a commented-out card, in a code block or fence, or under a multi-line card (its own)
    is none."""
    body = (
        "Q1::A1 <!-- id: q1 -->\n\n<!--\nQ2::A2 <!-- id: q2 -->\n-->\n\n"
        "```\n<!-- id: fenced -->\n```\n\n    <!-- id: indented -->\n\n"
        "Multi\n?\nLine <!-- id: q3 -->\n"
    )
    write_tree(workdir / "lessons", {"el/01.md": lesson(body)})
    result = CliRunner().invoke(main, ["check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "el: 1 lesson, 2 cards: ok" in result.output


def test_warnings_fail_only_with_strict(workdir: Path) -> None:
    write_tree(
        workdir / "lessons",
        {"el/01.md": lesson("Q::A\n", front="id: b\ntitle: T\nlang: el\norder: 1\ncolour: red\n")},
    )
    relaxed = CliRunner().invoke(main, ["check"])
    assert relaxed.exit_code == 0
    assert "lessons/el/01.md:9: card has no ID" in relaxed.output
    assert "lessons/el/01.md:6: unknown front matter key 'colour' ignored" in relaxed.output
    strict = CliRunner().invoke(main, ["check", "--strict"])
    assert strict.exit_code == 1


def test_a_strict_build_that_stops_writes_no_card_id(workdir: Path) -> None:
    """`build --strict` with a warning besides cards without IDs stops: it writes no ID into
    the lesson (it said "nothing was written"), and lists the warning that stops it once. With
    no other warning, it gives the IDs and builds."""
    text = lesson("Q::A\n", front="id: b\ntitle: T\nlang: el\norder: 1\ncolour: red\n")
    write_tree(workdir / "lessons", {"el/01.md": text})
    result = CliRunner().invoke(main, ["build", "--strict", "--no-site"])
    assert result.exit_code == 1
    assert (workdir / "lessons" / "el" / "01.md").read_text() == text
    assert result.output.count("unknown front matter key 'colour' ignored") == 1
    assert "card ID added" not in result.output
    assert result.output.endswith("1 warning (--strict); nothing was written.\n")
    assert not (workdir / "decks").exists()
    checked = CliRunner().invoke(main, ["check", "--strict"])
    assert checked.exit_code == 1
    assert checked.output.count("unknown front matter key 'colour' ignored") == 1
    plain = lesson("Q::A\n", front="id: b\ntitle: T\nlang: el\norder: 1\n")
    write_tree(workdir / "lessons", {"el/01.md": plain})
    result = CliRunner().invoke(main, ["build", "--strict", "--no-site"])
    assert result.exit_code == 0, result.output
    assert "<!-- id: " in (workdir / "lessons" / "el" / "01.md").read_text()


def test_a_title_with_a_deck_separator_is_a_warning(workdir: Path) -> None:
    """Anki reads `::` in a deck's name as a deck inside another: a lesson's or the course's
    title with it would give learners an empty deck; a warning on its line (--strict: error)."""
    write_tree(
        workdir / "lessons",
        {
            "course.yml": "id: c\ntitle: Service::Basics\n",
            "el/01.md": lesson(
                "Q::A <!-- id: q1 -->\n", front="id: b\ntitle: A::B\nlang: el\norder: 1\n"
            ),
            "el/02.md": lesson(
                "Q::A <!-- id: q2 -->\n", front="id: c\ntitle: 'A: B'\nlang: el\norder: 2\n"
            ),
        },
    )
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    said = "'title' holds '::', which Anki reads as a deck inside another deck"
    assert f"lessons/course.yml:2: {said}" in result.output
    assert f"lessons/el/01.md:3: {said}" in result.output
    assert result.output.count(said) == 2
    assert CliRunner().invoke(main, ["check", "--strict"]).exit_code == 1


def test_script_in_a_lesson_never_becomes_script_in_a_card(workdir: Path, tmp_path: Path) -> None:
    body = '<script>alert(1)</script>::<img src=x onerror="alert(1)"> <!-- id: x1 -->\n\n<script>alert(2)</script>\n'
    write_tree(workdir / "lessons", {"el/01.md": lesson(body)})
    result = CliRunner().invoke(main, ["build", "--no-site"])
    assert result.exit_code == 0, result.output
    import zipfile

    with zipfile.ZipFile(workdir / "decks" / "course-el.apkg") as archive:
        db = archive.read("collection.anki2")
    assert b"<script" not in db.replace(b"&lt;script", b"")
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in db
    assert b"<img src=x" not in db


SOURCE_URLS = [
    # (front matter url, linked as)
    ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&amp;c=2"),
    ("HTTP://Example.org/", "HTTP://Example.org/"),
    ("mailto:editor@example.org", "mailto:editor@example.org"),
    ("javascript:alert(1)", None),
    ("JavaScript:alert(1)", None),
    (" javascript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("data:text/html,<script>alert(1)</script>", None),
    ("vbscript:x", None),
    ("http://a b", None),
    ("//example.org/x", None),
    ("https://", None),
]


@pytest.mark.parametrize(("url", "linked"), SOURCE_URLS)
def test_a_source_url_is_linked_only_when_it_is_a_web_or_mail_address(
    workdir: Path, url: str, linked: str | None
) -> None:
    """Anki shows a field's HTML with no Content-Security-Policy, and the site's lesson page
    links the source too: an address that is not http(s) or mailto is left out, with a warning
    on the `source` line (an error with --strict), the title kept."""
    import json
    import zipfile

    front = (
        f"id: b\ntitle: T\nlang: el\norder: 1\nsource:\n  title: Art\n  url: {json.dumps(url)}\n"
    )
    write_tree(workdir / "lessons", {"el/01.md": lesson("Q::A <!-- id: q1 -->\n", front=front)})
    result = CliRunner().invoke(main, ["build", "--no-scorm"])
    assert result.exit_code == 0, result.output
    warned = "lessons/el/01.md:6: source url" in result.output
    with zipfile.ZipFile(workdir / "decks" / "course-el.apkg") as archive:
        db = archive.read("collection.anki2").decode("utf-8", "replace")
    page = "".join(p.read_text() for p in (workdir / "site").rglob("*.html"))
    page += "".join(p.read_text() for p in (workdir / "site").rglob("*.js"))
    if linked is None:
        assert warned, result.output
        assert "<cite>Art</cite></a>" not in db
        assert "<cite>Art</cite></a>" not in page
        assert "<cite>Art</cite>" in db
        assert "<cite>Art</cite>" in page
        assert CliRunner().invoke(main, ["check", "--strict"]).exit_code == 1
    else:
        assert not warned, result.output
        assert f'<a href="{linked}"><cite>Art</cite></a>' in db
        assert f'href="{linked}"' in page


def test_corrupt_mod_times_file_is_an_error_not_a_traceback(workdir: Path) -> None:
    write_tree(workdir / "lessons", {"el/01.md": GOOD, "el/anki-mod-times.json": "{ not json"})
    result = CliRunner().invoke(main, ["build", "--no-site"])
    assert result.exit_code == 1
    assert result.output.startswith("lessons/el/anki-mod-times.json:1: unreadable")
    assert not (workdir / "decks" / "course-el.apkg").exists()


def test_translated_from_and_mastery_score_reach_the_model(workdir: Path) -> None:
    write_tree(
        workdir / "lessons",
        {
            "el/01.md": GOOD.replace("order: 1\n", "order: 1\ntranslated_from: pl\n"),
            "el/course.yml": "title: T\nmastery_score: 90\n",
            "pl/01.md": GOOD.replace("lang: el", "lang: pl").replace("good1", "good2"),
        },
    )
    library = load_library(workdir / "lessons")
    assert not library.warnings, library.warnings  # both keys are known
    el, pl = library.course("el"), library.course("pl")
    assert el.lessons[0].translated_from == "pl"
    assert pl.lessons[0].translated_from is None
    assert (el.mastery_score, pl.mastery_score) == (90, 80)


@pytest.mark.parametrize(
    "name",
    [
        "a section that would tag live cards retired",
        "a card tag at or below the retired tag, in any case",
        "a lesson tag that is the retired tag",
    ],
)
def test_only_the_retired_tag_and_those_below_it_are_refused(workdir: Path, name: str) -> None:
    """QA3 rough 9: the learner guide says to delete every note `tag:<course>::retired` finds;
    a section "Retired cards" or a tag `demo::retired-not` is no such tag."""
    files, expected = CASES[name]
    write_tree(workdir / "lessons", files)
    result = CliRunner().invoke(main, ["check"])
    problems = [line for line in result.output.splitlines() if line.startswith("lessons/")]
    assert len(problems) == len(expected), result.output
