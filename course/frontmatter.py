"""Load stage, YAML part: a lesson's front matter and the course files, read into typed records.

Every problem is added to a `Report` with the file's line, so an author sees them all in one run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import Problem, Source, SourceLoc

if TYPE_CHECKING:
    # PyYAML is imported when a file is first parsed, not with this module: a build that parses
    # no lesson and finds its course files' parse in the cache (lessons.read_course_file) never
    # imports it (11-15 ms of a one-edit rebuild before it could read its cached lessons; the
    # edited lesson is parsed by a forked child, which imports it then).
    import yaml

    Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]

LANG_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
LESSON_KEYS = {"id", "title", "lang", "order", "source", "tags", "description", "translated_from"}
SOURCE_KEYS = {"title", "publisher", "url", "author"}
COURSE_KEYS = {"id", "title", "description", "mastery_score"}
SOURCE_URL = re.compile(r"(?:https?://|mailto:)[^\x00-\x20\x7f]+\Z", re.IGNORECASE)
"""A source `url` the decks and the site link to: a web or mail address, with no space or
control character (browsers drop tabs and line breaks from an address, so `java\tscript:` runs;
Anki shows the field's HTML with no Content-Security-Policy). Any other is left out, with a
warning."""
DEFAULT_MASTERY_SCORE = 80


def display_path(path: Path) -> Path:
    """The path as an author would type it: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


@dataclass
class Report:
    """Problems found so far: errors stop the build, warnings are logged (or fail with --strict)."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: Path, line: int, message: str) -> None:
        self.errors.append(Problem(SourceLoc(display_path(path), line), message))

    def warn(self, path: Path, line: int, message: str) -> None:
        self.warnings.append(Problem(SourceLoc(display_path(path), line), message))


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """A lesson's validated front matter."""

    id: str
    title: str
    order: int
    source: Source | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    translated_from: str | None = None
    """The language code of the lesson this one translates (same `id`), if it is a translation."""


@dataclass(frozen=True, slots=True)
class CourseFile:
    """`lessons/course.yml` or `lessons/<lang>/course.yml`: every key optional."""

    id: str | None = None
    title: str | None = None
    description: str | None = None
    mastery_score: int = DEFAULT_MASTERY_SCORE
    """Share of a lesson's cards (percent, 0..100) a learner must know to master it."""
    id_line: int | None = None
    """The line of its `id` key (1-based, however the key is spelled: `"id": x`, `{id: x}`); 0
    when the file has no `id`; None when there is no file (`lessons.read_course_file`): where a
    changed course ID is reported (`updates.course_changed`)."""


FAST_LOADER: Loader | None
"""PyYAML's safe loader over libyaml's parser, where PyYAML was built with it: about 15x faster
than `yaml.SafeLoader` (the pure-Python parser was a sixth of the bundled course's parse), with
the same resolver and constructor. Its error messages are libyaml's, so a document it refuses is
read again by `yaml.SafeLoader`, whose message and line the author gets. Set when first asked
(`_fast_loader`), with PyYAML's import."""


def __getattr__(name: str) -> object:
    """`FAST_LOADER` before it is set (a module's own lookups of a name do not come here)."""
    if name == "FAST_LOADER":
        return _fast_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _fast_loader() -> Loader | None:
    """`FAST_LOADER` (set by a test: as set)."""
    try:
        return globals()["FAST_LOADER"]  # type: ignore[no-any-return]
    except KeyError:
        import yaml

        fast = getattr(yaml, "CSafeLoader", None)
        globals()["FAST_LOADER"] = fast
        return fast


PYYAML_ONLY = frozenset("!?|>\t\ufeff")
"""Characters around which libyaml reads some documents otherwise than PyYAML: a tag (`key: !`
gives '' instead of None), a byte-order mark inside the text, a tab after a value, a block
scalar (`|#`), a `?` in a flow collection (`[x?]`): libyaml accepts what PyYAML refuses, or gives
other values (tests/test_front_matter_loader.py: found by generated documents). A document with
any of them is read by `yaml.SafeLoader` alone; for every other, the two agree on values, key
lines and refusals (the same tests)."""


CONSTRUCT_ERRORS = (ValueError, TypeError, AttributeError, LookupError, OverflowError)
"""What PyYAML's constructor raises for a scalar its resolver or tag gives a type it does not
hold (`2024-02-30`, `!!int x`, `!!int` empty, `!!timestamp x`, `!!bool x`): not a YAMLError."""


def _load(loader_class: Loader, text: str) -> tuple[Any, yaml.Node | None]:
    """The document's values and its node (one parse gives both the values and the key lines);
    a value that cannot be made raises a YAMLError at its line."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        try:
            return loader.construct_document(node), node
        except CONSTRUCT_ERRORS as exc:
            raise _unreadable(node) from exc
    finally:
        loader.dispose()


def _unreadable(top: yaml.Node) -> yaml.MarkedYAMLError:
    """The error of the first scalar of `top` that cannot be made (`_load`)."""
    import yaml

    nodes = [top]
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except CONSTRUCT_ERRORS:
                kind = node.tag.rsplit(":", 1)[-1]
                problem = f"{node.value!r} is not a valid {kind} (quote it to keep it as text)"
                return yaml.MarkedYAMLError(problem=problem, problem_mark=node.start_mark)
        elif isinstance(node, yaml.SequenceNode):
            nodes += node.value
        elif isinstance(node, yaml.MappingNode):
            nodes += [part for pair in node.value for part in pair]
    return yaml.MarkedYAMLError(problem="a value cannot be read", problem_mark=top.start_mark)


def read_yaml(
    path: Path, text: str, report: Report, first_line: int = 1
) -> tuple[Any, dict[str, int]]:
    """Parse YAML; return (data, {top-level key: line}). Errors carry the file's line."""
    import yaml  # (here, not with the module: see `TYPE_CHECKING` above)

    try:
        fast = _fast_loader() if PYYAML_ONLY.isdisjoint(text) else None
        try:
            data, node = _load(fast or yaml.SafeLoader, text)
        except yaml.YAMLError:
            if fast is None:
                raise
            data, node = _load(yaml.SafeLoader, text)  # its message
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        report.error(path, line, f"invalid YAML: {problem}")
        return None, {}
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            line, name = first_line + key.start_mark.line, str(key.value)
            if name in lines:  # (YAML asks for unique keys; PyYAML keeps the last one quietly)
                report.error(path, line, f"'{name}' is given twice (first on line {lines[name]})")
            lines[name] = line
    return data, lines


def _warn_nesting(path: Path, line: int, title: Any, report: Report) -> None:
    """A title names a deck in Anki, where `::` separates a deck from the one above it."""
    if isinstance(title, str) and "::" in title:
        report.warn(
            path, line, "'title' holds '::', which Anki reads as a deck inside another deck: "
            "learners get an empty deck named by the part before it; write it another way",
        )  # fmt: skip


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_course_yaml(path: Path, text: str, report: Report) -> CourseFile:
    """A course file's keys, each checked; its `id` key's line kept (`CourseFile.id_line`)."""
    data, lines = read_yaml(path, text, report)
    if data is None:
        return CourseFile(id_line=0)
    if not isinstance(data, dict):
        report.error(path, 1, "expected keys such as 'title:' and 'description:'")
        return CourseFile(id_line=0)
    values: dict[str, Any] = {"id_line": lines.get("id", 1) if "id" in data else 0}
    for key in ("id", "title", "description"):
        if key in data and not isinstance(data[key], str):
            report.error(path, lines.get(key, 1), f"'{key}' must be text")
        elif key in data:
            values[key] = data[key]
    _warn_nesting(path, lines.get("title", 1), values.get("title"), report)
    if "id" in values and not SLUG.match(values["id"]):
        report.error(
            path, lines.get("id", 1), "'id' must be a slug: lowercase letters, digits, '-', '_'"
        )
    if "mastery_score" in data:
        score = data["mastery_score"]
        if _is_int(score) and 0 <= score <= 100:
            values["mastery_score"] = score
        else:
            message = "'mastery_score' must be a whole number from 0 to 100"
            report.error(path, lines.get("mastery_score", 1), message)
    for key in sorted(set(data) - COURSE_KEYS, key=str):
        report.warn(path, lines.get(str(key), 1), f"unknown key '{key}' ignored")
    return CourseFile(**values)


def _is_lang_code(value: Any) -> bool:
    return isinstance(value, str) and bool(LANG_CODE.match(value))


VALUE_RULES: tuple[tuple[str, Callable[[Any, str], bool], str], ...] = (
    (
        "id",
        lambda v, _: isinstance(v, str) and bool(SLUG.match(v)),
        "'id' must be a slug: lowercase letters, digits, '-', '_'",
    ),
    ("title", lambda v, _: isinstance(v, str), "'title' must be text"),
    (
        "lang",
        lambda v, lang: v in (None, "", lang),
        "lang '{value}' disagrees with the folder '{lang}'",
    ),
    ("order", lambda v, _: _is_int(v), "'order' must be a whole number"),
    ("description", lambda v, _: isinstance(v, str), "'description' must be text"),
    (
        "translated_from",
        lambda v, _: _is_lang_code(v),
        "'translated_from' must be a language code such as 'el'",
    ),
    (
        "translated_from",
        lambda v, lang: not _is_lang_code(v) or v != lang,
        "'translated_from' is the own lang",
    ),
    (
        "tags",
        lambda v, _: _read_tags(v) is not None,
        "'tags' must be a list of words without spaces",
    ),
)
"""A lesson's front matter values, each checked when its key is there: the key, whether a value
(and the folder's language) passes, the error otherwise (`{value}`, `{lang}` filled in)."""


def read_front_matter(path: Path, text: str, lang: str, report: Report) -> FrontMatter | None:
    """The front matter block's YAML (it starts on the file's line 2); None after any error."""
    before = len(report.errors)
    data, lines = read_yaml(path, text, report, first_line=2)
    if len(report.errors) > before:
        return None
    if not isinstance(data, dict):
        report.error(path, 2, "front matter must be 'key: value' lines (id, title, lang, order)")
        return None
    for key in ("id", "title", "lang", "order"):
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):  # (blank: none)
            report.error(path, lines.get(key, 1), f"front matter has no '{key}'")
    for key in sorted(set(data) - LESSON_KEYS, key=str):
        report.warn(path, lines.get(str(key), 1), f"unknown front matter key '{key}' ignored")
    for key, ok, message in VALUE_RULES:
        if key in data and not ok(data[key], lang):
            report.error(path, lines.get(key, 1), message.format(value=data[key], lang=lang))
    _warn_nesting(path, lines.get("title", 1), data.get("title"), report)
    tags = _read_tags(data.get("tags", []))
    source = (
        read_source(path, data["source"], lines.get("source", 1), report)
        if ("source" in data)
        else None
    )
    if len(report.errors) > before:
        return None
    return FrontMatter(
        id=data["id"],
        title=data["title"],
        order=data["order"],
        source=source,
        tags=tags or (),
        description=data.get("description", ""),
        translated_from=data.get("translated_from"),
    )


def _read_tags(value: Any) -> tuple[str, ...] | None:
    tags = [value] if isinstance(value, str) else value
    if not isinstance(tags, list) or not all(
        isinstance(t, str) and t and not re.search(r"\s", t) for t in tags
    ):
        return None
    return tuple(tags)


def read_source(path: Path, value: Any, line: int, report: Report) -> Source | None:
    if isinstance(value, str):
        return Source(title=value)
    if not isinstance(value, dict) or not isinstance(value.get("title"), str):
        report.error(path, line, "'source' needs a 'title' (and optionally publisher, url, author)")
        return None
    for key in sorted(set(value) - SOURCE_KEYS, key=str):
        report.warn(path, line, f"unknown source key '{key}' ignored")
    fields = {k: value[k] for k in SOURCE_KEYS if k in value}
    if not all(isinstance(v, str) for v in fields.values()):
        report.error(path, line, "source fields must be text")
        return None
    url = fields.get("url", "").strip()
    if url and not SOURCE_URL.match(url):
        report.warn(
            path, line, f"source url {url[:60]!r} is not an http(s) or mailto address: not linked"
        )
        url = ""
    if "url" in fields:
        fields["url"] = url
    return Source(**fields)
