// The scan / learn page: a message from a file or pasted text goes to
// /checkv2 (the verdict is shown like a history row's explanation) or to
// /learnspam, /learnham.  Learning needs the enable password: in a
// read-only session the buttons are disabled, and a 403 is shown if the
// daemon refuses anyway.  A 208 ("already learned") is not a success.

import {call, session} from './api.js';
import {h, clear, notice, fmtInt} from './dom.js';
import {renderVerdict} from './explain.js';

const $ = (id) => document.getElementById(id);
const MAX_MESSAGE = 50 * 1024 * 1024;   // the daemon's default max_message

export function init() {
  $('scan-form').addEventListener('submit', (e) => {
    e.preventDefault();
    scan();
  });
  // A new message makes the last verdict and learn outcome stale.
  for (const id of ['scan-file', 'scan-text']) {
    $(id).addEventListener(id === 'scan-file' ? 'change' : 'input', () => {
      clear($('scan-result'));
      notice($('learn-result'), 'info', '');
    });
  }
  $('learn-spam-button').addEventListener('click', () => learn(true));
  $('learn-ham-button').addEventListener('click', () => learn(false));
  $('scan-clear').addEventListener('click', () => {
    $('scan-file').value = '';
    $('scan-text').value = '';
    clear($('scan-result'));
    notice($('learn-result'), 'info', '');
  });
}

export function activate() {
  applyReadOnly();
}

export function deactivate() {}

export function reset() {
  $('scan-file').value = '';
  $('scan-text').value = '';
  clear($('scan-result'));
  notice($('learn-result'), 'info', '');
}

export function applyReadOnly() {
  for (const id of ['learn-spam-button', 'learn-ham-button']) {
    $(id).disabled = session.readOnly;
    $(id).title = session.readOnly ? 'Needs the enable password' : '';
  }
  $('learn-readonly').hidden = !session.readOnly;
}

// The message to send: the chosen file, else the text area.  Returns null
// (and says why) when there is none.
function message() {
  const f = $('scan-file').files[0];
  if (f) {
    if (f.size > MAX_MESSAGE) {
      notice($('learn-result'), 'error', `The file is larger than ${fmtInt(MAX_MESSAGE)} bytes.`);
      return null;
    }
    return f;
  }
  const t = $('scan-text').value;
  if (t.trim() === '') {
    notice($('learn-result'), 'error', 'Choose a message file or paste a message first.');
    return null;
  }
  return new Blob([t], {type: 'message/rfc822'});
}

function busy(on) {
  $('scan-button').disabled = on;
  for (const id of ['learn-spam-button', 'learn-ham-button']) $(id).disabled = on || session.readOnly;
}

async function scan() {
  const body = message();
  if (!body) return;
  notice($('learn-result'), 'info', '');
  busy(true);
  try {
    const r = await call('/checkv2', {method: 'POST', body});
    const box = clear($('scan-result'));
    if (!r.ok || !r.data) {
      notice($('learn-result'), 'error', `Scan failed: ${r.error}`);
      return;
    }
    box.append(h('h3', {}, 'Verdict'));
    const div = h('div', {class: 'card'});
    box.append(div);
    await renderVerdict(div, r.data);
  } finally {
    busy(false);
  }
}

async function learn(spam) {
  const body = message();
  if (!body) return;
  const cls = spam ? 'spam' : 'ham';
  busy(true);
  notice($('learn-result'), 'info', `Learning as ${cls}…`);
  try {
    const r = await call(spam ? '/learnspam' : '/learnham', {method: 'POST', body});
    if (r.ok && r.data && r.data.success) {
      const st = await call('/stat');
      const n = st.ok && st.data ? ` Messages learned: ${fmtInt(st.data.learned)}.` : '';
      notice($('learn-result'), 'success', `Learned as ${cls}.${n}`);
      $('learn-result').dataset.outcome = 'success';
    } else {
      const why = r.status === 403 ? `${r.data?.error || 'refused'} (read-only session)` : r.error ||
        r.data?.error || `HTTP ${r.status}`;
      notice($('learn-result'), 'error', `Not learned: ${why}`);
      $('learn-result').dataset.outcome = 'error';
    }
  } finally {
    busy(false);
  }
}
