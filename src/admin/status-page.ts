/**
 * The status page: one HTML document with its style and script inline, so that it needs
 * no network beyond the admin listener and no build step. It reads /status and
 * /api/metrics every two seconds and redraws itself in place.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Workq status</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --line: #8884; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  table { border-collapse: collapse; min-width: 40rem; }
  th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
  th:first-child, td:first-child, td.text, th.text { text-align: left; }
  .state-ready { color: var(--ok); font-weight: 600; }
  .state-other { color: var(--bad); font-weight: 600; }
  .state-starting { color: var(--warn); font-weight: 600; }
  .meta { color: #888; }
  .bar { width: 12rem; height: .8rem; border: 1px solid var(--line); border-radius: .4rem; overflow: hidden; display: inline-block; vertical-align: middle; }
  .bar > span { display: block; height: 100%; background: var(--ok); }
  #error { color: var(--bad); }
  svg.spark { vertical-align: middle; }
  svg.spark polyline { fill: none; stroke: currentColor; stroke-width: 1.5; }
</style>
</head>
<body>
<h1>Workq</h1>
<div class="meta" id="summary">loading…</div>
<div id="error"></div>
<div id="replays"></div>
<h2>Instances</h2>
<table id="instances">
  <thead><tr><th>instance</th><th class="text">state</th><th>pid</th><th>uptime</th><th>restarts</th><th>jobs</th><th class="text">sync</th><th class="text">read-only</th><th class="text">replay</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Queues</h2>
<table id="queues">
  <thead><tr><th>instance</th><th class="text">queue</th><th>ready</th><th>scheduled</th><th>leased</th><th>oldest ready</th><th class="text">completed/s (last 2 min)</th></tr></thead>
  <tbody></tbody>
</table>
<script>
'use strict';
const REFRESH_MS = 2000;
const HISTORY = 60;
/** completed totals per instance/queue, for the sparklines: [{t, v}] */
const history = new Map();

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function duration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
  return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
}

/** metric name -> instance -> [{labels, value}] */
function index(metrics) {
  const out = new Map();
  for (const metric of metrics) {
    const byInstance = new Map();
    for (const v of metric.values) {
      const inst = v.labels.instance;
      if (!byInstance.has(inst)) byInstance.set(inst, []);
      byInstance.get(inst).push(v);
    }
    out.set(metric.name, byInstance);
  }
  return out;
}

function value(ix, name, instance, match) {
  const values = (ix.get(name) || new Map()).get(instance) || [];
  const found = values.find((v) => Object.entries(match || {}).every(([k, want]) => String(v.labels[k]) === want));
  return found === undefined ? null : found.value;
}

function replayOf(ix, name) {
  if (value(ix, 'workq_starting', name) !== 1) return null;
  const total = value(ix, 'workq_replay_bytes', name) || 0;
  const done = value(ix, 'workq_replay_done_bytes', name) || 0;
  const seconds = value(ix, 'workq_replay_duration_seconds', name) || 0;
  if (total <= 0) return null;
  const share = Math.min(1, done / total);
  const left = share > 0 ? (seconds / share - seconds) * 1000 : null;
  return { share, left };
}

function bar(share) {
  const outer = el('span', { class: 'bar' });
  outer.append(el('span', { style: 'width:' + (share * 100).toFixed(1) + '%' }));
  return outer;
}

function sparkline(points) {
  const w = 120, h = 22;
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  const rates = [];
  for (let i = 1; i < points.length; i++) {
    const dt = (points[i].t - points[i - 1].t) / 1000;
    rates.push(dt > 0 ? Math.max(0, points[i].v - points[i - 1].v) / dt : 0);
  }
  const max = Math.max(1, ...rates);
  const line = document.createElementNS(svgNs, 'polyline');
  line.setAttribute('points', rates.map((r, i) => ((i / Math.max(1, HISTORY - 1)) * w).toFixed(1) + ',' + (h - 1 - (r / max) * (h - 2)).toFixed(1)).join(' '));
  svg.append(line);
  const last = rates.length > 0 ? rates[rates.length - 1] : 0;
  return el('span', {}, svg, ' ' + (Math.round(last * 10) / 10));
}

function render(status, metrics) {
  const ix = index(metrics);
  const now = Date.now();
  document.getElementById('summary').textContent =
    'supervisor pid ' + status.pid + ', up ' + duration(now - status.startedAt) + ', ' + status.instances.length + ' instance(s), updated ' + new Date(now).toLocaleTimeString();
  const replays = document.getElementById('replays');
  replays.replaceChildren();
  const instances = document.querySelector('#instances tbody');
  instances.replaceChildren();
  for (const inst of status.instances) {
    const replay = replayOf(ix, inst.name);
    const readOnly = value(ix, 'workq_read_only', inst.name);
    const syncValues = ((ix.get('workq_cmdlog_sync_info') || new Map()).get(inst.name) || [])[0];
    const stateClass = inst.state === 'ready' ? 'state-ready' : inst.state === 'starting' ? 'state-starting' : 'state-other';
    const replayCell = replay === null ? '–' : el('span', {}, bar(replay.share), ' ' + Math.floor(replay.share * 100) + '%, ' + duration(replay.left) + ' left');
    instances.append(
      el('tr', { 'data-instance': inst.name },
        el('td', {}, inst.name),
        el('td', { class: 'text ' + stateClass, 'data-field': 'state' }, inst.state + (inst.lastError ? ' (' + inst.lastError + ')' : '')),
        el('td', {}, inst.pid === null ? '–' : inst.pid),
        el('td', {}, duration(inst.uptimeMs)),
        el('td', { 'data-field': 'restarts' }, inst.restarts),
        el('td', { 'data-field': 'jobs' }, inst.jobs === null ? '–' : inst.jobs),
        el('td', { class: 'text' }, syncValues ? syncValues.labels.policy : '–'),
        el('td', { class: 'text' }, readOnly === null ? '–' : readOnly === 1 ? 'READ-ONLY' : 'no'),
        el('td', { class: 'text', 'data-field': 'replay' }, replayCell),
      ),
    );
    if (replay !== null) {
      replays.append(el('p', { 'data-replay': inst.name }, 'Replaying the log of ' + inst.name + ': ', bar(replay.share), ' ' + Math.floor(replay.share * 100) + '%, about ' + duration(replay.left) + ' left'));
    }
  }
  const queues = document.querySelector('#queues tbody');
  queues.replaceChildren();
  const seen = new Set();
  for (const [instance, values] of (ix.get('workq_jobs') || new Map())) {
    const names = [...new Set(values.map((v) => v.labels.queue))].sort();
    for (const queue of names) {
      const key = instance + '/' + queue;
      seen.add(key);
      const count = (state) => value(ix, 'workq_jobs', instance, { queue, state }) || 0;
      const oldest = value(ix, 'workq_queue_oldest_ready_age_seconds', instance, { queue });
      const completed = value(ix, 'workq_queue_jobs_completed_total', instance, { queue }) || 0;
      const points = history.get(key) || [];
      points.push({ t: now, v: completed });
      while (points.length > HISTORY) points.shift();
      history.set(key, points);
      queues.append(
        el('tr', { 'data-queue': key },
          el('td', {}, instance),
          el('td', { class: 'text' }, queue),
          el('td', { 'data-field': 'ready' }, count('ready')),
          el('td', { 'data-field': 'scheduled' }, count('scheduled')),
          el('td', { 'data-field': 'leased' }, count('leased')),
          el('td', {}, oldest === null ? '–' : duration(oldest * 1000)),
          el('td', { class: 'text' }, sparkline(points)),
        ),
      );
    }
  }
  for (const key of history.keys()) if (!seen.has(key)) history.delete(key);
}

async function refresh() {
  try {
    const [status, metrics] = await Promise.all([
      fetch('status', { cache: 'no-store' }).then((r) => r.json()),
      fetch('api/metrics', { cache: 'no-store' }).then((r) => r.json()),
    ]);
    render(status, metrics);
    document.getElementById('error').textContent = '';
  } catch (error) {
    document.getElementById('error').textContent = 'cannot reach the admin listener: ' + error.message;
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}
refresh();
</script>
</body>
</html>
`;
