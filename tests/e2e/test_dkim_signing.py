"""DKIM signing end to end: keys from `winnowadm dkim_keygen`, published on a
real DNS server (dnsmasq on loopback), messages signed by winnowd through
/checkv2 (authenticated, so outbound) and verified by Debian's python3-dkim
reading the same DNS; the first-time setup of JOURNEY.md §5 unchanged."""

import os
import stat

import pytest

from conftest import WINNOWADM, binary, run
from test_auth_dns import Dnsmasq, record_from_keygen  # noqa: F401  (fixture below)
from test_auth_dns import dns_server  # noqa: F401

dkim = pytest.importorskip("dkim")
pytest.importorskip("dns.resolver")

MSG = (b"From: Alice <alice@example.com>\n"
       b"To: bob@example.org\n"
       b"Subject: quarterly report\n"
       b"Date: Tue, 24 Nov 2026 10:00:00 +0000\n"
       b"Message-ID: <q1@example.com>\n"
       b"MIME-Version: 1.0\n"
       b"Content-Type: text/plain; charset=utf-8\n"
       b"\n"
       b"Hello Bob,\n\nthe numbers are attached.  \n\n\n")


def keygen(tmp_path, selector, domain, keyfile, *extra):
    p = run([binary(WINNOWADM), "dkim_keygen", "-s", selector, "-d", domain, "-k", keyfile]
            + list(extra))
    assert p.returncode == 0, p.stderr
    return p.stdout


def signed_message(reply, msg=MSG):
    sigs = reply.get("dkim-signature")
    assert sigs, reply
    if isinstance(sigs, str):
        sigs = [sigs]
    head = b"".join(b"DKIM-Signature: " + s.encode() + b"\n" for s in sigs)
    return head + msg, sigs


def verify_all(dnsd, message, nsigs):
    """python3-dkim verifies each signature (dkim.DKIM.verify(idx))."""
    m = message.replace(b"\n", b"\r\n")
    d = dkim.DKIM(m)
    for i in range(nsigs):
        assert d.verify(idx=i, dnsfunc=dnsd.dkim_dnsfunc()), f"signature {i} does not verify"


def auth_headers(user, env_from, ip="192.0.2.77"):
    return [("User", user), ("From", env_from), ("IP", ip), ("Helo", "client.example.com"),
            ("Rcpt", "bob@example.org")]


def journey_setup(tmp_path, make_daemon, dns_server):
    """JOURNEY.md §5 verbatim, with /var/lib/winnow and /etc/winnow moved
    under tmp_path."""
    dkimdir = tmp_path / "lib" / "dkim"
    dkimdir.mkdir(parents=True)
    os.chmod(dkimdir, 0o750)
    key = dkimdir / "s2026.example.com.key"
    out = keygen(tmp_path, "s2026", "example.com", key, "-b", "2048")
    assert out.startswith('s2026._domainkey IN TXT ( "v=DKIM1; k=rsa; "\n\t"p=')
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    dnsd = dns_server([("s2026._domainkey.example.com", record_from_keygen(out))])
    etcw = tmp_path / "etcw"
    etcw.mkdir()
    (etcw / "dkim_selectors.map").write_text("example.com s2026\n")
    (etcw / "dkim_keys.map").write_text(f"example.com {key}\n")
    (etcw / "dkim_signing.map").write_text("*@example.com example.com\n")
    conf = (f'path = "{dkimdir}/$selector.$domain.key";\n'
            f'selector_map = "{etcw}/dkim_selectors.map";\n'
            f'key_map = "{etcw}/dkim_keys.map";\n'
            f'signing_table = "{etcw}/dkim_signing.map";\n'
            'use_esld = false;\n'
            'allow_username_mismatch = true;\n')
    d = make_daemon(local={"dkim_signing.conf": conf},
                    override={"options.inc": dnsd.options_inc()})
    return d, dnsd, etcw, dkimdir


def test_journey_setup_signs_example_com_only(tmp_path, make_daemon, dns_server):
    d, dnsd, _, _ = journey_setup(tmp_path, make_daemon, dns_server)
    r = d.scan_json(MSG, auth_headers("alice@example.com", "alice@example.com"))
    assert r["symbols"]["DKIM_SIGNED"]["options"] == ["example.com"]
    message, sigs = signed_message(r)
    assert len(sigs) == 1 and "d=example.com; s=s2026;" in sigs[0]
    assert "c=relaxed/relaxed" in sigs[0] and "a=rsa-sha256" in sigs[0]
    verify_all(dnsd, message, 1)
    d.wait_log("dkim_signing: sign example.com with selector s2026")

    other = MSG.replace(b"alice@example.com", b"carol@example.net")
    r = d.scan_json(other, auth_headers("carol@example.net", "carol@example.net"))
    assert "dkim-signature" not in r and "DKIM_SIGNED" not in r["symbols"]

    # Not authenticated, not local: inbound mail is never signed.
    r = d.scan_json(MSG, [("IP", "198.51.100.9"), ("From", "alice@example.com")])
    assert "dkim-signature" not in r


def test_winnow_signature_then_winnow_verifies(tmp_path, make_daemon, dns_server):
    d, dnsd, _, _ = journey_setup(tmp_path, make_daemon, dns_server)
    r = d.scan_json(MSG, auth_headers("alice@example.com", "alice@example.com"))
    message, _ = signed_message(r)
    r2 = d.scan_json(message, [("IP", "198.51.100.9"), ("From", "alice@example.com")])
    assert "R_DKIM_ALLOW" in r2["symbols"], r2["symbols"]
    assert r2["symbols"]["R_DKIM_ALLOW"]["options"] == ["example.com:s=s2026"]
    tampered = message.replace(b"numbers", b"NUMBERS")
    r3 = d.scan_json(tampered, [("IP", "198.51.100.9"), ("From", "alice@example.com")])
    assert "R_DKIM_REJECT" in r3["symbols"], r3["symbols"]
    assert r3["symbols"]["DKIM_TRACE"]["options"] == ["example.com:-"]


def test_rsa_and_ed25519_selectors(tmp_path, make_daemon, dns_server):
    """domain { example.com { selectors = [...] } }: two signatures, one RSA
    and one Ed25519, both verified by python3-dkim."""
    kd = tmp_path / "keys"
    kd.mkdir()
    rsa_out = keygen(tmp_path, "r1", "example.com", kd / "r1.key", "-b", "1024")
    ed_out = keygen(tmp_path, "e1", "example.com", kd / "e1.key", "-t", "ed25519")
    assert 'k=ed25519; "\n\t"p=' in ed_out and ed_out.rstrip().endswith('" ) ;')
    dnsd = dns_server([("r1._domainkey.example.com", record_from_keygen(rsa_out)),
                       ("e1._domainkey.example.com", record_from_keygen(ed_out))])
    conf = ('domain { example.com { selectors = [\n'
            f'  {{ selector = "r1"; path = "{kd}/r1.key"; }},\n'
            f'  {{ selector = "e1"; path = "{kd}/e1.key"; }}\n'
            '] } }\n')
    d = make_daemon(local={"dkim_signing.conf": conf},
                    override={"options.inc": dnsd.options_inc()})
    r = d.scan_json(MSG, auth_headers("alice@example.com", "alice@example.com"))
    message, sigs = signed_message(r)
    assert len(sigs) == 2
    assert any("a=ed25519-sha256" in s and "s=e1;" in s for s in sigs)
    assert any("a=rsa-sha256" in s and "s=r1;" in s for s in sigs)
    verify_all(dnsd, message, 2)
    # Oversigning: From is listed once more than it occurs.
    h = [s for s in sigs if "s=r1;" in s][0]
    hlist = h.split(" h=")[1].split(";")[0].replace("\n\t", "").replace(" ", "")
    assert hlist.split(":").count("from") == 2


def test_key_readable_by_others_is_refused(tmp_path, make_daemon, dns_server):
    kd = tmp_path / "keys"
    kd.mkdir()
    keygen(tmp_path, "r1", "example.com", kd / "r1.key", "-b", "1024")
    os.chmod(kd / "r1.key", 0o644)
    conf = f'domain {{ example.com {{ selector = "r1"; path = "{kd}/r1.key"; }} }}\n'
    d = make_daemon(local={"dkim_signing.conf": conf})
    r = d.scan_json(MSG, auth_headers("alice@example.com", "alice@example.com"))
    assert "dkim-signature" not in r
    d.wait_log(f"is readable by others (mode 0644): run 'chmod 0600 {kd}/r1.key'")


def test_missing_key_names_the_path(tmp_path, make_daemon):
    d = make_daemon(local={"dkim_signing.conf":
                           f'path = "{tmp_path}/nokeys/$selector.$domain.key";\n'
                           'selector = "s9";\n'})
    r = d.scan_json(MSG, auth_headers("alice@example.com", "alice@example.com"))
    assert "dkim-signature" not in r
    d.wait_log(f"{tmp_path}/nokeys/s9.example.com.key does not exist")


def test_keygen_refuses_to_overwrite(tmp_path):
    key = tmp_path / "k.key"
    keygen(tmp_path, "a", "example.com", key, "-b", "1024")
    before = key.read_bytes()
    p = run([binary(WINNOWADM), "dkim_keygen", "-s", "a", "-k", key, "-b", "1024"])
    assert p.returncode == 1 and "already exists" in p.stderr
    assert key.read_bytes() == before
    p = run([binary(WINNOWADM), "dkim_keygen", "-s", "a", "-k", key, "-b", "1024", "-f"])
    assert p.returncode == 0 and key.read_bytes() != before
    p = run([binary(WINNOWADM), "dkim_keygen", "-s", "a", "-t", "ed25519"])
    lines = p.stdout.splitlines()
    assert len(lines[0]) == 88 and lines[1].startswith('a._domainkey IN TXT ( "v=DKIM1; k=ed25519; "')


def test_milter_inserts_signature_at_the_top(tmp_path, make_daemon, dns_server):
    """JOURNEY.md §4-§5: Postfix with {auth_authen}; the proxy inserts
    DKIM-Signature as the first header (SMFIR_INSHEADER index 1), folded
    with LF, and the signed message verifies."""
    from milter_client import MilterClient
    d, dnsd, _, _ = journey_setup(tmp_path, make_daemon, dns_server)
    d.stop()
    d.write_local("worker-proxy.inc",
                  f'bind_socket = "127.0.0.1:{d.proxy_port}";\nmilter = yes;\n'
                  'upstream "local" {\n  default = yes;\n  self_scan = yes;\n}\n')
    d.start()
    crlf = MSG.replace(b"\n", b"\r\n")
    with MilterClient(("127.0.0.1", d.proxy_port)) as c:
        c.optneg()
        c.macros("C", {"j": "mx.example.com", "{daemon_name}": "submission"})
        c.connect(hostname="laptop.example.com", addr="198.51.100.20")
        replies = c.message(crlf, sender="<alice@example.com>", rcpts=("<bob@example.org>",),
                            macros={"{auth_authen}": "alice@example.com"})
        c.quit()
    ins = [r for r in replies if r[0] == "i" and r[2] == "DKIM-Signature"]
    assert len(ins) == 1, replies
    _, index, _, value = ins[0]
    assert index == 1
    assert "d=example.com; s=s2026;" in value and "\r" not in value
    signed = b"DKIM-Signature: " + value.encode() + b"\n" + MSG
    verify_all(dnsd, signed, 1)


def test_arc_seal_verified_by_python_dkim(tmp_path, make_daemon, dns_server):
    """ARC sealing (arc section with a key): an inbound message for
    example.com gets ARC-Seal / ARC-Message-Signature /
    ARC-Authentication-Results in milter.add_headers, and python3-dkim's
    arc_verify() accepts the chain (cv=pass) reading the test DNS."""
    kd = tmp_path / "keys"
    kd.mkdir()
    out = keygen(tmp_path, "arc1", "example.com", kd / "arc1.example.com.key", "-b", "2048")
    dnsd = dns_server([("arc1._domainkey.example.com", record_from_keygen(out))])
    d = make_daemon(local={"arc.conf": f'selector = "arc1";\npath = "{kd}/$selector.$domain.key";\n'},
                    override={"options.inc": dnsd.options_inc()})
    inbound = MSG.replace(b"alice@example.com", b"ceo@example.org")
    r = d.scan_json(inbound, [("IP", "192.0.2.10"), ("From", "ceo@example.org"),
                              ("Helo", "mx.example.org"), ("Rcpt", "staff@example.com")])
    assert r["symbols"]["ARC_SIGNED"]["options"] == ["example.com"], r["symbols"]
    adds = r["milter"]["add_headers"]
    head = b""
    for name in ("ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"):
        assert adds[name]["order"] == 1
        head += name.encode() + b": " + adds[name]["value"].encode() + b"\r\n"
    assert "i=1; " in adds["ARC-Authentication-Results"]["value"]
    assert "spf=pass" in adds["ARC-Authentication-Results"]["value"]
    sealed = head + inbound.replace(b"\n", b"\r\n")
    cv, _, why = dkim.arc_verify(sealed, dnsfunc=dnsd.dkim_dnsfunc())
    assert cv == b"pass", why
    # winnow validates its own seal as the next hop would.
    r2 = d.scan_json(sealed, [("IP", "198.51.100.9"), ("From", "ceo@example.org"),
                              ("Rcpt", "staff@example.com")])
    assert r2["symbols"]["ARC_ALLOW"]["options"] == ["example.com:i=1"], r2["symbols"]
    assert "cv=pass" in r2["milter"]["add_headers"]["ARC-Seal"]["value"]
