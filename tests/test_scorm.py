"""The SCORM 1.2 packages: manifest structure, a self-contained page, and the real runtime.

The runtime is scorm-again (npm, MIT; `node_modules/scorm-again`, a test dependency installed by
setup.sh, never shipped): a parent page served from 127.0.0.1 sets `window.API` to a recording
wrapper around `new Scorm12API(...)` and loads the unzipped SCO in an iframe from the same server,
as an LMS does. Every call the SCO makes, with its result, lands in the parent's `calls`.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from course import pipeline, scorm, site
from course.cli import main
from course.lessons import load_library
from course.site import package_files

from browsers import Browser, Page
from sitekit import (
    STORAGE_KEY,
    capture_downloads,
    last_download,
    served,
    stored,
    url,
    watched,
)  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "site-course"
RUNTIME = ROOT / "node_modules" / "scorm-again" / "dist" / "scorm12.min.js"
CP = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
ADLCP = "{http://www.adlnet.org/xsd/adlcp_rootv1p2}"
LANGS = ("el", "lv", "pl")
LIMIT = 4096
RECORD = 19  # characters of a full record (scorm.js, version 2)
MANIFEST = scorm.MANIFEST
TIMESPAN = re.compile(r"\d{4}:[0-5]\d:[0-5]\d\.\d\d\Z")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture course built with decks, site and packages; pl asks for a mastery score of 70."""
    root = tmp_path_factory.mktemp("scorm-course")
    shutil.copytree(FIXTURE, root / "lessons")
    pl_yml = root / "lessons" / "pl" / "course.yml"
    pl_yml.write_text(pl_yml.read_text("utf-8") + "mastery_score: 70\n", "utf-8")
    pipeline.build(
        load_library(root / "lessons"), root / "decks", root / "site", scorm_dir=root / "scorm"
    )
    # the bundled course: packages only (no decks, so its manifests are not written)
    pipeline.build(load_library(ROOT / "lessons"), None, None, scorm_dir=root / "bundled")
    # the fixture's packages split as a large course's are (site.SPLIT_BYTES)
    saved = site.SPLIT_BYTES
    site.SPLIT_BYTES = 0
    try:
        pipeline.build(load_library(root / "lessons"), None, None, scorm_dir=root / "split")
    finally:
        site.SPLIT_BYTES = saved
    return root


def package(built: Path, lang: str) -> Path:
    return built / "scorm" / f"site-fixture-{lang}-scorm12.zip"


def split_package(built: Path, lang: str) -> Path:
    return built / "split" / f"site-fixture-{lang}-scorm12.zip"


# -- the package ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_manifest_structure(built: Path, lang: str) -> None:
    with zipfile.ZipFile(package(built, lang)) as archive:
        names = archive.namelist()
        manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    assert "imsmanifest.xml" in names, "the manifest is at the root"
    assert manifest.tag == f"{CP}manifest"
    assert manifest.findtext(f"{CP}metadata/{CP}schemaversion") == "1.2"
    organizations = manifest.findall(f"{CP}organizations/{CP}organization")
    assert len(organizations) == 1
    items = organizations[0].findall(f".//{CP}item")
    assert len(items) == 1
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    scos = [r for r in resources if r.get(f"{ADLCP}scormtype") == "sco"]
    assert len(resources) == len(scos) == 1, "one resource, and it is the SCO"
    sco = scos[0]
    assert items[0].get("identifierref") == sco.get("identifier")
    outline = manifest.find(f"{CP}organizations")
    assert outline is not None
    assert outline.get("default") == organizations[0].get("identifier")
    assert sco.get("href") == f"{lang}/index.html"
    listed = [f.get("href", "") for f in sco.findall(f"{CP}file")]
    assert sco.get("href") in listed
    assert sorted(listed) == sorted(n for n in names if n != "imsmanifest.xml"), (
        "every file listed, every listed file present"
    )
    assert not [n for n in names if n.startswith(("decks/", "scorm/")) or n == "index.html"]
    library = load_library(built / "lessons")
    title = library.course(lang).title
    assert organizations[0].findtext(f"{CP}title") == title
    assert items[0].findtext(f"{CP}title") == title
    assert items[0].findtext(f"{ADLCP}masteryscore") == ("70" if lang == "pl" else "80")


def test_identifiers_unique_per_course_and_language(built: Path) -> None:
    seen: dict[str, str] = {}
    for lang in LANGS:
        with zipfile.ZipFile(package(built, lang)) as archive:
            manifest = ET.fromstring(archive.read("imsmanifest.xml"))
        ids = [e.get("identifier", "") for e in manifest.iter() if e.get("identifier")]
        assert len(ids) == 4
        assert len(set(ids)) == 4
        for ident in ids:
            assert re.fullmatch(r"[A-Za-z_][\w.-]*", str(ident)), ident
            assert ident not in seen, f"{ident} used by {seen.get(ident)} and {lang}"
            seen[ident] = lang
            assert "site-fixture" in ident
            assert lang in ident


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [v for k, v in attrs if k in ("href", "src") and v]


@pytest.mark.parametrize("lang", LANGS)
def test_the_page_links_to_nothing_outside_the_package(built: Path, lang: str) -> None:
    with zipfile.ZipFile(package(built, lang)) as archive:
        names = set(archive.namelist())
        page = archive.read(f"{lang}/index.html").decode()
        guide = archive.read(f"{lang}/guide.html").decode()
    for html in (page, guide):  # the learner guide ships in the package: the page links to it
        links = Links()
        links.feed(html)
        local = [u for u in links.found if not u.startswith(("#", "https:", "http:", "mailto:"))]
        assert local, "the page has its assets"
        for link in local:
            target = (Path(lang) / link.split("#")[0]).as_posix()
            resolved = "/".join(_normalise(target.split("/")))
            assert resolved in names, f"{link} leads out of the package"
    assert 'href="guide.html"' in page
    links = Links()
    links.feed(page)
    # what the plain site's page has and the package's must not: nothing else is missing
    site_page = (built / "site" / lang / "index.html").read_text("utf-8")
    assert 'href="../index.html"' in site_page
    assert 'href="../index.html"' not in page
    assert 'class="also-in"' in site_page or lang == "lv"  # lv's lesson exists in no other
    assert 'class="also-in"' not in page
    assert "data-switch=" not in page
    assert not [u for u in links.found if u.endswith(".apkg")]
    assert '"switch":{}' in page


def _normalise(parts: list[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            assert out, "above the package root"
            out.pop()
        elif part not in ("", "."):
            out.append(part)
    return out


def test_packages_are_reproducible_and_offered_on_the_landing_page(
    built: Path, tmp_path: Path
) -> None:
    library = load_library(built / "lessons")
    course = library.course("el")
    scorm.write_package(library, course, tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == package(built, "el").read_bytes()
    landing = (built / "site" / "index.html").read_text("utf-8")
    for lang in LANGS:
        name = f"site-fixture-{lang}-scorm12.zip"
        assert f'href="scorm/{name}"' in landing
        assert (built / "site" / "scorm" / name).read_bytes() == package(built, lang).read_bytes()


def test_cli_scorm_folder_and_no_scorm(sample: Path, tmp_path: Path) -> None:
    args = ["build", "--lessons", str(sample), "--no-decks", "--no-site", "--lang", "lv"]
    result = CliRunner().invoke(main, [*args, "--scorm", str(tmp_path / "lms")])
    assert result.exit_code == 0, result.output
    zip_path = tmp_path / "lms" / "sample-course-lv-scorm12.zip"
    assert f"-> {zip_path}" in result.output
    assert sorted(p.name for p in (tmp_path / "lms").iterdir()) == [zip_path.name]
    result = CliRunner().invoke(main, [*args, "--scorm", str(tmp_path / "x"), "--no-scorm"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "x").exists()


def test_a_failed_build_leaves_the_packages_as_they_were(sample: Path, tmp_path: Path) -> None:
    """The zips are outputs of the build like the decks: rendered to temporary files, put in place
    only when everything rendered; a build that fails later leaves the previous zips and no
    temporary file."""
    lms = tmp_path / "lms"
    args = ["build", "--lessons", str(sample), "--no-decks", "--scorm", str(lms)]
    first = CliRunner().invoke(main, [*args, "--site", str(tmp_path / "site")])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in lms.iterdir()}
    assert sorted(before) == [f"sample-course-{lang}-scorm12.zip" for lang in ("el", "lv", "pl")]
    (sample / "lv" / "course.yml").write_text("title: Cits nosaukums\n", "utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", "utf-8")
    failed = CliRunner().invoke(main, [*args, "--site", str(blocker / "site")])
    assert failed.exit_code != 0
    assert {p.name: p.read_bytes() for p in lms.iterdir()} == before


# -- the runtime ----------------------------------------------------------------------------------

PARENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LMS</title>
<script src="scorm12.min.js"></script></head>
<body>
<script>
var params = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}");
var lms = new Scorm12API(Object.assign({ autocommit: false, logLevel: 5 }, params.settings));
if (params.resume) lms.loadFromJSON(params.resume);
window.lms = lms;
window.calls = [];
var NAMES = ["LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit",
  "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"];
var api = {};
NAMES.forEach(function (name) {
  api[name] = function () {
    var args = Array.prototype.slice.call(arguments);
    if (params.mode === "throw") { calls.push([name, args, "threw"]); throw new Error("LMS down"); }
    var result = lms[name].apply(lms, args);
    if (params.mode === "false" && name !== "LMSGetLastError") result = "false";
    if (params.mode === "refuse" && name === "LMSInitialize") result = "false";
    calls.push([name, args, result]);
    return result;
  };
});
window.API = api;
var frame = document.createElement("iframe");
frame.title = "course";
frame.style.width = "1000px";
frame.style.height = "700px";
frame.src = params.sco;
document.body.appendChild(frame);
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def server(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """127.0.0.1 serving the parent page, the runtime and each language's unzipped package."""
    if not RUNTIME.is_file():
        pytest.fail(f"{RUNTIME} missing: run setup.sh (npm ci installs scorm-again)")
    root = tmp_path_factory.mktemp("lms")
    (root / "lms.html").write_text(PARENT, "utf-8")
    (root / "favicon.ico").write_bytes(b"")  # what a browser asks a web server for, unasked
    shutil.copyfile(RUNTIME, root / "scorm12.min.js")
    for lang in LANGS:
        with zipfile.ZipFile(package(built, lang)) as archive:
            archive.extractall(root / "sco" / lang)
        with zipfile.ZipFile(built / "bundled" / f"customer-service-{lang}-scorm12.zip") as archive:
            archive.extractall(root / "bundled" / lang)
        with zipfile.ZipFile(split_package(built, lang)) as archive:
            archive.extractall(root / "split" / lang)
    # a split package made before the page's data listed the lessons with a check
    shutil.copytree(root / "split" / "el", root / "older" / "el")
    older = root / "older" / "el" / "el" / "index.html"
    text, found = re.subn(r',"graded":\[[^\]]*\]', "", older.read_text("utf-8"))
    assert found == 1
    older.write_text(text, "utf-8")
    with served(root) as base:
        yield base


class Session:
    """The parent page in a fresh browser profile, with the SCO in its frame."""

    def __init__(
        self,
        chromium: Any,
        server: str,
        lang: str = "el",
        folder: str = "sco",
        student: str = "learner-1",
        context: Any = None,
        **params: Any,
    ) -> None:
        """`student`: the LMS's cmi.core.student_id ("" for none); `context`: a browser profile
        to share (another learner on the same computer), a fresh one by default."""
        self.context = context or chromium.new_context()
        self.own_context = context is None
        resume = params.setdefault("resume", {})
        resume.setdefault("core", {})["student_id"] = student
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        params = {"sco": f"{folder}/{lang}/{lang}/index.html", **params}
        self.page.goto(f"{server}/lms.html#{quote(json.dumps(params))}")
        self.frame = self.page.frame_locator("iframe")
        self.frame.locator("#title-home").wait_for(state="attached")
        self.server = server

    def calls(self, name: str | None = None) -> list[list[Any]]:
        calls: list[list[Any]] = self.page.evaluate("window.calls")
        return [c for c in calls if name is None or c[0] == name]

    def sets(self, element: str) -> list[str]:
        return [c[1][1] for c in self.calls("LMSSetValue") if c[1][0] == element]

    def last(self, element: str) -> str | None:
        values = self.sets(element)
        return values[-1] if values else None

    def frame_eval(self, script: str, arg: Any = None) -> Any:
        frame = self.page.frames[1]
        return frame.evaluate(script, arg)

    def leave(self) -> None:
        """The learner leaves: the SCO's page is unloaded (pagehide) inside the LMS's page."""
        self.page.evaluate("document.querySelector('iframe').src = 'about:blank'")
        self.page.wait_for_function(
            "document.querySelector('iframe').contentWindow.location.href === 'about:blank'"
        )

    def close(self) -> None:
        outside = [u for u in self.requests if not u.startswith(self.server)]
        if self.own_context:
            self.context.close()
        else:
            self.page.close()
        assert not outside, f"requests outside 127.0.0.1: {outside}"
        assert not self.errors, f"page errors: {self.errors}"


def leave_and_check(lms: Session) -> None:
    """The learner leaves: suspend data kept within SCORM 1.2's limit, LMSFinish called once, no
    value or commit refused by the runtime (and `close`'s checks)."""
    suspend = lms.last("cmi.suspend_data")
    assert suspend
    assert len(suspend) <= LIMIT
    lms.leave()
    assert len(lms.calls("LMSFinish")) == 1
    refused = [c for c in lms.calls() if c[0] in ("LMSSetValue", "LMSCommit") and c[2] != "true"]
    assert not refused, refused
    lms.close()


ANSWER_CHECK = """([lesson, wrong]) => {
  const section = document.querySelector(`[data-check="${lesson}"]`);
  const state = Course.state();
  const attempt = ((((state.ext || {}).checks || {})[lesson] || {}).n || 0) + 1;
  const data = Course.data; // a split page's items have their sides once their lesson has come
  const qs = CourseCheck.draw(CourseCheck.records(data.items, document), lesson, attempt, Course.fold);
  section.querySelector('button').click();
  const items = section.querySelectorAll('.check-question');
  qs.forEach((q, i) => {
    const bad = i < wrong;
    if (q.type === 'typed') items[i].querySelector('input').value = bad ? 'nope' : q.answer.toUpperCase();
    else {
      const k = q.options.findIndex(o => o.correct === !bad);
      items[i].querySelectorAll('input')[k].checked = true;
    }
  });
  return qs.length;
}"""


# the progress a learner's LMS session keeps in the browser (Course.scope: "lms:<hash>")
STORED = """(student) => JSON.parse(localStorage.getItem(
  Course.data.storageKey + ':lms:' + CourseSCORM.hash(student).toString(36)))"""


def take_check(session: Session, lesson: str, wrong: int = 0) -> int:
    """Takes the lesson's check in the frame, `wrong` answers wrong; returns the expected %."""
    session.frame.locator(f"#lesson\\/{lesson}").wait_for(state="attached")
    session.frame_eval(f"location.hash = '#lesson/{lesson}'")
    total: int = session.frame_eval(ANSWER_CHECK, [lesson, wrong])
    assert total > 0
    session.frame.locator(f'[data-check="{lesson}"] button[type=submit]').click()
    return round(100 * (total - wrong) / total)


def review_one(session: Session) -> None:
    session.frame_eval("location.hash = '#review'")
    session.frame.locator("[data-reveal]").click()
    session.frame.locator('[data-grade="3"]').click()


@pytest.mark.browser
def test_a_session_in_the_runtime(playwright_chromium: Any, server: str) -> None:
    lms = Session(playwright_chromium, server)
    assert len(lms.calls("LMSInitialize")) == 1
    assert lms.calls("LMSInitialize")[0][2] in (True, "true")
    assert lms.last("cmi.core.lesson_status") == "incomplete"
    assert lms.last("cmi.core.exit") == "suspend"
    assert lms.last("cmi.core.score.raw") is None, "no score before a check"

    review_one(lms)
    first = take_check(lms, "six-skills")
    assert first == 100
    assert lms.last("cmi.core.score.raw") is None, "no score before every check is taken"
    assert lms.last("cmi.core.lesson_status") == "incomplete", "one of two checks taken"
    second = take_check(lms, "career", wrong=1)
    assert second == 50
    assert lms.last("cmi.core.score.raw") == "75"
    assert lms.last("cmi.core.score.min") == "0"
    assert lms.last("cmi.core.score.max") == "100"
    assert lms.last("cmi.core.lesson_status") == "failed", "75 < mastery 80"
    assert lms.last("cmi.core.exit") == "suspend"
    retake = take_check(lms, "career")
    assert retake == 100
    assert lms.last("cmi.core.score.raw") == "100"
    assert lms.last("cmi.core.lesson_status") == "passed"
    assert lms.last("cmi.core.exit") == "suspend", "the schedule goes on: its data must stay"
    lms.frame_eval("location.hash = '#lesson/career'")

    suspend = lms.last("cmi.suspend_data")
    assert suspend
    assert len(suspend) <= LIMIT
    assert lms.calls("LMSCommit"), "commits after each meaningful step"
    assert len(lms.calls("LMSFinish")) == 0
    lms.page.wait_for_function(
        "calls.some(c => c[0] === 'LMSSetValue' && c[1][0] === 'cmi.core.lesson_location'"
        " && c[1][1] === 'lesson/career')",
        timeout=5000,
    )
    lms.frame_eval("dispatchEvent(new PageTransitionEvent('pagehide'))")
    lms.leave()
    assert len(lms.calls("LMSFinish")) == 1, "finish once, however many times the page is hidden"
    assert [c[0] for c in lms.calls()].index("LMSFinish") == len(lms.calls()) - 1, (
        "nothing after LMSFinish"
    )
    times = lms.sets("cmi.core.session_time")
    assert times
    assert all(TIMESPAN.match(t) for t in times), times
    failed = [c for c in lms.calls() if c[0] in ("LMSSetValue", "LMSCommit") and c[2] != "true"]
    assert not failed, f"the runtime refused: {failed}"
    assert not any(
        c[1] and str(c[1][0]).startswith(("cmi.completion", "cmi.success", "cmi.location", "adl."))
        for c in lms.calls()
    ), "no SCORM 2004 element"
    state = {
        "suspend_data": lms.page.evaluate("lms.cmi.suspend_data"),
        "core": {
            "lesson_location": lms.page.evaluate("lms.cmi.core.lesson_location"),
            "lesson_status": lms.page.evaluate("lms.cmi.core.lesson_status"),
            "entry": "resume",
            "score": {"raw": lms.page.evaluate("lms.cmi.core.score.raw")},
        },
    }
    assert state["suspend_data"] == suspend
    lms.close()

    # A second session, in a fresh browser profile: everything comes from the LMS.
    again = Session(playwright_chromium, server, resume=state)
    assert again.frame_eval("location.hash") == "#lesson/career", "back on the view left"
    progress = again.frame_eval(
        "document.querySelector('[data-progress-lesson=\"six-skills\"]').textContent"
    )
    assert "1" in progress, f"the reviewed card counts as studied: {progress!r}"
    best = again.frame.locator('[data-check="career"] .check-best')
    assert "100" in best.inner_text()
    stored = again.frame_eval(STORED, "learner-1")
    assert stored["ext"]["checks"]["six-skills"]["best"] == 100
    assert stored["ext"]["checks"]["career"] == {"best": 100, "n": 2}
    assert len(stored["items"]) == 1
    assert again.last("cmi.core.lesson_status") == "passed"
    again.leave()
    assert len(again.calls("LMSFinish")) == 1
    again.close()


@pytest.mark.browser
def test_a_stale_link_is_not_where_the_next_session_opens(
    playwright_chromium: Any, server: str
) -> None:
    """The learner leaves on an address the course no longer has: the LMS keeps the last view
    found as cmi.core.lesson_location, never "not-found"."""
    lms = Session(playwright_chromium, server)
    take_check(lms, "career")
    lms.frame_eval("location.hash = '#lesson/old-removed-lesson'")
    lms.frame.locator("#not-found.is-current").wait_for()
    assert lms.frame.locator("[data-missing]").inner_text() == "#lesson/old-removed-lesson"
    lms.leave()
    assert lms.page.evaluate("lms.cmi.core.lesson_location") == "lesson/career"
    assert "not-found" not in lms.sets("cmi.core.lesson_location")
    lms.close()


@pytest.mark.browser
def test_learners_sharing_a_browser_keep_their_own_progress(
    playwright_chromium: Any, server: str
) -> None:
    """One browser profile: the package's page without an LMS reviews a card under the course's
    own key; learner A passes in the LMS; learner B, and then an LMS that names no learner, each
    with a fresh LMS record, start with nothing of anyone's (first report: incomplete, no score);
    A, back on a fresh LMS record, gets A's progress from the browser; the plain key is untouched."""
    context = playwright_chromium.new_context()
    try:
        plain = context.new_page()
        plain.goto(f"{server}/sco/el/el/index.html#review")
        plain.click("[data-reveal]")
        plain.click('[data-grade="3"]')
        key = plain.evaluate("Course.data.storageKey")
        before = plain.evaluate("(k) => localStorage.getItem(k)", key)
        assert len(json.loads(before)["items"]) == 1
        plain.close()

        a = Session(playwright_chromium, server, student="A", context=context)
        assert a.frame_eval("Course.state().items") == {}, "nothing of the plain course"
        review_one(a)
        take_check(a, "six-skills")
        take_check(a, "career")
        assert a.last("cmi.core.lesson_status") == "passed"
        mine = a.frame_eval("Course.state()")
        a.leave()
        a.close()

        for student in ("B", ""):
            other = Session(playwright_chromium, server, student=student, context=context)
            assert other.sets("cmi.core.lesson_status") == ["incomplete"], student
            assert other.sets("cmi.core.score.raw") == [], student
            assert other.frame_eval("Course.state().items") == {}, student
            assert other.frame_eval("Course.state().ext") == {}, student
            review_one(other)
            other.leave()
            other.close()

        back = Session(playwright_chromium, server, student="A", context=context)
        assert back.frame_eval("Course.state().items") == mine["items"]
        assert back.frame_eval("Course.state().ext") == mine["ext"]
        assert back.last("cmi.core.lesson_status") == "passed"
        assert back.frame_eval(STORED, "A")["items"] == mine["items"]
        assert len(back.frame_eval(STORED, "B")["items"]) == 1
        keys = back.frame_eval("Object.keys(localStorage).sort()")
        assert keys == sorted(
            [
                key,
                *(
                    f"{key}:lms:{back.frame_eval('(s) => CourseSCORM.hash(s).toString(36)', s)}"
                    for s in "AB"
                ),
            ]
        )
        assert back.frame_eval("(k) => localStorage.getItem(k)", key) == before
        back.leave()
        back.close()
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("mode", ["false", "throw", "refuse"])
def test_a_misbehaving_lms_never_breaks_the_course(
    playwright_chromium: Any, server: str, mode: str
) -> None:
    lms = Session(playwright_chromium, server, mode=mode)
    review_one(lms)
    take_check(lms, "six-skills", wrong=1)
    best = lms.frame.locator('[data-check="six-skills"] .check-best')
    assert re.search(r"\d", best.inner_text())
    stored = lms.frame_eval(
        "JSON.parse(localStorage.getItem(JSON.parse(document.getElementById('course-data')"
        ".textContent).storageKey))"
    )
    assert len(stored["items"]) == 1
    assert stored["ext"]["checks"]["six-skills"]["n"] == 1
    lms.leave()
    if mode == "refuse":
        assert {c[0] for c in lms.calls()} == {"LMSInitialize", "LMSGetLastError"}, (
            "nothing but asking why after a refused start"
        )
    lms.close()


@pytest.mark.browser
def test_without_an_api_the_page_works_standalone(
    browser: Browser, server: str, built: Path, tmp_path: Path
) -> None:
    """No LMS: the package's page over http, the site's page and the unzipped package from
    file://, in Chromium and Firefox: the check and the review work, nothing complains."""
    page = browser.new_page()
    try:
        for address in (
            f"{server}/sco/el/el/index.html",
            (built / "site" / "el" / "index.html").as_uri(),
        ):
            page.goto(address + "#lesson/career")
            page.wait_for("() => document.querySelector('[data-check=\"career\"] > button')")
            page.click('[data-check="career"] > button')
            page.fill('[data-check="career"] input', "AGENT")
            page.click('[data-check="career"] button[type=submit]')
            page.wait_for(
                "() => document.querySelector('[data-check=\"career\"] .check-result').textContent"
            )
            assert "%" in page.text('[data-check="career"] .check-result')
            assert page.evaluate("() => window.API === undefined")
        with zipfile.ZipFile(package(built, "lv")) as archive:
            archive.extractall(tmp_path / "unzipped")
        page.goto((tmp_path / "unzipped" / "lv" / "index.html").as_uri() + "#review")
        page.wait_for("() => !document.querySelector('[data-reveal]').hidden")
        page.click("[data-reveal]")
        page.click('[data-grade="3"]')
        assert page.text("[data-review-status]")
        page.drain()
        assert not page.errors, page.errors
    finally:
        page.close()


# -- a split package (a large course: site.SPLIT_BYTES) -------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_split_package_lists_and_holds_every_lesson_file(built: Path, lang: str) -> None:
    """Above SPLIT_BYTES the package's page is split as the site's: the page holds the outline,
    each lesson its script and plain page, the search records their script; the manifest lists
    every file, and the package has every file the whole-page package has."""
    course = load_library(built / "lessons").course(lang)
    with zipfile.ZipFile(split_package(built, lang)) as archive:
        names = archive.namelist()
        listed = [
            f.get("href", "") for f in ET.fromstring(archive.read(MANIFEST)).iter(f"{CP}file")
        ]
        page = archive.read(f"{lang}/index.html").decode()
        scripts = {
            lesson.id: archive.read(f"{lang}/lessons/{lesson.id}.js").decode()
            for lesson in course.lessons
        }
        plain = archive.read(f"{lang}/lesson-{course.lessons[0].id}.html").decode()
        search = archive.read(f"{lang}/search-data.js").decode()
    assert names[:2] == [MANIFEST, f"{lang}/index.html"]
    assert sorted(listed) == sorted(names[1:])
    assert listed[0] == f"{lang}/index.html"
    assert len(names) == len(set(names))
    with zipfile.ZipFile(package(built, lang)) as whole:
        assert set(whole.namelist()) < set(names)
        assert '"graded":' not in whole.read(f"{lang}/index.html").decode(), "only where needed"
    assert "<article" not in page
    assert '"lessonsDir":"lessons"' in page
    graded = json.dumps(site.graded_lessons(course), separators=(",", ":"), ensure_ascii=False)
    assert f'"graded":{graded}' in page
    assert len(site.graded_lessons(course)) == len(course.lessons), "each has a check"
    for lesson in course.lessons:
        assert scripts[lesson.id].startswith('Course.lesson({"id":"' + lesson.id + '"')
        assert f'data-check=\\"{lesson.id}\\"' in scripts[lesson.id]
    assert "<article" in plain
    assert search.startswith("Course.searchData([{")


@pytest.mark.browser
def test_a_split_package_in_the_runtime(playwright_chromium: Any, server: str) -> None:
    """The split package served as an LMS serves it: the page starts the session from its
    outline and reports a status at once, from the lessons with a check its data lists
    (`graded`), without loading any lesson's script (at 100,000 cards, all of them are 40 MB);
    then the first check taken reports no score and no pass (the other lesson's check counts though
    its script has not come) and the last one decides, with the score; the review spans the
    course, and the session ends as the whole page's does."""
    lms = Session(playwright_chromium, server, "el", "split")
    assert len(lms.calls("LMSInitialize")) == 1
    lms.page.wait_for_function(
        "calls.some(c => c[0] === 'LMSSetValue' && c[1][0] === 'cmi.core.lesson_status')",
        timeout=5000,
    )
    loaded = lms.frame_eval(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/lessons/'))"
    )
    assert loaded == [], "no lesson's script before the first status"
    assert lms.frame_eval("Course.data.graded") == ["six-skills", "career"]
    lessons = lms.frame_eval("Course.data.lessons.map(l => l.id)")
    assert lms.last("cmi.core.lesson_status") == "incomplete"
    assert lms.last("cmi.core.score.raw") is None
    answers = {"six-skills": 0, "career": 1}
    for lesson in lessons:
        lms.frame_eval(f"location.hash = '#lesson/{lesson}'")
        expected = take_check(lms, lesson, answers[lesson])
        lms.page.wait_for_function(
            "(n) => calls.filter(c => c[0] === 'LMSSetValue' && c[1][0] === 'cmi.suspend_data')"
            ".length >= n",
            arg=lessons.index(lesson) + 2,
            timeout=5000,
        )
        assert expected == (100 if lesson == "six-skills" else 50)
        if lesson == lessons[0]:
            assert lms.last("cmi.core.score.raw") is None, "no score before every check"
            assert lms.last("cmi.core.lesson_status") == "incomplete", "career's check is due"
            assert not any(u.endswith("/lessons/career.js") for u in lms.requests)
    for lesson in lessons:
        assert any(u.endswith(f"/split/el/el/lessons/{lesson}.js") for u in lms.requests)
    assert lms.last("cmi.core.score.raw") == "75"
    assert lms.last("cmi.core.lesson_status") == "failed", "75 < mastery 80, every check taken"
    review_one(lms)
    leave_and_check(lms)


@pytest.mark.browser
def test_an_older_split_package_loads_every_lesson_first(
    playwright_chromium: Any, server: str
) -> None:
    """A split page without `graded` (built before it) learns which lessons have a check from
    their scripts: it loads every one of them before its first status, as it always did."""
    lms = Session(playwright_chromium, server, "el", "older")
    lms.page.wait_for_function(
        "calls.some(c => c[0] === 'LMSSetValue' && c[1][0] === 'cmi.core.lesson_status')",
        timeout=5000,
    )
    assert lms.frame_eval("Course.data.graded") is None
    loaded = lms.frame_eval(
        "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/lessons/'))"
    )
    assert sorted(n.rsplit("/", 1)[1] for n in loaded) == ["career.js", "six-skills.js"]
    assert lms.last("cmi.core.lesson_status") == "incomplete"
    expected = take_check(lms, "six-skills")
    assert expected == 100
    assert lms.last("cmi.core.score.raw") is None, "no score before every check"
    assert lms.last("cmi.core.lesson_status") == "incomplete", "career's check is due"
    take_check(lms, "career")
    lms.page.wait_for_function(
        "calls.some(c => c[0] === 'LMSSetValue' && c[1][0] === 'cmi.core.score.raw')",
        timeout=5000,
    )
    assert lms.last("cmi.core.score.raw") == "100"
    assert lms.last("cmi.core.lesson_status") == "passed"
    lms.close()


@pytest.mark.browser
def test_a_split_package_works_standalone(browser: Browser, built: Path, tmp_path: Path) -> None:
    """The split package unzipped and opened from file://, in Chromium and Firefox: lessons come
    from their scripts (no fetch), the check and the review work, nothing complains."""
    with zipfile.ZipFile(split_package(built, "el")) as archive:
        archive.extractall(tmp_path / "unzipped")
    page = browser.new_page()
    try:
        page.goto((tmp_path / "unzipped" / "el" / "index.html").as_uri() + "#lesson/career")
        page.wait_for("() => document.querySelector('[data-check=\"career\"] > button')")
        page.click('[data-check="career"] > button')
        page.fill('[data-check="career"] input', "AGENT")
        page.click('[data-check="career"] button[type=submit]')
        page.wait_for(
            "() => document.querySelector('[data-check=\"career\"] .check-result').textContent"
        )
        assert "%" in page.text('[data-check="career"] .check-result')
        page.goto((tmp_path / "unzipped" / "el" / "index.html").as_uri() + "#review")
        page.wait_for("() => !document.querySelector('[data-reveal]').hidden")
        page.click("[data-reveal]")
        page.click('[data-grade="3"]')
        assert page.text("[data-review-status]")
        page.drain()
        assert not page.errors, page.errors
    finally:
        page.close()


# -- the pure functions: encoding, status, time, discovery, check ---------------------------------


@pytest.fixture(scope="module")
def pure(browser: Browser, built: Path) -> Iterator[Page]:
    """The el page from file://, in Chromium and in Firefox, for calling CourseSCORM and
    CourseCheck."""
    page = browser.new_page()
    page.goto((built / "site" / "el" / "index.html").as_uri())
    try:
        yield page
    finally:
        page.close()


ROUND_TRIP = """([n, lessons]) => {
  const now = Date.UTC(2026, 10, 27, 12);
  const course = { items: [], lessons: [] };
  const progress = { items: {}, checks: {} };
  for (let i = 0; i < lessons; i++) {
    course.lessons.push('lesson-' + i);
    progress.checks['lesson-' + i] = { best: (i * 7) % 101, n: 1 + (i % 3) };
  }
  for (let i = 0; i < n; i++) {
    const id = 'card-' + i.toString(36).padStart(8, '0') + (i % 3 === 0 ? ':r' : '');
    course.items.push(id);
    let card = FSRS.newCard(now - 400 * 864e5);
    for (let k = 0; k <= i % 6; k++) card = FSRS.review(card, 1 + ((i + k) % 4), card.due).card;
    progress.items[id] = card;
  }
  const text = CourseSCORM.encode(progress, course);
  const back = CourseSCORM.decode(text, course);
  const exact = Object.keys(back.items).filter(id => {
    const a = progress.items[id], b = back.items[id];
    return Math.abs(a.due - b.due) < 60000 && Math.abs(a.last_review - b.last_review) < 60000 &&
      a.state === b.state && a.step === b.step && a.reps === b.reps && a.lapses === b.lapses &&
      Math.abs(a.difficulty - b.difficulty) < 0.006 && Math.abs(a.stability / b.stability - 1) < 0.003;
  }).length;
  const minFull = Math.min(...Object.keys(back.items).map(id => progress.items[id].stability));
  const maxSeen = Math.max(0, ...back.seen.map(id => progress.items[id].stability));
  return { length: text.length, ascii: /^[0-9a-z.A-Z_-]*$/.test(text), full: Object.keys(back.items).length,
    exact, seen: back.seen.length, checks: JSON.stringify(back.checks) === JSON.stringify(progress.checks),
    minFull, maxSeen };
}"""


@pytest.mark.browser
@pytest.mark.parametrize(("cards", "lessons"), [(1, 1), (120, 8), (500, 25), (5000, 200)])
def test_suspend_data_bound(pure: Page, cards: int, lessons: int) -> None:
    got = pure.evaluate(ROUND_TRIP, [cards, lessons])
    assert got["length"] <= LIMIT
    assert got["ascii"]
    assert got["checks"], "every check result survives"
    assert got["full"] + got["seen"] == cards, "every studied card comes back"
    assert got["exact"] == got["full"], "full records come back exactly (to the minute, 0.5 %)"
    if cards * RECORD < 3500:
        assert got["full"] == cards
    else:
        assert LIMIT - got["length"] < RECORD, "full records fill the room left"
        assert got["minFull"] >= got["maxSeen"], "the most stable cards keep their records"


@pytest.mark.browser
def test_every_card_of_a_real_course_reviewed_fits(pure: Page) -> None:
    library = load_library(ROOT / "lessons")
    for lang in LANGS:
        files = package_files(library, library.course(lang))
        html = files[f"{lang}/index.html"].decode()
        data = json.loads(re.search(r'id="course-data">(.*?)</script>', html).group(1))  # type: ignore[union-attr]
        got = pure.evaluate(
            """(data) => {
              const course = { items: data.items.map(i => i.id), lessons: data.lessons.map(l => l.id) };
              const progress = { items: {}, checks: {} };
              course.items.forEach((id, i) => { progress.items[id] = FSRS.review(FSRS.newCard(1e12), 3, 1e12 + i).card; });
              course.lessons.forEach(id => { progress.checks[id] = { best: 100, n: 63 }; });
              const text = CourseSCORM.encode(progress, course);
              const back = CourseSCORM.decode(text, course);
              return { length: text.length, full: Object.keys(back.items).length, n: course.items.length };
            }""",
            data,
        )
        assert got["length"] <= LIMIT
        assert got["full"] == got["n"], f"{lang}: every card's full record fits"


@pytest.mark.browser
def test_decode_rejects_other_data_and_keeps_a_moved_course(pure: Page) -> None:
    got = pure.evaluate(
        """() => {
          const course = { items: ['a', 'b', 'c'], lessons: ['x'] };
          const card = FSRS.review(FSRS.newCard(1e12), 3, 1e12).card;
          const text = CourseSCORM.encode({ items: { a: card, c: card }, checks: { x: { best: 90, n: 2 } } }, course);
          const moved = CourseSCORM.decode(text, { items: ['c', 'b', 'a'], lessons: ['y', 'x'] });
          return { same: CourseSCORM.decode(text, course), moved, junk: CourseSCORM.decode('lesson=3|x', course),
            empty: CourseSCORM.decode('', course), other: CourseSCORM.decode('3' + text.slice(1), course),
            proto: CourseSCORM.decode('constructor' + text.slice(1), course) };
        }"""
    )
    assert sorted(got["same"]["items"]) == ["a", "c"]
    assert got["same"]["checks"] == {"x": {"best": 90, "n": 2}}
    assert sorted(got["moved"]["items"]) == ["a", "c"], "records follow their cards, not positions"
    assert got["moved"]["seen"] == [], "the positional bitmap of another list is dropped"
    assert got["moved"]["checks"] == {"x": {"best": 90, "n": 2}}
    assert got["junk"] is None
    assert got["empty"] is None
    assert got["other"] is None
    assert got["proto"] is None


# A course of random 8-character ids (seeded: the same on every run): every third item unreviewed,
# every reviewed card's schedule its own (due and stability grow with its index), a check result
# for two lessons in three.
MAKE = """(seed, n, lessons) => {
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8; // an LCG's high bits
  const A = '23456789abcdefghjkmnpqrstuvwxyz';
  const id = () => Array.from({ length: 8 }, () => A[rnd() % A.length]).join('');
  const course = { items: Array.from({ length: n }, id), lessons: Array.from({ length: lessons }, () => 'lesson-' + id()) };
  const now = Date.UTC(2026, 10, 1);
  const progress = { items: {}, checks: {} };
  course.items.forEach((item, i) => {
    if (i % 3 === 1) return;
    progress.items[item] = { due: now + (i + 1) * 864e5, stability: 1 + i * 0.7, difficulty: 1 + (i % 900) / 100,
      state: 1 + (i % 3), step: i % 3 === 1 ? i % 2 : null, last_review: now - i * 6e4, reps: 1 + (i % 40), lapses: i % 5 };
  });
  course.lessons.forEach((lesson, i) => { if (i % 3 !== 2) progress.checks[lesson] = { best: 40 + ((i * 7) % 61), n: 1 + (i % 4) }; });
  return { course, progress, rnd };
}"""

# What a decoded copy gives the updated course: `own` records on their own card (to the minute and
# 0.5 %), `wrong` records on another card or on one never reviewed, `lost` reviewed cards still in
# the course without their record, and the check results in the same three kinds.
SORT = """(progress, course, back) => {
  const same = (a, b) => a && Math.abs(a.due - b.due) < 60000 && Math.abs(a.last_review - b.last_review) < 60000 &&
    a.state === b.state && a.step === b.step && a.reps === b.reps && a.lapses === b.lapses &&
    Math.abs(a.difficulty - b.difficulty) < 0.006 && Math.abs(a.stability / b.stability - 1) < 0.003;
  const got = Object.keys(back.items);
  const checks = Object.keys(back.checks);
  const sameCheck = (id) => JSON.stringify(progress.checks[id]) === JSON.stringify(back.checks[id]);
  return {
    own: got.filter(id => same(progress.items[id], back.items[id])).length,
    wrong: got.filter(id => !same(progress.items[id], back.items[id])),
    lost: course.items.filter(id => progress.items[id] && !back.items[id]),
    ownChecks: checks.filter(sameCheck).length,
    wrongChecks: checks.filter(id => !sameCheck(id)),
    lostChecks: course.lessons.filter(id => progress.checks[id] && !back.checks[id]),
    seen: back.seen.length,
  };
}"""

# One course update, made with the course's own random numbers: `pick(k)` is a random 0..k-1.
UPDATES = {
    "card-first": "course.items.unshift('new-card-0');",
    "card-retired": "course.items.splice(100 + pick(100), 1);",
    "lesson-first": "course.lessons.unshift('lesson-new'); course.items.unshift('new-1', 'new-2', 'new-3');",
    "mixed": """for (let k = 0; k < 12; k++) {
      const i = pick(course.items.length), l = pick(course.lessons.length);
      [() => course.items.splice(i, 0, 'new-' + k), () => course.items.splice(i, 1),
       () => course.items.splice(pick(course.items.length), 0, ...course.items.splice(i, 1)),
       () => course.lessons.splice(l, 0, 'lesson-new-' + k), () => course.lessons.splice(l, 1)][pick(5)]();
    }""",
}


def _update_js(change: str) -> str:
    return f"""(seed) => {{
      const {{ course: old, progress, rnd }} = ({MAKE})(seed, 300, 12);
      const text = CourseSCORM.encode(progress, old);
      const course = {{ items: old.items.slice(), lessons: old.lessons.slice() }};
      const pick = (k) => rnd() % k;
      {UPDATES[change]}
      const back = CourseSCORM.decode(text, course);
      return {{ length: text.length, reviewed: Object.keys(progress.items).length,
        sorted: ({SORT})(progress, course, back) }};
    }}"""


@pytest.mark.browser
@pytest.mark.parametrize("seed", [7, 8, 9])
@pytest.mark.parametrize("change", sorted(UPDATES))
def test_resume_after_a_course_update(pure: Page, change: str, seed: int) -> None:
    """The LMS's copy, written by one release, read by the next (200 reviewed cards of 300, random
    ids): every record still has its card comes back on it, none on another card; so do the check
    results; the positional bitmap of the old list is dropped (every card has its record here)."""
    got = pure.evaluate(_update_js(change), seed)
    assert got["reviewed"] == 200
    assert got["length"] <= LIMIT
    sorted_ = got["sorted"]
    assert sorted_["wrong"] == [], "no card gets another card's schedule"
    assert sorted_["lost"] == [], "every reviewed card still in the course keeps its schedule"
    assert sorted_["own"] >= 190
    assert sorted_["wrongChecks"] == []
    assert sorted_["lostChecks"] == []
    assert sorted_["seen"] == 0


# Written by the version-1 encoder of the packages deployed before version 2 (scorm.js at 16d2fdc)
# for MAKE(11, 30, 4): 20 reviewed cards, 3 check results. LMSs hold such data: it must still read.
V1_TEXT = (
    "1.hsof7.Eq.AADAoBAB5AvCAD0A9E.ttttt.AAtHBABkVmAAAdAAW9AC0PDCBmYVAAAbABD9AD3HEDBnZIAAAaABadAFVP"
    "GABpaSAAAYACHdAGXHHBBqavAAAXACd9AIRPJDBsbfAAAVADK9AJ4HKEBtbzAAAUADhdALNPMBBvcWAAASAEOdAMmHNCBw"
    "cmAAARAEk9AO2PPEBydBAAAPAFR9APzHQABzdOAAAOAFodARZPSCB1dlAAAMAGVdASQHTDB2dwAAALAGr9AUuPVAB4eDAA"
    "AJAHY9AVaHWBB5eMAAAIAHvdAXSPYDB7edAAAGAIcdAYyHZEB8elAAAFAIy9AadPbBB-e1AAADAJf9AbMHcCB_e8AAACAJ"
    "2dAdyPeECBfJAAAAAKjd"
)
V1_CHANGES = {
    "same": "",
    "card-first": "course.items.unshift('new-card-0');",
    "card-retired": "course.items.splice(10, 1);",
    "lesson-first": "course.lessons.unshift('lesson-new');",
    "lesson-retired": "course.lessons.splice(0, 1);",
    "last-lesson-retired": "course.lessons.pop();",
}


@pytest.mark.browser
def test_version_1_data_still_reads_and_never_lands_on_another_card(pure: Page) -> None:
    """Version 1 is positional: from the course that wrote it, everything comes back; from a
    changed item list the records and bitmap are dropped (1 in 64 would pass the 6-bit hash onto a
    neighbour); its check results stay while the lessons have not moved."""
    changes = ",".join(f"{json.dumps(k)}: (course) => {{ {v} }}" for k, v in V1_CHANGES.items())
    got = pure.evaluate(
        f"""(text) => {{
          const {{ course: old, progress }} = ({MAKE})(11, 30, 4);
          const out = {{}};
          for (const [name, change] of Object.entries({{ {changes} }})) {{
            const course = {{ items: old.items.slice(), lessons: old.lessons.slice() }};
            change(course);
            out[name] = ({SORT})(progress, course, CourseSCORM.decode(text, course));
          }}
          return out;
        }}""",
        V1_TEXT,
    )
    same = got["same"]
    assert (same["own"], same["wrong"], same["lost"]) == (20, [], [])
    assert (same["ownChecks"], same["wrongChecks"], same["lostChecks"]) == (3, [], [])
    for name in ("card-first", "card-retired"):
        assert (got[name]["own"], got[name]["wrong"], got[name]["seen"]) == (0, [], 0), name
        assert (got[name]["ownChecks"], got[name]["wrongChecks"]) == (3, []), name
    for name in ("lesson-first", "lesson-retired"):
        assert (got[name]["ownChecks"], got[name]["wrongChecks"]) == (0, []), name
    last = got["last-lesson-retired"]
    assert (last["ownChecks"], last["wrongChecks"]) == (2, []), "the others did not move: they stay"


@pytest.mark.browser
def test_version_1_check_results_of_moved_lessons_are_dropped(pure: Page) -> None:
    """Version 1 check results written by hand in its format (lesson index, 6-bit id hash, best,
    attempts): lessons p, q, r where p's hash char is q's. A lesson inserted first moves q's result
    onto p, whose hash passes by chance; r's does not: the lessons moved, so neither counts."""
    got = pure.evaluate(
        """() => {
          const D = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const num = (v, w) => w === 1 ? D[v % 64] : D[Math.floor(v / 64) % 64] + D[v % 64];
          const char = (id) => D[CourseSCORM.hash(id) % 64];
          let i = 1;
          while (char('lesson-' + i) !== char('lesson-0')) i++;
          const lessons = ['lesson-0', 'lesson-' + i, 'lesson-r'];
          const items = ['a', 'b'];
          const text = '1.0.' + num(CourseSCORM.hash(items.join('\\n')) % 4096, 2) + '.' +
            num(1, 2) + char(lessons[1]) + num(90, 2) + num(2, 1) +
            num(2, 2) + char(lessons[2]) + num(60, 2) + num(1, 1) + '..';
          return {
            same: CourseSCORM.decode(text, { items, lessons }).checks,
            moved: CourseSCORM.decode(text, { items, lessons: ['lesson-new'].concat(lessons) }).checks,
            lessons,
          };
        }"""
    )
    q, r = got["lessons"][1], got["lessons"][2]
    assert got["same"] == {q: {"best": 90, "n": 2}, r: {"best": 60, "n": 1}}
    assert got["moved"] == {}, "p must not get q's result"


AMBIGUOUS = """(kind) => {
  const key = kind === 'item' ? CourseSCORM.itemKey : CourseSCORM.lessonKey;
  const first = new Map();
  let a = null, b = null;
  for (let i = 0; a === null; i++) {
    const id = kind + '-' + i.toString(36), k = key(id);
    if (first.has(k)) { a = first.get(k); b = id; } else first.set(k, id);
  }
  const card = FSRS.review(FSRS.newCard(1e12), 3, 1e12).card;
  const progress = { items: {}, checks: {} };
  const course = { items: ['c'], lessons: ['z'] };
  progress.items.c = card;
  progress.checks.z = { best: 70, n: 1 };
  const sides = kind === 'item' ? course.items : course.lessons;
  const put = (id) => { if (kind === 'item') progress.items[id] = card; else progress.checks[id] = { best: 90, n: 2 }; };
  put(a); put(b);
  const both = { items: course.items.slice(), lessons: course.lessons.slice() };
  (kind === 'item' ? both.items : both.lessons).push(a, b);
  const onlyA = { items: course.items.slice(), lessons: course.lessons.slice() };
  (kind === 'item' ? onlyA.items : onlyA.lessons).push(a);
  const shared = CourseSCORM.decode(CourseSCORM.encode(progress, both), both);
  const inserted = CourseSCORM.decode(CourseSCORM.encode(progress, onlyA), both);
  const names = (back) => Object.keys(kind === 'item' ? back.items : back.checks).sort();
  return { equal: key(a) === key(b) && a !== b, shared: names(shared), sharedSeen: shared.seen.slice().sort(),
    inserted: names(inserted), a, b, sides: sides.length };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["item", "lesson"])
def test_ids_sharing_a_key_get_no_record(pure: Page, kind: str) -> None:
    """Two current ids with the same key (found by brute force): neither gets the record, whether
    the course that wrote it had both (encode leaves them to the bitmap) or only one (an update
    added the other, which must not take its schedule or check result)."""
    got = pure.evaluate(AMBIGUOUS, kind)
    assert got["equal"]
    other = "c" if kind == "item" else "z"
    assert got["shared"] == [other]
    assert got["inserted"] == [other], "the inserted twin takes nothing, nor does its original"
    if kind == "item":
        assert got["sharedSeen"] == sorted([got["a"], got["b"]]), "both stay in the bitmap"


@pytest.mark.browser
def test_resume_hands_the_lms_copy_over_and_keeps_the_best_check(pure: Page) -> None:
    """What the LMS adds: its full records (Course.merge then keeps the later review), a studied
    card for an item known only as studied and not reviewed here; per check the best of both."""
    got = pure.evaluate(
        """() => {
          const old = { due: 5, last_review: 1, state: 2 }, recent = { due: 9, last_review: 7, state: 2 };
          const local = { a: recent, b: old };
          const remote = { items: { b: recent }, seen: ['a', 'c'], checks: {} };
          return {
            items: CourseSCORM.resumeItems(local, remote, 100),
            checks: CourseCheck.merge({ x: { best: 60, n: 3 }, y: { best: 50, n: 1 }, w: { best: 90, n: 1 } },
                                      { x: { best: 80, n: 1 }, z: { best: 10, n: 2 }, w: { best: 30, n: 4 } }),
          };
        }"""
    )
    assert sorted(got["items"]) == ["b", "c"], "a, reviewed here, is not overwritten by 'studied'"
    assert got["items"]["b"]["last_review"] == 7
    assert got["items"]["c"]["due"] == 100
    assert got["items"]["c"]["state"] == 2
    assert got["checks"] == {
        "x": {"best": 80, "n": 3},
        "y": {"best": 50, "n": 1},
        "z": {"best": 10, "n": 2},
        "w": {"best": 90, "n": 4},
    }


STATUS = [
    ({"graded": [], "checks": {}, "studied": 3, "total": 5}, "incomplete", None),
    ({"graded": [], "checks": {}, "studied": 5, "total": 5}, "completed", None),
    # no score before every check is taken: an LMS may pass any score above the mastery score
    (
        {"graded": ["a", "b"], "checks": {"a": {"best": 100}}, "studied": 0, "total": 5},
        "incomplete",
        None,
    ),
    (
        {
            "graded": ["a", "b"],
            "checks": {"a": {"best": 100}, "b": {"best": 58}},
            "studied": 0,
            "total": 5,
        },
        "failed",
        79,
    ),
    (
        {
            "graded": ["a", "b"],
            "checks": {"a": {"best": 100}, "b": {"best": 60}},
            "studied": 0,
            "total": 5,
        },
        "passed",
        80,
    ),
    # the status follows the score the LMS records: 79.5 is reported as 80, which passes
    (
        {
            "graded": ["a", "b"],
            "checks": {"a": {"best": 100}, "b": {"best": 59}},
            "studied": 0,
            "total": 5,
        },
        "passed",
        80,
    ),
    (
        {
            "graded": ["a"],
            "checks": {"a": {"best": 0}, "z": {"best": 100}},
            "studied": 0,
            "total": 5,
        },
        "failed",
        0,
    ),
]


@pytest.mark.browser
@pytest.mark.parametrize(("given", "status", "raw"), STATUS)
def test_status_and_score(pure: Page, given: dict[str, Any], status: str, raw: int | None) -> None:
    got = pure.evaluate("(o) => CourseSCORM.status(o)", {**given, "mastery": 80})
    assert got == {"status": status, "raw": raw}


# (the status and score computed, what the LMS recorded before the session) -> what is reported
KEEP_DONE = [
    # nothing or nothing finished recorded: the computed result as it is
    (("incomplete", None), ("not attempted", None), ("incomplete", None)),
    (("incomplete", 40), ("incomplete", 100), ("incomplete", 40)),
    (("incomplete", None), ("failed", 50), ("incomplete", None)),
    (("failed", 60), ("failed", 70), ("failed", 60)),
    # a finished course stays finished, at no lower a score
    (("incomplete", None), ("passed", 90), ("passed", 90)),
    (("incomplete", 50), ("passed", 90), ("passed", 90)),
    (("failed", 70), ("passed", 85), ("passed", 85)),
    (("incomplete", None), ("completed", None), ("completed", None)),
    (("incomplete", 100), ("completed", None), ("completed", 100)),
    (("passed", 95), ("passed", 90), ("passed", 95)),
    (("passed", 82), ("passed", 90), ("passed", 90)),
    (("completed", None), ("passed", 90), ("completed", 90)),
    (("passed", 100), ("completed", None), ("passed", 100)),
]


@pytest.mark.browser
@pytest.mark.parametrize(("computed", "recorded", "reported"), KEEP_DONE)
def test_a_finished_course_is_never_reported_unfinished(
    pure: Page,
    computed: tuple[str, int | None],
    recorded: tuple[str, int | None],
    reported: tuple[str, int | None],
) -> None:
    """keepDone: the LMS's record of a passed or completed course (status, score) as the session
    found it is never lowered; anything else is reported as computed."""
    got = pure.evaluate(
        "([c, r]) => CourseSCORM.keepDone({status: c[0], raw: c[1]},"
        " {status: r[0], raw: r[1] === null ? NaN : r[1]})",
        [list(computed), list(recorded)],
    )
    assert (got["status"], got["raw"]) == reported


@pytest.mark.browser
@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0000:00:00.00"),
        (1234, "0000:00:01.23"),
        (61_005, "0000:01:01.00"),
        (3_600_000 * 25 + 59_999, "0025:00:59.99"),
        (3_600_000 * 12_000, "9999:59:59.99"),
    ],
)
def test_session_time(pure: Page, ms: int, text: str) -> None:
    assert pure.evaluate("(ms) => CourseSCORM.sessionTime(ms)", ms) == text


@pytest.mark.browser
def test_api_discovery(pure: Page) -> None:
    got = pure.evaluate(
        """() => {
          const api = { LMSInitialize() { return 'true'; } };
          const chain = (depth, top) => { let w = top; for (let i = 0; i < depth; i++) w = { parent: w }; return w; };
          const top = { API: api }; top.parent = top;
          const blocked = { get API() { throw new DOMException('cross-origin', 'SecurityError'); } };
          blocked.parent = blocked;
          const opener = { API: api }; opener.parent = opener;
          const none = {}; none.parent = none;
          const viaOpener = { parent: none, opener };
          return {
            self: CourseSCORM.findAPI(top) === api,
            seven: CourseSCORM.findAPI(chain(7, top)) === api,
            eight: CourseSCORM.findAPI(chain(8, top)),
            blocked: CourseSCORM.findAPI({ parent: blocked }),
            opener: CourseSCORM.findAPI(viaOpener) === api,
            none: CourseSCORM.findAPI(none),
          };
        }"""
    )
    assert got == {
        "self": True,
        "seven": True,
        "eight": None,
        "blocked": None,
        "opener": True,
        "none": None,
    }


@pytest.mark.browser
def test_check_questions(pure: Page) -> None:
    got = pure.evaluate(
        """() => {
          const data = JSON.parse(document.getElementById('course-data').textContent);
          const records = CourseCheck.records(data.items, document);
          const one = CourseCheck.draw(records, 'six-skills', 1, Course.fold);
          const again = CourseCheck.draw(records, 'six-skills', 1, Course.fold);
          const others = [2, 3, 4, 5, 6].map(n => JSON.stringify(CourseCheck.draw(records, 'six-skills', n, Course.fold)));
          const answers = records.filter(r => r.lesson === 'six-skills').map(r => r.answer);
          return {
            same: JSON.stringify(one) === JSON.stringify(again),
            differ: others.some(o => o !== JSON.stringify(one)),
            ids: one.map(q => q.id).sort(),
            types: Object.fromEntries(one.map(q => [q.id, q.type])),
            choices: one.filter(q => q.type === 'choice').map(q => ({
              correct: q.options.filter(o => o.correct).map(o => o.text),
              answer: q.answer,
              fromLesson: q.options.every(o => answers.includes(o.text)),
              distinct: new Set(q.options.map(o => o.text)).size === q.options.length,
            })),
            typed: Object.fromEntries(one.filter(q => q.type === 'typed').map(q => [q.id, q.answer])),
            graded: CourseCheck.gradedLessons(records, ['six-skills', 'career', 'none'], Course.fold),
          };
        }"""
    )
    assert got["same"], "the same attempt draws the same questions"
    assert got["differ"], "another attempt draws others"
    assert got["ids"] == sorted(["el-empathy", "el-listen", "el-key:c1", "el-key:c2", "el-apology"])
    assert got["types"]["el-key:c1"] == "typed"
    assert got["types"]["el-empathy"] == "choice"
    assert got["typed"] == {"el-key:c1": "το κλειδί", "el-key:c2": "την εξυπηρέτηση"}
    for choice in got["choices"]:
        assert choice["correct"] == [choice["answer"]]
        assert choice["fromLesson"]
        assert choice["distinct"]
    assert got["graded"] == ["six-skills", "career"]


@pytest.mark.browser
@pytest.mark.parametrize(
    ("answer", "typed", "correct"),
    [
        ("το κλειδί", "ΤΟ ΚΛΕΙΔΙ", True),
        ("το κλειδί", "  το   κλειδι. ", True),
        ("Ενεργητική ακρόαση", "ενεργητικη ακροαση!", True),
        ("Ο πελάτης", "ο πελατης;", True),
        ("τελικός", "τελικοσ", True),
        ("Łódź", "lodz", True),
        ("pieniądze", "pieniadze", True),
        ("ģimene, ķēde", "gimene kede", True),
        ("team leader", "team-leader", True),
        ("το κλειδί", "κλειδί", False),
        ("agent", "agents", False),
        ("agent", "", False),
    ],
)
def test_typed_answers_are_graded_leniently(
    pure: Page, answer: str, typed: str, correct: bool
) -> None:
    got = pure.evaluate(
        "([answer, typed]) => CourseCheck.grade({ type: 'typed', answer }, typed, Course.fold)",
        [answer, typed],
    )
    assert got is correct


@pytest.mark.browser
def test_check_keeps_the_best_result(pure: Page) -> None:
    got = pure.evaluate(
        """() => {
          let p = CourseCheck.record(null, 60);
          p = CourseCheck.record(p, 40);
          const q = { type: 'choice', options: [{ correct: false }, { correct: true }] };
          return { p, right: CourseCheck.grade(q, 1, Course.fold), wrong: CourseCheck.grade(q, 0, Course.fold),
            none: CourseCheck.grade(q, null, Course.fold),
            score: CourseCheck.score([q, q, q], [1, 0, 1], Course.fold) };
        }"""
    )
    assert got["p"] == {"best": 60, "n": 2}
    assert got["right"] is True
    assert got["wrong"] is False
    assert got["none"] is False
    assert got["score"] == {"correct": 2, "total": 3, "percent": 67}


@pytest.mark.browser
@pytest.mark.parametrize(
    ("folder", "lang"),
    [("sco", "pl"), ("sco", "lv"), ("bundled", "el"), ("bundled", "pl"), ("bundled", "lv")],
)
def test_every_package_passes_in_the_runtime(
    playwright_chromium: Any, server: str, folder: str, lang: str
) -> None:
    """Each language's zip, of the fixture and of the bundled course: every check taken with
    every answer right passes; the calls are those of a well-behaved SCO."""
    lms = Session(playwright_chromium, server, lang, folder)
    assert len(lms.calls("LMSInitialize")) == 1
    assert lms.last("cmi.core.lesson_status") == "incomplete"
    graded = lms.frame_eval(
        "[...document.querySelectorAll('[data-check]')].map(s => s.dataset.check)"
    )
    lessons = lms.frame_eval(
        "JSON.parse(document.getElementById('course-data').textContent).lessons.length"
    )
    assert len(graded) == lessons, "every lesson of these courses has a check"
    for lesson in graded:
        assert take_check(lms, lesson) == 100
    assert lms.last("cmi.core.score.raw") == "100"
    assert lms.last("cmi.core.lesson_status") == "passed"
    leave_and_check(lms)


@pytest.mark.browser
def test_the_check_by_keyboard_and_screen_reader(playwright_chromium: Any, built: Path) -> None:
    """Tab to the check, Enter starts it and focuses the first answer, Enter in a text field
    submits, the result (a status) takes the focus; axe finds nothing serious on the way."""
    from axe_playwright_python import __file__ as axe_module

    axe = (Path(axe_module).parent / "axe.min.js").read_text("utf-8")
    context = playwright_chromium.new_context(bypass_csp=True)
    problems: list[str] = []
    try:
        page = context.new_page()
        page.goto((built / "site" / "el" / "index.html").as_uri() + "#lesson/career")
        start = page.locator('[data-check="career"] > button')
        start.focus()
        page.keyboard.press("Enter")
        focused = page.evaluate("document.activeElement.type")
        assert focused == "text", "the first answer has the focus"
        answers = page.evaluate(
            """() => { const data = JSON.parse(document.getElementById('course-data').textContent);
            return CourseCheck.draw(CourseCheck.records(data.items, document), 'career', 1, Course.fold)
              .map(q => q.answer); }"""
        )
        page.keyboard.type(answers[0])
        page.keyboard.press("Tab")
        page.keyboard.type("wrong")
        problems += _axe(page, axe, "in progress")
        page.keyboard.press("Enter")
        result = page.locator('[data-check="career"] .check-result')
        assert result.get_attribute("role") == "status"
        assert page.evaluate("document.activeElement.classList.contains('check-result')")
        assert "50" in result.inner_text()
        labels = page.locator('[data-check="career"] fieldset').evaluate_all(
            "fs => fs.map(f => f.querySelector('legend').textContent + '|' + "
            "document.getElementById(f.getAttribute('aria-describedby')).textContent)"
        )
        assert labels[0].startswith("Ερώτηση 1 από 2|"), labels
        problems += _axe(page, axe, "graded")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def _axe(page: Any, axe: str, when: str) -> list[str]:
    page.add_script_tag(content=axe)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{when}: {v['id']} {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.browser
def test_the_lms_mastery_score_overrides_the_course(playwright_chromium: Any, server: str) -> None:
    """An LMS that sets cmi.student_data.mastery_score (50 here) decides the pass mark."""
    lms = Session(playwright_chromium, server, resume={"student_data": {"mastery_score": "50"}})
    take_check(lms, "six-skills", wrong=5)
    take_check(lms, "career", wrong=1)
    assert lms.last("cmi.core.score.raw") == "25"
    assert lms.last("cmi.core.lesson_status") == "failed"
    take_check(lms, "six-skills", wrong=3)
    assert lms.last("cmi.core.score.raw") == "45"
    assert lms.last("cmi.core.lesson_status") == "failed"
    take_check(lms, "six-skills", wrong=2)
    assert lms.last("cmi.core.score.raw") == "55"
    assert lms.last("cmi.core.lesson_status") == "passed", (
        "55 passes the LMS's 50, not the course's 80"
    )
    lms.leave()
    lms.close()


@pytest.mark.browser
@pytest.mark.parametrize("recorded", ["passed", "failed"])
def test_a_passed_learner_stays_passed_without_the_suspend_data(
    playwright_chromium: Any, server: str, recorded: str
) -> None:
    """The LMS records the course passed at 90 but hands over no suspend data (an LMS may drop
    run-time data after an exit that was not "suspend"; a package update that adds a lesson does
    the same to the status), on a computer without the browser's copy: the learner stays passed
    at 90, also after a check worse than that. A failed record is not kept: not finished."""
    resume = {"core": {"lesson_status": recorded, "score": {"raw": "90"}, "entry": ""}}
    lms = Session(playwright_chromium, server, resume=resume)
    take_check(lms, "career", wrong=1)  # 50 %: one of the two checks taken
    review_one(lms)
    if recorded == "passed":
        assert lms.sets("cmi.core.lesson_status") == ["passed"]
        assert lms.sets("cmi.core.score.raw") == ["90"]
    else:
        assert lms.sets("cmi.core.lesson_status") == ["incomplete"]
        assert lms.sets("cmi.core.score.raw") == [""], "the unfinished course's score blanked"
    assert lms.sets("cmi.core.exit") == ["suspend"]
    leave_and_check(lms)


@pytest.mark.browser
def test_an_lms_that_passes_by_score_passes_only_a_finished_course(
    playwright_chromium: Any, server: str
) -> None:
    """SCORM 1.2 lets an LMS turn a score at or above the mastery score into "passed" when the
    learner leaves (Moodle's player does; scorm-again's mastery_override is the same rule). One
    check of two taken at 100 %: the LMS records incomplete, not passed; the second taken in
    the next session: passed."""
    settings = {"mastery_override": True}
    resume = {"core": {"credit": "credit"}, "student_data": {"mastery_score": "80"}}
    lms = Session(playwright_chromium, server, settings=settings, resume=resume)
    take_check(lms, "six-skills")
    lms.leave()
    assert len(lms.calls("LMSFinish")) == 1
    assert lms.page.evaluate("[lms.cmi.core.lesson_status, lms.cmi.core.score.raw]") == [
        "incomplete",
        "",
    ]
    resume["suspend_data"] = lms.page.evaluate("lms.cmi.suspend_data")
    resume["core"].update(lesson_status="incomplete", entry="resume")
    lms.close()
    again = Session(playwright_chromium, server, settings=settings, resume=resume)
    take_check(again, "career")
    again.leave()
    assert again.page.evaluate("[lms.cmi.core.lesson_status, lms.cmi.core.score.raw]") == [
        "passed",
        "100",
    ]
    again.close()


# -- the check in the plain course, through course.js's hooks (both browsers) ---------------------

ANSWERS = """(lesson) => {
  const data = JSON.parse(document.getElementById('course-data').textContent);
  const stored = JSON.parse(localStorage.getItem(data.storageKey) || '{}');
  const attempt = ((((stored.ext || {}).checks || {})[lesson] || {}).n || 0) + 1;
  return CourseCheck.draw(CourseCheck.records(data.items, document), lesson, attempt, Course.fold)
    .map(q => q.answer);
}"""


def test_check_results_live_in_the_progress_extension(
    browser: Browser, site: Path, tmp_path: Path
) -> None:
    """A check's result is kept through Course.extension (state.ext.checks, no field of its own),
    so a reset of the cards keeps it, the progress export carries it and an import merges it
    (the best of both), and a stored value that is not valid is ignored, never shown or trusted."""
    with watched(browser, site) as page:
        page.goto(url(site, "el/index.html#lesson/career"))
        page.wait_for("() => document.querySelector('[data-check=\"career\"] > button')")
        assert (
            page.text('[data-check="career"] .check-best') == "Δεν έχεις κάνει ακόμη αυτό το τεστ."
        )
        answers = page.evaluate(ANSWERS, "career")
        page.click('[data-check="career"] > button')
        for i, answer in enumerate(answers):
            page.fill(f'[data-check="career"] .check-question:nth-child({i + 1}) input', answer)
        page.click('[data-check="career"] button[type=submit]')
        page.wait_for(
            "() => document.querySelector('[data-check=\"career\"] .check-result').textContent"
        )
        state = stored(page)
        assert state["ext"] == {"checks": {"career": {"best": 100, "n": 1}}}
        assert "checks" not in state
        assert "100" in page.text('[data-check="career"] .check-best')

        page.goto(url(site, "el/index.html#review"))
        capture_downloads(page)
        page.click("[data-export]")
        _, exported = last_download(page)
        assert json.loads(exported)["ext"] == {"checks": {"career": {"best": 100, "n": 1}}}
        saved = tmp_path / "progress.json"
        saved.write_text(exported, encoding="utf-8")
        page.click("[data-reset]")  # the confirmation dialog is accepted
        page.wait_for("() => document.querySelector('[data-tools-status]').textContent !== ''")
        assert stored(page)["ext"]["checks"]["career"] == {"best": 100, "n": 1}

        state = stored(page)
        state["ext"]["checks"] = {
            "career": {"best": "all", "n": 1},
            "six-skills": {"best": 40, "n": 2},
        }
        page.set_storage(STORAGE_KEY, json.dumps(state))
        page.goto(url(site, "el/index.html#lesson/career"))
        page.reload()
        page.wait_for("() => document.querySelector('[data-check=\"career\"] .check-best')")
        assert (
            page.text('[data-check="career"] .check-best') == "Δεν έχεις κάνει ακόμη αυτό το τεστ."
        )
        assert "40" in page.text('[data-check="six-skills"] .check-best')

        page.goto(url(site, "el/index.html#review"))
        page.set_files("[data-import-file]", saved)
        page.wait_for(
            "() => document.querySelector('[data-tools-status]').textContent.includes('Εισήχθη')"
        )
        assert stored(page)["ext"]["checks"] == {
            "career": {"best": 100, "n": 1},
            "six-skills": {"best": 40, "n": 2},
        }
        page.goto(url(site, "el/index.html#lesson/career"))
        assert "100" in page.text('[data-check="career"] .check-best')


# each question of the lesson's first attempt: its type, its answer, the right option's index
QUESTIONS = """(lesson) => CourseCheck.draw(CourseCheck.records(Course.data.items, document), lesson,
  1, Course.fold).map(q => [q.type, q.answer, q.options ? q.options.findIndex(o => o.correct) : -1])"""

# the index of the check's question holding the focus (-1: none)
FOCUSED_QUESTION = """(lesson) => [...document.querySelectorAll(
  `[data-check="${lesson}"] .check-question`)].findIndex(q => q.contains(document.activeElement))"""


def test_enter_sends_the_check_only_once_every_question_has_an_answer(
    browser: Browser, site: Path
) -> None:
    """A learner presses Enter after typing an answer or choosing an option: the browser would
    send the whole form (0 % for the questions not reached yet, an attempt used up). Enter moves
    the focus on to the next question without an answer, going round (an empty field is none);
    the check is sent by Enter once every question has one, or by its button."""
    lesson = "six-skills"
    check = f'[data-check="{lesson}"]'
    with watched(browser, site) as page:
        page.goto(url(site, f"el/index.html#lesson/{lesson}"))
        page.wait_for(f"() => document.querySelector('{check} > button')")
        questions = page.evaluate(QUESTIONS, lesson)
        assert [q[0] for q in questions] == ["typed", "choice", "typed", "choice", "choice"]
        page.evaluate(f"() => document.querySelector('{check} > button').focus()")
        page.press("Enter")

        def answer(i: int) -> None:
            kind, text, right = questions[i]
            if kind == "typed":
                page.type(text)
            elif right == 0:
                page.press("Space")
            else:
                for _ in range(right):
                    page.press("ArrowDown")  # each step chooses the option it lands on

        # question 3 (typed) is left empty the first time round
        for i, then in ((0, 1), (1, 2), (2, 3), (3, 4), (4, 2)):
            assert page.evaluate(FOCUSED_QUESTION, lesson) == i
            if i != 2 or then != 3:
                answer(i)
            page.press("Enter")
            assert page.evaluate(FOCUSED_QUESTION, lesson) == then
            assert page.text(f"{check} .check-result") == ""
            assert stored(page) is None, "nothing graded, nothing kept"
        answer(2)
        page.press("Enter")
        page.wait_for(f"() => document.querySelector('{check} .check-result').textContent")
        assert "100" in page.text(f"{check} .check-result")
        assert stored(page)["ext"]["checks"][lesson] == {"best": 100, "n": 1}


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ({"a": {"best": 80, "n": 2}}, {"a": {"best": 80, "n": 2}}),
        (
            {"a": {"best": 0, "n": 1}, "b": {"best": 100, "n": 9}},
            {"a": {"best": 0, "n": 1}, "b": {"best": 100, "n": 9}},
        ),
        ({"a": {"best": 101, "n": 1}}, {}),
        ({"a": {"best": -1, "n": 1}}, {}),
        ({"a": {"best": 50.5, "n": 1}}, {}),
        ({"a": {"best": "80", "n": 1}}, {}),
        ({"a": {"best": 80, "n": 0}}, {}),
        ({"a": {"best": 80}}, {}),
        ({"a": None, "b": {"best": 70, "n": 1}}, {"b": {"best": 70, "n": 1}}),
        ([{"best": 80, "n": 1}], {}),
        ("checks", {}),
        (None, {}),
    ],
)
def test_stored_check_results_are_validated(pure: Page, value: Any, kept: Any) -> None:
    assert pure.evaluate("(v) => CourseCheck.clean(v)", value) == kept
