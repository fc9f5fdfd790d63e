"""What an .apkg's collection holds besides the notes, as genanki 0.13 writes it: the tables'
schema, the `col` row, a note type's and a deck's JSON, the base-91 digits of note GUIDs.

The build wrote these through genanki, whose import was 35-41 ms of a small course's build (24 ms
of it asyncio, imported by genanki's `cached_property` dependency) for two `to_json` calls and
two SQL scripts. They are written here instead, to the byte: tests/test_apkg.py compares every
piece with genanki's own (a property test for a note type's required fields, `req`), so a deck's
bytes stay those genanki gave. genanki is a test dependency only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FRONT_BACK, CLOZE = 0, 1
"""A note type's `type`: genanki's `Model.FRONT_BACK` and `Model.CLOZE`."""
LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n"
    "\\begin{document}\n"
)
LATEX_POST = "\\end{document}"
"""genanki's `Model.DEFAULT_LATEX_PRE` and `DEFAULT_LATEX_POST`."""


@dataclass(frozen=True, slots=True)
class Template:
    """One card template of a note type: its name and both sides."""

    name: str
    qfmt: str
    """The question side (mustache, as Anki reads it)."""
    afmt: str


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a note type, as Anki's editor shows it."""

    name: str
    font: str = "Liberation Sans"
    size: int = 20


@dataclass(frozen=True, slots=True)
class NoteType:
    """A note type, as a `genanki.Model` of these arguments gives it to a collection (`to_json`)."""

    model_id: int
    name: str
    fields: tuple[Field, ...]
    templates: tuple[Template, ...]
    css: str = ""
    model_type: int = FRONT_BACK

    def given(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The fields and templates as the dicts given to genanki (before `to_json` adds its
        defaults to them)."""
        fields = [{"name": f.name, "font": f.font, "size": f.size} for f in self.fields]
        templates = [{"name": t.name, "qfmt": t.qfmt, "afmt": t.afmt} for t in self.templates]
        return fields, templates

    def to_json(self, mod: int, deck_id: int) -> dict[str, Any]:
        """genanki's `Model.to_json(mod, deck_id)`."""
        names = [f.name for f in self.fields]
        return {
            "css": self.css,
            "did": deck_id,
            "flds": [_field_json(i, f) for i, f in enumerate(self.fields)],
            "id": str(self.model_id),
            "latexPost": LATEX_POST,
            "latexPre": LATEX_PRE,
            "latexsvg": False,
            "mod": int(mod),
            "name": self.name,
            "req": [required(i, t.qfmt, names) for i, t in enumerate(self.templates)],
            "sortf": 0,
            "tags": [],
            "tmpls": [_template_json(i, t) for i, t in enumerate(self.templates)],
            "type": self.model_type,
            "usn": -1,
            "vers": [],
        }


def _field_json(ord_: int, field: Field) -> dict[str, Any]:
    return {
        "name": field.name, "font": field.font, "size": field.size, "ord": ord_, "media": [],
        "rtl": False, "sticky": False,
    }  # fmt: skip


def _template_json(ord_: int, template: Template) -> dict[str, Any]:
    return {
        "name": template.name, "qfmt": template.qfmt, "afmt": template.afmt, "ord": ord_,
        "bafmt": "", "bqfmt": "", "bfont": "", "bsize": 0, "did": None,
    }  # fmt: skip


def deck_json(deck_id: int, name: str, description: str) -> dict[str, Any]:
    """genanki's `Deck(deck_id, name, description).to_json()`."""
    return {
        "collapsed": False, "conf": 1, "desc": description, "dyn": 0, "extendNew": 0,
        "extendRev": 50, "id": deck_id, "lrnToday": [163, 2], "mod": 1425278051, "name": name,
        "newToday": [163, 2], "revToday": [163, 0], "timeToday": [163, 23598], "usn": -1,
    }  # fmt: skip


# -- the fields a card needs (`req`) ------------------------------------------------------------

TAG = re.compile(r"\{\{(\{)?\s*([#^/!&>=]?)\s*(.*?)\s*\}\}(?(1)\})", re.DOTALL)
"""A mustache tag: `{{name}}`, `{{{name}}}`, `{{&name}}`, `{{#name}}`, `{{^name}}`, `{{/name}}`,
`{{!comment}}` (partials `>` and delimiters `=` are refused)."""

Node = tuple[str, str, "Sequence[Node]"]
"""(kind: "var", "#" or "^"; the tag's name; a section's content)."""


def required(ord_: int, qfmt: str, names: Sequence[str]) -> list[Any]:
    """A template's entry of the note type's `req`, as genanki computes it (`Model._req`, with
    chevron rendering the question with each field empty or filled): `[ord, "all", fields]`,
    the fields without any of which the question shows no field, else `[ord, "any", fields]`,
    those that alone show one."""
    tree = _parse(qfmt)
    everything = frozenset(names)
    needed = [i for i, n in enumerate(names) if not _shows(tree, everything - {n})]
    if needed:
        return [ord_, "all", needed]
    either = [i for i, n in enumerate(names) if _shows(tree, frozenset((n,)))]
    if not either:
        raise ValueError(f"no field shows on the question side of template {ord_}: {qfmt!r}")
    return [ord_, "any", either]


def _shows(nodes: Sequence[Node], filled: frozenset[str]) -> bool:
    """Whether the question shows a field's value when only the `filled` fields are not empty
    (a name that is no field, `cloze:Text` say, renders empty, as chevron renders it)."""
    for kind, name, content in nodes:
        if kind == "var":
            if name in filled:
                return True
        elif (name in filled) == (kind == "#") and _shows(content, filled):
            return True
    return False


def _parse(text: str) -> list[Node]:
    """`text`'s tags, sections nested (a section's closing tag must match its opening one)."""
    stack: list[tuple[str, str, list[Node]]] = [("", "", [])]
    rest = TAG.sub("", text)
    if "{{" in rest or "}}" in rest:  # braces chevron may read otherwise than TAG
        raise ValueError(f"unsupported in a note type's template: {rest!r}")
    for match in TAG.finditer(text):
        _, sigil, name = match.groups()
        if sigil in (">", "=") or any(c in name for c in ".{}"):
            raise ValueError(f"unsupported in a note type's template: {match.group(0)!r}")
        if sigil in ("#", "^"):
            stack.append((sigil, name, []))
        elif sigil == "/":
            kind, opened, content = stack.pop()
            if opened != name or not kind:
                raise ValueError(f"{match.group(0)!r} closes no open section")
            stack[-1][2].append((kind, name, content))
        elif sigil != "!":
            stack[-1][2].append(("var", name, ()))
    if len(stack) != 1:
        raise ValueError(f"section {stack[-1][1]!r} is never closed")
    return stack[0][2]


BASE91_DIGITS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
"""genanki's `util.BASE91_TABLE` (Anki's GUID digits), in order."""

APKG_SCHEMA = r"""
CREATE TABLE col (
    id              integer primary key,
    crt             integer not null,
    mod             integer not null,
    scm             integer not null,
    ver             integer not null,
    dty             integer not null,
    usn             integer not null,
    ls              integer not null,
    conf            text not null,
    models          text not null,
    decks           text not null,
    dconf           text not null,
    tags            text not null
);
CREATE TABLE notes (
    id              integer primary key,   /* 0 */
    guid            text not null,         /* 1 */
    mid             integer not null,      /* 2 */
    mod             integer not null,      /* 3 */
    usn             integer not null,      /* 4 */
    tags            text not null,         /* 5 */
    flds            text not null,         /* 6 */
    sfld            integer not null,      /* 7 */
    csum            integer not null,      /* 8 */
    flags           integer not null,      /* 9 */
    data            text not null          /* 10 */
);
CREATE TABLE cards (
    id              integer primary key,   /* 0 */
    nid             integer not null,      /* 1 */
    did             integer not null,      /* 2 */
    ord             integer not null,      /* 3 */
    mod             integer not null,      /* 4 */
    usn             integer not null,      /* 5 */
    type            integer not null,      /* 6 */
    queue           integer not null,      /* 7 */
    due             integer not null,      /* 8 */
    ivl             integer not null,      /* 9 */
    factor          integer not null,      /* 10 */
    reps            integer not null,      /* 11 */
    lapses          integer not null,      /* 12 */
    left            integer not null,      /* 13 */
    odue            integer not null,      /* 14 */
    odid            integer not null,      /* 15 */
    flags           integer not null,      /* 16 */
    data            text not null          /* 17 */
);
CREATE TABLE revlog (
    id              integer primary key,
    cid             integer not null,
    usn             integer not null,
    ease            integer not null,
    ivl             integer not null,
    lastIvl         integer not null,
    factor          integer not null,
    time            integer not null,
    type            integer not null
);
CREATE TABLE graves (
    usn             integer not null,
    oid             integer not null,
    type            integer not null
);
CREATE INDEX ix_notes_usn on notes (usn);
CREATE INDEX ix_cards_usn on cards (usn);
CREATE INDEX ix_revlog_usn on revlog (usn);
CREATE INDEX ix_cards_nid on cards (nid);
CREATE INDEX ix_cards_sched on cards (did, queue, due);
CREATE INDEX ix_revlog_cid on revlog (cid);
CREATE INDEX ix_notes_csum on notes (csum);
"""
"""genanki's `apkg_schema.APKG_SCHEMA`: the collection's tables and indexes."""

APKG_COL = r"""
INSERT INTO col VALUES(
    null,
    1411124400,
    1425279151694,
    1425279151690,
    11,
    0,
    0,
    0,
    '{
        "activeDecks": [
            1
        ],
        "addToCur": true,
        "collapseTime": 1200,
        "curDeck": 1,
        "curModel": "1425279151691",
        "dueCounts": true,
        "estTimes": true,
        "newBury": true,
        "newSpread": 0,
        "nextPos": 1,
        "sortBackwards": false,
        "sortType": "noteFld",
        "timeLim": 0
    }',
    '{}',
    '{
        "1": {
            "collapsed": false,
            "conf": 1,
            "desc": "",
            "dyn": 0,
            "extendNew": 10,
            "extendRev": 50,
            "id": 1,
            "lrnToday": [
                0,
                0
            ],
            "mod": 1425279151,
            "name": "Default",
            "newToday": [
                0,
                0
            ],
            "revToday": [
                0,
                0
            ],
            "timeToday": [
                0,
                0
            ],
            "usn": 0
        }
    }',
    '{
        "1": {
            "autoplay": true,
            "id": 1,
            "lapse": {
                "delays": [
                    10
                ],
                "leechAction": 0,
                "leechFails": 8,
                "minInt": 1,
                "mult": 0
            },
            "maxTaken": 60,
            "mod": 0,
            "name": "Default",
            "new": {
                "bury": true,
                "delays": [
                    1,
                    10
                ],
                "initialFactor": 2500,
                "ints": [
                    1,
                    4,
                    7
                ],
                "order": 1,
                "perDay": 20,
                "separate": true
            },
            "replayq": true,
            "rev": {
                "bury": true,
                "ease4": 1.3,
                "fuzz": 0.05,
                "ivlFct": 1,
                "maxIvl": 36500,
                "minSpace": 1,
                "perDay": 100
            },
            "timer": 0,
            "usn": 0
        }
    }',
    '{}'
);
"""
"""genanki's `apkg_col.APKG_COL`: the `col` row (the default deck and its options)."""
