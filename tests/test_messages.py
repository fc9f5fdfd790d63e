"""Plural categories and counts as Babel gives them, without loading Babel's locale data for the
course's own languages."""

from __future__ import annotations

import pytest
from babel import Locale
from babel.numbers import format_decimal

from course import messages


@pytest.mark.parametrize("lang", sorted(messages.PLURAL_RULES))
def test_plural_rules_are_babels(lang: str) -> None:
    """The rules kept in messages.py are CLDR's as Babel has them, and choose the same category
    for every count a course shows."""
    babel_rule = Locale.parse(lang).plural_form
    assert dict(messages.PLURAL_RULES[lang]) == babel_rule.rules
    for n in range(0, 1201):
        assert messages.plural_category(lang, n) == babel_rule(n), n


@pytest.mark.parametrize("lang", [*sorted(messages.PLURAL_RULES), "tok", "ar", "hi"])
def test_counts_are_formatted_as_babel_does(lang: str) -> None:
    locale = Locale.parse(lang)
    for n in [*range(0, 1001), 1234, 12345, 1234567]:
        assert messages.format_count(lang, n) == format_decimal(n, locale=locale), n


def test_a_language_without_kept_rules_uses_babels() -> None:
    assert messages.plural_category("ru", 3) == "few"
    assert messages.plural_category("ru", 5) == "many"
    assert messages.format_count("tok", 100) == "1\xa000"
