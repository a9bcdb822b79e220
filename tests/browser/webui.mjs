// A headless Chromium, driven by tests/e2e/test_webui.py one command at a
// time: pytest owns the daemons and the assertions, this script owns the
// browser.  Each stdin line is a JSON command {"id", "cmd", ...}; each
// answer is one stdout line {"id", "ok": true, "result": ...} or
// {"id", "ok": false, "error": "..."}.
//
// Environment:
//   WINNOW_PLAYWRIGHT_CORE  the playwright-core package directory (required)
//   WINNOW_CHROMIUM         the browser (default /usr/bin/chromium)
//   WINNOW_WEBUI_ARTIFACTS  where screenshots go (default the working directory)
//
// Nothing may leave 127.0.0.1: Chromium's own background services are
// switched off by flags, its resolver knows no other host, and every request
// of the page to anything but the page's origin is aborted and reported
// (command "report").  (strace shows one more connect(): a UDP socket
// pointed at 2001:4860:4860::8888 to learn whether IPv6 routes, which sends
// no packet.)  Playwright never downloads a browser here: it only drives
// the executable it is given.

import {createRequire} from 'node:module';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const pkg = process.env.WINNOW_PLAYWRIGHT_CORE;
if (!pkg) {
  process.stderr.write('webui.mjs: set WINNOW_PLAYWRIGHT_CORE to the playwright-core directory\n');
  process.exit(2);
}
const pkgDir = path.resolve(pkg);
const {chromium} = createRequire(path.join(pkgDir, 'package.json'))(pkgDir);

const ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--metrics-recording-only',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];
const artifacts = process.env.WINNOW_WEBUI_ARTIFACTS || process.cwd();
mkdirSync(artifacts, {recursive: true});

const browser = await chromium.launch({
  executablePath: process.env.WINNOW_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ARGS,
});

let context = null;
let page = null;
let origin = null;
const pageErrors = [];
const consoleErrors = [];
const foreign = [];

async function open({url}) {
  if (context) await context.close();
  origin = new URL(url).origin;
  // A fresh context: empty sessionStorage, as a new browser tab would be.
  context = await browser.newContext({viewport: {width: 1280, height: 860}, serviceWorkers: 'block'});
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin + '/') || u.startsWith('data:')) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    // 4xx replies the page handles (a wrong password, a view this daemon
    // lacks) are logged by Chromium as console errors: not page faults.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) {
      consoleErrors.push(m.text());
    }
  });
  await page.goto(url);
  return {view: await view()};
}

// Which of the two top-level views is showing, once the boot call is done.
async function view() {
  await page.waitForSelector('#login:not([hidden]), #app:not([hidden])', {timeout: 20000});
  return (await page.isVisible('#app')) ? 'app' : 'login';
}

async function textOf(sel) {
  return ((await page.textContent(sel)) || '').trim();
}

async function login({password}) {
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  // Done when the app shows, or when the notice is an error.
  await page.waitForFunction(() => !document.getElementById('app').hidden ||
    document.getElementById('login-error').classList.contains('error'), null, {timeout: 20000});
  const v = (await page.isVisible('#app')) ? 'app' : 'login';
  return {
    view: v,
    error: v === 'login' ? await textOf('#login-error') : null,
    mode: v === 'app' ? await textOf('#session-mode') : null,
    logout_visible: v === 'app' ? await page.isVisible('#logout') : null,
  };
}

async function waitText({selector, pattern, timeout = 20000}) {
  await page.waitForFunction(([sel, pat]) => {
    const el = document.querySelector(sel);
    return el && new RegExp(pat).test(el.textContent);
  }, [selector, pattern], {timeout});
  return textOf(selector);
}

async function tab({name}) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#page-${name}:not([hidden])`);
  return {hash: await page.evaluate(() => location.hash)};
}

// The verdict rendered inside root (explain.js): action, score, thresholds
// and symbols in display order.
async function verdict(root) {
  await page.waitForSelector(`${root} [data-testid=verdict]`, {timeout: 20000});
  return page.$eval(root, (el) => ({
    action: el.querySelector('[data-testid=verdict-action]').textContent.trim(),
    score: el.querySelector('[data-testid=verdict-score]').textContent.trim(),
    thresholds: [...el.querySelectorAll('[data-testid=threshold-row]')].map((tr) => ({
      action: tr.dataset.action, crossed: tr.dataset.crossed === 'true'})),
    symbols: [...el.querySelectorAll('[data-testid=symbol-row]')].map((tr) => ({
      name: tr.querySelector('[data-testid=symbol-name]').textContent.trim(),
      score: Number(tr.querySelector('[data-testid=symbol-score]').textContent),
      description: tr.querySelector('[data-testid=symbol-description]').textContent.trim(),
    })),
  }));
}

async function historyRows() {
  await page.waitForSelector('[data-testid=history-row], #history-rows td.muted', {timeout: 20000});
  return page.$$eval('[data-testid=history-row]', (rows) => rows.map((tr) => ({
    message_id: tr.dataset.messageId,
    cells: [...tr.cells].map((td) => td.textContent.trim()),
  })));
}

// The index-th row as shown (0 = newest), by a click or by Enter.
async function openHistoryRow({index, keyboard = false}) {
  const sel = `[data-testid=history-row][data-index="${Number(index)}"]`;
  await page.waitForSelector(sel, {timeout: 20000});
  if (keyboard) {
    await page.focus(sel);
    await page.keyboard.press('Enter');
  } else {
    await page.click(sel);
  }
  await page.waitForSelector('#explain[open]');
  return {title: await textOf('#explain-title'), ...(await verdict('#explain-body'))};
}

async function closeExplain() {
  await page.keyboard.press('Escape');
  await page.waitForSelector('#explain:not([open])', {state: 'attached'});
  return {};
}

async function setMessage({file, text}) {
  if (file) await page.setInputFiles('#scan-file', file);
  else {
    await page.setInputFiles('#scan-file', []);
    await page.fill('#scan-text', text || '');
  }
  return {};
}

async function scanMessage() {
  await page.evaluate(() => document.getElementById('scan-result').replaceChildren());
  await page.click('#scan-button');
  await page.waitForFunction(() => document.querySelector('#scan-result [data-testid=verdict]') ||
    document.getElementById('learn-result').classList.contains('error'), null, {timeout: 30000});
  if (await page.$('#scan-result [data-testid=verdict]')) return {ok: true, ...(await verdict('#scan-result'))};
  return {ok: false, error: await textOf('#learn-result')};
}

// force: enable the button first, as a user could with the developer
// tools, to see the daemon's refusal shown.
async function learnMessage({spam, force = false}) {
  const button = spam ? '#learn-spam-button' : '#learn-ham-button';
  await page.evaluate(([b, f]) => {
    delete document.getElementById('learn-result').dataset.outcome;
    if (f) document.querySelector(b).disabled = false;
  }, [button, force]);
  await page.click(button);
  await page.waitForSelector('#learn-result[data-outcome]', {timeout: 30000});
  return {outcome: await page.getAttribute('#learn-result', 'data-outcome'), text: await textOf('#learn-result')};
}

async function state() {
  return page.evaluate(() => ({
    view: document.getElementById('app').hidden ? 'login' : 'app',
    mode: document.getElementById('session-mode').textContent.trim(),
    readonly: document.getElementById('session-mode').dataset.readonly === 'true',
    learn_spam_disabled: document.getElementById('learn-spam-button').disabled,
    learn_ham_disabled: document.getElementById('learn-ham-button').disabled,
    scan_disabled: document.getElementById('scan-button').disabled,
    logout_visible: !document.getElementById('logout').hidden,
    stored_password: sessionStorage.getItem('winnow.password') !== null,
  }));
}

async function screenshot({name}) {
  const file = path.join(artifacts, name);
  await page.screenshot({path: file, fullPage: true});
  return {path: file};
}

const commands = {
  open,
  login,
  view: async () => ({view: await view()}),
  reload: async () => { await page.reload(); return {view: await view()}; },
  text: async ({selector}) => textOf(selector),
  visible: async ({selector}) => page.isVisible(selector),
  wait_text: waitText,
  wait_visible: async ({selector, timeout = 20000}) => {
    await page.waitForSelector(selector, {state: 'visible', timeout});
    return true;
  },
  click: async ({selector}) => { await page.click(selector); return true; },
  count: async ({selector}) => (await page.$$(selector)).length,
  tab,
  history_rows: historyRows,
  open_history_row: openHistoryRow,
  close_explain: closeExplain,
  set_message: setMessage,
  scan: scanMessage,
  learn: learnMessage,
  state,
  screenshot,
  // Before the daemon under the page stops: its polling would otherwise
  // log failed requests.
  close: async () => {
    if (context) await context.close();
    context = page = null;
    return {};
  },
  report: async () => ({page_errors: pageErrors, console_errors: consoleErrors, foreign_requests: foreign}),
};

const rl = readline.createInterface({input: process.stdin});
for await (const line of rl) {
  if (!line.trim()) continue;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (e) {
    process.stdout.write(JSON.stringify({id: null, ok: false, error: `bad JSON: ${e.message}`}) + '\n');
    continue;
  }
  if (msg.cmd === 'quit') break;
  const fn = commands[msg.cmd];
  let reply;
  try {
    if (!fn) throw new Error(`unknown command ${msg.cmd}`);
    reply = {id: msg.id, ok: true, result: await fn(msg)};
  } catch (e) {
    reply = {id: msg.id, ok: false, error: String(e && e.stack ? e.stack : e)};
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
if (context) await context.close();
await browser.close();
