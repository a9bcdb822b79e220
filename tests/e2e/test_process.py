"""Process management seen from outside: reload, worker restart, shutdown."""

import os
import signal
import time

import pytest

from conftest import MESSAGES, http_request, proc_title


def scan_ok(d):
    j = d.scan_json(MESSAGES / "gtube.eml")
    assert j["action"] == "reject"


def test_worker_titles(make_daemon):
    d = make_daemon(count=2)
    titles = [proc_title(p) for p in d.workers()]
    assert sum("normal" in t for t in titles) == 2, titles
    assert "winnowd" in proc_title(d.proc.pid)


def test_sigterm_is_a_clean_exit(make_daemon):
    d = make_daemon()
    scan_ok(d)
    workers = d.workers()
    assert d.stop(check=True) == 0
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}") or "winnowd" not in proc_title(pid), \
            f"worker {pid} outlived the main process"
    # the port is free again
    try:
        http_request(d.port, "GET", "/ping", timeout=2)
        raise AssertionError("still answering after SIGTERM")
    except OSError:
        pass


def test_killed_worker_is_restarted(make_daemon):
    d = make_daemon(count=2)
    before = d.scanner_workers()
    assert len(before) == 2, before
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = d.scanner_workers()
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"worker not replaced: before {before}, now {d.scanner_workers()}\n"
                             + d.output()[-3000:])
    for _ in range(6):
        scan_ok(d)
    # the main process said what happened
    assert str(victim) in d.output(), d.output()[-3000:]


def test_sighup_with_broken_file_is_refused(make_daemon):
    d = make_daemon()
    before = d.scanner_workers()
    d.write_local("actions.conf", "reject = 15;\nadd_header = ;\n")
    mark = len(d.output())
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("reload refused", start=mark)
    text = d.output()[mark:]
    assert "actions.conf" in text, text
    for _ in range(4):
        scan_ok(d)
    assert d.scanner_workers() == before
    assert d.proc.poll() is None


def test_sighup_with_good_file_applies_it(make_daemon):
    d = make_daemon()
    ham = MESSAGES / "ham-plain.eml"
    score = d.scan_json(ham)["score"]
    # make the ham message reach "reject" by moving the threshold below its score
    d.write_local("actions.conf", f"reject = {score - 1:.2f};\n")
    os.kill(d.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            j = d.scan_json(ham)
            if j["action"] == "reject":
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        raise AssertionError("reload did not take effect:\n" + d.output()[-3000:])
    assert j["required_score"] == pytest.approx(round(score - 1, 2), abs=0.001)


def test_scans_without_redis(make_daemon, tmp_path):
    """No Redis reachable: the daemon still starts and scans (DESIGN.md, State)."""
    d = make_daemon(local={"redis.conf": f'servers = "unix:{tmp_path}/no-such-redis.sock";\n'})
    scan_ok(d)
    assert d.scan_json(MESSAGES / "ham-plain.eml")["action"] != "reject"
