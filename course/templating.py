"""The site's template engine: one Jinja environment per process, its compiled templates kept
where the next process finds them.

Compiling the site's templates is a fifth of a small course's build. Like Python's own `.pyc`
files, the compiled templates are kept beside the package (`course/__pycache__/templates/`),
so every project built with this copy of the tool starts with them; where the package cannot be
written (a read-only install, PYTHONDONTWRITEBYTECODE) they go to the project's cache folder
(`cache.Store`: `.course-cache/templates/`). An entry is used only when its checksum matches the
tool, Jinja's version and the template's source: an edited template is compiled again. The
learner guide's Markdown, rendered, is kept there too (`kept_text`): a build whose lessons all
come from the cache then imports no Markdown parser.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import CodeType

import jinja2
from jinja2.bccache import Bucket

from .cache import Store, tool_digest
from .files import atomic_write

TEMPLATE_CACHE = "templates"
"""The compiled templates' folder in the cache folder (`cache.Store`) and in the package's
`__pycache__`."""


def package_cache() -> Path:
    """The compiled templates' folder beside the package's bytecode (written only when Python
    writes bytecode: not with PYTHONDONTWRITEBYTECODE, `sys.dont_write_bytecode`)."""
    return Path(__file__).resolve().parent / "__pycache__" / TEMPLATE_CACHE


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept in a folder, so that a build in a new process does not compile
    them again. One entry per template, used only when its checksum matches: a hash of the tool
    (`tool_digest`: every file of the package, so the environment's options too), Jinja's version
    and the template's source. A changed template or a new tool is compiled again and its entry
    rewritten; an unreadable or corrupt entry is compiled again; a failure to write only costs
    the speed-up."""

    def __init__(self, folder: Path, writable: bool = True) -> None:
        super().__init__(str(folder), "%s.jinja")
        self.writable = writable

    def get_source_checksum(self, source: str) -> str:
        digest = hashlib.sha256(f"{tool_digest()}\0{jinja2.__version__}\0".encode())
        digest.update(source.encode("utf-8"))
        return digest.hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # truncated or foreign bytes (Jinja catches only marshal's errors)
            bucket.reset()
        if bucket.code is not None and not isinstance(bucket.code, CodeType):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.write(bucket)

    def read_text(self, name: str, checksum: str) -> str | None:
        """The text kept under `name` (`kept_text`), if it was made from the same (`checksum`)."""
        try:
            head, _, text = self._text_file(name).read_text("utf-8").partition("\n")
        except (OSError, UnicodeDecodeError):  # none yet, unreadable, or not ours
            return None
        return text if head == checksum else None

    def write_text(self, name: str, checksum: str, text: str) -> bool:
        """Keep `text` under `name`; False when the folder cannot be written."""
        data = f"{checksum}\n{text}".encode()
        return self._stored(lambda: atomic_write(self._text_file(name), data))

    def _text_file(self, name: str) -> Path:
        return Path(self.directory, f"{name}.text")

    def write(self, bucket: Bucket) -> bool:
        """Store the bucket's code; False when the folder cannot be written."""
        return self._stored(lambda: super(TemplateCache, self).dump_bytecode(bucket))

    def _stored(self, write: Callable[[], object]) -> bool:
        """Run `write` into the folder (made first); False when it is not to be written or
        cannot be."""
        if not self.writable:
            return False
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            write()
        except OSError:
            return False
        return True


class LayeredCache(jinja2.BytecodeCache):
    """Compiled templates looked up in several folders in turn (the package's, then the
    project's) and written to the first that takes them."""

    def __init__(self, folders: Sequence[Path]) -> None:
        package = package_cache()
        self.layers = [
            TemplateCache(folder, folder != package or not sys.dont_write_bytecode)
            for folder in folders
        ]

    def get_source_checksum(self, source: str) -> str:
        return self.layers[0].get_source_checksum(source)

    def load_bytecode(self, bucket: Bucket) -> None:
        for layer in self.layers:
            layer.load_bytecode(bucket)
            if bucket.code is not None:
                return

    def dump_bytecode(self, bucket: Bucket) -> None:
        for layer in self.layers:
            if layer.write(bucket):
                return

    def kept_text(self, name: str, source: str, make: Callable[[str], str]) -> str:
        """`make(source)`, looked up and kept as a compiled template is (`kept_text`)."""
        checksum = self.get_source_checksum(source)
        for layer in self.layers:
            text = layer.read_text(name, checksum)
            if text is not None:
                return text
        text = make(source)
        for layer in self.layers:
            if layer.write_text(name, checksum, text):
                break
        return text


def template_cache(root: Path) -> list[Path]:
    """Where the builds of the lessons folder `root` keep compiled templates, in the order they
    are looked up: beside the package, then in the project's cache folder (when it is on)."""
    folder = Store.beside(root).folder
    project = None if folder is None else folder / TEMPLATE_CACHE
    return [package_cache()] if project is None else [package_cache(), project]


def environment(
    loader: jinja2.BaseLoader, cache: Path | Sequence[Path] | None
) -> jinja2.Environment:
    """The site's template environment over `loader`, compiled templates kept in `cache` (one
    folder or several, looked up in order)."""
    folders = [] if cache is None else [cache] if isinstance(cache, Path) else list(cache)
    return jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=LayeredCache(folders) if folders else None,
    )


def kept_text(
    templates: jinja2.Environment, name: str, source: str, make: Callable[[str], str]
) -> str:
    """`make(source)`, kept where the environment keeps its compiled templates (`LayeredCache`)
    under `name` and a checksum of the tool (its parsers' versions included) and of `source`:
    made again, and kept again, when either changes. Made every time by an environment that
    keeps nothing."""
    cache = templates.bytecode_cache
    return cache.kept_text(name, source, make) if isinstance(cache, LayeredCache) else make(source)
