// The configuration page: /configdump (the effective configuration as
// JSON, secrets already replaced by "<hidden>" by the daemon) as a tree of
// <details> elements, or as indented text.  Nothing here can change it.

import {call} from './api.js';
import {h, clear, notice} from './dom.js';

const $ = (id) => document.getElementById(id);
let loaded = null;

export function init() {
  $('config-refresh').addEventListener('click', load);
  $('config-expand').addEventListener('click', () => toggleAll(true));
  $('config-collapse').addEventListener('click', () => toggleAll(false));
  $('config-raw').addEventListener('change', view);
}

export function activate() {
  if (loaded === null) load();
}

export function deactivate() {}

export function reset() {
  loaded = null;
  clear($('config-tree'));
  $('config-text').textContent = '';
}

async function load() {
  const r = await call('/configdump');
  if (!r.ok || r.data === null) {
    notice($('config-error'), 'error', r.status === 404
      ? 'Not available: this winnowd has no /configdump. `winnowadm configdump` shows the same on the host.'
      : `Configuration unavailable: ${r.error}`);
    loaded = null;
    clear($('config-tree'));
    return;
  }
  notice($('config-error'), 'error', '');
  loaded = r.data;
  clear($('config-tree')).append(...tree(loaded));
  $('config-text').textContent = JSON.stringify(loaded, null, 2);
  view();
}

function view() {
  const raw = $('config-raw').checked;
  $('config-tree').hidden = raw;
  $('config-text').hidden = !raw;
}

function toggleAll(open) {
  for (const d of $('config-tree').querySelectorAll('details')) d.open = open;
}

function leafValue(v) {
  if (v === '<hidden>') return h('span', {class: 'v-hidden'}, '<hidden>');
  if (typeof v === 'string') return h('span', {class: 'v-string'}, JSON.stringify(v));
  if (typeof v === 'number') return h('span', {class: 'v-number'}, String(v));
  if (typeof v === 'boolean') return h('span', {class: 'v-bool'}, String(v));
  return h('span', {class: 'v-null'}, 'null');
}

// The children of an object or array as nodes, all closed: the first view
// is the list of sections.
function tree(value) {
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  return entries.map(([k, v]) => {
    if (v !== null && typeof v === 'object') {
      const n = Array.isArray(v) ? v.length : Object.keys(v).length;
      const d = h('details', {dataset: {testid: 'config-node', key: k}},
        h('summary', {}, h('span', {class: 'key'}, k), ' ',
          h('span', {class: 'count'}, Array.isArray(v) ? `[${n}]` : `{${n}}`)));
      d.append(...tree(v));
      return d;
    }
    return h('div', {class: 'leaf', dataset: {testid: 'config-leaf', key: k}},
      h('span', {class: 'key'}, k), ' = ', leafValue(v));
  });
}
