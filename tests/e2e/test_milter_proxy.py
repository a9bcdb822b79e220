"""winnowd's proxy worker as a milter (spec §4), driven by a Python client
that speaks protocol 6 like Postfix (tests/e2e/milter_client.py): replies
per action, the verdict headers, spoofed headers removed, upstream mode
against the same winnowd's scanner workers and against a dead one, the
failure modes, a unix socket with mode 0660, and hostile input.
"""

import os
import socket
import stat
import struct
from pathlib import Path

import pytest

from conftest import MESSAGES, free_port
from milter_client import MilterClient, added_headers, connect_socket, scan

GTUBE_EML = Path("/work/shared/testdata/rspamd-messages/messages/gtube.eml")
if not GTUBE_EML.exists():
    GTUBE_EML = MESSAGES / "gtube.eml"
TAIL = "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

HAM = (b"From: Alice <alice@example.net>\r\nTo: bob@example.com\r\nSubject: lunch\r\n"
       b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <lunch-1@example.net>\r\n"
       b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
       b"Shall we meet at noon tomorrow?\r\n")


def test_message(letter, subject="Lunch tomorrow?", extra=b""):
    return (b"From: alice@example.net\r\nTo: bob@example.com\r\nSubject: " + subject.encode() +
            b"\r\nMessage-ID: <t-1@example.net>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
            + extra + b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nPattern:\r\n" +
            (letter + TAIL).encode() + b"\r\n")


test_message.__test__ = False   # a helper, not a test


def proxy_conf(bind, extra="", upstream=None):
    up = upstream or 'upstream "local" {\n  default = yes;\n  self_scan = yes;\n}\n'
    return f'enabled = true;\nbind_socket = "{bind}";\nmilter = yes;\n{up}{extra}'


def start(make_daemon, proxy=None, local=None, **kw):
    """A daemon whose proxy listens on its proxy_port (or as `proxy` says:
    a callable d -> worker-proxy.inc text).  Greylisting is off: these tests
    are about the milter replies for each action, and a first delivery in
    the greylist..rewrite-subject range would be deferred (greylisting is
    tested with a real Postfix in test_postfix_milter.py)."""
    local = dict(local or {})
    local.setdefault("greylist.conf", "enabled = false;\n")
    d = make_daemon(local=local, start=False, **kw)
    text = proxy(d) if proxy else proxy_conf(f"127.0.0.1:{d.proxy_port}")
    d.write_local("worker-proxy.inc", text)
    d.start()
    return d


def addr(d):
    return ("127.0.0.1", d.proxy_port)


@pytest.fixture
def proxy_daemon(make_daemon):
    return start(make_daemon, local={"options.inc": "enable_test_patterns = true;\n"})


def test_negotiation_as_rspamd(proxy_daemon):
    with MilterClient(addr(proxy_daemon)) as c:
        assert c.optneg() == ("O", 6, 0x1FF | 0x3F, 0x000FF080)


def test_ham_accepted_with_verdict_headers(proxy_daemon):
    neg, replies = scan(addr(proxy_daemon), HAM, queue_id="4HAM001")
    assert replies[-1] == ("a",), replies
    hdrs = added_headers(replies)
    assert hdrs["X-Spamd-Result"].startswith("default: False ["), hdrs
    assert hdrs["X-Spam-Status"].startswith("No, score="), hdrs
    assert hdrs["X-Rspamd-Queue-Id"] == "4HAM001"
    log = proxy_daemon.wait_log("milter: qid=4HAM001")
    line = [l for l in log.splitlines() if "milter: qid=4HAM001" in l][-1]
    assert 'action="no action"' in line and "reply=accept" in line, line


def test_gtube_rejected(proxy_daemon):
    _, replies = scan(addr(proxy_daemon), GTUBE_EML.read_bytes())
    assert replies[-1] == ("y", "554 5.7.1 Gtube pattern"), replies


def test_spoofed_spam_headers_removed(proxy_daemon):
    raw = HAM.replace(b"Subject: lunch\r\n", b"Subject: lunch\r\nX-Spam: Yes\r\n"
                      b"X-Spamd-Result: default: False [-100.00 / 15.00]\r\n"
                      b"X-Spam-Status: No, score=-100\r\nX-Spam: yes again\r\n")
    _, replies = scan(addr(proxy_daemon), raw)
    assert replies[-1] == ("a",)
    removals = [r for r in replies if r[0] == "m" and r[3] == ""]
    assert ("m", 2, "X-Spam", "") in removals and ("m", 1, "X-Spam", "") in removals
    assert removals.index(("m", 2, "X-Spam", "")) < removals.index(("m", 1, "X-Spam", ""))
    assert ("m", 1, "X-Spamd-Result", "") in removals
    assert ("m", 1, "X-Spam-Status", "") in removals
    # ours come after theirs are gone
    last_removal = max(i for i, r in enumerate(replies) if r in removals)
    first_add = min(i for i, r in enumerate(replies) if r[0] == "h")
    assert last_removal < first_add


def test_add_header_action_sets_x_spam(proxy_daemon):
    _, replies = scan(addr(proxy_daemon), test_message("Y", extra=b"X-Spam: no\r\n"))
    assert replies[-2:] == [("m", 1, "X-Spam", "Yes"), ("a",)], replies
    assert ("m", 1, "X-Spam", "") in replies
    # A test pattern ends the scan (TASK_SKIP) as in Rspamd: no post-scan
    # headers; the threshold test below checks them.


def test_low_add_header_threshold(make_daemon):
    d = start(make_daemon, local={"actions.conf": "add_header = -50;\ngreylist = null;\n"})
    _, replies = scan(addr(d), HAM.replace(b"Subject: lunch\r\n", b"Subject: lunch\r\nX-Spam: No\r\n"))
    assert replies[-2:] == [("m", 1, "X-Spam", "Yes"), ("a",)], replies
    assert replies.count(("m", 1, "X-Spam", "")) == 1, replies   # deleted once, not twice
    assert added_headers(replies)["X-Spam-Status"].startswith("Yes, score="), replies


def test_rewrite_subject(proxy_daemon):
    _, replies = scan(addr(proxy_daemon), test_message("Z"))
    assert replies[-2:] == [("m", 1, "Subject", "*** SPAM *** Lunch tomorrow?"), ("a",)], replies


def test_two_messages_on_one_connection(proxy_daemon):
    with MilterClient(addr(proxy_daemon)) as c:
        c.optneg()
        c.connect()
        first = c.message(GTUBE_EML.read_bytes(), queue_id="4TWO001")
        c.send("A")                      # Postfix aborts between transactions
        second = c.message(HAM, queue_id="4TWO002")
        c.quit()
        assert c.closed_by_peer()
    assert first[-1][0] == "y"
    assert second[-1] == ("a",)
    assert added_headers(second)["X-Rspamd-Queue-Id"] == "4TWO002"


def test_unix_socket_mode_0660(make_daemon):
    holder = {}

    def conf(d):
        holder["sock"] = d.rundir / "milter.sock"
        return proxy_conf(f"{holder['sock']} mode=0660")
    d = start(make_daemon, proxy=conf)
    sock = holder["sock"]
    _, replies = scan(str(sock), GTUBE_EML.read_bytes())
    assert replies[-1] == ("y", "554 5.7.1 Gtube pattern")
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660


# ---- upstream mode


def upstream_conf(hosts, extra=""):
    return lambda d: proxy_conf(
        f"127.0.0.1:{d.proxy_port}", extra,
        upstream=f'upstream "scanners" {{\n  default = yes;\n  hosts = "{hosts(d)}";\n}}\n'
                 'upstream "local" { default = no; self_scan = yes; }\n')


def test_upstream_scanner_of_same_daemon(make_daemon):
    d = start(make_daemon, proxy=upstream_conf(lambda d: f"127.0.0.1:{d.port}"))
    _, ham = scan(addr(d), HAM, queue_id="4UP0001")
    assert ham[-1] == ("a",)
    hdrs = added_headers(ham)
    assert hdrs["X-Spamd-Result"].startswith("default: False [")
    assert hdrs["X-Rspamd-Queue-Id"] == "4UP0001"
    _, spam = scan(addr(d), GTUBE_EML.read_bytes())
    assert spam[-1] == ("y", "554 5.7.1 Gtube pattern")
    assert f"via=127.0.0.1:{d.port}" in d.wait_log("milter: qid=4UP0001")


def test_upstream_failover_to_live_host(make_daemon):
    dead = free_port()
    d = start(make_daemon,
              proxy=upstream_conf(lambda d: f"127.0.0.1:{dead},127.0.0.1:{d.port}"))
    for i in range(4):
        _, replies = scan(addr(d), GTUBE_EML.read_bytes(), queue_id=f"4FO{i}")
        assert replies[-1] == ("y", "554 5.7.1 Gtube pattern"), replies


def test_dead_upstream_tempfails_loudly(make_daemon):
    dead = free_port()
    d = start(make_daemon, proxy=upstream_conf(lambda d: f"127.0.0.1:{dead}"))
    _, replies = scan(addr(d), HAM, queue_id="4DEAD01")
    assert replies == [("t",)]
    log = d.wait_log("SCAN FAILED qid=4DEAD01")
    line = [l for l in log.splitlines() if "SCAN FAILED qid=4DEAD01" in l][-1]
    assert "answered=tempfail" in line and "ERROR" in line.upper(), line


def test_dead_upstream_failure_mode_accept(make_daemon):
    dead = free_port()
    d = start(make_daemon, proxy=upstream_conf(lambda d: f"127.0.0.1:{dead}",
                                               extra='failure_mode = "accept";\n'))
    _, replies = scan(addr(d), HAM, queue_id="4DEAD02")
    assert replies == [("a",)]
    line = [l for l in d.wait_log("SCAN FAILED qid=4DEAD02").splitlines()
            if "SCAN FAILED qid=4DEAD02" in l][-1]
    assert "answered=accept" in line and "failure_mode=accept" in line, line


def test_upstream_timeout_tempfails(make_daemon):
    """A scanner that accepts and never answers: tempfail after `timeout`."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    try:
        d = start(make_daemon, proxy=upstream_conf(lambda d: f"127.0.0.1:{port}",
                                                   extra="timeout = 1s;\n"))
        _, replies = scan(addr(d), HAM, queue_id="4SLOW01")
        assert replies == [("t",)]
        assert "no reply within" in d.wait_log("SCAN FAILED qid=4SLOW01")
    finally:
        silent.close()


# ---- hostile input


def test_oversized_frame_closes_only_that_connection(proxy_daemon):
    s = connect_socket(addr(proxy_daemon))
    s.sendall(struct.pack(">I", 0x7FFFFFFF) + b"B")
    s.settimeout(10)
    assert s.recv(1) == b""
    s.close()
    _, replies = scan(addr(proxy_daemon), GTUBE_EML.read_bytes())
    assert replies[-1][0] == "y"
    assert "protocol error" in proxy_daemon.wait_log("milter frame exceeds the size limit")


def test_old_protocol_version_refused(proxy_daemon):
    with MilterClient(addr(proxy_daemon)) as c:
        c.send("O", struct.pack(">III", 2, 0x1FF, 0x1FFFFF))
        assert c.closed_by_peer()


def test_message_over_max_message_tempfails(make_daemon):
    d = start(make_daemon, local={"options.inc": "max_message = 2k;\n"})
    big = HAM + b"x" * 100 + b"\r\n" * 100
    big = big + (b"y" * 70 + b"\r\n") * 100
    _, replies = scan(addr(d), big, queue_id="4BIG001")
    assert replies == [("t",)]
    assert "max_message" in d.wait_log("SCAN FAILED qid=4BIG001")


# ---- libmilter's own test MTA


def test_debian_miltertest(proxy_daemon):
    import shutil
    import subprocess
    mt = shutil.which("miltertest")
    if mt is None:
        pytest.skip("miltertest not installed (apt-get install miltertest)")
    script = Path(__file__).with_name("milter_miltertest.lua")
    p = subprocess.run([mt, "-D", f"socket=inet:{proxy_daemon.proxy_port}@127.0.0.1",
                        "-s", str(script)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "miltertest: ok" in p.stdout, p.stdout + p.stderr


def test_bad_failure_mode_named_in_the_log(make_daemon):
    d = start(make_daemon, proxy=lambda d: proxy_conf(f"127.0.0.1:{d.proxy_port}",
                                                      'failure_mode = "shrug";\n'))
    log = d.wait_log('failure_mode: expected "tempfail" or "accept", not "shrug"')
    assert "worker-proxy.inc:" in log
