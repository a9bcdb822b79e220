"""Bayes end to end: the bayes module against real redis-server processes.

Learning goes through the controller (/learnspam, /learnham); scanning
through the scanner's /checkv2.  Covers the classification round trip
(BAYES_SPAM / BAYES_HAM with the probability as option), the min_learns
guard, the learn cache (same class refused, other class moves the counts),
Redis killed mid-run (scans still answer, within the timeout, with
BAYES_UNAVAILABLE) and the reconnection once it is back, per-user
statistics, a Redis with a password and a non-zero database, and the
n-gram model (examples stored by learning, trained by the controller,
fetched by the scanner, a damaged model ignored).
"""

import random
import socket
import time

import pytest

from conftest import WINNOWC, Daemon, Redis, binary, run
from test_controller import ctl

SPAM_WORDS = ("cheap viagra offer winner prize million dollars casino click here now free "
              "money guaranteed investment opportunity limited time act fast credit card "
              "unsubscribe bonus lottery claim urgent pills discount pharmacy").split()
HAM_WORDS = ("meeting agenda project review schedule thanks regards patch kernel build "
             "release notes attached minutes tomorrow colleague lunch conference paper draft "
             "comments budget report quarterly repository branch merge").split()

# The n-gram model is off here, so a training in the middle of a test cannot
# move a verdict; test_ngram_* below turn it on.
BAYES_LOCAL = "min_learns = 3;\nngram_examples = 0;\n"
NGRAM_LOCAL = "min_learns = 3;\nngram_interval = 0.2s;\n"
MODEL_BYTES = 12 + 4 * (1 << 20)


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
    d.wait_controller()
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


def hmget_calls(sock):
    info = resp(sock, ["INFO", "commandstats"])[0]
    line = next((l for l in info.splitlines() if l.startswith("cmdstat_hmget:")), "")
    return int(line.split("calls=")[1].split(",")[0]) if line else 0


def test_young_statistics_read_no_tokens(tmp_path, own_redis):
    """Below min_learns a scan reads the class counters only (a Redis that
    Bayes never learns into costs one small read a scan); the scan that
    finds enough learns reads the tokens too."""
    d = bayes_daemon(tmp_path / "d", own_redis)
    try:
        d.scan_json(message("spam", 1, seed="young"))         # finds the statistics young
        assert resp(own_redis.sock, ["CONFIG", "RESETSTAT"]) == ["OK"]
        for i in range(3):
            res = d.scan_json(message("spam", 2 + i, seed="young"))
            assert not any(k.startswith("BAYES") for k in symbols(res)), res
        assert hmget_calls(own_redis.sock) == 3
        train(d)
        assert "BAYES_SPAM" in symbols(d.scan_json(message("spam", 9, seed="young")))
    finally:
        d.stop(check=True)


def test_learn_seen_by_next_scan(tmp_path, own_redis):
    """The scanner's token cache answers most tokens; a learn moves the
    revision, and the next scan reads again what the cache answered."""
    d = bayes_daemon(tmp_path / "d", own_redis)
    try:
        train(d)
        body = message("spam", 51, seed="cached")
        first = symbols(d.scan_json(body)).get("BAYES_SPAM")
        again = symbols(d.scan_json(body)).get("BAYES_SPAM")      # from the cache
        assert first is not None and again == first, (first, again)
        assert learn(d, "ham", body).status == 200
        after = d.scan_json(body)
        assert symbols(after).get("BAYES_SPAM") != first, after
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
        values = token_values(own_redis.sock)
        assert values and all(v.startswith("0,") for v in values), values[:10]
    finally:
        d.stop(check=True)


def token_values(sock):
    return [v for vals in resp(sock, *[["HVALS", f"WB_T{k}"] for k in range(8)]) for v in vals]


def test_concurrent_learns_count_once(tmp_path, own_redis):
    """The learn cache check and its entry are one atomic step (a Lua claim
    on WB_L): of many learns of one message in flight at once, one counts
    and the others are refused as already learned."""
    import concurrent.futures
    d = bayes_daemon(tmp_path / "d", own_redis)
    try:
        body = message("spam", 9, seed="race")
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            replies = list(ex.map(lambda _: learn(d, "spam", body), range(8)))
        statuses = sorted(r.status for r in replies)
        assert statuses == [200] + [208] * 7, statuses
        assert resp(own_redis.sock, ["HGET", "WB", "learns_spam"]) == ["1"]
        values = token_values(own_redis.sock)
        assert values and all(v == "1,0" for v in values), values[:10]
        # Both classes at once, many times: whatever order Redis runs them
        # in, the message ends up counted once, in the class its learn
        # cache entry names.
        body = message("ham", 10, seed="race")
        kinds = ["spam", "ham"] * 4
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            replies = list(ex.map(lambda k: learn(d, k, body), kinds))
        assert all(r.status in (200, 208) for r in replies), [r.status for r in replies]
        entries = resp(own_redis.sock, ["HVALS", "WB_L"])[0]
        assert len(entries) == 2, entries
        final = "ham" if "H" in entries else "spam"
        stats = resp(own_redis.sock, ["HMGET", "WB", "learns_spam", "learns_ham"])[0]
        assert stats == (["1", "1"] if final == "ham" else ["2", "0"]), (final, stats)
    finally:
        d.stop(check=True)


def statfiles(d):
    r = ctl(d, "GET", "/stat")
    assert r.status == 200, r
    return {sf["symbol"]: sf for sf in r.json()["statfiles"]}


def test_stat_statfiles(tmp_path, own_redis):
    """/stat statfiles (spec §5.3): one per class, revision = its learns,
    summed over the users of per_user statistics; winnowc stat prints them;
    /statreset shows them and leaves the Bayes statistics alone."""
    d = bayes_daemon(tmp_path / "d", own_redis, local=BAYES_LOCAL + "per_user = true;\n")
    try:
        assert set(statfiles(d)) == {"BAYES_SPAM", "BAYES_HAM"}
        assert statfiles(d)["BAYES_SPAM"]["revision"] == 0
        train(d, n=3, headers=[("Deliver-To", "alice@example.com")])
        train(d, n=2, headers=[("Deliver-To", "bob@example.com")])
        learn(d, "spam", message("spam", 40))                # no recipient: the global prefix
        sf = statfiles(d)
        assert sf["BAYES_SPAM"] == {"revision": 6, "used": 0, "total": 0, "size": 0,
                                    "symbol": "BAYES_SPAM", "type": "redis", "languages": 0,
                                    "users": 3}, sf
        assert sf["BAYES_HAM"]["revision"] == 5 and sf["BAYES_HAM"]["users"] == 3, sf
        keys = [k for k in ctl(d, "GET", "/stat").json()]
        assert keys[-1] == "statfiles" and keys[-2] == "total_learns", keys
        p = run([binary(WINNOWC), "-h", f"127.0.0.1:{d.controller_port}", "stat"])
        assert p.returncode == 0, p.stdout + p.stderr
        assert "Statfile: BAYES_SPAM type: redis; length: 0; free blocks: 0; total blocks: 0; " \
               "free: 0.00%; learned: 6; users: 3; languages: 0" in p.stdout, p.stdout
        assert "Statfile: BAYES_HAM type: redis;" in p.stdout and "learned: 5;" in p.stdout
        reset = ctl(d, "GET", "/statreset")
        assert reset.status == 200 and len(reset.json()["statfiles"]) == 2, reset
        assert statfiles(d)["BAYES_SPAM"]["revision"] == 6
        # Redis gone: /stat still answers, without statfiles, and says why in the log.
        own_redis.stop()
        r = ctl(d, "GET", "/stat")
        assert r.status == 200 and r.json()["statfiles"] == [], r
        assert "replying without the Bayes statistics" in d.log()
    finally:
        d.stop(check=True)


def test_stat_statfiles_empty_without_bayes(tmp_path):
    d = Daemon(tmp_path / "d", redis=None, local={}, count=1)
    d.start()
    try:
        d.wait_controller()
        assert ctl(d, "GET", "/stat").json()["statfiles"] == []
    finally:
        d.stop(check=True)


def all_fields(sock, prefix="WB"):
    """{(shard, field): value} of every token hash of a prefix."""
    out = {}
    for k in range(8):
        flat = resp(sock, ["HGETALL", f"{prefix}_T{k}"])[0]
        for i in range(0, len(flat), 2):
            out[(k, flat[i])] = flat[i + 1]
    return out


def test_token_expiry(tmp_path, own_redis):
    """expire: learning stamps tokens with the day; one process at a time
    walks the token hashes (global, then per-user prefixes) and drops the
    singletons older than expire; tokens seen twice, and recent ones, stay;
    undated values (learned before expire was on) get today's date."""
    import datetime
    d = bayes_daemon(tmp_path / "d", own_redis,
                     local=BAYES_LOCAL + "per_user = true;\nexpire = 30d;\n"
                                         "expire_interval = 0.2;\n")
    try:
        bob = "WBbob@example.com"
        train(d, headers=[("Deliver-To", "bob@example.com")])
        train(d, n=3, headers=[("Deliver-To", "alice@example.com")])
        today = (datetime.datetime.now(datetime.timezone.utc).date() -
                 datetime.date(1970, 1, 1)).days
        fields = all_fields(own_redis.sock, bob)
        assert fields and all(v.count(",") == 2 for v in fields.values()), list(fields.values())[:5]
        assert {int(v.split(",")[2]) for v in fields.values()} <= {today, today - 1}
        assert resp(own_redis.sock, ["ZRANGE", "WB_U", "0", "-1"]) == [
            ["WBalice@example.com", bob]]
        old = today - 31
        resp(own_redis.sock, ["HSET", "WB_T3", "old-single", f"1,0,{old}"],
             ["HSET", "WB_T3", "old-twice", f"1,1,{old}"],
             ["HSET", "WB_T5", "undated", "0,1"],
             ["HSET", "WB_T5", "recent", f"0,1,{today - 29}"],
             ["HSET", "WBalice@example.com_T7", "old-single", f"0,1,{old}"],
             ["HSET", f"{bob}_T0", "old-single", f"1,0,{old}"],
             ["SET", "WB_C", "WBnobody\tx\t1"])            # a damaged position: start over
        deadline = time.monotonic() + 30
        while any(resp(own_redis.sock, ["HEXISTS", k, "old-single"])[0]
                  for k in ("WB_T3", "WBalice@example.com_T7", f"{bob}_T0")):
            assert time.monotonic() < deadline, d.log()[-3000:]
            time.sleep(0.2)
        assert resp(own_redis.sock, ["HGET", "WB_T3", "old-twice"]) == [f"1,1,{old}"]
        assert resp(own_redis.sock, ["HGET", "WB_T5", "recent"]) == [f"0,1,{today - 29}"]
        assert resp(own_redis.sock, ["HGET", "WB_T5", "undated"]) == [f"0,1,{today}"]
        assert "bayes: expired 1 tokens from WB_T3" in d.log()
        # The learned tokens (all recent) are all still there, and dated values scan fine.
        assert set(all_fields(own_redis.sock, bob)) == set(fields)
        res = d.scan_json(message("spam", 77, seed="exp"), headers=[("Deliver-To", "bob@example.com")])
        assert "BAYES_SPAM" in symbols(res), res
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


def wait_model(sock, timeout=20):
    """Until the controller has trained on every example learned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        examples, model = resp(sock, ["HMGET", "WB", "examples", "model"])[0]
        if examples is not None and model == examples:
            return int(model)
        time.sleep(0.1)
    raise AssertionError(f"no model trained: examples={examples} model={model}")


def test_ngram_model_trained_and_used(tmp_path, own_redis):
    d = bayes_daemon(tmp_path / "d", own_redis, local=NGRAM_LOCAL)
    try:
        train(d, n=6)
        assert wait_model(own_redis.sock) == 12
        d.wait_log("n-gram model trained on 12 examples (6 spam, 6 ham)")
        hlen, llen, size = resp(own_redis.sock, ["HLEN", "WB_E"], ["LLEN", "WB_EQ"],
                                ["STRLEN", "WB_M"])
        assert (hlen, llen, size) == (12, 12, MODEL_BYTES)
        # An example is the class letter and the message's view: its
        # headers (less Delivered-To and the like) and its text.
        digest = resp(own_redis.sock, ["LINDEX", "WB_EQ", "0"])[0]
        value = resp(own_redis.sock, ["HGET", "WB_E", digest])[0]
        assert value[0] in "SH" and "Subject: " in value and "Message-ID: <bayes-" in value
        spam = symbols(d.scan_json(message("spam", 60, seed="ngram")))
        ham = symbols(d.scan_json(message("ham", 60, seed="ngram")))
        assert "BAYES_SPAM" in spam and "BAYES_HAM" in ham, (spam, ham)
        # A correction replaces the example (same digest), it does not add one.
        body = message("spam", 0)
        assert learn(d, "ham", body).status == 200
        assert wait_model(own_redis.sock) == 13
        d.wait_log("n-gram model trained on 12 examples (5 spam, 7 ham)")
        assert resp(own_redis.sock, ["HLEN", "WB_E"])[0] == 12
        letters = [v[0] for v in resp(own_redis.sock, ["HVALS", "WB_E"])[0]]
        assert letters.count("H") == 7 and letters.count("S") == 5, letters
    finally:
        d.stop(check=True)


def test_ngram_examples_capped(tmp_path, own_redis):
    d = bayes_daemon(tmp_path / "d", own_redis, local=NGRAM_LOCAL + "ngram_examples = 6;\n")
    try:
        train(d)            # 10 learns, each stored before its reply
        assert resp(own_redis.sock, ["HLEN", "WB_E"], ["LLEN", "WB_EQ"]) == [6, 6]
        # 3 spam and 3 ham left: too few to train on (5 of each)
        time.sleep(1)
        assert resp(own_redis.sock, ["EXISTS", "WB_M"]) == [0]
        # The oldest went first: the first message learned is gone.
        first = message("spam", 0)
        assert learn(d, "spam", first).status == 208        # still in the learn cache
        newest = resp(own_redis.sock, ["LRANGE", "WB_EQ", "0", "-1"])[0]
        assert len(set(newest)) == 6
        views = " ".join(resp(own_redis.sock, ["HVALS", "WB_E"])[0])
        kept = [i for i in range(5) if f"<bayes-spam-{i}-" in views or f"<bayes-ham-{i}-" in views]
        assert kept == [2, 3, 4], kept
    finally:
        d.stop(check=True)


def test_ngram_damaged_model_ignored(tmp_path, own_redis):
    """A model of another version (or garbage) in Redis is named in the log
    and left out; scans go on with the token classifier alone."""
    d = bayes_daemon(tmp_path / "d", own_redis, local=BAYES_LOCAL.replace(
        "ngram_examples = 0;", "ngram_interval = 1000s;"))
    try:
        train(d)
        assert resp(own_redis.sock, ["SET", "WB_M", "WNG1 not a model"],
                    ["HSET", "WB", "model", "999"]) == ["OK", 1]
        res = d.scan_json(message("spam", 61, seed="damaged"))
        assert "BAYES_SPAM" in symbols(res), res
        d.wait_log("WB_M is not a model of this version (16 bytes)")
    finally:
        d.stop(check=True)


def test_ngram_missing_model_fetched_once(tmp_path, own_redis):
    """`model` names a model whose blob is gone (deleted, or evicted by a
    maxmemory policy): the scanner says so once and does not GET it again
    with every scan; the scans go on with the token counts."""
    d = bayes_daemon(tmp_path / "d", own_redis, local=BAYES_LOCAL.replace(
        "ngram_examples = 0;", "ngram_interval = 1000s;"))
    try:
        train(d)
        # No training has run (interval 1000 s): WB_M does not exist.
        assert resp(own_redis.sock, ["EXISTS", "WB_M"], ["HSET", "WB", "model", "998"],
                    ["CONFIG", "RESETSTAT"]) == [0, 1, "OK"]
        for i in range(6):
            res = d.scan_json(message("spam", 70 + i, seed="missing"))
            assert "BAYES_SPAM" in symbols(res), res
        d.wait_log("WB_M is missing though the statistics name model 998")
        stats = resp(own_redis.sock, ["INFO", "commandstats"])[0]
        gets = [line for line in stats.splitlines() if line.startswith("cmdstat_get:")]
        assert gets and gets[0].startswith("cmdstat_get:calls=1,"), stats
    finally:
        d.stop(check=True)
