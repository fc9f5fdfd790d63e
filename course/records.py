"""Our records' generated methods, compiled once and kept (beside the package's bytecode).

A dataclass's `__init__`, `__repr__`, `__eq__`, `__hash__` and a frozen one's `__setattr__` and
`__delattr__` are Python source that `dataclasses` writes for each class and compiles with `exec`
when the class is made: about 470 compilations for the build's 83 records, 22 of the 31 ms
their classes cost a build's start-up (before its lessons' parse and during it). `install` makes
`dataclasses` run each source's code object from `KEPT` instead, compiled as its `exec` compiles
it (the same source, file name and flags: the same code), and compiles a source not kept yet. The
classes and methods are the ones `dataclasses` makes: only their compilation is kept, as Python
keeps modules' in `.pyc` files.

`save`, at the end of a command, writes the codes the process ran when one was not kept yet (a
record added or changed): the codes it ran, so what the package no longer makes is dropped. The
file is named for the interpreter's version and optimization level, and starts with its bytecode's
magic number; a damaged or foreign one is read as empty. Nothing is written where Python writes no
bytecode (`sys.dont_write_bytecode`, PYTHONDONTWRITEBYTECODE) or cannot (a read-only install).
"""

import builtins
import contextlib
import dataclasses
import marshal
import os
import sys
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType

KEPT = (
    Path(__file__).resolve().parent
    / "__pycache__"
    / f"records.{sys.implementation.cache_tag}.opt-{sys.flags.optimize}"
)


class Codes:
    """Code objects by their source; `exec` runs one, compiling it if it is not kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept = _read(path)
        self.used: dict[str, object] = {}
        """Each source run in this process, with its code."""
        self.compiled = 0
        """How many sources were not kept."""
        self.pid = os.getpid()

    def exec(self, source: object, globals: object = None, locals: object = None, /) -> None:
        """`builtins.exec` of `source`; a string runs as its kept code."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)  # type: ignore[arg-type]
            return
        code = self.used.get(source)
        if code is None:
            code = self.kept.get(source)
            if not isinstance(code, CodeType):
                # As `exec` compiles a string: no `from __future__` flags of the caller
                # (dataclasses.py has none).
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.compiled += 1
            self.used[source] = code
        builtins.exec(code, globals, locals)  # type: ignore[arg-type]

    def save(self) -> None:
        """Write the codes run in this process, if any was compiled (see the module's text)."""
        if not self.compiled or sys.dont_write_bytecode or os.getpid() != self.pid:
            return
        self.compiled = 0
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(MAGIC_NUMBER + marshal.dumps(self.used))
            temporary.replace(self.path)
        except OSError:  # a read-only install: compiled again by each process
            with contextlib.suppress(OSError):
                temporary.unlink()


def _read(path: Path) -> dict[str, object]:
    """The codes kept at `path`; none if it is missing, damaged or of another Python."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if not data.startswith(MAGIC_NUMBER):
        return {}
    try:
        codes = marshal.loads(data[len(MAGIC_NUMBER) :])
    except (EOFError, ValueError, TypeError):
        return {}
    return codes if isinstance(codes, dict) else {}


CODES = Codes(KEPT)


def install() -> None:
    """Make `dataclasses` compile through `CODES` (its `exec`: the name it calls)."""
    dataclasses.exec = CODES.exec  # type: ignore[attr-defined]


def save() -> None:
    """`CODES.save`."""
    CODES.save()
