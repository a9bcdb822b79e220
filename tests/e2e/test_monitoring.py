"""The controller's monitoring views against a running winnowd: /metrics
(read by the Prometheus project's own parser), /graph, /pie, /errors,
/status and /configdump.  The numbers are shared by every worker, so scans
sent to the scanner workers must show up in the controller's answers."""

import os
import signal
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import controller_daemon, free_port

READ_PW = "m0nitor-read"
ENABLE_PW = "m0nitor-enable"

HAM = (b"From: a@example.net\r\nTo: b@example.com\r\nSubject: monitoring\r\n"
       b"Message-ID: <mon-%d@example.net>\r\n\r\nHello there\r\n")


def ctl(d, path, password=None, method="GET", body=b""):
    return d.controller(method, path, body, password)


def start(tmp, redis, controller_extra="", local=None):
    return controller_daemon(tmp, redis, controller_extra, count=2, local=local)


@pytest.fixture(scope="module")
def mon(tmp_path_factory, redis):
    extra = f'password = "{READ_PW}";\nenable_password = "{ENABLE_PW}";\n'
    d = start(tmp_path_factory.mktemp("mon"), redis, extra)
    yield d
    d.stop(check=True)


def metrics(d):
    r = ctl(d, "/metrics", READ_PW)
    assert r.status == 200, r
    assert dict((k.lower(), v) for k, v in r.headers)["content-type"].startswith("text/plain")
    text = r.body.decode()
    assert text.endswith("# EOF\n")
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    return text, fams


def value(fams, name, labels=None, sample=None):
    fam = fams[name]
    for s in fam.samples:
        if (sample is None or s.name == sample) and (labels is None or s.labels == labels):
            return s.value
    raise AssertionError(f"{name} {labels} not in {fam.samples}")


def scan_n(d, n, start=0):
    for i in range(n):
        r = d.scan(HAM % (start + i))
        assert r.status == 200, r


# ---------------------------------------------------------------- /metrics


def test_metrics_parse_and_count_scans(mon):
    _, before = metrics(mon)
    scanned0 = value(before, "rspamd_scanned")
    hist0 = value(before, "winnow_scan_duration_seconds",
                  sample="winnow_scan_duration_seconds_count")
    scan_n(mon, 7, 100)
    text, after = metrics(mon)
    # text_string_to_metric_families strips "_total" from counter names.
    assert value(after, "rspamd_scanned") == scanned0 + 7
    assert value(after, "winnow_scan_duration_seconds",
                 sample="winnow_scan_duration_seconds_count") == hist0 + 7
    buckets = [s for s in after["winnow_scan_duration_seconds"].samples
               if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf"
    counts = [s.value for s in buckets]
    assert counts == sorted(counts), "histogram buckets must be cumulative"
    assert buckets[-1].value == value(after, "winnow_scan_duration_seconds",
                                      sample="winnow_scan_duration_seconds_count")
    actions = {s.labels["type"]: s.value for s in after["rspamd_actions"].samples}
    assert set(actions) >= {"reject", "soft reject", "rewrite subject", "add header",
                            "greylist", "no action"}
    assert sum(actions.values()) == value(after, "rspamd_scanned")
    # Every family of spec §5.5 that has a meaning here, and ours.
    for name in ("rspamd_build_info", "rspamd_config", "rspamd_scan_time_average",
                 "process_start_time_seconds", "rspamd_learned", "rspamd_spam", "rspamd_ham",
                 "rspamd_control_connections", "winnow_worker_restarts", "winnow_redis_up",
                 "winnow_redis_errors", "winnow_dns_queries", "winnow_dns_timeouts",
                 "winnow_workers"):
        assert name in after, name
    assert value(after, "winnow_redis_up") == 1
    assert value(after, "winnow_workers") == 4           # 2 normal, controller, proxy
    assert "# HELP rspamd_scanned_total" in text and "# TYPE rspamd_scanned_total counter" in text


def test_metrics_need_the_password(mon):
    assert ctl(mon, "/metrics").status == 401
    assert ctl(mon, "/metrics", "wrong").status == 401


# ---------------------------------------------------------------- /graph, /pie


def test_graph_shows_this_minutes_scans(mon):
    scan_n(mon, 5, 200)
    r = ctl(mon, "/graph?type=hour", READ_PW)
    assert r.status == 200, r
    series = r.json()
    assert len(series) == 6                              # reject .. no action
    assert all(len(s) == 60 for s in series)
    xs = [p["x"] for p in series[5]]
    assert xs == sorted(xs) and xs[1] - xs[0] == 60
    assert xs[-1] <= time.time() < xs[-1] + 120
    # The scans fall in the last point or, across a minute boundary, the one before.
    no_action = series[5]
    assert no_action[-1]["y"] + (no_action[-2]["y"] or 0) >= 5, no_action[-3:]
    # Before the daemon started there is no data: null, not 0.
    assert no_action[0]["y"] is None


@pytest.mark.parametrize("kind,points", [("day", 288), ("week", 336), ("month", 360),
                                         ("year", 365)])
def test_graph_types(mon, kind, points):
    r = ctl(mon, f"/graph?type={kind}", READ_PW)
    assert r.status == 200, r
    series = r.json()
    assert [len(s) for s in series] == [points] * 6


@pytest.mark.parametrize("query", ["", "?type=decade", "?type="])
def test_graph_bad_type(mon, query):
    r = ctl(mon, "/graph" + query, READ_PW)
    assert r.status == 400
    assert r.json() == {"error": "Invalid graph type"}


def test_pie_matches_stat(mon):
    scan_n(mon, 2, 300)
    stat = ctl(mon, "/stat", READ_PW).json()
    pie = ctl(mon, "/pie", READ_PW).json()
    assert [p["label"] for p in pie] == ["Clean", "Temporarily rejected", "Probable spam",
                                         "Greylisted", "Rejected"]
    by = {p["label"]: p for p in pie}
    assert by["Clean"]["value"] == stat["actions"]["no action"]
    assert by["Clean"]["color"] == "#66cc00"
    assert by["Probable spam"]["value"] == (stat["actions"]["add header"]
                                            + stat["actions"]["rewrite subject"])
    # /stat's scan_times: the recent scans' times in seconds, at most 31.
    assert 2 <= len(stat["scan_times"]) <= 31
    assert all(0 < t < 60 for t in stat["scan_times"]), stat["scan_times"]


# ---------------------------------------------------------------- /status


def test_status_lists_the_workers(mon):
    st = ctl(mon, "/status", READ_PW).json()
    pids = {w["pid"]: w["type"] for w in st["workers"]}
    assert set(pids) == set(mon.workers())
    assert sorted(pids.values()) == ["controller", "normal", "normal", "proxy"]
    assert st["redis"]["state"] == "up"
    assert st["features_off"] == []
    assert {m["name"] for m in st["modules"] if m["uses_redis"]} >= {"bayes", "history",
                                                                       "greylist"}
    assert st["scanned"] >= 1 and st["uptime"] >= 0


def test_status_after_a_worker_is_killed(mon):
    st = ctl(mon, "/status", READ_PW).json()
    victim = next(w for w in st["workers"] if w["type"] == "normal")
    os.kill(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = ctl(mon, "/status", READ_PW).json()
        normals = [w for w in st["workers"] if w["type"] == "normal"]
        if len(normals) == 2 and victim["pid"] not in {w["pid"] for w in normals}:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"killed worker not replaced in /status: {st['workers']}")
    assert st["worker_restarts"] >= 1
    assert any(w["restarts"] >= 1 for w in normals)
    mon.wait_ready()
    _, fams = metrics(mon)
    assert value(fams, "winnow_worker_restarts") >= 1


# ---------------------------------------------------------------- /errors


def test_errors_need_the_enable_password(mon):
    assert ctl(mon, "/errors").status == 401
    assert ctl(mon, "/errors", READ_PW).status == 403
    r = ctl(mon, "/errors", ENABLE_PW)
    assert r.status == 200
    assert isinstance(r.json(), list)


def test_redis_outage_shows_in_status_errors_and_metrics(tmp_path, redis):
    """Redis on a socket nobody listens on: scans still answer, /status says
    Redis is down and which features are off, /errors carries the log line,
    /metrics counts the failures."""
    dead = tmp_path / "nobody.sock"
    d = start(tmp_path / "d", None, local={"redis.conf": f'servers = "unix:{dead}";\n'})
    try:
        scan_n(d, 3)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            st = ctl(d, "/status").json()
            if st["redis"]["state"] == "down":
                break
            time.sleep(0.2)
        assert st["redis"]["state"] == "down", st["redis"]
        assert "No such file" in st["redis"]["last_error"], st["redis"]
        assert st["redis"]["connect_failures"] >= 1
        assert set(st["features_off"]) >= {"bayes", "history", "greylist"}, st
        errs = ctl(d, "/errors").json()
        redis_lines = [e for e in errs if e["module"].startswith("redis")]
        assert redis_lines, errs
        e = redis_lines[-1]
        assert e["pid"] in d.workers() and e["type"] in ("normal", "controller", "proxy")
        assert abs(e["ts"] - time.time()) < 120
        r = ctl(d, "/metrics")
        fams = {f.name: f for f in text_string_to_metric_families(r.body.decode())}
        assert value(fams, "winnow_redis_up") == 0
        assert value(fams, "winnow_redis_connect_failures") >= 1
    finally:
        d.stop(check=True)


def test_dns_failures_are_counted(tmp_path, redis):
    """A nameserver port nobody answers on: the lookups SPF starts fail, the
    scan still answers, and /metrics counts the failed queries."""
    port = free_port()
    opts = (f'dns {{ nameserver = ["127.0.0.1:{port}"]; timeout = 0.3s; retransmits = 1; }}\n')
    d = start(tmp_path / "d", redis, local={"options.inc": opts})
    try:
        msg = (b"From: someone@dns-test.example\r\nTo: b@example.com\r\n"
               b"Subject: dns\r\n\r\nbody\r\n")
        r = d.scan(msg, headers=[("IP", "192.0.2.1"), ("From", "someone@dns-test.example")])
        assert r.status == 200, r
        fams = {f.name: f for f in text_string_to_metric_families(ctl(d, "/metrics").body.decode())}
        sent = value(fams, "winnow_dns_queries")
        failed = value(fams, "winnow_dns_errors") + value(fams, "winnow_dns_timeouts")
        assert sent >= 1 and failed >= 1, (sent, failed)
        st = ctl(d, "/status").json()
        assert st["dns"]["queries"] == sent
    finally:
        d.stop(check=True)


# ---------------------------------------------------------------- /configdump


def test_configdump_hides_secrets(mon):
    r = ctl(mon, "/configdump", READ_PW)
    assert r.status == 200, r
    cfg = r.json()
    assert cfg["actions"]["reject"] == 15.0
    text = r.body.decode()
    assert READ_PW not in text and ENABLE_PW not in text
    controller = next(w["controller"] for w in cfg["worker"] if "controller" in w)
    assert controller["password"] == "<hidden>"
    assert controller["enable_password"] == "<hidden>"
    assert controller["bind_socket"] == f"127.0.0.1:{mon.controller_port}"


# ---------------------------------------------------------------- /counters


def test_counters_count_symbol_hits(mon):
    before = {c["symbol"]: c for c in ctl(mon, "/counters", READ_PW).json()}
    fired = set(mon.scan_json(HAM % 900)["symbols"])
    for i in range(4):
        assert mon.scan(HAM % (901 + i)).status == 200
    after = {c["symbol"]: c for c in ctl(mon, "/counters", READ_PW).json()}
    registered = [s for s in fired if s in after]
    assert registered, fired
    for s in registered:
        assert after[s]["hits"] >= before[s]["hits"] + 5, (s, before[s], after[s])
        assert 0 < after[s]["frequency"] <= 1.0
    scanned = ctl(mon, "/stat", READ_PW).json()["scanned"]
    s = registered[0]
    assert abs(after[s]["frequency"] - after[s]["hits"] / scanned) < 1e-6
    # /symbols reports the same frequency.
    rules = {r["symbol"]: r for g in ctl(mon, "/symbols", READ_PW).json() for r in g["rules"]}
    assert abs(rules[s]["frequency"] - after[s]["frequency"]) < 0.05


def test_metrics_statfiles_follow_learning(mon):
    _, before = metrics(mon)
    spam0 = value(before, "rspamd_statfiles_revision", {"symbol": "BAYES_SPAM", "type": "redis"})
    ham0 = value(before, "rspamd_statfiles_revision", {"symbol": "BAYES_HAM", "type": "redis"})
    msg = (b"From: seller@shop.example\r\nTo: b@example.com\r\nSubject: cheap pills now\r\n"
           b"Message-ID: <mon-learn@shop.example>\r\n\r\nBuy cheap pills, best prices, "
           b"click here today for your exclusive offer of cheap pills\r\n")
    r = ctl(mon, "/learnspam", ENABLE_PW, method="POST", body=msg)
    assert r.status == 200, r
    _, after = metrics(mon)
    assert value(after, "rspamd_statfiles_revision",
                 {"symbol": "BAYES_SPAM", "type": "redis"}) == spam0 + 1
    assert value(after, "rspamd_statfiles_revision",
                 {"symbol": "BAYES_HAM", "type": "redis"}) == ham0
    assert value(after, "rspamd_statfiles_users", {"symbol": "BAYES_SPAM", "type": "redis"}) >= 1
    assert value(after, "rspamd_learned") >= 1
