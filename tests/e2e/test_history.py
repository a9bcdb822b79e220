"""Scan history end to end: the history module pushes one row per scan into
a real redis-server (a private one, so other tests' scans do not show),
capped at nrows; the controller's /history reads it back (Rspamd's v2 shape,
newest first, from/to ranges), /historyreset empties it, `winnowc history`
prints it as a table; and without Redis, /history says history is off."""

import subprocess

import pytest

from conftest import WINNOWC, Daemon, Redis, binary, run
from test_controller import ctl

NROWS = 3


def msg(i):
    return (f"From: Sender {i} <s{i}@example.net>\r\nTo: r{i}@example.com\r\n"
            f"Subject: history row {i}\r\nMessage-ID: <hist-{i}@example.net>\r\n\r\n"
            f"Body {i}\r\n").encode()


def redis_cli(r, *args):
    p = subprocess.run(["redis-cli", "-s", str(r.sock)] + list(args), capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture(scope="module")
def hist(tmp_path_factory):
    r = Redis(tmp_path_factory.mktemp("hist-redis"))
    d = Daemon(tmp_path_factory.mktemp("hist"), redis=r, count=1,
               local={"history.conf": f"nrows = {NROWS};\nkey_prefix = \"test_history_\";\n"})
    d.start()
    d.wait_controller()
    yield d, r
    d.stop(check=True)
    r.stop()


def history(d, query=""):
    r = ctl(d, "GET", "/history" + query)
    assert r.status == 200, r
    return r.json()


def wait_rows(d, n, top=None, timeout=10):
    """Rows are written after the scan reply (fire and forget), so a reader
    polls until the newest row it expects has arrived."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = history(d)
        if len(h["rows"]) >= n and (top is None or h["rows"][0].get("subject") == top):
            return h
        time.sleep(0.05)
    raise AssertionError(f"history has fewer than {n} rows or not {top!r} on top: {h}")


def test_rows_round_trip_capped(hist):
    d, r = hist
    assert ctl(d, "GET", "/historyreset").status == 200
    for i in range(5):
        d.scan_json(msg(i), headers=[("IP", f"192.0.2.{i + 1}"), ("From", f"env{i}@example.net"),
                                     ("Rcpt", f"r{i}@example.com"), ("Queue-Id", f"Q{i}")])
    h = wait_rows(d, NROWS, top="history row 4")
    assert h["version"] == 2
    rows = h["rows"]
    assert len(rows) == NROWS                     # LTRIM keeps nrows
    assert [x["subject"] for x in rows] == ["history row 4", "history row 3", "history row 2"]
    top = rows[0]
    assert top["message-id"] == "hist-4@example.net"
    assert top["ip"] == "192.0.2.5"
    assert top["sender_smtp"] == "env4@example.net"
    assert top["sender_mime"] == "s4@example.net"
    assert top["rcpt_smtp"] == ["r4@example.com"]
    assert top["qid"] == "Q4"
    assert top["action"] == "no action"
    assert isinstance(top["score"], float) and top["required_score"] == 15.0
    assert top["symbols"] and all("score" in s for s in top["symbols"].values())
    assert isinstance(top["unix_time"], int) and top["size"] == len(msg(4))
    # in Redis: one capped list under key_prefix + host name
    keys = redis_cli(r, "KEYS", "test_history_*").split()
    assert len(keys) == 1
    assert redis_cli(r, "LLEN", keys[0]) == str(NROWS)


def test_from_to_range(hist):
    d, _ = hist
    wait_rows(d, NROWS)
    rows = history(d, "?from=1&to=1")["rows"]
    assert len(rows) == 1 and rows[0]["subject"] == "history row 3"
    assert ctl(d, "GET", "/history?from=2&to=1").status == 400
    assert ctl(d, "GET", "/history?from=x").status == 400


def test_damaged_row_is_skipped(hist):
    d, r = hist
    key = redis_cli(r, "KEYS", "test_history_*").split()[0]
    redis_cli(r, "LPUSH", key, "{not json")
    rows = history(d)["rows"]
    assert all(isinstance(x, dict) for x in rows)
    d.wait_log("damaged history rows skipped")
    redis_cli(r, "LPOP", key)


def test_winnowc_history_table(hist):
    d, _ = hist
    wait_rows(d, NROWS)
    p = run([binary(WINNOWC), "-h", f"127.0.0.1:{d.controller_port}", "history"])
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("Results for command: history")
    assert lines[1].split() == ["Time", "Action", "Score", "IP", "From", "Rcpt", "Subject"]
    assert "history row 4" in p.stdout and "192.0.2.5" in p.stdout and "env4@example.net" in p.stdout
    assert f"{NROWS} rows" in p.stdout
    v = run([binary(WINNOWC), "-v", "-h", f"127.0.0.1:{d.controller_port}", "history"])
    assert "message-id: hist-4@example.net" in v.stdout and "symbols:" in v.stdout
    j = run([binary(WINNOWC), "-j", "-h", f"127.0.0.1:{d.controller_port}", "history"])
    assert '"version"' in j.stdout


def test_historyreset_empties(hist):
    d, r = hist
    wait_rows(d, 1)
    assert ctl(d, "GET", "/historyreset").json() == {"success": True}
    assert history(d)["rows"] == []
    assert redis_cli(r, "KEYS", "test_history_*") == ""


def test_no_redis_no_history(tmp_path):
    d = Daemon(tmp_path, redis=None, count=1)
    d.start()
    try:
        d.wait_controller()
        d.scan_json(msg(9))
        r = ctl(d, "GET", "/history")
        assert r.status == 503, r
        assert "Redis" in r.json()["error"]
        p = run([binary(WINNOWC), "-h", f"127.0.0.1:{d.controller_port}", "history"])
        assert p.returncode == 1 and "Redis" in p.stdout
    finally:
        d.stop(check=True)
