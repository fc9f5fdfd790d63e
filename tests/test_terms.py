"""One word for one thing in the interface of each language (course/locales, templates/updates).

Greek uses «μάθημα» for a lesson, so the course is «πρόγραμμα» (as the Greek lessons and their
course description call it): a message about the course must not say «μάθημα», or a learner
reads "this lesson" where the course is meant (importing progress, resetting it). A retired card
stays in the learner's collection until they delete it: Latvian calls it «izņemta no kursa»
(taken out of the course), never bare «izņemta», which reads as "removed" from the collection,
nor «novecojusi» (out of date), which beside "updated cards" reads as cards behind the course.
Each row below names the English word whose messages it checks (by key, in the English
catalogue), the stems the language's message must hold (one of them) and those it must not.
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib.resources import files

import pytest

CATALOGUES = ("locales/{lang}.json", "templates/updates/{lang}.json")
GUIDE = "templates/updates/guide-{lang}.md"

# (language, English word, unless the English also says, must hold one of, must hold none of)
TERMS = [
    ("el", "course", "lesson", (), ("μαθημ",)),
    ("el", "lesson", "course", ("μαθημ",), ()),
    ("lv", "retired", "", ("izņemt",), ("novecoj",)),
    ("pl", "retired", "", ("wycof",), ()),
]


def plain(text: str) -> str:
    """Lower case, without accents (a stem matches every form)."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def messages(lang: str) -> dict[str, str]:
    """Every message of the language by key, plural forms joined."""
    found: dict[str, str] = {}
    for pattern in CATALOGUES:
        data = json.loads(files("course").joinpath(pattern.format(lang=lang)).read_text("utf-8"))
        for key, value in data.items():
            found[key] = " ".join(value.values()) if isinstance(value, dict) else value
    return found


def says(text: str, word: str) -> bool:
    return re.search(rf"\b{word}s?\b", text, re.IGNORECASE) is not None


@pytest.mark.parametrize(("lang", "word", "unless", "must", "never"), TERMS)
def test_one_word_for_one_thing(
    lang: str, word: str, unless: str, must: tuple[str, ...], never: tuple[str, ...]
) -> None:
    english, native = messages("en"), messages(lang)
    keys = [
        k for k, text in english.items() if says(text, word) and not (unless and says(text, unless))
    ]
    assert keys, f"no English message says {word!r}"
    for key in keys:
        text = plain(native[key])
        if must:
            assert any(plain(stem) in text for stem in must), f"{lang} {key}: {native[key]}"
        assert not any(plain(stem) in text for stem in never), f"{lang} {key}: {native[key]}"


def test_latvian_says_a_retired_card_is_taken_out_of_the_course() -> None:
    """Every retired-card message, and the guide's retired-card heading, says from what: «no
    kursa»."""
    guide = plain(files("course").joinpath(GUIDE.format(lang="lv")).read_text("utf-8"))
    assert "novecoj" not in guide
    assert plain("## No kursa izņemtās kartītes") in guide
    lv = messages("lv")
    for key in ("retired_notice", "changes_retired"):
        assert plain("izņemt") in plain(lv[key]), lv[key]
        assert "no kursa" in plain(lv[key]), lv[key]
