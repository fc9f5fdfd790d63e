/*
 * course.js - the views, review and search of one language's course page.
 *
 * The page (<lang>/index.html) holds the course home, every lesson, the review and the search as
 * views, switched by the URL hash: #home, #lesson/<id>, #lesson/<id>/<section>, #card-<id>,
 * #review, #search?q=<words>. One document per language, because Firefox gives each file://
 * document its own localStorage: progress must stay in one place.
 *
 * Classic script (ES modules are blocked on file://), loaded in <head> after fsrs.js: it marks
 * <html class="js"> at once (so the CSS shows one view without a flash of the others) and starts
 * when the document is parsed. Data comes from <script type="application/json" id="course-data">.
 *
 * Progress: localStorage[data.storageKey] = {v: 1, items: {<item id>: FSRS card}, day, newToday}.
 * Item ids: "<card id>" (basic), "<card id>:r" (reversed side), "<card id>:c<n>" (cloze n), so a
 * content update keeps every card's history. Exposes window.Course.fold for the tests.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var DAY_MS = 24 * 60 * 60 * 1000;
  var DAY_START_HOURS = 4; // Anki's next day starts at 4 am
  var LEARN_AHEAD_MS = 20 * 60 * 1000; // Anki's learn-ahead limit

  // -- search folding: case, accents, Greek final sigma, Polish ł ----------------------------------

  var MARKS = /\p{M}/gu;
  var SPECIAL = { "ς": "σ", "ł": "l", "ß": "ss" };

  function foldChar(ch) {
    var f = ch.normalize("NFD").replace(MARKS, "").toLowerCase();
    return f.replace(/[ςłß]/g, function (c) { return SPECIAL[c]; });
  }

  /* Returns {text, map}: map[i] is the index in `s` of the character folded into text[i]. */
  function foldIndexed(s) {
    var out = "";
    var map = [];
    for (var i = 0; i < s.length; ) {
      var cp = s.codePointAt(i);
      var ch = String.fromCodePoint(cp);
      var f = foldChar(ch);
      for (var k = 0; k < f.length; k++) map.push(i);
      out += f;
      i += ch.length;
    }
    map.push(s.length);
    return { text: out, map: map };
  }

  function fold(s) {
    return foldIndexed(s).text;
  }

  window.Course = { fold: fold };

  // -- small helpers ------------------------------------------------------------------------------

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

  function dayKey(now) {
    var d = new Date(now - DAY_START_HOURS * 3600 * 1000);
    return d.getFullYear() + "-" + (d.getMonth() + 1) + "-" + d.getDate();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("course-data");
    if (source) start(JSON.parse(source.textContent));
  });

  function start(data) {
    var lang = data.lang;
    var messages = data.messages;
    var plurals = new Intl.PluralRules(lang);
    var numbers = new Intl.NumberFormat(lang);
    var relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
    var itemsById = {};
    var lessonsById = {};
    data.items.forEach(function (item) { itemsById[item.id] = item; });
    data.lessons.forEach(function (lesson) { lessonsById[lesson.id] = lesson; });

    // -- messages ---------------------------------------------------------------------------------

    function fill(text, args) {
      return text.replace(/\{(\w+)\}/g, function (whole, name) {
        return name in args ? String(args[name]) : whole;
      });
    }

    function t(key, args) {
      return fill(messages[key], args || {});
    }

    function tn(key, n, args) {
      var forms = messages[key];
      var text = forms[plurals.select(n)] || forms.other;
      return fill(text, Object.assign({}, args || {}, { n: numbers.format(n) }));
    }

    /* "in 3 days", "tomorrow", "in 10 minutes": the unit that reads best for the distance. */
    function when(ms, now) {
      var diff = ms - now;
      var abs = Math.abs(diff);
      if (abs < 3600 * 1000) return relative.format(Math.round(diff / 60000), "minute");
      if (abs < DAY_MS) return relative.format(Math.round(diff / 3600000), "hour");
      var days = Math.round((startOfDay(ms) - startOfDay(now)) / DAY_MS);
      if (Math.abs(days) < 31) return relative.format(days, "day");
      if (Math.abs(days) < 365) return relative.format(Math.round(days / 30.4), "month");
      return relative.format(Math.round(days / 365), "year");
    }

    function startOfDay(ms) {
      var d = new Date(ms);
      return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
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

    // -- progress storage -------------------------------------------------------------------------

    var storage = null;
    try {
      storage = window.localStorage;
      storage.setItem(data.storageKey + ":probe", "1");
      storage.removeItem(data.storageKey + ":probe");
    } catch (e) {
      storage = null;
    }

    function emptyState() {
      return { v: 1, items: {}, day: "", newToday: 0 };
    }

    function load() {
      if (!storage) return emptyState();
      try {
        var saved = JSON.parse(storage.getItem(data.storageKey) || "null");
        if (saved && saved.v === 1 && saved.items && typeof saved.items === "object") return saved;
      } catch (e) { /* unreadable progress starts afresh */ }
      return emptyState();
    }

    var state = load();

    function save() {
      if (storage) storage.setItem(data.storageKey, JSON.stringify(state));
    }

    function newLeft(now) {
      var today = dayKey(now);
      var used = state.day === today ? state.newToday : 0;
      return Math.max(0, data.newPerDay - used);
    }

    // -- scheduling -------------------------------------------------------------------------------

    /* Due reviews first (most overdue first), then new cards in course order up to the day's limit;
       when nothing else is left, learning steps due within Anki's 20-minute learn-ahead limit. */
    function queue(now) {
      var due = [], ahead = [], fresh = [];
      data.items.forEach(function (item) {
        var card = state.items[item.id];
        if (!card) fresh.push(item);
        else if (card.due <= now) due.push(item);
        else if (card.state !== FSRS.State.Review && card.due <= now + LEARN_AHEAD_MS) ahead.push(item);
      });
      var byDue = function (a, b) { return state.items[a.id].due - state.items[b.id].due; };
      due.sort(byDue);
      ahead.sort(byDue);
      var allowed = fresh.slice(0, newLeft(now));
      var list = due.concat(allowed);
      return {
        list: list.length ? list : ahead,
        due: due.length,
        fresh: allowed.length,
        blockedNew: fresh.length - allowed.length,
      };
    }

    function nextDue() {
      var min = Infinity;
      Object.keys(state.items).forEach(function (id) {
        if (itemsById[id]) min = Math.min(min, state.items[id].due);
      });
      return min;
    }

    // -- views and routing ------------------------------------------------------------------------

    var views = $all("[data-view]");
    var current = null;

    function parseHash() {
      var raw = location.hash.slice(1);
      try { raw = decodeURIComponent(raw); } catch (e) { /* keep it as it is */ }
      if (!raw || raw === "home") return { view: document.getElementById("home") };
      if (raw === "review") return { view: document.getElementById("review") };
      if (raw === "search" || raw.indexOf("search?") === 0) {
        var q = new URLSearchParams(raw.slice(7)).get("q") || "";
        return { view: document.getElementById("search"), query: q };
      }
      var target = document.getElementById(raw);
      var view = target && target.closest("[data-view]");
      if (!view) return { view: document.getElementById("home") };
      return { view: view, target: target === view ? null : target };
    }

    function route(moveFocus) {
      var where = parseHash();
      var view = where.view;
      views.forEach(function (v) { v.classList.toggle("is-current", v === view); });
      current = view;
      var name = view.getAttribute("data-view");
      $all("[data-nav]").forEach(function (link) {
        if (link.getAttribute("data-nav") === name) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      });
      updateSwitcher(view);
      var heading = $("h1", view);
      document.title = view.id === "home" ? data.title : heading.textContent + " – " + data.title;
      if (name === "review") showReview();
      else updateBadge(queue(Date.now()));
      if (name === "search") runSearch(where.query || "", false);
      if (name === "home" || name === "lesson") showProgress();
      if (where.target && !where.target.hasAttribute("tabindex")) where.target.setAttribute("tabindex", "-1");
      if (moveFocus && !(name === "search" && document.activeElement === searchInput)) {
        (where.target || heading).focus({ preventScroll: true });
      }
      if (where.target) where.target.scrollIntoView({ behavior: "instant" });
      else window.scrollTo({ top: 0, behavior: "instant" });
    }

    function updateSwitcher(view) {
      var lessonId = view.getAttribute("data-lesson");
      var same = lessonId && data.switch[lessonId];
      $all("[data-switch]").forEach(function (link) {
        var other = link.getAttribute("data-switch");
        var href = "../" + other + "/index.html";
        if (other === lang) href = view.id === "home" ? "#home" : "#" + view.id;
        else if (same && same[other]) href = same[other];
        link.setAttribute("href", href);
      });
    }

    window.addEventListener("hashchange", function () { route(true); });

    // The skip link targets <main>: focus the current view's heading instead of changing the hash.
    var skip = $(".skip-link");
    if (skip) {
      skip.addEventListener("click", function (event) {
        event.preventDefault();
        $("h1", current).focus();
      });
    }

    // -- progress on the home page and in lessons -------------------------------------------------

    function showProgress() {
      var now = Date.now();
      var q = queue(now);
      var studied = data.items.filter(function (item) { return state.items[item.id]; }).length;
      var summary = $("[data-progress-summary]");
      if (summary) {
        summary.textContent = data.items.length
          ? [t("studied_of", { n: numbers.format(studied), total: numbers.format(data.items.length) }),
             tn("due_count", q.due), tn("new_count", q.fresh)].join(" · ")
          : t("no_cards");
      }
      data.lessons.forEach(function (lesson) {
        var items = data.items.filter(function (item) { return item.lesson === lesson.id; });
        var done = items.filter(function (item) { return state.items[item.id]; }).length;
        $all('[data-progress-lesson="' + lesson.id + '"]').forEach(function (node) {
          node.textContent = items.length
            ? "· " + t("studied_of", { n: numbers.format(done), total: numbers.format(items.length) })
            : "";
        });
      });
      $all(".card[data-card-id]").forEach(function (node) { cardStatus(node, now); });
    }

    function cardStatus(node, now) {
      var id = node.getAttribute("data-card-id");
      var cards = data.items
        .filter(function (item) { return item.card === id; })
        .map(function (item) { return state.items[item.id]; });
      if (!cards.length) return;
      var status = $(".card-status", node);
      if (!status) {
        status = el("p", "card-status");
        node.insertBefore(status, $(".card-label", node));
      }
      var seen = cards.filter(Boolean);
      var due = seen.map(function (c) { return c.due; });
      var text;
      if (seen.length < cards.length && !seen.length) text = t("status_new");
      else if (seen.length < cards.length || Math.min.apply(null, due) <= now) text = t("status_due");
      else text = t("status_next", { when: when(Math.min.apply(null, due), now) });
      status.textContent = text;
      status.setAttribute("data-state", !seen.length ? "new" : text === t("status_due") ? "due" : "scheduled");
    }

    // -- review -----------------------------------------------------------------------------------

    var review = {
      card: $("[data-review-card]"),
      lesson: $("[data-review-lesson]"),
      front: $("[data-review-front]"),
      back: $("[data-review-back]"),
      status: $("[data-review-status]"),
      reveal: $("[data-reveal]"),
      grades: $("[data-grades]"),
      item: null,
      shown: false,
    };

    function showReview() {
      var now = Date.now();
      var q = queue(now);
      review.item = q.list[0] || null;
      review.shown = false;
      review.back.replaceChildren();
      review.grades.hidden = true;
      if (!review.item) {
        review.card.removeAttribute("data-card-id");
        review.lesson.replaceChildren();
        review.front.replaceChildren();
        var next = nextDue();
        var lines = [data.items.length ? t("review_done") : t("no_cards")];
        if (q.blockedNew) lines.push(t("new_limit_reached"));
        if (next < Infinity) lines.push(t("next_due", { when: when(next, now) }));
        review.status.textContent = lines.join(" ");
        review.reveal.hidden = true;
        review.card.hidden = true;
        updateBadge(q);
        return;
      }
      var item = review.item;
      review.status.textContent = [tn("due_count", q.due), tn("new_count", q.fresh)].join(" · ");
      review.card.hidden = false;
      review.card.setAttribute("data-card-id", item.card);
      review.card.setAttribute("data-item-id", item.id);
      var lesson = lessonsById[item.lesson];
      var link = el("a", "", lesson.title);
      link.href = "#card-" + item.card;
      review.lesson.replaceChildren(t("from_lesson") + " ", link);
      review.front.innerHTML = item.front; // rendered at build time from the escaped Markdown
      review.front.hidden = false;
      review.reveal.hidden = false;
      updateBadge(q);
    }

    function updateBadge(q) {
      var badge = $("[data-due-badge]");
      var waiting = q.due + q.fresh;
      badge.textContent = waiting ? numbers.format(waiting) : "";
      badge.title = waiting ? tn("due_count", q.due) + ", " + tn("new_count", q.fresh) : "";
    }

    function reveal() {
      if (!review.item || review.shown) return;
      var item = review.item;
      review.shown = true;
      var now = Date.now();
      var card = state.items[item.id] || FSRS.newCard(now);
      var due = FSRS.preview(card, now);
      $all("[data-grade]", review.grades).forEach(function (button) {
        var grade = +button.getAttribute("data-grade");
        $("[data-interval]", button).textContent = interval(due[grade] - now);
      });
      if (item.kind === "cloze") review.front.hidden = true; // the back is the whole text, revealed
      review.back.innerHTML = item.back;
      review.reveal.hidden = true;
      review.grades.hidden = false;
      review.card.focus();
    }

    function grade(rating) {
      if (!review.item || !review.shown) return;
      var now = Date.now();
      var id = review.item.id;
      var before = state.items[id];
      state.items[id] = FSRS.review(before || FSRS.newCard(now), rating, now).card;
      if (!before) {
        var today = dayKey(now);
        state.newToday = (state.day === today ? state.newToday : 0) + 1;
        state.day = today;
      }
      save();
      showReview();
      (review.item ? review.card : $("h1", current)).focus();
    }

    review.reveal.addEventListener("click", reveal);
    $all("[data-grade]", review.grades).forEach(function (button) {
      button.addEventListener("click", function () { grade(+button.getAttribute("data-grade")); });
    });

    document.addEventListener("keydown", function (event) {
      if (!current || current.id !== "review" || event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      if (target.closest("input, textarea, select, a, button:not([data-reveal]):not([data-grade])")) return;
      if ((event.key === " " || event.key === "Enter") && !review.shown && review.item) {
        event.preventDefault();
        reveal();
      } else if (/^[1-4]$/.test(event.key) && review.shown) {
        event.preventDefault();
        grade(+event.key);
      }
    });

    // -- export, import, reset --------------------------------------------------------------------

    var toolsStatus = $("[data-tools-status]");
    var importFile = $("[data-import-file]");

    $("[data-export]").addEventListener("click", function () {
      var body = JSON.stringify({
        format: "course-progress", version: 1, course: data.course, lang: lang,
        exported: new Date().toISOString(), day: state.day, newToday: state.newToday, items: state.items,
      }, null, 1);
      var link = el("a");
      link.href = URL.createObjectURL(new Blob([body], { type: "application/json" }));
      link.download = data.course + "-" + lang + "-progress.json";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });

    $("[data-import]").addEventListener("click", function () { importFile.click(); });

    importFile.addEventListener("change", function () {
      var file = importFile.files[0];
      if (!file) return;
      file.text().then(function (text) {
        var got = JSON.parse(text);
        if (!got || got.format !== "course-progress" || got.course !== data.course || got.lang !== lang ||
            typeof got.items !== "object") {
          throw new Error("not this course's progress");
        }
        // Merge: for each item keep whichever side reviewed it last.
        var taken = 0;
        Object.keys(got.items).forEach(function (id) {
          var theirs = got.items[id];
          var ours = state.items[id];
          if (theirs && typeof theirs.due === "number" && (!ours || (theirs.last_review || 0) > (ours.last_review || 0))) {
            state.items[id] = theirs;
            taken++;
          }
        });
        save();
        toolsStatus.textContent = tn("import_done", taken);
        showReview();
      }).catch(function () {
        toolsStatus.textContent = t("import_failed");
      }).then(function () { importFile.value = ""; });
    });

    $("[data-reset]").addEventListener("click", function () {
      if (!window.confirm(t("reset_confirm"))) return;
      state = emptyState();
      if (storage) storage.removeItem(data.storageKey);
      toolsStatus.textContent = t("reset_done");
      showReview();
    });

    if (!storage) toolsStatus.textContent = t("storage_off");

    // Another tab of the same course saved progress: show it here too.
    window.addEventListener("storage", function (event) {
      if (event.key !== data.storageKey) return;
      state = load();
      if (current.id === "review" && !review.shown) showReview();
      else showProgress();
    });

    // -- search -----------------------------------------------------------------------------------

    var searchForm = $("[data-search-form]");
    var searchInput = $("#search-q");
    var results = $("[data-search-results]");
    var searchStatus = $("[data-search-status]");
    var records = data.search.map(function (r) {
      return { r: r, title: foldIndexed(r.title), text: foldIndexed(r.text) };
    });

    function words(query) {
      return fold(query).split(/[\s\p{P}]+/u).filter(Boolean);
    }

    /* The original text with the first match of each word in <mark>, as DOM nodes. */
    function highlighted(source, folded, terms, from, to) {
      var start = 0;
      while (start < folded.text.length && folded.map[start] < from) start++;
      var ranges = [];
      terms.forEach(function (w) {
        var at = folded.text.indexOf(w, start);
        if (at >= 0) ranges.push([folded.map[at], folded.map[at + w.length]]);
      });
      ranges.sort(function (a, b) { return a[0] - b[0]; });
      var nodes = [];
      var pos = from;
      ranges.forEach(function (range) {
        var a = Math.max(range[0], pos), b = Math.min(range[1], to);
        if (a >= b) return;
        nodes.push(source.slice(pos, a));
        nodes.push(el("mark", "", source.slice(a, b)));
        pos = b;
      });
      nodes.push(source.slice(pos, to));
      return nodes;
    }

    function snippet(record, terms) {
      var text = record.r.text;
      if (!text) return null;
      var first = Infinity;
      terms.forEach(function (w) {
        var at = record.text.text.indexOf(w);
        if (at >= 0) first = Math.min(first, record.text.map[at]);
      });
      if (first === Infinity) first = 0;
      var from = Math.max(0, first - 60);
      var to = Math.min(text.length, first + 140);
      var nodes = highlighted(text, record.text, terms, from, to);
      if (from > 0) nodes.unshift("…");
      if (to < text.length) nodes.push("…");
      return nodes;
    }

    function runSearch(query, fromInput) {
      if (!fromInput && searchInput.value !== query) searchInput.value = query;
      var terms = words(query);
      results.replaceChildren();
      if (!terms.length) {
        searchStatus.textContent = t("search_empty");
        return;
      }
      var found = records.filter(function (rec) {
        var all = rec.title.text + " " + rec.text.text;
        return terms.every(function (w) { return all.indexOf(w) >= 0; });
      });
      var score = function (rec) {
        return terms.filter(function (w) { return rec.title.text.indexOf(w) >= 0; }).length;
      };
      found.sort(function (a, b) { return score(b) - score(a); }); // stable: course order otherwise
      searchStatus.textContent = tn("results_count", found.length);
      found.slice(0, 100).forEach(function (rec) {
        var li = el("li", rec.r.card ? "result result-card" : "result");
        var link = el("a");
        link.href = "#" + rec.r.href;
        link.append.apply(link, highlighted(rec.r.title, rec.title, terms, 0, rec.r.title.length));
        li.append(link);
        if (rec.r.card || rec.r.lesson !== rec.r.title) {
          li.append(el("p", "meta", (rec.r.card ? t("card") + " · " : "") + rec.r.lesson));
        }
        var nodes = snippet(rec, terms);
        if (nodes) {
          var p = el("p", "snippet");
          p.append.apply(p, nodes);
          li.append(p);
        }
        results.append(li);
      });
    }

    function searchHash(query) {
      return "#search?q=" + encodeURIComponent(query);
    }

    searchForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var hash = searchHash(searchInput.value.trim());
      if (location.hash === hash) route(true);
      else location.hash = hash;
    });

    searchInput.addEventListener("input", function () {
      if (!current || current.id !== "search") return;
      history.replaceState(null, "", searchHash(searchInput.value.trim()));
      runSearch(searchInput.value, true);
    });

    // -- print: a lesson prints with its answers --------------------------------------------------

    var closedForPrint = [];
    window.addEventListener("beforeprint", function () {
      closedForPrint = $all("details:not([open])");
      closedForPrint.forEach(function (d) { d.open = true; });
    });
    window.addEventListener("afterprint", function () {
      closedForPrint.forEach(function (d) { d.open = false; });
      closedForPrint = [];
    });

    route(false);
    // The browser scrolls to a #lesson/<id> element itself once the page has loaded; a view
    // starts at the top of the page, with the header in sight.
    window.addEventListener("load", function () {
      if (!parseHash().target) window.scrollTo({ top: 0, behavior: "instant" });
    }, { once: true });
  }
})();
