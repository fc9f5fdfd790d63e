"""Course generator: Markdown lessons -> Anki decks and a static HTML course, one per language."""

from . import compiled

compiled.install()  # (before any of the package's records or patterns is made)
