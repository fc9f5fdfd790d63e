"""Load stage: the Markdown files under the lessons folder that no build reads, as warnings.

A build reads `lessons/<lang>/*.md` and nothing else (lessons.py). A Markdown file an author put
anywhere else under the lessons folder would be left out of every output without a word: a note
in a language folder's subfolder (as Obsidian users keep them), `x.MD` or `x.markdown`, a file at
the top of the lessons folder or in a folder whose name is not a language code. Each one is
named (`path: not built: ...`, with what to do), as mkdocs names a page missing from its nav and
Sphinx a document in no toctree; `--strict` makes it an error.

Not looked into: hidden files and folders (a dot first: `.obsidian/`, `.trash/`, `.git`, the
build's own temporary files; watch.py builds on none of them), links to folders below the top
(no walk in circles), the language folders the build was not asked for (`--lang`), and the cache
folder when `COURSE_CACHE_DIR` puts it inside the lessons folder. Not named: a folder's own
documentation, `README.md` and the other files GitHub shows beside it (`DOCUMENTS`), which a
lessons folder kept as a repository of its own has; in a language folder a `README.md` is read
as a lesson, as it always was. Images and course files are not Markdown: never named.

One os.scandir a folder, names and entry types only (no stat): a 10,000-card course's lessons
folder is 4 folders, walked in well under a millisecond, by a build that parses; a rebuild that
replays the last build's lines (outputs.LastBuild, whose key covers every file here) walks
nothing more.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

MARKDOWN = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")
"""The names of Markdown files, in lower case (GitHub's list, the common ones)."""
DOCUMENTS = frozenset(
    {"readme", "license", "licence", "contributing", "changelog", "code_of_conduct", "security"}
)
"""A folder's own documentation (the name before the extension, in lower case): not named."""


@dataclass(frozen=True, slots=True)
class Stray:
    """A Markdown file no build reads: its path, and what the author can do."""

    path: Path
    message: str


def find(
    root: Path,
    languages: Collection[str],
    lessons: Mapping[str, Collection[str]],
    skip: Path | None = None,
) -> list[Stray]:
    """The Markdown files under `root` that are not lessons, sorted. `languages`: the names of
    its language folders; `lessons`: by language folder to look into, the names of its files
    read as lessons; `skip`: a folder not to look into (the cache's)."""
    shown = root / "<lang>"  # (display: the lessons folder as given)
    found: list[Stray] = []
    for parts, path in _markdown_files(str(root), languages, lessons, skip):
        top, name = parts[0], parts[-1]
        stem = name.rsplit(".", 1)[0]
        if stem.lower() in DOCUMENTS:
            continue
        if len(parts) == 1:
            why = f"a lesson goes in a language folder; move it to {shown}{os.sep} as *.md"
        elif top not in languages:
            why = (
                f"'{top}' is not a language folder (a language code: el, pl, pt-BR); "
                f"move it to {shown}{os.sep} as *.md"
            )
        elif len(parts) > 2:
            why = f"lessons are read from {root / top}{os.sep} itself, not its subfolders"
            why += "; move it there"
        elif name in lessons[top]:
            continue
        else:
            why = f"only names ending in '.md' (lower case) are lessons; rename it to {stem}.md"
        found.append(Stray(Path(path), f"not built: {why}"))
    return sorted(found, key=lambda stray: stray.path.parts)


def _markdown_files(
    root: str,
    languages: Collection[str],
    lessons: Mapping[str, Collection[str]],
    skip: Path | None,
) -> Iterator[tuple[tuple[str, ...], str]]:
    """(parts of the name from `root`, path) of every Markdown file `find` looks at."""
    skipped = None if skip is None else (skip.name, os.path.realpath(skip))
    folders: list[tuple[tuple[str, ...], str]] = [((), root)]
    while folders:
        parts, folder = folders.pop()
        try:
            with os.scandir(folder) as entries:
                found = list(entries)
        except OSError:  # (gone, or not readable: the loader says so of what it reads)
            continue
        for entry in found:
            name = entry.name
            if name.startswith("."):
                continue
            here = (*parts, name)
            if _is_folder(entry, parts, languages, lessons):
                if skipped is None or skipped != (name, os.path.realpath(entry.path)):
                    folders.append((here, entry.path))
            elif name.lower().endswith(MARKDOWN):
                yield here, entry.path


def _is_folder(
    entry: os.DirEntry[str],
    parts: tuple[str, ...],
    languages: Collection[str],
    lessons: Mapping[str, Collection[str]],
) -> bool:
    """Whether `entry` is a folder to look into: at the top, a language folder the build reads
    (a link to one followed, as the loader follows it) or any other folder (not a link); below,
    a folder (not a link)."""
    try:
        if parts or entry.name not in languages:
            return entry.is_dir(follow_symlinks=False)
        return entry.name in lessons and entry.is_dir()
    except OSError:
        return False
