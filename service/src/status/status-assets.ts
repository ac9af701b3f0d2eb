// The status page's own stylesheet and chart script, kept in the bundle (the
// service ships as one file) and served from /status/assets/. Colours meet WCAG AA
// contrast on their backgrounds; focus is always visible.

export const STATUS_CSS = `
:root { --bg:#f4f6f9; --card:#fff; --ink:#1b2430; --muted:#55606e; --line:#dde3ea; --accent:#1f5fbf;
  --accent-ink:#fff; --warn:#8a4b00; --warn-bg:#fff1dc; --bad:#a1261d; --bad-bg:#fde8e6; --ok:#1d6b3a; --ok-bg:#e3f4e8; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
a { color:var(--accent); }
:focus-visible { outline:3px solid #f2a900; outline-offset:2px; }
.skip { position:absolute; left:-9999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:6px 10px; z-index:2; }
.top { display:flex; align-items:center; justify-content:space-between; padding:10px 24px; background:#14213d; color:#fff; }
.top .brand { font-weight:700; letter-spacing:.02em; font-size:17px; }
.top nav { display:flex; gap:18px; align-items:center; }
.top nav a, .top .link { color:#dfe7f5; }
main { max-width:1280px; margin:0 auto; padding:20px 24px 48px; }
h1 { font-size:22px; margin:0 0 2px; } h2 { font-size:16px; margin:0 0 10px; } h3 { font-size:14px; margin:16px 0 6px; }
.titlebar { margin-bottom:14px; }
.muted, .sub { color:var(--muted); }
.sub { display:block; font-size:12.5px; font-weight:400; overflow-wrap:anywhere; }
.grid { display:grid; grid-template-columns:repeat(2,minmax(0,1fr)); gap:16px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 18px; min-width:0; }
.card.wide { grid-column:1 / -1; }
@media (max-width:900px) { .grid { grid-template-columns:1fr; } }
table { width:100%; border-collapse:collapse; font-size:14px; }
th, td { text-align:left; padding:7px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
thead th { font-size:12.5px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); font-weight:600; }
tfoot th, tfoot td { font-weight:700; border-bottom:0; border-top:2px solid var(--line); }
.num { text-align:right; font-variant-numeric:tabular-nums; }
meter { width:120px; height:12px; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(112px,1fr)); gap:10px; margin:0; }
.tile { border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.tile dt { font-size:12.5px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
.tile dd { margin:2px 0 0; } .tile .value { font-size:24px; font-weight:700; font-variant-numeric:tabular-nums; }
.badge { display:inline-block; font-size:12px; font-weight:600; border-radius:999px; padding:1px 8px; background:#e9eef5; color:var(--ink); }
.badge.reply { background:var(--ok-bg); color:var(--ok); } .badge.bounce, .badge.complaint { background:var(--bad-bg); color:var(--bad); }
.badge.unsubscribe, .badge.warn { background:var(--warn-bg); color:var(--warn); }
.badge.warn { display:block; width:max-content; margin-top:4px; }
.empty { color:var(--muted); font-style:italic; }
.notice { background:var(--ok-bg); color:var(--ok); border:1px solid #b7dfc3; padding:8px 12px; border-radius:8px; }
.alert { background:var(--bad-bg); color:var(--bad); border:1px solid #f2bdb7; padding:8px 12px; border-radius:8px; }
.reason { color:var(--bad); overflow-wrap:anywhere; }
form.inline { display:inline; margin:0; }
button { font:inherit; background:var(--accent); color:var(--accent-ink); border:1px solid var(--accent); border-radius:6px; padding:7px 14px; cursor:pointer; }
button.small { padding:3px 10px; font-size:13px; margin:0 4px 4px 0; }
button.secondary { background:#fff; color:var(--accent); }
button.link { background:none; border:0; padding:0; text-decoration:underline; }
.actions { white-space:nowrap; }
.signin { max-width:460px; margin:48px auto; }
.signin label { display:block; font-weight:600; margin:14px 0 4px; }
.signin input { width:100%; font:inherit; padding:8px 10px; border:1px solid #8a96a6; border-radius:6px; margin-bottom:12px; }
.chart { width:100%; min-height:220px; margin:6px 0 10px; } .chart.small { min-height:140px; }
details { margin-top:8px; } summary { cursor:pointer; color:var(--accent); }
code { background:#eef2f7; padding:0 4px; border-radius:4px; }
.sr-only { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
`;

/** Draws the charts with uPlot from the page's JSON (no inline script: the CSP forbids it). */
export const STATUS_JS = `
(function () {
  var el = document.getElementById('chart-data');
  if (!el || typeof uPlot === 'undefined') return;
  var data = JSON.parse(el.textContent);
  function width(node) { return Math.max(280, node.clientWidth - 4); }
  function day(s) { return Date.parse(s + 'T12:00:00Z') / 1000; }
  var charts = [];
  function make(id, opts, values) {
    var node = document.getElementById(id);
    if (!node) return;
    opts.width = width(node);
    var chart = new uPlot(opts, values, node);
    charts.push([chart, node]);
  }
  var h = data.history.days;
  make('history-chart', {
    height: 220, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'UTC'); },
    series: [{}, { label: 'Sent', stroke: '#1f5fbf', width: 2, points: { show: false } },
      { label: 'Replies', stroke: '#1d6b3a', width: 2, points: { show: false } },
      { label: 'Bounces', stroke: '#a1261d', width: 2, points: { show: false } }],
    axes: [{}, { label: 'emails' }],
  }, [h.map(function (d) { return day(d.day); }), h.map(function (d) { return d.sent; }),
      h.map(function (d) { return d.replies; }), h.map(function (d) { return d.bounces; })]);
  make('credits-chart', {
    height: 140, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'UTC'); },
    series: [{}, { label: 'Apollo credits', stroke: '#6b3fa0', fill: 'rgba(107,63,160,0.12)', width: 2, points: { show: false } }],
  }, [h.map(function (d) { return day(d.day); }), h.map(function (d) { return d.apolloCredits; })]);
  make('tokens-chart', {
    height: 140, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'UTC'); },
    series: [{}, { label: 'OpenAI tokens', stroke: '#0f6e6e', fill: 'rgba(15,110,110,0.12)', width: 2, points: { show: false } }],
  }, [h.map(function (d) { return day(d.day); }), h.map(function (d) { return d.openaiTokens; })]);
  var q = data.queue.hours, totals = {};
  q.forEach(function (r) { var t = Date.parse(r.hour) / 1000; totals[t] = (totals[t] || 0) + r.count; });
  var start = Date.parse(data.queue.from) / 1000, xs = [], ys = [];
  for (var i = 0; i < 24; i++) { xs.push(start + i * 3600); ys.push(totals[start + i * 3600] || 0); }
  make('queue-chart', {
    height: 200, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'UTC'); },
    series: [{}, { label: 'Scheduled', stroke: '#1f5fbf', fill: 'rgba(31,95,191,0.25)', width: 1,
      points: { show: false }, paths: uPlot.paths.bars({ size: [0.7, 40] }) }],
    axes: [{}, { label: 'emails' }],
  }, [xs, ys]);
  window.addEventListener('resize', function () {
    charts.forEach(function (c) { c[0].setSize({ width: width(c[1]), height: c[0].height }); });
  });
})();
`;
