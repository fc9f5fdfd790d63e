"""What every command's start-up compiles the same way, kept between processes beside the
package's bytecode (`KEPT`), as Python keeps modules' code in `.pyc` files.

- Records' methods: a dataclass's `__init__`, `__repr__`, `__eq__`, `__hash__` and a frozen one's
  `__setattr__` and `__delattr__` are Python source that `dataclasses` writes for each class and
  compiles with `exec` when the class is made: about 470 compilations for a build's 83 records,
  22 of the 31 ms their classes cost its start-up. `dataclasses` runs each source's kept code
  object instead, compiled as its `exec` compiles it (same source, file name and flags: the same
  code); the classes and methods are the ones `dataclasses` makes.
- Regular expressions' programs: `re` parses a pattern into a program (a list of numbers) that
  `_sre.compile` makes the pattern object of; the dependencies and our modules compile about 150
  patterns while a build imports them (12-15 ms). A kept program goes to `_sre.compile` with the
  arguments `re._compiler.compile` would give it (Python 3.11's; another version compiles as
  usual): the same pattern object. `re`'s own cache of patterns is unchanged.

Only what is compiled while a module is imported is kept: patterns made later are often made of
a build's folder names or a lesson's text, records made later by a function may be too.

`save`, at the end of a command, writes what the file held and what the process ran, if it
compiled something the file did not hold (a record added or changed, a dependency upgraded: a
few patterns are not worth a write, `PATTERNS_NOT_WORTH_A_WRITE`); only what the process ran when
the rest outgrew it (what nothing makes any more is dropped). The file is named for the
interpreter's version and optimization level and starts with its bytecode's and `_sre`'s magic
numbers; a damaged or foreign one is read as empty. Nothing is written where Python writes no
bytecode (`sys.dont_write_bytecode`, PYTHONDONTWRITEBYTECODE) or cannot (a read-only install).
"""

import _sre  # type: ignore[import-not-found]
import builtins
import contextlib
import dataclasses
import marshal
import os
import re
import sys
from collections.abc import Callable
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from re import _compiler, _parser  # type: ignore[attr-defined]
from types import CodeType
from typing import Any

KEPT = (
    Path(__file__).resolve().parent
    / "__pycache__"
    / f"compiled.{sys.implementation.cache_tag}.opt-{sys.flags.optimize}"
)
HEADER = MAGIC_NUMBER + _sre.MAGIC.to_bytes(4, "little") + sys.version.encode() + b"\0"
"""What a kept file starts with: bytecode and regular expression programs of this Python, and
its exact release (a patch release may mend `re`'s compiler without changing its magic)."""
PATTERNS = sys.version_info[:2] == (3, 11)
"""Whether patterns' programs are kept: `_program` works them out as 3.11's `re` does."""

PATTERNS_NOT_WORTH_A_WRITE = 3
"""Patterns compiled anew by a process that do not make it write the file: some modules make a
pattern of a set's members, in another order in each process (Babel's plural tokenizer,
markdown-it-py's escapes)."""

PatternKey = tuple[str | bytes, int]
"""A pattern and the flags it is compiled with."""
Program = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
"""`_sre.compile`'s arguments after the pattern: flags, code, groups, their names both ways."""

_RE_COMPILE: Callable[..., re.Pattern[Any]] = _compiler.compile
"""`re._compiler.compile` as Python has it."""


class Kept:
    """Code objects by their source, patterns' programs by pattern and flags: those read from
    the file (`kept_*`) and those this process used (`codes`, `programs`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept_codes, self.kept_programs = _read(path)
        self.codes: dict[str, object] = {}
        self.programs: dict[PatternKey, Program] = {}
        self.compiled_codes = 0
        """Sources compiled here (not kept)."""
        self.compiled_patterns = 0
        """Patterns parsed here (not kept)."""
        self.pid = os.getpid()

    def exec(self, source: object, globals: object = None, locals: object = None, /) -> None:
        """`builtins.exec` of `source`; a string runs as its kept code."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)  # type: ignore[arg-type]
            return
        code = self.codes.get(source)
        if code is None:
            code = self.kept_codes.get(source)
            if not isinstance(code, CodeType):
                # As `exec` compiles a string: no `from __future__` flags of the caller
                # (dataclasses.py has none).
                code = compile(source, "<string>", "exec", dont_inherit=True)
                if not _importing():  # (a record made by a function: run, not kept)
                    builtins.exec(code, globals, locals)  # type: ignore[arg-type]
                    return
                self.compiled_codes += 1
            self.codes[source] = code
        builtins.exec(code, globals, locals)  # type: ignore[arg-type]

    def compile_pattern(self, pattern: object, flags: int = 0) -> re.Pattern[Any]:
        """`re._compiler.compile`: a string's or bytes' pattern from its kept program."""
        if not isinstance(pattern, str | bytes) or flags & _compiler.SRE_FLAG_DEBUG:
            return _RE_COMPILE(pattern, flags)  # (a parsed pattern: re.Scanner)
        key = (pattern, int(flags))
        program = self.programs.get(key) or self.kept_programs.get(key)
        if program is not None:
            try:
                made: re.Pattern[Any] = _sre.compile(pattern, *program)
            except (TypeError, ValueError, RuntimeError, OverflowError):  # not a program
                pass
            else:
                self.programs[key] = program
                return made
        program = _program(pattern, int(flags))
        if _importing():  # (a pattern made later may be made of a run's names, a lesson's text)
            self.compiled_patterns += 1
            self.programs[key] = program
        pattern_made: re.Pattern[Any] = _sre.compile(pattern, *program)
        return pattern_made

    def save(self) -> None:
        """Write what this process ran, if it compiled anything new (see the module's text)."""
        new = self.compiled_codes or self.compiled_patterns > PATTERNS_NOT_WORTH_A_WRITE
        if not new or sys.dont_write_bytecode or os.getpid() != self.pid:
            return
        self.compiled_codes = self.compiled_patterns = 0
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(HEADER + marshal.dumps(self._kept()))
            temporary.replace(self.path)
        except OSError:  # a read-only install: compiled again by each process
            with contextlib.suppress(OSError):
                temporary.unlink()

    def _kept(self) -> tuple[dict[str, object], dict[PatternKey, Program]]:
        """What to write: what the file held and what this process ran (commands and courses
        of other sizes make some records and patterns only one of them makes), unless the
        file's share of it has grown past what this process ran (sources since changed)."""
        codes = {**self.kept_codes, **self.codes}
        programs = {**self.kept_programs, **self.programs}
        if len(codes) + len(programs) > 2 * (len(self.codes) + len(self.programs)):
            return self.codes, self.programs
        return codes, programs


def _importing() -> bool:
    """Whether this runs while a module is imported (under importlib's frames)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _program(pattern: str | bytes, flags: int) -> Program:
    """What Python 3.11's `re._compiler.compile` gives `_sre.compile` for `pattern` (plain
    numbers: marshal does not take the opcodes' int subclass)."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    groups = int(parsed.state.groups - 1)
    return int(flags | parsed.state.flags), list(map(int, code)), groups, groupindex, (*indexgroup,)


def _read(path: Path) -> tuple[dict[str, object], dict[PatternKey, Program]]:
    """The codes and programs kept at `path`; none if it is missing, damaged or of another
    Python."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}, {}
    if not data.startswith(HEADER):
        return {}, {}
    try:
        kept = marshal.loads(data[len(HEADER) :])
    except (EOFError, ValueError, TypeError):
        return {}, {}
    if not (isinstance(kept, tuple) and len(kept) == 2 and all(isinstance(d, dict) for d in kept)):
        return {}, {}
    return kept[0], kept[1]


KEPT_HERE = Kept(KEPT)
"""This process's (`install`)."""


def install() -> None:
    """Make `dataclasses` and `re` compile through `KEPT_HERE` (the names they call)."""
    dataclasses.exec = KEPT_HERE.exec  # type: ignore[attr-defined]
    if PATTERNS:
        _compiler.compile = KEPT_HERE.compile_pattern


def save() -> None:
    """`KEPT_HERE.save`."""
    KEPT_HERE.save()
