"""`make run` (scripts/run-dev) as the README describes it: the shipped
etc/, state under ./var, the scanner on 127.0.0.1:11333, a private
redis-server on a unix socket when none is configured, stopped again when
winnowd exits."""

import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import BUILD, MESSAGES, ROOT, WINNOWD, binary, http_request, sanitizer_env

PORT = 11333


def port_busy(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def redis_answers(sock):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(sock)
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_run_dev_starts_and_stops_everything(tmp_path):
    binary(WINNOWD)
    if port_busy(PORT):
        pytest.skip(f"127.0.0.1:{PORT} is already in use (another winnowd or rspamd is running)")
    for f in ("redis.conf",):
        if (ROOT / "etc" / "local.d" / f).exists() or (ROOT / "etc" / "override.d" / f).exists():
            pytest.skip(f"etc/local.d/{f} configures a redis: the private one is not started")
    out = open(tmp_path / "run-dev.out", "wb")
    env = sanitizer_env()
    env["BUILD"] = str(BUILD)
    p = subprocess.Popen(["bash", str(ROOT / "scripts" / "run-dev")], cwd=ROOT, env=env,
                         stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert p.poll() is None, (tmp_path / "run-dev.out").read_text()
            try:
                if http_request(PORT, "GET", "/ping", timeout=2).status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("no /ping on 11333:\n" + (tmp_path / "run-dev.out").read_text())

        private = ROOT / "var" / "lib" / "redis-private.conf"
        text = private.read_text()
        sock = str(ROOT / "var" / "run" / "redis.sock")
        assert f'servers = "unix:{sock}";' in text, text
        assert redis_answers(sock)

        body = (MESSAGES / "gtube.eml").read_bytes()
        r = http_request(PORT, "POST", "/checkv2", body)
        assert r.status == 200 and r.json()["action"] == "reject", r
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            status = p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        out.close()
    log = (tmp_path / "run-dev.out").read_text(errors="replace")
    assert status == 0, log
    assert "private redis stopped" in log, log
    assert not redis_answers(sock)
    assert not port_busy(PORT)
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in log, log
