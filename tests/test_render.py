"""Render stage: a lesson's strings are made where it is parsed, and are what each output shows.

The golden pages (test_site.py) and the byte-identity of decks guard the whole outputs; these
tests guard what the render stage alone decides: which rules render which string, that no token
leaves the process that parsed the lesson, and that the translation hashes stay those recorded in
manifests by earlier versions."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it.token import Token

from course import cache, lessons, markdown, render, translations
from course.lessons import Report, load_lesson
from course.messages import messages
from course.model import Lesson

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
LESSON = """\
---
id: demo
title: Demo
lang: pl
order: 1
description: Krótko.
---

# Wstęp

Tekst *lekcji* z obrazem ![kropka](dot.png).

Pytanie ![kropka](dot.png)::Odpowiedź **ważna** <!-- id: q1 -->
> Bo *tak*.

Jeden:::Dwa <!-- id: r1 -->

Słowo {{c1::pierwsze}} i {{c2::drugie::wskazówka}}. <!-- id: z1 -->

## Dalej

Więcej prozy.

Bez ID::Nic
"""


def load(tmp_path: Path, text: str = LESSON) -> Lesson:
    folder = tmp_path / "lessons" / "pl"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dot.png").write_bytes(PNG)
    (folder / "01.md").write_text(text, "utf-8")
    report = Report()
    lesson = load_lesson(folder / "01.md", "pl", tmp_path / "lessons", report)
    assert lesson is not None
    assert not report.errors
    return lesson


def test_card_strings_are_each_outputs_rendering(tmp_path: Path) -> None:
    lesson = load(tmp_path)
    basic, reversed_, cloze, _ = (card.rendered for card in lesson.cards)
    site_basic, site_reversed, site_cloze, site_no_id = lesson.site_text().cards
    (image,) = lesson.media
    img = f'<img src="{image.name}" alt="kropka">'
    assert basic.front == f"Pytanie {img}"  # a deck's image: its name, beside the collection
    assert basic.back == "Odpowiedź <strong>ważna</strong>"
    assert basic.explanation == "<p>Bo <em>tak</em>.</p>"
    site_img = f'<img src="../media/{image.name}" alt="kropka">'
    assert site_basic.sides == ((f"Pytanie {site_img}", "Odpowiedź <strong>ważna</strong>"),)
    assert (site_basic.question_text, site_basic.answer_text) == (
        "Pytanie kropka",
        "Odpowiedź ważna",
    )
    assert basic.media == (image.name,)
    assert site_reversed.sides == (("Jeden", "Dwa"),)
    assert reversed_.media == ()
    assert cloze.front == "Słowo {{c1::pierwsze}} i {{c2::drugie::wskazówka}}."
    assert cloze.back == ""
    gap, other = '<span class="cloze-gap">[…]</span>', '<span class="cloze-other">'
    assert site_cloze.sides == (
        (
            f'Słowo {gap}<span class="cloze-text" hidden>pierwsze</span> i {other}drugie</span>.',
            f'Słowo <mark class="cloze">pierwsze</mark> i {other}drugie</span>.',
        ),
        (
            f"Słowo {other}pierwsze</span> i <span"
            ' class="cloze-gap">[wskazówka]</span><span class="cloze-text" hidden>drugie</span>.',
            f'Słowo {other}pierwsze</span> i <mark class="cloze">drugie</mark>.',
        ),
    )
    assert (site_no_id.question_text, site_no_id.answer_text) == ("Bez ID", "Nic")


def test_lesson_strings(tmp_path: Path) -> None:
    lesson = load(tmp_path)
    body = lesson.site_text().body
    # A lesson with its own `#` headings sits under the page's h1: every level one lower.
    assert '<h2 id="lesson/demo/wstęp" tabindex="-1">Wstęp</h2>' in body
    assert '<h3 id="lesson/demo/dalej" tabindex="-1">Dalej</h3>' in body
    label = messages("pl")("check_yourself")
    card = '<div class="card card-basic" id="card-q1" data-card-id="q1">\n'
    assert f'{card}<p class="card-label">{label}</p>' in body
    assert 'src="../media/' in body
    assert "{{c1::" not in body
    records = [(r.href, r.title, r.text, r.card) for r in lesson.site_text().search]
    assert records == [
        ("lesson/demo", "Demo", "", False),
        ("lesson/demo/wstęp", "Wstęp", "Tekst lekcji z obrazem kropka.", False),
        ("lesson/demo/dalej", "Dalej", "Więcej prozy.", False),
        ("card-q1", "Pytanie kropka", "Odpowiedź ważna", True),
        ("card-r1", "Jeden", "Dwa", True),
        ("card-z1", "Słowo pierwsze i drugie.", "", True),
        ("lesson/demo/dalej", "Bez ID", "Nic", True),  # no ID: the section's anchor
    ]


def test_translation_hashes_are_those_of_earlier_versions(tmp_path: Path) -> None:
    """Manifests keep these hashes across versions: computed from strings, they must equal what
    hashing the tokens gave (the prose's inline sources outside cards; the explanation's text)."""
    lesson = load(tmp_path)
    prose = ["Wstęp", "Tekst *lekcji* z obrazem ![kropka](dot.png).", "Dalej", "Więcej prozy."]
    expected = translations.digest("Demo", "Krótko.", *prose)
    assert translations.lesson_hash(lesson) == expected
    card = lesson.cards[0]
    source = "Pytanie ![kropka](dot.png)\nOdpowiedź **ważna**"  # the ID comment left out
    assert translations.card_hash(card) == translations.digest("basic", source, "Bo tak.")
    assert translations.card_hash(card) == "8392b7ad4b0b29bb"  # what version 274ffd7 recorded
    edited = load(tmp_path, LESSON.replace("Odpowiedź", "Odpowiedzi"))
    assert translations.lesson_hash(edited) == expected, "a card is not prose"
    assert translations.lesson_hash(load(tmp_path, LESSON.replace("prozy", "tekstu"))) != expected


def test_no_token_leaves_the_process_that_parsed_it(tmp_path: Path) -> None:
    """What a worker sends back and the cache stores holds strings only."""
    lesson = load(tmp_path)
    data = cache.dumps(lessons.Parsed(lesson))
    assert b"markdown_it" not in data
    assert pickle.loads(data).lesson.rendered == lesson.rendered


@pytest.mark.parametrize("lang", ["pl", "xx"])
def test_labels_are_the_lessons_language_and_quiet(
    tmp_path: Path, lang: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The card label is in the lesson's language (English without a catalogue); rendering
    gives no warning of its own: the site stage warns once about a missing catalogue."""
    folder = tmp_path / "lessons" / lang
    folder.mkdir(parents=True)
    (folder / "dot.png").write_bytes(PNG)
    (folder / "01.md").write_text(LESSON.replace("lang: pl", f"lang: {lang}"), "utf-8")
    lesson = load_lesson(folder / "01.md", lang, tmp_path / "lessons", Report())
    assert lesson is not None
    label = messages("pl" if lang == "pl" else "en")("check_yourself")
    assert f'<p class="card-label">{label}</p>' in lesson.site_text().body
    assert "no message catalogue" not in caplog.text


SIDES_LESSON = """\
---
id: sides
title: Strony
lang: pl
order: 1
---

# Wstęp

Pytanie ![kropka](dot.png)::Odpowiedź ![kropka](dot.png)

Pytanie
===
?
- # Odpowiedź

Zwykłe **pytanie**::Zwykła [odpowiedź](https://example.org)

Słowo ==ukryte== i ![kropka](dot.png). <!-- id: z1 -->
"""


def test_a_side_rendered_once_is_each_outputs_rendering(tmp_path: Path) -> None:
    """A card side is rendered once where the outputs show it alike; where they do not (an
    image's folder, a heading the page shifts, a cloze), each output renders its own."""
    lesson = load(tmp_path, SIDES_LESSON)
    (image,) = lesson.media
    images, headings, plain, cloze = lesson.site_text().cards
    site_img = f'<img src="../media/{image.name}" alt="kropka">'
    assert images.sides == ((f"Pytanie {site_img}", f"Odpowiedź {site_img}"),)
    assert lesson.cards[0].rendered.front == f'Pytanie <img src="{image.name}" alt="kropka">'
    assert headings.sides[0][0] == "<h1>Pytanie</h1>\n"
    assert plain.sides == (
        ("Zwykłe <strong>pytanie</strong>", 'Zwykła <a href="https://example.org">odpowiedź</a>'),
    )
    assert cloze.sides[0][0].startswith('Słowo <span class="cloze-gap">[…]</span>')
    body = lesson.site_text().body
    # The page: headings one level lower (the lesson has its own `#`), every cloze asked.
    assert '<div class="card-q">\n<h2>Pytanie</h2>\n</div>' in body
    assert "<li>\n<h2>Odpowiedź</h2>\n</li>" in body
    assert f'<div class="card-q">\nPytanie {site_img}</div>' in body
    assert '<div class="card-q">\nZwykłe <strong>pytanie</strong></div>' in body
    assert f"{site_img}.</div>" in body
    assert '<span class="cloze-text" hidden>ukryte' in body


TYPES = st.sampled_from(["inline", "text", "image", "heading_open", "cloze_open", "em_open"])


def _token(kind: str, children: list[Token] | None = None) -> Token:
    token = Token(kind, "", 0)
    token.children = children
    return token


token_trees = st.recursive(
    st.builds(_token, TYPES),
    lambda inner: st.builds(_token, TYPES, st.lists(inner, max_size=4)),
    max_leaves=24,
)


@given(tokens=st.lists(token_trees, max_size=5), types=st.frozensets(TYPES))
def test_holds_finds_a_type_wherever_walk_finds_it(
    tokens: list[Token], types: frozenset[str]
) -> None:
    """`render.holds` (which decides whether a side's HTML is rendered once for both outputs)
    answers as a search of `markdown.walk`, children at any depth included."""
    assert render.holds(tokens, types) == any(t.type in types for t in markdown.walk(tokens))
