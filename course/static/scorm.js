/*
 * scorm.js - the course page as a SCORM 1.2 SCO: finds the LMS's API, restores the learner's
 * progress from it, reports status, score and progress back, and never breaks the course.
 *
 * Classic script (file:// blocks ES modules), listed after course.js in site.SCRIPTS. Sets
 * `window.CourseSCORM` (and `module.exports` under CommonJS): pure functions, tested through
 * page.evaluate tables, and a thin adapter that plugs into course.js's hooks:
 *   as the script loads   find the API, LMSInitialize, read the view left (cmi.core.lesson_location:
 *                         the first view shown, unless the link names one) and the saved progress;
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
 *                            graded check and every card has been studied
 *   cmi.core.score.raw/min/max  mean of the lessons' best check results, 0..100
 *   cmi.core.lesson_location    the view the learner was on (#lesson/<id>, review...)
 *   cmi.suspend_data            the progress, compactly encoded (below), at most 4096 characters
 *   cmi.core.session_time       HHHH:MM:SS.SS
 *   cmi.core.exit               "suspend" while unfinished, "" once passed or completed
 *   cmi.student_data.mastery_score  read: the LMS's pass mark overrides the course's own
 *
 * suspend_data encoding (version 1), fields separated by ".":
 *   "1" . base . listhash . checks . seen . records
 *   base      minutes since 1970 (base 36) that the record times count from
 *   listhash  2 chars: hash of the course's item ids in order (`seen` is positional)
 *   checks    6 chars per taken lesson check: lesson index (2), lesson id hash (1), best % (2),
 *             attempts (1)
 *   seen      bitmap over the course's items in order, 6 per character: studied or not
 *   records   18 chars per item: item index (2), item id hash (1), FSRS state and step (1),
 *             reps (1), lapses (1), difficulty x100 (2), stability (2, logarithmic, 0.5 %),
 *             last review and due (4 + 4, minutes since base)
 * Numbers are fixed-width base64url. Everything but the base is ASCII letters, digits, "-", "_".
 *
 * Past the bound: header, checks and the `seen` bitmap always go in (they fit for about 20,000
 * cards); then full records, largest stability first (the most review history to lose), as many
 * as fit. A card that is only in the bitmap comes back as studied and due now. Nothing longer
 * than 4096 characters is ever written.
 */
(function (root) {
  "use strict";

  var LIMIT = 4096;
  var VERSION = "1";
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var MINUTE_MS = 60 * 1000;
  var DAY_MS = 24 * 60 * MINUTE_MS;
  var STABILITY_MIN = 0.001;
  var STABILITY_STEPS = 200; // per unit of ln(stability): 0.5 % precision
  var RECORD = 18;
  var CHECK = 6;
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

  function listHash(ids) {
    return num(hash(ids.join("\n")) % 4096, 2);
  }

  // -- progress <-> suspend_data --------------------------------------------------------------------

  function stabilityCode(s) {
    if (s === null || s === undefined) return 4095;
    return Math.min(4094, Math.round(Math.log(Math.max(s, STABILITY_MIN) / STABILITY_MIN) * STABILITY_STEPS));
  }

  function stabilityValue(code) {
    return code === 4095 ? null : STABILITY_MIN * Math.exp(code / STABILITY_STEPS);
  }

  function encodeRecord(index, id, card, base) {
    var step = card.step === null || card.step === undefined ? 3 : Math.min(2, card.step);
    var minutes = function (ms) { return Math.floor(ms / MINUTE_MS) - base; };
    return num(index, 2) + hashChar(id) + num((card.state & 3) * 4 + step, 1) +
      num(card.reps || 0, 1) + num(card.lapses || 0, 1) +
      num(card.difficulty === null || card.difficulty === undefined ? 4095 : card.difficulty * 100, 2) +
      num(stabilityCode(card.stability), 2) +
      num(minutes(card.last_review || card.due), 4) + num(minutes(card.due), 4);
  }

  function decodeRecord(text, base) {
    var stateStep = unnum(text.slice(3, 4));
    var difficulty = unnum(text.slice(6, 8));
    var time = function (s) { return (unnum(s) + base) * MINUTE_MS; };
    return {
      index: unnum(text.slice(0, 2)),
      check: text[2],
      card: {
        due: time(text.slice(14, 18)),
        stability: stabilityValue(unnum(text.slice(8, 10))),
        difficulty: difficulty === 4095 ? null : difficulty / 100,
        state: stateStep >> 2,
        step: (stateStep & 3) === 3 ? null : stateStep & 3,
        last_review: time(text.slice(10, 14)),
        reps: unnum(text.slice(4, 5)),
        lapses: unnum(text.slice(5, 6)),
      },
    };
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
    var stored = [];
    course.items.forEach(function (id, index) {
      if (items[id] && index < 4096) stored.push({ index: index, id: id, card: items[id] });
    });
    var times = stored.map(function (r) { return Math.floor((r.card.last_review || r.card.due) / MINUTE_MS); });
    var base = times.length ? Math.min.apply(null, times) : 0;
    var checkText = "";
    course.lessons.forEach(function (id, index) {
      var c = checks[id];
      if (c && isFinite(c.best) && isFinite(c.n || 1) && index < 4096) checkText += num(index, 2) + hashChar(id) + num(c.best, 2) + num(c.n || 1, 1);
    });
    var head = [VERSION, base.toString(36), listHash(course.items), checkText,
      seenBitmap(course.items, items)].join(".") + ".";
    if (head.length > limit) return head.slice(0, limit).replace(/\.$/, "");
    stored.sort(function (a, b) { return (b.card.stability || 0) - (a.card.stability || 0) || a.index - b.index; });
    var room = Math.floor((limit - head.length) / RECORD);
    var records = stored.slice(0, room).sort(function (a, b) { return a.index - b.index; });
    return head + records.map(function (r) { return encodeRecord(r.index, r.id, r.card, base); }).join("");
  }

  /*
   * Returns {items: {<id>: card}, seen: [ids studied but without a record], checks} or null when
   * `text` is not this encoding. Records and checks whose id hash does not match the course (it
   * was updated since) are dropped; so is the bitmap when the item list changed.
   */
  function decode(text, course) {
    if (typeof text !== "string") return null;
    var parts = text.split(".");
    if (parts[0] !== VERSION || parts.length < 4) return null;
    var base = parseInt(parts[1], 36);
    if (!isFinite(base)) return null;
    var out = { items: {}, seen: [], checks: {} };
    var checks = parts[3] || "";
    for (var i = 0; i + CHECK <= checks.length; i += CHECK) {
      var lesson = course.lessons[unnum(checks.slice(i, i + 2))];
      if (lesson === undefined || hashChar(lesson) !== checks[i + 2]) continue;
      out.checks[lesson] = { best: Math.min(100, unnum(checks.slice(i + 3, i + 5))), n: unnum(checks[i + 5]) };
    }
    var records = parts[5] || "";
    for (var r = 0; r + RECORD <= records.length; r += RECORD) {
      var rec = decodeRecord(records.slice(r, r + RECORD), base);
      var id = course.items[rec.index];
      if (id !== undefined && hashChar(id) === rec.check && rec.card.state >= 0) out.items[id] = rec.card;
    }
    if (parts[2] === listHash(course.items)) {
      var seen = parts[4] || "";
      for (var c = 0; c < seen.length; c++) {
        var bits = DIGITS.indexOf(seen[c]);
        for (var k = 0; k < 6; k++) {
          var item = course.items[c * 6 + k];
          if (bits & (1 << k) && item !== undefined && !out.items[item]) out.seen.push(item);
        }
      }
    }
    return out;
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
   * raw: mean of the taken checks' best results (null before the first); the status is decided
   * once every graded check is taken.
   */
  function status(o) {
    var taken = o.graded.filter(function (id) { return o.checks[id]; });
    var raw = taken.length
      ? Math.round(taken.reduce(function (sum, id) { return sum + o.checks[id].best; }, 0) / taken.length)
      : null;
    if (!o.graded.length) return { status: o.studied >= o.total ? "completed" : "incomplete", raw: null };
    if (taken.length < o.graded.length) return { status: "incomplete", raw: raw };
    return { status: raw >= o.mastery ? "passed" : "failed", raw: raw };
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
      var result = status({ graded: course.graded, checks: checks, studied: studied,
        total: course.shape.items.length, mastery: course.mastery });
      var changed = !this.last || result.status !== this.last.status || result.raw !== this.last.raw;
      this.set("cmi.core.lesson_status", result.status);
      if (result.raw !== null) {
        this.set("cmi.core.score.min", "0");
        this.set("cmi.core.score.max", "100");
        this.set("cmi.core.score.raw", result.raw);
      }
      var done = result.status === "passed" || result.status === "completed";
      this.set("cmi.core.exit", done ? "" : "suspend");
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
    sessionTime: sessionTime,
    findAPI: findAPI,
    hash: hash,
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
