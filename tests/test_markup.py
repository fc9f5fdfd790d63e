"""markup.py: the HTML escaping the decks' fields use is markdown-it's, byte for byte (it was
markdown-it's own `escapeHtml` before the deck writer stopped importing the parser)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it.common.utils import escapeHtml

from course.markup import escape_html


@given(st.text())
def test_escape_html_is_markdown_its_escaping(text: str) -> None:
    assert escape_html(text) == escapeHtml(text)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ('Tom & "Jerry" <b>', "Tom &amp; &quot;Jerry&quot; &lt;b&gt;"),
        ("it's", "it's"),  # single quotes stay, as in markdown-it
        ("&amp;", "&amp;amp;"),  # an entity is text: escaped again
        ("«Ελλάδα» — żółw", "«Ελλάδα» — żółw"),
    ],
)
def test_escape_html_table(text: str, escaped: str) -> None:
    assert escape_html(text) == escaped
