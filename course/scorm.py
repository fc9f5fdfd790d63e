"""SCORM stage: one language's course -> a SCORM 1.2 package (imsmanifest.xml + the page) in a zip.

The package holds ONE SCO, the language's course page rendered without the links that lead out of
the package (other languages, landing page, deck: `site.package_site`), with the learner guide,
the assets and the media it uses (a large course's page is split as on the site: its lessons'
scripts and plain pages come with it); `imsmanifest.xml` at the root lists every file. The
page's own scripts (`scorm.js`) find the LMS's API, report status, score and progress; unzipped
and opened by double-click, the same page is the plain HTML course.

Deterministic: the same course gives a byte-identical zip (fixed entry dates, sorted entries).
A rebuild takes the entries of the last build's zip whose inputs did not change (a lesson's files
beside a split page, an asset, an image: `site.Reuse`) as they are, compressed (zips.py), and
writes the others: the zip is the one a build from nothing writes. The search script, built from
every lesson, is written in segments, a run of lessons each (`site.CourseSite.search_runs`,
zips.Writer.add_segments): a rebuild copies those of the runs that did not change, compressed.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from . import site, zips
from .background import Aside
from .model import Course, Library
from .places import RELEASE, Names
from .updates import ReleaseNotes

if TYPE_CHECKING:
    from .outputs import Pieces

SCHEMA_VERSION = "1.2"
CP_NS = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP_NS = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
MANIFEST = "imsmanifest.xml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""Every entry's date: the earliest a zip can hold, so that rebuilds are byte-identical."""
LAYOUT = zips.Layout(ZIP_DATE, 0o644)
"""Every entry deflated at zlib's default level, dated ZIP_DATE, readable by anyone."""
NOT_ID = re.compile(r"[^A-Za-z0-9_.-]")

ET.register_namespace("", CP_NS)
ET.register_namespace("adlcp", ADLCP_NS)


def package_file_name(course: Course, names: Names = RELEASE) -> str:
    """`<course id>-<lang>-scorm12.zip` (a draft's: `places.Names`)."""
    return site.scorm_file_name(course, names)


def identifier(course: Course, role: str) -> str:
    """An XML ID (letters first, no colon) unique per course and language: a package of another
    course or language never reuses one, so an LMS holding several never mixes their records."""
    return NOT_ID.sub("_", f"{role}-{course.id}-{course.lang}")


def sco_href(course: Course) -> str:
    return f"{course.lang}/index.html"


def manifest(course: Course, file_names: list[str]) -> bytes:
    """`imsmanifest.xml`: schemaversion 1.2, one organization with one item, one SCO resource
    listing every file (the manifest itself excepted) in the given order."""

    def cp(tag: str) -> str:
        return f"{{{CP_NS}}}{tag}"

    root = ET.Element(cp("manifest"), identifier=identifier(course, "MANIFEST"), version="1")
    meta = ET.SubElement(root, cp("metadata"))
    ET.SubElement(meta, cp("schema")).text = "ADL SCORM"
    ET.SubElement(meta, cp("schemaversion")).text = SCHEMA_VERSION
    orgs = ET.SubElement(root, cp("organizations"), default=identifier(course, "ORG"))
    org = ET.SubElement(orgs, cp("organization"), identifier=identifier(course, "ORG"))
    ET.SubElement(org, cp("title")).text = course.title
    item = ET.SubElement(
        org,
        cp("item"),
        identifier=identifier(course, "ITEM"),
        identifierref=identifier(course, "RES"),
        isvisible="true",
    )
    ET.SubElement(item, cp("title")).text = course.title
    ET.SubElement(item, f"{{{ADLCP_NS}}}masteryscore").text = str(course.mastery_score)
    resources = ET.SubElement(root, cp("resources"))
    resource = ET.SubElement(
        resources,
        cp("resource"),
        {
            "identifier": identifier(course, "RES"),
            "type": "webcontent",
            f"{{{ADLCP_NS}}}scormtype": "sco",
            "href": sco_href(course),
        },
    )
    for name in file_names:
        ET.SubElement(resource, cp("file"), href=name)
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"


def preload() -> None:
    """Deflate the assets every package holds now (the command line does while lessons are
    parsed): the packages' writers, here or in a forked child, copy them deflated."""
    for data in site.static_files().values():
        if isinstance(data, zips.Shared):
            zips.deflated(data, LAYOUT.level)


def write_package(
    library: Library,
    course: Course,
    path: Path,
    changes: ReleaseNotes | None = None,
    *,
    facts: site.LessonFacts | None = None,
    previous: Path | None = None,
    pieces: Pieces | None = None,
    side: site.SiteSide | None = None,
    aside: bool = False,
) -> None:
    """Write the language's SCORM 1.2 zip to `path`, entry by entry as each file is rendered:
    the manifest first, then the SCO's page, its lessons' files when the page is split, and the
    rest in name order. `changes`: the latest release, for the page's "what changed". `pieces`:
    what the entries of `previous`, the last build's zip, were made from (outputs.Pieces), and
    this zip's, as it is written: an entry made from the same is copied from there, compressed
    (`site.Earlier`). `side`: the site's folder of the language, written from the same renders
    meanwhile (`site.SiteSide`). `aside`: the new entries deflated by a thread of their own
    while this one renders (`background.Aside`: a large build, which writes alone)."""
    page = site.package_site(library, course, facts)
    split = page.is_split()
    earlier = None
    if previous is not None and pieces is not None and pieces.old:
        earlier = zips.Archive.open(previous, LAYOUT)
    deflating = Aside() if aside else None
    try:
        with path.open("wb") as file:
            archive = zips.Writer(file, LAYOUT, deflating)
            archive.add(MANIFEST, [manifest(course, site.package_names(page, split))])
            before = None if pieces is None else EarlierZip(pieces, earlier, archive)
            runs = partial(_write_runs, archive, before)
            site.write_package_files(page, archive.add, split, changes, before, runs, side)
            archive.close()
        if pieces is not None:
            pieces.sums.update(archive.sums)
    finally:
        if deflating is not None:  # (no thread of it is left, whatever happened)
            deflating.close()
        if earlier is not None:
            earlier.close()


def _write_runs(
    writer: zips.Writer, earlier: EarlierZip | None, name: str, runs: Iterable[site.SearchSegment]
) -> None:
    """The entry `name` (the search script) in segments, one per run: one that the earlier zip
    holds deflated from the same run after the same (its piece `<name>@<run's name>`: `<key>:<1
    when a record comes before> <segment> <1 when it holds one>`) copied, the others deflated;
    each recorded as written."""
    made: list[tuple[str, str, bool]] = []

    def parts() -> Iterator[bytes | zips.Copied]:
        started = False
        for run in runs:
            piece, key = f"{name}@{run.name}", f"{run.key}:{int(started)}"
            found = None if earlier is None else earlier.segment(name, piece, key)
            if found is None:
                text, holds = run.text(started)
                yield text.encode()
            else:
                copied, holds = found
                yield copied
            made.append((piece, key, holds))
            started = started or holds

    segments = writer.add_segments(name, parts())
    if earlier is not None:
        for (piece, key, holds), segment in zip(made, segments, strict=True):
            earlier.pieces.new[piece] = f"{key} {segment.record()} {int(holds)}"


@dataclass(frozen=True, slots=True)
class EarlierZip:
    """The last build's zip as the new one's `site.Earlier`: entries copied compressed."""

    pieces: Pieces
    archive: zips.Archive | None
    writer: zips.Writer

    def take(self, names: Sequence[str]) -> bool:
        """The entries `names` copied into the new zip, all or none (False)."""
        if self.archive is None:
            return False
        found = [self.archive.entries.get(name) for name in names]
        entries = [entry for entry in found if entry is not None]
        if len(entries) != len(names):
            return False
        sums = self.pieces.old_sums
        try:
            data = [self.archive.read(entry, sums.get(entry.name)) for entry in entries]
        except (OSError, ValueError, zlib.error):  # damaged since: written again
            return False
        for entry, raw in zip(entries, data, strict=True):
            self.writer.copy(entry, raw, sums.get(entry.name))
        return True

    def segment(self, name: str, piece: str, key: str) -> tuple[zips.Copied, bool] | None:
        """The segment of entry `name` recorded as `piece` (`_write_runs`) if made from `key`,
        and whether it holds a record; None when the last build made none such or it is not
        as written."""
        entry = None if self.archive is None else self.archive.entries.get(name)
        value = self.pieces.old.get(piece)
        if self.archive is None or entry is None or not isinstance(value, str):
            return None
        found, _, rest = value.partition(" ")
        record, _, holds = rest.rpartition(" ")
        segment = zips.Segment.parse(record)
        if found != key or segment is None or holds not in ("0", "1"):
            return None
        try:
            data = self.archive.segment(entry, segment)
        except (OSError, ValueError):  # damaged since: deflated again
            return None
        return zips.Copied(data, segment), holds == "1"

    def data(self, name: str) -> bytes | None:
        entry = None if self.archive is None else self.archive.entries.get(name)
        if self.archive is None or entry is None:
            return None
        try:
            return self.archive.inflated(entry)
        except (OSError, ValueError, zlib.error):
            return None
