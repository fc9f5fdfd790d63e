"""Render stage: one lesson's tokens -> the strings every output shows (`CardText`, `LessonText`).

Runs where the lesson is parsed (a worker process in a large build): the tokens never leave it,
the parse cache stores the strings, and site.py, anki.py, translations.py and scorm.py read only
strings. Each output's differences are tables of markdown-it renderer rules (`SITE_RULES`,
`ANKI_RULES`, over markdown.py's common rules): a new token type needs only a rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from types import MappingProxyType
from typing import Literal

from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from . import markdown
from .cards import CardTokens, card_meta, cloze_meta, heading_section, plain_text
from .markup import card_anchor, heading_id, lesson_anchor
from .messages import Messages, messages
from .model import (
    Card,
    CardKind,
    CardSite,
    CardText,
    Held,
    LessonText,
    SearchRecord,
    Section,
    SiteText,
    digest,
)

Side = Literal["front", "back"]


@dataclass(frozen=True, slots=True)
class PageContext:
    """What the site's render rules know about the Markdown they render (markdown-it's `env`)."""

    t: Messages
    """The page's interface text (card labels, "Show answer")."""
    media_prefix: str = "../media/"
    """Where images are, relative to the page."""
    lesson: str = ""
    """The ID of the lesson being rendered: its section headings get `lesson/<lesson>/<section>`
    IDs (the parser gives each heading its section); '' renders headings without IDs."""
    shift: int = 0
    """Added to every heading level (a lesson with its own `#` headings sits under the page h1)."""
    cloze: int | None = None
    """None: every cloze of a card is asked; n: only cloze n, the others read as plain text."""
    side: Side = "front"
    """"front" hides the asked clozes, "back" marks them."""


def _heading_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    level = min(int(tokens[idx].tag[1:]) + ctx.shift, 6)
    section = heading_section(tokens[idx]) if ctx.lesson else None
    ident = f' id="{escapeHtml(heading_id(ctx.lesson, section))}" tabindex="-1"' if section else ""
    return f"<h{level}{ident}>"


def _heading_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    level = min(int(tokens[idx].tag[1:]) + ctx.shift, 6)
    return f"</h{level}>\n"


def _card_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    meta = card_meta(tokens[idx])
    kind = escapeHtml(meta["kind"].value)
    label = escapeHtml(ctx.t("check_yourself"))
    if meta["id"] is None:  # no identity yet: readable, but never reviewed or linked
        return f'<div class="card card-{kind}">\n<p class="card-label">{label}</p>\n'
    card_id = escapeHtml(meta["id"])
    return (
        f'<div class="card card-{kind}" id="{escapeHtml(card_anchor(meta["id"]))}"'
        f' data-card-id="{card_id}">\n'
        f'<p class="card-label">{label}</p>\n'
    )


def _card_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    """A cloze card has no answer tokens: its answer is its own text with the clozes marked."""
    start = idx
    while tokens[start].type != "card_open":
        start -= 1
    if card_meta(tokens[start])["kind"] is not CardKind.CLOZE:
        return "</div>\n"
    begin = next(i for i in range(start, idx) if tokens[i].type == "card_question_open")
    end = next(i for i in range(begin, idx) if tokens[i].type == "card_question_close")
    back = markdown.render(self, tokens[begin + 1 : end], replace(ctx, side="back", cloze=None))
    explanation = _explanation(self, tokens[idx - 1], options, ctx)
    return _answer_open(ctx) + back + explanation + "</div></details>\n</div>\n"


def _explanation(self: RendererHTML, token: Token, options: OptionsDict, ctx: PageContext) -> str:
    """A card's explanation (a block quote under it), shown under the answer."""
    if token.type != "card_explanation" or not token.children:
        return ""
    body = markdown.render(self, token.children, ctx)
    return f'<div class="card-explanation">\n{body}</div>\n'


def _answer_open(ctx: PageContext) -> str:
    show = escapeHtml(ctx.t("show_answer"))
    return f'<details class="card-a"><summary>{show}</summary><div class="card-a-body">\n'


def _card_answer_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    return _answer_open(ctx)


def _card_answer_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    return _explanation(self, tokens[idx + 1], options, ctx) + "</div></details>\n"


def _card_question_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    return '<div class="card-q">\n'


def _div_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    return "</div>\n"


def _cloze_mode(token: Token, ctx: PageContext) -> str:
    """'gap' (hidden), 'mark' (revealed) or 'plain' (another cloze of the same note)."""
    if ctx.cloze is not None and cloze_meta(token)["n"] != ctx.cloze:
        return "plain"
    return "mark" if ctx.side == "back" else "gap"


def _cloze_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    token = tokens[idx]
    mode = _cloze_mode(token, ctx)
    if mode == "plain":
        return '<span class="cloze-other">'
    if mode == "mark":
        return '<mark class="cloze">'
    gap = escapeHtml(f"[{cloze_meta(token)['hint'] or '…'}]")
    return f'<span class="cloze-gap">{gap}</span><span class="cloze-text" hidden>'


def _cloze_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    # The plugin gives a close token its open token's meta, so it knows what was opened.
    return "</mark>" if _cloze_mode(tokens[idx], ctx) == "mark" else "</span>"


def _html(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, ctx: PageContext
) -> str:
    """A card side rendered already (`_page_tokens`)."""
    return tokens[idx].content


SITE_RULES: Mapping[str, markdown.Rule] = MappingProxyType(
    {
        "card_html": _html,
        "heading_open": _heading_open,
        "heading_close": _heading_close,
        "card_open": _card_open,
        "card_close": _card_close,
        "card_question_open": _card_question_open,
        "card_question_close": _div_close,
        "card_answer_open": _card_answer_open,
        "card_answer_close": _card_answer_close,
        "cloze_open": _cloze_open,
        "cloze_close": _cloze_close,
    }
)


def _anki_cloze_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: object
) -> str:
    return f"{{{{c{cloze_meta(tokens[idx])['n']}::"


def _anki_cloze_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: object
) -> str:
    hint = cloze_meta(tokens[idx])["hint"]  # the plugin gives open and close one meta
    return f"::{escapeHtml(hint)}}}}}" if hint else "}}"


ANKI_RULES: Mapping[str, markdown.Rule] = MappingProxyType(
    {"cloze_open": _anki_cloze_open, "cloze_close": _anki_cloze_close}
)
ANKI_ENV: Mapping[str, str] = MappingProxyType({"media_prefix": ""})
"""Deck fields name their images without a folder (Anki keeps media beside the collection)."""


@cache
def site_renderer() -> RendererHTML:
    return markdown.renderer(SITE_RULES)


@cache
def anki_renderer() -> RendererHTML:
    return markdown.renderer(ANKI_RULES)


# -- one lesson's strings -------------------------------------------------------------------------


def card_text(part: CardTokens, lang: str, sites: list[CardSite] | None = None) -> CardText:
    """A card's strings for the decks (its side tokens already final:
    `cards.hide_single_paragraph` applied); its site strings appended to `sites`, when given."""
    meta = card_meta(part.open)
    question, answer, explanation = part.question, part.answer, part.explanation
    out = anki_renderer()
    kind = meta["kind"]
    cloze = kind is CardKind.CLOZE
    front = markdown.render(out, question, ANKI_ENV)
    back = "" if cloze else markdown.render(out, answer, ANKI_ENV)
    note = markdown.render(out, explanation, ANKI_ENV).strip() if explanation else ""
    media = _media((*question, *answer, *explanation))
    if sites is not None:
        sites.append(_card_site(part, kind, meta["clozes"], lang, (front, back)))
    return CardText(front.strip(), back.strip(), note, media)


def _card_site(
    part: CardTokens,
    kind: CardKind,
    clozes: Sequence[int],
    lang: str,
    anki: tuple[str, str],
) -> CardSite:
    """A card's site strings; a plain text equal to a side is that side's string (one string in
    the pickle, where the same object is written once). `anki`: the decks' sides, unstripped."""
    sides = _sides(part, kind, clozes, lang, anki)
    question, answer = _text(part.question), _text(part.answer)
    if kind is not CardKind.CLOZE:
        ((site_front, site_back),) = sides
        question, answer = _same(question, site_front), _same(answer, site_back)
    return CardSite(sides, question, answer)


def _same(value: str, other: str) -> str:
    """`other` when it is equal: the parent (and the cache) then hold one string, not two."""
    return other if value == other else value


OWN_TYPES = frozenset({*SITE_RULES, *ANKI_RULES, *markdown.ENV_RULES})
"""Token types that the site and the decks may render differently: those either output's table
renders its own way, and those a common rule renders from the output's env (`ANKI_ENV`,
`PageContext`). Every other token goes through the same rule in both renderers."""


def holds(tokens: Sequence[Token], types: frozenset[str]) -> bool:
    """Whether a token of one of `types` is among `tokens` or their children: `markdown.walk`'s
    order, without its generators (asked of each card's sides and page tokens: 13,000 times
    for 3,350 cards, one generator per token with children)."""
    for token in tokens:
        if token.type in types or (token.children and holds(token.children, types)):
            return True
    return False


def shared(tokens: Sequence[Token]) -> bool:
    """Whether the site and the decks render `tokens` alike (no token of `OWN_TYPES`): the site
    then takes the decks' HTML instead of rendering it again."""
    return not holds(tokens, OWN_TYPES)


def _apart(text: str) -> str:
    """A string equal to `text`, not `text` itself (the decks' side, when it needs no strip): the
    site's strings are pickled here, and pickling a string leaves its UTF-8 form inside it for
    its life; the library keeps the decks' strings to the end of the build."""
    return "".join((text, ""))


def _sides(
    part: CardTokens,
    kind: CardKind,
    clozes: Sequence[int],
    lang: str,
    anki: tuple[str, str],
) -> tuple[tuple[str, str], ...]:
    """The site's review sides of a card (see `CardText.sides`); a Q/A card's side that holds
    nothing either output renders its own way is the decks' side (`anki`, unstripped)."""
    out, ctx = site_renderer(), _review_context(lang)
    if kind is not CardKind.CLOZE:
        front = (
            _apart(anki[0]) if shared(part.question) else markdown.render(out, part.question, ctx)
        )
        back = _apart(anki[1]) if shared(part.answer) else markdown.render(out, part.answer, ctx)
        return ((front, back),)
    return tuple(
        (
            markdown.render(out, part.question, replace(ctx, cloze=n, side="front")),
            markdown.render(out, part.question, replace(ctx, cloze=n, side="back")),
        )
        for n in clozes
    )


def _text(tokens: Sequence[Token]) -> str:
    """A card side's text without markup: its paragraphs' text, joined by spaces."""
    return " ".join(plain_text([t]) for t in tokens if t.type == "inline").strip()


def _media(tokens: Sequence[Token]) -> tuple[str, ...]:
    """The content-hash names of the images among `tokens` (lessons.resolve_images gave them)."""
    return tuple(
        sorted(
            {token.meta["media"] for _, token in markdown.images(tokens) if "media" in token.meta}
        )
    )


@cache
def _review_context(lang: str) -> PageContext:
    """A review side's context (a frozen record): one per language, not one per card."""
    return PageContext(t=_labels(lang))


@cache
def _labels(lang: str) -> Messages:
    """The interface text rendered into lessons (card labels), read without the missing
    catalogue's warning: the site stage gives that one, once, where the site is built."""
    return messages(lang, quiet=True)


@dataclass(frozen=True, slots=True)
class LessonInfo:
    """What a lesson's strings need besides its tokens (its front matter and sections)."""

    id: str
    title: str
    description: str
    lang: str
    sections: tuple[Section, ...]


def lesson_text(
    tokens: Sequence[Token],
    info: LessonInfo,
    cards: Sequence[Card],
    sites: Sequence[CardSite] | None = None,
) -> LessonText:
    """The lesson's prose digest and, given its cards' site strings (`card_text`'s `sites`), its
    site strings: page body, search records (`cards`: its cards, rendered)."""
    digest = _prose_digest(tokens, info)
    if sites is None:
        return LessonText(digest)
    shift = 1 if any(s.level == 1 for s in info.sections) else 0
    ctx = PageContext(t=_labels(info.lang), lesson=info.id, shift=shift)
    body = markdown.render(site_renderer(), _page_tokens(tokens, sites), ctx)
    search = (*_prose_records(tokens, info), *_card_records(info, cards, sites))
    return LessonText(digest, Held(SiteText(body, search, tuple(sites))))


PAGE_SIDES = {
    "card_question_open": ("card_question_close", 0),
    "card_answer_open": ("card_answer_close", 1),
}
"""A Q/A card's side in the token stream: the token that ends it, and its place in a side pair."""
PAGE_OWN = frozenset({"heading_open", "heading_close", "cloze_open", "cloze_close"})
"""What the page renders otherwise than a card's review side does (`PageContext`: the page
shifts and names headings, asks every cloze)."""


def _page_tokens(tokens: Sequence[Token], sites: Sequence[CardSite]) -> list[Token]:
    """The lesson's tokens for its page: each side of a Q/A card as one `card_html` token holding
    its review side's HTML (`sites`, in card order), rendered already, unless it holds something
    the page renders otherwise (`PAGE_OWN`). A side's tokens render alone as in the page: its
    first one follows a card rule's token (never hidden), its last one closes or is childless."""
    page: list[Token] = []
    card, qa = -1, False
    i, count = 0, len(tokens)
    while i < count:
        token = tokens[i]
        page.append(token)
        i += 1
        if token.type == "card_open":
            card, qa = card + 1, card_meta(token)["kind"] is not CardKind.CLOZE
            continue
        side = PAGE_SIDES.get(token.type)
        if side is None or not qa:
            continue
        end = i
        while tokens[end].type != side[0]:
            end += 1
        if holds(tokens[i:end], PAGE_OWN):
            continue
        html = Token("card_html", "", 0)
        html.content = sites[card].sides[0][side[1]]
        page.append(html)
        i = end
    return page


def _card_records(
    info: LessonInfo, cards: Sequence[Card], sites: Sequence[CardSite]
) -> list[SearchRecord]:
    """A search record per card: its question as title, its answer as text."""
    records = []
    for card, text in zip(cards, sites, strict=True):
        section = card.section.id
        where = heading_id(info.id, section) if section else lesson_anchor(info.id)
        href = card_anchor(card.id) if card.id else where
        records.append(
            SearchRecord(href, text.question_text, text.answer_text, info.title, card=True)
        )
    return records


def _prose_records(tokens: Sequence[Token], info: LessonInfo) -> list[SearchRecord]:
    """A search record for the lesson's introduction and one per section: its prose, cards left
    out (they have records of their own: `card_records`)."""
    titles = {s.id: s.title for s in info.sections}
    sections: list[tuple[str, str, list[str]]] = [(lesson_anchor(info.id), info.title, [])]
    depth = 0
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            section = heading_section(token)
            if section is not None:
                sections.append((heading_id(info.id, section), titles[section], []))
        elif token.type == "card_open":
            depth += 1
        elif token.type == "card_close":
            depth -= 1
        elif token.type == "inline" and not depth and tokens[i - 1].type != "heading_open":
            sections[-1][2].append(plain_text([token]))
    lesson = info.title
    return [SearchRecord(where, title, " ".join(texts), lesson) for where, title, texts in sections]


def _prose_digest(tokens: Sequence[Token], info: LessonInfo) -> str:
    """A lesson's prose, hashed: title, description and every text outside its cards."""
    parts, depth = [info.title, info.description], 0
    for token in tokens:
        if token.type == "card_open":
            depth += 1
        elif token.type == "card_close":
            depth -= 1
        elif depth == 0 and token.type == "inline":
            parts.append(token.content)
    return digest(*parts)
