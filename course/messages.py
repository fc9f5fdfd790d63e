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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

log = logging.getLogger(__name__)

FALLBACK_LANG = "en"
"""The catalogue used for missing messages, and the language of the landing page."""
PLACEHOLDER = re.compile(r"\{(\w+)\}")

Message = str | Mapping[str, str]
"""One message: its text, or its text per plural category."""


@cache
def catalogue(lang: str) -> Mapping[str, Message]:
    """`course/locales/<lang>.json` over the English fallback (a missing file is only a warning)."""
    folder = files("course").joinpath("locales")
    table: dict[str, Message] = json.loads(
        folder.joinpath(f"{FALLBACK_LANG}.json").read_text("utf-8")
    )
    own = folder.joinpath(f"{lang}.json")
    if lang != FALLBACK_LANG:
        if own.is_file():
            table.update(json.loads(own.read_text("utf-8")))
        else:
            log.warning(
                "no message catalogue course/locales/%s.json: the interface will be in English",
                lang,
            )
    return MappingProxyType(table)


@cache
def locale(lang: str) -> Locale:
    """Babel's locale for `lang`, or the fallback language's for a code Babel does not know."""
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LANG)


def plural_category(lang: str, n: int) -> str:
    """CLDR plural category of `n` in `lang` (zero, one, two, few, many, other): the same rules
    the browser's Intl.PluralRules applies to the counts the scripts show."""
    return str(locale(lang).plural_form(n))


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
        return fill(text, {**args, "n": format_decimal(count, locale=locale(self.lang))})


def fill(text: str, args: Mapping[str, object]) -> str:
    """`text` with each `{name}` replaced by `args[name]`; unknown names stay as they are."""
    return PLACEHOLDER.sub(lambda m: str(args.get(m.group(1), m.group(0))), text)


def messages(lang: str) -> Messages:
    return Messages(lang, catalogue(lang))
