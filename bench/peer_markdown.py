"""Peer run (in bench/.peers): parse and render every page with markdown-it-py or markdown-it-pyrs.

    python peer_markdown.py py|rs PAGES_DIR OUT_DIR

Both are configured like this project's parser (CommonMark, tables, strikethrough, raw HTML off)
and write one HTML file per page.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

# CommonMark's rules without raw HTML, plus tables and strikethrough (markdown-it-pyrs names).
RS_RULES = [
    "blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph",
    "reference", "autolink", "backticks", "emphasis", "entity", "escape", "image", "link",
    "newline", "table", "strikethrough",
]  # fmt: skip


def renderer(engine: str) -> Callable[[str], str]:
    if engine == "rs":
        from markdown_it_pyrs import MarkdownIt as RsMarkdownIt

        rs = RsMarkdownIt("zero").enable_many(RS_RULES)  # type: ignore[arg-type]
        return lambda text: rs.render(text, xhtml=True)
    from markdown_it import MarkdownIt

    py = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return py.render


def main() -> None:
    render = renderer(sys.argv[1])
    pages, out = Path(sys.argv[2]), Path(sys.argv[3])
    for path in sorted(pages.rglob("*.md")):
        target = out / path.relative_to(pages).with_suffix(".html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
