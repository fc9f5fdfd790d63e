/*
 * course.js - the DOM layer of one language's course page: views, review, search box, progress
 * display, export/import/reset. What can be computed without the DOM lives in pure modules loaded
 * before it: fsrs.js (scheduler), search.js (folding, matching), progress.js (validation, merge,
 * the day's new cards), queue.js (review queue, lesson progress, forecast, streak).
 *
 * The page (<lang>/index.html) holds the course home, every lesson, each lesson's card sheet, the
 * review, the search and a not-found view, switched by the URL hash: #home, #lesson/<id>,
 * #lesson/<id>/<section>, #card-<id>, #cards/<lesson id>, #review, #search?q=<words>. One document
 * per language, because Firefox gives each file:// document its own localStorage.
 *
 * Classic script (ES modules are blocked on file://), loaded in <head>: it marks <html class="js">
 * at once (so the CSS shows one view without a flash of the others) and starts when the document
 * is parsed. Data comes from <script type="application/json" id="course-data">.
 *
 * Progress: localStorage[data.storageKey] holds one JSON state (progress.js), written whole by one
 * setItem per change. Stored data that is not valid is never lost: the original text is copied to
 * "<storageKey>:backup:<time>" (never overwritten) before anything else is written, the learner is
 * told, and the review page offers it for download. When no copy can be written (storage full),
 * the original stays where it is (nothing is saved over it) until the learner has downloaded it
 * from the notice (the text kept in memory) or reset the progress. A full storage is still read: the progress
 * is shown and used, and the notice says that saving fails (it is retried on every change).
 *
 * Hooks for features that plug in (scripts listed after this one in site.SCRIPTS):
 *   Course.on(name, fn)   fn(detail) on each event; also a DOM CustomEvent "course:<name>" on
 *                         document, with the same detail
 *     "ready"     {data}                 the page has started (progress loaded, first view shown)
 *     "progress"  {state, reason[, imported]}  progress changed: "review", "import", "reset",
 *                                        "storage", "extension", "merge"; on "import", `imported`
 *                                        is the file read (its `ext` holds the features' data,
 *                                        which each feature merges into its own)
 *     "view"      {view, id, lesson}     the view changed (view: home, lesson, cards, review,
 *                                        search, not-found; lesson: its id or null)
 *     "leave"     {}                     the page is being left (pagehide): finish synchronously
 *   Course.data              the course-data block
 *   Course.state()           the current progress state (read only: copy before changing)
 *   Course.merge(items)      merge FSRS cards by item id as an import does (each validated; only
 *                            the course's items; the later review wins) -> {taken, unknown, dropped}
 *   Course.extension(name[, value])  read, or write and save, a feature's own JSON in state.ext
 *   Course.loadLesson(id, done)  run done() once the lesson's content is on the page (at once
 *                            unless a split page has yet to load its script)
 *   Course.t(key[, args]), Course.tn(key, n[, args])  the page's messages (data.messages), with
 *                            {name} placeholders filled; tn picks the plural form for n
 *   Course.fold(s)           search folding (CourseSearch.fold)
 *   Course.scope(name)       whose progress this is, called before the page starts (scorm.js calls
 *                            it as its script loads, before DOMContentLoaded): a string keeps the
 *                            progress under "<storageKey>:<name>" (an LMS's learner:
 *                            "lms:<hash of cmi.core.student_id>"), null keeps it in the page only
 *                            (an LMS that names no learner: the LMS holds it). Without a call the
 *                            plain course's storageKey. Returns false (and changes nothing) once
 *                            the page has started: the store is read once, at the start.
 *     "lesson"    {id}                   a split page's lesson content has arrived (see below)
 *
 * A split page (site.SPLIT_BYTES: a large course) holds the course's outline only. Its data has
 * `cards` (each lesson's item IDs: the items are made from them, without their sides) instead of
 * full `items`, and `searchScript` instead of `search`. A lesson's content (text, card sheet, the
 * sides of its items) comes from `<lessonsDir>/<id>.js`, added as a <script> element when the
 * lesson, one of its sections or cards, or one of its items in the review is first needed
 * (file:// allows scripts, not fetch); it calls Course.lesson(payload): {id, article (the lesson's
 * view), sheet (its card sheet view), nav (its sections for the sidebar), items (the sides of its
 * items: {<item id>: [front, back]})}. Links to a lesson (the outline's, the "what changed"
 * list's, a lesson's pager) lead to its plain page (lesson-<id>.html[#<anchor>], for readers
 * without JavaScript) until this script makes them #lesson/<id> (#<anchor>) links: those on the
 * page at the start, and a lesson's pager when its content arrives. The search records come
 * from `searchScript` on the first search (Course.searchData(records)).
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var DAY_MS = 24 * 60 * 60 * 1000;
  var FORECAST_DAYS = 7;
  var P = window.CourseProgress;
  var Q = window.CourseQueue;
  var S = window.CourseSearch;

  // -- hooks ----------------------------------------------------------------------------------------

  var listeners = {};

  function emit(name, detail) {
    (listeners[name] || []).forEach(function (fn) {
      try { fn(detail); } catch (e) { window.console.error(e); } // a feature never breaks the course
    });
    document.dispatchEvent(new CustomEvent("course:" + name, { detail: detail }));
  }

  var arrived = {}; // a split page's lesson payloads, by lesson id, as their scripts deliver them
  var scope = { name: undefined, started: false }; // whose progress the page keeps (Course.scope)

  window.Course = {
    fold: S.fold,
    on: function (name, fn) { (listeners[name] = listeners[name] || []).push(fn); },
    lesson: function (payload) { arrived[payload.id] = payload; },
    scope: function (name) {
      if (scope.started) return false;
      scope.name = name;
      return true;
    },
  };

  // -- small helpers --------------------------------------------------------------------------------

  function $(selector, root) {
    return (root || document).querySelector(selector);
  }

  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("course-data");
    if (source) start(JSON.parse(source.textContent));
  });

  function start(data) {
    var i18n = texts(data.lang, data.messages);
    scope.started = true;
    var store = scope.name === null ? openStore(null, memoryStorage())
      : openStore(data.storageKey + (scope.name ? ":" + scope.name : ""), null);
    var app = {
      data: data, t: i18n.t, tn: i18n.tn, when: i18n.when, interval: i18n.interval,
      numbers: i18n.numbers, store: store, state: store.state, current: null,
      known: {}, lessons: {},
    };
    if (data.cards) data.items = indexItems(data);
    data.items.forEach(function (item) { app.known[item.id] = item; });
    app.cardLesson = {};
    data.items.forEach(function (item) { app.cardLesson[item.card] = item.lesson; });
    setupLoading(app);
    data.lessons.forEach(function (lesson) { app.lessons[lesson.id] = lesson; });
    app.setState = function (next, reason, imported) {
      app.state = next;
      if (reason !== "storage") store.save(next);
      if (store.held && app.heldNotice) notify(app, app.heldNotice.lines, app.heldNotice.original);
      else if (store.failed) notify(app, [app.t("save_failed")], null);
      var detail = { state: next, reason: reason };
      if (imported) detail.imported = imported;
      emit("progress", detail);
      refresh(app);
    };
    window.Course.data = data;
    window.Course.t = i18n.t;
    window.Course.tn = i18n.tn;
    window.Course.state = function () { return app.state; };
    /* Runs done() once the lesson's content is on the page (a split page loads its script). */
    window.Course.loadLesson = function (id, done) { app.loadLesson(id, done); };
    window.Course.merge = function (items) {
      var valid = P.cleanItems(items);
      var got = mergeItems(app, { items: valid.items, day: "" });
      return { taken: got.taken, unknown: got.unknown, dropped: valid.dropped };
    };
    window.Course.extension = function (name, value) {
      if (arguments.length < 2) return app.state.ext[name];
      var next = Object.assign({}, app.state, { ext: Object.assign({}, app.state.ext) });
      next.ext[name] = value;
      app.setState(next, "extension");
      return value;
    };
    setupRouter(app);
    setupReview(app);
    setupTools(app);
    setupSearch(app);
    setupMenu(app);
    setupSpy(app);
    setupPrint();
    showDamage(app, storageLines(app));
    window.addEventListener("storage", function (event) {
      if (store.key === null || event.key !== store.key) return;
      app.setState(store.adopt(event.newValue), "storage");
      showDamage(app, []);
    });
    window.addEventListener("pagehide", function () { emit("leave", {}); });
    app.route(false);
    emit("ready", { data: data });
    // The browser scrolls to a #lesson/<id> element itself once the page has loaded; a view
    // starts at the top of the page, with the header in sight.
    window.addEventListener("load", function () {
      if (!app.where().target) window.scrollTo({ top: 0, behavior: "instant" });
    }, { once: true });
  }

  // -- a split page: lessons and search records loaded when first needed --------------------------

  /* The items of a split page from its `cards` index: per lesson "<common prefix>|<rest> <rest>"
     (site._compact); an item ID is "<card>", "<card>:r" or "<card>:c<n>". */
  function indexItems(data) {
    var items = [];
    data.lessons.forEach(function (lesson) {
      var packed = (data.cards[lesson.id] || "|").split("|");
      var rests = packed[0] || packed[1] ? packed[1].split(" ") : [];
      rests.forEach(function (rest) {
        var id = packed[0] + rest;
        var m = /^(.*?)(?::(r|c\d+))?$/.exec(id);
        var cloze = !!m[2] && m[2].charAt(0) === "c";
        items.push({ id: id, card: m[1], lesson: lesson.id, kind: cloze ? "cloze" : "basic" });
      });
    });
    return items;
  }

  function addScript(src, done) {
    var script = el("script");
    script.src = src;
    script.onload = done;
    script.onerror = function () {
      window.console.error("course: could not load " + src);
      done();
    };
    document.head.appendChild(script);
  }

  function setupLoading(app) {
    var loaded = {}, waiting = {};
    linkLessons();
    /* Runs done() once the lesson's content is on the page (at once when it is already). */
    app.loadLesson = function (id, done) {
      if (!app.data.cards || loaded[id] || !app.lessons[id]) return done();
      if (waiting[id]) return waiting[id].push(done);
      waiting[id] = [done];
      addScript(app.data.lessonsDir + "/" + encodeURIComponent(id) + ".js", function () {
        loaded[id] = true;
        if (arrived[id]) install(app, arrived[id]);
        delete arrived[id];
        var calls = waiting[id];
        delete waiting[id];
        calls.forEach(function (fn) { fn(); });
      });
    };
    app.isLoaded = function (id) { return !app.data.cards || !!loaded[id]; };
    var searchWaiting = null;
    /* Runs done() once data.search holds every record of the course. */
    app.loadSearch = function (done) {
      if (!app.data.searchScript) return done();
      if (searchWaiting) return searchWaiting.push(done);
      searchWaiting = [done];
      window.Course.searchData = function (records) { app.data.search = records; };
      addScript(app.data.searchScript, function () {
        app.data.searchScript = null;
        var calls = searchWaiting;
        searchWaiting = null;
        calls.forEach(function (fn) { fn(); });
      });
    };
  }

  /* A split page's links to a lesson's plain page (lesson-<id>.html[#<anchor>], site.lesson_link)
     become links to its view: #<anchor>, or #lesson/<id>. */
  function linkLessons() {
    $all('a[data-lesson-link]:not([href^="#"])').forEach(function (link) {
      var href = link.getAttribute("href"), at = href.indexOf("#");
      link.setAttribute("href", at > 0 ? href.slice(at) : "#lesson/" + link.getAttribute("data-lesson-link"));
    });
  }

  function install(app, payload) {
    // rendered at build time from the escaped Markdown, as the one-page course's views are
    document.getElementById("review").insertAdjacentHTML("beforebegin", payload.article + payload.sheet);
    linkLessons(); // its pager
    var nav = $('[data-nav-lesson="' + payload.id + '"]');
    if (nav) nav.insertAdjacentHTML("beforeend", payload.nav);
    Object.keys(payload.items).forEach(function (id) {
      var item = app.known[id];
      if (item) { item.front = payload.items[id][0]; item.back = payload.items[id][1]; }
    });
    emit("lesson", { id: payload.id });
  }

  /* The lesson whose content the address needs: #lesson/<id>[/...], #cards/<id>, #card-<id>. */
  function lessonOfHash(app, raw) {
    var m = /^(?:lesson|cards)\/([^/]+)/.exec(raw);
    if (m) return m[1];
    m = /^card-(.+)$/.exec(raw);
    return m ? app.cardLesson[m[1]] || null : null;
  }

  // -- messages -------------------------------------------------------------------------------------

  function texts(lang, messages) {
    var plurals = new Intl.PluralRules(lang);
    var numbers = new Intl.NumberFormat(lang);
    var relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    function fill(text, args) {
      return text.replace(/\{(\w+)\}/g, function (whole, name) {
        return name in args ? String(args[name]) : whole;
      });
    }
    function t(key, args) { return fill(messages[key], args || {}); }
    function tn(key, n, args) {
      var forms = messages[key];
      return fill(forms[plurals.select(n)] || forms.other,
                  Object.assign({}, args || {}, { n: numbers.format(n) }));
    }
    function startOfDay(ms) {
      var d = new Date(ms);
      return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    }
    /* "in 3 days", "tomorrow", "in 10 minutes": the unit that reads best for the distance. */
    function when(ms, now) {
      var diff = ms - now, abs = Math.abs(diff);
      if (abs < 3600 * 1000) return relative.format(Math.round(diff / 60000), "minute");
      if (abs < DAY_MS) return relative.format(Math.round(diff / 3600000), "hour");
      var days = Math.round((startOfDay(ms) - startOfDay(now)) / DAY_MS);
      if (Math.abs(days) < 31) return relative.format(days, "day");
      if (Math.abs(days) < 365) return relative.format(Math.round(days / 30.4), "month");
      return relative.format(Math.round(days / 365), "year");
    }
    /* A short interval for a grade button: "1 min", "10 min", "3 days", "2.5 mths". */
    function interval(ms) {
      var unit, value;
      if (ms < 3600 * 1000) { unit = "minute"; value = Math.max(1, Math.round(ms / 60000)); }
      else if (ms < DAY_MS) { unit = "hour"; value = Math.round(ms / 3600000); }
      else if (ms < 30 * DAY_MS) { unit = "day"; value = Math.round(ms / DAY_MS); }
      else if (ms < 365 * DAY_MS) { unit = "month"; value = Math.round(ms / DAY_MS / 30.4 * 10) / 10; }
      else { unit = "year"; value = Math.round(ms / DAY_MS / 365 * 10) / 10; }
      return new Intl.NumberFormat(lang, {
        style: "unit", unit: unit, unitDisplay: "short", maximumFractionDigits: 1,
      }).format(value);
    }
    return { t: t, tn: tn, when: when, interval: interval, numbers: numbers };
  }

  // -- storage --------------------------------------------------------------------------------------

  /* The progress under `key` in localStorage, or (`memory`, key null) in the page only. */
  function openStore(key, memory) {
    var storage = memory;
    try {
      if (!storage) {
        storage = window.localStorage;
        storage.getItem(key); // blocked site data throws here: no storage at all
      }
    } catch (e) {
      storage = null;
    }
    var store = { key: key, available: !!storage, failed: false, damaged: null, held: false };
    try {
      if (storage) {
        storage.setItem(key + ":probe", "1");
        storage.removeItem(key + ":probe");
      }
    } catch (e) {
      store.failed = true; // full: what is stored is still read and shown; only saving fails
    }
    /* The state in `raw` (what is valid of it); damaged text is first copied aside. When it cannot
       be (storage full), the original is `held`: nothing is saved over it until the learner has
       downloaded it from memory (or chosen to reset). */
    store.adopt = function (raw) {
      var got = P.parseStored(raw);
      var backup = got.damaged ? keepAside(storage, key, raw) : null;
      store.held = got.damaged && !backup;
      if (got.damaged) store.damaged = { dropped: got.dropped, backup: backup, original: raw };
      return got.state;
    };
    store.state = store.adopt(storage ? storage.getItem(key) : null);
    store.backups = function () {
      if (!storage) return [];
      var prefix = key + ":backup:";
      var found = [];
      for (var i = 0; i < storage.length; i++) {
        var name = storage.key(i);
        if (name && name.indexOf(prefix) === 0) found.push(name);
      }
      return found.sort();
    };
    store.read = function (name) { return storage ? storage.getItem(name) : null; };
    store.save = function (state) {
      if (!storage || store.held) return;
      try {
        storage.setItem(key, JSON.stringify(state)); // one key, one JSON: never half a change
        store.failed = false;
      } catch (e) {
        store.failed = true; // full or blocked: the page keeps the progress and says so
      }
    };
    return store;
  }

  /* A Storage of the page's own: progress that belongs to no one in this browser (Course.scope). */
  function memoryStorage() {
    var kept = {};
    return {
      get length() { return Object.keys(kept).length; },
      key: function (i) { var names = Object.keys(kept); return i < names.length ? names[i] : null; },
      getItem: function (name) { return Object.prototype.hasOwnProperty.call(kept, name) ? kept[name] : null; },
      setItem: function (name, value) { kept[name] = String(value); },
      removeItem: function (name) { delete kept[name]; },
    };
  }

  /* Copy damaged stored progress to a key of its own, never overwriting an earlier copy. */
  function keepAside(storage, key, raw) {
    if (!storage || raw === null) return null;
    var name = key + ":backup:" + new Date().toISOString();
    for (var n = 2; storage.getItem(name) !== null; n++) name = name.replace(/(#\d+)?$/, "#" + n);
    try {
      storage.setItem(name, raw);
      return name;
    } catch (e) {
      return null;
    }
  }

  function download(name, text) {
    var link = el("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  }

  /* The notice of damaged progress found (once), followed by `more` lines (storage trouble). */
  function showDamage(app, more) {
    var damaged = app.store.damaged;
    app.store.damaged = null;
    var lines = [];
    if (damaged) lines.push(damaged.backup ? app.t("progress_damaged") : app.t("progress_damaged_held"));
    if (damaged && damaged.dropped) lines.push(app.tn("entries_skipped", damaged.dropped));
    lines = lines.concat(more);
    var original = damaged ? offer(app, damaged) : null;
    if (app.store.held) app.heldNotice = { lines: lines, original: original };
    if (lines.length) notify(app, lines, original);
  }

  /* What the learner must know at the start about saving: blocked (nothing is kept when the page
     is closed: every view says so, not only the review's tools) or full. */
  function storageLines(app) {
    if (!app.store.available) return [app.t("storage_blocked")];
    return app.store.failed ? [app.t("save_failed")] : [];
  }

  /* The damaged original for download: its copy aside, or (none could be made) the text kept in
     memory, after which the page may save over it again. */
  function offer(app, damaged) {
    if (damaged.backup) return function () { return app.store.read(damaged.backup); };
    return function () {
      if (app.store.held) {
        app.store.held = false;
        app.store.save(app.state);
      }
      return damaged.original;
    };
  }

  /* The notice above every view: what happened to the learner's progress, and the damaged
     original to download when there is one (`original` gives its text: offer()). */
  function notify(app, lines, original) {
    var notice = $("[data-notice]");
    $("[data-notice-text]", notice).textContent = lines.join(" ");
    var get = $("[data-notice-download]", notice);
    get.hidden = !original;
    get.onclick = function () {
      download(app.data.course + "-" + app.data.lang + "-progress-damaged.json", original());
    };
    $("[data-notice-close]", notice).onclick = function () { notice.hidden = true; };
    notice.hidden = false;
  }

  // -- views and routing ----------------------------------------------------------------------------

  function setupRouter(app) {
    app.where = function () {
      var hash = location.hash;
      var query = S.queryFromHash(hash);
      if (query !== null) return { view: document.getElementById("search"), query: query };
      var raw = hash.slice(1);
      try { raw = decodeURIComponent(raw); } catch (e) { /* keep it as it is */ }
      if (!raw || raw === "home" || raw === "main") return { view: document.getElementById("home") };
      if (raw === "review") return { view: document.getElementById("review") };
      var target = document.getElementById(raw);
      var view = target && target.closest("[data-view]");
      // the not-found view's own id is no address of the course either
      if (!view || view.id === "not-found") return { view: document.getElementById("not-found"), missing: raw };
      return { view: view, target: target === view ? null : target };
    };
    app.route = function (moveFocus) {
      var raw = location.hash.slice(1);
      try { raw = decodeURIComponent(raw); } catch (e) { /* keep it as it is */ }
      var needed = lessonOfHash(app, raw);
      if (needed && !app.isLoaded(needed)) {
        app.loadLesson(needed, function () { app.route(moveFocus); });
        return;
      }
      var where = app.where();
      var view = where.view;
      // a split page adds card sheet views as its lessons arrive
      $all("[data-view]").forEach(function (v) { v.classList.toggle("is-current", v === view); });
      app.current = view;
      var name = view.getAttribute("data-view");
      var lesson = view.getAttribute("data-lesson");
      markNav(name, lesson);
      updateSwitcher(app, view);
      var heading = $("h1", view);
      document.title = view.id === "home" ? app.data.title : heading.textContent + " – " + app.data.title;
      if (name === "not-found") $("[data-missing]", view).textContent = "#" + where.missing;
      if (name === "search") app.search(where.query || "");
      if (name === "review") app.showReview(true);
      refresh(app);
      closeMenu();
      if (where.target && !where.target.hasAttribute("tabindex")) where.target.setAttribute("tabindex", "-1");
      var typing = name === "search" && document.activeElement && document.activeElement.type === "search";
      if (moveFocus && !typing) (where.target || heading).focus({ preventScroll: true });
      if (where.target) where.target.scrollIntoView({ behavior: "instant" });
      else window.scrollTo({ top: 0, behavior: "instant" });
      app.asked = where.target ? { y: window.scrollY } : null;
      markSection(app, where.target);
      emit("view", { view: name, id: view.id, lesson: lesson });
    };
    window.addEventListener("hashchange", function () { app.route(true); });
    // The skip link targets <main>: focus the current view's heading instead of changing the hash.
    var skip = $(".skip-link");
    if (skip) {
      skip.addEventListener("click", function (event) {
        event.preventDefault();
        $("h1", app.current).focus();
      });
    }
  }

  function markNav(name, lesson) {
    $all("[data-nav]").forEach(function (link) {
      if (link.getAttribute("data-nav") === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    $all("[data-nav-lesson]").forEach(function (item) {
      var here = item.getAttribute("data-nav-lesson") === lesson;
      item.classList.toggle("is-open", here);
      var link = $("a", item);
      if (here && name === "lesson") link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  /* The sidebar marks the section being read: the one asked for by the address, then, while the
     learner scrolls, the last section whose heading has passed under the header. */
  function setupSpy(app) {
    var pending = false;
    window.addEventListener("scroll", function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        // the scroll the address itself caused keeps the section it asked for
        var asked = app.asked;
        if (asked && Math.abs(window.scrollY - asked.y) < 8) return;
        app.asked = null;
        markSection(app, null);
      });
    }, { passive: true });
  }

  function markSection(app, target) {
    var links = $all(".nav-lessons .is-open .nav-sections a");
    var line = $(".site-header").getBoundingClientRect().bottom + 24;
    var asked = null, passed = null;
    links.forEach(function (link) {
      var heading = document.getElementById(link.getAttribute("href").slice(1));
      if (!heading) return;
      if (heading === target) asked = link;
      if (heading.getBoundingClientRect().top <= line) passed = link;
    });
    var here = asked || passed;
    links.forEach(function (link) {
      if (link === here) link.setAttribute("aria-current", "location");
      else link.removeAttribute("aria-current");
    });
  }

  function updateSwitcher(app, view) {
    var lessonId = view.getAttribute("data-lesson");
    var same = lessonId && app.data.switch[lessonId];
    $all("[data-switch]").forEach(function (link) {
      var other = link.getAttribute("data-switch");
      var href = "../" + other + "/index.html";
      if (other === app.data.lang) href = view.id === "home" ? "#home" : "#" + view.id;
      else if (same && same[other]) href = same[other];
      link.setAttribute("href", href);
    });
  }

  // -- progress on the home page, in the navigation and in lessons ----------------------------------

  function refresh(app) {
    var now = Date.now();
    var q = Q.build(app.data.items, app.state, now, P.newLeft(app.state, now, app.data.newPerDay));
    updateBadge(app, q);
    var name = app.current && app.current.getAttribute("data-view");
    var perLesson = Q.lessons(app.data.items, app.data.lessons, app.state);
    perLesson.forEach(function (lesson) { lessonBars(app, lesson); });
    if (name === "home") homeStats(app, q, perLesson, now);
    if (name === "lesson") {
      $all(".card[data-card-id]", app.current).forEach(function (node) { cardStatus(app, node, now); });
    }
    if (name === "review" && !app.review.shown) app.showReview(false);
    var tools = $("[data-backups]");
    if (tools) listBackups(app, tools);
  }

  function lessonBars(app, lesson) {
    var label = lesson.total
      ? app.t("studied_of", { n: app.numbers.format(lesson.studied), total: app.numbers.format(lesson.total) })
      : "";
    // A lesson without cards is done (queue.js): its bar is full, not 0 of 1.
    var empty = lesson.total === 0;
    $all('[data-lesson-bar="' + lesson.id + '"]').forEach(function (bar) {
      bar.max = empty ? 1 : lesson.total;
      bar.value = empty ? 1 : lesson.studied;
      bar.setAttribute("aria-label", label);
      bar.classList.toggle("is-done", lesson.done);
    });
    $all('[data-progress-lesson="' + lesson.id + '"]').forEach(function (node) {
      node.textContent = label;
    });
  }

  function homeStats(app, q, perLesson, now) {
    var data = app.data;
    var studied = data.items.filter(function (item) { return app.state.items[item.id]; }).length;
    var done = perLesson.filter(function (l) { return l.done; }).length;
    var n = app.numbers.format;
    setStat("studied", n(studied), app.t("of_total", { total: n(data.items.length) }));
    setStat("lessons", n(done), app.t("of_total", { total: n(perLesson.length) }));
    setStat("due", n(q.due + q.fresh), "");
    setStat("streak", n(Q.streak(app.state, now)), "");
    var bar = $("[data-course-bar]");
    bar.max = Math.max(1, data.items.length);
    bar.value = studied;
    var summary = $("[data-progress-summary]");
    summary.textContent = data.items.length
      ? [app.t("studied_of", { n: n(studied), total: n(data.items.length) }),
         app.tn("due_count", q.due), app.tn("new_count", q.fresh)].join(" · ")
      : app.t("no_cards");
    drawForecast(app, Q.forecast(data.items, app.state, now, FORECAST_DAYS), now);
  }

  function setStat(name, value, note) {
    var node = $('[data-stat="' + name + '"]');
    $("[data-stat-value]", node).textContent = value;
    $("[data-stat-note]", node).textContent = note;
  }

  function drawForecast(app, counts, now) {
    var list = $("[data-forecast]");
    var top = Math.max.apply(null, counts.concat([1]));
    var weekday = new Intl.DateTimeFormat(app.data.lang, { weekday: "short" });
    list.replaceChildren();
    counts.forEach(function (count, i) {
      var li = el("li", "day");
      var bar = el("span", "day-bar");
      bar.style.height = Math.round((count / top) * 100) + "%"; // CSSOM: allowed by the CSP
      var label = i === 0 ? app.t("today") : weekday.format(new Date(now + i * DAY_MS));
      li.append(el("span", "day-count", app.numbers.format(count)), el("span", "day-track"), el("span", "day-name", label));
      $(".day-track", li).append(bar);
      li.setAttribute("aria-label", label + ": " + app.tn("due_count", count));
      list.append(li);
    });
  }

  function cardStatus(app, node, now) {
    var id = node.getAttribute("data-card-id");
    var cards = app.data.items
      .filter(function (item) { return item.card === id; })
      .map(function (item) { return app.state.items[item.id]; });
    if (!cards.length) return;
    var status = $(".card-status", node);
    if (!status) {
      status = el("p", "card-status");
      node.insertBefore(status, $(".card-label", node));
    }
    var seen = cards.filter(Boolean);
    var first = Math.min.apply(null, seen.map(function (c) { return c.due; }));
    var state = !seen.length ? "new" : seen.length < cards.length || first <= now ? "due" : "scheduled";
    status.textContent = state === "new" ? app.t("status_new")
      : state === "due" ? app.t("status_due") : app.t("status_next", { when: app.when(first, now) });
    status.setAttribute("data-state", state);
  }

  /* The badge keeps its box when empty, so the header never changes height. */
  function updateBadge(app, q) {
    var waiting = q.due + q.fresh;
    $all("[data-due-badge]").forEach(function (badge) {
      badge.textContent = waiting ? app.numbers.format(waiting) : "";
      badge.title = waiting ? app.tn("due_count", q.due) + ", " + app.tn("new_count", q.fresh) : "";
    });
  }

  // -- review ---------------------------------------------------------------------------------------

  function setupReview(app) {
    var r = {
      card: $("[data-review-card]"), lesson: $("[data-review-lesson]"),
      front: $("[data-review-front]"), back: $("[data-review-back]"),
      status: $("[data-review-status]"), reveal: $("[data-reveal]"), grades: $("[data-grades]"),
      bar: $("[data-session-bar]"), count: $("[data-session-text]"), summary: $("[data-review-summary]"),
      item: null, shown: false, session: null,
    };
    app.review = r;
    app.showReview = function (fresh) { showReview(app, fresh); };
    r.reveal.addEventListener("click", function () { reveal(app); });
    $all("[data-grade]", r.grades).forEach(function (button) {
      button.addEventListener("click", function () { grade(app, +button.getAttribute("data-grade")); });
    });
    document.addEventListener("keydown", function (event) {
      if (!app.current || app.current.id !== "review" || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.target.closest("input, textarea, select, a, button:not([data-reveal]):not([data-grade])")) return;
      if ((event.key === " " || event.key === "Enter") && !r.shown && r.item) {
        event.preventDefault();
        reveal(app);
      } else if (/^[1-4]$/.test(event.key) && r.shown) {
        event.preventDefault();
        grade(app, +event.key);
      }
    });
  }

  function showReview(app, fresh) {
    var r = app.review, now = Date.now();
    var q = Q.build(app.data.items, app.state, now, P.newLeft(app.state, now, app.data.newPerDay));
    if (fresh || !r.session) r.session = { done: 0, ratings: { 1: 0, 2: 0, 3: 0, 4: 0 } };
    r.item = q.list[0] || null;
    r.shown = false;
    if (r.item && r.item.front === undefined) { // a split page: the item's lesson is not here yet
      var lesson = r.item.lesson;
      r.item = null;
      app.loadLesson(lesson, function () {
        if (app.current && app.current.id === "review") showReview(app, false);
      });
      return;
    }
    r.back.replaceChildren();
    r.grades.hidden = true;
    var total = r.session.done + q.list.length;
    r.bar.max = Math.max(1, total);
    r.bar.value = r.session.done;
    r.count.textContent = app.t("session_of", { n: app.numbers.format(Math.min(total, r.session.done + 1)), total: app.numbers.format(total) });
    r.bar.parentNode.hidden = !r.item;
    if (!r.item) return reviewDone(app, q, now);
    r.summary.hidden = true;
    var item = r.item;
    r.status.textContent = [app.tn("due_count", q.due), app.tn("new_count", q.fresh)].join(" · ");
    r.card.hidden = false;
    r.card.setAttribute("data-card-id", item.card);
    r.card.setAttribute("data-item-id", item.id);
    var link = el("a", "", app.lessons[item.lesson].title);
    link.href = "#card-" + item.card;
    r.lesson.replaceChildren(app.t("from_lesson") + " ", link);
    r.front.innerHTML = item.front; // rendered at build time from the escaped Markdown
    r.front.hidden = false;
    r.reveal.hidden = false;
  }

  function reviewDone(app, q, now) {
    var r = app.review;
    r.card.removeAttribute("data-card-id");
    r.card.removeAttribute("data-item-id");
    r.lesson.replaceChildren();
    r.front.replaceChildren();
    r.card.hidden = true;
    r.reveal.hidden = true;
    var next = Q.nextDue(app.data.items, app.state);
    var lines = [app.data.items.length ? app.t("review_done") : app.t("no_cards")];
    if (q.blockedNew) lines.push(app.t("new_limit_reached"));
    if (next < Infinity) lines.push(app.t("next_due", { when: app.when(next, now) }));
    r.status.textContent = lines.join(" ");
    var s = r.session;
    r.summary.hidden = !s.done;
    if (!s.done) return;
    $("[data-summary-count]", r.summary).textContent = app.tn("session_reviewed", s.done);
    $all("[data-summary-grade]", r.summary).forEach(function (node) {
      node.textContent = app.numbers.format(s.ratings[node.getAttribute("data-summary-grade")]);
    });
    $("[data-summary-streak]", r.summary).textContent = app.tn("streak_days", Q.streak(app.state, now));
  }

  /* The card to schedule: the stored one, or a new card when there is none or when FSRS cannot
     schedule it (validation keeps such cards out; this is the last guard: a review never blocks). */
  function schedulable(card, now) {
    if (!card) return FSRS.newCard(now);
    try {
      FSRS.review(card, 3, now);
      return card;
    } catch (e) {
      return FSRS.newCard(now);
    }
  }

  function reveal(app) {
    var r = app.review;
    if (!r.item || r.shown) return;
    r.shown = true;
    var now = Date.now();
    var due = FSRS.preview(schedulable(app.state.items[r.item.id], now), now);
    $all("[data-grade]", r.grades).forEach(function (button) {
      $("[data-interval]", button).textContent = app.interval(due[+button.getAttribute("data-grade")] - now);
    });
    if (r.item.kind === "cloze") r.front.hidden = true; // the back is the whole text, revealed
    r.back.innerHTML = r.item.back;
    r.reveal.hidden = true;
    r.grades.hidden = false;
    r.card.focus();
  }

  function grade(app, rating) {
    var r = app.review;
    if (!r.item || !r.shown) return;
    var now = Date.now();
    var id = r.item.id;
    var card = FSRS.review(schedulable(app.state.items[id], now), rating, now).card;
    r.session.done++;
    r.session.ratings[rating]++;
    r.shown = false;
    app.setState(P.recordReview(app.state, id, card, now), "review");
    (r.item ? r.card : $("h1", app.current)).focus();
  }

  // -- export, import, reset ------------------------------------------------------------------------

  function mergeItems(app, imported) {
    var now = Date.now();
    var got = P.merge(app.state, imported, function (id) { return !!app.known[id]; }, now);
    app.setState(got.state, "merge");
    return got;
  }

  function setupTools(app) {
    var status = $("[data-tools-status]");
    var file = $("[data-import-file]");
    var data = app.data;
    $("[data-export]").addEventListener("click", function () {
      download(data.course + "-" + data.lang + "-progress.json",
               P.exportBody(app.state, data.course, data.lang, Date.now()));
    });
    $("[data-import]").addEventListener("click", function () { file.click(); });
    file.addEventListener("change", function () {
      var chosen = file.files[0];
      if (!chosen) return;
      chosen.text().then(function (text) {
        var imported = P.parseImport(text, data.course, data.lang);
        var now = Date.now();
        var got = P.merge(app.state, imported, function (id) { return !!app.known[id]; }, now);
        var lines = [app.tn("import_done", got.taken)];
        if (imported.dropped) lines.push(app.tn("entries_skipped", imported.dropped));
        if (got.unknown) lines.push(app.tn("entries_unknown", got.unknown));
        app.setState(got.state, "import", imported);
        status.textContent = lines.join(" ");
      }).catch(function () {
        status.textContent = app.t("import_failed");
      }).then(function () { file.value = ""; });
    });
    $("[data-reset]").addEventListener("click", function () {
      if (!window.confirm(app.t("reset_confirm"))) return;
      app.store.held = false; // the learner chose to start over: the damaged original may go
      app.setState(P.reset(app.state, Date.now()), "reset");
      status.textContent = app.t("reset_done");
    });
    if (!app.store.available) status.textContent = app.t("storage_off");
  }

  function listBackups(app, list) {
    var names = app.store.backups();
    list.parentNode.hidden = !names.length;
    if (list.childElementCount === names.length) return;
    list.replaceChildren();
    names.forEach(function (name, i) {
      var button = el("button", "button", app.t("download_backup") + " " + (i + 1));
      button.type = "button";
      button.setAttribute("data-backup", name);
      button.addEventListener("click", function () {
        download(app.data.course + "-" + app.data.lang + "-progress-damaged-" + (i + 1) + ".json",
                 app.store.read(name));
      });
      var li = el("li");
      li.append(button);
      list.append(li);
    });
  }

  // -- search ---------------------------------------------------------------------------------------

  function setupSearch(app) {
    var results = $("[data-search-results]");
    var status = $("[data-search-status]");
    var inputs = $all("[data-search-form] input[type=search]");
    var records = null; // folded on the first search, not at start: the page is ready sooner
    var latest = null; // the last query asked for (a split page runs it once its records came)
    app.search = function (query) {
      inputs.forEach(function (input) { if (input !== document.activeElement) input.value = query; });
      var terms = S.terms(query);
      results.replaceChildren();
      if (!terms.length) { status.textContent = app.t("search_empty"); return; }
      latest = query;
      if (app.data.searchScript) { // a split page: the records come on the first search
        app.loadSearch(function () { if (latest === query) app.search(query); });
        return;
      }
      records = records || S.prepare(app.data.search);
      var found = S.match(records, terms);
      status.textContent = app.tn("results_count", found.length);
      found.slice(0, 100).forEach(function (rec) { results.append(result(app, rec, terms)); });
    };
    $all("[data-search-form]").forEach(function (form) {
      var input = $("input[type=search]", form);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var hash = S.hashFor(input.value.trim());
        if (location.hash === hash) app.route(true);
        else location.hash = hash;
      });
      input.addEventListener("input", function () {
        if (!app.current || app.current.id !== "search") return;
        history.replaceState(null, "", S.hashFor(input.value.trim()));
        app.search(input.value);
      });
    });
  }

  function marked(text, folded, terms, from, to) {
    var nodes = [], pos = from;
    S.ranges(folded, terms, from, to).forEach(function (range) {
      nodes.push(text.slice(pos, range[0]), el("mark", "", text.slice(range[0], range[1])));
      pos = range[1];
    });
    nodes.push(text.slice(pos, to));
    return nodes;
  }

  function result(app, rec, terms) {
    var li = el("li", rec.r.card ? "result result-card" : "result");
    var link = el("a");
    link.href = "#" + rec.r.href;
    link.append.apply(link, marked(rec.r.title, rec.title, terms, 0, rec.r.title.length));
    li.append(link);
    if (rec.r.card || rec.r.lesson !== rec.r.title) {
      li.append(el("p", "meta", (rec.r.card ? app.t("card") + " · " : "") + rec.r.lesson));
    }
    if (rec.r.text) {
      var span = S.snippet(rec, terms);
      var p = el("p", "snippet");
      p.append.apply(p, marked(rec.r.text, rec.text, terms, span.from, span.to));
      if (span.from > 0) p.prepend("…");
      if (span.to < rec.r.text.length) p.append("…");
      li.append(p);
    }
    return li;
  }

  // -- the lesson menu on narrow screens ------------------------------------------------------------

  var menuButton = null;

  function closeMenu() {
    if (!menuButton) return;
    menuButton.setAttribute("aria-expanded", "false");
    document.documentElement.classList.remove("menu-open");
  }

  function setupMenu() {
    menuButton = $("[data-menu]");
    if (!menuButton) return;
    menuButton.addEventListener("click", function () {
      var open = menuButton.getAttribute("aria-expanded") !== "true";
      menuButton.setAttribute("aria-expanded", String(open));
      document.documentElement.classList.toggle("menu-open", open);
      if (open) $("#sidebar a").focus();
    });
    // a click beside the open menu (on the dimmed page) closes it
    document.addEventListener("click", function (event) {
      if (menuButton.getAttribute("aria-expanded") !== "true") return;
      if (!event.target.closest("#sidebar, [data-menu]")) closeMenu();
    });
    // Tab past the open drawer's last link closes it: focus never sits on the page under the
    // dimmed overlay, out of sight behind the drawer (back into the header keeps it open)
    $("#sidebar").addEventListener("focusout", function (event) {
      var to = event.relatedTarget;
      if (menuButton.getAttribute("aria-expanded") !== "true" || !to) return;
      if (!to.closest("#sidebar, .site-header")) closeMenu();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menuButton.getAttribute("aria-expanded") === "true") {
        closeMenu();
        menuButton.focus();
      }
    });
  }

  // -- print: a lesson prints with its answers ------------------------------------------------------

  function setupPrint() {
    var closed = [];
    window.addEventListener("beforeprint", function () {
      closed = $all("details:not([open])");
      closed.forEach(function (d) { d.open = true; });
    });
    window.addEventListener("afterprint", function () {
      closed.forEach(function (d) { d.open = false; });
      closed = [];
    });
    $all("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }
})();
