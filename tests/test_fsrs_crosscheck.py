"""Cross-check course/static/fsrs.js against the reference py-fsrs scheduler.

fsrs.js runs inside real headless Chromium and Firefox (tests/browsers.py). Random review sequences go through both schedulers and every step must
agree: state, step and due time exactly, stability/difficulty/retrievability to ~1e-6.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import (
    DEFAULT_PARAMETERS,
    LOWER_BOUNDS_PARAMETERS,
    UPPER_BOUNDS_PARAMETERS,
)

from browsers import Browser, Page

pytestmark = pytest.mark.browser

FSRS_JS = Path(__file__).resolve().parent.parent / "course" / "static" / "fsrs.js"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE_MS = 60_000
DAY_MS = 86_400_000
N_SEQUENCES = 300
REL = 1e-6


def to_dt(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def to_ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def page(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A blank page with fsrs.js loaded as the course loads it: a classic script from file://."""
    harness = tmp_path_factory.mktemp("fsrs") / "fsrs.html"
    harness.write_text(f'<!doctype html><script src="{FSRS_JS.as_uri()}"></script>', "utf-8")
    pg = browser.new_page()
    try:
        pg.goto(harness.as_uri())
        pg.wait_for("() => typeof window.FSRS === 'object'")
        yield pg
    finally:
        pg.close()


def review_js(page: Any, card: dict[str, Any], rating: int, now: int, options: Any = None) -> Any:
    return page.evaluate(
        "([card, rating, now, options]) => FSRS.review(card, rating, now, options ?? undefined)",
        [card, rating, now, options],
    )


def new_card_js(page: Any, now: int) -> dict[str, Any]:
    card: dict[str, Any] = page.evaluate("(now) => FSRS.newCard(now)", now)
    return card


# --------------------------------------------------------------------------- configs


@dataclass
class Config:
    """One scheduler configuration, expressed for both implementations."""

    desired_retention: float = 0.9
    learning_steps: list[float] = field(default_factory=lambda: [1, 10])  # minutes
    relearning_steps: list[float] = field(default_factory=lambda: [10])  # minutes
    maximum_interval: int = 36500
    weights: list[float] = field(default_factory=lambda: list(DEFAULT_PARAMETERS))

    def scheduler(self) -> Scheduler:
        return Scheduler(
            parameters=self.weights,
            desired_retention=self.desired_retention,
            learning_steps=[timedelta(minutes=m) for m in self.learning_steps],
            relearning_steps=[timedelta(minutes=m) for m in self.relearning_steps],
            maximum_interval=self.maximum_interval,
            enable_fuzzing=False,
        )

    def js_options(self) -> dict[str, Any]:
        return {
            "desiredRetention": self.desired_retention,
            "learningSteps": self.learning_steps,
            "relearningSteps": self.relearning_steps,
            "maximumInterval": self.maximum_interval,
            "weights": self.weights,
        }


def random_config(rng: random.Random) -> Config:
    """Mostly the defaults; otherwise one or two settings changed."""
    cfg = Config()
    if rng.random() < 0.6:
        return cfg
    for _ in range(rng.randint(1, 2)):
        match rng.randrange(6):
            case 0:
                cfg.learning_steps = rng.choice([[], [5], [1, 5, 15], [2, 20, 120]])
            case 1:
                cfg.relearning_steps = rng.choice([[], [5, 30], [1, 10, 60]])
            case 2:
                cfg.desired_retention = rng.choice([0.7, 0.8, 0.85, 0.95, 0.97])
            case 3:
                cfg.maximum_interval = rng.choice([3, 30, 365])
            case _:  # perturbed weights, kept within py-fsrs's bounds
                cfg.weights = [
                    min(max(w * rng.uniform(0.7, 1.3), lo), hi)
                    for w, lo, hi in zip(
                        DEFAULT_PARAMETERS,
                        LOWER_BOUNDS_PARAMETERS,
                        UPPER_BOUNDS_PARAMETERS,
                        strict=True,
                    )
                ]
    return cfg


# --------------------------------------------------------------------------- sequences

RATINGS = [Rating.Again, Rating.Hard, Rating.Good, Rating.Easy]
RATING_WEIGHTS = [0.15, 0.15, 0.55, 0.15]


def next_review_time(rng: random.Random, card: Card) -> int:
    """When the learner comes back: usually on time, sometimes early, late or days late."""
    due = to_ms(card.due)
    last = to_ms(card.last_review) if card.last_review else due
    r = rng.random()
    if r < 0.5:  # on time, within a few minutes
        return due + rng.randrange(0, 5 * MINUTE_MS)
    if r < 0.65:  # early: anywhere between the last review and due (same-day reviews)
        return last + rng.randrange(0, max(due - last, 1))
    if r < 0.85:  # late by minutes to hours
        return due + rng.randrange(0, 20 * 60 * MINUTE_MS)
    return due + rng.randrange(1 * DAY_MS, 90 * DAY_MS)  # days late


@dataclass
class Sequence:
    config: Config
    start: int
    reviews: list[tuple[int, int]]  # (rating, epoch ms)
    expected: list[dict[str, Any]]  # per review, from py-fsrs


def build_sequence(seed: int) -> Sequence:
    rng = random.Random(seed)
    cfg = random_config(rng)
    sched = cfg.scheduler()
    # 2020..2030, with millisecond noise
    start = rng.randrange(1_577_836_800_000, 1_893_456_000_000)
    card = Card(card_id=seed + 1, due=to_dt(start))
    now = start
    reviews: list[tuple[int, int]] = []
    expected: list[dict[str, Any]] = []
    lapses = 0
    for i in range(rng.randint(1, 25)):
        if i:
            now = next_review_time(rng, card)
        rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
        when = to_dt(now)
        retrievability = sched.get_card_retrievability(card, when)
        preview = [to_ms(sched.review_card(card, r, when)[0].due) for r in RATINGS]
        if card.state == State.Review and rating == Rating.Again:
            lapses += 1
        card, _ = sched.review_card(card, rating, when)
        reviews.append((int(rating), now))
        expected.append(
            {
                "state": int(card.state),
                "step": card.step,
                "due": to_ms(card.due),
                "last_review": now,
                "stability": card.stability,
                "difficulty": card.difficulty,
                "reps": i + 1,
                "lapses": lapses,
                "retrievability": retrievability,
                "preview": preview,
            }
        )
    return Sequence(cfg, start, reviews, expected)


RUN_ALL_JS = """
(seqs) => seqs.map(({start, options, reviews}) => {
  let card = FSRS.newCard(start);
  return reviews.map(([rating, now]) => {
    const retrievability = FSRS.retrievability(card, now, options);
    const p = FSRS.preview(card, now, options);
    card = FSRS.review(card, rating, now, options).card;
    return {...card, retrievability, preview: [p[1], p[2], p[3], p[4]]};
  });
})
"""


def close(a: float | None, b: float | None, rel: float = REL) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def test_random_sequences_match_reference(page: Any) -> None:
    seqs = [build_sequence(seed) for seed in range(N_SEQUENCES)]
    got = page.evaluate(
        RUN_ALL_JS,
        [{"start": s.start, "options": s.config.js_options(), "reviews": s.reviews} for s in seqs],
    )
    assert len(got) == len(seqs)
    exact = ("state", "step", "due", "last_review", "reps", "lapses", "preview")
    approx = ("stability", "difficulty", "retrievability")
    steps = 0
    for seed, (seq, js_steps) in enumerate(zip(seqs, got, strict=True)):
        assert len(js_steps) == len(seq.expected)
        for i, (want, have) in enumerate(zip(seq.expected, js_steps, strict=True)):
            where = f"seed {seed} review {i} {seq.reviews[: i + 1]} config {seq.config}"
            for key in exact:
                assert have[key] == want[key], f"{key}: js {have[key]} != py {want[key]}; {where}"
            for key in approx:
                assert close(have[key], want[key]), (
                    f"{key}: js {have[key]} != py {want[key]}; {where}"
                )
            steps += 1
    # the generator must actually reach every state and the interesting paths
    states = {e["state"] for s in seqs for e in s.expected}
    assert states == {1, 2, 3}
    assert steps > 2000


# --------------------------------------------------------------------------- unit cases

NOW = 1_750_000_000_000  # 2025-06-15T15:06:40Z
W = DEFAULT_PARAMETERS


def reference(rating: Rating, *, card: Card | None = None, now: int = NOW, **kw: Any) -> Card:
    sched = Scheduler(enable_fuzzing=False, **kw)
    card = card or Card(card_id=1, due=to_dt(now))
    return sched.review_card(card, rating, to_dt(now))[0]


def test_new_card_shape(page: Any) -> None:
    card = new_card_js(page, NOW)
    assert card == {
        "due": NOW,
        "stability": None,
        "difficulty": None,
        "state": 0,
        "step": 0,
        "last_review": None,
        "reps": 0,
        "lapses": 0,
    }
    assert page.evaluate("(c) => FSRS.retrievability(c, c.due + 5 * 86400000)", card) == 0


def test_new_card_good_goes_to_second_learning_step(page: Any) -> None:
    out = review_js(page, new_card_js(page, NOW), 3, NOW)
    card = out["card"]
    assert card["state"] == 1
    assert card["step"] == 1
    assert card["due"] == NOW + 10 * MINUTE_MS
    assert card["stability"] == pytest.approx(W[2])
    ref = reference(Rating.Good)
    assert card["difficulty"] == pytest.approx(ref.difficulty, rel=REL)
    assert out["log"] == {
        "rating": 3,
        "review": NOW,
        "state": 0,
        "elapsed_days": None,
        "interval": 10 * MINUTE_MS,
    }


@pytest.mark.parametrize(
    ("rating", "delay_ms"), [(1, 1 * MINUTE_MS), (2, 330_000)], ids=["again", "hard"]
)
def test_new_card_again_hard_stay_on_first_step(page: Any, rating: int, delay_ms: int) -> None:
    card = review_js(page, new_card_js(page, NOW), rating, NOW)["card"]
    assert (card["state"], card["step"], card["due"]) == (1, 0, NOW + delay_ms)
    assert card["due"] == to_ms(reference(Rating(rating)).due)


def test_new_card_easy_goes_straight_to_review(page: Any) -> None:
    card = review_js(page, new_card_js(page, NOW), 4, NOW)["card"]
    ref = reference(Rating.Easy)
    assert ref.state == State.Review
    assert (card["state"], card["step"]) == (2, None)
    assert card["due"] == to_ms(ref.due) == NOW + 8 * DAY_MS  # round(w3 = 8.2956)
    assert card["stability"] == pytest.approx(W[3])


def test_review_lapse_relearns_then_graduates(page: Any) -> None:
    card = review_js(page, new_card_js(page, NOW), 4, NOW)["card"]
    later = card["due"]
    lapsed = review_js(page, card, 1, later)["card"]
    assert (lapsed["state"], lapsed["step"], lapsed["lapses"]) == (3, 0, 1)
    assert lapsed["due"] == later + 10 * MINUTE_MS
    back = review_js(page, lapsed, 3, lapsed["due"])["card"]
    assert (back["state"], back["step"], back["lapses"], back["reps"]) == (2, None, 1, 3)

    ref = reference(Rating.Easy)
    ref = reference(Rating.Again, card=ref, now=later)
    ref = reference(Rating.Good, card=ref, now=later + 10 * MINUTE_MS)
    assert back["due"] == to_ms(ref.due)
    assert back["stability"] == pytest.approx(ref.stability, rel=REL)
    assert back["difficulty"] == pytest.approx(ref.difficulty, rel=REL)


def test_elapsed_days_are_whole_days(page: Any) -> None:
    """23h59m after the last review counts as the same day (short-term formula)."""
    card = review_js(page, new_card_js(page, NOW), 4, NOW)["card"]
    ref = reference(Rating.Easy)
    for gap in (DAY_MS - 1, DAY_MS, 3 * DAY_MS - 1):
        js = review_js(page, card, 3, NOW + gap)
        want = reference(Rating.Good, card=ref, now=NOW + gap)
        assert js["log"]["elapsed_days"] == gap // DAY_MS
        assert js["card"]["stability"] == pytest.approx(want.stability, rel=REL)
        assert js["card"]["due"] == to_ms(want.due)


def test_review_is_pure(page: Any) -> None:
    unchanged = page.evaluate(
        """(now) => {
          let card = FSRS.newCard(now);
          for (const r of [3, 3, 1, 2]) {
            const before = JSON.stringify(card);
            const next = FSRS.review(card, r, card.due).card;
            if (JSON.stringify(card) !== before) return false;
            card = JSON.parse(JSON.stringify(next));  // survives localStorage
          }
          return true;
        }""",
        NOW,
    )
    assert unchanged


def test_preview_new_card(page: Any) -> None:
    preview = page.evaluate("(now) => FSRS.preview(FSRS.newCard(now), now)", NOW)
    assert preview == {
        "1": NOW + MINUTE_MS,
        "2": NOW + 330_000,
        "3": NOW + 10 * MINUTE_MS,
        "4": NOW + 8 * DAY_MS,
    }


def test_retrievability_is_desired_retention_at_stability(page: Any) -> None:
    card = {
        "due": NOW,
        "stability": 10.0,
        "difficulty": 5.0,
        "state": 2,
        "step": None,
        "last_review": NOW - 10 * DAY_MS,
        "reps": 3,
        "lapses": 0,
    }
    r = page.evaluate("([c, now]) => FSRS.retrievability(c, now)", [card, NOW])
    assert r == pytest.approx(0.9, rel=1e-12)


def test_options_no_steps_and_max_interval(page: Any) -> None:
    opts = {"learningSteps": [], "relearningSteps": [], "maximumInterval": 3}
    card = review_js(page, new_card_js(page, NOW), 3, NOW, opts)["card"]
    ref = reference(Rating.Good, learning_steps=[], relearning_steps=[], maximum_interval=3)
    assert (card["state"], card["due"]) == (2, to_ms(ref.due))
    assert card["due"] == NOW + 2 * DAY_MS  # round(w2 = 2.3065)
    easy = review_js(page, new_card_js(page, NOW), 4, NOW, opts)["card"]
    assert easy["due"] == NOW + 3 * DAY_MS  # 8 days, capped
    lapse = review_js(page, easy, 1, easy["due"], opts)["card"]
    assert (lapse["state"], lapse["step"], lapse["lapses"]) == (2, None, 1)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("FSRS.review(FSRS.newCard(0), 5, 0)", "rating"),
        ("FSRS.review(FSRS.newCard(0), 3, 0, {weights: [1, 2]})", "21 weights"),
        ("FSRS.review(FSRS.newCard(0), 3, NaN)", "invalid time"),
    ],
)
def test_invalid_input_throws(page: Any, expr: str, message: str) -> None:
    error = page.evaluate(
        f"() => {{ try {{ {expr}; return null; }} catch (e) {{ return e.message; }} }}"
    )
    assert error is not None
    assert message in error
