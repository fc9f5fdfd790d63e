"""Course generator: Markdown lessons -> Anki decks and a static HTML course, one per language."""

from . import records

records.install()  # (before any of the package's records is made)
