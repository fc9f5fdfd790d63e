/*
 * progress.js - pure functions for a learner's stored progress: validation of every entry, the
 * day's new-card count, import merging, export. No DOM and no storage: course.js reads and writes
 * localStorage (one key, one JSON string per change) and calls these on the parsed values.
 *
 * Classic script: sets `window.CourseProgress`.
 *
 * A state: {v: 1, items: {<item id>: FSRS card}, day: "Y-M-D", newToday: n, days: {"Y-M-D": n},
 *           ext: {<feature>: JSON}}
 *   items     one FSRS card per reviewed item ("<card id>", "<card id>:r", "<card id>:c<n>")
 *   day, newToday   the learning day (it starts at 4 am, as in Anki) and the new cards begun on it
 *   days      reviews per learning day (the streak)
 *   ext       data of features that plug into the page (a lesson check, SCORM), kept as given
 *
 *   empty()                          -> a fresh state
 *   validCard(value)                 -> a clean copy of an FSRS card, or null if any field is wrong
 *   clean(value)                     -> {state, dropped, whole}: what is valid of a parsed state
 *   cleanItems(value)                -> {items, dropped}: the valid FSRS cards of an id -> card map
 *   parseStored(text)                -> {state, dropped, damaged}: damaged when the text is not a
 *                                       state at all or when entries had to be dropped
 *   parseImport(text, course, lang)  -> {items, dropped, day, newToday, days, ext}; throws if not
 *                                       this course's progress (ext: the features' data, as given:
 *                                       each feature validates and merges its own)
 *   merge(state, imported, known, now) -> {state, taken, unknown}: entries of cards the course has
 *                                       (`known(id)`), each the side reviewed last; the day's count
 *                                       never goes down; reviews per day: the larger of the two
 *   reset(state, now)                -> a state without progress that keeps the day's new count
 *   newUsed(state, now), newLeft(state, now, perDay)
 *   recordReview(state, id, card, now) -> the state after a review of item `id` (a new state)
 *   exportBody(state, course, lang, now) -> the export file's JSON text
 *   dayKey(now)                      -> "Y-M-D" of the learning day that holds `now`
 */
(function (root) {
  "use strict";

  var VERSION = 1;
  var DAY_START_HOURS = 4; // Anki's next day starts at 4 am
  var MAX_TIME = 8.64e15; // the largest time a Date can hold
  var STATES = [0, 1, 2, 3]; // New, Learning, Review, Relearning (fsrs.js)
  var STEPS = { 0: 2, 1: 2, 3: 1 }; // learning steps (New, Learning) and relearning steps
  var DAY = /^\d{4}-\d{1,2}-\d{1,2}$/;

  function isObject(x) {
    return x !== null && typeof x === "object" && !Array.isArray(x);
  }

  function isTime(x) {
    return typeof x === "number" && Number.isFinite(x) && x >= 0 && x <= MAX_TIME;
  }

  function isCount(x) {
    return typeof x === "number" && Number.isInteger(x) && x >= 0;
  }

  function orNull(x, test) {
    return x === null || x === undefined || test(x);
  }

  function validCard(c) {
    if (!isObject(c)) return null;
    if (!isTime(c.due) || STATES.indexOf(c.state) < 0) return null;
    if (!orNull(c.last_review, isTime) || !isCount(c.reps) || !isCount(c.lapses)) return null;
    var fresh = c.stability === null || c.stability === undefined;
    if (fresh !== (c.difficulty === null || c.difficulty === undefined)) return null;
    if (!fresh && !(typeof c.stability === "number" && Number.isFinite(c.stability) && c.stability > 0 &&
                    typeof c.difficulty === "number" && c.difficulty >= 1 && c.difficulty <= 10)) {
      return null;
    }
    if (c.state !== 0 && (fresh || c.last_review === null || c.last_review === undefined)) return null;
    var step = c.step === undefined ? null : c.step;
    if (c.state === 2 ? step !== null : !(isCount(step) && step < STEPS[c.state])) return null;
    return {
      due: c.due, stability: fresh ? null : c.stability, difficulty: fresh ? null : c.difficulty,
      state: c.state, step: step, last_review: c.last_review === undefined ? null : c.last_review,
      reps: c.reps, lapses: c.lapses,
    };
  }

  function empty() {
    return { v: VERSION, items: {}, day: "", newToday: 0, days: {}, ext: {} };
  }

  function cleanItems(items) {
    var out = {};
    var dropped = 0;
    if (!isObject(items)) return { items: out, dropped: 0 };
    Object.keys(items).forEach(function (id) {
      var card = validCard(items[id]);
      if (card && id) out[id] = card;
      else dropped++;
    });
    return { items: out, dropped: dropped };
  }

  function cleanDays(value) {
    var days = {};
    var dropped = 0;
    if (isObject(value)) {
      Object.keys(value).forEach(function (day) {
        if (DAY.test(day) && isCount(value[day])) days[day] = value[day];
        else dropped++;
      });
    }
    return { days: days, dropped: dropped };
  }

  function clean(value) {
    var state = empty();
    if (!isObject(value) || value.v !== VERSION || !isObject(value.items)) {
      return { state: state, dropped: 0, whole: false };
    }
    var got = cleanItems(value.items);
    state.items = got.items;
    var dropped = got.dropped;
    if (typeof value.day === "string" && DAY.test(value.day) && isCount(value.newToday)) {
      state.day = value.day;
      state.newToday = value.newToday;
    } else if (value.day !== undefined && value.day !== "") {
      dropped++;
    }
    var days = cleanDays(value.days);
    state.days = days.days;
    dropped += days.dropped;
    if (isObject(value.ext)) state.ext = value.ext;
    return { state: state, dropped: dropped, whole: true };
  }

  function parseStored(text) {
    if (text === null || text === undefined) return { state: empty(), dropped: 0, damaged: false };
    var value;
    try { value = JSON.parse(text); } catch (e) { value = undefined; }
    var got = clean(value);
    return { state: got.state, dropped: got.dropped, damaged: !got.whole || got.dropped > 0 };
  }

  function parseImport(text, course, lang) {
    var got = JSON.parse(text);
    if (!isObject(got) || got.format !== "course-progress" || got.course !== course ||
        got.lang !== lang || !isObject(got.items)) {
      throw new Error("not this course's progress");
    }
    var items = cleanItems(got.items);
    var today = typeof got.day === "string" && DAY.test(got.day) && isCount(got.newToday);
    return {
      items: items.items,
      dropped: items.dropped,
      day: today ? got.day : "",
      newToday: today ? got.newToday : 0,
      days: cleanDays(got.days).days,
      ext: isObject(got.ext) ? got.ext : {},
    };
  }

  function copy(state) {
    return {
      v: VERSION, items: Object.assign({}, state.items), day: state.day,
      newToday: state.newToday, days: Object.assign({}, state.days), ext: state.ext,
    };
  }

  function merge(state, imported, known, now) {
    var next = copy(state);
    var taken = 0, unknown = 0;
    Object.keys(imported.items).forEach(function (id) {
      if (!known(id)) { unknown++; return; }
      var theirs = imported.items[id];
      var ours = next.items[id];
      if (!ours || (theirs.last_review || 0) > (ours.last_review || 0)) {
        next.items[id] = theirs;
        taken++;
      }
    });
    var days = imported.days || {};
    Object.keys(days).forEach(function (day) {
      next.days[day] = Math.max(next.days[day] || 0, days[day]);
    });
    var today = dayKey(now);
    if (imported.day === today) {
      next.newToday = Math.max(newUsed(next, now), imported.newToday);
      next.day = today;
    }
    return { state: next, taken: taken, unknown: unknown };
  }

  function reset(state, now) {
    var next = empty();
    next.day = dayKey(now);
    next.newToday = newUsed(state, now);
    next.ext = state.ext;
    return next;
  }

  function newUsed(state, now) {
    return state.day === dayKey(now) ? state.newToday : 0;
  }

  function newLeft(state, now, perDay) {
    return Math.max(0, perDay - newUsed(state, now));
  }

  function recordReview(state, id, card, now) {
    var next = copy(state);
    var today = dayKey(now);
    if (!state.items[id]) {
      next.newToday = newUsed(state, now) + 1;
      next.day = today;
    }
    next.items[id] = card;
    next.days[today] = (next.days[today] || 0) + 1;
    return next;
  }

  function exportBody(state, course, lang, now) {
    return JSON.stringify({
      format: "course-progress", version: VERSION, course: course, lang: lang,
      exported: new Date(now).toISOString(), day: state.day, newToday: state.newToday,
      days: state.days, items: state.items, ext: state.ext,
    }, null, 1);
  }

  function dayKey(now) {
    var d = new Date(now - DAY_START_HOURS * 3600 * 1000);
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }

  var CourseProgress = {
    VERSION: VERSION,
    empty: empty,
    validCard: validCard,
    clean: clean,
    cleanItems: cleanItems,
    parseStored: parseStored,
    parseImport: parseImport,
    merge: merge,
    reset: reset,
    newUsed: newUsed,
    newLeft: newLeft,
    recordReview: recordReview,
    exportBody: exportBody,
    dayKey: dayKey,
  };

  if (typeof module !== "undefined" && module.exports) module.exports = CourseProgress;
  if (root) root.CourseProgress = CourseProgress;
})(typeof window !== "undefined" ? window : typeof globalThis !== "undefined" ? globalThis : this);
