"""winnowd's own behaviour as a process (the daemon work): command line,
pid file, detaching, unix sockets, keep-alive, slow and vanishing clients,
draining on SIGTERM, reloads that move a socket, log reopening.

Reuses the shared harness (conftest.py); the helpers below are this file's
own.
"""

import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import (MESSAGES, WINNOWD, Daemon, binary, http_request, parse_raw_reply,
                      proc_title, recv_all, run, sanitizer_env)


def unix_ping(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
        return recv_all(s)


def wait_until(pred, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def port_closed(port):
    try:
        http_request(port, "GET", "/ping", timeout=2)
        return False
    except OSError:
        return True


# -- command line ----------------------------------------------------------


def test_version():
    p = run([binary(WINNOWD), "-v"])
    assert p.returncode == 0
    assert p.stdout.strip() == "winnowd version 0.1.0"


def test_usage_error():
    p = run([binary(WINNOWD), "--no-such-option"])
    assert p.returncode == 2
    assert "usage" in p.stderr


def test_configtest_ok_and_bad(tmp_path):
    d = Daemon(tmp_path / "c")
    p = d.configtest()
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "syntax OK"
    d.write_local("options.inc", "task_timeout = ;\n")
    p = d.configtest()
    assert p.returncode == 1
    assert "syntax BAD" in p.stderr
    assert "options.inc" in p.stderr, p.stderr


def test_missing_config_file(tmp_path):
    p = run([binary(WINNOWD), "-t", "-c", tmp_path / "nope.conf"])
    assert p.returncode == 1
    assert "syntax BAD" in p.stderr


# -- pid file and detaching ------------------------------------------------


def test_pidfile_in_foreground(make_daemon, tmp_path):
    d = make_daemon(start=False)
    pidfile = tmp_path / "winnowd.pid"
    d._stderr = open(d.stderr_path, "wb")
    d.proc = subprocess.Popen([binary(WINNOWD), "-f", "-p", str(pidfile), "-c", str(d.conf)]
                              + d.vars(), stdin=subprocess.DEVNULL, stdout=d._stderr,
                              stderr=d._stderr, env=sanitizer_env(), cwd=d.tmp)
    d.wait_ready()
    assert int(pidfile.read_text()) == d.proc.pid
    assert d.stop(check=True) == 0
    assert not pidfile.exists()


def test_detaches_without_f(tmp_path, redis):
    d = Daemon(tmp_path / "bg", redis=redis)
    pidfile = tmp_path / "bg.pid"
    p = run([binary(WINNOWD), "-p", pidfile, "-c", d.conf] + d.vars(), timeout=60)
    assert p.returncode == 0, p.stderr
    pid = wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid file")
    pid = int(pid)
    try:
        assert "winnowd: main" in proc_title(pid)
        assert os.getsid(pid) != os.getsid(0)      # left our session
        wait_until(lambda: not port_closed(d.port), timeout=60, what="/ping")
        assert d.scan_json(MESSAGES / "ham-plain.eml")["action"]
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), what="exit")
    assert not pidfile.exists()
    d.assert_no_sanitizer_reports()


# -- sockets -----------------------------------------------------------------


def test_unix_socket_mode_and_cleanup(make_daemon, tmp_path):
    sock = tmp_path / "scan.sock"
    d = make_daemon(start=False)
    d.write_local("worker-normal.inc",
                  f'bind_socket = "127.0.0.1:{d.port}";\n'
                  f'bind_socket = "{sock} mode=0660";\ncount = 1;\n')
    d.start()
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660
    status, body = parse_raw_reply(unix_ping(sock))
    assert status == 200 and body.strip() == b"pong"
    d.stop(check=True)
    assert not sock.exists()


def test_stale_unix_socket_is_replaced(make_daemon, tmp_path):
    sock = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    s.close()                        # the file stays, nobody listens
    d = make_daemon(start=False)
    d.write_local("worker-normal.inc",
                  f'bind_socket = "127.0.0.1:{d.port}";\nbind_socket = "{sock}";\ncount = 1;\n')
    d.start()
    status, _ = parse_raw_reply(unix_ping(sock))
    assert status == 200


# -- connections ---------------------------------------------------------------


def test_keepalive_and_pipelining(daemon):
    body = (MESSAGES / "ham-plain.eml").read_bytes()
    req = (b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
           + b"POST /checkv2 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
           + b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", daemon.port)) as s:
        s.sendall(req)
        data = recv_all(s)
    assert data.count(b"HTTP/1.1 200") == 3, data[:2000]
    assert data.count(b"pong") == 2
    assert b'"action"' in data


def test_keepalive_sequential_requests(daemon):
    with socket.create_connection(("127.0.0.1", daemon.port)) as s:
        for _ in range(5):
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(10)
            got = b""
            while b"pong" not in got:
                b = s.recv(4096)
                assert b, "connection closed on a keep-alive request"
                got += b
            assert got.startswith(b"HTTP/1.1 200")


def test_vanishing_clients_do_not_hurt(daemon):
    before = daemon.scanner_workers()
    body = (MESSAGES / "ham-plain.eml").read_bytes()
    for cut in (5, 40, 60 + len(body) // 2):
        with socket.create_connection(("127.0.0.1", daemon.port)) as s:
            full = b"POST /checkv2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            s.sendall(full[:cut])
    # a client that sends a whole request and leaves before the answer
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", daemon.port)) as s:
            s.sendall(b"POST /checkv2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert daemon.scan_json(MESSAGES / "ham-plain.eml")["action"]
    assert daemon.scanner_workers() == before


def test_oversized_header_gets_431_not_a_reset(daemon):
    req = b"GET /ping HTTP/1.1\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", daemon.port)) as s:
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = recv_all(s)
    status, body = parse_raw_reply(data)
    assert status == 431, data[:300]
    assert b'"error"' in body


def test_idle_connection_closed_after_worker_timeout(make_daemon):
    d = make_daemon(start=False, count=1)
    d.write_local("worker-normal.inc",
                  f'bind_socket = "127.0.0.1:{d.port}";\ncount = 1;\ntimeout = 1s;\n')
    d.start()
    with socket.create_connection(("127.0.0.1", d.port)) as s:
        t0 = time.monotonic()
        assert recv_all(s, timeout=15) == b""
        assert time.monotonic() - t0 < 10


# -- stopping and reloading ------------------------------------------------------


def test_sigterm_drains_a_request_in_progress(make_daemon):
    """A request half-sent when SIGTERM arrives is still answered."""
    d = make_daemon(count=1)
    body = (MESSAGES / "ham-plain.eml").read_bytes()
    full = b"POST /checkv2 HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    s = socket.create_connection(("127.0.0.1", d.port))
    s.sendall(full[:30])
    time.sleep(0.3)
    mark = len(d.output())
    d.proc.send_signal(signal.SIGTERM)
    d.wait_log("stopping", start=mark)
    time.sleep(0.3)
    s.sendall(full[30:])
    data = recv_all(s)
    s.close()
    status, payload = parse_raw_reply(data)
    assert status == 200 and b'"action"' in payload, data[:500]
    d.proc.wait(30)
    assert d.proc.returncode == 0


def test_reload_moves_the_socket(make_daemon):
    from conftest import free_port
    d = make_daemon(count=1)
    old_port, new_port = d.port, free_port()
    d.write_local("worker-normal.inc", f'bind_socket = "127.0.0.1:{new_port}";\ncount = 1;\n')
    os.kill(d.proc.pid, signal.SIGHUP)
    d.port = new_port
    wait_until(lambda: not port_closed(new_port), what="new port")
    wait_until(lambda: port_closed(old_port), what="old port closed")
    assert d.scan_json(MESSAGES / "ham-plain.eml")["action"]
    assert len(d.scanner_workers()) == 1


def test_reload_keeps_an_unchanged_socket_open(make_daemon):
    d = make_daemon(count=1)
    with socket.create_connection(("127.0.0.1", d.port)) as s:
        s.sendall(b"GET /ping HTTP/1.0\r\n")     # half a request
        time.sleep(0.3)
        os.kill(d.proc.pid, signal.SIGHUP)
        d.wait_log("reloaded")
        # the listening socket never went away: new connections keep working
        for _ in range(10):
            assert http_request(d.port, "GET", "/ping").status == 200
        s.sendall(b"\r\n")
        assert b"pong" in recv_all(s)   # the old worker finishes this one


def test_sigusr1_reopens_the_log(make_daemon):
    d = make_daemon(count=1)
    rotated = d.logfile.with_suffix(".1")
    os.rename(d.logfile, rotated)
    os.kill(d.proc.pid, signal.SIGUSR1)
    wait_until(lambda: d.logfile.exists(), what="new log file")
    d.scan_json(MESSAGES / "ham-plain.eml")
    assert d.logfile.stat().st_size > 0


def test_restart_backoff_is_logged(make_daemon):
    d = make_daemon(count=1)
    for _ in range(2):
        victim = wait_until(lambda: d.scanner_workers(), what="a worker")[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: d.scanner_workers() and victim not in d.scanner_workers(),
                   what="restart")
    text = d.output()
    assert "restarting in 1s" in text and "restarting in 2s" in text, text[-3000:]


def test_port_in_use_fails_to_start(make_daemon, tmp_path, redis):
    first = make_daemon(count=1)
    second = Daemon(tmp_path / "second", redis=redis)
    second.write_local("worker-normal.inc", f'bind_socket = "127.0.0.1:{first.port}";\ncount = 1;\n')
    p = run([binary(WINNOWD), "-f", "-c", second.conf] + second.vars(), timeout=60)
    assert p.returncode == 1
    assert "Address already in use" in second.output(), second.output()
    assert http_request(first.port, "GET", "/ping").status == 200


def test_reload_onto_a_busy_port_is_refused(make_daemon):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        d = make_daemon(count=1)
        before = d.scanner_workers()
        d.write_local("worker-normal.inc",
                      f'bind_socket = "127.0.0.1:{busy.getsockname()[1]}";\ncount = 1;\n')
        mark = len(d.output())
        os.kill(d.proc.pid, signal.SIGHUP)
        text = d.wait_log("reload refused", start=mark)
        assert "Address already in use" in text[mark:]
        assert http_request(d.port, "GET", "/ping").status == 200
        assert d.scanner_workers() == before
    finally:
        busy.close()
