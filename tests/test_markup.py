"""Where this project stands in for markdown-it's own code, it gives markdown-it's results byte for
byte: markup.py's HTML escaping, which the decks' fields use (it was markdown-it's own
`escapeHtml` before the deck writer stopped importing the parser), and the parser's way past
`normalizeLink` for a destination that it leaves as it is (markdown.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it.common.normalize_url import normalizeLink
from markdown_it.common.utils import escapeHtml

from course import markdown
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


KEPT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789;/?=&+$,-_.!~*'()#"
"""Characters markdown-it's percent-encoding keeps, but `%`, `:` and `@`."""
destinations = st.one_of(
    st.text(),
    st.text(alphabet=KEPT + ":@%", max_size=30),
    st.builds(
        "".join,
        st.tuples(
            st.sampled_from(["http://", "https://", "HTTP://", "//", "mailto:", "ftp://", ""]),
            st.text(alphabet=KEPT + "ÄéΩ", max_size=70),
            st.sampled_from(["", ":80", ":", ":x", "@", "%20", "%zz"]),
            st.text(alphabet=KEPT + ":@% ", max_size=20),
        ),
    ),
)


@given(destinations)
def test_a_link_destination_is_normalized_as_markdown_it_does(url: str) -> None:
    assert markdown.parser().normalizeLink(url) == normalizeLink(url)


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        ("https://example.org/el/lesson?a=1&b=2#part", True),
        ("http://example.org:8080/a/b.html", True),
        ("http://ab;cd/x", True),
        ("../el/01-basics.md#karty", True),
        ("img/dot.png", True),
        ("X:@", False),  # a scheme and an empty user: markdown-it drops the "@"
        ("//@k", False),  # likewise "//k"
        ("w:=:8", False),  # "w::8=": its parser reads a port
        ("http://a@b/", False),
        ("HTTP://Example.org/", False),  # (an upper-case scheme: its parser's)
        ("http://example.org/a%20b", False),
        ("http://ünï.de/", False),
        ("a b", False),
    ],
)
def test_which_destinations_pass_markdown_its_normalizing(url: str, plain: bool) -> None:
    """`PLAIN_URL` covers the common links and relative paths, and none that markdown-it
    changes."""
    assert bool(markdown.PLAIN_URL.match(url)) is plain
    assert markdown.parser().normalizeLink(url) == normalizeLink(url)
    if plain:
        assert normalizeLink(url) == url
