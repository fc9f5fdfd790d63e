"""The commit's journal: what a build puts in place, written before it renames anything, so that
a build killed while committing is finished by the next one.

A build renders every output beside its final place first; then it commits: it renames each
deck and SCORM zip into place, moves the site's unchanged language folders into the new site and
swaps the site folders, replaces the manifests and the report (pipeline.py). Killed in between,
it would leave some outputs old and some new, a site missing the folders it was moving out, or
no site folder at all, while the only complete copy waits under a temporary name. So before its
first rename the build writes the list of its steps (`Step`) to a journal beside the lessons
folder (`.<lessons>.commit.json`: the lessons folder's lock covers it, and no cache folder
needs to survive), and removes the journal once every step is done. Every temporary output is
complete by then, and nothing writes it again.

The next build from the lessons folder (cli.py, holding its locks and those of the journal's
output folders, before it sweeps: sweep.py would remove the temporary outputs) finishes the
steps the killed one left (`recover`): each is done again or skipped as the files on disk tell
(`pipeline.resume`), so the outputs are the killed build's whole, as if it had ended. A step
that cannot be finished stops the build with the error and leaves the journal and its files in
place for the next build (or for the author to give up: `GIVE_UP`). A journal that cannot be
read (damaged, another version's) stops the build too, sweeping nothing: its steps are
unknown. A journal that cannot be written (a read-only folder above the
lessons) leaves the commit as it was before journals: unjournaled.

A journal covers a killed process (SIGKILL, Ctrl-C, a crash), not a power loss: like every file
a build writes, it is not synced to disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from .files import atomic_write

FORMAT = 1
"""Bump when a journal's layout changes: another one is not replayed (`Unfinished`: the build
stops, saying which version wrote it)."""

# Plain classes, not dataclasses nor named tuples: every build imports this module, a replayed
# one too, and making a slotted dataclass takes 0.7 ms, a named tuple 0.12 ms.


class Step:
    """One rename of the commit (`pipeline.Output`, `pipeline.Removal`): `rendered` (None: the
    step deletes `target`) into place at `target`; a folder's (`old` set: where the current one
    goes while they swap) with its `moves`, the current folder's folders it takes over."""

    __slots__ = ("moves", "old", "rendered", "target")

    def __init__(
        self,
        rendered: str | None,
        target: str,
        moves: tuple[str, ...] = (),
        old: str | None = None,
    ) -> None:
        self.rendered, self.target, self.moves, self.old = rendered, target, moves, old

    def data(self) -> list[object]:
        return [self.rendered, self.target, list(self.moves), self.old]


class Journal:
    """The steps of a commit, in order, and the folders holding its outputs (the locks a build
    of them takes: lock.py)."""

    __slots__ = ("folders", "steps")

    def __init__(self, steps: tuple[Step, ...], folders: tuple[str, ...] = ()) -> None:
        self.steps, self.folders = steps, folders


def path(lessons: Path) -> Path:
    """The journal of the builds of `lessons`: beside it, hidden, named after it (the folder
    itself, as lock.py locks it, whatever path names it)."""
    lessons = lessons.resolve()
    return lessons.parent / f".{lessons.name}.commit.json"


def write(lessons: Path, journal: Journal) -> bool:
    """Write the journal; False when it cannot be (the commit goes on unjournaled)."""
    data = {
        "format": FORMAT,
        "steps": [step.data() for step in journal.steps],
        "folders": list(journal.folders),
    }
    try:
        atomic_write(path(lessons), json.dumps(data).encode())
    except OSError:
        return False
    return True


def remove(lessons: Path) -> None:
    """The commit is done: its journal goes (a failure leaves steps that are all done)."""
    try:
        path(lessons).unlink(missing_ok=True)
    except OSError:
        return


def read(lessons: Path) -> Journal | None:
    """The journal a killed build left, if any. Raises `Unfinished` when it cannot be read as
    one (damaged, or written by another version of the tool): its steps are unknown, so the
    outputs may be part old, part new, and the build must not sweep its files as stale."""
    try:
        data = json.loads(path(lessons).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise Unfinished(_unreadable(lessons, str(error))) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        version = f"written by another version of course-build (format {found!r}, not {FORMAT})"
        raise Unfinished(_unreadable(lessons, f"{version}: that version finishes it"))
    try:
        steps = tuple(_step(item) for item in data["steps"])
        folders = tuple(str(folder) for folder in data["folders"])
    except (KeyError, TypeError, ValueError) as error:
        raise Unfinished(_unreadable(lessons, f"damaged: {error}")) from None
    return Journal(steps, folders)


def _step(item: object) -> Step:
    match item:
        case [str() | None as rendered, str(target), list(moves), str() | None as old]:
            return Step(rendered, target, tuple(str(name) for name in moves), old)
    raise ValueError(f"not a step: {item!r}")


def folders(lessons: Path) -> list[Path]:
    """The folders holding the outputs of a commit left unfinished (read without a lock: the
    build locks them too, then `recover` reads the journal again); those still there: one
    deleted since (or moved, with its project) holds nothing to finish, and locking it would
    make it again."""
    journal = read(lessons)
    found = [] if journal is None else [Path(folder) for folder in journal.folders]
    return [folder for folder in found if folder.is_dir()]


class Unfinished(click.ClickException):
    """A commit left half done: a killed build's that the next build cannot finish (`recover`:
    it stops before writing anything), or a build's own that failed half-way (`stopped`)."""

    exit_code = 1


def recover(lessons: Path) -> bool:
    """Finish the commit a killed build left (its journal's steps, in order), then remove the
    journal. Whether there was one. Raises `Unfinished` when a step fails: the journal and its
    files stay for the next build."""
    journal = read(lessons)
    if journal is None:
        return False
    if journal.steps:
        from . import pipeline  # (only after a killed build: not on a replayed build's path)

        try:
            for step in journal.steps:
                pipeline.resume(step)
        except OSError as error:
            raise Unfinished(_unfinished(lessons, error)) from None
    remove(lessons)
    return True


def _unfinished(lessons: Path, error: OSError) -> str:
    return (
        f"{path(lessons)}: a build was stopped while putting its outputs in place, and what it "
        f"left cannot be put in place: {error}. Fix that, then build again: it finishes them"
        f"{GIVE_UP}"
    )


GIVE_UP = (
    "; or, if that cannot be, delete this file to give them up: the next build then makes "
    "every output again, whole."
)
"""How a commit that cannot be finished is given up (the sweep then removes what it left)."""


def _unreadable(lessons: Path, reason: str) -> str:
    return (
        f"{path(lessons)}: a build was stopped while putting its outputs in place, and its "
        f"journal cannot be read: {reason}. Its outputs may be part old, part new: delete this "
        "file, then build again, which makes every output whole."
    )


def stopped(lessons: Path, error: OSError) -> str:
    """The message of a build whose commit failed half-way (`Unfinished`)."""
    return (
        f"{path(lessons)}: the build could not put all its outputs in place: {error}. Fix that, "
        f"then build again: it puts the rest of them in place first{GIVE_UP}"
    )
