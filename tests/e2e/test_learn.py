"""Learning through the controller: `winnowc learn_spam|learn_ham` with
files, directories and mbox files -> POST /learnspam|/learnham -> the Bayes
module -> a private redis-server.  Covers success, "already learned" being
reported and counted (exit 1), relearning as the other class, the progress
bar on a terminal, and the enable password.  Skipped, with the reason, when
the build has no working Bayes module yet."""

import os
import pty
import subprocess

import pytest

from conftest import WINNOWC, Daemon, Redis, binary, run, sanitizer_env
from test_controller import ENABLE_PW, READ_PW, ctl, pw_hash

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()


def message(i, kind="spam"):
    words = " ".join(f"{w}{i}" for w in WORDS)
    return (f"From: sender{i}@example.net\r\nTo: rcpt@example.com\r\n"
            f"Subject: {kind} learning sample {i}\r\nMessage-ID: <learn-{kind}-{i}@example.net>\r\n"
            f"\r\n{words}\r\n{words} cheap offer winner prize {i}\r\n").encode()


@pytest.fixture(scope="module")
def learn_redis(tmp_path_factory):
    r = Redis(tmp_path_factory.mktemp("learn-redis"))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def ld(tmp_path_factory, learn_redis):
    d = Daemon(tmp_path_factory.mktemp("learn"), redis=learn_redis, count=1)
    d.start()
    d.wait_controller()
    probe = ctl(d, "POST", "/learnham", message(999, "probe"))
    if probe.status == 503:
        d.stop(check=True)
        pytest.skip("learning unavailable in this build: " + probe.json().get("error", ""))
    assert probe.status == 200, probe
    yield d
    d.stop(check=True)


def winnowc(d, *args, **kw):
    return run([binary(WINNOWC), "-h", f"127.0.0.1:{d.controller_port}"] + list(args), **kw)


def test_learn_file_then_already_learned(ld, tmp_path):
    f = tmp_path / "one.eml"
    f.write_bytes(message(1))
    before = ctl(ld, "GET", "/stat").json()["learned"]
    p = winnowc(ld, "learn_spam", f)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "success" in p.stdout
    assert ctl(ld, "GET", "/stat").json()["learned"] == before + 1
    again = winnowc(ld, "learn_spam", f)
    assert again.returncode == 1, again.stdout
    assert "already" in again.stdout
    assert ctl(ld, "GET", "/stat").json()["learned"] == before + 1


def test_relearn_as_other_class(ld, tmp_path):
    f = tmp_path / "two.eml"
    f.write_bytes(message(2))
    assert winnowc(ld, "learn_spam", f).returncode == 0
    p = winnowc(ld, "learn_ham", f)
    assert p.returncode == 0, p.stdout + p.stderr


def test_http_already_learned_reply(ld):
    body = message(3)
    assert ctl(ld, "POST", "/learnspam", body).json() == {"success": True}
    r = ctl(ld, "POST", "/learnspam", body)
    assert r.status == 208, r
    assert "already" in r.json()["error"]


def learn_on_tty(d, path):
    """winnowc learn_spam PATH with its stderr on a terminal (a pty): the
    finished process and what the terminal showed."""
    master, slave = pty.openpty()
    try:
        p = subprocess.run([binary(WINNOWC), "-h", f"127.0.0.1:{d.controller_port}",
                            "learn_spam", str(path)], stdout=subprocess.PIPE, stderr=slave,
                           stdin=subprocess.DEVNULL, env=sanitizer_env(), timeout=120)
        os.close(slave)
        slave = None
        tty = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            tty += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    return p, tty


def test_directory_with_progress_bar_on_a_tty(ld, tmp_path):
    n = 6
    for i in range(n):
        (tmp_path / f"m{i}.eml").write_bytes(message(100 + i))
    p, tty = learn_on_tty(ld, tmp_path)
    out = p.stdout.decode()
    assert p.returncode == 0, out + tty.decode(errors="replace")
    assert f"{n}/{n}" in tty.decode()
    assert "[" in tty.decode() and "#" in tty.decode()
    assert f"learn_spam: {n} messages, {n} learned, 0 failed" in out
    assert "Results for file" not in out          # the bar replaces per-message reports
    # the same directory again: every message is already learned, each one
    # named with its error, counted, and the exit status says so
    p, tty = learn_on_tty(ld, tmp_path)
    assert p.returncode == 1
    assert tty.decode().count("already") == n
    assert f"{n} messages, 0 learned, {n} failed" in p.stdout.decode()


def test_mbox_without_tty(ld, tmp_path):
    mbox = tmp_path / "box.mbox"
    parts = []
    for i in range(3):
        parts.append(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" +
                     message(200 + i, "ham").replace(b"\r\n", b"\n") + b"\n")
    mbox.write_bytes(b"".join(parts))
    p = winnowc(ld, "learn_ham", mbox)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("Results for file:") == 3
    assert "learn_ham: 3 messages, 3 learned, 0 failed" in p.stderr


def test_learning_needs_the_enable_password(tmp_path, learn_redis, ld):
    d = Daemon(tmp_path, redis=learn_redis, count=1)
    d.write_local("worker-controller.inc",
                  f'bind_socket = "127.0.0.1:{d.controller_port}";\n'
                  f'password = "{pw_hash(READ_PW)}";\nenable_password = "{pw_hash(ENABLE_PW)}";\n')
    d.start()
    try:
        d.wait_controller()
        f = tmp_path / "pw.eml"
        f.write_bytes(message(300))
        p = winnowc(d, "learn_spam", f)
        assert p.returncode == 1 and "401" in p.stdout
        p = winnowc(d, "-P", READ_PW, "learn_spam", f)
        assert p.returncode == 1 and "403" in p.stdout
        p = winnowc(d, "-P", ENABLE_PW, "learn_spam", f)
        assert p.returncode == 0, p.stdout + p.stderr
    finally:
        d.stop(check=True)


def test_rspamc_learn_spam(ld, tmp_path):
    """Rspamd's own rspamc learns through our controller unchanged."""
    import shutil
    if not shutil.which("rspamc"):
        pytest.skip("rspamc not installed")
    f = tmp_path / "rspamc.eml"
    f.write_bytes(message(400))
    p = subprocess.run(["rspamc", "-h", f"127.0.0.1:{ld.controller_port}", "learn_spam", str(f)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "success = true" in p.stdout
    again = subprocess.run(["rspamc", "-h", f"127.0.0.1:{ld.controller_port}", "learn_spam",
                            str(f)], capture_output=True, text=True, timeout=60)
    assert "already" in again.stdout + again.stderr


def test_learning_without_redis_says_why(tmp_path):
    d = Daemon(tmp_path, redis=None, count=1)
    d.start()
    try:
        d.wait_controller()
        f = tmp_path / "x.eml"
        f.write_bytes(message(500))
        p = winnowc(d, "learn_spam", f)
        assert p.returncode == 1
        assert "Learning is not available" in p.stdout and "redis.conf" in p.stdout
    finally:
        d.stop(check=True)
