"""Bayes end to end: the bayes module against real redis-server processes.

Learning goes through the controller (/learnspam, /learnham); scanning
through the scanner's /checkv2.  Covers the classification round trip
(BAYES_SPAM / BAYES_HAM with the probability as option), the min_learns
guard, the learn cache (same class refused, other class moves the counts),
Redis killed mid-run (scans still answer, within the timeout, with
BAYES_UNAVAILABLE) and the reconnection once it is back, per-user
statistics, and a Redis with a password and a non-zero database.
"""

import random
import socket
import time

import pytest

from conftest import Daemon, Redis
from test_controller import ctl, wait_controller

SPAM_WORDS = ("cheap viagra offer winner prize million dollars casino click here now free "
              "money guaranteed investment opportunity limited time act fast credit card "
              "unsubscribe bonus lottery claim urgent pills discount pharmacy").split()
HAM_WORDS = ("meeting agenda project review schedule thanks regards patch kernel build "
             "release notes attached minutes tomorrow colleague lunch conference paper draft "
             "comments budget report quarterly repository branch merge").split()

BAYES_LOCAL = "min_learns = 3;\n"


def message(kind, i, seed=None):
    rnd = random.Random(f"{kind}-{i}-{seed}")
    words = SPAM_WORDS if kind == "spam" else HAM_WORDS
    lines = [" ".join(rnd.choice(words) for _ in range(12)) for _ in range(6)]
    sender = "promo@bulk-offers.example" if kind == "spam" else f"colleague{i % 3}@example.org"
    return (f"From: {sender}\r\nTo: user@example.com\r\n"
            f"Subject: {' '.join(rnd.choice(words) for _ in range(4))}\r\n"
            f"Message-ID: <bayes-{kind}-{i}-{seed}@example.net>\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
            f"\r\n" + "\r\n".join(lines) + "\r\n").encode()


def symbols(reply):
    return reply.get("symbols", {})


def resp(sock_path, *cmds, password=None, db=None):
    """A tiny RESP client: runs cmds (lists of str) and returns the decoded
    replies, so the test reads Redis without redis-py."""
    def enc(args):
        out = f"*{len(args)}\r\n"
        for a in args:
            a = str(a)
            out += f"${len(a.encode())}\r\n{a}\r\n"
        return out.encode()

    pre = []
    if password:
        pre.append(["AUTH", password])
    if db:
        pre.append(["SELECT", db])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(str(sock_path))
        s.sendall(b"".join(enc(c) for c in pre + list(cmds)))
        f = s.makefile("rb")

        def read():
            line = f.readline().rstrip(b"\r\n")
            t, rest = line[:1], line[1:]
            if t in (b"+", b"-"):
                return rest.decode()
            if t == b":":
                return int(rest)
            if t == b"$":
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)[:-2]
                return data.decode(errors="replace")
            if t == b"*":
                return [read() for _ in range(int(rest))]
            raise AssertionError(f"bad RESP line {line!r}")

        replies = [read() for _ in pre + list(cmds)]
    return replies[len(pre):]


def learn(d, kind, body, headers=()):
    return ctl(d, "POST", "/learnspam" if kind == "spam" else "/learnham", body,
               headers=headers)


def train(d, n=5, headers=()):
    for i in range(n):
        for kind in ("spam", "ham"):
            r = learn(d, kind, message(kind, i), headers)
            assert r.status == 200, (kind, i, r)


def bayes_daemon(tmp, redis, local=BAYES_LOCAL, redis_conf=None):
    extra = {"classifier-bayes.conf": local}
    if redis_conf is not None:
        extra["redis.conf"] = redis_conf
    d = Daemon(tmp, redis=redis, local=extra, count=1)
    d.start()
    wait_controller(d)
    return d


@pytest.fixture
def own_redis(tmp_path):
    r = Redis(tmp_path / "redis")
    yield r
    r.stop()


def test_configdump_shows_classifier(tmp_path, own_redis):
    d = Daemon(tmp_path / "d", redis=own_redis, local={"classifier-bayes.conf": "per_user = true;\n"})
    p = d.adm("configdump", "classifier")
    assert p.returncode == 0, p.stderr
    assert "bayes" in p.stdout and "per_user = true" in p.stdout
    assert "min_learns = 200" in p.stdout


def test_round_trip(tmp_path, own_redis):
    d = bayes_daemon(tmp_path / "d", own_redis)
    try:
        # Below min_learns: no verdict yet.
        learn(d, "spam", message("spam", 100))
        r = d.scan_json(message("spam", 50, seed="new"))
        assert "BAYES_SPAM" not in symbols(r) and "BAYES_UNAVAILABLE" not in symbols(r)
        train(d)
        stats = resp(own_redis.sock, ["HMGET", "WB", "learns_spam", "learns_ham", "version"])[0]
        assert stats == ["6", "5", "2"], stats
        spam = d.scan_json(message("spam", 50, seed="new"))
        sym = symbols(spam).get("BAYES_SPAM")
        assert sym is not None, spam
        assert sym["score"] > 0 and sym["options"][0].endswith("%"), sym
        ham = d.scan_json(message("ham", 50, seed="new"))
        assert "BAYES_HAM" in symbols(ham), ham
        assert symbols(ham)["BAYES_HAM"]["score"] < 0
    finally:
        d.stop(check=True)


def test_learn_cache_refuses_and_relearns(tmp_path, own_redis):
    d = bayes_daemon(tmp_path / "d", own_redis)
    try:
        body = message("spam", 7, seed="cache")
        assert learn(d, "spam", body).status == 200
        again = learn(d, "spam", body)
        assert again.status == 208, again
        assert "already learned as spam" in again.json()["error"]
        # The administrator's correction: moves the message to ham.
        moved = learn(d, "ham", body)
        assert moved.status == 200, moved
        stats = resp(own_redis.sock, ["HMGET", "WB", "learns_spam", "learns_ham"])[0]
        assert stats == ["0", "1"], stats
        assert "relearned as ham" in d.log()
        # Every token moved: no spam count is left behind ("spam,ham" values).
        values = [v for vals in resp(own_redis.sock, *[["HVALS", f"WB_T{k}"] for k in range(8)])
                  for v in vals]
        assert values and all(v.startswith("0,") for v in values), values[:10]
    finally:
        d.stop(check=True)


def test_redis_killed_then_back(tmp_path):
    r = Redis(tmp_path / "redis")
    d = bayes_daemon(tmp_path / "d", r)
    try:
        train(d)
        assert "BAYES_SPAM" in symbols(d.scan_json(message("spam", 60, seed="k")))
        r.stop()
        t0 = time.monotonic()
        res = d.scan_json(message("spam", 61, seed="k"))
        assert time.monotonic() - t0 < 5
        un = symbols(res).get("BAYES_UNAVAILABLE")
        assert un is not None, res
        assert un["score"] == 0 and un["options"][0].startswith("redis"), un
        assert "BAYES_SPAM" not in symbols(res)
        failed = learn(d, "spam", message("spam", 62))
        assert failed.status == 500 and "redis" in failed.json()["error"], failed
        # Same socket, empty data: the daemon reconnects by itself.
        r = Redis(tmp_path / "redis")
        deadline = time.monotonic() + 60
        while True:
            res = d.scan_json(message("spam", 63, seed="k"))
            if "BAYES_UNAVAILABLE" not in symbols(res):
                break
            assert time.monotonic() < deadline, "no reconnection:\n" + d.log()[-3000:]
            time.sleep(0.5)
        assert learn(d, "spam", message("spam", 64)).status == 200
    finally:
        d.stop(check=True)
        r.stop()


def test_per_user(tmp_path, own_redis):
    d = bayes_daemon(tmp_path / "d", own_redis, local=BAYES_LOCAL + "per_user = true;\n")
    try:
        train(d, headers=[("Deliver-To", "Alice@Example.com")])
        stats = resp(own_redis.sock, ["HMGET", "WBalice@example.com", "learns_spam", "learns_ham"])
        assert stats[0] == ["5", "5"], stats
        mine = d.scan_json(message("spam", 70, seed="u"), headers=[("Deliver-To", "alice@example.com")])
        assert "BAYES_SPAM" in symbols(mine)
        theirs = d.scan_json(message("spam", 70, seed="u"), headers=[("Deliver-To", "bob@example.com")])
        assert "BAYES_SPAM" not in symbols(theirs)
    finally:
        d.stop(check=True)


def test_password_and_db(tmp_path):
    r = Redis(tmp_path / "redis")
    try:
        assert resp(r.sock, ["CONFIG", "SET", "requirepass", "s3cret"]) == ["OK"]
        d = bayes_daemon(tmp_path / "d", None,
                         redis_conf=f'servers = "unix:{r.sock}";\npassword = "s3cret";\ndb = 3;\n')
        try:
            train(d, n=3)
            in_db3 = resp(r.sock, ["HGET", "WB", "learns_spam"], password="s3cret", db=3)
            in_db0 = resp(r.sock, ["EXISTS", "WB"], password="s3cret")
            assert in_db3 == ["3"] and in_db0 == [0]
            res = d.scan_json(message("spam", 80, seed="db"))
            assert "BAYES_SPAM" in symbols(res), res
        finally:
            d.stop(check=True)
    finally:
        r.stop()


def test_autolearn_scores(tmp_path, own_redis):
    # [ham_score, spam_score]: everything scoring <= 10 is learned as ham.
    d = bayes_daemon(tmp_path / "d", own_redis, local=BAYES_LOCAL + "autolearn = [10, 100];\n")
    try:
        bodies = [message("ham", 90 + i, seed="auto") for i in range(3)]
        for b in bodies:
            d.scan_json(b)
        deadline = time.monotonic() + 10
        while resp(own_redis.sock, ["HGET", "WB", "learns_ham"])[0] != "3":
            assert time.monotonic() < deadline, d.log()[-3000:]
            time.sleep(0.1)
        # Scanned again: the learn cache keeps them from counting twice.
        d.scan_json(bodies[0])
        time.sleep(0.5)
        assert resp(own_redis.sock, ["HGET", "WB", "learns_ham"]) == ["3"]
        assert resp(own_redis.sock, ["HGET", "WB", "learns_spam"]) == [None]
        assert "(autolearn)" in d.log()
    finally:
        d.stop(check=True)


def test_off_without_redis(tmp_path):
    d = Daemon(tmp_path / "d", redis=None, local={}, count=1)
    d.start()
    try:
        res = d.scan_json(message("spam", 1))
        assert not any(s.startswith("BAYES") for s in symbols(res))
        p = d.adm("configdump", "-m")
        assert "bayes (disabled (unconfigured))" in p.stdout, p.stdout
    finally:
        d.stop(check=True)
