/**
 * The live page of `shmkit watch --web`: one self-contained HTML document (inline CSS
 * and script, no framework, nothing loaded from the network), kept as a string so it
 * ships inside the JSR/npm package without file reads. It starts from the state the
 * server embeds (`page()`), so it is complete at load, then listens to `/events`
 * (server-sent events: `history` once, then a `sample` per interval) and shows every
 * structure with its fill bar, counters, rates, waiters and owners, plus a canvas
 * plot of fill and throughput over the chosen window, and the attached processes.
 *
 * Everything that comes from the segment (names, types) is untrusted and is put in
 * the page with `textContent`, never as HTML. Elements carry data attributes for
 * tests: `section.structure[data-name]`, `[data-counter=NAME]`, `[data-rate=NAME]`,
 * `[data-field=fill]`, `#processes tr[data-pid]`, `#updated`.
 */

/** Where `page()` puts the initial state. */
const INITIAL = "/*INITIAL*/";

/**
 * The page's HTML with `initial` (`{ history, sample }`, as the event stream sends
 * them) embedded; `<` is escaped so that no name in it can close the script element.
 */
export function page(initial: unknown): string {
  return PAGE.replace(INITIAL, () => JSON.stringify(initial).replace(/</g, "\\u003c"));
}

/** The page's HTML, with a placeholder for the initial state (use `page()`). */
export const PAGE: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shmkit watch</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#2a333d; --text:#d7dde4; --dim:#8a96a3; --fill:#3fa7ff; --ok:#3fcf8e; --bad:#ff6b6b; --warn:#f5c451; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; flex-wrap:wrap; gap:14px; align-items:baseline; padding:14px 20px; border-bottom:1px solid var(--line); position:sticky; top:0; background:var(--bg); z-index:1; }
  header h1 { font-size:18px; margin:0; font-weight:600; }
  .badge { padding:1px 8px; border-radius:10px; font-size:12px; background:var(--line); }
  .badge.ready { background:#1e4d3a; color:var(--ok); } .badge.bad { background:#4d1e1e; color:var(--bad); }
  .dim { color:var(--dim); } .bad { color:var(--bad); } .ok { color:var(--ok); }
  header .spacer { flex:1; }
  select { background:var(--panel); color:var(--text); border:1px solid var(--line); border-radius:4px; padding:2px 6px; }
  main { display:grid; grid-template-columns:repeat(auto-fill, minmax(380px, 1fr)); gap:14px; padding:16px 20px; }
  section.structure { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
  section.structure h2 { font-size:15px; margin:0 0 2px; font-weight:600; overflow-wrap:anywhere; }
  .kind { font-size:12px; color:var(--dim); margin-bottom:8px; }
  .bar { height:10px; background:#0c1116; border-radius:5px; overflow:hidden; border:1px solid var(--line); }
  .bar > div { height:100%; background:var(--fill); width:0; transition:width .3s; }
  .fillrow { display:flex; justify-content:space-between; font-size:12px; color:var(--dim); margin:3px 0 8px; }
  dl { display:grid; grid-template-columns:auto 1fr auto; gap:2px 12px; margin:0 0 8px; font-variant-numeric:tabular-nums; }
  dt { color:var(--dim); } dd { margin:0; text-align:right; } dd.rate { color:var(--fill); }
  .who, .details, .problem { font-size:12px; margin:2px 0; overflow-wrap:anywhere; }
  .problem { color:var(--bad); }
  canvas { width:100%; height:110px; display:block; margin-top:6px; }
  .legend { font-size:11px; color:var(--dim); display:flex; gap:10px; flex-wrap:wrap; }
  .legend i { display:inline-block; width:10px; height:3px; vertical-align:middle; margin-right:4px; }
  #procs { padding:0 20px 24px; }
  #procs h2 { font-size:15px; font-weight:600; }
  table { border-collapse:collapse; font-variant-numeric:tabular-nums; }
  td, th { padding:3px 14px 3px 0; text-align:left; border-bottom:1px solid var(--line); }
  th { color:var(--dim); font-weight:500; }
  #empty { padding:20px; color:var(--dim); }
</style>
</head>
<body>
<header>
  <h1>shmkit · <span id="segment">…</span></h1>
  <span id="state" class="badge">connecting</span>
  <span id="summary" class="dim"></span>
  <span class="spacer"></span>
  <label class="dim">window <select id="window"><option value="60000">1 min</option><option value="300000" selected>5 min</option><option value="600000">10 min</option></select></label>
  <span class="dim">updated <span id="updated">–</span></span>
  <span id="conn" class="dim"></span>
</header>
<main id="structures"></main>
<div id="empty" hidden>no structures in this segment</div>
<div id="procs"><h2>Attached processes</h2><table id="processes"><thead><tr><th>pid</th><th>thread</th><th>state</th><th>slot</th><th>start time</th></tr></thead><tbody></tbody></table></div>
<script id="initial" type="application/json">/*INITIAL*/</script>
<script>
"use strict";
var COLORS = ["#ff9f43", "#a29bfe", "#3fcf8e", "#ff6b6b", "#f5c451", "#48dbfb"];
var points = [];
var latest = null;
var windowMs = 300000;
var cards = new Map();

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmt(n) {
  var a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(a < 10 ? 1 : 0);
  if (a < 1e6) return (n / 1e3).toFixed(a < 1e4 ? 1 : 0) + "k";
  if (a < 1e9) return (n / 1e6).toFixed(a < 1e7 ? 1 : 0) + "M";
  return (n / 1e9).toFixed(1) + "G";
}
function bytes(n) {
  if (n < 1024) return n + " B";
  var u = ["KiB", "MiB", "GiB"], v = n / 1024, i = 0;
  while (v >= 1024 && i < 2) { v /= 1024; i++; }
  return v.toFixed(v >= 100 ? 0 : 1) + " " + u[i];
}
function alive(p) { return p.alive === true ? "alive" : p.alive === false ? "dead" : "unknown"; }

function pointOf(s) {
  var p = { t: s.time, s: {} };
  var entries = s.segment ? s.segment.entries : [];
  for (var i = 0; i < entries.length; i++) {
    var e = entries[i];
    p.s[e.name] = { f: e.fill, c: e.capacity, r: (s.rates && s.rates[e.name]) || {} };
  }
  return p;
}

function card(e) {
  var c = cards.get(e.name);
  if (c) return c;
  var sec = el("section", "structure");
  sec.dataset.name = e.name;
  sec.dataset.kind = e.kindName;
  var h = el("h2", "", e.name);
  var kind = el("div", "kind");
  var barWrap = el("div", "bar"), barFill = el("div");
  barWrap.appendChild(barFill);
  var fillRow = el("div", "fillrow");
  var fillText = el("span"); fillText.dataset.field = "fill";
  var pct = el("span");
  fillRow.appendChild(fillText); fillRow.appendChild(pct);
  var dl = el("dl");
  var who = el("div", "who"), details = el("div", "details dim"), problem = el("div", "problem");
  var canvas = el("canvas");
  var legend = el("div", "legend");
  [h, kind, barWrap, fillRow, dl, who, details, problem, canvas, legend].forEach(function (x) { sec.appendChild(x); });
  document.getElementById("structures").appendChild(sec);
  c = { sec: sec, kind: kind, barWrap: barWrap, barFill: barFill, fillRow: fillRow, fillText: fillText, pct: pct, dl: dl, who: who, details: details, problem: problem, canvas: canvas, legend: legend, rows: new Map() };
  cards.set(e.name, c);
  return c;
}

function counterRow(c, name) {
  var r = c.rows.get(name);
  if (r) return r;
  var dt = el("dt", "", name), dd = el("dd"), rate = el("dd", "rate");
  dd.dataset.counter = name; rate.dataset.rate = name;
  c.dl.appendChild(dt); c.dl.appendChild(dd); c.dl.appendChild(rate);
  r = { dd: dd, rate: rate };
  c.rows.set(name, r);
  return r;
}

function renderCards() {
  var seg = latest && latest.segment;
  var entries = seg ? seg.entries : [];
  var seen = new Set();
  for (var i = 0; i < entries.length; i++) {
    var e = entries[i];
    seen.add(e.name);
    var c = card(e);
    c.kind.textContent = e.kindName + (e.type ? " · " + e.type : "") + " · capacity " + e.capacity + (e.state !== "ready" ? " · " + e.state : "");
    var hasFill = e.fill !== null;
    c.barWrap.hidden = !hasFill; c.fillRow.hidden = !hasFill;
    if (hasFill) {
      var p = e.capacity > 0 ? (100 * e.fill) / e.capacity : 0;
      c.barFill.style.width = Math.min(100, p).toFixed(1) + "%";
      c.fillText.textContent = e.fill + " / " + e.capacity;
      c.pct.textContent = p.toFixed(0) + "%";
    }
    var rates = (latest.rates && latest.rates[e.name]) || {};
    Object.keys(e.counters).forEach(function (k) {
      var r = counterRow(c, k);
      r.dd.textContent = fmt(e.counters[k]);
      r.rate.textContent = rates[k] === undefined ? "–" : fmt(rates[k]) + "/s";
    });
    var who = [];
    if (e.owner) who.push(e.owner.role + " " + e.owner.pid + " (" + alive(e.owner) + ")");
    e.holders.forEach(function (h) { who.push(h.role + " " + h.pid + (h.count > 1 ? " ×" + h.count : "") + " (" + alive(h) + ")"); });
    var w = Object.keys(e.waiters).filter(function (k) { return e.waiters[k] > 0; }).map(function (k) { return k + " " + e.waiters[k]; });
    if (w.length) who.push("waiting: " + w.join(", "));
    c.who.textContent = who.join(" · ");
    c.details.textContent = Object.keys(e.details).map(function (k) { return k + " " + e.details[k]; }).join(" · ");
    c.problem.textContent = e.problem || "";
    draw(c, e);
  }
  cards.forEach(function (c, name) { if (!seen.has(name)) { c.sec.remove(); cards.delete(name); } });
  document.getElementById("empty").hidden = entries.length > 0 || !seg;
}

function draw(c, e) {
  var cv = c.canvas, dpr = window.devicePixelRatio || 1;
  var W = Math.max(50, cv.clientWidth), H = 110;
  if (cv.width !== Math.round(W * dpr)) { cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr); }
  var g = cv.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, W, H);
  var now = latest ? latest.time : Date.now(), t0 = now - windowMs;
  var pts = points.filter(function (p) { return p.t >= t0 && p.s[e.name]; });
  g.strokeStyle = "#2a333d"; g.lineWidth = 1;
  for (var y = 0; y <= 4; y++) { g.beginPath(); g.moveTo(0, 4 + (y * (H - 16)) / 4); g.lineTo(W, 4 + (y * (H - 16)) / 4); g.stroke(); }
  var X = function (t) { return ((t - t0) / windowMs) * W; };
  var top = 4, h = H - 16;
  if (e.fill !== null && pts.length) {
    g.beginPath(); g.moveTo(X(pts[0].t), top + h);
    pts.forEach(function (p) { var v = p.s[e.name]; g.lineTo(X(p.t), top + h - (v.c > 0 ? Math.min(1, v.f / v.c) : 0) * h); });
    g.lineTo(X(pts[pts.length - 1].t), top + h); g.closePath();
    g.fillStyle = "rgba(63,167,255,0.25)"; g.fill();
  }
  var names = Object.keys(e.counters), max = 0;
  pts.forEach(function (p) { names.forEach(function (k) { var r = p.s[e.name].r[k]; if (r > max) max = r; }); });
  var legend = [];
  names.forEach(function (k, i) {
    var col = COLORS[i % COLORS.length];
    legend.push([k + "/s", col]);
    if (max <= 0) return;
    g.strokeStyle = col; g.lineWidth = 1.5; g.beginPath();
    var started = false;
    pts.forEach(function (p) {
      var r = p.s[e.name].r[k];
      if (r === undefined) { started = false; return; }
      var yy = top + h - (r / (max * 1.1)) * h;
      if (started) g.lineTo(X(p.t), yy); else { g.moveTo(X(p.t), yy); started = true; }
    });
    g.stroke();
  });
  g.fillStyle = "#8a96a3"; g.font = "10px system-ui, sans-serif";
  g.fillText(max > 0 ? "max " + fmt(max) + "/s" : names.length ? "no activity" : "", 4, H - 2);
  g.fillText((windowMs / 60000) + " min", W - 36, H - 2);
  c.legend.textContent = "";
  if (e.fill !== null) legend.unshift(["fill %", "rgba(63,167,255,0.6)"]);
  legend.forEach(function (l) { var s = el("span"), i = el("i"); i.style.background = l[1]; s.appendChild(i); s.appendChild(document.createTextNode(l[0])); c.legend.appendChild(s); });
}

function renderHeader() {
  var seg = latest && latest.segment;
  var st = document.getElementById("state");
  st.textContent = seg ? seg.state : "gone";
  st.className = "badge " + (seg && seg.state === "ready" ? "ready" : "bad");
  var sum = "";
  if (seg) {
    sum = bytes(seg.size) + " · " + seg.liveProcesses + " live process" + (seg.liveProcesses === 1 ? "" : "es") +
      (seg.deadProcesses ? ", " + seg.deadProcesses + " dead" : "") + " · " + seg.entries.length + " structures" +
      (seg.heap ? " · heap " + bytes(seg.heap.used) + " of " + bytes(seg.heap.size) : "");
    if (seg.reason) sum += " · " + seg.reason;
  } else sum = "the segment does not exist (removed?)";
  document.getElementById("summary").textContent = sum;
  document.getElementById("updated").textContent = new Date(latest.time).toLocaleTimeString();
  var tbody = document.querySelector("#processes tbody");
  tbody.textContent = "";
  (seg ? seg.attached : []).forEach(function (p) {
    var tr = el("tr"); tr.dataset.pid = String(p.pid);
    [String(p.pid), p.worker ? "Worker " + p.tid : "main", alive(p), String(p.slot), String(p.startTime)].forEach(function (v, i) {
      var td = el("td", i === 2 ? (p.alive === false ? "bad" : "ok") : "", v); tr.appendChild(td);
    });
    tbody.appendChild(tr);
  });
}

function render() {
  if (!latest) return;
  renderHeader();
  renderCards();
}

document.getElementById("window").addEventListener("change", function (ev) { windowMs = Number(ev.target.value); render(); });
window.addEventListener("resize", render);

function onHistory(h) {
  document.getElementById("segment").textContent = h.name;
  document.title = "shmkit watch · " + h.name;
  points = h.points;
}
function onSample(s) {
  latest = s;
  var p = pointOf(latest);
  if (!points.length || points[points.length - 1].t < p.t) points.push(p);
  while (points.length > 1 && points[0].t < p.t - 600000) points.shift();
  document.getElementById("conn").textContent = "";
  render();
}
// The server embeds the state at the time of the request, so the page is complete
// before the event stream delivers anything (and for tools that only load it once).
var initial = JSON.parse(document.getElementById("initial").textContent);
onHistory(initial.history);
onSample(initial.sample);
var es = new EventSource("/events");
es.addEventListener("history", function (ev) { onHistory(JSON.parse(ev.data)); });
es.addEventListener("sample", function (ev) { onSample(JSON.parse(ev.data)); });
es.onerror = function () { document.getElementById("conn").textContent = "· disconnected, retrying"; };
</script>
</body>
</html>
`;
