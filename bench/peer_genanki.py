"""Peer run (in bench/.peers): genanki writes pre-parsed notes, the floor of any .apkg writer.

    python peer_genanki.py notes.json OUT_DIR

One package per language with one deck, notes from `corpus.notes` (HTML fields already rendered):
no Markdown is parsed, so this is the cost of genanki and SQLite alone.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import genanki


def stable_id(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


MODEL = genanki.Model(
    stable_id("bench-basic"),
    "Bench Basic",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Lesson"}, {"name": "Section"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Lesson}}<br>{{Front}}",
            "afmt": "{{FrontSide}}<hr id=answer>{{Back}}",
        }
    ],
)


def main() -> None:
    notes = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for lang, rows in notes.items():
        deck = genanki.Deck(stable_id(f"bench-{lang}"), f"Bench {lang}")
        for row in rows:
            deck.add_note(
                genanki.Note(
                    model=MODEL,
                    fields=[row["front"], row["back"], row["lesson"], row["section"]],
                    guid=genanki.guid_for(lang, row["id"]),
                )
            )
        genanki.Package(deck).write_to_file(str(out / f"bench-{lang}.apkg"))


if __name__ == "__main__":
    main()
