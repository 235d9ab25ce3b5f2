// Credo console: colours the policy editor as the person types. The pages work without this
// script (the editor is then a plain text area); it only adds the colours and line numbers.
// The tokenizer follows internal/web/highlight.go.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var KEYWORDS = {};
  ["package", "import", "default", "not", "with", "as", "some", "every", "in", "if", "contains",
   "else", "true", "false", "null"].forEach(function (k) { KEYWORDS[k] = true; });

  function isDigit(c) { return c >= "0" && c <= "9"; }
  function isIdentStart(c) { return c === "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z"); }
  function isIdentPart(c) { return isIdentStart(c) || isDigit(c); }
  function isSpace(c) { return c === " " || c === "\t" || c === "\n" || c === "\r"; }

  // nextChar is the first character after i that is not a space or a tab.
  function nextChar(src, i) {
    while (i < src.length && (src[i] === " " || src[i] === "\t")) { i++; }
    return i < src.length ? src[i] : "";
  }

  // tokenize returns [class, text] pairs whose texts concatenate back to src.
  function tokenize(src) {
    var out = [];
    function emit(cls, text) {
      var last = out[out.length - 1];
      if (last && last[0] === cls && (cls === "" || cls === "o")) { last[1] += text; return; }
      out.push([cls, text]);
    }
    var i = 0;
    while (i < src.length) {
      var c = src[i], j = i + 1;
      if (c === "#") {
        while (j < src.length && src[j] !== "\n") { j++; }
        emit("c", src.slice(i, j));
      } else if (c === "\"") {
        while (j < src.length && src[j] !== "\"" && src[j] !== "\n") {
          if (src[j] === "\\" && j + 1 < src.length && src[j + 1] !== "\n") { j++; }
          j++;
        }
        if (j < src.length && src[j] === "\"") { j++; }
        var k = j;
        while (k < src.length && (src[k] === " " || src[k] === "\t")) { k++; }
        emit(src[k] === ":" && src[k + 1] !== "=" ? "y" : "s", src.slice(i, j));
      } else if (c === "`") {
        while (j < src.length && src[j] !== "`") { j++; }
        if (j < src.length) { j++; }
        emit("s", src.slice(i, j));
      } else if (isDigit(c)) {
        while (j < src.length && (isDigit(src[j]) || src[j] === "." || src[j] === "e" || src[j] === "E" ||
            ((src[j] === "+" || src[j] === "-") && (src[j - 1] === "e" || src[j - 1] === "E")))) { j++; }
        emit("n", src.slice(i, j));
      } else if (isIdentStart(c)) {
        while (j < src.length && isIdentPart(src[j])) { j++; }
        var word = src.slice(i, j);
        emit(KEYWORDS[word] ? "k" : (nextChar(src, j) === "(" ? "f" : ""), word);
      } else if (isSpace(c)) {
        while (j < src.length && isSpace(src[j])) { j++; }
        emit("", src.slice(i, j));
      } else if (c.charCodeAt(0) >= 0x80) {
        while (j < src.length && src.charCodeAt(j) >= 0x80) { j++; }
        emit("", src.slice(i, j));
      } else {
        emit("o", c);
      }
      i = j;
    }
    return out;
  }

  function escapeHTML(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // highlight renders src as one HTML fragment per line, as highlight.go's highlightLines.
  function highlight(src) {
    var lines = [], cur = "";
    tokenize(src).forEach(function (t) {
      t[1].split("\n").forEach(function (part, k) {
        if (k > 0) { lines.push(cur); cur = ""; }
        part = part.replace(/\r$/, "");
        if (part === "") { return; }
        cur += t[0] === "" ? escapeHTML(part) : "<span class=\"t-" + t[0] + "\">" + escapeHTML(part) + "</span>";
      });
    });
    lines.push(cur);
    return lines;
  }

  function setupEditor(ed) {
    var ta = ed.querySelector("textarea"), code = ed.querySelector(".hl code"), gutter = ed.querySelector(".gutter");
    if (!ta || !code || !gutter) { return; }
    var errors = {};
    (ed.getAttribute("data-error-lines") || "").split(/\s+/).forEach(function (n) { if (n) { errors[n] = true; } });
    var titles = {};
    Array.prototype.forEach.call(gutter.querySelectorAll("li[title]"), function (li) {
      titles[li.getAttribute("data-line")] = li.getAttribute("title");
    });
    function render() {
      var lines = highlight(ta.value), html = "", g = "";
      lines.forEach(function (l, i) {
        var n = String(i + 1);
        html += (errors[n] ? "<span class=\"eline\">" + l + "</span>" : l) + "\n";
        g += "<li data-line=\"" + n + "\"" + (errors[n] ? " class=\"err\" title=\"" + escapeHTML(titles[n] || "").replace(/"/g, "&quot;") + "\"" : "") + ">" + n + "</li>";
      });
      code.innerHTML = html;
      gutter.innerHTML = g;
      ta.style.height = "auto";
      ta.style.height = ta.scrollHeight + "px";
      ta.style.width = "auto";
      ta.style.width = Math.max(ta.scrollWidth, ed.clientWidth - gutter.offsetWidth) + "px";
    }
    ta.addEventListener("input", render);
    ed.classList.add("live");
    render();
    var first = Object.keys(errors).map(Number).sort(function (a, b) { return a - b; })[0];
    if (first) { showLine(ta, first, false); }
  }

  // showLine scrolls an editor to a line and, when focus is true, puts the caret at its start.
  function showLine(ta, line, focus) {
    var ed = ta.closest(".editor");
    var lh = parseFloat(window.getComputedStyle(ta).lineHeight) || 20;
    ed.scrollTop = Math.max(0, (line - 4) * lh);
    if (focus) {
      var at = 0;
      for (var i = 1; i < line; i++) {
        var nl = ta.value.indexOf("\n", at);
        if (nl < 0) { break; }
        at = nl + 1;
      }
      ta.focus({preventScroll: true});
      ta.setSelectionRange(at, at);
    }
  }

  // A diagnostic's link takes the caret to its line.
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a.jump");
    if (!a) { return; }
    var ta = document.getElementById(a.getAttribute("href").slice(1));
    var line = parseInt(a.getAttribute("data-line"), 10);
    if (!ta || !line) { return; }
    ev.preventDefault();
    showLine(ta, line, true);
  });

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".editor"), setupEditor);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.credoHighlight = highlight; // for the end-to-end test, which compares it with the server's
}());
