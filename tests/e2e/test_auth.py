"""Inbound mail authentication end to end against a real DNS server
(dnsmasq on loopback, tests/fixtures/dns/auth.conf): SPF pass / fail /
softfail / none, DKIM signatures made by Debian's python3-dkim (RSA and
Ed25519) verified by winnowd, DMARC allow and reject for a forged From, and
a dead DNS server giving DNSFAIL / TEMPFAIL symbols instead of a hang."""

import base64
import os
import socket
import subprocess
import time

import pytest

from test_auth_dns import dns_server  # noqa: F401  (fixture)

dkim = pytest.importorskip("dkim")
pytest.importorskip("dns.resolver")
nacl_signing = pytest.importorskip("nacl.signing")


def message(from_addr="ceo@example.org", body=b"Please find the invoice attached.\n"):
    return (f"From: {from_addr}\n"
            "To: staff@example.com\n"
            "Subject: invoice\n"
            "Date: Tue, 24 Nov 2026 10:00:00 +0000\n"
            "Message-ID: <inv1@example.org>\n"
            "\n").encode() + body


def rsa_key(tmp_path):
    """A PKCS#1 key (what python3-dkim reads) and its DNS record."""
    key = tmp_path / "rsa.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return key.read_bytes(), "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def ed_key():
    sk = nacl_signing.SigningKey.generate()
    return (base64.b64encode(bytes(sk)),
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode())


def py_sign(msg, selector, domain, key, alg=b"rsa-sha256"):
    m = msg.replace(b"\n", b"\r\n")
    sig = dkim.sign(m, selector.encode(), domain.encode(), key, signature_algorithm=alg,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig + m


def env(ip, mail_from, helo="mx.example.org"):
    return [("IP", ip), ("From", mail_from), ("Helo", helo), ("Rcpt", "staff@example.com")]


@pytest.fixture
def auth_env(tmp_path, make_daemon, dns_server):
    rsa_pem, rsa_rec = rsa_key(tmp_path)
    ed_seed, ed_rec = ed_key()
    dnsd = dns_server([("py._domainkey.example.org", rsa_rec),
                       ("pyed._domainkey.example.org", ed_rec)])
    d = make_daemon(override={"options.inc": dnsd.options_inc()})
    return d, rsa_pem, ed_seed


def syms(reply):
    return reply["symbols"]


@pytest.mark.parametrize("ip,mail_from,want,option", [
    ("192.0.2.10", "ceo@example.org", "R_SPF_ALLOW", "+ip4:192.0.2.0/24"),
    ("198.51.100.7", "ceo@example.org", "R_SPF_FAIL", "-all"),
    ("198.51.100.7", "a@example.com", "R_SPF_SOFTFAIL", "~all"),
    ("198.51.100.25", "a@example.net", "R_SPF_ALLOW", "+a:mail.example.net"),
    ("198.51.100.26", "a@example.net", "R_SPF_NEUTRAL", "?all"),
    ("192.0.2.10", "a@nothing.example.org", "R_SPF_NA", "no SPF record"),
])
def test_spf(auth_env, ip, mail_from, want, option):
    d, _, _ = auth_env
    r = d.scan_json(message(mail_from), env(ip, mail_from))
    assert want in syms(r), syms(r)
    assert syms(r)[want].get("options") == [option]


def test_spf_helo_when_null_sender(auth_env):
    d, _, _ = auth_env
    r = d.scan_json(message(), [("IP", "192.0.2.10"), ("From", ""), ("Helo", "example.org")])
    assert "R_SPF_ALLOW" in syms(r), syms(r)


def test_spf_skipped_for_authenticated(auth_env):
    d, _, _ = auth_env
    r = d.scan_json(message(), env("198.51.100.7", "ceo@example.org") + [("User", "ceo")])
    assert not any(s.startswith("R_SPF_") for s in syms(r)), syms(r)


@pytest.mark.parametrize("alg", ["rsa", "ed25519"])
def test_python_dkim_signature_verifies(auth_env, alg):
    d, rsa_pem, ed_seed = auth_env
    if alg == "rsa":
        signed = py_sign(message(), "py", "example.org", rsa_pem)
        sel = "py"
    else:
        signed = py_sign(message(), "pyed", "example.org", ed_seed, b"ed25519-sha256")
        sel = "pyed"
    r = d.scan_json(signed, env("192.0.2.10", "ceo@example.org"))
    assert syms(r)["R_DKIM_ALLOW"]["options"] == [f"example.org:s={sel}"], syms(r)
    assert syms(r)["DKIM_TRACE"]["options"] == ["example.org:+"]
    assert "DMARC_POLICY_ALLOW" in syms(r), syms(r)
    assert syms(r)["DMARC_POLICY_ALLOW"]["options"] == ["example.org", "reject"]
    # A changed body breaks the signature.
    bad = signed.replace(b"invoice attached", b"invoice ATTACHED")
    r = d.scan_json(bad, env("198.51.100.7", "ceo@example.org"))
    assert "R_DKIM_REJECT" in syms(r) and "DMARC_POLICY_REJECT" in syms(r), syms(r)


def test_dkim_unknown_key_is_permfail_and_no_signature_na(auth_env):
    d, rsa_pem, _ = auth_env
    signed = py_sign(message(), "nokey", "example.org", rsa_pem)
    r = d.scan_json(signed, env("192.0.2.10", "ceo@example.org"))
    assert "R_DKIM_PERMFAIL" in syms(r), syms(r)
    assert syms(r)["DKIM_TRACE"]["options"] == ["example.org:~"]
    r = d.scan_json(message(), env("192.0.2.10", "ceo@example.org"))
    assert "R_DKIM_NA" in syms(r)


def test_dmarc_reject_for_forged_from(auth_env):
    """From: example.org (p=reject), sent from elsewhere with another
    envelope domain and no signature."""
    d, _, _ = auth_env
    r = d.scan_json(message("ceo@example.org"), env("203.0.113.5", "x@nothing.example.net"))
    assert syms(r)["DMARC_POLICY_REJECT"]["options"] == ["example.org", "reject"], syms(r)
    assert syms(r)["DMARC_POLICY_REJECT"]["score"] == 2.0
    assert r["action"] != "reject"   # scored, not enforced, by default


def test_dmarc_enforced_when_configured(tmp_path, make_daemon, dns_server):
    dnsd = dns_server()
    d = make_daemon(local={"dmarc.conf": 'actions { reject = "reject"; }\n'},
                    override={"options.inc": dnsd.options_inc()})
    r = d.scan_json(message("ceo@example.org"), env("203.0.113.5", "x@nothing.example.net"))
    assert r["action"] == "reject", r


def test_dmarc_policies(auth_env):
    d, _, _ = auth_env
    r = d.scan_json(message("a@example.com"), env("203.0.113.5", "a@example.com"))
    assert "DMARC_POLICY_QUARANTINE" in syms(r), syms(r)
    r = d.scan_json(message("a@example.net"), env("203.0.113.5", "a@example.net"))
    assert "DMARC_POLICY_SOFTFAIL" in syms(r), syms(r)
    r = d.scan_json(message("a@sub.nothing.example.org"), env("192.0.2.10", "a@nothing.example.org"))
    # sub.nothing.example.org has no record: the organisational domain's applies (SPF NA -> fail)
    assert "DMARC_POLICY_REJECT" in syms(r), syms(r)
    r = d.scan_json(message("ceo@example.org"), env("192.0.2.10", "ceo@example.org"))
    assert "DMARC_POLICY_ALLOW" in syms(r), syms(r)      # SPF aligned, no DKIM


def test_dead_dns_gives_dnsfail_not_hang(tmp_path, make_daemon, auth_env):
    _, rsa_pem, _ = auth_env
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        d = make_daemon(override={"options.inc":
                                  f'dns {{ nameserver = ["127.0.0.1:{port}"]; timeout = 0.3s; '
                                  'retransmits = 1; }\n'})
        signed = py_sign(message(), "py", "example.org", rsa_pem)
        t0 = time.monotonic()
        r = d.scan_json(signed, env("192.0.2.10", "ceo@example.org"))
        assert time.monotonic() - t0 < 6
    assert "R_SPF_DNSFAIL" in syms(r), syms(r)
    assert "R_DKIM_TEMPFAIL" in syms(r), syms(r)
    assert syms(r)["DKIM_TRACE"]["options"] == ["example.org:?"]
    assert "DMARC_DNSFAIL" in syms(r), syms(r)
    assert "TASK_TIMEOUT" not in syms(r)
