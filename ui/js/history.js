// The history page: the last scans from /history (newest first), one table
// row each; a row opens the explanation of its verdict in a dialog
// (explain.js).  A 503 means history is off (no Redis, history_rows = 0),
// which is shown as such.

import {call} from './api.js';
import {h, clear, notice, fmtScore, fmtTime, fmtBytes, fmtSeconds, actionClass, scoreClass} from './dom.js';
import {renderVerdict} from './explain.js';

const $ = (id) => document.getElementById(id);
let rows = [];

export function init() {
  $('history-refresh').addEventListener('click', load);
  $('history-filter').addEventListener('input', render);
  $('explain-close').addEventListener('click', () => $('explain').close());
}

export function activate() {
  load();
}

export function deactivate() {}

export function reset() {
  rows = [];
  clear($('history-rows'));
  $('history-count').textContent = '';
  if ($('explain').open) $('explain').close();
}

async function load() {
  const r = await call('/history');
  if (!r.ok || !r.data || !Array.isArray(r.data.rows)) {
    notice($('history-error'), 'error',
      r.status === 503 ? `History is off: ${r.data?.error || 'no Redis'}` : `History unavailable: ${r.error}`);
    rows = [];
    render();
    return;
  }
  notice($('history-error'), 'error', '');
  rows = r.data.rows;
  render();
}

function matches(row, q) {
  if (!q) return true;
  const hay = [row.action, row.subject, row.sender_mime, row.sender_smtp, row.ip, row['message-id'],
    ...(row.rcpt_mime || []), ...(row.rcpt_smtp || []), ...Object.keys(row.symbols || {})]
    .filter(Boolean).join('\n').toLowerCase();
  return hay.includes(q);
}

function render() {
  const q = $('history-filter').value.trim().toLowerCase();
  const shown = rows.filter((row) => matches(row, q));
  const body = clear($('history-rows'));
  shown.forEach((row, i) => {
    const rcpt = [].concat(row.rcpt_mime || [], row.rcpt_smtp || []);
    const tr = h('tr', {tabindex: 0, dataset: {testid: 'history-row', index: String(i),
      messageId: row['message-id'] || ''},
    'aria-label': `${fmtTime(row.unix_time)} ${row.action} score ${fmtScore(row.score)}: ${row.subject || ''}`,
    onclick: () => open(row),
    onkeydown: (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(row); }
    }},
    h('td', {class: 'mono'}, fmtTime(row.unix_time)),
    h('td', {class: actionClass(row.action)}, row.action || ''),
    h('td', {class: `num ${scoreClass(row.score)}`}, `${fmtScore(row.score)} / ${fmtScore(row.required_score)}`),
    h('td', {}, row.sender_mime || row.sender_smtp || ''),
    h('td', {}, rcpt.length > 2 ? `${rcpt.slice(0, 2).join(', ')} +${rcpt.length - 2}` : rcpt.join(', ')),
    h('td', {class: 'subject', title: row.subject || ''}, row.subject || ''),
    h('td', {class: 'mono'}, row.ip || ''),
    h('td', {class: 'num'}, fmtBytes(row.size)),
    h('td', {class: 'num'}, fmtSeconds(row.time_real)));
    body.append(tr);
  });
  if (!shown.length) {
    body.append(h('tr', {}, h('td', {colspan: 9, class: 'muted'},
      rows.length ? 'No row matches the filter.' : 'No messages scanned yet.')));
  }
  $('history-count').textContent = q ? `${shown.length} of ${rows.length} rows` : `${rows.length} rows`;
}

async function open(row) {
  const dlg = $('explain');
  $('explain-title').textContent = row.subject ? `Verdict: ${row.subject}` : 'Verdict';
  await renderVerdict($('explain-body'), row);
  if (!dlg.open) dlg.showModal();
  $('explain-close').focus();
}
