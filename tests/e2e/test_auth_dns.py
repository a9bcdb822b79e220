"""A real DNS server for the mail-authentication tests: dnsmasq on a free
loopback port serving tests/fixtures/dns/auth.conf plus records a test adds
(DKIM keys it generates), and the helpers to point winnowd and python3-dkim
at it.  The one test here checks the server itself answers what the others
rely on (TXT strings joined, NXDOMAIN under the test domains)."""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, free_port

DNSMASQ = "/usr/sbin/dnsmasq"
ZONE = FIXTURES / "dns" / "auth.conf"


def txt_strings(value):
    """A TXT value as dnsmasq's quoted strings of at most 255 bytes."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    return ",".join('"%s"' % p for p in parts)


def record_from_keygen(output):
    """The TXT value of a `dkim_keygen` record: its quoted strings joined."""
    body = output[output.index("(") + 1:output.rindex(")")]
    out, inside, cur = [], False, ""
    for ch in body:
        if ch == '"':
            if inside:
                out.append(cur)
                cur = ""
            inside = not inside
        elif inside:
            cur += ch
    return "".join(out)


class Dnsmasq:
    def __init__(self, workdir, records=()):
        """records: (name, txt value) pairs added to the fixture zone."""
        if not os.access(DNSMASQ, os.X_OK):
            pytest.skip("dnsmasq not installed")
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        extra = self.dir / "extra.conf"
        extra.write_text("".join(f"txt-record={n},{txt_strings(v)}\n" for n, v in records))
        self.port = self._free_udp_port()
        self.proc = subprocess.Popen(
            [DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
             "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
             "--user=root", "--pid-file=", "--log-facility=/dev/null", "--local-ttl=60",
             f"--conf-file={ZONE}", f"--conf-file={extra}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.txt("example.org") is not None:
                return
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq failed: " + self.proc.stderr.read().decode())
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("dnsmasq did not answer")

    @staticmethod
    def _free_udp_port():
        while True:
            port = free_port()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue

    def resolver(self):
        import dns.resolver
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = self.port
        r.lifetime = 3
        return r

    def txt(self, name):
        """The first TXT record's strings joined (bytes), or None."""
        import dns.exception
        import dns.resolver
        try:
            ans = self.resolver().resolve(name.rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.exception.DNSException):
            return None
        return b"".join(ans[0].strings)

    def dkim_dnsfunc(self):
        """A dnsfunc for dkim.verify() reading this server."""
        def dnsfunc(name, timeout=5):
            name = name.decode() if isinstance(name, bytes) else name
            return self.txt(name)
        return dnsfunc

    def options_inc(self, timeout="1s"):
        return (f'dns {{ nameserver = ["127.0.0.1:{self.port}"]; timeout = {timeout}; '
                f'retransmits = 1; }}\n')

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def dns_server(tmp_path):
    """Factory: dns_server(records) -> started Dnsmasq, stopped at the end."""
    started = []

    def make(records=()):
        d = Dnsmasq(tmp_path / f"dns{len(started)}", records)
        started.append(d)
        return d
    yield make
    for d in started:
        d.stop()


def test_dns_fixture_answers(dns_server):
    pytest.importorskip("dns.resolver")
    d = dns_server([("sel._domainkey.example.org", "v=DKIM1; k=rsa; p=" + "A" * 400)])
    assert d.txt("example.org") == b"v=spf1 ip4:192.0.2.0/24 -all"
    assert d.txt("sel._domainkey.example.org") == b"v=DKIM1; k=rsa; p=" + b"A" * 400
    assert d.txt("nothing.example.org") is None
