// Start-up, login and the tabs.
//
// On load the page asks GET /auth without a password (or with the one kept
// in sessionStorage): a 200 lets the user straight in (a trusted address
// such as loopback while no password is configured, or a password still
// valid), a 401 shows the login form.  Only the login form sends a new
// password, and only to /auth, so a wrong one costs one failed attempt
// towards the daemon's lockout, not one per API call.  A 429 shows how
// long the lockout lasts.  Once in, /auth's read_only decides whether the
// learning buttons are usable.

import {call, session, retrySeconds} from './api.js';
import {notice} from './dom.js';
import * as explain from './explain.js';
import * as status from './status.js';
import * as history from './history.js';
import * as scan from './scan.js';
import * as config from './config.js';

const $ = (id) => document.getElementById(id);
const pages = {status, history, scan, config};
let current = null;
let configId = null;
let loggedIn = false;

function lockedText(r) {
  const n = retrySeconds(r);
  return `Locked out after too many failed attempts: retry in ${n === null ? 'a minute' : `${n} s`}.`;
}

function showLogin(message, kind = 'error') {
  loggedIn = false;
  if (current) pages[current].deactivate();
  current = null;
  for (const p of Object.values(pages)) p.reset();
  explain.reset();
  $('app').hidden = true;
  $('login').hidden = false;
  notice($('login-error'), kind, message || '');
  $('login-password').value = '';
  $('login-submit').disabled = false;
  $('login-password').focus();
}

function enter(auth, withPassword) {
  loggedIn = true;
  session.readOnly = Boolean(auth.read_only);
  if (configId !== auth.config_id) explain.reset();
  configId = auth.config_id;
  $('login').hidden = true;
  $('app').hidden = false;
  // /auth's version is the Rspamd API level; /status knows winnowd's own.
  $('session-version').textContent = '';
  call('/status').then((st) => {
    if (loggedIn && st.ok && st.data && st.data.version) {
      $('session-version').textContent = `winnowd ${st.data.version}`;
    }
  });
  const mode = $('session-mode');
  mode.textContent = session.readOnly ? 'read-only' : (withPassword ? 'full access' : 'trusted address');
  mode.className = 'badge' + (session.readOnly ? ' readonly' : '');
  mode.dataset.readonly = String(session.readOnly);
  mode.title = withPassword ? '' : 'This address needs no password (secure_ip, or loopback while no password is set)';
  // Without a password there is nothing to forget: logging out would only
  // show a form the daemon does not need.
  $('logout').hidden = !withPassword;
  scan.applyReadOnly();
  select(pageFromHash() || 'status');
}

async function boot() {
  const stored = session.password;
  const r = await call('/auth', {password: stored, quiet401: true});
  if (r.ok && r.data) {
    enter(r.data, Boolean(stored));
  } else if (r.status === 401) {
    session.password = null;
    showLogin(stored ? 'Your saved password is no longer accepted: log in again.' : '', stored ? 'error' : 'info');
  } else if (r.status === 429) {
    session.password = null;
    showLogin(lockedText(r));
  } else {
    showLogin(`Cannot reach the controller's API: ${r.error}`);
  }
}

async function login(e) {
  e.preventDefault();
  const pw = $('login-password').value;
  if (!pw) return;
  $('login-submit').disabled = true;
  notice($('login-error'), 'info', 'Checking…');
  try {
    const r = await call('/auth', {password: pw, quiet401: true});
    if (r.ok && r.data) {
      session.password = pw;
      notice($('login-error'), 'info', '');
      enter(r.data, true);
    } else if (r.status === 401) {
      notice($('login-error'), 'error', 'Wrong password.');
      $('login-password').select();
    } else if (r.status === 429) {
      notice($('login-error'), 'error', lockedText(r));
    } else {
      notice($('login-error'), 'error', `Login failed: ${r.error}`);
    }
  } finally {
    $('login-submit').disabled = false;
  }
}

function logout() {
  session.password = null;
  session.readOnly = false;
  showLogin('Logged out.', 'info');
}

// ---- tabs ----

function pageFromHash() {
  const name = location.hash.replace(/^#/, '');
  return name in pages ? name : null;
}

function select(name) {
  if (!loggedIn) return;
  if (current === name) return;
  if (current) pages[current].deactivate();
  current = name;
  for (const tab of document.querySelectorAll('[role=tab]')) {
    const on = tab.dataset.page === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute('aria-controls')).hidden = !on;
  }
  if (location.hash !== `#${name}`) window.history.replaceState(null, '', `#${name}`);
  pages[name].activate();
}

function tabKeys(e) {
  const tabs = [...document.querySelectorAll('[role=tab]')];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  let j = null;
  if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
  else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = tabs.length - 1;
  if (j === null) return;
  e.preventDefault();
  tabs[j].focus();
  select(tabs[j].dataset.page);
}

function init() {
  for (const p of Object.values(pages)) p.init();
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  for (const tab of document.querySelectorAll('[role=tab]')) {
    tab.addEventListener('click', () => select(tab.dataset.page));
  }
  document.querySelector('[role=tablist]').addEventListener('keydown', tabKeys);
  window.addEventListener('hashchange', () => {
    const name = pageFromHash();
    if (name) select(name);
  });
  session.onUnauthorized = () => {
    if (!loggedIn) return;
    session.password = null;
    showLogin('The daemon no longer accepts this session\'s password: log in again.');
  };
  boot();
}

init();
