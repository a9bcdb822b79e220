// Small helpers shared by the pages: building elements without innerHTML
// (every string from the daemon may come from a message, so it only ever
// becomes text), and formatting numbers, times and action names.

// h('td', {class: 'num', dataset: {testid: 'x'}}, 'text', child, ...)
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function show(el, on = true) {
  el.hidden = !on;
}

// A notice paragraph: kind is 'error', 'success' or 'info'.
export function notice(el, kind, text) {
  el.className = 'notice ' + kind;
  el.textContent = text;
  el.hidden = !text;
}

export function fmtInt(n) {
  return typeof n === 'number' && isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

export function fmtScore(n) {
  return typeof n === 'number' && isFinite(n) ? n.toFixed(2) : '–';
}

export function scoreClass(n) {
  return n > 0 ? 'score-pos' : n < 0 ? 'score-neg' : 'score-zero';
}

export function fmtUptime(sec) {
  if (typeof sec !== 'number' || !isFinite(sec)) return '–';
  sec = Math.floor(sec);
  const d = Math.floor(sec / 86400), hr = Math.floor(sec / 3600) % 24;
  const m = Math.floor(sec / 60) % 60, x = sec % 60;
  const pad = (v) => String(v).padStart(2, '0');
  if (d > 0) return `${d}d ${hr}h ${pad(m)}m`;
  if (hr > 0) return `${hr}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(x)}s`;
  return `${x}s`;
}

// Local time as "2026-11-25 01:30:40" (sortable, the same in every locale).
export function fmtTime(unix) {
  if (typeof unix !== 'number' || !isFinite(unix)) return '–';
  const t = new Date(unix * 1000);
  const pad = (v) => String(v).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
         `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

export function fmtBytes(n) {
  if (typeof n !== 'number' || !isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function fmtSeconds(sec) {
  if (typeof sec !== 'number' || !isFinite(sec)) return '–';
  return sec < 1 ? `${(sec * 1000).toFixed(1)} ms` : `${sec.toFixed(2)} s`;
}

// The six actions in Rspamd's order, with the colours its web interface
// uses, so both look alike to an administrator who knows one.
export const ACTIONS = [
  {name: 'reject', label: 'Rejected', color: '#e53935'},
  {name: 'soft reject', label: 'Temporarily rejected', color: '#bf8040'},
  {name: 'rewrite subject', label: 'Subject rewritten', color: '#ff6d00'},
  {name: 'add header', label: 'Probable spam', color: '#ffad00'},
  {name: 'greylist', label: 'Greylisted', color: '#436eee'},
  {name: 'no action', label: 'Clean', color: '#66bb00'},
];

export function actionClass(name) {
  return 'action action-' + String(name || '').replace(/[^a-z]+/gi, '-').toLowerCase();
}
