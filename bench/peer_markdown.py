"""Peer run (in bench/.peers): parse and render every page with markdown-it-py or markdown-it-pyrs.

    python peer_markdown.py py|py2|rs PAGES_DIR OUT_DIR

Both are configured like this project's parser (CommonMark, tables, strikethrough, raw HTML off)
and write one HTML file per page. `py2` is markdown-it-py split over two forked processes (pages
dealt largest first, alternately): the parser's own floor on a 2-core machine.
"""

from __future__ import annotations

import os
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

        rs = RsMarkdownIt("zero").enable_many(RS_RULES)  # type: ignore[arg-type, unused-ignore]
        return lambda text: rs.render(text, xhtml=True)
    from markdown_it import MarkdownIt

    py = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return py.render


def write(render: Callable[[str], str], pages: Path, out: Path, paths: list[Path]) -> None:
    for path in paths:
        target = out / path.relative_to(pages).with_suffix(".html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")


def main() -> None:
    engine = sys.argv[1]
    render = renderer("py" if engine == "py2" else engine)
    pages, out = Path(sys.argv[2]), Path(sys.argv[3])
    paths = sorted(pages.rglob("*.md"))
    if engine != "py2":
        write(render, pages, out, paths)
        return
    paths.sort(key=lambda p: p.stat().st_size, reverse=True)
    child = os.fork()
    write(render, pages, out, paths[child == 0 :: 2])
    if child == 0:
        os._exit(0)
    _, status = os.waitpid(child, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
