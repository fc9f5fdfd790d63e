"""Translation stage: a translated lesson names the language of its original (`translated_from`);
check that link card by card, and say when an original changed after its translation was last
brought in line with it.

What "in line" means is recorded in the translation's manifest: for each translated card (and each
translated lesson's prose) the original's content hash (`source`) and the translation's own
(`synced`) at the last build that saw the translation change. A translation whose hash still equals
`synced` while its original's no longer equals `source` is stale; editing the translation clears it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from .manifest import CardEntry, DeckEntry, Manifest, with_entries
from .model import Card, Lesson, Library, Problem, SourceLoc
from .model import digest as digest  # the manifests' hash, kept in model.py for the parse


@dataclass(frozen=True, slots=True)
class Link:
    """A translated lesson and the lesson (same ID, another language) it was translated from."""

    translation: Lesson
    original: Lesson

    @property
    def originals(self) -> Mapping[str, Card]:
        return {card.id: card for card in self.original.cards if card.id is not None}


def card_hash(card: Card) -> str:
    """What a translator translates of a card: its kind, its text and its explanation (hashed
    where it was parsed: cards.py)."""
    return card.source_hash


def lesson_hash(lesson: Lesson) -> str:
    """A lesson's prose: title, description and every text outside its cards (hashed where it
    was parsed: render.py)."""
    return lesson.rendered.prose_digest


def links(library: Library) -> tuple[list[Link], list[Problem]]:
    """Every translated lesson whose original is loaded, and warnings for broken links. An
    original in a language left out with `--lang` is not compared (nothing to compare with).
    Worked out once per library: a build asks four times (the translations check, the deck
    plans, the manifests, what the next build prints); a library is never changed."""
    last = _LAST[0] if _LAST else None
    if last is None or last[0] is not library:
        last = (library, *_links(library))
        _LAST[:] = [last]
    return list(last[1]), list(last[2])


_LAST: list[tuple[Library, tuple[Link, ...], tuple[Problem, ...]]] = []
"""The last library `links` was asked about (by identity), and its answer."""


def _links(library: Library) -> tuple[tuple[Link, ...], tuple[Problem, ...]]:
    lessons = {c.lang: {lesson.id: lesson for lesson in c.lessons} for c in library.courses}
    found: list[Link] = []
    warnings: list[Problem] = []
    for course in library.courses:
        for lesson in course.lessons:
            origin = lesson.translated_from
            if origin is None:
                continue
            loc = SourceLoc(lesson.path, 1)
            if origin not in lessons:
                if not (library.root / origin).is_dir():
                    warnings.append(Problem(loc, f"translated_from: there is no lessons/{origin}/"))
                continue
            original = lessons[origin].get(lesson.id)
            if original is None:
                warnings.append(
                    Problem(loc, f"translated_from: lessons/{origin}/ has no lesson '{lesson.id}'")
                )
                continue
            link = Link(lesson, original)
            found.append(link)
            warnings += _card_links(link)
    return tuple(found), tuple(warnings)


def _card_links(link: Link) -> Iterator[Problem]:
    originals = link.originals
    for card in link.translation.cards:
        if card.id is not None and card.id not in originals:
            yield Problem(
                card.loc,
                f"card {card.id} is not in the original {link.original.path}: a translated card "
                "keeps its original's ID",
            )
    translated = {card.id for card in link.translation.cards}
    for card_id, card in originals.items():
        if card_id not in translated:
            yield Problem(
                SourceLoc(link.translation.path, 1),
                f"card {card_id} of the original ({card.loc}) has no translation here",
            )


def stale(link: Link, recorded: Manifest) -> Iterator[Problem]:
    """Cards (and prose) of `link.translation` whose original changed since they were in line."""
    originals = link.originals
    for card in link.translation.cards:
        original = originals.get(card.id or "")
        entry = recorded.cards.get(card.id or "")
        if original is None or entry is None or not entry.source:
            continue
        if entry.synced == card_hash(card) and entry.source != card_hash(original):
            yield Problem(
                card.loc,
                f"card {card.id} may be out of date: its original ({original.loc}) changed "
                "after this translation was last updated; update it (any edit marks it done)",
            )
    deck = recorded.decks.get(link.translation.id)
    if (
        deck is not None
        and deck.source
        and deck.synced == lesson_hash(link.translation)
        and deck.source != lesson_hash(link.original)
    ):
        yield Problem(
            SourceLoc(link.translation.path, 1),
            f"the lesson's text may be out of date: {link.original.path} changed outside its "
            "cards after this translation was last updated",
        )


def record(manifest: Manifest, lang_links: Iterable[Link]) -> Manifest:
    """`manifest` with the translation state of each card and lesson that changed (or was never
    recorded) set to now: its original's hash and its own."""
    entries: list[CardEntry | DeckEntry] = []
    for link in lang_links:
        originals = link.originals
        for card in link.translation.cards:
            original = originals.get(card.id or "")
            entry = manifest.cards.get(card.id or "")
            if original is None or entry is None:
                continue
            own = card_hash(card)
            if entry.synced != own or not entry.source:
                entries.append(replace(entry, source=card_hash(original), synced=own))
        deck = manifest.decks.get(link.translation.id)
        own = lesson_hash(link.translation)
        if deck is not None and (deck.synced != own or not deck.source):
            entries.append(replace(deck, source=lesson_hash(link.original), synced=own))
    return with_entries(manifest, entries) if entries else manifest


def by_language(found: Iterable[Link]) -> dict[str, list[Link]]:
    result: dict[str, list[Link]] = {}
    for link in found:
        result.setdefault(link.translation.lang, []).append(link)
    return result
