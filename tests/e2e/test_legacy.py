"""The legacy line protocols on the scanner port (spec §2.6), parsed the way
their clients parse them: Exim's `variant=rspamd` (RSPAMC/1.3) and spamc
(SPAMC/1.2)."""

import re

import pytest

from conftest import MESSAGES, raw_request

# Exim: "RSPAMD/%7s 0 EX_OK\r\nMetric: default; %7s %lf / %lf / %lf\r\n",
# then an optional "Action: " line.
EXIM_RE = re.compile(rb"\ARSPAMD/(\S{1,7}) 0 EX_OK\r\nMetric: default; (\S{1,7}) "
                     rb"(-?[0-9.]+) / (-?[0-9.]+) / (-?[0-9.]+)\r\n")


@pytest.mark.parametrize("name", ["ham-plain.eml", "html-only.eml", "gtube.eml"])
def test_rspamc_protocol_as_exim_reads_it(daemon, name):
    body = (MESSAGES / name).read_bytes()
    reply = raw_request(daemon.port, b"CHECK RSPAMC/1.3\r\nContent-length: %d\r\nQueue-Id: QLEGACY\r\n"
                        b"Rcpt: a@example.net\r\nRcpt: b@example.net\r\n\r\n" % len(body) + body)
    m = EXIM_RE.match(reply)
    assert m, reply[:300]
    assert m.group(2) == b"False;", "3.4 always prints False in the Metric line"
    j = daemon.scan_json(body)
    assert float(m.group(3)) == pytest.approx(j["score"], abs=0.006)
    assert float(m.group(4)) == pytest.approx(j["required_score"], abs=0.006)
    rest = reply[m.end():].split(b"\r\n")
    assert rest[0] == b"Action: " + j["action"].encode(), rest[:3]
    syms = {l.split(b"(")[0][len(b"Symbol: "):].decode() for l in rest if l.startswith(b"Symbol: ")}
    assert syms == set(j["symbols"]), (syms, set(j["symbols"]))
    assert not reply.startswith(b"HTTP/"), "RSPAMC replies carry no HTTP head"


def test_spamc_protocol(daemon):
    body = (MESSAGES / "html-only.eml").read_bytes()
    reply = raw_request(daemon.port, b"SYMBOLS SPAMC/1.2\r\nContent-length: %d\r\n\r\n" % len(body) + body)
    head, _, rest = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"SPAMD/1.1 0 EX_OK", reply[:200]
    j = daemon.scan_json(body)
    m = re.match(rb"Spam: (True|False) ; (-?[0-9.]+) / (-?[0-9.]+)$", lines[2])
    assert m, lines
    assert float(m.group(2)) == pytest.approx(j["score"], abs=0.006)
    # As Rspamd 3.4 does it, Content-length counts everything after its own
    # line (the Spam line, the blank line and the symbols), not just the body.
    length = int(lines[1].split(b":")[1])
    after = reply.split(b"\r\n", 2)[2]
    assert length == len(after), (length, len(after))
    assert set(rest.strip().decode().split(",")) == set(j["symbols"])
