"""Interface text of the HTML course: message catalogues (`course/locales/<lang>.json`) and CLDR
plural rules, shared by the site's templates and the JSON the page's scripts read.

A catalogue is a flat JSON object: a key maps to a string, or, for a message with a count, to one
string per CLDR plural category of the language (`one`, `few`, `many`, `zero`, `other`...): the same
categories the browser's `Intl.PluralRules` chooses from. English (`en.json`) fills any gap.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where a count is written or pluralised: the lessons' parse renders labels
# with plain messages only and runs before the writers can use the second core (cli.py), so
# it does not load Babel (about 2 ms).

log = logging.getLogger(__name__)

LOCALES = Path(__file__).parent / "locales"
"""The catalogues' folder (a path, not `importlib.resources.files`: its readers cost the
start-up of every build about 1.5 ms to import, before the lessons' parse)."""
FALLBACK_LANG = "en"
"""The catalogue used for missing messages, and the language of the landing page."""
PLACEHOLDER = re.compile(r"\{(\w+)\}")

Message = str | Mapping[str, str]
"""One message: its text, or its text per plural category."""


@cache
def catalogue(lang: str) -> Mapping[str, Message]:
    """`course/locales/<lang>.json` over the English fallback (a missing file is only a warning)."""
    table, found = _catalogue(lang)
    if not found:
        log.warning(
            "no message catalogue course/locales/%s.json: the interface will be in English", lang
        )
    return table


@cache
def _catalogue(lang: str) -> tuple[Mapping[str, Message], bool]:
    """The catalogue, and whether the language has one of its own (English always has)."""
    folder = LOCALES
    table: dict[str, Message] = json.loads(
        folder.joinpath(f"{FALLBACK_LANG}.json").read_text("utf-8")
    )
    own = folder.joinpath(f"{lang}.json")
    found = lang == FALLBACK_LANG or own.is_file()
    if lang != FALLBACK_LANG and found:
        table.update(json.loads(own.read_text("utf-8")))
    return MappingProxyType(table), found


@cache
def locale(lang: str) -> Locale:
    """Babel's locale for `lang`, or the fallback language's for a code Babel does not know."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LANG)


PLURAL_RULES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": {"one": "i in 1 and v in 0"},
        "el": {"one": "n in 1"},
        "pl": {
            "few": "v in 0 and i mod 10 in 2..4 and i mod 100 not in 12..14",
            "many": "v in 0 and i not in 1 and i mod 10 in 0..1"
            " or v in 0 and i mod 10 in 5..9 or v in 0 and i mod 100 in 12..14",
            "one": "i in 1 and v in 0",
        },
        "lv": {
            "one": "n mod 10 in 1 and n mod 100 not in 11"
            " or v in 2 and f mod 10 in 1 and f mod 100 not in 11 or v not in 2 and f mod 10 in 1",
            "zero": "n mod 10 in 0 or n mod 100 in 11..19 or v in 2 and f mod 100 in 11..19",
        },
    }
)
"""CLDR plural rules of the course's languages, as Babel has them (a test keeps them equal):
compiling one is much cheaper than loading Babel's whole locale data for it."""


@cache
def plural_rule(lang: str) -> Callable[[int], str]:
    from babel.plural import PluralRule

    rules = PLURAL_RULES.get(lang)
    return locale(lang).plural_form if rules is None else PluralRule(rules)


def plural_category(lang: str, n: int) -> str:
    """CLDR plural category of `n` in `lang` (zero, one, two, few, many, other): the same rules
    the browser's Intl.PluralRules applies to the counts the scripts show."""
    return str(plural_rule(lang)(n))


GROUP_SYMBOLS: Mapping[str, str] = MappingProxyType(
    {"en": ",", "el": ".", "pl": "\xa0", "lv": "\xa0"}
)
"""The thousands separator of each language whose counts are written without Babel: its
decimal format is CLDR's `#,##0.###` (groups of three), as Babel has it (a test compares)."""


def format_count(lang: str, n: int) -> str:
    """`n` as `lang` writes it (Babel's decimal format, Latin digits). In the languages of
    GROUP_SYMBOLS a count is grouped in threes with the language's separator (a test checks
    numbers against Babel): without loading Babel's locale data, about 5 ms a language, which
    a course's pages need for every language (its home page counts each one's cards). (Not in
    every language: Toki Pona writes `1 00`.)"""
    symbol = GROUP_SYMBOLS.get(lang)
    if symbol is not None and n >= 0:
        return f"{n:,}".replace(",", symbol) if n >= 1000 else str(n)
    from babel.numbers import format_decimal

    return format_decimal(n, locale=locale(lang))


@dataclass(frozen=True, slots=True)
class Messages:
    """The interface text of one language: `t(key, name=value)` and `t.n(key, count)`."""

    lang: str
    table: Mapping[str, Message]

    def __call__(self, key: str, **args: object) -> str:
        text = self.table[key]
        if not isinstance(text, str):
            raise TypeError(f"message {key!r} has plural forms: use t.n()")
        return fill(text, args)

    def n(self, key: str, count: int, **args: object) -> str:
        forms = self.table[key]
        if isinstance(forms, str):
            raise TypeError(f"message {key!r} has no plural forms")
        text = forms.get(plural_category(self.lang, count), forms["other"])
        return fill(text, {**args, "n": format_count(self.lang, count)})


def fill(text: str, args: Mapping[str, object]) -> str:
    """`text` with each `{name}` replaced by `args[name]`; unknown names stay as they are."""
    return PLACEHOLDER.sub(lambda m: str(args.get(m.group(1), m.group(0))), text)


def messages(lang: str, quiet: bool = False) -> Messages:
    """`lang`'s interface text; `quiet`: without the warning when `lang` has no catalogue (for
    the text rendered into lessons: the site stage warns, where the site is built)."""
    return Messages(lang, _catalogue(lang)[0] if quiet else catalogue(lang))
