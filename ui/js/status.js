// The status page: counters (/stat), actions as a donut (/stat actions),
// throughput over time (/graph), health (/status) and recent errors
// (/errors, enable password only).  Refreshes every 5 s while visible.
// /graph, /status and /errors are newer than /stat: a 404 shows "not
// available" in their box and the rest of the page still works.

import {call, session} from './api.js';
import {h, clear, notice, fmtInt, fmtUptime, fmtTime, ACTIONS} from './dom.js';
import {donut, lineChart} from './charts.js';

const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

let timer = null;
let active = false;
let busy = false;
let graphBusy = false;
let lastGraph = 0;
let errorsRefused = false;

export function init() {
  $('status-refresh').addEventListener('click', () => refresh(true));
  $('status-auto').addEventListener('change', schedule);
  $('throughput-range').addEventListener('change', () => graph(true));
  document.addEventListener('visibilitychange', schedule);
}

export function activate() {
  active = true;
  refresh(true);
  schedule();
}

export function deactivate() {
  active = false;
  schedule();
}

export function reset() {
  for (const id of ['stat-uptime', 'stat-scanned', 'stat-learned', 'stat-spam', 'stat-ham', 'stat-connections']) {
    $(id).textContent = '–';
  }
  clear($('actions-chart'));
  clear($('throughput-chart'));
  clear($('health'));
  $('errors-section').hidden = true;
  $('status-updated').textContent = '';
  lastGraph = 0;
  errorsRefused = false;
}

function schedule() {
  if (timer !== null) clearInterval(timer);
  timer = null;
  if (active && $('status-auto').checked && document.visibilityState === 'visible') {
    timer = setInterval(() => refresh(false), REFRESH_MS);
  }
}

async function refresh(all) {
  if (busy) return;
  busy = true;
  try {
    await Promise.all([stat(), health(), errors()]);
    // The time series moves slowly: every 30 s is enough.
    if (all || Date.now() - lastGraph > 30000) graph(false);
    $('status-updated').textContent = `updated ${fmtTime(Date.now() / 1000).slice(11)}`;
  } finally {
    busy = false;
  }
}

async function stat() {
  const r = await call('/stat');
  if (!r.ok || !r.data) {
    notice($('status-error'), 'error', `Statistics unavailable: ${r.error}`);
    return;
  }
  notice($('status-error'), 'error', '');
  const d = r.data;
  $('stat-uptime').textContent = fmtUptime(d.uptime);
  $('stat-scanned').textContent = fmtInt(d.scanned);
  $('stat-learned').textContent = fmtInt(d.learned);
  $('stat-spam').textContent = fmtInt(d.spam_count);
  $('stat-ham').textContent = fmtInt(d.ham_count);
  $('stat-connections').textContent = fmtInt(d.connections);
  const acts = d.actions || {};
  donut($('actions-chart'), ACTIONS.map((a) => ({key: a.name, label: a.label, color: a.color,
    value: Number(acts[a.name]) || 0})), {title: 'Messages by action'});
}

async function graph(force) {
  if (graphBusy && !force) return;
  graphBusy = true;
  lastGraph = Date.now();
  const type = $('throughput-range').value;
  try {
    const r = await call(`/graph?type=${encodeURIComponent(type)}`);
    const box = $('throughput-chart');
    if (!r.ok || !Array.isArray(r.data)) {
      clear(box).append(h('p', {class: 'notice info', dataset: {testid: 'throughput-unavailable'}},
        r.status === 404 ? 'Throughput graph not available: this winnowd has no /graph.'
          : `Throughput graph unavailable: ${r.error}`));
      return;
    }
    // Six series in the order of ACTIONS (reject ... no action).
    const series = r.data.slice(0, ACTIONS.length).map((pts, i) => ({
      label: ACTIONS[i].label, color: ACTIONS[i].color,
      points: Array.isArray(pts) ? pts : []}));
    lineChart(box, series, {title: `Messages per minute, last ${type}`});
  } finally {
    graphBusy = false;
  }
}

function stateClass(st) {
  return st === 'up' ? 'state-up' : st === 'down' ? 'state-down' : 'state-off';
}

async function health() {
  const r = await call('/status');
  const box = $('health');
  clear(box);
  if (!r.ok || !r.data) {
    box.append(h('p', {class: 'notice info', dataset: {testid: 'health-unavailable'}},
      r.status === 404 ? 'Health not available: this winnowd has no /status.'
        : `Health unavailable: ${r.error}`));
    return;
  }
  const d = r.data;
  const redis = d.redis || {};
  const dns = d.dns || {};
  const n = (v) => (typeof v === 'number' ? fmtInt(v) : '–');
  const rows = [
    d.version ? ['winnowd', `version ${d.version}`] : null,
    ['Redis', h('span', {class: stateClass(redis.state), dataset: {testid: 'health-redis'}},
      redis.state || 'unknown'),
    redis.state === 'unconfigured' ? '' :
      ` (${n(redis.commands)} commands, ${n(redis.errors)} errors, ${n(redis.timeouts)} timeouts)`],
    redis.last_error ? ['Last Redis error', redis.last_error] : null,
    ['DNS', h('span', {dataset: {testid: 'health-dns'}},
      `${n(dns.queries)} queries, ${n(dns.errors)} errors, ${n(dns.timeouts)} timeouts`)],
    ['Features off', Array.isArray(d.features_off) && d.features_off.length
      ? h('span', {class: 'state-down', dataset: {testid: 'health-features-off'}}, d.features_off.join(', '))
      : h('span', {dataset: {testid: 'health-features-off'}}, 'none')],
    ['Workers', Array.isArray(d.workers)
      ? d.workers.map((w) => `${w.type} ${w.pid} (up ${fmtUptime(w.uptime)}` +
        (w.restarts ? `, ${w.restarts} restarts)` : ')')).join('; ') : '–'],
  ].filter(Boolean);
  box.append(h('dl', {class: 'kv'}, rows.map(([k, ...v]) => [h('dt', {}, k), h('dd', {}, ...v)])));
}

async function errors() {
  const sec = $('errors-section');
  // Needs the enable password: a read-only session does not ask (each
  // refusal would be a line in the daemon's log every 5 s), and after one
  // refusal or 404 the page stops asking until the next login.
  if (session.readOnly || errorsRefused) {
    sec.hidden = true;
    return;
  }
  const r = await call('/errors');
  if (!r.ok || !Array.isArray(r.data)) {
    if (r.status === 403 || r.status === 404) errorsRefused = true;
    sec.hidden = true;
    return;
  }
  sec.hidden = false;
  const box = clear($('errors-list'));
  if (!r.data.length) {
    box.append(h('p', {class: 'muted'}, 'No errors recorded.'));
    return;
  }
  box.append(h('div', {class: 'table-wrap'}, h('table', {},
    h('thead', {}, h('tr', {}, ['Time', 'Type', 'PID', 'Module', 'Message'].map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, r.data.slice(0, 50).map((e) => h('tr', {},
      h('td', {}, fmtTime(Number(e.ts))), h('td', {}, e.type || ''), h('td', {}, String(e.pid ?? '')),
      h('td', {}, e.module || ''), h('td', {}, e.message || '')))))));
}
