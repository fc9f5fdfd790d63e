"""Recording what a function of the code under test is called with, the call still made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def first_argument(*args: Any) -> Any:
    return args[0]


def calls(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    what: Callable[..., Any] = first_argument,
) -> list[Any]:
    """`owner.name` replaced (undone by `monkeypatch`) by a spy that appends `what(*args)` of
    every call to the list returned, then calls the original."""
    found: list[Any] = []
    real = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        found.append(what(*args))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return found
