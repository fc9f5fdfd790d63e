"""The collection's pieces written without genanki (apkg.py) equal genanki's own, to the byte:
the schema and `col` row, the GUID digits, each note type's and deck's JSON, and a note type's
required fields (`req`) for any template in the mustache subset note types use."""

from __future__ import annotations

import json
from pathlib import Path

import genanki
import pytest
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA
from genanki.util import BASE91_TABLE
from hypothesis import given
from hypothesis import strategies as st

from course import anki, apkg
from course.lessons import load_library

ROOT = Path(__file__).resolve().parent.parent


def test_the_sql_and_digits_are_genankis() -> None:
    assert apkg.APKG_SCHEMA == APKG_SCHEMA
    assert apkg.APKG_COL == APKG_COL
    assert list(apkg.BASE91_DIGITS) == BASE91_TABLE


def genanki_model(model: apkg.NoteType) -> genanki.Model:
    """The genanki note type made of what the build gives its own (`apkg.NoteType`): the
    reference here and in test_deck_rows."""
    fields, templates = model.given()
    return genanki.Model(
        model.model_id, model.name, fields=fields, templates=templates, css=model.css,
        model_type=model.model_type,
    )  # fmt: skip


def dumped(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def test_the_bundled_courses_note_types_are_genankis() -> None:
    library = load_library(ROOT / "lessons")
    assert library.courses
    for course in library.courses:
        for model in anki.note_types(course).values():
            theirs = genanki_model(model)
            for mod, deck_id in ((1_700_000_000, 12345), (0, 2**52 + 7)):
                assert dumped(model.to_json(mod, deck_id)) == dumped(theirs.to_json(mod, deck_id))
            # The digest is of what genanki was given, before its to_json added its defaults.
            fresh = genanki_model(model)
            expected = dumped([fresh.name, fresh.fields, fresh.templates, fresh.css])
            fields, templates = model.given()
            assert dumped([model.name, fields, templates, model.css]) == expected


@given(st.integers(0, 2**53), st.text(), st.text())
def test_deck_json_is_genankis(deck_id: int, name: str, description: str) -> None:
    theirs = genanki.Deck(deck_id, name, description).to_json()
    assert dumped(apkg.deck_json(deck_id, name, description)) == dumped(theirs)


FIELDS = ("Front", "Back", "Reverse", "Retired")
NAMES = st.sampled_from([*FIELDS, "cloze:Text", "FrontSide", "Other"])
TEXT = st.sampled_from(["", "x", " ", "<b>", "\n", "a}b", "{c"])


def _variable(name: str, style: int) -> str:
    return ("{{%s}}", "{{{%s}}}", "{{& %s}}", "{{ %s }}")[style] % name


VARIABLE = st.builds(_variable, NAMES, st.integers(0, 3))
LEAF = st.one_of(TEXT, VARIABLE, st.just("{{! a comment }}"))


def _section(kind: str, name: str, content: list[str]) -> str:
    return f"{{{{{kind}{name}}}}}{''.join(content)}{{{{/{name}}}}}"


TEMPLATE = st.recursive(
    LEAF,
    lambda inner: (
        st.builds(_section, st.sampled_from("#^"), NAMES, st.lists(inner, max_size=4))
        | st.lists(inner, min_size=1, max_size=4).map("".join)
    ),
    max_leaves=12,
)


@given(st.lists(TEMPLATE, min_size=1, max_size=3))
def test_required_fields_are_genankis(questions: list[str]) -> None:
    templates = [{"name": f"T{i}", "qfmt": q, "afmt": ""} for i, q in enumerate(questions)]
    fields = [{"name": n} for n in FIELDS]
    try:
        expected = genanki.Model(1, "m", fields=fields, templates=templates)._req
    except Exception:
        expected = None
    names = list(FIELDS)
    if expected is None:
        with pytest.raises(ValueError, match="no field shows"):
            [apkg.required(i, q, names) for i, q in enumerate(questions)]
    else:
        assert [apkg.required(i, q, names) for i, q in enumerate(questions)] == expected


@pytest.mark.parametrize(
    "qfmt",
    [
        "{{>partial}}",
        "{{=<% %>=}}",
        "{{a.b}}",
        "{{#Front}}x",
        "{{/Front}}",
        "{{#A}}{{/B}}",
        "{{#Front}}{{{/Front}}",
        "{{Front}}}}",
        "{{{{Front}}",
    ],
)
def test_templates_outside_the_subset_are_refused(qfmt: str) -> None:
    with pytest.raises(ValueError, match=r"unsupported|section|closes"):
        apkg.required(0, qfmt + "{{Front}}", ["Front"])
