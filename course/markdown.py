"""The one configured markdown-it parser, and renderers built from tables of rules.

Every output (decks, site) renders the same tokens: a lesson is parsed once. Each output passes its
own small table of rules (`{token type: function}`) for the tokens it shows differently.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import Any, cast

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from mdit_py_plugins.front_matter import front_matter_plugin

from .cards import card_plugin, plain_text

OPTIONAL_OFF = ("strikethrough_single_tilde", "store_labels")
"""Options markdown-it-py reads as off when missing: set to that same value."""
Rule = Callable[[RendererHTML, Sequence[Token], int, OptionsDict, Any], str]


PLAIN_URL = re.compile(
    r"(?:https?://[A-Za-z0-9.-]+(?::[0-9]+)?)?[\w;/?=&+$,.!~*'()#-]*\Z", re.ASCII
)
"""A link destination that markdown-it's `normalizeLink` gives back as it is: a relative one, or
one after a lower-case http(s) scheme with an ASCII host and port, made only of characters its
percent-encoding keeps, none of `%`, `:` or `@` (which its URL parser reads as an escape, a port
or a user)."""


class _Parser(MarkdownIt):
    """markdown-it with a cheap way past `normalizeLink` for a destination it leaves as it is
    (`PLAIN_URL`): its URL parser, formatter and encoder, in pure Python, took 5% of a lesson's
    parse at 26 links a lesson. Every other destination goes through it."""

    def normalizeLink(self, url: str) -> str:
        if PLAIN_URL.match(url):
            return url
        return super().normalizeLink(url)


@cache
def parser() -> MarkdownIt:
    """CommonMark with tables, strikethrough, front matter and cards (with `==mark==`).

    Raw HTML is off: a lesson's `<script>` is shown as text, never run, on every output.
    """
    md = (
        _Parser("commonmark", {"html": False, "typographer": False})
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(card_plugin)
    )
    # Options some rules read with `.get(name, default)`: present, they spare a raised and caught
    # KeyError in every inline run (markdown-it's OptionsDict is a pure-Python mapping).
    for name in OPTIONAL_OFF:
        md.options[name] = md.options.get(name, False)
    _quiet_block_rules()
    return md


class _QuietLogger:
    """Stands in for a markdown-it rule module's logger while debug logging is off."""

    debug = staticmethod("".format)  # a C function that takes any arguments and does nothing


def _quiet_block_rules() -> None:
    """markdown-it's block rules call `LOGGER.debug(...)` on every attempt (about 60 calls per
    card, 6% of a build): when nobody listens at debug level, give them a logger that costs one
    C call. A build that turns on debug logging for markdown_it first keeps the real loggers."""
    if logging.getLogger("markdown_it").isEnabledFor(logging.DEBUG):
        return
    prefix = "markdown_it.rules_block."
    for name, module in list(sys.modules.items()):
        if name.startswith(prefix) and isinstance(getattr(module, "LOGGER", None), logging.Logger):
            vars(module)["LOGGER"] = _QuietLogger()


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    """Images point at their content-hash name under the env's `media_prefix`."""
    token = tokens[idx]
    name = token.meta.get("media")
    src = f"{_media_prefix(env)}{name}" if name else str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    title = token.attrGet("title")
    title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
    return f'<img src="{escapeHtml(src)}" alt="{escapeHtml(alt)}"{title_attr}>'


def _media_prefix(env: Any) -> str:
    """An output's env is a mapping (decks) or a typed context record (site)."""
    if isinstance(env, Mapping):
        return str(env.get("media_prefix", ""))
    return str(getattr(env, "media_prefix", ""))


def _nothing(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: Any
) -> str:
    return ""


ENV_RULES = ("image",)
"""The common rules whose output depends on an output's env (`_image`: `media_prefix`)."""
COMMON_RULES: Mapping[str, Rule] = MappingProxyType(
    # A card's explanation is a token whose children each output renders where it belongs.
    {"image": _image, "front_matter": _nothing, "card_explanation": _nothing}
)


def renderer(rules: Mapping[str, Rule]) -> RendererHTML:
    """A renderer with the common rules and an output's own table on top."""
    result = RendererHTML(parser())
    for name, rule in {**COMMON_RULES, **rules}.items():
        result.rules[name] = rule.__get__(result)
    return result


def render(out: RendererHTML, tokens: Sequence[Token], env: object) -> str:
    """Render with `env`: a mapping is copied (rules may add to it), a typed record passes as is."""
    # markdown-it only hands env on to the rules, so a record is safe where it types a mapping.
    given = cast("MutableMapping[str, Any]", dict(env) if isinstance(env, Mapping) else env)
    if len(tokens) == 1 and tokens[0].type == "inline":  # a one-line card side: as `render` does
        return out.renderInline(tokens[0].children or [], parser().options, given)
    return out.render(tokens, parser().options, given)


def walk(tokens: Sequence[Token]) -> Iterator[Token]:
    """Every token and, depth first, its children (inline tokens nest: links, emphasis, images)."""
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def images(tokens: Sequence[Token]) -> Iterator[tuple[Token, Token]]:
    """Each image among the children of `tokens` (block tokens), depth first, with the block it
    is in. An inline token holds one only when its text has `![` (where markdown-it's image
    rule starts, also for a reference image or an image inside a cloze): the others' children
    are not walked."""
    for block in tokens:
        if not block.children or (block.type == "inline" and "![" not in block.content):
            continue
        for token in walk(block.children):
            if token.type == "image":
                yield block, token


__all__ = ["images", "parser", "plain_text", "render", "renderer", "walk"]
