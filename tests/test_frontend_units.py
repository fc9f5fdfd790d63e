"""Table tests of the course page's pure modules (search.js, progress.js, queue.js), run inside
Chromium and Firefox through page.evaluate on a built course page: the same code the learner runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browsers import Browser, Page
from sitekit import url

pytestmark = pytest.mark.browser

NOW = 1_795_780_800_000  # 2026-11-27 12:00 UTC
MIN = 60_000
DAY = 86_400_000


@pytest.fixture(scope="module")
def page(browser: Browser, site: Path) -> Iterator[Page]:
    """One course page per browser for every table below."""
    tab = browser.new_page()
    tab.goto(url(site, "el/index.html"))
    tab.wait_for("() => typeof window.CourseQueue === 'object'")
    try:
        yield tab
    finally:
        tab.close()


def call(page: Page, function: str, *args: Any) -> Any:
    """`function(...args)` in the page, e.g. call(page, "CourseSearch.fold", "Ά")."""
    return page.evaluate(f"(args) => {function}(...args)", list(args))


# -- search.js ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ΕΠΙΚΟΙΝΩΝΊΑΣ", "επικοινωνιασ"),
        ("Ενσυναίσθηση", "ενσυναισθηση"),
        ("ΐ ΰ ς Σ", "ι υ σ σ"),
        ("Łatwość ŻÓŁW ąćęńśź", "latwosc zolw acensz"),
        ("Ķīmija āčēģīķļņšūž", "kimija acegiklnsuz"),
        ("α\u0301", "α"),
        ("Straße", "strasse"),
    ],
)
def test_fold(page: Page, text: str, folded: str) -> None:
    assert call(page, "CourseSearch.fold", text) == folded


def test_fold_indexed_maps_back_to_the_original(page: Page) -> None:
    got = call(page, "CourseSearch.foldIndexed", "Ąα\u0301ß")
    assert got == {"text": "aαss", "map": [0, 1, 3, 3, 4]}


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("Κλειδί & ακρόαση", ["κλειδι", "ακροαση"]),
        ("  ŁÓDŹ, łódź! ", ["lodz", "lodz"]),
        ("«Γεια»;", ["γεια"]),
        ("a+b", ["a", "b"]),
        ("„Dzień dobry”", ["dzien", "dobry"]),
        ("", []),
        ("&&& +", []),
    ],
)
def test_terms(page: Page, query: str, terms: list[str]) -> None:
    assert call(page, "CourseSearch.terms", query) == terms


@pytest.mark.parametrize(
    ("hash_", "query"),
    [
        ("#search?q=a%26b", "a&b"),
        ("#search?q=a%2Bb", "a+b"),
        ("#search?q=a+b", "a+b"),
        ("#search?q=a&b", "a&b"),
        ("#search?q=%CE%BA%CE%BB%CE%B5%CE%B9%CE%B4%CE%AF", "κλειδί"),
        ("#search?q=100%", "100%"),
        ("#search?q=", ""),
        ("#search", ""),
        ("search?q=x", "x"),
        ("#review", None),
        ("#searching", None),
        ("", None),
    ],
)
def test_query_from_hash(page: Page, hash_: str, query: str | None) -> None:
    assert call(page, "CourseSearch.queryFromHash", hash_) == query


@pytest.mark.parametrize("query", ["a&b", "c++", "50% off", "α=β#γ?δ", "  spaces  ", "ś/ł\\"])
def test_search_hash_round_trip(page: Page, query: str) -> None:
    hash_ = call(page, "CourseSearch.hashFor", query)
    assert hash_.startswith("#search?q=")
    assert not set("&+# ") & set(hash_[len("#search?q=") :])
    assert call(page, "CourseSearch.queryFromHash", hash_) == query


RECORDS = [
    {"href": "a", "title": "Ενσυναίσθηση", "text": "Κατανόηση του πελάτη", "lesson": "L"},
    {"href": "b", "title": "Ακρόαση", "text": "Ενσυναίσθηση και ακρόαση", "lesson": "L"},
    {"href": "c", "title": "Άλλο", "text": "Τίποτα σχετικό", "lesson": "L"},
    {"href": "d", "title": "Ακρόαση και ενσυναίσθηση", "text": "", "lesson": "L"},
]


@pytest.mark.parametrize(
    ("query", "hrefs"),
    [
        ("ενσυναισθηση", ["a", "d", "b"]),  # title matches first, then course order
        ("ακροαση ενσυναισθηση", ["d", "b"]),  # every term must be found
        ("ΑΚΡΟΑΣΗ", ["b", "d"]),
        ("πελατη", ["a"]),
        ("zzz", []),
        ("", []),
    ],
)
def test_match(page: Page, query: str, hrefs: list[str]) -> None:
    got = page.evaluate(
        "([records, query]) => CourseSearch.match(CourseSearch.prepare(records),"
        " CourseSearch.terms(query)).map(r => r.r.href)",
        [RECORDS, query],
    )
    assert got == hrefs


@pytest.mark.parametrize(
    ("text", "terms", "start", "end", "ranges"),
    [
        ("Ζωή και ΖΩΗ", ["ζωη"], 0, 11, [[0, 3]]),  # the first match of a term
        ("Ζωή και ΖΩΗ", ["ζωη"], 4, 11, [[8, 11]]),  # ... at or after `from`
        ("abc", ["ab", "bc"], 0, 3, [[0, 2], [2, 3]]),  # never overlapping
        ("abcdef", ["cdef"], 0, 4, [[2, 4]]),  # clipped to `to`
        ("α\u0301βγ", ["αβ"], 0, 4, [[0, 3]]),  # a combining accent stays inside
        ("Straße", ["ss"], 0, 6, [[4, 5]]),
        ("abc", ["x"], 0, 3, []),
    ],
)
def test_ranges(
    page: Page, text: str, terms: list[str], start: int, end: int, ranges: list[list[int]]
) -> None:
    got = page.evaluate(
        "([text, terms, from, to]) => CourseSearch.ranges(CourseSearch.foldIndexed(text), terms,"
        " from, to)",
        [text, terms, start, end],
    )
    assert got == ranges


@pytest.mark.parametrize(
    ("first", "length", "window"),
    [(100, 500, [40, 240]), (10, 500, [0, 150]), (450, 500, [390, 500]), (None, 50, [0, 50])],
)
def test_snippet(page: Page, first: int | None, length: int, window: list[int]) -> None:
    text = "x" * length if first is None else "x" * first + "needle" + "x" * (length - first - 6)
    got = page.evaluate(
        "(text) => { const [rec] = CourseSearch.prepare([{title: '', text}]);"
        " const s = CourseSearch.snippet(rec, ['needle']); return [s.from, s.to]; }",
        text,
    )
    assert got == window


# -- progress.js ----------------------------------------------------------------------------------


def card(**fields: Any) -> dict[str, Any]:
    """A card in the Review state, last reviewed three days before NOW."""
    base = {"due": NOW, "stability": 3.2, "difficulty": 5.1, "state": 2, "step": None,
            "last_review": NOW - 3 * DAY, "reps": 2, "lapses": 0}  # fmt: skip
    return {**base, **fields}


FRESH = {"due": NOW, "stability": None, "difficulty": None, "state": 0, "step": 0,
         "last_review": None, "reps": 0, "lapses": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (card(), True),
        (FRESH, True),
        (card(state=1, step=1), True),
        (card(state=3, step=0, lapses=1), True),
        ({**card(), "extra": 1}, True),
        (card(state=99), False),
        (card(state="2"), False),
        (card(state="1", step=0), False),  # a string state would throw in FSRS.review
        (card(due="soon"), False),
        (card(due=None), False),
        (card(due=-1), False),
        (card(due=1e300), False),
        (card(stability=None), False),
        (card(stability=-1), False),
        (card(difficulty=11), False),
        (card(difficulty=None, stability=None), False),  # reviewed, but no memory state
        (card(last_review=None), False),
        (card(state=1, step=2), False),
        (card(state=3, step=1), False),
        (card(state=2, step=0), False),
        (card(reps=-1), False),
        (card(reps=1.5), False),
        ({k: v for k, v in card().items() if k != "lapses"}, False),
        ([], False),
        (None, False),
        ("card", False),
    ],
)
def test_valid_card(page: Page, value: Any, valid: bool) -> None:
    got = call(page, "CourseProgress.validCard", value)
    assert (got is not None) is valid
    if valid:
        assert got == {k: v for k, v in value.items() if k != "extra"}


def test_every_card_fsrs_makes_is_valid(page: Page) -> None:
    bad = page.evaluate(
        """() => { const bad = []; let seed = 7;
          const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
          for (let s = 0; s < 200; s++) {
            let c = FSRS.newCard(0), t = 0;
            for (let i = 0; i < 20; i++) {
              t = Math.max(t, c.due) + Math.floor(rand() * 5e8);
              c = FSRS.review(c, 1 + Math.floor(rand() * 4), t).card;
              if (!CourseProgress.validCard(c)) { bad.push(c); break; }
            }
          }
          return bad; }"""
    )
    assert bad == []


def state(**fields: Any) -> dict[str, Any]:
    return {"v": 1, "items": {}, "day": "", "newToday": 0, "days": {}, "ext": {}, **fields}


@pytest.mark.parametrize(
    ("text", "items", "dropped", "damaged"),
    [
        (None, [], 0, False),
        ('{"v":1,"items":{}}', [], 0, False),
        ("{not json", [], 0, True),
        ("null", [], 0, True),
        ('{"v":2,"items":{}}', [], 0, True),
        ('{"v":1,"items":[]}', [], 0, True),
        ('{"v":1,"items":{"a":' + str(card()).replace("'", '"').replace("None", "null") + "}}",
         ["a"], 0, False),
        ('{"v":1,"items":{"a":{"due":"x"},"b":' + str(card()).replace("'", '"').replace("None", "null")
         + "}}", ["b"], 1, True),
        ('{"v":1,"items":{},"days":{"2026-11-27":3,"yesterday":1,"2026-11-26":-1}}', [], 2, True),
        ('{"v":1,"items":{},"day":"someday","newToday":3}', [], 1, True),
    ],
)  # fmt: skip
def test_parse_stored(
    page: Page, text: str | None, items: list[str], dropped: int, damaged: bool
) -> None:
    got = call(page, "CourseProgress.parseStored", text)
    assert sorted(got["state"]["items"]) == items
    assert (got["dropped"], got["damaged"]) == (dropped, damaged)


def export(**fields: Any) -> dict[str, Any]:
    return {"format": "course-progress", "version": 1, "course": "c", "lang": "el",
            "items": {"a": card()}, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "result"),
    [
        (export(), (["a"], 0)),
        (export(items={"a": card(), "b": card(state=9), "c": 5}), (["a"], 2)),
        (export(lang="pl"), "error"),
        (export(course="other"), "error"),
        (export(format="anki"), "error"),
        (export(items=[]), "error"),
        ([], "error"),
    ],
)
def test_parse_import(page: Page, value: Any, result: Any) -> None:
    got = page.evaluate(
        "(text) => { try { const r = CourseProgress.parseImport(text, 'c', 'el');"
        " return [Object.keys(r.items), r.dropped]; } catch (e) { return 'error'; } }",
        json.dumps(value),
    )
    assert got == (list(result) if isinstance(result, tuple) else result)


def test_parse_import_of_text_that_is_not_json(page: Page) -> None:
    assert (
        page.evaluate(
            "() => { try { CourseProgress.parseImport('{', 'c', 'el'); return 'ok'; }"
            " catch (e) { return 'error'; } }"
        )
        == "error"
    )


def today(page: Page, offset_days: int = 0) -> str:
    key: str = call(page, "CourseProgress.dayKey", NOW + offset_days * DAY)
    return key


@pytest.mark.parametrize(
    ("ours", "theirs", "taken", "unknown", "kept"),
    [
        ({}, {"a": card()}, 1, 0, "theirs"),
        ({"a": card(last_review=NOW - DAY)}, {"a": card(last_review=NOW - 2 * DAY)}, 0, 0, "ours"),
        (
            {"a": card(last_review=NOW - 2 * DAY)},
            {"a": card(last_review=NOW - DAY)},
            1,
            0,
            "theirs",
        ),
        ({}, {"a": card(), "zz": card()}, 1, 1, "theirs"),
    ],
)
def test_merge(
    page: Page, ours: dict[str, Any], theirs: dict[str, Any], taken: int, unknown: int, kept: str
) -> None:
    got = page.evaluate(
        "([ours, theirs, now]) => CourseProgress.merge(ours, {items: theirs, day: ''},"
        " id => id !== 'zz', now)",
        [state(items=ours), theirs, NOW],
    )
    assert (got["taken"], got["unknown"]) == (taken, unknown)
    assert "zz" not in got["state"]["items"]
    assert got["state"]["items"]["a"] == (theirs if kept == "theirs" else ours)["a"]


def test_merge_takes_the_larger_review_count_of_each_day(page: Page) -> None:
    mine = state(days={"2026-11-20": 5, "2026-11-21": 1})
    imported = {"items": {}, "day": "", "days": {"2026-11-21": 4, "2026-11-22": 2}}
    got = page.evaluate(
        "([s, i, now]) => CourseProgress.merge(s, i, () => true, now).state.days",
        [mine, imported, NOW],
    )
    assert got == {"2026-11-20": 5, "2026-11-21": 4, "2026-11-22": 2}


def test_parse_import_keeps_valid_days(page: Page) -> None:
    text = json.dumps(export(days={"2026-11-21": 4, "later": 2, "2026-11-22": -1}))
    got = page.evaluate("(text) => CourseProgress.parseImport(text, 'c', 'el').days", text)
    assert got == {"2026-11-21": 4}


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ((0, 5), (0, 12), 12),  # (days from NOW of the count, the count)
        ((0, 15), (0, 12), 15),
        ((-1, 15), (0, 12), 12),
        ((0, 15), (-1, 20), 15),  # yesterday's file does not count today
    ],
)
def test_merge_keeps_the_days_new_count(
    page: Page, ours: tuple[int, int], theirs: tuple[int, int], expected: int
) -> None:
    mine = state(day=today(page, ours[0]), newToday=ours[1])
    imported = {"items": {}, "day": today(page, theirs[0]), "newToday": theirs[1]}
    got = page.evaluate(
        "([s, i, now]) => CourseProgress.merge(s, i, () => true, now).state",
        [mine, imported, NOW],
    )
    assert call(page, "CourseProgress.newUsed", got, NOW) == expected


@pytest.mark.parametrize(
    ("day", "used", "left"), [(0, 5, 15), (0, 25, 0), (-1, 19, 20), (0, 0, 20)]
)
def test_new_left(page: Page, day: int, used: int, left: int) -> None:
    s = state(day=today(page, day), newToday=used)
    assert call(page, "CourseProgress.newLeft", s, NOW, 20) == left


def test_reset_keeps_the_days_count_and_features_data(page: Page) -> None:
    before = state(items={"a": card()}, day=today(page), newToday=7, ext={"check": 1},
                   days={today(page): 4})  # fmt: skip
    got = call(page, "CourseProgress.reset", before, NOW)
    assert got == state(day=today(page), newToday=7, ext={"check": 1})
    yesterday = call(page, "CourseProgress.reset", {**before, "day": today(page, -1)}, NOW)
    assert yesterday["newToday"] == 0


@pytest.mark.parametrize(
    ("local_time", "key"),
    [
        ((2026, 10, 27, 3, 59), "2026-11-26"),  # a learning day starts at 4 am, as in Anki
        ((2026, 10, 27, 4, 0), "2026-11-27"),
        ((2026, 10, 27, 23, 59), "2026-11-27"),
        ((2027, 0, 1, 2, 0), "2026-12-31"),
        ((2026, 2, 1, 4, 0), "2026-3-1"),
    ],
)
def test_day_key(page: Page, local_time: tuple[int, ...], key: str) -> None:
    got = page.evaluate(
        "(t) => CourseProgress.dayKey(new Date(t[0], t[1], t[2], t[3], t[4]).getTime())",
        list(local_time),
    )
    assert got == key


@pytest.mark.parametrize(
    ("items", "kept", "dropped"),
    [
        ({"a": card(), "b": card(state=7), "": card()}, ["a"], 2),
        ({}, [], 0),
        ([card()], [], 0),
        (None, [], 0),
    ],
)
def test_clean_items(page: Page, items: Any, kept: list[str], dropped: int) -> None:
    got = call(page, "CourseProgress.cleanItems", items)
    assert (sorted(got["items"]), got["dropped"]) == (kept, dropped)


def test_export_body_reads_back_as_an_import(page: Page) -> None:
    ext = {"checks": {"six": {"best": 80, "n": 2}}}
    s = state(items={"a": card()}, day=today(page), newToday=3, days={today(page): 5}, ext=ext)
    text = call(page, "CourseProgress.exportBody", s, "c", "el", NOW)
    body = json.loads(text)
    assert (body["format"], body["course"], body["lang"]) == ("course-progress", "c", "el")
    assert body["exported"] == "2026-11-27T12:00:00.000Z"
    back = call(page, "CourseProgress.parseImport", text, "c", "el")
    assert back == {"items": {"a": card()}, "dropped": 0, "day": today(page), "newToday": 3,
                    "days": {today(page): 5}, "ext": ext}  # fmt: skip
    older = {k: v for k, v in body.items() if k != "ext"}  # a file exported before features
    assert call(page, "CourseProgress.parseImport", json.dumps(older), "c", "el")["ext"] == {}
    bad = {**body, "ext": ["not", "an", "object"]}
    assert call(page, "CourseProgress.parseImport", json.dumps(bad), "c", "el")["ext"] == {}


def test_record_review(page: Page) -> None:
    s = state(day=today(page), newToday=2, items={"a": card()})
    new = call(page, "CourseProgress.recordReview", s, "b", card(), NOW)
    assert (new["newToday"], new["days"]) == (3, {today(page): 1})
    again = call(page, "CourseProgress.recordReview", new, "a", card(reps=3), NOW)
    assert (again["newToday"], again["days"]) == (3, {today(page): 2})
    assert s["items"] == {"a": card()}  # the input is never changed
    next_day = call(page, "CourseProgress.recordReview", new, "c", card(), NOW + DAY)
    assert next_day["newToday"] == 1


# -- queue.js -------------------------------------------------------------------------------------

ITEMS = [{"id": i, "card": i, "lesson": "L1" if i < "c" else "L2"} for i in "abcdef"]


@pytest.mark.parametrize(
    ("cards", "new_left", "list_", "due", "fresh", "blocked"),
    [
        ({}, 20, ["a", "b", "c", "d", "e", "f"], 0, 6, 0),
        ({}, 2, ["a", "b"], 0, 2, 4),
        ({}, 0, [], 0, 0, 6),
        ({}, -3, [], 0, 0, 6),
        # due ones first, most overdue first, then new ones in course order
        ({"c": card(due=NOW - MIN), "e": card(due=NOW - DAY)}, 1, ["e", "c", "a"], 2, 1, 3),
        ({"c": card(due=NOW)}, 0, ["c"], 1, 0, 5),
        # nothing due or new: a learning step within 20 minutes comes ahead; a review never does
        ({k: card(due=NOW + DAY) for k in "abcde"} | {"f": card(due=NOW + 10 * MIN, state=1, step=1)},
         0, ["f"], 0, 0, 0),
        ({k: card(due=NOW + DAY) for k in "abcde"} | {"f": card(due=NOW + 30 * MIN, state=1, step=1)},
         0, [], 0, 0, 0),
        ({k: card(due=NOW + DAY) for k in "abcde"} | {"f": card(due=NOW + 10 * MIN)}, 0, [], 0, 0, 0),
    ],
)  # fmt: skip
def test_queue(
    page: Page,
    cards: dict[str, Any],
    new_left: int,
    list_: list[str],
    due: int,
    fresh: int,
    blocked: int,
) -> None:
    got = page.evaluate(
        "([items, s, now, left]) => { const q = CourseQueue.build(items, s, now, left);"
        " return [q.list.map(i => i.id), q.due, q.fresh, q.blockedNew]; }",
        [ITEMS, state(items=cards), NOW, new_left],
    )
    assert got == [list_, due, fresh, blocked]


def test_next_due_and_lessons(page: Page) -> None:
    s = state(items={"a": card(due=NOW + DAY), "b": card(due=NOW + MIN), "zz": card(due=0)})
    assert call(page, "CourseQueue.nextDue", ITEMS, s) == NOW + MIN
    assert page.evaluate(
        "([items, s]) => CourseQueue.nextDue(items, s) === Infinity", [ITEMS, state()]
    )
    lessons = call(
        page, "CourseQueue.lessons", ITEMS, [{"id": "L1"}, {"id": "L2"}, {"id": "L3"}], s
    )
    assert lessons == [
        {"id": "L1", "total": 2, "studied": 2, "done": True},
        {"id": "L2", "total": 4, "studied": 0, "done": False},
        {"id": "L3", "total": 0, "studied": 0, "done": True},
    ], "a lesson without cards is done: otherwise no course with one ever reads all done"


def test_forecast(page: Page) -> None:
    s = state(items={"a": card(due=NOW - 5 * DAY), "b": card(due=NOW + 2 * 3600_000),
                     "c": card(due=NOW + DAY), "d": card(due=NOW + 6 * DAY),
                     "e": card(due=NOW + 8 * DAY)})  # fmt: skip
    assert call(page, "CourseQueue.forecast", ITEMS, s, NOW, 7) == [2, 1, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("days", "streak"),
    [([0, -1, -2], 3), ([-1, -2], 2), ([0, -2], 1), ([-2, -3], 0), ([], 0), ([1], 0)],
)
def test_streak(page: Page, days: list[int], streak: int) -> None:
    s = state(days={today(page, d): 1 for d in days})
    assert call(page, "CourseQueue.streak", s, NOW) == streak
