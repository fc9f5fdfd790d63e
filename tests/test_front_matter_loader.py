"""Front matter is read with libyaml's parser where PyYAML has it (`frontmatter.FAST_LOADER`): the
values and key lines must be those of PyYAML's own `SafeLoader`, and a document either refuses
must be reported as `SafeLoader` reports it (libyaml words its messages differently). Where the
two parsers differ (`frontmatter.PYYAML_ONLY`), PyYAML's reads alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from spies import calls

from course import frontmatter
from course.frontmatter import Report, read_yaml

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    frontmatter.FAST_LOADER is None, reason="PyYAML was built without libyaml"
)


def pure(text: str, first_line: int = 1) -> tuple[Any, dict[str, int], list[str]]:
    """What `read_yaml` gives with PyYAML's pure-Python loader only."""
    report = Report()
    saved = frontmatter.FAST_LOADER
    frontmatter.FAST_LOADER = None
    try:
        data, lines = read_yaml(Path("x.md"), text, report, first_line)
    finally:
        frontmatter.FAST_LOADER = saved
    return data, lines, [str(p) for p in report.errors]


def fast(text: str, first_line: int = 1) -> tuple[Any, dict[str, int], list[str]]:
    report = Report()
    data, lines = read_yaml(Path("x.md"), text, report, first_line)
    return data, lines, [str(p) for p in report.errors]


def front_matters() -> list[str]:
    found = []
    for path in sorted((ROOT / "lessons").rglob("*.md")) + sorted(ROOT.glob("tests/**/*.md")):
        text = path.read_text(encoding="utf-8-sig")
        if text.startswith("---\n") and "\n---" in text[4:]:
            found.append(text[4 : text.index("\n---", 3) + 1])
    for path in sorted((ROOT / "lessons").rglob("course.yml")):
        found.append(path.read_text(encoding="utf-8"))
    return found


def test_the_bundled_course_reads_the_same_with_both_loaders() -> None:
    texts = front_matters()
    assert len(texts) >= 15
    for text in texts:
        assert fast(text, 2) == pure(text, 2)


@pytest.mark.parametrize(
    "text",
    [
        "id: basics\ntitle: [unclosed\nlang: el\n",  # libyaml: "did not find expected ',' ..."
        "id: a\ntitle: b: c\n",
        "id: a\n- b\n",
        "id: a\ntitle:\n\t- b\n",
        "title: @x\n",
        'title: "open\n',
        "tags: !!python/object:os.system x\n",  # refused by the constructor, not the parser
    ],
)
def test_a_refused_document_is_reported_as_pyyaml_reports_it(text: str) -> None:
    data, lines, errors = fast(text, 2)
    assert (data, lines) == (None, {})
    assert errors
    assert errors == pure(text, 2)[2]


def test_libyaml_words_its_messages_differently() -> None:
    """Why a refused document is read again: the message an author gets stays PyYAML's."""
    text = "id: basics\ntitle: [unclosed\nlang: el\n"
    assert frontmatter.FAST_LOADER is not None
    with pytest.raises(yaml.YAMLError) as refused:
        frontmatter._load(frontmatter.FAST_LOADER, text)
    assert "expected ',' or ']', but got ':'" not in str(refused.value)
    assert pure(text, 2)[2] == ["x.md:4: invalid YAML: expected ',' or ']', but got ':'"]
    assert fast(text, 2)[2] == pure(text, 2)[2]


# Documents libyaml reads otherwise than PyYAML (found by the generated tests below and by longer
# runs of them): each must be read by PyYAML alone (its character is in PYYAML_ONLY).
DIVERGENT = {
    "title: !\n": "!",  # libyaml: '' (PyYAML: None)
    "title: a\n\ufeff\n": "\ufeff",  # libyaml drops the mark
    "order: 1\t\n": "\t",  # libyaml accepts the tab
    "description: |#\n": "|",  # libyaml accepts the block scalar
    "tags: [x?]\n": "?",  # libyaml accepts the '?'
    "source: {yes? ? 1e3id: }\n": "?",
}


@pytest.mark.parametrize("text", sorted(DIVERGENT))
def test_where_libyaml_differs_pyyaml_reads_alone(text: str) -> None:
    loaders = []
    for loader in (frontmatter.FAST_LOADER, yaml.SafeLoader):
        assert loader is not None
        try:
            loaders.append(repr(frontmatter._load(loader, text)[0]))
        except yaml.YAMLError:
            loaders.append("refused")
    assert loaders[0] != loaders[1]  # the two parsers differ here ...
    assert DIVERGENT[text] in frontmatter.PYYAML_ONLY
    assert fast(text, 2) == pure(text, 2)  # ... yet read_yaml gives PyYAML's reading


keys = st.sampled_from(["id", "title", "lang", "order", "tags", "source", "ορος", "a b", "x:y"])
scalars = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, values, max_size=5), st.sampled_from([None, False, True]))
def test_any_mapping_reads_the_same_with_both_loaders(data: dict[str, Any], flow: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow, sort_keys=False)
    assert fast(text, 2) == pure(text, 2)


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("ab:-[]{}#'\"\n\t !&*|>?%@`,.1\\\ufeffé")), max_size=30))
def test_any_text_reads_or_is_refused_the_same_with_both_loaders(text: str) -> None:
    assert fast(text) == pure(text)


tokens = st.sampled_from(
    [
        *("key: ", "id: ", "- ", "\n", "\n  ", "\n    ", "[", "]", "{", "}", ", ", "'", '"'),
        *("\\", "&a ", "*a", " #c", "#", "---", "...", "%YAML 1.1\n", "\r\n", "\u2028", "\x85"),
        *("é", "Ω", "1", "0x1F", "~", "null", "2024-01-01", "1e3", ".inf", "yes", "<<: ", ": "),
        *(":", " ", "a", "b c", "\\n", "\\u00e9", "0o17", "012", "+1", "1_000", "🙂", "\u00a0"),
        *("\x00", "\x7f", "\uffff", "http://x", "@", "`", "%", "=", ";", "«»", "„”"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(tokens, min_size=1, max_size=12).map("".join))
def test_documents_libyaml_reads_read_the_same_as_with_pyyaml(text: str) -> None:
    """The documents `read_yaml` gives to libyaml: none of PYYAML_ONLY's characters."""
    assert frontmatter.PYYAML_ONLY.isdisjoint(text)
    assert fast(text) == pure(text)


YAML_11 = st.sampled_from(
    [
        *("title: ", "tags: ", "- ", ": ", "\n", "\n  ", "\r", "\u2029", "\x85", "\u2028", " "),
        *('"', "'", "[", "]", "{", "}", ", ", "&x ", "*x", "<<: *x", "<<: ", "#", " #c"),
        # double-quoted escapes: YAML 1.1's, 1.2's \/, a surrogate, a folded line
        *("\\/", "\\N", "\\_", "\\L", "\\P", "\\x85", "\\ud800", "\\U0001F600", "\\e", "\\\n"),
        # YAML 1.1 scalars the resolver reads (the same Python code after either parser)
        *("yes", "No", "on", "OFF", "y", "~", "0o17", "017", "0x1F", "0b101", "1_000", "190:20:30"),
        *("2001-12-14t21:59:43.10-05:00", "2024-01-01", ".inf", "-.Inf", "1e3", "+1", "!!str "),
        *("!!int ", "!!binary ", "!!set ", "!!omap ", "%TAG !e! tag:e.com,2000:\n", "%YAML 1.2\n"),
        # the course's languages, punctuation and quotation marks
        *("Τι ζητά ο πελάτης;", "«Ναι»", "„Dzień dobry”", "Zażółć gęślą jaźń", "Ķēķis, ģērbjas"),
        *("\x00", "\ufffe", "\U0001f642", "\u00a0", "\u3000", "x" * 90, "---", "..."),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(YAML_11, min_size=1, max_size=14).map("".join))
def test_yaml_11_documents_in_the_course_languages_read_the_same_with_both_loaders(
    text: str,
) -> None:
    """Line breaks YAML 1.1 has besides '\\n' (NEL, LS, PS), escapes, anchors and merge keys,
    YAML 1.1's booleans, octal, sexagesimal and timestamps, Greek, Polish and Latvian text: the
    two loaders give the same values, key lines and refusals (a document with PYYAML_ONLY's
    characters is read by PyYAML alone)."""
    assert fast(text) == pure(text)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("id: a\ntitle: 2024-02-30\n", 2, "'2024-02-30' is not a valid timestamp"),
        ("id: a\norder: !!int x\n", 2, "'x' is not a valid int"),
        ("tags:\n  - a\n  - !!float x\n", 3, "'x' is not a valid float"),
        ("when: !!timestamp x\n", 1, "'x' is not a valid timestamp"),
        ("ok: !!bool x\n", 1, "'x' is not a valid bool"),
        ("order: !!int\n", 1, "'' is not a valid int"),
        ("at: 2024-01-01 25:00:00\n", 1, "'2024-01-01 25:00:00' is not a valid timestamp"),
    ],
)
def test_a_value_the_constructor_refuses_is_an_error_at_its_line(
    text: str, line: int, message: str
) -> None:
    """Not a traceback (ValueError, KeyError... are not YAMLError): `path:line: message`."""
    for read in (fast, pure):
        data, lines, errors = read(text, 3)
        assert (data, lines) == (None, {})
        assert errors == [f"x.md:{line + 2}: invalid YAML: {message} (quote it to keep it as text)"]


def test_the_fast_loader_is_libyamls_unless_set_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """`FAST_LOADER` is found when first asked (frontmatter.py imports PyYAML only then); once
    set (as `pure` sets it), `read_yaml` reads with what it was set to."""
    assert frontmatter.FAST_LOADER is yaml.CSafeLoader
    used = calls(monkeypatch, frontmatter, "_load")
    fast("id: a\n")
    monkeypatch.setattr(frontmatter, "FAST_LOADER", None)
    fast("id: a\n")
    assert used == [yaml.CSafeLoader, yaml.SafeLoader]
