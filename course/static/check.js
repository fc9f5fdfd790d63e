/*
 * check.js - the graded check at the end of each lesson: questions drawn from the lesson's cards,
 * multiple choice or typed, graded leniently; the lesson's best result is kept in the progress and
 * feeds the SCORM score (scorm.js).
 *
 * Classic script (file:// blocks ES modules), listed after course.js in site.SCRIPTS. Sets
 * `window.CourseCheck` (and `module.exports` under CommonJS): pure functions over plain records,
 * tested through page.evaluate tables, and `mount()`, the small DOM view, which plugs into
 * course.js's hooks: on Course.on("ready") it fills every section[data-check] (course_page.html's
 * `lesson_end` block; on a split page, each lesson's when Course.on("lesson") says its content
 * came), texts from Course.t/Course.tn; results are kept with
 * Course.extension("checks", ...), so progress validation, import and reset keep them; on
 * Course.on("progress") (another tab, the LMS's copy merged in) the views show the new results,
 * and an imported progress file's results are merged in (the best of both per lesson).
 *
 * Records (one per reviewable item, made from the page's data by `records()`):
 *   {id, card, lesson, kind, prompt (HTML), answer (text), answerHtml}
 * A question: {id, type: "choice"|"typed", prompt, answer, answerHtml, options?: [{text, html}]}
 *
 * Rules:
 *   - only the forward side of a card (no "<id>:r"), only items with an answer;
 *   - a short answer (at most TYPED_MAX characters and TYPED_WORDS words once normalised) is typed,
 *     anything longer is multiple choice with up to 3 distractors from other cards' answers in
 *     the same lesson, same kind of card first (a long answer with no distractor is left out);
 *   - SIZE questions per attempt, drawn and shuffled by a PRNG seeded with the lesson id and the
 *     attempt number: the same attempt shows the same questions after a reload, the next differs;
 *   - typed answers are compared after folding case and diacritics (the search's `fold`) and
 *     treating punctuation as space;
 *   - the result is the percentage of correct answers; the lesson keeps its best;
 *   - Enter in an answer sends the check only once every question has an answer, and before that
 *     moves the focus to the next question without one (never a check sent half answered).
 * Progress: state.ext.checks[<lesson id>] = {best: 0..100, n: attempts finished}, read back
 * through `clean()` (stored progress is never trusted).
 */
(function (root) {
  "use strict";

  var SIZE = 5;
  var DISTRACTORS = 3;
  var TYPED_MAX = 25;
  var TYPED_WORDS = 2;
  var EXTENSION = "checks";

  // -- pure ---------------------------------------------------------------------------------------

  function hash(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h >>> 0;
  }

  /* mulberry32: a small seeded PRNG, the same sequence in every browser. */
  function random(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6d2b79f5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function shuffle(list, next) {
    var out = list.slice();
    for (var i = out.length - 1; i > 0; i--) {
      var j = Math.floor(next() * (i + 1));
      var tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }

  /* Folded (case, diacritics) with punctuation and symbols as space, spaces collapsed. */
  function normalize(text, fold) {
    return fold(String(text)).replace(/[\p{P}\p{S}\s]+/gu, " ").trim();
  }

  function isTyped(record, fold) {
    var norm = normalize(record.answer, fold);
    return norm.length <= TYPED_MAX && norm.split(" ").length <= TYPED_WORDS;
  }

  function pool(records, lesson, fold) {
    return records.filter(function (r) {
      return r.lesson === lesson && !/:r$/.test(r.id) && normalize(r.answer, fold) !== "";
    });
  }

  /* Up to DISTRACTORS other answers of the lesson, distinct from the answer and each other;
     answers of the same kind of card first (a cloze's gap against other gaps, not sentences). */
  function distractors(record, candidates, next, fold) {
    var seen = {};
    seen[normalize(record.answer, fold)] = true;
    var out = [];
    var mixed = shuffle(candidates, next);
    var alike = function (other) { return other.kind === record.kind; };
    mixed.filter(alike).concat(mixed.filter(function (o) { return !alike(o); })).forEach(function (other) {
      var key = normalize(other.answer, fold);
      if (out.length < DISTRACTORS && !seen[key]) {
        seen[key] = true;
        out.push(other);
      }
    });
    return out;
  }

  function question(record, candidates, next, fold) {
    var base = { id: record.id, prompt: record.prompt, answer: record.answer, answerHtml: record.answerHtml };
    if (isTyped(record, fold)) return Object.assign(base, { type: "typed" });
    var wrong = distractors(record, candidates, next, fold);
    if (!wrong.length) return null;
    var options = shuffle([record].concat(wrong), next).map(function (r) {
      return { text: r.answer, html: r.answerHtml, correct: r === record };
    });
    return Object.assign(base, { type: "choice", options: options });
  }

  /* The questions of attempt `attempt` (1, 2...) of the lesson's check; [] when it has none. */
  function draw(records, lesson, attempt, fold) {
    var candidates = pool(records, lesson, fold);
    var next = random(hash(lesson + "#" + attempt));
    var out = [];
    shuffle(candidates, next).forEach(function (record) {
      if (out.length >= SIZE) return;
      var q = question(record, candidates, next, fold);
      if (q) out.push(q);
    });
    return out;
  }

  /* Whether a lesson has a check: the questions any attempt can draw are the same cards. */
  function gradedLessons(records, lessons, fold) {
    return lessons.filter(function (lesson) { return draw(records, lesson, 1, fold).length > 0; });
  }

  /* response: the chosen option's index (choice) or the typed text. */
  function grade(q, response, fold) {
    if (q.type === "choice") return typeof response === "number" && !!q.options[response] && q.options[response].correct;
    return typeof response === "string" && normalize(response, fold) === normalize(q.answer, fold);
  }

  function score(questions, responses, fold) {
    var correct = questions.filter(function (q, i) { return grade(q, responses[i], fold); }).length;
    return { correct: correct, total: questions.length, percent: questions.length ? Math.round(100 * correct / questions.length) : 0 };
  }

  /* The valid entries of stored check results: {best: whole 0..100, n: whole >= 1} by lesson. */
  function clean(value) {
    var out = {};
    if (!value || typeof value !== "object" || Array.isArray(value)) return out;
    Object.keys(value).forEach(function (lesson) {
      var c = value[lesson];
      if (c && Number.isInteger(c.best) && c.best >= 0 && c.best <= 100 && Number.isInteger(c.n) && c.n >= 1) {
        out[lesson] = { best: c.best, n: c.n };
      }
    });
    return out;
  }

  /* Results of two copies (this browser's and an import's or the LMS's), both clean: for each
     lesson the better result and the more attempts. */
  function merge(local, other) {
    var out = Object.assign({}, local);
    Object.keys(other).forEach(function (id) {
      var ours = out[id];
      var theirs = other[id];
      out[id] = {
        best: Math.max(theirs.best, ours ? ours.best : 0),
        n: Math.max(theirs.n, ours ? ours.n : 0),
      };
    });
    return out;
  }

  /* A finished attempt recorded in the lesson's check progress (a new object). */
  function record(previous, percent) {
    return { best: Math.max(previous ? previous.best : 0, percent), n: (previous ? previous.n : 0) + 1 };
  }

  // -- records from the page's data ---------------------------------------------------------------

  function fragment(html, doc) {
    var t = doc.createElement("template");
    t.innerHTML = html;
    return t.content;
  }

  function text(node) {
    return (node.textContent || "").replace(/\s+/g, " ").trim();
  }

  /* data.items (rendered HTML) -> records: a cloze's answer is its hidden text, its prompt the
     text with the gap. */
  function records(items, doc) {
    // a split page's items have no sides until their lesson's script has come (course.js)
    return items.filter(function (item) { return item.front !== undefined; }).map(function (item) {
      if (item.kind === "cloze") {
        var front = fragment(item.front, doc);
        var hidden = Array.prototype.slice.call(front.querySelectorAll(".cloze-text"));
        var answer = hidden.map(text).join(" … ");
        hidden.forEach(function (node) { node.remove(); });
        var holder = doc.createElement("div");
        holder.appendChild(front);
        var escaped = doc.createElement("span");
        escaped.textContent = answer;
        return { id: item.id, card: item.card, lesson: item.lesson, kind: item.kind,
          prompt: holder.innerHTML, answer: answer, answerHtml: escaped.innerHTML };
      }
      return { id: item.id, card: item.card, lesson: item.lesson, kind: item.kind,
        prompt: item.front, answer: text(fragment(item.back, doc)), answerHtml: item.back };
    });
  }

  // -- the DOM view -------------------------------------------------------------------------------

  function el(doc, tag, className, content) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  /*
   * Fills every section[data-check] of the page. env: {data, doc, fold, t, tn, percent(n),
   * results() -> {<lesson>: {best, n}}, keep(lesson, result), on(name, fn)}: keep() stores a
   * lesson's result in the progress (which reaches the LMS), on() is Course.on.
   */
  function mount(env, only) {
    var doc = env.doc;
    var all = records(env.data.items, doc);
    Array.prototype.forEach.call(doc.querySelectorAll("[data-check]"), function (section) {
      var lesson = section.getAttribute("data-check");
      // on a split page each lesson's check is mounted when its content has come, only once
      if (only && lesson !== only) return;
      if (!draw(all, lesson, 1, env.fold).length) {
        section.remove();
        return;
      }
      view(section, lesson, all, env);
    });
  }

  /* The env of mount() on the course page, from course.js's hooks. */
  function pageEnv(Course, data, doc) {
    var percent = new Intl.NumberFormat(data.lang, { style: "percent" });
    return {
      data: data, doc: doc, fold: Course.fold, t: Course.t, tn: Course.tn, on: Course.on,
      percent: function (n) { return percent.format(n / 100); },
      results: function () { return clean(Course.extension(EXTENSION)); },
      keep: function (lesson, result) {
        var all = clean(Course.extension(EXTENSION));
        all[lesson] = result;
        Course.extension(EXTENSION, all);
      },
    };
  }

  /* The check's parts: heading, intro, best result, start button, form, result (a status). */
  function parts(section, lesson, doc, t) {
    var ui = {
      heading: el(doc, "h2", "", t("check_title")),
      intro: el(doc, "p", "check-intro"),
      best: el(doc, "p", "check-best"),
      start: el(doc, "button", "button primary"),
      form: el(doc, "form", "check-form"),
      result: el(doc, "p", "check-result"),
    };
    ui.heading.id = "check-title-" + lesson;
    ui.heading.tabIndex = -1;
    ui.start.type = "button";
    ui.form.hidden = true;
    ui.form.noValidate = true;
    ui.result.setAttribute("role", "status");
    ui.result.tabIndex = -1;
    section.replaceChildren(ui.heading, ui.intro, ui.best, ui.start, ui.form, ui.result);
    return ui;
  }

  function view(section, lesson, all, env) {
    var t = env.t;
    var ui = parts(section, lesson, env.doc, t);
    var questions = [];

    function progress() {
      return env.results()[lesson] || null;
    }

    function refresh() {
      var p = progress();
      ui.best.textContent = p ? t("check_best", { score: env.percent(p.best) }) : t("check_not_taken");
      ui.start.textContent = p ? t("check_again") : t("check_start");
    }

    ui.start.addEventListener("click", function () {
      var p = progress();
      questions = draw(all, lesson, (p ? p.n : 0) + 1, env.fold);
      ui.intro.textContent = env.tn("check_intro", questions.length);
      ui.form.replaceChildren.apply(ui.form, render(env.doc, lesson, questions, env).concat(submitButton(env.doc, t)));
      ui.form.hidden = false;
      ui.start.hidden = true;
      ui.result.textContent = "";
      var first = ui.form.querySelector("input");
      if (first) first.focus();
    });

    // Enter in an answer sends the check only once every question has an answer: before that it
    // moves on to the next question without one (a browser sends a form on Enter in any of its
    // fields, and a learner presses Enter after typing an answer).
    ui.form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.isComposing || event.target.tagName !== "INPUT") return;
      var items = ui.form.querySelectorAll(".check-question");
      var at = Array.prototype.indexOf.call(items, event.target.closest(".check-question"));
      var open = nextOpen(ui.form, questions, at);
      if (open < 0) return;
      event.preventDefault();
      items[open].querySelector("input").focus();
    });

    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (ui.form.hidden || !questions.length) return;
      var got = finish(ui.form, lesson, questions, env);
      refresh();
      ui.result.textContent = t("check_result", { score: env.percent(got.percent), correct: got.correct, total: got.total });
      ui.start.hidden = false;
      questions = [];
      ui.result.focus();
    });

    ui.intro.textContent = env.tn("check_intro", draw(all, lesson, 1, env.fold).length);
    refresh();
    env.on("progress", refresh);
  }

  /* The index of the first question after `at` (going round, `at` itself last) with no answer
     yet, or -1 when every question has one. */
  function nextOpen(form, questions, at) {
    for (var k = 1; k <= questions.length; k++) {
      var i = (at + k) % questions.length;
      var given = response(form, questions[i], i);
      if (given === null || (typeof given === "string" && !given.trim())) return i;
    }
    return -1;
  }

  /* Grades the attempt, shows each answer's feedback, keeps the lesson's best result. */
  function finish(form, lesson, questions, env) {
    var responses = questions.map(function (q, i) { return response(form, q, i); });
    var got = score(questions, responses, env.fold);
    questions.forEach(function (q, i) { feedback(form, q, i, grade(q, responses[i], env.fold), env); });
    Array.prototype.forEach.call(form.querySelectorAll("input, button"), function (c) { c.disabled = true; });
    env.keep(lesson, record(env.results()[lesson], got.percent));
    return got;
  }

  function submitButton(doc, t) {
    var submit = el(doc, "button", "button primary", t("check_submit"));
    submit.type = "submit";
    var p = el(doc, "p", "actions");
    p.append(submit);
    return [p];
  }

  function render(doc, lesson, questions, env) {
    var list = el(doc, "ol", "check-questions");
    questions.forEach(function (q, i) {
      var name = "check-" + lesson + "-" + i;
      var item = el(doc, "li", "check-question");
      var fieldset = el(doc, "fieldset");
      var legend = el(doc, "legend", "", env.t("check_question", { n: i + 1, total: questions.length }));
      var prompt = el(doc, "div", "check-prompt");
      prompt.id = name + "-prompt";
      prompt.innerHTML = q.prompt; // rendered at build time from the escaped Markdown
      fieldset.setAttribute("aria-describedby", prompt.id);
      fieldset.append(legend, prompt);
      if (q.type === "choice") {
        q.options.forEach(function (option, k) {
          var label = el(doc, "label", "check-option");
          var input = el(doc, "input");
          input.type = "radio";
          input.name = name;
          input.value = String(k);
          var body = el(doc, "span");
          body.innerHTML = option.html;
          label.append(input, body);
          fieldset.append(label);
        });
      } else {
        var label = el(doc, "label", "check-typed", env.t("check_type_answer") + " ");
        var input = el(doc, "input");
        input.type = "text";
        input.name = name;
        input.autocomplete = "off";
        input.spellcheck = false;
        label.append(input);
        fieldset.append(label);
      }
      var note = el(doc, "div", "check-feedback");
      note.setAttribute("data-feedback", "");
      fieldset.append(note);
      item.append(fieldset);
      list.append(item);
    });
    return [list];
  }

  function response(form, q, i) {
    var inputs = form.querySelectorAll(".check-question")[i].querySelectorAll("input");
    if (q.type === "typed") return inputs[0].value;
    for (var k = 0; k < inputs.length; k++) if (inputs[k].checked) return k;
    return null;
  }

  function feedback(form, q, i, correct, env) {
    var item = form.querySelectorAll(".check-question")[i];
    var note = item.querySelector("[data-feedback]");
    item.setAttribute("data-correct", correct ? "true" : "false");
    if (correct) {
      note.replaceChildren(el(env.doc, "p", "", env.t("check_correct")));
      return;
    }
    var answer = el(env.doc, "div");
    answer.innerHTML = q.answerHtml;
    note.replaceChildren(el(env.doc, "p", "", env.t("check_wrong")), answer);
  }

  var api = {
    SIZE: SIZE,
    draw: draw,
    grade: grade,
    score: score,
    record: record,
    normalize: normalize,
    gradedLessons: gradedLessons,
    records: records,
    clean: clean,
    merge: merge,
    mount: mount,
  };
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.CourseCheck = api;
    if (root.Course && root.document) {
      root.Course.on("ready", function (detail) {
        mount(pageEnv(root.Course, detail.data, root.document));
      });
      root.Course.on("lesson", function (detail) {
        mount(pageEnv(root.Course, root.Course.data, root.document), detail.id);
      });
      // An imported progress file brings its check results: the best of both is kept.
      root.Course.on("progress", function (detail) {
        if (detail.reason !== "import" || !detail.imported || !detail.imported.ext) return;
        var theirs = clean(detail.imported.ext[EXTENSION]);
        if (!Object.keys(theirs).length) return;
        root.Course.extension(EXTENSION, merge(clean(root.Course.extension(EXTENSION)), theirs));
      });
    }
  }
})(typeof window !== "undefined" ? window : this);
