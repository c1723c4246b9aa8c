/**
 * The dashboard's one page: HTML, CSS and a script that reads the `/events` stream and draws
 * uPlot charts. Names from the bus reach the page only through `textContent` and `dataset`,
 * never as markup.
 */

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function dashboardPage(title: string, intervalMs: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ringbus dashboard</title>
<link rel="stylesheet" href="uplot.css">
<style>${STYLE}</style>
</head>
<body data-interval-ms="${intervalMs}" data-samples="0">
<header>
  <h1>${escapeHtml(title)}</h1>
  <span class="status" id="status">connecting…</span>
  <span class="updated">sample <span id="updated">–</span></span>
  <a href="metrics">/metrics</a>
</header>
<main id="topics"><p class="empty" id="empty">No topics yet.</p></main>
<script src="uplot.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light dark; --bg: #0f1419; --card: #182028; --fg: #e6e9ec; --dim: #8b98a5; --line: #2a3540;
  --pub: #4fa3ff; --del: #f5a524; --ack: #3ecf8e; --size: #4fa3ff; --cap: #8b98a5; --dl: #ff5c5c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; gap: 16px; align-items: baseline; padding: 12px 20px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
header a { color: var(--pub); margin-left: auto; }
.status, .updated { color: var(--dim); }
.status.live { color: var(--ack); }
.status.error { color: var(--dl); }
main { padding: 16px 20px; display: grid; gap: 16px; }
.empty { color: var(--dim); }
section.topic { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
section.topic h2 { margin: 0 0 8px; font-size: 16px; }
.figures { display: flex; flex-wrap: wrap; gap: 6px 20px; margin-bottom: 8px; }
.figure .label { color: var(--dim); margin-right: 4px; }
.figure .value { font-variant-numeric: tabular-nums; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 8px; }
.chart { min-width: 0; }
.chart h3 { margin: 4px 0; font-size: 12px; font-weight: 500; color: var(--dim); }
table.groups { border-collapse: collapse; margin-top: 8px; font-variant-numeric: tabular-nums; }
table.groups th, table.groups td { padding: 2px 10px; text-align: right; border-bottom: 1px solid var(--line); }
table.groups th:first-child, table.groups td:first-child { text-align: left; }
table.groups th { color: var(--dim); font-weight: 500; }
.uplot { font-family: inherit; }
.u-legend { font-size: 12px; }
`;

// Plain browser JavaScript (no template literals: it sits inside one).
const SCRIPT = String.raw`
'use strict';
var WINDOW = 300;
var GROUP_FIGURES = ['members', 'lag', 'pending', 'delivered', 'acked', 'nacked', 'redelivered', 'deadLettered', 'missed'];
var COLORS = ['#4fa3ff', '#f5a524', '#3ecf8e', '#c084fc', '#ff5c5c', '#22d3ee', '#f472b6', '#a3e635'];
var topics = new Map();
var charts = [];
var samples = 0;
var root = document.getElementById('topics');

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (n === Infinity) return '∞';
  if (Math.abs(n) >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(1);
}

// A figure the source does not know arrives as null (NaN in JSON) and stays unknown in sums and rates.
function sum(groups, key) {
  var s = 0;
  for (var g in groups) {
    if (groups[g][key] === null) return null;
    s += groups[g][key];
  }
  return s;
}

function rate(now, before, dt) {
  return now === null || before === null ? null : (now - before) / dt;
}

function chart(box, title, series, height) {
  var wrap = el('div', 'chart');
  wrap.appendChild(el('h3', null, title));
  box.appendChild(wrap);
  var opts = {
    width: Math.max(280, wrap.clientWidth),
    height: height || 160,
    legend: { live: false },
    cursor: { show: false },
    scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
    axes: [{ stroke: '#8b98a5', grid: { stroke: '#2a3540' } }, { stroke: '#8b98a5', grid: { stroke: '#2a3540' }, size: 60 }],
    series: [{}].concat(series.map(function (s) { return { label: s.label, stroke: s.color, width: 1.5, fill: s.fill, dash: s.dash, points: { show: false } }; })),
  };
  var data = [[]].concat(series.map(function () { return []; }));
  var c = { plot: new uPlot(opts, data, wrap), data: data, wrap: wrap, height: opts.height };
  charts.push(c);
  return c;
}

function push(c, t, values) {
  c.data[0].push(t);
  for (var i = 0; i < values.length; i++) c.data[i + 1].push(values[i]);
  if (c.data[0].length > WINDOW) for (var j = 0; j < c.data.length; j++) c.data[j].shift();
  c.plot.setData(c.data);
}

function figure(box, label, key) {
  var f = el('span', 'figure');
  f.appendChild(el('span', 'label', label));
  var v = el('span', 'value', '–');
  v.dataset.figure = key;
  f.appendChild(v);
  box.appendChild(f);
  return v;
}

function makeTopic(name) {
  var section = el('section', 'topic');
  section.dataset.topic = name;
  section.appendChild(el('h2', null, name));
  var figs = el('div', 'figures');
  section.appendChild(figs);
  var values = {
    published: figure(figs, 'published', 'published'),
    publishRate: figure(figs, 'publish/s', 'publishRate'),
    deliverRate: figure(figs, 'deliver/s', 'deliverRate'),
    ackRate: figure(figs, 'ack/s', 'ackRate'),
    size: figure(figs, 'size', 'size'),
    capacity: figure(figs, 'capacity', 'capacity'),
    subscribers: figure(figs, 'subscribers', 'subscribers'),
    waitingPublishers: figure(figs, 'waiting publishers', 'waitingPublishers'),
    deadLettered: figure(figs, 'dead-lettered', 'deadLettered'),
    dropped: figure(figs, 'dropped', 'dropped'),
    expired: figure(figs, 'expired', 'expired'),
  };
  var chartBox = el('div', 'charts');
  section.appendChild(chartBox);
  var table = el('table', 'groups');
  var head = el('tr');
  head.appendChild(el('th', null, 'group'));
  GROUP_FIGURES.forEach(function (k) { head.appendChild(el('th', null, k)); });
  table.appendChild(head);
  section.appendChild(table);
  root.appendChild(section);
  var t = { section: section, values: values, charts: chartBox, table: table, rows: new Map(), prev: null, groupKey: '', lag: null };
  t.rates = chart(chartBox, 'rates (messages/s)', [
    { label: 'publish', color: '#4fa3ff' }, { label: 'deliver', color: '#f5a524' }, { label: 'ack', color: '#3ecf8e' }]);
  t.depth = chart(chartBox, 'depth vs capacity', [
    { label: 'size', color: '#4fa3ff', fill: 'rgba(79,163,255,0.15)' }, { label: 'capacity', color: '#8b98a5' }]);
  t.dead = chart(chartBox, 'dead letters (total)', [
    { label: 'dead-lettered', color: '#ff5c5c' }, { label: 'dead letters dropped', color: '#f5a524' }]);
  return t;
}

function groupRow(t, name) {
  var row = t.rows.get(name);
  if (row) return row;
  var tr = el('tr');
  tr.dataset.group = name;
  tr.appendChild(el('td', null, name));
  var cells = {};
  GROUP_FIGURES.forEach(function (k) { var td = el('td', null, '–'); td.dataset.figure = k; tr.appendChild(td); cells[k] = td; });
  t.table.appendChild(tr);
  row = { tr: tr, cells: cells };
  t.rows.set(name, row);
  return row;
}

function lagChart(t, names) {
  var key = JSON.stringify(names);
  if (t.groupKey === key) return;
  if (t.lag) { t.lag.plot.destroy(); t.lag.wrap.remove(); charts.splice(charts.indexOf(t.lag), 1); }
  t.groupKey = key;
  var series = [];
  names.forEach(function (n, i) {
    series.push({ label: n + ' lag', color: COLORS[i % COLORS.length] });
    series.push({ label: n + ' pending', color: COLORS[i % COLORS.length], dash: [4, 4] });
  });
  t.lag = chart(t.charts, 'group lag and pending', series);
}

function render(s) {
  samples++;
  document.body.dataset.samples = String(samples);
  document.body.dataset.timestamp = String(s.timestamp);
  document.getElementById('updated').textContent = new Date(s.timestamp).toLocaleTimeString();
  var names = Object.keys(s.topics);
  document.getElementById('empty').hidden = names.length > 0;
  var x = s.timestamp / 1000;
  for (var i = 0; i < names.length; i++) {
    var ts = s.topics[names[i]];
    var t = topics.get(names[i]);
    if (!t) { t = makeTopic(names[i]); topics.set(names[i], t); }
    var delivered = sum(ts.groups, 'delivered');
    var acked = sum(ts.groups, 'acked');
    var deadLettered = sum(ts.groups, 'deadLettered');
    var rates = [null, null, null];
    if (t.prev && s.timestamp > t.prev.timestamp) {
      var dt = (s.timestamp - t.prev.timestamp) / 1000;
      rates = [rate(ts.published, t.prev.published, dt), rate(delivered, t.prev.delivered, dt), rate(acked, t.prev.acked, dt)];
    }
    t.prev = { timestamp: s.timestamp, published: ts.published, delivered: delivered, acked: acked };
    var v = t.values;
    v.published.textContent = fmt(ts.published);
    v.publishRate.textContent = fmt(rates[0]);
    v.deliverRate.textContent = fmt(rates[1]);
    v.ackRate.textContent = fmt(rates[2]);
    v.size.textContent = fmt(ts.size);
    v.capacity.textContent = fmt(ts.capacity);
    v.subscribers.textContent = fmt(ts.subscribers);
    v.waitingPublishers.textContent = fmt(ts.waitingPublishers);
    v.deadLettered.textContent = fmt(deadLettered);
    v.dropped.textContent = fmt(ts.dropped);
    v.expired.textContent = fmt(ts.expired);
    push(t.rates, x, rates);
    push(t.depth, x, [ts.size, ts.capacity === Infinity ? null : ts.capacity]);
    push(t.dead, x, [deadLettered, ts.deadLetterDropped]);
    var groupNames = Object.keys(ts.groups);
    lagChart(t, groupNames);
    var lagValues = [];
    groupNames.forEach(function (g) {
      var gs = ts.groups[g];
      var row = groupRow(t, g);
      GROUP_FIGURES.forEach(function (k) { row.cells[k].textContent = fmt(gs[k]); });
      lagValues.push(gs.lag, gs.pending);
    });
    push(t.lag, x, lagValues);
    t.section.dataset.updated = String(s.timestamp);
  }
}

window.addEventListener('resize', function () {
  charts.forEach(function (c) { c.plot.setSize({ width: Math.max(280, c.wrap.clientWidth), height: c.height }); });
});

var statusEl = document.getElementById('status');
var source = new EventSource('events');
source.onopen = function () { statusEl.textContent = 'live'; statusEl.className = 'status live'; };
source.onerror = function () { statusEl.textContent = 'reconnecting…'; statusEl.className = 'status'; };
source.onmessage = function (e) { render(JSON.parse(e.data)); };
source.addEventListener('stats-error', function (e) {
  statusEl.textContent = 'stats failed: ' + JSON.parse(e.data);
  statusEl.className = 'status error';
});
`;
