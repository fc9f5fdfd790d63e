/*
 * scorm.js - the course page as a SCORM 1.2 SCO: finds the LMS's API, restores the learner's
 * progress from it, reports status, score and progress back, and never breaks the course.
 *
 * Classic script (file:// blocks ES modules), listed after course.js in site.SCRIPTS. Sets
 * `window.CourseSCORM` (and `module.exports` under CommonJS): pure functions, tested through
 * page.evaluate tables, and a thin adapter that plugs into course.js's hooks:
 *   as the script loads   find the API, LMSInitialize, read the view left (cmi.core.lesson_location:
 *                         the first view shown, unless the link names one), the saved progress and
 *                         the status and score the LMS records (a passed or completed course is
 *                         never reported lower: keepDone);
 *                         Course.scope: the browser's copy belongs to the LMS's learner
 *                         ("lms:<hash of cmi.core.student_id>", never the plain course's key, so
 *                         another learner's progress on a shared browser never reaches this
 *                         learner's LMS record); no student_id: the page keeps none (null)
 *   Course.on("ready")    merge the LMS's progress: cards through Course.merge (validated, the later
 *                         review wins), check results (CourseCheck.merge) through
 *                         Course.extension("checks"); report at once (a split page: its data's
 *                         `graded` says which lessons have a check; an older split page without
 *                         it reports once every lesson's script has come, Course.loadLesson)
 *   Course.on("progress") report status, score, exit and suspend_data; commit
 *   Course.on("view")     cmi.core.lesson_location (never the not-found view: the next session
 *                         would open on it; the last view found stays)
 *   Course.on("leave")    commit, then LMSFinish once
 * Without an API (the plain HTML course, opened from a folder or a web server) nothing connects
 * and the page works from localStorage alone; so it does when the LMS misbehaves: every call is
 * wrapped, every result checked, and a failing LMS only loses the LMS's copy, never the browser's.
 *
 * Data model elements used (SCORM 1.2 only, nothing of 2004):
 *   cmi.core.lesson_status   incomplete while going; passed/failed against the mastery score once
 *                            every graded lesson check is taken; completed when the course has no
 *                            graded check and every card has been studied; read at the start:
 *                            once the LMS records passed or completed, it stays so
 *   cmi.core.score.raw/min/max  mean of the lessons' best check results, 0..100, once every graded
 *                            check is taken (none before: an LMS may pass any score at or above the
 *                            mastery score; one an older package sent is blanked); once passed or
 *                            completed, never below the score the LMS records
 *   cmi.core.lesson_location    the view the learner was on (#lesson/<id>, review...)
 *   cmi.suspend_data            the progress, compactly encoded (below), at most 4096 characters
 *   cmi.core.session_time       HHHH:MM:SS.SS
 *   cmi.core.exit               "suspend", finished or not (the schedule goes on after a pass)
 *   cmi.student_data.mastery_score  read: the LMS's pass mark overrides the course's own
 *
 * suspend_data encoding (version 2, written from now on), fields separated by ".":
 *   "2" . base . listhash . checks . seen . records
 *   base      minutes since 1970 (base 36) that the record times count from
 *   listhash  4 chars: 24-bit hash of the course's item ids in order (`seen` is positional)
 *   checks    6 chars per taken lesson check, one 36-bit number: lesson key (23 bits), best %
 *             (7 bits), attempts (6 bits, at most 63)
 *   seen      bitmap over the course's items in order, 6 per character: studied or not
 *   records   19 chars per item: item key (4, 24 bits), FSRS state and step (1), reps (1),
 *             lapses (1), difficulty x100 (2), stability (2, logarithmic, 0.5 %), last review and
 *             due (4 + 4, minutes since base)
 * Numbers are fixed-width base64url. Everything but the base is ASCII letters, digits, "-", "_".
 * A key is the item's (lesson's) id hashed (FNV-1a, xor-folded to 24 / 23 bits), never its
 * position: a course update that inserts, moves or retires cards or lessons leaves every other
 * record and check result on its own card and lesson. Decoding maps each current id's key back to
 * the id; a key two current ids share is ambiguous and neither gets the record (encode writes no
 * record for such an item: it goes into the bitmap only), and a key no current id has (a retired
 * card) is dropped. What stays possible: a retired card's record landing on a new card whose key
 * is the same (1 in 16.7 million per pair of them). Checks get 23 bits, not 3 chars' 18, because
 * best % and attempts fill 13 bits, not 2 + 1 chars: 100 lessons share a key 1 time in 1,700, not
 * 1 in 50.
 * The `seen` bitmap stays positional (it cannot survive an insertion without a stable order):
 * when the item list's hash differs it is dropped, and the cards it alone held (past the records'
 * room, about 200 cards) come back as new on another computer; the browser's own copy keeps them.
 *
 * Version 1 (written by deployed packages, so still in LMSs; decoded, never written): 2-char
 * listhash; checks are lesson index (2), 6-bit id hash (1), best % (2), attempts (1); records are
 * item index (2), 6-bit id hash (1) and the same 15 chars as version 2's. Positions and a 6-bit
 * hash let 1 in 64 shifted records through onto a neighbour, so: records and the bitmap count only
 * when the list hash matches (the course is the one that wrote them), and check results only when
 * every one of them matches its lesson's hash at its index (a shifted lesson list fails that for
 * all but 1 in 64 per result); otherwise they are dropped rather than given to another card or
 * lesson.
 *
 * Past the bound: header, checks and the `seen` bitmap always go in (they fit for about 20,000
 * cards); then full records, largest stability first (the most review history to lose), as many
 * as fit. A card that is only in the bitmap comes back as studied and due now. Nothing longer
 * than 4096 characters is ever written.
 */
(function (root) {
  "use strict";

  var LIMIT = 4096;
  var VERSION = "2"; // written; "1" is still read (see above)
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var MINUTE_MS = 60 * 1000;
  var DAY_MS = 24 * 60 * MINUTE_MS;
  var STABILITY_MIN = 0.001;
  var STABILITY_STEPS = 200; // per unit of ln(stability): 0.5 % precision
  var CARD = 15; // a record's card fields, after its key
  var ITEM_BITS = 24; // an item's key: 4 chars
  var LESSON_BITS = 23; // a lesson's key, above best % (7 bits) and attempts (6) in 6 chars
  var RECORD = 4 + CARD;
  var CHECK = 6;
  var V1 = { RECORD: 3 + CARD, CHECK: 6 };
  var MAX_API_DEPTH = 7;
  var COMMIT_DELAY_MS = 3000;
  var CHECKS = "checks"; // the lesson check's extension in the progress (check.js)

  // -- fixed-width base64url numbers and a small hash ---------------------------------------------

  function num(n, width) {
    var max = Math.pow(64, width) - 1;
    var v = Math.max(0, Math.min(max, Math.round(n)));
    var out = "";
    for (var i = 0; i < width; i++) {
      out = DIGITS[v % 64] + out;
      v = Math.floor(v / 64);
    }
    return out;
  }

  function unnum(s) {
    var v = 0;
    for (var i = 0; i < s.length; i++) {
      var d = DIGITS.indexOf(s[i]);
      if (d < 0) return NaN;
      v = v * 64 + d;
    }
    return v;
  }

  /* FNV-1a over UTF-16 code units: a stable 32-bit fingerprint of a string. */
  function hash(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  function hashChar(s) {
    return DIGITS[hash(s) % 64];
  }

  /* The hash xor-folded to `bits` (< 31) bits: FNV's own advice for a shorter hash. */
  function folded(s, bits) {
    var h = hash(s);
    return ((h >>> bits) ^ h) & (Math.pow(2, bits) - 1);
  }

  /* Version 1's 2-char list hash; version 2's 4-char one (1 in 16.7 million, not 1 in 4096,
     changed lists keep a bitmap that would mark other cards as studied). */
  function listHash1(ids) {
    return num(hash(ids.join("\n")) % 4096, 2);
  }

  function listHash(ids) {
    return num(folded(ids.join("\n"), 24), 4);
  }

  /* key -> the one current id with that key; a key two ids share -> null (ambiguous). */
  function keyed(ids, bits) {
    var out = Object.create(null);
    ids.forEach(function (id) {
      var key = folded(id, bits);
      out[key] = key in out && out[key] !== id ? null : id;
    });
    return out;
  }

  // -- progress <-> suspend_data --------------------------------------------------------------------

  function stabilityCode(s) {
    if (s === null || s === undefined) return 4095;
    return Math.min(4094, Math.round(Math.log(Math.max(s, STABILITY_MIN) / STABILITY_MIN) * STABILITY_STEPS));
  }

  function stabilityValue(code) {
    return code === 4095 ? null : STABILITY_MIN * Math.exp(code / STABILITY_STEPS);
  }

  /* A record: the item's key, then its card's CARD characters. */
  function encodeRecord(id, card, base) {
    var step = card.step === null || card.step === undefined ? 3 : Math.min(2, card.step);
    var minutes = function (ms) { return Math.floor(ms / MINUTE_MS) - base; };
    return num(folded(id, ITEM_BITS), 4) + num((card.state & 3) * 4 + step, 1) +
      num(card.reps || 0, 1) + num(card.lapses || 0, 1) +
      num(card.difficulty === null || card.difficulty === undefined ? 4095 : card.difficulty * 100, 2) +
      num(stabilityCode(card.stability), 2) +
      num(minutes(card.last_review || card.due), 4) + num(minutes(card.due), 4);
  }

  /* A record's card fields (its last CARD characters, the same in both versions). */
  function decodeCard(text, base) {
    var stateStep = unnum(text.slice(0, 1));
    var difficulty = unnum(text.slice(3, 5));
    var time = function (s) { return (unnum(s) + base) * MINUTE_MS; };
    return {
      due: time(text.slice(11, 15)),
      stability: stabilityValue(unnum(text.slice(5, 7))),
      difficulty: difficulty === 4095 ? null : difficulty / 100,
      state: stateStep >> 2,
      step: (stateStep & 3) === 3 ? null : stateStep & 3,
      last_review: time(text.slice(7, 11)),
      reps: unnum(text.slice(1, 2)),
      lapses: unnum(text.slice(2, 3)),
    };
  }

  function encodeCheck(lesson, c) {
    var best = Math.max(0, Math.min(100, Math.round(c.best)));
    var n = Math.max(1, Math.min(63, Math.round(c.n || 1)));
    return num(folded(lesson, LESSON_BITS) * 8192 + best * 64 + n, CHECK);
  }

  function decodeCheck(text) {
    var v = unnum(text);
    return { key: Math.floor(v / 8192), best: Math.min(100, Math.floor(v / 64) % 128), n: v % 64 };
  }

  function seenBitmap(ids, items) {
    var out = "";
    for (var i = 0; i < ids.length; i += 6) {
      var bits = 0;
      for (var k = 0; k < 6 && i + k < ids.length; k++) if (items[ids[i + k]]) bits |= 1 << k;
      out += DIGITS[bits];
    }
    return out.replace(/A+$/, "");
  }

  /*
   * progress: {items: {<item id>: FSRS card}, checks: {<lesson id>: {best, n}}}
   * course:   {items: [item ids in order], lessons: [lesson ids in order]}
   * Returns a string of at most `limit` (4096) characters.
   */
  function encode(progress, course, limit) {
    limit = limit || LIMIT;
    var items = progress.items || {};
    var checks = progress.checks || {};
    var itemKeys = keyed(course.items, ITEM_BITS);
    var lessonKeys = keyed(course.lessons, LESSON_BITS);
    var stored = [];
    course.items.forEach(function (id, index) {
      if (items[id] && itemKeys[folded(id, ITEM_BITS)] === id) stored.push({ index: index, id: id, card: items[id] });
    });
    var times = stored.map(function (r) { return Math.floor((r.card.last_review || r.card.due) / MINUTE_MS); });
    var base = times.length ? Math.min.apply(null, times) : 0;
    var checkText = "";
    course.lessons.forEach(function (id) {
      var c = checks[id];
      if (c && isFinite(c.best) && isFinite(c.n || 1) && lessonKeys[folded(id, LESSON_BITS)] === id) checkText += encodeCheck(id, c);
    });
    var head = [VERSION, base.toString(36), listHash(course.items), checkText,
      seenBitmap(course.items, items)].join(".") + ".";
    if (head.length > limit) return head.slice(0, limit).replace(/\.$/, "");
    stored.sort(function (a, b) { return (b.card.stability || 0) - (a.card.stability || 0) || a.index - b.index; });
    var room = Math.floor((limit - head.length) / RECORD);
    var records = stored.slice(0, room).sort(function (a, b) { return a.index - b.index; });
    return head + records.map(function (r) { return encodeRecord(r.id, r.card, base); }).join("");
  }

  /* Version 2's records: each on the one current item with its key. */
  function records2(text, course, base) {
    var ids = keyed(course.items, ITEM_BITS);
    var out = {};
    for (var r = 0; r + RECORD <= text.length; r += RECORD) {
      var id = ids[unnum(text.slice(r, r + 4))];
      var card = decodeCard(text.slice(r + 4, r + RECORD), base);
      if (typeof id === "string" && card.state >= 0) out[id] = card;
    }
    return out;
  }

  /* Version 2's check results: each on the one current lesson with its key. */
  function checks2(text, course) {
    var ids = keyed(course.lessons, LESSON_BITS);
    var out = {};
    for (var i = 0; i + CHECK <= text.length; i += CHECK) {
      var c = decodeCheck(text.slice(i, i + CHECK));
      var lesson = ids[c.key];
      if (typeof lesson === "string") out[lesson] = { best: c.best, n: c.n };
    }
    return out;
  }

  /* Version 1's records, positional: only from the very item list that wrote them (`same`). */
  function records1(text, course, base, same) {
    var out = {};
    for (var r = 0; same && r + V1.RECORD <= text.length; r += V1.RECORD) {
      var id = course.items[unnum(text.slice(r, r + 2))];
      var card = decodeCard(text.slice(r + 3, r + V1.RECORD), base);
      if (id !== undefined && hashChar(id) === text[r + 2] && card.state >= 0) out[id] = card;
    }
    return out;
  }

  /* Version 1's check results, positional: all of them, or none when one whose index is still a
     lesson has another lesson's hash (the lessons moved: the others' matches may be chance). */
  function checks1(text, course) {
    var out = {};
    for (var i = 0; i + V1.CHECK <= text.length; i += V1.CHECK) {
      var lesson = course.lessons[unnum(text.slice(i, i + 2))];
      if (lesson === undefined) continue;
      if (hashChar(lesson) !== text[i + 2]) return {};
      out[lesson] = { best: Math.min(100, unnum(text.slice(i + 3, i + 5))), n: unnum(text[i + 5]) };
    }
    return out;
  }

  /* The items the bitmap marks studied that have no full record. */
  function seenOf(text, ids, full) {
    var out = [];
    for (var c = 0; c < text.length; c++) {
      var bits = Math.max(0, DIGITS.indexOf(text[c]));
      for (var k = 0; k < 6; k++) {
        var item = ids[c * 6 + k];
        if (bits & (1 << k) && item !== undefined && !full[item]) out.push(item);
      }
    }
    return out;
  }

  var FORMATS = {
    1: { listHash: listHash1, records: records1, checks: checks1 },
    2: { listHash: listHash, records: records2, checks: checks2 },
  };

  /*
   * Returns {items: {<id>: card}, seen: [ids studied but without a record], checks} or null when
   * `text` is not one of the encodings. The bitmap is dropped when the item list changed; so is
   * what version 1 cannot place surely (see the top of this file).
   */
  function decode(text, course) {
    if (typeof text !== "string") return null;
    var parts = text.split(".");
    var format = Object.prototype.hasOwnProperty.call(FORMATS, parts[0]) ? FORMATS[parts[0]] : null;
    if (!format || parts.length < 4) return null;
    var base = parseInt(parts[1], 36);
    if (!isFinite(base)) return null;
    var same = parts[2] === format.listHash(course.items);
    var items = format.records(parts[5] || "", course, base, same);
    return { items: items, seen: same ? seenOf(parts[4] || "", course.items, items) : [],
      checks: format.checks(parts[3] || "", course) };
  }

  /* A card known only as studied: a review card, due at `now`, as if learnt a day before. */
  function studiedCard(now) {
    return { due: now, stability: 1, difficulty: 5, state: 2, step: null, last_review: now - DAY_MS,
      reps: 1, lapses: 0 };
  }

  /*
   * What the LMS's copy adds to the browser's cards (`local`: item id -> card), for Course.merge:
   * every full record (Course.merge keeps the later review of the two), and a studied card for
   * each item the LMS knows only as studied and the browser has not reviewed.
   */
  function resumeItems(local, remote, now) {
    var items = Object.assign({}, remote.items);
    remote.seen.forEach(function (id) {
      if (!local[id] && !items[id]) items[id] = studiedCard(now);
    });
    return items;
  }

  // -- status, score, time ------------------------------------------------------------------------

  /*
   * {graded: [lesson ids with a check], checks, studied, total, mastery} -> {status, raw}
   * Both are decided once every graded check is taken: raw is the mean of the checks' best
   * results, null before. No score while unfinished: an LMS may turn any score at or above the
   * mastery score into "passed" (SCORM 1.2 lets it; Moodle's player does on every LMSFinish), so
   * the mean of the first checks taken would pass a learner who has done one lesson of five.
   */
  function status(o) {
    var taken = o.graded.filter(function (id) { return o.checks[id]; });
    if (!o.graded.length) return { status: o.studied >= o.total ? "completed" : "incomplete", raw: null };
    if (taken.length < o.graded.length) return { status: "incomplete", raw: null };
    var raw = Math.round(taken.reduce(function (sum, id) { return sum + o.checks[id].best; }, 0) / taken.length);
    return { status: raw >= o.mastery ? "passed" : "failed", raw: raw };
  }

  /*
   * The status and score to report, given what the LMS recorded before this session (`recorded`,
   * {status, raw}: cmi.core.lesson_status and cmi.core.score.raw as the session found them): a
   * course the LMS records as passed or completed stays so, with at least its recorded score. A
   * package update that adds a lesson, or an LMS that kept the status but not the suspend data
   * (SCORM 1.2 lets it drop run-time data after an exit that was not "suspend"), must not make a
   * learner who finished the course unfinished in the LMS's records.
   */
  function keepDone(result, recorded) {
    var done = function (status) { return status === "passed" || status === "completed"; };
    if (!recorded || !done(recorded.status)) return result;
    var raw = result.raw;
    if (Number.isFinite(recorded.raw) && (raw === null || recorded.raw > raw)) raw = recorded.raw;
    return { status: done(result.status) ? result.status : recorded.status, raw: raw };
  }

  /* CMITimespan: HHHH:MM:SS.SS (hours capped at 9999). */
  function sessionTime(ms) {
    var cs = Math.max(0, Math.floor(ms / 10));
    var hours = Math.min(9999, Math.floor(cs / 360000));
    if (hours === 9999) cs = Math.min(cs, 9999 * 360000 + 359999);
    var pad = function (n, w) { return String(n).padStart(w, "0"); };
    return pad(hours, 4) + ":" + pad(Math.floor(cs / 6000) % 60, 2) + ":" +
      pad(Math.floor(cs / 100) % 60, 2) + "." + pad(cs % 100, 2);
  }

  // -- the API ------------------------------------------------------------------------------------

  function apiOf(win) {
    try {
      var api = win.API;
      return api && typeof api.LMSInitialize === "function" ? api : null;
    } catch (e) {
      return null; // another origin's window: not ours to look into
    }
  }

  function climb(win) {
    for (var level = 0; win && level <= MAX_API_DEPTH; level++) {
      var api = apiOf(win);
      if (api) return api;
      var parent;
      try { parent = win.parent; } catch (e) { return null; }
      if (!parent || parent === win) return null;
      win = parent;
    }
    return null;
  }

  /* The SCORM 1.2 API: this window and its parents (up to 7 levels), then the opener's. */
  function findAPI(win) {
    var api = climb(win);
    if (api) return api;
    var opener = null;
    try { opener = win.opener; } catch (e) { opener = null; }
    return opener ? climb(opener) : null;
  }

  // -- the adapter --------------------------------------------------------------------------------

  /*
   * One LMS session. Every call goes through `call`, which catches exceptions and checks the
   * result; after a failure the session carries on (the LMS may recover) and the course never
   * notices.
   */
  function Session(api, win) {
    this.api = api;
    this.win = win;
    this.started = Date.now();
    this.sent = {};
    this.finished = false;
    this.failures = 0;
    this.timer = null;
    this.last = null;
    this.recorded = null; // the LMS's status and score before this session (open)
  }

  Session.prototype.call = function (name, args) {
    try {
      var result = this.api[name].apply(this.api, args);
      if (name === "LMSGetValue") return { ok: true, value: result === null || result === undefined ? "" : String(result) };
      var ok = result === true || result === "true";
      if (!ok) this.problem(name, args);
      return { ok: ok };
    } catch (e) {
      this.problem(name, args, e);
      return { ok: false, value: "" };
    }
  };

  Session.prototype.problem = function (name, args, error) {
    this.failures++;
    var code = "";
    try { code = String(this.api.LMSGetLastError()); } catch (e) { /* nothing more to learn */ }
    if (this.failures <= 5 && this.win.console) {
      this.win.console.info("SCORM: " + name + "(" + (args[0] || "") + ") failed" +
        (code ? " (error " + code + ")" : "") + (error ? ": " + error : "") +
        "; progress stays saved in this browser.");
    }
  };

  Session.prototype.get = function (element) {
    var got = this.call("LMSGetValue", [element]);
    if (!got.ok) return "";
    var code = "0";
    try { code = String(this.api.LMSGetLastError()); } catch (e) { code = "0"; }
    return code === "0" || code === "" ? got.value : "";
  };

  /* Sets `element` unless the LMS already has that value from this session. */
  Session.prototype.set = function (element, value) {
    value = String(value);
    if (this.sent[element] === value) return false;
    if (this.call("LMSSetValue", [element, value]).ok) this.sent[element] = value;
    return true;
  };

  Session.prototype.commit = function () {
    if (this.timer !== null) {
      this.win.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.finished) return;
    this.set("cmi.core.session_time", sessionTime(Date.now() - this.started));
    this.call("LMSCommit", [""]);
  };

  Session.prototype.commitSoon = function () {
    var self = this;
    if (this.timer === null && !this.finished) {
      this.timer = this.win.setTimeout(function () { self.timer = null; self.commit(); }, COMMIT_DELAY_MS);
    }
  };

  Session.prototype.finish = function () {
    if (this.finished) return;
    this.commit();
    this.finished = true;
    this.call("LMSFinish", [""]);
  };

  function courseShape(data) {
    return {
      items: data.items.map(function (item) { return item.id; }),
      lessons: data.lessons.map(function (lesson) { return lesson.id; }),
    };
  }

  /*
   * Sends the status, score, exit and progress that `state` gives; commits at once when the
   * status or score changed (or `now`), otherwise a little later (a rated card).
   */
  Session.prototype.report = function (state, course, now) {
    try {
      var checks = (state.ext && state.ext[CHECKS]) || {};
      var studied = course.shape.items.filter(function (id) { return state.items[id]; }).length;
      var result = keepDone(status({ graded: course.graded, checks: checks, studied: studied,
        total: course.shape.items.length, mastery: course.mastery }), this.recorded);
      var changed = !this.last || result.status !== this.last.status || result.raw !== this.last.raw;
      this.set("cmi.core.lesson_status", result.status);
      if (result.raw !== null) {
        this.set("cmi.core.score.min", "0");
        this.set("cmi.core.score.max", "100");
        this.set("cmi.core.score.raw", result.raw);
      } else if (this.recorded && Number.isFinite(this.recorded.raw)) {
        this.set("cmi.core.score.raw", ""); // an unfinished course's score (an older package's) goes
      }
      // Always "suspend", finished or not: the review schedule goes on after a pass, and SCORM
      // 1.2 lets an LMS drop the run-time data (suspend_data) after any other exit.
      this.set("cmi.core.exit", "suspend");
      var stored = this.set("cmi.suspend_data", encode({ items: state.items, checks: checks }, course.shape));
      this.last = result;
      if (changed || now) this.commit();
      else if (stored) this.commitSoon();
    } catch (e) {
      this.problem("report", [], e);
    }
  };

  /*
   * Opens the LMS session as the script loads, before the page shows its first view: returns the
   * session with the view the learner left and the saved progress, or null (no API, or
   * LMSInitialize refused): the course then works from localStorage alone.
   */
  function open(win) {
    var api = null;
    try { api = findAPI(win); } catch (e) { api = null; }
    if (!api) return null;
    var session = new Session(api, win);
    if (!session.call("LMSInitialize", [""]).ok) return null;
    var learner = session.get("cmi.core.student_id");
    if (win.Course && win.Course.scope) win.Course.scope(learner ? "lms:" + hash(learner).toString(36) : null);
    session.location = session.get("cmi.core.lesson_location");
    session.saved = session.get("cmi.suspend_data");
    session.lmsMastery = parseFloat(session.get("cmi.student_data.mastery_score"));
    session.recorded = { status: session.get("cmi.core.lesson_status"),
      raw: parseFloat(session.get("cmi.core.score.raw")) };
    return session;
  }

  /* What the report needs of the course: its shape, the lessons with a check (a split page's
     data lists them: site.py decides as check.js does, so that no lesson's script is needed),
     the pass mark (the LMS's own, cmi.student_data.mastery_score, before the course's). */
  function courseOf(data, doc, lmsMastery) {
    var graded = [];
    var check = root.CourseCheck;
    if (Array.isArray(data.graded)) {
      graded = data.graded.slice();
    } else if (check) {
      var lessons = data.lessons.map(function (lesson) { return lesson.id; });
      graded = check.gradedLessons(check.records(data.items, doc), lessons, root.Course.fold);
    }
    return {
      shape: courseShape(data),
      graded: graded,
      mastery: isFinite(lmsMastery) ? lmsMastery : data.masteryScore,
    };
  }

  /* The LMS's copy merged into the page's progress through the hooks. */
  function resume(session, Course, course) {
    var saved = null;
    try { saved = decode(session.saved, course.shape); } catch (e) { saved = null; }
    if (saved) {
      var items = resumeItems(Course.state().items, saved, Date.now());
      if (Object.keys(items).length) Course.merge(items);
      var check = root.CourseCheck; // the check results are check.js's data: it merges them
      if (check) {
        var checks = check.clean(Course.extension(CHECKS));
        var merged = check.merge(checks, saved.checks);
        if (JSON.stringify(merged) !== JSON.stringify(checks)) Course.extension(CHECKS, merged);
      }
    }
  }

  /* Runs done() once every lesson's content is on the page. A split page without `graded` (made
     before the data had it: its outline only, each lesson's items and check from the lesson's
     script) knows which lessons have a check, and so what passing means, only then: the scripts
     are loaded one after the other, in the background. */
  function loadAll(Course, lessons, win, done) {
    var i = 0;
    (function next() {
      if (i >= lessons.length) return done();
      Course.loadLesson(lessons[i++].id, function () { win.setTimeout(next, 0); });
    })();
  }

  /* Plugs a session into course.js's hooks (see the top of this file). */
  function attach(session, Course, win) {
    var course = null;
    Course.on("ready", function (detail) {
      var found = courseOf(detail.data, win.document, session.lmsMastery);
      resume(session, Course, found);
      var report = function () { // the status, at once: the page's or the LMS's copy may be ahead
        course = later ? courseOf(detail.data, win.document, session.lmsMastery) : found;
        session.report(Course.state(), course, true);
      };
      var later = detail.data.cards && !Array.isArray(detail.data.graded) && Course.loadLesson;
      if (later) loadAll(Course, detail.data.lessons, win, report);
      else report();
    });
    Course.on("progress", function (detail) {
      if (course) session.report(detail.state, course, false);
    });
    Course.on("view", function (detail) { // not-found is no place to resume: the last view stays
      if (detail.id && detail.view !== "not-found" && session.set("cmi.core.lesson_location", String(detail.id).slice(0, 255))) {
        session.commitSoon();
      }
    });
    // "leave" is pagehide: it fires on every way out (bfcache included) and its listeners may
    // make the synchronous calls LMSFinish needs.
    Course.on("leave", function () { session.finish(); });
    if (session.location && !win.location.hash) {
      try { win.history.replaceState(null, "", "#" + session.location); } catch (e) { /* stay home */ }
    }
  }

  var api = {
    LIMIT: LIMIT,
    encode: encode,
    decode: decode,
    resumeItems: resumeItems,
    status: status,
    keepDone: keepDone,
    sessionTime: sessionTime,
    findAPI: findAPI,
    hash: hash,
    itemKey: function (id) { return folded(id, ITEM_BITS); },
    lessonKey: function (id) { return folded(id, LESSON_BITS); },
  };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.CourseSCORM = api;
    if (root.Course && root.document) {
      var session = open(root);
      if (session) attach(session, root.Course, root);
    }
  }
})(typeof window !== "undefined" ? window : this);
