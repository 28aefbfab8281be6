// citydip atlas: draws the metro marks, legend, selected metro's charts and the tables from the
// JSON embedded in the page (element #atlas-data). No request leaves the page.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("atlas-data").textContent);
  // The SVG namespace, assembled so that the page holds no web address.
  var SVG_NS = ["http", "//www.w3.org/2000/svg"].join(":");
  var RAMP = ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989", "#482878", "#440154"];
  var R_MAX = 30, R_NA = 2.5;
  var years = D.years, metros = D.metros, V = D.values;
  var state = { year: D.initialYear, measure: D.measures.length ? D.measures[0].key : null, selected: null };

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG_NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function h(name, text, parent) {
    var e = document.createElement(name);
    if (text !== undefined && text !== null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function yearIndex(y) { return years.indexOf(y); }
  function value(key, i, y) { var s = V[key]; return s ? s[i][yearIndex(y)] : null; }
  function finite(v) { return v !== null && v !== undefined && isFinite(v); }
  function maxOf(key) {
    var m = 0;
    V[key].forEach(function (row) { row.forEach(function (v) { if (finite(v) && v > m) m = v; }); });
    return m;
  }
  function fmtNumber(v, digits) {
    if (!finite(v)) return "n/a";
    return v.toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 2 : digits });
  }
  function fmtDollars(v) {
    if (!finite(v)) return "n/a";
    if (v >= 1e9) return "$" + (v / 1e9).toFixed(1) + " bn";
    if (v >= 1e6) return "$" + (v / 1e6).toFixed(1) + " m";
    return "$" + fmtNumber(v, 0);
  }
  function fmt(key, v) { return key === "exports_usd" ? fmtDollars(v) : fmtNumber(v); }
  function labelOf(key) {
    var all = D.series;
    for (var i = 0; i < all.length; i++) if (all[i].key === key) return all[i].label;
    return key;
  }

  var exportsMax = maxOf("exports_usd");
  var measureMax = {};
  D.measures.forEach(function (m) { measureMax[m.key] = maxOf(m.key); });

  function radius(v) { return finite(v) && exportsMax > 0 ? Math.max(1, R_MAX * Math.sqrt(v / exportsMax)) : R_NA; }
  function colour(key, v) {
    if (!key || !finite(v)) return null;
    var max = measureMax[key];
    var t = max > 0 ? v / max : 0;
    return RAMP[Math.min(RAMP.length - 1, Math.floor(t * (RAMP.length - 1) + 0.5))];
  }

  // -- controls ---------------------------------------------------------------------------------------
  var measureSelect = document.getElementById("measure");
  D.measures.forEach(function (m) {
    var o = h("option", m.label, measureSelect); o.value = m.key;
  });
  var yearInput = document.getElementById("year");
  var yearOut = document.getElementById("year-value");
  var metroSelect = document.getElementById("metro-select");
  metros.forEach(function (m, i) {
    var o = h("option", m.title, metroSelect); o.value = String(i);
  });

  // -- marks ------------------------------------------------------------------------------------------
  var marks = document.getElementById("marks");
  var circles = metros.map(function (m, i) {
    var c = el("circle", { cx: m.x, cy: m.y, r: R_NA, "class": "mark", tabindex: "0", role: "button",
                           "data-code": m.code }, marks);
    var t = el("title", {}, c);
    c.addEventListener("click", function () { select(i); });
    c.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(i); }
    });
    c._title = t;
    return c;
  });

  function drawMarks() {
    var y = state.year, key = state.measure;
    var order = metros.map(function (m, i) { return i; });
    order.sort(function (a, b) {
      var va = value("exports_usd", a, y), vb = value("exports_usd", b, y);
      va = finite(va) ? va : -1; vb = finite(vb) ? vb : -1;
      return vb - va || (metros[a].code < metros[b].code ? -1 : 1);
    });
    order.forEach(function (i) {
      var c = circles[i], ex = value("exports_usd", i, y), mv = key ? value(key, i, y) : null;
      var fill = colour(key, mv);
      c.setAttribute("r", radius(ex).toFixed(2));
      c.setAttribute("class", "mark" + (fill ? "" : " na") + (state.selected === i ? " selected" : ""));
      if (fill) c.setAttribute("fill", fill); else c.removeAttribute("fill");
      var text = metros[i].title + ", " + y + ": exports " + fmtDollars(ex) +
        (key ? "; " + labelOf(key).toLowerCase() + " " + fmtNumber(mv) : "");
      c._title.textContent = text;
      c.setAttribute("aria-label", text);
      marks.appendChild(c);  // largest first, so small marks stay on top
    });
  }

  // -- legend -----------------------------------------------------------------------------------------
  function niceSteps(max) {
    var out = [], p = Math.pow(10, Math.floor(Math.log10(max)));
    [p / 100, p / 10, p].forEach(function (v) { if (v > 0 && v <= max) out.push(v); });
    return out;
  }
  function drawLegend() {
    var legend = document.getElementById("legend");
    legend.textContent = "";
    var key = state.measure;
    if (key) {
      var box = h("div", null, legend);
      h("div", labelOf(key) + " (colour; the same scale for every year)", box);
      var w = 220, svg = el("svg", { width: w, height: 30, role: "img", "aria-label": "colour scale from 0 to " + fmtNumber(measureMax[key]) }, box);
      RAMP.forEach(function (c, j) {
        el("rect", { x: j * w / RAMP.length, y: 0, width: w / RAMP.length + 0.5, height: 12, fill: c }, svg);
      });
      el("text", { x: 0, y: 25, "font-size": 10 }, svg).textContent = "0";
      el("text", { x: w, y: 25, "font-size": 10, "text-anchor": "end" }, svg).textContent = fmtNumber(measureMax[key]);
      var na = el("svg", { width: 120, height: 30 }, box);
      el("circle", { cx: 8, cy: 8, r: 5, "class": "na-key" }, na);
      el("text", { x: 18, y: 12, "font-size": 10 }, na).textContent = "no value this year";
    }
    var size = h("div", null, legend);
    h("div", "Exports (circle area)", size);
    var steps = exportsMax > 0 ? niceSteps(exportsMax) : [];
    var sw = 260, sh = 2 * R_MAX + 16, s = el("svg", { width: sw, height: sh, role: "img", "aria-label": "circle sizes for " + steps.map(fmtDollars).join(", ") }, size);
    var x = 0;
    steps.forEach(function (v) {
      var r = radius(v);
      el("circle", { cx: x + R_MAX, cy: sh - 14 - r, r: r, fill: "none", stroke: "#555" }, s);
      el("text", { x: x + R_MAX, y: sh - 2, "font-size": 10, "text-anchor": "middle" }, s).textContent = fmtDollars(v);
      x += 2 * R_MAX + 20;
    });
  }

  // -- selected metro ---------------------------------------------------------------------------------
  function chart(key, i, parent) {
    var w = 260, hgt = 70, left = 4, right = 4, top = 14, bottom = 14;
    var vals = V[key][i], max = 0;
    vals.forEach(function (v) { if (finite(v) && v > max) max = v; });
    var svg = el("svg", { "class": "chart", width: w, height: hgt, role: "img" }, parent);
    el("title", {}, svg).textContent = labelOf(key) + ", " + metros[i].title + ", " + years[0] + "\u2013" + years[years.length - 1];
    function px(j) { return left + (years.length > 1 ? j * (w - left - right) / (years.length - 1) : 0); }
    function py(v) { return top + (max > 0 ? (1 - v / max) : 1) * (hgt - top - bottom); }
    var j0 = yearIndex(state.year);
    el("line", { x1: px(j0), x2: px(j0), y1: top, y2: hgt - bottom, "class": "now" }, svg);
    var d = "", pen = false;
    vals.forEach(function (v, j) {
      if (finite(v)) { d += (pen ? "L" : "M") + px(j).toFixed(1) + "," + py(v).toFixed(1); pen = true; } else pen = false;
    });
    if (d) el("path", { d: d, "class": "line" }, svg);
    vals.forEach(function (v, j) { if (finite(v)) el("circle", { cx: px(j), cy: py(v), r: 1.6, "class": "dot" }, svg); });
    el("text", { x: left, y: hgt - 2 }, svg).textContent = String(years[0]);
    el("text", { x: w - right, y: hgt - 2, "text-anchor": "end" }, svg).textContent = String(years[years.length - 1]);
    el("text", { x: left, y: 9 }, svg).textContent = "max " + fmt(key, max) + ", min 0";
  }

  function drawDetail() {
    var box = document.getElementById("detail");
    box.textContent = "";
    var i = state.selected;
    if (i === null) { h("p", "No metro selected.", box); return; }
    var m = metros[i];
    h("h2", m.title, box);
    h("p", "Code " + m.code + "; placed at " + m.place + ".", box);
    D.series.forEach(function (s) {
      h("h3", s.label + ": " + fmt(s.key, value(s.key, i, state.year)) + " in " + state.year, box);
      chart(s.key, i, box);
    });
    if (D.partners) {
      var p = D.partners[m.code] || {};
      Object.keys(D.partnerKinds).forEach(function (kind) {
        h("h3", D.partnerKinds[kind], box);
        var list = p[kind] || [];
        if (!list.length) { h("p", "none on record", box); return; }
        var ul = h("ul", null, box); ul.className = "partners";
        list.forEach(function (c) { h("li", c[0] + (c[1] > 1 ? " (" + c[1] + ")" : ""), ul); });
      });
    }
    h("h3", "Table: " + m.title, box);
    var scroll = h("div", null, box); scroll.className = "scroll";
    var table = h("table", null, scroll);
    h("caption", "Yearly values of " + m.title, table);
    var tr = h("tr", null, h("thead", null, table));
    h("th", "Year", tr).scope = "col";
    D.series.forEach(function (s) { h("th", s.label, tr).scope = "col"; });
    var tbody = h("tbody", null, table);
    years.forEach(function (y) {
      var row = h("tr", null, tbody);
      h("th", String(y), row).scope = "row";
      D.series.forEach(function (s) { h("td", fmt(s.key, value(s.key, i, y)), row); });
    });
  }

  // -- table of all metros ----------------------------------------------------------------------------
  function drawTable() {
    var y = state.year;
    document.getElementById("table-heading").textContent = "All " + metros.length + " metros, " + y;
    var table = document.getElementById("metro-table");
    var head = table.tHead, body = table.tBodies[0];
    head.textContent = ""; body.textContent = "";
    var tr = h("tr", null, head);
    h("th", "Metro", tr).scope = "col";
    D.series.forEach(function (s) { h("th", s.label, tr).scope = "col"; });
    metros.forEach(function (m, i) {
      var row = h("tr", null, body);
      var th = h("th", null, row); th.scope = "row";
      var b = h("button", m.title, th); b.type = "button";
      b.addEventListener("click", function () { select(i); });
      D.series.forEach(function (s) { h("td", fmt(s.key, value(s.key, i, y)), row); });
    });
  }

  function select(i) {
    state.selected = i;
    metroSelect.value = i === null ? "" : String(i);
    drawMarks(); drawDetail();
  }
  function update() {
    yearOut.textContent = String(state.year);
    drawMarks(); drawLegend(); drawDetail(); drawTable();
  }

  measureSelect.addEventListener("change", function () { state.measure = measureSelect.value; update(); });
  yearInput.addEventListener("input", function () { state.year = parseInt(yearInput.value, 10); update(); });
  metroSelect.addEventListener("change", function () {
    select(metroSelect.value === "" ? null : parseInt(metroSelect.value, 10));
  });
  // A link may name a metro and a year: atlas.html#metro=35620&year=2019.
  var hash = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var p = kv.split("="); if (p.length === 2) hash[p[0]] = decodeURIComponent(p[1]);
  });
  if (hash.year && years.indexOf(parseInt(hash.year, 10)) >= 0) state.year = parseInt(hash.year, 10);
  if (hash.measure && measureMax.hasOwnProperty(hash.measure)) { state.measure = hash.measure; measureSelect.value = hash.measure; }
  metros.forEach(function (m, i) { if (m.code === hash.metro) state.selected = i; });
  if (state.selected !== null) metroSelect.value = String(state.selected);
  yearInput.value = String(state.year);
  update();
  document.body.setAttribute("data-atlas-ready", String(circles.length));
})();
