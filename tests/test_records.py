"""records.py: dataclasses' generated methods run from kept code objects, the same as compiled."""

from __future__ import annotations  # (as our modules: `exec` must not pass this flag on)

import builtins
import dataclasses
import marshal
import sys
from collections.abc import Callable
from importlib.util import MAGIC_NUMBER
from pathlib import Path
from types import CodeType

import pytest

from course import records


def make(execute: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> type:
    """A frozen, ordered record with a default, made with `execute` as dataclasses' `exec`."""
    with monkeypatch.context() as patch:
        patch.setattr(dataclasses, "exec", execute, raising=False)

        @dataclasses.dataclass(frozen=True, slots=True, order=True)
        class Point:
            """A record."""

            x: int
            y: str = "b"

    return Point


@pytest.fixture(autouse=True)
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a process without PYTHONDONTWRITEBYTECODE (which the tests may run with)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__")


def same_class(ours: type, theirs: type) -> None:
    """`ours` has the methods `theirs` has, compiled the same, and behaves the same."""
    for name in METHODS:
        mine, plain = getattr(ours, name), getattr(theirs, name)
        assert mine.__code__ == plain.__code__, name
        assert mine.__code__.co_flags == plain.__code__.co_flags, name
        assert mine.__annotations__ == plain.__annotations__, name
    assert ours.__init__.__defaults__ == theirs.__init__.__defaults__
    a, b = ours(1), ours(1, "b")
    assert a == b
    assert hash(a) == hash(b)
    assert a is not b
    assert ours(1) != ours(2)
    assert ours(1) < ours(2)
    assert repr(a) == "make.<locals>.Point(x=1, y='b')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 3  # type: ignore[misc]


def test_a_record_made_from_kept_code_is_the_one_dataclasses_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records"
    first = records.Codes(path)
    plain = make(builtins.exec, monkeypatch)
    same_class(make(first.exec, monkeypatch), plain)
    assert first.compiled == len(first.used) >= len(METHODS)
    first.save()
    again = records.Codes(path)
    assert set(again.kept) == set(first.used)
    same_class(make(again.exec, monkeypatch), plain)
    assert again.compiled == 0  # (run from the kept codes)


def test_only_the_codes_run_are_kept_and_only_after_a_compilation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records"
    stale = compile("x = 1", "<string>", "exec")
    path.write_bytes(MAGIC_NUMBER + marshal.dumps({"x = 1": stale}))
    codes = records.Codes(path)
    codes.exec("y = 2", {}, {})
    codes.save()
    assert set(records.Codes(path).kept) == {"y = 2"}
    kept = path.read_bytes()
    codes = records.Codes(path)
    codes.exec("y = 2", {}, {})
    path.unlink()
    codes.save()  # (nothing compiled: nothing written)
    assert not path.exists()
    path.write_bytes(kept)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"damaged",
        MAGIC_NUMBER + b"\xff\x00",
        b"\0\0\r\n" + marshal.dumps({"y = 2": compile("y = 2", "<string>", "exec")}),
        MAGIC_NUMBER + marshal.dumps(["y = 2"]),
        MAGIC_NUMBER + marshal.dumps({"y = 2": "not code"}),
    ],
    ids=["empty", "damaged", "bad marshal", "another Python", "not a dict", "not code"],
)
def test_a_damaged_or_foreign_file_is_compiled_again(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "records"
    path.write_bytes(data)
    codes = records.Codes(path)
    space: dict[str, object] = {}
    codes.exec("y = 2", {}, space)
    assert space == {"y": 2}
    assert codes.compiled == 1


def test_nothing_is_written_where_python_writes_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    codes = records.Codes(tmp_path / "records")
    codes.exec("y = 2", {}, {})
    codes.save()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (tmp_path / "file").write_text("")
    codes = records.Codes(tmp_path / "file" / "records")  # (its folder cannot be made)
    codes.exec("y = 2", {}, {})
    codes.save()
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_the_package_records_are_made_through_the_kept_codes() -> None:
    assert dataclasses.exec == records.CODES.exec  # type: ignore[attr-defined]
    from course.model import Problem

    def inner(code: CodeType) -> list[CodeType]:
        nested = [c for c in code.co_consts if isinstance(c, CodeType)]
        return [*nested, *(c for n in nested for c in inner(n))]

    made = [c for code in records.CODES.used.values() for c in inner(code)]  # type: ignore[arg-type]
    assert Problem.__init__.__code__ in made
