// The explanation of one verdict, shared by the history (a stored row) and
// the scan page (a fresh /checkv2 reply): the action and score, the action
// thresholds with the ones the score crossed, and every symbol with its
// score, description and options, highest score first.
//
// History rows carry no descriptions, so they come from /symbols; the
// thresholds from /actions.  Both are loaded once per login and again when
// the daemon's config_id changes (main.js calls reset()).

import {call} from './api.js';
import {h, clear, fmtScore, scoreClass, actionClass, fmtTime} from './dom.js';

let cache = null;        // Promise of {symbols: Map, actions: [], errors: []}

export function reset() {
  cache = null;
}

export function reference() {
  if (cache === null) {
    cache = Promise.all([call('/symbols'), call('/actions')]).then(([sy, ac]) => {
      const symbols = new Map();
      const errors = [];
      if (sy.ok && Array.isArray(sy.data)) {
        for (const g of sy.data) {
          for (const rule of g.rules || []) {
            symbols.set(rule.symbol, {description: rule.description || '', group: g.group,
              weight: rule.weight});
          }
        }
      } else {
        errors.push(`Symbol descriptions unavailable: ${sy.error}`);
      }
      let actions = [];
      if (ac.ok && Array.isArray(ac.data)) {
        actions = ac.data.filter((a) => typeof a.value === 'number')
          .sort((a, b) => a.value - b.value);
      } else {
        errors.push(`Action thresholds unavailable: ${ac.error}`);
      }
      if (errors.length) cache = null;       // try again next time
      return {symbols, actions, errors};
    });
  }
  return cache;
}

// verdict: {action, score, required_score, symbols: {NAME: {...}}, ...}
export async function renderVerdict(container, verdict) {
  const ref = await reference();
  clear(container);
  const score = Number(verdict.score);
  const wrap = h('div', {class: 'verdict', dataset: {testid: 'verdict'}});

  wrap.append(h('div', {class: 'verdict-head'},
    h('span', {class: actionClass(verdict.action), dataset: {testid: 'verdict-action'}},
      verdict.action || '–'),
    h('span', {class: 'score', dataset: {testid: 'verdict-score'}},
      `score ${fmtScore(score)}`,
      typeof verdict.required_score === 'number' ? ` / ${fmtScore(verdict.required_score)}` : ''),
    verdict.is_skipped ? h('span', {class: 'badge'}, 'skipped') : null));

  const facts = [
    ['Message-ID', verdict['message-id']],
    ['Time', typeof verdict.unix_time === 'number' ? fmtTime(verdict.unix_time) : null],
    ['Subject', verdict.subject],
    ['From', verdict.sender_mime || verdict.sender_smtp],
    ['To', [].concat(verdict.rcpt_mime || [], verdict.rcpt_smtp || []).filter(Boolean).join(', ')],
    ['IP', verdict.ip],
    ['Queue id', verdict.qid],
  ].filter(([, v]) => v);
  if (facts.length) {
    wrap.append(h('dl', {class: 'kv'}, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])));
  }
  if (verdict.messages && typeof verdict.messages === 'object') {
    for (const [k, v] of Object.entries(verdict.messages)) {
      wrap.append(h('p', {class: 'notice info'}, `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`));
    }
  }
  for (const e of ref.errors) wrap.append(h('p', {class: 'notice error'}, e));

  wrap.append(thresholds(ref.actions, score, verdict.action));
  wrap.append(symbolTable(verdict.symbols || {}, ref.symbols));
  container.append(wrap);
}

function thresholds(actions, score, applied) {
  const sec = h('section', {dataset: {testid: 'thresholds'}}, h('h3', {}, 'Action thresholds'));
  if (!actions.length) {
    sec.append(h('p', {class: 'muted'}, 'No thresholds known.'));
    return sec;
  }
  const rows = actions.map((a) => {
    const crossed = score >= a.value;
    return h('tr', {class: [crossed ? 'crossed' : '', a.action === applied ? 'applied' : ''].join(' ').trim() || null,
      dataset: {testid: 'threshold-row', action: a.action, crossed: String(crossed)}},
    h('td', {class: actionClass(a.action)}, a.action),
    h('td', {class: 'num'}, fmtScore(a.value)),
    h('td', {}, crossed ? `crossed (score ${fmtScore(score)} ≥ ${fmtScore(a.value)})` : 'not reached'),
    h('td', {}, a.action === applied ? 'applied' : ''));
  });
  sec.append(h('table', {},
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Action'), h('th', {scope: 'col', class: 'num'}, 'Threshold'),
      h('th', {scope: 'col'}, 'This message'), h('th', {scope: 'col'}, ''))),
    h('tbody', {}, rows)));
  return sec;
}

function symbolTable(symbols, known) {
  const list = Object.entries(symbols).map(([name, sym]) => ({
    name: sym.name || name,
    score: Number(sym.score) || 0,
    weight: sym.metric_score,
    description: sym.description || known.get(sym.name || name)?.description || '',
    options: Array.isArray(sym.options) ? sym.options : [],
  }));
  list.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  const sec = h('section', {dataset: {testid: 'symbols'}},
    h('h3', {}, `Symbols (${list.length})`));
  if (!list.length) {
    sec.append(h('p', {class: 'muted'}, 'No symbols.'));
    return sec;
  }
  sec.append(h('div', {class: 'table-wrap'}, h('table', {},
    h('thead', {}, h('tr', {},
      h('th', {scope: 'col'}, 'Symbol'), h('th', {scope: 'col', class: 'num'}, 'Score'),
      h('th', {scope: 'col', class: 'num'}, 'Weight'), h('th', {scope: 'col'}, 'Description'),
      h('th', {scope: 'col'}, 'Options'))),
    h('tbody', {}, list.map((sy) => h('tr', {dataset: {testid: 'symbol-row', symbol: sy.name}},
      h('td', {class: 'mono', dataset: {testid: 'symbol-name'}}, sy.name),
      h('td', {class: `num ${scoreClass(sy.score)}`, dataset: {testid: 'symbol-score'}}, fmtScore(sy.score)),
      h('td', {class: 'num muted'}, typeof sy.weight === 'number' ? fmtScore(sy.weight) : ''),
      h('td', {dataset: {testid: 'symbol-description'}}, sy.description),
      h('td', {class: 'options'}, sy.options.join(', '))))))));
  return sec;
}
