/*
 * queue.js - pure functions for what to review and how far a learner has come. No DOM.
 *
 * Classic script: sets `window.CourseQueue`. `items` are the page's review items (course order:
 * {id, card, lesson, ...}); `state` is a progress state (progress.js); times are epoch ms.
 *
 *   build(items, state, now, newLeft) -> {list, due, fresh, blockedNew}: due cards first (most
 *       overdue first), then new cards in course order up to `newLeft`; when nothing else is left,
 *       learning steps due within Anki's 20-minute learn-ahead limit
 *   nextDue(items, state)            -> the earliest due time of the course's studied items
 *   lessons(items, lessons, state)   -> [{id, total, studied, done}] per lesson, course order
 *   forecast(items, state, now, days) -> reviews due on each of the next `days` learning days
 *       (day 0: today, with everything overdue)
 *   streak(state, now)               -> learning days in a row with reviews, up to today (or up to
 *       yesterday when today has none yet)
 */
(function (root) {
  "use strict";

  var LEARN_AHEAD_MS = 20 * 60 * 1000; // Anki's learn-ahead limit
  var REVIEW = 2; // FSRS.State.Review
  var DAY_START_HOURS = 4;

  function build(items, state, now, newLeft) {
    var due = [], ahead = [], fresh = [];
    items.forEach(function (item) {
      var card = state.items[item.id];
      if (!card) fresh.push(item);
      else if (card.due <= now) due.push(item);
      else if (card.state !== REVIEW && card.due <= now + LEARN_AHEAD_MS) ahead.push(item);
    });
    var byDue = function (a, b) { return state.items[a.id].due - state.items[b.id].due; };
    due.sort(byDue);
    ahead.sort(byDue);
    var allowed = fresh.slice(0, Math.max(0, newLeft));
    var list = due.concat(allowed);
    return {
      list: list.length ? list : ahead,
      due: due.length,
      fresh: allowed.length,
      blockedNew: fresh.length - allowed.length,
    };
  }

  function nextDue(items, state) {
    var min = Infinity;
    items.forEach(function (item) {
      var card = state.items[item.id];
      if (card) min = Math.min(min, card.due);
    });
    return min;
  }

  function lessons(items, list, state) {
    return list.map(function (lesson) {
      var own = items.filter(function (item) { return item.lesson === lesson.id; });
      var studied = own.filter(function (item) { return state.items[item.id]; }).length;
      // done: every card studied; a lesson without cards (prose only) has nothing left to study,
      // so it is done, and the dashboard can read "all lessons done"
      return { id: lesson.id, total: own.length, studied: studied, done: studied === own.length };
    });
  }

  /* Midnight-based day numbers shifted by the 4 am day start, so DST never splits a day. */
  function dayIndex(ms) {
    var d = new Date(ms - DAY_START_HOURS * 3600 * 1000);
    return Math.round(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400000);
  }

  function forecast(items, state, now, days) {
    var counts = [];
    for (var i = 0; i < days; i++) counts.push(0);
    var today = dayIndex(now);
    items.forEach(function (item) {
      var card = state.items[item.id];
      if (!card) return;
      var offset = Math.max(0, dayIndex(card.due) - today);
      if (offset < days) counts[offset]++;
    });
    return counts;
  }

  function key(index) {
    var d = new Date(index * 86400000);
    return d.getUTCFullYear() + "-" + (d.getUTCMonth() + 1) + "-" + d.getUTCDate();
  }

  function streak(state, now) {
    var day = dayIndex(now);
    if (!state.days[key(day)]) day--;
    var n = 0;
    while (state.days[key(day)]) { n++; day--; }
    return n;
  }

  var CourseQueue = {
    LEARN_AHEAD_MS: LEARN_AHEAD_MS,
    build: build,
    nextDue: nextDue,
    lessons: lessons,
    forecast: forecast,
    streak: streak,
  };

  if (typeof module !== "undefined" && module.exports) module.exports = CourseQueue;
  if (root) root.CourseQueue = CourseQueue;
})(typeof window !== "undefined" ? window : typeof globalThis !== "undefined" ? globalThis : this);
