"""SCORM stage: one language's course -> a SCORM 1.2 package (imsmanifest.xml + the page) in a zip.

The package holds ONE SCO, the language's course page rendered without the links that lead out of
the package (other languages, landing page, deck: `site.package_site`), with the learner guide,
the assets and the media it uses (a large course's page is split as on the site: its lessons'
scripts and plain pages come with it); `imsmanifest.xml` at the root lists every file. The
page's own scripts (`scorm.js`) find the LMS's API, report status, score and progress; unzipped
and opened by double-click, the same page is the plain HTML course.

Deterministic: the same course gives a byte-identical zip (fixed entry dates, sorted entries).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.etree import ElementTree as ET

from . import site
from .model import Course, Library
from .updates import ReleaseNotes

SCHEMA_VERSION = "1.2"
CP_NS = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP_NS = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
MANIFEST = "imsmanifest.xml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
"""Every entry's date: the earliest a zip can hold, so that rebuilds are byte-identical."""
NOT_ID = re.compile(r"[^A-Za-z0-9_.-]")
ZIP_LEVEL = 3
"""zlib's level for every entry: 3 deflates a package in about 40% of the default level's (6)
time for 10-16% more bytes (measured on the bundled course and the 10k corpus); the files
unzip to the same bytes at any level."""

ET.register_namespace("", CP_NS)
ET.register_namespace("adlcp", ADLCP_NS)


def package_file_name(course: Course) -> str:
    """`<course id>-<lang>-scorm12.zip`."""
    return site.scorm_file_name(course)


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


def _set_level(info: zipfile.ZipInfo, level: int) -> None:
    """The entry's deflate level: `ZipFile.open(info, "w")` takes it from the ZipInfo only
    (`compress_level` from Python 3.13, `_compresslevel` before)."""
    name = "compress_level" if hasattr(info, "compress_level") else "_compresslevel"
    setattr(info, name, level)


def write_package(
    library: Library, course: Course, path: Path, changes: ReleaseNotes | None = None
) -> None:
    """Write the language's SCORM 1.2 zip to `path`, entry by entry as each file is rendered:
    the manifest first, then the SCO's page, its lessons' files when the page is split, and the
    rest in name order. `changes`: the latest release, for the page's "what changed"."""
    page = site.package_site(library, course)
    split = page.is_split()
    with zipfile.ZipFile(path, "w") as archive:

        def entry(name: str, chunks: Iterable[bytes]) -> None:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            _set_level(info, ZIP_LEVEL)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as out:
                for chunk in chunks:
                    out.write(chunk)

        entry(MANIFEST, [manifest(course, site.package_names(page, split))])
        site.write_package_files(page, entry, split, changes)
