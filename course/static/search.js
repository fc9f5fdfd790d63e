/*
 * search.js - pure search functions of the HTML course: folding, matching, highlighting, and the
 * search part of the URL. No DOM: course.js draws the results; tests call these through
 * page.evaluate with tables of cases.
 *
 * Classic script (ES modules are blocked on file://): sets `window.CourseSearch`.
 *
 *   fold(s)                      -> s without case, accents, Greek final sigma, Polish ł
 *   foldIndexed(s)               -> {text, map}: map[i] = index in s of the char folded to text[i]
 *   terms(query)                 -> folded words of a query (punctuation separates words)
 *   prepare(records)             -> records with folded title and text, for match()
 *   match(prepared, terms)       -> the records holding every term, those with more terms in the
 *                                   title first, course order otherwise
 *   ranges(folded, terms, from, to) -> [[start, end]...] in the original text: the first match of
 *                                   each term at or after `from`, clipped to `to`, not overlapping
 *   snippet(prepared, terms)     -> {from, to}: a window of the text around the first match
 *   hashFor(query)               -> "#search?q=<query, percent-encoded>"
 *   queryFromHash(hash)          -> the query of a search hash ("" for "#search"), null otherwise
 */
(function (root) {
  "use strict";

  var MARKS = /\p{M}/gu;
  var SPECIAL = { "ς": "σ", "ł": "l", "ß": "ss" };
  var SNIPPET_BEFORE = 60;
  var SNIPPET_AFTER = 140;

  function foldChar(ch) {
    var f = ch.normalize("NFD").replace(MARKS, "").toLowerCase();
    return f.replace(/[ςłß]/g, function (c) { return SPECIAL[c]; });
  }

  function foldIndexed(s) {
    var out = "";
    var map = [];
    for (var i = 0; i < s.length; ) {
      var ch = String.fromCodePoint(s.codePointAt(i));
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

  function terms(query) {
    return fold(query).split(/[\s\p{P}\p{S}]+/u).filter(Boolean);
  }

  function prepare(records) {
    return records.map(function (r) {
      return { r: r, title: foldIndexed(r.title), text: foldIndexed(r.text) };
    });
  }

  function match(prepared, words) {
    if (!words.length) return [];
    var found = prepared.filter(function (rec) {
      var all = rec.title.text + " " + rec.text.text;
      return words.every(function (w) { return all.indexOf(w) >= 0; });
    });
    var score = function (rec) {
      return words.filter(function (w) { return rec.title.text.indexOf(w) >= 0; }).length;
    };
    return found
      .map(function (rec, i) { return { rec: rec, score: score(rec), i: i }; })
      .sort(function (a, b) { return b.score - a.score || a.i - b.i; })
      .map(function (x) { return x.rec; });
  }

  function ranges(folded, words, from, to) {
    var start = 0;
    while (start < folded.text.length && folded.map[start] < from) start++;
    var found = [];
    words.forEach(function (w) {
      var at = folded.text.indexOf(w, start);
      if (at >= 0) found.push([folded.map[at], folded.map[at + w.length]]);
    });
    found.sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    var pos = from;
    found.forEach(function (range) {
      var a = Math.max(range[0], pos), b = Math.min(range[1], to);
      if (a >= b) return;
      out.push([a, b]);
      pos = b;
    });
    return out;
  }

  function snippet(rec, words) {
    var length = rec.r.text.length;
    var first = Infinity;
    words.forEach(function (w) {
      var at = rec.text.text.indexOf(w);
      if (at >= 0) first = Math.min(first, rec.text.map[at]);
    });
    if (first === Infinity) first = 0;
    return {
      from: Math.max(0, first - SNIPPET_BEFORE),
      to: Math.min(length, first + SNIPPET_AFTER),
    };
  }

  function hashFor(query) {
    return "#search?q=" + encodeURIComponent(query);
  }

  function decode(s) {
    try { return decodeURIComponent(s); } catch (e) { return s; }
  }

  /* Our own links encode the whole query, so "&" and "+" in it arrive as %26 and %2B; a hash typed
     by hand with a bare "&" keeps everything after "q=" too: a query is never cut. */
  function queryFromHash(hash) {
    var raw = hash.charAt(0) === "#" ? hash.slice(1) : hash;
    if (raw === "search") return "";
    if (raw.indexOf("search?") !== 0) return null;
    var params = raw.slice(7);
    var at = params.indexOf("q=");
    if (at !== 0) return "";
    return decode(params.slice(2));
  }

  var CourseSearch = {
    fold: fold,
    foldIndexed: foldIndexed,
    terms: terms,
    prepare: prepare,
    match: match,
    ranges: ranges,
    snippet: snippet,
    hashFor: hashFor,
    queryFromHash: queryFromHash,
  };

  if (typeof module !== "undefined" && module.exports) module.exports = CourseSearch;
  if (root) root.CourseSearch = CourseSearch;
})(typeof window !== "undefined" ? window : typeof globalThis !== "undefined" ? globalThis : this);
