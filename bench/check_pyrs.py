"""Is markdown-it-pyrs a byte-identical stand-in for markdown-it-py here, and how much faster?

    bench/.peers/bin/python bench/check_pyrs.py DIR_OR_FILE...

Renders every `.md` file (front matter stripped, as this project's parser skips it) with both
parsers, in two configurations: this project's (raw HTML off) and stock CommonMark (raw HTML on).
Prints identical/total per configuration, the first differing files with the first differing line,
and the render time of each parser over all files; then the same for a table of tricky snippets
(`SAMPLES`: where the two are known to differ, and constructs worth watching). Runs in
bench/.peers, where both are installed.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it_pyrs import MarkdownIt as RsMarkdownIt
from peer_markdown import RS_RULES

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
Render = Callable[[str], str]
SAMPLES = (
    # Known differences (markdown-it-pyrs 0.4.0 vs markdown-it-py 4.3.0):
    '[ref]\n\n[ref]: https://παράδειγμα.ελ/δοκιμή "τίτλος"\n',  # py punycodes an IDN host
    "\u00a0lead no-break space\n",  # py strips a paragraph's leading U+00A0, rs keeps it
    # Found by tests/test_prose.py (course/prose.py leaves these to markdown-it-py):
    "~~a~~~~b~~\n",  # tilde runs of 3+: rs makes one span
    "*€*a **©**b\n",  # py reads a Unicode symbol as punctuation (CommonMark 0.31), rs does not
    "a `\n  ` b\n",  # a blank code span across lines: rs keeps one space
    "- item\n  ```\n  code\n  ```\n",  # rs writes a newline between the item's text and the fence
    # (and rs panics on "[a `b", an open code span in a link label: left out, it would stop this)
    # Identical so far:
    "<https://example.org/a_b> and https://example.org plain\n",
    "a  \nb\\\nc\n",
    "&copy; &#35; &#x22; &nosuch;\n",
    "| a | b |\n|---|:-:|\n| `x\\|y` | ~~s~~ |\n",
    "1. one\n   - two\n\n     para\n2) three\n",
    "*a **b** c* _d_ __e__ ***f***\n",
    "> quote\n> - list\n>\n> ```py\n> code\n> ```\n",
    "Setext\n===\n\n    indented code\n\n---\n",
    "![alt *x*](img/a.png \"t\") [link](</a b> 'q')\n",
    "<div>raw</div>\n\n<!-- id: x -->\n\ntext <span>inline</span>\n",
    "Ερώτηση;::απάντηση <!-- id: a1 -->\n\n==hidden== {{c1::x::hint}}\n",
    "word\u00a0w\u00a0środku ‘quotes’ “x” „y” «z» — dash ...\n",
    "[a](https://xn--hxajbheg2az3al.xn--jxalpdlp/) [b](HTTPS://EXAMPLE.ORG/%E2%82%AC)\n",
    "- [ ] task\n- [x] done\n",
    "Footnote[^1]\n\n[^1]: note\n",
    "`` code with ` tick ``\n",
)


def configurations() -> dict[str, tuple[Render, Render]]:
    py_off = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    rs_off = RsMarkdownIt("zero").enable_many(RS_RULES)  # type: ignore[arg-type, unused-ignore]
    py_on = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    rs_on = RsMarkdownIt("commonmark").enable_many(["table", "strikethrough"])
    return {
        "html off (this project)": (py_off.render, rs_off.render),
        "html on (CommonMark)": (py_on.render, rs_on.render),
    }


def first_difference(a: str, b: str) -> str:
    for number, (left, right) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if left != right:
            return f"line {number}: py {left[:120]!r} / rs {right[:120]!r}"
    return f"lengths {len(a)} / {len(b)}"


def texts(args: list[str]) -> list[tuple[Path, str]]:
    paths: list[Path] = []
    for arg in map(Path, args):
        paths.extend(sorted(arg.rglob("*.md")) if arg.is_dir() else [arg])
    return [(p, FRONT_MATTER.sub("", p.read_text(encoding="utf-8"), count=1)) for p in paths]


def timed(render: Render, sources: list[str]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    out = [render(text) for text in sources]
    return time.perf_counter() - start, out


def main() -> None:
    files = texts(sys.argv[1:])
    sources = [text for _, text in files]
    size = sum(len(text.encode()) for text in sources)
    print(f"{len(files)} files, {size / 1e6:.2f} MB of Markdown")
    for name, (py, rs) in configurations().items():
        py_time, py_out = timed(py, sources)
        rs_time, rs_out = timed(rs, sources)
        diffs = [i for i, (a, b) in enumerate(zip(py_out, rs_out, strict=True)) if a != b]
        print(
            f"{name}: {len(files) - len(diffs)}/{len(files)} byte-identical; markdown-it-py "
            f"{py_time:.2f} s, markdown-it-pyrs {rs_time:.3f} s ({py_time / rs_time:.1f}x)"
        )
        for i in diffs[:5]:
            print(f"  {files[i][0]}: {first_difference(py_out[i], rs_out[i])}")
        differ = [text for text in SAMPLES if py(text) != rs(text)]
        print(f"  tricky snippets: {len(SAMPLES) - len(differ)}/{len(SAMPLES)} byte-identical")
        for text in differ:
            print(f"    {text[:50]!r}: py {py(text)[:90]!r} / rs {rs(text)[:90]!r}")


if __name__ == "__main__":
    main()
