"""`winnowadm control` against a running winnowd, over the main process's
control socket: `stat` shows the counters grow as messages are scanned
(JOURNEY §8), says when Redis is down and which features are off, `reload`
reloads (or says why not), and the socket answers garbage cleanly."""

import json
import os
import re
import socket
import stat

from conftest import WINNOWADM, Daemon, binary, recv_all, run


def control(d, *args):
    return d.adm("control", *args)


def stat_lines(d):
    p = control(d, "stat")
    assert p.returncode == 0, p.stderr
    return p.stdout


def scanned(text):
    return int(re.search(r"^Messages scanned: (\d+)$", text, re.M).group(1))


def test_stat_grows_with_scanning(make_daemon):
    d = make_daemon()
    first = stat_lines(d)
    assert re.search(r"^Uptime: \d+ days, \d\d:\d\d:\d\d$", first, re.M), first
    for line in ("Messages learned: 0", "Messages with action reject: 0",
                 "Messages with action no action:", "Redis: up", "Features off: none"):
        assert line in first, first
    assert re.search(r"^Connections: \d+$", first, re.M)
    base = scanned(first)
    for i in range(5):
        r = d.scan(b"From: a@example.net\r\nSubject: s%d\r\n\r\nhello\r\n" % i)
        assert r.status == 200
    after = stat_lines(d)
    assert scanned(after) == base + 5, after
    assert re.search(r"^Workers: 4$", after, re.M), after
    # -j: the daemon's JSON, the same numbers as the controller's /stat.
    j = json.loads(control(d, "-j", "stat").stdout)
    assert j["scanned"] == base + 5
    assert sorted(w["pid"] for w in j["workers"]) == sorted(d.workers())


def test_socket_is_private(make_daemon):
    d = make_daemon()
    sock = d.dbdir / "winnow.sock"
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_stat_says_redis_is_down(tmp_path):
    dead = tmp_path / "nobody.sock"
    with Daemon(tmp_path / "d", local={"redis.conf": f'servers = "unix:{dead}";\n'}) as d:
        d.scan(b"From: a@example.net\r\n\r\nhello\r\n")
        out = stat_lines(d)
        assert "Redis: down (" in out and "No such file" in out, out
        assert "Features off: bayes, greylist, history (Redis is down)" in out, out


def test_reload(make_daemon):
    d = make_daemon()
    before = sorted(d.workers())
    p = control(d, "reload")
    assert p.returncode == 0 and p.stdout.strip() == "reload: success", (p.stdout, p.stderr)
    d.wait_log("reloaded: configuration generation 2 running")
    d.wait_log("configuration generation 1 retired")   # the old workers have drained
    # A broken file: the reload is refused, and the running workers stay.
    d.write_local("actions.conf", "actions { reject = ; }\n")
    now = sorted(d.workers())
    p = control(d, "reload")
    assert p.returncode == 1
    assert "does not load" in p.stdout, p.stdout
    assert sorted(d.workers()) == now and now != before
    assert d.scan(b"From: a@example.net\r\n\r\nhello\r\n").status == 200


def test_no_daemon_is_a_clear_error(tmp_path):
    d = Daemon(tmp_path / "d")          # not started
    p = control(d, "stat")
    assert p.returncode == 1
    assert "winnow.sock" in p.stderr and "is winnowd running" in p.stderr, p.stderr


def test_usage_errors(tmp_path):
    d = Daemon(tmp_path / "d")
    for args in (("frobnicate",), (), ("stat", "extra")):
        p = control(d, *args)
        assert p.returncode != 0 and "Usage: winnowadm control" in p.stderr, (args, p.stderr)


def raw(path, data):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(path))
    s.sendall(data)
    try:
        return recv_all(s)
    finally:
        s.close()


def test_socket_answers_odd_requests(make_daemon):
    d = make_daemon()
    sock = d.dbdir / "winnow.sock"
    assert b"HTTP/1.0 200" in raw(sock, b"stat\n")
    assert b"HTTP/1.0 404" in raw(sock, b"GET /frobnicate HTTP/1.0\r\n\r\n")
    assert b"HTTP/1.0 400" in raw(sock, b"\x00\x01\x02\n")
    # A client that sends nothing and stays connected does not block the
    # main process: the next client is answered.
    idle = socket.socket(socket.AF_UNIX)
    idle.connect(str(sock))
    try:
        assert b'"scanned"' in raw(sock, b"GET /stat HTTP/1.0\r\n\r\n")
    finally:
        idle.close()
    assert d.scan(b"From: a@example.net\r\n\r\nhello\r\n").status == 200


def test_counters_survive_a_restart(tmp_path, redis):
    d = Daemon(tmp_path / "d", redis=redis)
    with d:
        for i in range(3):
            assert d.scan(b"From: a@example.net\r\nSubject: r%d\r\n\r\nhello\r\n" % i).status == 200
        before = scanned(stat_lines(d))
    saved = json.loads((d.dbdir / "stats.ucl").read_text())
    assert saved["scanned"] == before >= 3
    with d:
        assert scanned(stat_lines(d)) == before
        assert "counters restored from" in d.log()
    # A damaged file is named in the log and ignored: counting starts over.
    (d.dbdir / "stats.ucl").write_text('{"scanned": [}')
    with d:
        assert scanned(stat_lines(d)) == 0
        assert "stats_file" in d.log() and "is damaged" in d.log()


def test_relative_dbdir(make_daemon):
    """`winnowadm --var DBDIR=var/lib control stat` from the directory above
    var/, without a configuration that loads (README's `make run` tour)."""
    d = make_daemon()
    rel = os.path.relpath(d.dbdir, d.tmp)
    p = run([binary(WINNOWADM), "--var", f"DBDIR={rel}", "control", "-c", "/nonexistent.conf",
             "stat"], cwd=d.tmp)
    assert p.returncode == 0, p.stderr
    assert "Messages scanned:" in p.stdout and "trying" in p.stderr


def test_without_redis_the_log_and_stat_say_what_is_off(tmp_path):
    """JOURNEY §3: without Redis the daemon scans, and says which features
    are off in the log and in `control stat`."""
    with Daemon(tmp_path / "d") as d:            # no redis.conf
        assert d.scan(b"From: a@example.net\r\n\r\nhello\r\n").status == 200
        d.wait_log("Redis is not configured: bayes, greylist, history are off; "
                   "set servers in local.d/redis.conf")
        out = stat_lines(d)
        assert "Redis: not configured" in out, out
        assert "Features off: bayes, greylist, history (Redis not configured)" in out, out
