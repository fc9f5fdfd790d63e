"""Course generator: Markdown lessons -> Anki decks and a static HTML course, one per language."""
