/*
 * fsrs.js - FSRS-6 spaced-repetition scheduler for the offline HTML course.
 *
 * A port of the reference Python implementation (py-fsrs 6.x, `fsrs.Scheduler`)
 * with fuzzing switched off, so the same reviews give the same schedule in the
 * browser and in Python (tests/test_fsrs_crosscheck.py checks this).
 *
 * Classic script (pages are opened from file://, where ES modules are blocked):
 * sets `window.FSRS`, and `module.exports` under CommonJS.
 *
 * Units and encodings
 *   - Times are epoch milliseconds (UTC). A Date is accepted as input too.
 *   - States: 0 New, 1 Learning, 2 Review, 3 Relearning (1-3 are py-fsrs's
 *     State values; py-fsrs has no New state, its fresh card is Learning step 0
 *     with no stability, and a New card here is scheduled exactly like that).
 *   - Ratings: 1 Again, 2 Hard, 3 Good, 4 Easy.
 *   - Cards are plain JSON objects:
 *       {due, stability, difficulty, state, step, last_review, reps, lapses}
 *     stability (days) and difficulty (1..10) are null until the first review;
 *     step is null in the Review state.
 *
 * API
 *   FSRS.newCard(now?)                      -> card
 *   FSRS.review(card, rating, now?, opts?)  -> {card, log}   (input untouched)
 *   FSRS.retrievability(card, now?, opts?)  -> probability of recall, 0..1
 *   FSRS.preview(card, now?, opts?)         -> {1: due, 2: due, 3: due, 4: due}
 *
 * Options (defaults equal py-fsrs's Scheduler defaults):
 *   desiredRetention 0.9, learningSteps [1, 10] and relearningSteps [10]
 *   (minutes), maximumInterval 36500 (days), weights DEFAULT_WEIGHTS (21).
 */
(function (root) {
  "use strict";

  var State = { New: 0, Learning: 1, Review: 2, Relearning: 3 };
  var Rating = { Again: 1, Hard: 2, Good: 3, Easy: 4 };

  var DEFAULT_WEIGHTS = [
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722,
    0.1666, 0.796, 1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425,
    0.0912, 0.0658, 0.1542,
  ];

  var DEFAULTS = Object.freeze({
    desiredRetention: 0.9,
    learningSteps: Object.freeze([1, 10]),
    relearningSteps: Object.freeze([10]),
    maximumInterval: 36500,
    weights: Object.freeze(DEFAULT_WEIGHTS),
  });

  var MINUTE_MS = 60 * 1000;
  var DAY_MS = 24 * 60 * MINUTE_MS;
  var STABILITY_MIN = 0.001;
  var MIN_DIFFICULTY = 1;
  var MAX_DIFFICULTY = 10;

  function toMs(t) {
    var ms = t === undefined || t === null ? Date.now() : +t;
    if (!Number.isFinite(ms)) throw new TypeError("FSRS: invalid time " + t);
    return ms;
  }

  function clamp(x, lo, hi) {
    return Math.min(Math.max(x, lo), hi);
  }

  // Python's round(): halves go to the even neighbour (2.5 -> 2, 3.5 -> 4),
  // where Math.round would always go up.
  function roundHalfEven(x) {
    var f = Math.floor(x);
    var diff = x - f;
    if (diff !== 0.5) return diff < 0.5 ? f : f + 1;
    return f % 2 === 0 ? f : f + 1;
  }

  // Merge options over the defaults and precompute the forgetting-curve terms.
  function config(options) {
    var o = Object.assign({}, DEFAULTS, options || {});
    var w = o.weights;
    if (!Array.isArray(w) || w.length !== 21) {
      throw new RangeError("FSRS: expected 21 weights");
    }
    if (!(o.desiredRetention > 0 && o.desiredRetention < 1)) {
      throw new RangeError("FSRS: desiredRetention must be in (0, 1)");
    }
    var decay = -w[20];
    return {
      w: w,
      retention: o.desiredRetention,
      learningSteps: o.learningSteps.map(function (m) { return m * MINUTE_MS; }),
      relearningSteps: o.relearningSteps.map(function (m) { return m * MINUTE_MS; }),
      maximumInterval: o.maximumInterval,
      decay: decay,
      // Chosen so that retrievability is exactly 0.9 when elapsed == stability.
      factor: Math.pow(0.9, 1 / decay) - 1,
    };
  }

  // Whole days since the last review, floored like Python's timedelta.days
  // (so 23h59m counts as 0 days, and a review before last_review as -1).
  function elapsedDays(card, now) {
    if (card.last_review === null || card.last_review === undefined) return null;
    return Math.floor((now - card.last_review) / DAY_MS);
  }

  function retrievabilityWith(c, card, now) {
    if (card.last_review == null || card.stability == null) return 0;
    var days = Math.max(0, elapsedDays(card, now));
    return Math.pow(1 + (c.factor * days) / card.stability, c.decay);
  }

  function initialStability(c, rating) {
    return Math.max(c.w[rating - 1], STABILITY_MIN);
  }

  function initialDifficulty(c, rating, doClamp) {
    var d = c.w[4] - Math.pow(Math.E, c.w[5] * (rating - 1)) + 1;
    return doClamp ? clamp(d, MIN_DIFFICULTY, MAX_DIFFICULTY) : d;
  }

  function nextDifficulty(c, d, rating) {
    var delta = -(c.w[6] * (rating - 3));
    // Linear damping: changes shrink as difficulty approaches 10.
    var damped = d + ((10 - d) * delta) / 9;
    // Mean reversion towards the (unclamped) initial difficulty of Easy.
    var target = initialDifficulty(c, Rating.Easy, false);
    var next = c.w[7] * target + (1 - c.w[7]) * damped;
    return clamp(next, MIN_DIFFICULTY, MAX_DIFFICULTY);
  }

  // Same-day review (less than one whole day since the last one).
  function shortTermStability(c, s, rating) {
    var inc = Math.pow(Math.E, c.w[17] * (rating - 3 + c.w[18])) * Math.pow(s, -c.w[19]);
    // A successful same-day review never lowers stability.
    if (rating >= Rating.Hard) inc = Math.max(inc, 1);
    return Math.max(s * inc, STABILITY_MIN);
  }

  function nextStability(c, d, s, r, rating) {
    var w = c.w;
    var next;
    if (rating === Rating.Again) {
      var longTerm =
        w[11] *
        Math.pow(d, -w[12]) *
        (Math.pow(s + 1, w[13]) - 1) *
        Math.pow(Math.E, (1 - r) * w[14]);
      // A lapse can never leave the card more stable than a same-day Again would.
      var shortTerm = s / Math.pow(Math.E, w[17] * w[18]);
      next = Math.min(longTerm, shortTerm);
    } else {
      var hardPenalty = rating === Rating.Hard ? w[15] : 1;
      var easyBonus = rating === Rating.Easy ? w[16] : 1;
      next =
        s *
        (1 +
          Math.pow(Math.E, w[8]) *
            (11 - d) *
            Math.pow(s, -w[9]) *
            (Math.pow(Math.E, (1 - r) * w[10]) - 1) *
            hardPenalty *
            easyBonus);
    }
    return Math.max(next, STABILITY_MIN);
  }

  // Days until retrievability falls to the desired retention: whole days,
  // at least 1, at most maximumInterval. Same operation order as py-fsrs so
  // the float result (and thus the rounding) agrees.
  function nextIntervalDays(c, s) {
    var days = (s / c.factor) * (Math.pow(c.retention, 1 / c.decay) - 1);
    return Math.min(Math.max(roundHalfEven(days), 1), c.maximumInterval);
  }

  // Interval (ms) for a card in a (re)learning step; mutates `card`'s state/step.
  function stepInterval(c, card, rating, steps) {
    function graduate() {
      card.state = State.Review;
      card.step = null;
      return nextIntervalDays(c, card.stability) * DAY_MS;
    }
    // No steps configured, or the card sits past the last step (the steps were
    // shortened since it was scheduled): any pass graduates it.
    if (steps.length === 0 || (card.step >= steps.length && rating !== Rating.Again)) {
      return graduate();
    }
    switch (rating) {
      case Rating.Again:
        card.step = 0;
        return steps[0];
      case Rating.Hard:
        // Step unchanged; on the first step wait between it and the next one.
        if (card.step === 0) {
          return steps.length === 1 ? steps[0] * 1.5 : (steps[0] + steps[1]) / 2;
        }
        return steps[card.step];
      case Rating.Good:
        if (card.step + 1 === steps.length) return graduate();
        card.step += 1;
        return steps[card.step];
      default: // Easy
        return graduate();
    }
  }

  function newCard(now) {
    return {
      due: toMs(now),
      stability: null,
      difficulty: null,
      state: State.New,
      step: 0,
      last_review: null,
      reps: 0,
      lapses: 0,
    };
  }

  function review(card, rating, now, options) {
    if (rating !== 1 && rating !== 2 && rating !== 3 && rating !== 4) {
      throw new RangeError("FSRS: rating must be 1, 2, 3 or 4, got " + rating);
    }
    var c = config(options);
    var t = toMs(now);
    var next = Object.assign({}, card);
    var days = elapsedDays(card, t);
    var sameDay = days !== null && days < 1;
    var interval;

    if (card.state === State.New || card.state === State.Learning) {
      if (next.step === null || next.step === undefined) next.step = 0;
      if (card.stability == null || card.difficulty == null) {
        next.stability = initialStability(c, rating);
        next.difficulty = initialDifficulty(c, rating, true);
      } else {
        next.stability = sameDay
          ? shortTermStability(c, card.stability, rating)
          : nextStability(c, card.difficulty, card.stability,
              retrievabilityWith(c, card, t), rating);
        next.difficulty = nextDifficulty(c, card.difficulty, rating);
      }
      next.state = State.Learning;
      interval = stepInterval(c, next, rating, c.learningSteps);
    } else if (card.state === State.Review) {
      next.stability = sameDay
        ? shortTermStability(c, card.stability, rating)
        : nextStability(c, card.difficulty, card.stability,
            retrievabilityWith(c, card, t), rating);
      next.difficulty = nextDifficulty(c, card.difficulty, rating);
      if (rating === Rating.Again) {
        next.lapses = (card.lapses || 0) + 1;
      }
      if (rating === Rating.Again && c.relearningSteps.length > 0) {
        next.state = State.Relearning;
        next.step = 0;
        interval = c.relearningSteps[0];
      } else {
        // Pass, or a lapse with no relearning steps: stays in Review.
        interval = nextIntervalDays(c, next.stability) * DAY_MS;
      }
    } else if (card.state === State.Relearning) {
      next.stability = sameDay
        ? shortTermStability(c, card.stability, rating)
        : nextStability(c, card.difficulty, card.stability,
            retrievabilityWith(c, card, t), rating);
      next.difficulty = nextDifficulty(c, card.difficulty, rating);
      interval = stepInterval(c, next, rating, c.relearningSteps);
    } else {
      throw new RangeError("FSRS: unknown card state " + card.state);
    }

    // py-fsrs keeps timedeltas to the microsecond; whole ms is plenty here.
    next.due = t + Math.round(interval);
    next.last_review = t;
    next.reps = (card.reps || 0) + 1;

    return {
      card: next,
      log: {
        rating: rating,
        review: t,
        state: card.state, // state before this review
        elapsed_days: days, // whole days since the previous review, null if none
        interval: next.due - t, // ms until the new due time
      },
    };
  }

  function retrievability(card, now, options) {
    return retrievabilityWith(config(options), card, toMs(now));
  }

  function preview(card, now, options) {
    var out = {};
    for (var rating = 1; rating <= 4; rating++) {
      out[rating] = review(card, rating, now, options).card.due;
    }
    return out;
  }

  var FSRS = {
    State: State,
    Rating: Rating,
    DEFAULT_WEIGHTS: DEFAULT_WEIGHTS,
    DEFAULTS: DEFAULTS,
    newCard: newCard,
    review: review,
    retrievability: retrievability,
    preview: preview,
  };

  if (typeof module !== "undefined" && module.exports) module.exports = FSRS;
  if (root) root.FSRS = FSRS;
})(typeof window !== "undefined" ? window : typeof globalThis !== "undefined" ? globalThis : this);
