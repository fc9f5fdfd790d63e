"""compiled.py: records' methods and patterns' programs made from what is kept, the same as compiled."""

from __future__ import annotations  # (as our modules: `exec` must not pass this flag on)

import builtins
import dataclasses
import importlib
import marshal
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType

import pytest

from course import compiled


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


@pytest.fixture
def importing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patterns compiled as if a module were imported (those are kept)."""
    monkeypatch.setattr(compiled, "_importing", lambda: True)


METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__")


def same_class(ours: type, theirs: type) -> None:
    """`ours` has the methods `theirs` has, compiled the same, and behaves the same."""
    for name in METHODS:
        mine, plain = getattr(ours, name), getattr(theirs, name)
        assert mine.__code__ == plain.__code__, name
        assert mine.__code__.co_flags == plain.__code__.co_flags, name
        assert mine.__annotations__ == plain.__annotations__, name
    assert vars(ours)["__init__"].__defaults__ == vars(theirs)["__init__"].__defaults__
    a, b = ours(1), ours(1, "b")
    assert a == b
    assert hash(a) == hash(b)
    assert a is not b
    assert ours(1) != ours(2)
    assert ours(1) < ours(2)
    assert repr(a) == "make.<locals>.Point(x=1, y='b')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.x = 3


@pytest.mark.usefixtures("importing")
def test_a_record_made_from_kept_code_is_the_one_dataclasses_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records"
    first = compiled.Kept(path)
    plain = make(builtins.exec, monkeypatch)
    same_class(make(first.exec, monkeypatch), plain)
    assert first.compiled_codes == len(first.codes) >= len(METHODS)
    first.save()
    again = compiled.Kept(path)
    assert set(again.kept_codes) == set(first.codes)
    same_class(make(again.exec, monkeypatch), plain)
    assert again.compiled_codes == 0  # (run from the kept codes)


@pytest.mark.usefixtures("importing")
def test_what_was_kept_stays_unless_it_outgrows_what_ran_and_only_after_a_compilation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "records"
    stale = compile("x = 1", "<string>", "exec")
    path.write_bytes(compiled.HEADER + marshal.dumps(({"x = 1": stale}, {})))
    codes = compiled.Kept(path)
    codes.exec("y = 2", {}, {})
    codes.save()  # (another command's, kept beside this one's)
    assert set(compiled.Kept(path).kept_codes) == {"x = 1", "y = 2"}
    codes = compiled.Kept(path)
    codes.exec("z = 3", {}, {})
    codes.save()  # (3 kept for 1 run: the rest is dropped)
    assert set(compiled.Kept(path).kept_codes) == {"z = 3"}
    codes = compiled.Kept(path)
    codes.exec("y = 2", {}, {})
    codes.save()
    kept = path.read_bytes()
    codes = compiled.Kept(path)
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
        compiled.HEADER + b"\xff\x00",
        b"\0\0\r\n" + marshal.dumps(({"y = 2": compile("y = 2", "<string>", "exec")}, {})),
        compiled.HEADER.replace(sys.version.encode(), b"3.11.0 (another release)")
        + marshal.dumps(({"y = 2": compile("y = 2", "<string>", "exec")}, {})),
        compiled.HEADER + marshal.dumps(["y = 2"]),
        compiled.HEADER + marshal.dumps(({"y = 2": "not code"}, {})),
        compiled.HEADER + marshal.dumps(({}, {("y", 0): (0, [1, 2], 0, {}, ())})),
    ],
    ids=[
        "empty",
        "damaged",
        "bad marshal",
        "another Python",
        "another release",
        "not a tuple",
        "not code",
        "not a program",
    ],
)
@pytest.mark.usefixtures("importing")
def test_a_damaged_or_foreign_file_is_compiled_again(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "records"
    path.write_bytes(data)
    codes = compiled.Kept(path)
    space: dict[str, object] = {}
    codes.exec("y = 2", {}, space)
    assert space == {"y": 2}
    assert codes.compiled_codes == 1
    assert codes.compile_pattern("y", 0).match("y")
    assert codes.compiled_patterns == 1


@pytest.mark.usefixtures("importing")
def test_nothing_is_written_where_python_writes_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    codes = compiled.Kept(tmp_path / "records")
    codes.exec("y = 2", {}, {})
    codes.save()
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (tmp_path / "file").write_text("")
    codes = compiled.Kept(tmp_path / "file" / "records")  # (its folder cannot be made)
    codes.exec("y = 2", {}, {})
    codes.save()
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_the_package_records_are_made_through_the_kept_codes() -> None:
    assert dataclasses.exec == compiled.KEPT_HERE.exec  # type: ignore[attr-defined]
    from course.model import Problem

    def inner(code: CodeType) -> list[CodeType]:
        nested = [c for c in code.co_consts if isinstance(c, CodeType)]
        return [*nested, *(c for n in nested for c in inner(n))]

    made = [c for code in compiled.KEPT_HERE.codes.values() for c in inner(code)]  # type: ignore[arg-type]
    assert Problem.__init__.__code__ in made


PATTERNS = [
    ("a+b", 0),
    (r"(?P<word>\w+)\s(?P=word)", re.IGNORECASE),
    (r"(?x) [\u0370-\u03ff]+  # Greek", 0),
    (rb"(\d+)-(\d+)", re.MULTILINE),
    (r"^(?:ab|cd)$", re.MULTILINE | re.DOTALL),
    (r"\b(and|or)\b", re.ASCII),
]


@pytest.mark.skipif(not compiled.PATTERNS, reason="another Python's re: patterns compiled as usual")
@pytest.mark.usefixtures("importing")
def test_a_pattern_made_from_its_kept_program_is_the_one_re_compiles(tmp_path: Path) -> None:
    path = tmp_path / "kept"
    first = compiled.Kept(path)
    made = [first.compile_pattern(pattern, flags) for pattern, flags in PATTERNS]
    assert first.compiled_patterns == len(PATTERNS)
    first.save()
    again = compiled.Kept(path)
    kept = [again.compile_pattern(pattern, flags) for pattern, flags in PATTERNS]
    assert again.compiled_patterns == 0
    for ours, theirs, (pattern, flags) in zip(kept, made, PATTERNS, strict=True):
        plain = compiled._RE_COMPILE(pattern, flags)
        for mine in (ours, theirs):
            assert mine == plain  # (same pattern, flags and program)
            assert mine.flags == plain.flags
            assert mine.groups == plain.groups
            assert mine.groupindex == plain.groupindex
    found = kept[1].match("Hello hello")
    assert found is not None
    assert found.group("word") == "Hello"
    assert kept[3].findall(b"1-2\n3-4") == [(b"1", b"2"), (b"3", b"4")]


def test_patterns_compiled_while_a_module_is_imported_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not compiled.PATTERNS:
        assert re._compiler.compile is compiled._RE_COMPILE  # type: ignore[attr-defined]
        return
    assert re._compiler.compile == compiled.KEPT_HERE.compile_pattern  # type: ignore[attr-defined]
    (tmp_path / "kept_pattern_module.py").write_text(
        'import re\nP = re.compile(r"imported (\\d+)")\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "kept_pattern_module", raising=False)
    module = importlib.import_module("kept_pattern_module")
    assert (r"imported (\d+)", 0) in compiled.KEPT_HERE.programs
    assert module.P.match("imported 12").group(1) == "12"
    later = re.compile(r"later (\d+)")  # (at run time: a folder's name, a lesson's text)
    assert (later.pattern, 0) not in compiled.KEPT_HERE.programs
    found = later.match("later 3")
    assert found is not None
    assert found.group(1) == "3"


@pytest.mark.usefixtures("importing")
def test_a_few_patterns_compiled_anew_are_not_written(tmp_path: Path) -> None:
    path = tmp_path / "kept"
    kept = compiled.Kept(path)
    few = [(f"a{n}", 0) for n in range(compiled.PATTERNS_NOT_WORTH_A_WRITE)]
    for pattern, flags in few:
        kept.compile_pattern(pattern, flags)
    kept.save()  # (Babel's plural pattern, different in each process)
    assert not path.exists()
    kept.compile_pattern("b", 0)
    kept.save()
    assert set(compiled.Kept(path).kept_programs) == {*few, ("b", 0)}


def test_a_record_made_by_a_function_is_made_but_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = compiled.Kept(tmp_path / "kept")
    same_class(make(kept.exec, monkeypatch), make(builtins.exec, monkeypatch))
    assert kept.codes == {}
    assert kept.compiled_codes == 0


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("module", "installed"), [("course.cli", False), ("build", True)])
def test_the_command_line_installs_it_and_the_package_does_not(
    module: str, installed: bool
) -> None:
    """build.py makes `dataclasses` and `re` compile through what is kept; a program importing
    the package keeps them as they were."""
    probe = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import {module}, dataclasses, re;"
        "print('exec' in vars(dataclasses), re._compiler.compile.__module__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    patterns = "course.compiled" if installed and compiled.PATTERNS else "re._compiler"
    assert done.stdout.split() == [str(installed), patterns]
