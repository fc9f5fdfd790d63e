"""Records made again from their fields' values, slot by slot: what unpickling calls for a record
that `cache.dumps` pickled as its constructor's arguments.

A frozen record's `__init__` assigns each field through `object.__setattr__`, which looks the
field's name up again for every object: 10,000 cached cards took 27 of the 54 ms of unpickling
their lessons' entries that way. `maker(cls)` is a function made for the record that sets its
slots in order (their descriptors' own setters, bound once): 3,350 manifest card entries
unpickle in 7.6 ms against 11.0 ms, and cards about twice as fast. It is used only where it
makes what `cls(*args)` makes (`settable`); anything else is made by its constructor.

Pickle finds a maker by name in this module (`maker_name`): a process that unpickles an entry
before it has pickled one makes the maker on first lookup (`__getattr__`). A module of its own,
so that no other module's attributes are looked up through a `__getattr__`.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
from collections.abc import Callable
from typing import Any

PREFIX = "made:"
"""Every maker's name in this module starts so: `made:<module>:<qualified name>`, with `/` for
the dots (pickle reads a dot in a name as an attribute of an attribute)."""

_MADE: dict[type, Callable[..., Any]] = {}
"""Each record type's maker (or the type itself, when not `settable`), as `maker` made it."""


def settable(cls: type) -> bool:
    """Whether setting `cls`'s slots in field order makes what `cls(*args)` makes: a slotted
    dataclass whose every field is a constructor argument, set as given (the dataclass's own
    `__init__`, which does nothing else: no `__post_init__`)."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return False
    code = getattr(vars(cls).get("__init__"), "__code__", None)
    if code is None or code.co_filename != "<string>":  # (not the code dataclasses wrote)
        return False
    every = dataclasses.fields(cls)
    slots = vars(cls)
    return all(f.init and isinstance(slots.get(f.name), types.MemberDescriptorType) for f in every)


def maker(cls: type) -> Callable[..., Any]:
    """What makes a `cls` record from its fields' values, in field order: a function that sets
    its slots (`settable`), else `cls` itself."""
    made = _MADE.get(cls)
    if made is None:
        made = _MADE[cls] = _make(cls) if settable(cls) else cls
    return made


def maker_name(cls: type) -> str:
    return f"{PREFIX}{cls.__module__}:{cls.__qualname__}".replace(".", "/")


def _make(cls: type) -> Callable[..., Any]:
    """The function that sets a `settable` record's slots, kept in this module under
    `maker_name` for pickle. A loop over the slots' setters, not code written per record as
    dataclasses writes `__init__`: as fast to run, and nothing to compile (17 records took
    3.5 ms so, each process)."""
    setters = tuple(vars(cls)[f.name].__set__ for f in dataclasses.fields(cls))
    new = object.__new__

    def make(*values: object) -> Any:
        record: Any = new(cls)
        for setter, value in zip(setters, values, strict=True):
            setter(record, value)
        return record

    make.__module__ = __name__
    make.__name__ = make.__qualname__ = maker_name(cls)
    make.__doc__ = f"A {cls.__qualname__} record from its fields' values (slots.py)."
    globals()[make.__name__] = make  # (found as an attribute then, not through `__getattr__`)
    return make


def __getattr__(name: str) -> Callable[..., Any]:
    """The maker pickle asks for by name, made now (`maker_name`)."""
    if not name.startswith(PREFIX):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, qualname = name[len(PREFIX) :].replace("/", ".").partition(":")
    value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    if not isinstance(value, type) or maker_name(value) != name:
        raise AttributeError(f"not a record: {name!r}")
    return maker(value)
