"""Compiled site templates kept in the cache folder: a later process uses them instead of compiling
again, but a changed template is always compiled again, and a damaged entry never fails a build."""

from __future__ import annotations

import io
import marshal
import pickle
import shutil
import sys
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic

from course import forked, pipeline, site, templating

BUNDLED = Path(__file__).resolve().parent.parent / "lessons"


def fresh(templates: Path, cache: Path | list[Path] | None) -> jinja2.Environment:
    """An environment as a new build process makes it (nothing compiled in memory yet)."""
    return site.environment(jinja2.FileSystemLoader(templates), cache)


def compiles(env: jinja2.Environment, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates `env` compiles from now on."""
    compiled: list[str] = []
    real = env.compile

    def counting(source: str, name: str | None = None, *args: object, **kw: object) -> object:
        compiled.append(str(name))
        return real(source, name, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(env, "compile", counting)
    return compiled


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "base.html").write_text("<p>{% block body %}{% endblock %}</p>\n")
    (folder / "page.html").write_text(
        '{% extends "base.html" %}{% block body %}Hello {{ name }}{% endblock %}'
    )
    return folder


def test_a_later_process_uses_the_compiled_templates(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = fresh(templates, cache)
    assert first.get_template("page.html").render(name="<a>") == "<p>Hello &lt;a&gt;</p>\n"
    assert len(list(cache.glob("*.jinja"))) == 2  # the page and the template it extends

    later = fresh(templates, cache)
    compiled = compiles(later, monkeypatch)
    assert later.get_template("page.html").render(name="<a>") == "<p>Hello &lt;a&gt;</p>\n"
    assert compiled == []


def test_a_changed_template_is_compiled_again(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    fresh(templates, cache).get_template("page.html").render(name="x")
    (templates / "base.html").write_text("<div>{% block body %}{% endblock %}</div>\n")

    later = fresh(templates, cache)
    compiled = compiles(later, monkeypatch)
    assert later.get_template("page.html").render(name="x") == "<div>Hello x</div>\n"
    assert compiled == ["base.html"]  # the unchanged page comes from the cache

    again = fresh(templates, cache)  # ... and the changed one too, from now on
    compiled = compiles(again, monkeypatch)
    assert again.get_template("page.html").render(name="x") == "<div>Hello x</div>\n"
    assert compiled == []


def test_a_new_tool_compiles_again(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tool's digest is part of an entry's checksum: new environment options (in site.py)
    never meet code compiled under the old ones."""
    cache = tmp_path / "cache"
    fresh(templates, cache).get_template("page.html").render(name="x")
    monkeypatch.setattr(templating, "tool_digest", lambda: "another version")
    later = fresh(templates, cache)
    compiled = compiles(later, monkeypatch)
    assert later.get_template("page.html").render(name="x") == "<p>Hello x</p>\n"
    assert sorted(compiled) == ["base.html", "page.html"]


def not_code(data: bytes) -> bytes:
    """The entry's own header and checksum, then a marshalled value that is not code."""
    checksum = pickle.load(io.BytesIO(data[len(bc_magic) :]))
    return bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(42)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # truncated in the code
        lambda data: data[:12],  # truncated in the checksum
        lambda data: b"\x00" * len(data),
        lambda data: data[:-40] + b"\xff" * 40,
        not_code,
    ],
)
def test_a_damaged_entry_is_compiled_again(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    cache = tmp_path / "cache"
    fresh(templates, cache).get_template("page.html").render(name="x")
    for entry in cache.glob("*.jinja"):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    later = fresh(templates, cache)
    compiled = compiles(later, monkeypatch)
    assert later.get_template("page.html").render(name="x") == "<p>Hello x</p>\n"
    assert sorted(compiled) == ["base.html", "page.html"]


def test_an_unwritable_cache_only_costs_the_speed_up(templates: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    env = fresh(templates, blocker / "templates")
    assert env.get_template("page.html").render(name="x") == "<p>Hello x</p>\n"


def test_builds_keep_the_site_templates_in_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the package cannot be written: the site and the SCORM packages built with compiled
    templates from an earlier build are byte for byte those built without; with the cache off
    nothing is kept."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    shutil.copytree(BUNDLED, tmp_path / "lessons")
    built: list[dict[str, bytes]] = []
    compiled: list[list[str]] = []
    real = jinja2.Environment.compile

    def counting(
        env: jinja2.Environment, source: str, name: str | None = None, *a: object
    ) -> object:
        compiled[-1].append(str(name))
        return real(env, source, name, *a)  # type: ignore[call-overload]

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    monkeypatch.setattr(forked, "cores", lambda: 1)  # every compile in this process, counted
    blocked = tmp_path / "read-only package"
    blocked.write_text("a file where the package's folder would be")
    monkeypatch.setattr(templating, "package_cache", lambda: blocked / "templates")
    for cache in ("", str(tmp_path / "cache"), str(tmp_path / "cache")):
        monkeypatch.setenv("COURSE_CACHE_DIR", cache)
        site._environment.cache_clear()  # a new process: nothing compiled in memory
        compiled.append([])
        out = tmp_path / f"out-{len(built)}"
        library = pipeline.check(tmp_path / "lessons")
        pipeline.build(
            library, None, out / "site", pipeline.BuildOptions(draft=True), scorm_dir=out / "scorm"
        )
        built.append(
            {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        )
        if not cache:
            assert not (tmp_path / "cache").exists()
    site._environment.cache_clear()
    assert "course.html" in compiled[0]
    assert "lesson_check.html" in compiled[0]
    assert "package.html" in compiled[0]
    assert sorted(compiled[1]) == sorted(compiled[0])  # the first build with the cache fills it
    assert compiled[2] == []
    entries = list((tmp_path / "cache" / templating.TEMPLATE_CACHE).glob("*.jinja"))
    assert len(entries) == len(compiled[0])
    assert built[0] == built[1] == built[2]


def test_the_guide_of_each_course_names_its_own_retired_tag(tmp_path: Path) -> None:
    """The guide's text is rendered once per process: two courses in one language (the same
    process builds both) still each get their own retired tag."""
    shutil.copytree(BUNDLED, tmp_path / "one")
    shutil.copytree(BUNDLED, tmp_path / "two")
    course_file = tmp_path / "two" / "course.yml"
    course_file.write_text(
        course_file.read_text("utf-8").replace("customer-service", "second-course"), "utf-8"
    )
    env = site._environment(None)
    guides = [
        site.render_guide(pipeline.check(tmp_path / name).course("pl"), env)
        for name in ("one", "two")
    ]
    assert "tag:customer-service::retired" in guides[0]
    assert "tag:second-course::retired" in guides[1]
    assert "customer-service::retired" not in guides[1]


def layered(templates: Path, package: Path, project: Path | None) -> jinja2.Environment:
    """An environment as a build makes it: the package's folder first, then the project's."""
    return fresh(templates, [package] if project is None else [package, project])


def test_compiled_templates_are_kept_beside_the_package_for_every_project(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build keeps what it compiled beside the package (like Python's .pyc files): another
    project's first build, with an empty cache folder of its own, compiles nothing."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    package = tmp_path / "package" / "__pycache__" / "templates"
    layered(templates, package, tmp_path / "one").get_template("page.html").render(name="x")
    assert len(list(package.glob("*.jinja"))) == 2
    assert not (tmp_path / "one").exists()

    other = layered(templates, package, tmp_path / "two")
    compiled = compiles(other, monkeypatch)
    assert other.get_template("page.html").render(name="<a>") == "<p>Hello &lt;a&gt;</p>\n"
    assert compiled == []
    assert not (tmp_path / "two").exists()


def test_an_edited_template_is_never_served_from_the_package_folder(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    package = tmp_path / "package"
    layered(templates, package, tmp_path / "one").get_template("page.html").render(name="x")
    (templates / "page.html").write_text(
        '{% extends "base.html" %}{% block body %}Bye {{ name }}{% endblock %}'
    )
    later = layered(templates, package, tmp_path / "one")
    compiled = compiles(later, monkeypatch)
    assert later.get_template("page.html").render(name="x") == "<p>Bye x</p>\n"
    assert compiled == ["page.html"]
    assert not (tmp_path / "one").exists()  # the package's entry was rewritten


@pytest.mark.parametrize("why", ["read-only", "no bytecode"])
def test_a_package_that_cannot_be_written_keeps_them_in_the_project(
    templates: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """A read-only install (or PYTHONDONTWRITEBYTECODE): the project's cache folder keeps the
    compiled templates, and the next build compiles nothing."""
    if why == "read-only":
        monkeypatch.setattr(sys, "dont_write_bytecode", False)
        blocked = tmp_path / "package"
        blocked.write_text("a file where the folder should be")
        package = blocked / "templates"
    else:
        monkeypatch.setattr(sys, "dont_write_bytecode", True)
        package = tmp_path / "package"
        monkeypatch.setattr(templating, "package_cache", lambda: package)
    project = tmp_path / "project"
    layered(templates, package, project).get_template("page.html").render(name="x")
    assert len(list(project.glob("*.jinja"))) == 2
    if why == "no bytecode":
        assert not package.exists()

    later = layered(templates, package, project)
    compiled = compiles(later, monkeypatch)
    assert later.get_template("page.html").render(name="x") == "<p>Hello x</p>\n"
    assert compiled == []


def test_builds_look_beside_the_package_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folders a build of a lessons folder uses, in order; the cache off, only the package's."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    package = templating.package_cache()
    assert package.parent.name == "__pycache__"
    assert package.parent.parent == Path(templating.__file__).resolve().parent
    assert templating.template_cache(tmp_path / "lessons") == [
        package,
        tmp_path / "cache" / templating.TEMPLATE_CACHE,
    ]
    monkeypatch.setenv("COURSE_CACHE_DIR", "")
    assert templating.template_cache(tmp_path / "lessons") == [package]


def test_preload_leaves_nothing_to_load_for_the_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line loads every template while lessons are parsed (`site.preload`): the
    site and the SCORM zips then read none again."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(forked, "cores", lambda: 1)
    shutil.copytree(BUNDLED, tmp_path / "lessons")
    site._environment.cache_clear()
    try:
        site.preload(tmp_path / "lessons")
        env = site._environment(site.template_cache(pipeline.check(tmp_path / "lessons")))

        def refuse(*args: object) -> None:
            raise AssertionError(f"a template was loaded again: {args}")

        monkeypatch.setattr(env.loader, "get_source", refuse)
        library = pipeline.check(tmp_path / "lessons")
        pipeline.build(
            library,
            None,
            tmp_path / "site",
            pipeline.BuildOptions(draft=True),
            scorm_dir=tmp_path / "scorm",
        )
        assert len(list((tmp_path / "scorm").glob("*.zip"))) == 3
    finally:
        site._environment.cache_clear()


def _made(calls: list[str]) -> object:
    def make(source: str) -> str:
        calls.append(source)
        return f"<p>{source}</p>"

    return make


def test_a_kept_text_is_made_once_and_again_when_its_source_or_the_tool_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`templating.kept_text` (the learner guide's HTML): a later process reads what an earlier
    one made from the same source with the same tool; another source, another tool (a new
    parser version changes `tool_digest`) or a damaged entry is made again, never returned."""
    calls: list[str] = []
    make = _made(calls)
    one = fresh(tmp_path / "t", tmp_path / "cache")
    assert templating.kept_text(one, "guide", "a", make) == "<p>a</p>"  # type: ignore[arg-type]
    two = fresh(tmp_path / "t", tmp_path / "cache")  # a new process's environment
    assert templating.kept_text(two, "guide", "a", make) == "<p>a</p>"  # type: ignore[arg-type]
    assert calls == ["a"]
    assert templating.kept_text(two, "guide", "b", make) == "<p>b</p>"  # type: ignore[arg-type]
    assert calls == ["a", "b"]
    monkeypatch.setattr(templating, "tool_digest", lambda: "another tool")
    assert templating.kept_text(two, "guide", "b", make) == "<p>b</p>"  # type: ignore[arg-type]
    assert calls == ["a", "b", "b"]
    (entry,) = (tmp_path / "cache").glob("guide.*")
    entry.write_bytes(b"\xff\xfe not ours")
    assert templating.kept_text(two, "guide", "b", make) == "<p>b</p>"  # type: ignore[arg-type]
    assert len(calls) == 4
    nothing_kept = fresh(tmp_path / "t", None)
    assert templating.kept_text(nothing_kept, "guide", "b", make) == "<p>b</p>"  # type: ignore[arg-type]
    assert len(calls) == 5


def test_the_kept_guide_is_the_guide_rendered_again(tmp_path: Path) -> None:
    """The learner guide read back from the cache folder is byte for byte the one rendered from
    its Markdown, and a build that keeps it renders the same page as one that keeps nothing."""
    library = pipeline.check(BUNDLED)
    course = library.course("lv")
    kept = site.environment(jinja2.PackageLoader("course", "templates/site"), tmp_path / "c")
    first = site.render_guide(course, kept)
    site._guide_body.cache_clear()  # a new process
    again = site.render_guide(course, kept)
    site._guide_body.cache_clear()
    loader = jinja2.PackageLoader("course", "templates/site")
    plain = site.render_guide(course, site.environment(loader, None))
    assert first == again == plain
    assert list((tmp_path / "c").glob("guide-*.text"))
    assert "<h2>" in plain or "<p>" in plain
