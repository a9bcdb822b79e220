// Every call to the controller's HTTP API goes through call(): it adds the
// Password header, decodes the JSON reply and never throws, so a page can
// show what went wrong next to what it was doing.
//
// The password lives in sessionStorage: it survives a reload of the tab but
// not closing it, and other sites cannot read it.  It is sent only to the
// origin the page came from (fetch of a relative path).

const KEY = 'winnow.password';

export const session = {
  get password() {
    return sessionStorage.getItem(KEY);
  },
  set password(v) {
    if (v === null || v === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, v);
  },
  readOnly: false,
  // Set by main.js: called when the daemon stops accepting our password
  // (401 on a normal call), to go back to the login form.
  onUnauthorized: null,
};

// Result: {status, ok, data, text, error, retryAfter}.  ok means 200;
// error is a sentence for the user when !ok.  opts: method, body,
// password (default: the session's), quiet401 (do not log out on 401).
export async function call(path, opts = {}) {
  const headers = {};
  const password = 'password' in opts ? opts.password : session.password;
  if (password) headers.Password = password;
  let resp;
  try {
    resp = await fetch(path, {
      method: opts.method || 'GET',
      body: opts.body ?? null,
      headers,
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch (e) {
    const why = e instanceof TypeError && /header/i.test(e.message)
      ? 'the password holds characters that cannot be sent in an HTTP header'
      : 'the controller does not answer';
    return {status: 0, ok: false, data: null, text: '', error: `Request failed: ${why}.`};
  }
  const text = await resp.text().catch(() => '');
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  const r = {
    status: resp.status,
    ok: resp.status === 200,
    data,
    text,
    retryAfter: resp.headers.get('Retry-After'),
  };
  r.error = r.ok ? null : errorText(r);
  if (r.status === 401 && !opts.quiet401 && session.onUnauthorized) session.onUnauthorized();
  return r;
}

function errorText(r) {
  if (r.status === 404) return 'Not available: this winnowd does not offer this view (404).';
  const msg = r.data && typeof r.data.error === 'string' ? r.data.error : r.text.trim().slice(0, 300);
  return msg ? `${msg} (HTTP ${r.status})` : `HTTP ${r.status}`;
}

// Seconds until a locked-out client may retry: from the body ("retry in
// 60 seconds"), else from Retry-After.
export function retrySeconds(r) {
  const m = r.data && typeof r.data.error === 'string' && r.data.error.match(/retry in (\d+)/i);
  if (m) return Number(m[1]);
  const n = Number(r.retryAfter);
  return Number.isFinite(n) ? n : null;
}
