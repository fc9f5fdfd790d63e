"""Plural categories and counts as Babel gives them, without loading Babel's locale data for the
course's own languages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.numbers import format_decimal

from course import messages

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("lang", sorted(messages.PLURAL_RULES))
def test_plural_rules_are_babels(lang: str) -> None:
    """The rules kept in messages.py are CLDR's as Babel has them, and choose the same category
    for every count a course shows."""
    babel_rule = Locale.parse(lang).plural_form
    assert dict(messages.PLURAL_RULES[lang]) == babel_rule.rules
    for n in range(0, 1201):
        assert messages.plural_category(lang, n) == babel_rule(n), n


LANGS = sorted({*messages.PLURAL_RULES, *messages.GROUP_SYMBOLS})


@pytest.mark.parametrize("lang", [*LANGS, "tok", "ar", "hi"])
def test_counts_are_formatted_as_babel_does(lang: str) -> None:
    locale = Locale.parse(lang)
    large = [10**k + d for k in range(3, 13) for d in (-1, 0, 1, 234, 10**k // 3)]
    for n in [*range(0, 1001), *range(1001, 100_000, 997), *large]:
        assert messages.format_count(lang, n) == format_decimal(n, locale=locale), n


def test_counts_in_the_courses_languages_load_no_locale_data() -> None:
    """A course home counts every language's cards (thousands in a large course): in the
    languages of GROUP_SYMBOLS that is written without Babel's locale data (a fresh
    interpreter: this one has loaded it), which costs about 5 ms a language."""
    code = (
        "import json, sys; from course import messages; "
        "print(json.dumps([messages.format_count(lang, 3350) for lang in sys.argv[1:]] "
        "+ [m for m in sys.modules if m.startswith('babel')]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *messages.GROUP_SYMBOLS],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    assert json.loads(out.stdout) == ["3,350", "3.350", "3\xa0350", "3\xa0350"]


def test_a_language_without_kept_rules_uses_babels() -> None:
    assert messages.plural_category("ru", 3) == "few"
    assert messages.plural_category("ru", 5) == "many"
    assert messages.format_count("tok", 100) == "1\xa000"
