"""The HTTP scan protocol of the scanner worker (spec §2), against a live winnowd."""

import json
import re

import pytest

from conftest import (GTUBE, MESSAGES, http_request, message_files, parse_raw_reply,
                      raw_request)

ACTIONS = {"reject", "soft reject", "rewrite subject", "add header", "greylist", "no action"}


def assert_json_error(reply):
    body = reply.json() if hasattr(reply, "json") else json.loads(reply)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    return body["error"]


def test_ping(daemon):
    r = http_request(daemon.port, "GET", "/ping")
    assert r.status == 200
    assert r.body.strip() == b"pong"


@pytest.mark.parametrize("path", ["/checkv2", "/CHECKV2", "/checkv2?IP=192.0.2.1"])
def test_checkv2_paths(daemon, path):
    body = (MESSAGES / "ham-plain.eml").read_bytes()
    raw = raw_request(daemon.port,
                      f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                      + body)
    status, payload = parse_raw_reply(raw)
    assert status == 200, raw[:300]
    assert json.loads(payload)["action"] in ACTIONS


@pytest.mark.parametrize("msg", message_files(), ids=lambda p: p.name)
def test_checkv2_reply_shape(daemon, msg):
    """Every fixture message gets a complete v2 reply (spec §2.4)."""
    r = daemon.scan(msg)
    assert r.status == 200, r
    assert dict((k.lower(), v) for k, v in r.headers).get("content-type", "").startswith("application/json")
    j = r.json()
    for key in ("is_skipped", "score", "required_score", "action", "symbols", "messages",
                "message-id", "time_real"):
        assert key in j, f"{key} missing from {j}"
    assert j["action"] in ACTIONS
    assert isinstance(j["score"], (int, float))
    assert j["required_score"] == 15.0  # the reject threshold of the shipped actions
    total = 0.0
    for name, sym in j["symbols"].items():
        assert sym["name"] == name
        assert isinstance(sym["score"], (int, float))
        assert "metric_score" in sym
        if "options" in sym:
            assert isinstance(sym["options"], list)
        total += sym["score"]
    # Without passthrough results the score is the sum of the symbols.
    if j["action"] != "reject" or "GTUBE" not in j["symbols"]:
        assert abs(total - j["score"]) < 0.01, (total, j["score"])


def test_message_id_reported(daemon):
    j = daemon.scan_json(MESSAGES / "ham-plain.eml")
    assert j["message-id"] == "20251124100000.12345@example.org"


def test_v1_check_reply(daemon):
    r = daemon.scan(MESSAGES / "ham-plain.eml", path="/check")
    assert r.status == 200, r
    j = r.json()
    assert "default" in j, j
    d = j["default"]
    assert isinstance(d["is_spam"], bool)
    assert d["action"] in ACTIONS
    assert d["required_score"] == 15.0


def test_gtube_is_rejected(daemon):
    j = daemon.scan_json(MESSAGES / "gtube.eml")
    assert j["action"] == "reject", j
    assert "GTUBE" in j["symbols"], j["symbols"].keys()


def test_gtube_passthrough_result(daemon):
    """GTUBE is a pre-result: the action is reject and the score becomes the
    reject threshold whatever the symbols add up to (spec §3.2, §3.5; Rspamd
    3.4 answers `Score: 15.00 / 15.00` for this message)."""
    j = daemon.scan_json(MESSAGES / "gtube.eml")
    assert j["action"] == "reject"
    assert j["score"] == pytest.approx(j["required_score"]), j["score"]
    assert j["messages"].get("smtp_message") == "Gtube pattern", j["messages"]


def test_gtube_in_html_part(daemon):
    msg = ("From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n"
           "Date: Mon, 24 Nov 2025 10:00:00 +0000\r\nMessage-ID: <g2@example.org>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
           f"<html><body><p>{GTUBE}</p></body></html>\r\n").encode()
    assert daemon.scan_json(msg)["action"] == "reject"


def test_ham_is_not_rejected(daemon):
    j = daemon.scan_json(MESSAGES / "ham-plain.eml")
    assert j["action"] != "reject"
    assert j["score"] < 15


def test_unknown_path(daemon):
    r = daemon.scan(MESSAGES / "ham-plain.eml", path="/no-such-command")
    assert r.status >= 400, r
    assert_json_error(r)
    # the worker that answered is still there
    assert http_request(daemon.port, "GET", "/ping").status == 200


@pytest.mark.parametrize("garbage", [
    b"GARBAGE\r\n\r\n",
    b"POST /checkv2 HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /checkv2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /checkv2 HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
    b"POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
    b"\x00\x01\x02\xff\xfe HTTP/1.1\r\n\r\n",
], ids=["no-request-line", "negative-length", "alpha-length", "header-no-colon",
        "bad-chunk", "binary"])
def test_malformed_request_gets_400(daemon, garbage):
    before = daemon.scanner_workers()
    raw = raw_request(daemon.port, garbage)
    assert raw.startswith(b"HTTP/1."), raw[:200]
    status, body = parse_raw_reply(raw)
    assert status == 400, raw[:300]
    assert_json_error(body)
    # the worker survived: same processes, and they still answer
    assert http_request(daemon.port, "GET", "/ping").status == 200
    assert daemon.scanner_workers() == before


def test_truncated_body_does_not_kill_worker(daemon):
    before = daemon.scanner_workers()
    raw_request(daemon.port, b"POST /checkv2 HTTP/1.1\r\nContent-Length: 100000\r\n\r\nFrom: x\r\n")
    assert http_request(daemon.port, "GET", "/ping").status == 200
    assert daemon.scanner_workers() == before


def test_envelope_headers_are_honoured(daemon):
    """IP, From, repeated Rcpt and Queue-Id reach the task: they appear in the
    scan's log line (spec §8.7: ip, from, rcpts, qid)."""
    headers = [("IP", "192.0.2.77"), ("From", "<envelope-sender@example.org>"),
               ("Rcpt", "first-rcpt@example.net"), ("Rcpt", "second-rcpt@example.net"),
               ("Queue-Id", "QID7E2E1"), ("Helo", "mail.example.org")]
    j = daemon.scan_json(MESSAGES / "ham-plain.eml", headers)
    assert j["action"] in ACTIONS
    text = daemon.wait_log("QID7E2E1")
    line = next(l for l in text.splitlines() if "QID7E2E1" in l)
    assert "192.0.2.77" in line, line
    assert "envelope-sender@example.org" in line, line
    assert "first-rcpt@example.net" in line and "second-rcpt@example.net" in line, line


def test_header_names_are_case_insensitive(daemon):
    headers = [("ip", "192.0.2.78"), ("QUEUE-ID", "QIDCASE42"), ("rcpt", "case@example.net")]
    daemon.scan_json(MESSAGES / "ham-plain.eml", headers)
    text = daemon.wait_log("QIDCASE42")
    line = next(l for l in text.splitlines() if "QIDCASE42" in l)
    assert "192.0.2.78" in line and "case@example.net" in line, line


def test_invalid_ip_header_is_rejected_or_ignored(daemon):
    r = daemon.scan(MESSAGES / "ham-plain.eml", [("IP", "not-an-ip-address")])
    assert r.status in (200, 400), r
    if r.status == 400:
        assert_json_error(r)
    assert http_request(daemon.port, "GET", "/ping").status == 200


def test_log_line_explains_the_action(daemon):
    j = daemon.scan_json(MESSAGES / "gtube.eml", [("Queue-Id", "QIDGTUBE9")])
    text = daemon.wait_log("QIDGTUBE9")
    line = next(l for l in text.splitlines() if "QIDGTUBE9" in l)
    assert "reject" in line and "GTUBE" in line, line
    assert re.search(r"%.2f" % j["score"], line) or "15.00" in line, line


def test_max_message_gives_413(make_daemon):
    d = make_daemon(local={"options.inc": "max_message = 4k;\n"})
    small = (MESSAGES / "ham-plain.eml").read_bytes()
    assert d.scan(small).status == 200
    big = small + b"x" * 8192 + b"\n"
    r = d.scan(big)
    assert r.status == 413, r
    assert_json_error(r)
    assert http_request(d.port, "GET", "/ping").status == 200
    assert d.scan(small).status == 200
