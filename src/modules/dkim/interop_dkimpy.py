#!/usr/bin/python3
"""Interop check between winnow's DKIM library (through dkim_tool) and
dkimpy (Debian's python3-dkim): messages we sign must verify with dkimpy,
messages dkimpy signs must verify with us; RSA-2048 and Ed25519 keys, all
four canonicalization pairs.  Keys are generated fresh in a temporary
directory; DNS is replaced by dkimpy's dnsfunc hook and by dkim_tool's
NAME=TXTFILE arguments.  Exit 0 = all good, 1 = a mismatch, 77 = skipped
(python3-dkim, python3-nacl or openssl missing).

usage: interop_dkimpy.py PATH/TO/dkim_tool
"""
import base64
import os
import subprocess
import sys
import tempfile

try:
    import dkim
    import nacl.signing  # noqa: F401  (dkimpy needs it for ed25519)
except ImportError as e:
    print("SKIP: %s (apt-get install python3-dkim python3-nacl)" % e)
    sys.exit(77)

TOOL = sys.argv[1]
DOMAIN = b"example.com"

MESSAGE = (b"Received: from mx.example.org by mx.example.com; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"From: Alice <alice@example.com>\r\n"
           b"To: Bob <bob@example.net>,\r\n"
           b"\tCarol <carol@example.net>\r\n"
           b"Subject:   interop   test \r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"Message-ID: <interop@example.com>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"\r\n"
           b"Hello  Bob, \r\n"
           b"\r\n"
           b"\ttabbed line\t\r\n"
           b"bye\r\n"
           b"\r\n"
           b"\r\n")

CANONS = [(b"relaxed", b"relaxed"), (b"relaxed", b"simple"),
          (b"simple", b"relaxed"), (b"simple", b"simple")]


def make_keys(tmp):
    rsa = os.path.join(tmp, "rsa.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", rsa], check=True, capture_output=True)
    ed = os.path.join(tmp, "ed.key")
    with open(ed, "wb") as f:
        f.write(base64.b64encode(os.urandom(32)) + b"\n")
    for k in (rsa, ed):
        os.chmod(k, 0o600)
    return [("rsa", rsa, b"rsa-sha256"), ("ed", ed, b"ed25519-sha256")]


def txt_of(key):
    out = subprocess.run([TOOL, "txt", key], check=True, capture_output=True).stdout
    return out.strip()


def we_sign_dkimpy_verifies(sel, key, txt, canon):
    c = (canon[0] + b"/" + canon[1]).decode()
    signed = subprocess.run([TOOL, "sign", key, DOMAIN.decode(), sel, c], input=MESSAGE,
                            check=True, capture_output=True).stdout

    def dnsfunc(name, timeout=5):
        want = sel.encode() + b"._domainkey." + DOMAIN
        return txt if name.rstrip(b".") == want else None

    return dkim.verify(signed, dnsfunc=dnsfunc)


def dkimpy_signs_we_verify(sel, key, alg, txt_file, canon):
    with open(key, "rb") as f:
        priv = f.read()
    sig = dkim.sign(MESSAGE, sel.encode(), DOMAIN, priv, canonicalize=canon,
                    signature_algorithm=alg)
    r = subprocess.run([TOOL, "verify", "%s._domainkey.%s=%s" % (sel, DOMAIN.decode(), txt_file)],
                       input=sig + MESSAGE, capture_output=True)
    return r.returncode == 0, r.stdout.decode().strip()


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            keys = make_keys(tmp)
        except (OSError, subprocess.CalledProcessError) as e:
            print("SKIP: cannot generate keys: %s" % e)
            return 77
        for sel, key, alg in keys:
            txt = txt_of(key)
            txt_file = os.path.join(tmp, sel + ".txt")
            with open(txt_file, "wb") as f:
                f.write(txt)
            for canon in CANONS:
                name = "%s %s/%s" % (sel, canon[0].decode(), canon[1].decode())
                ok = we_sign_dkimpy_verifies(sel, key, txt, canon)
                print("%s winnow signs, dkimpy verifies: %s" % ("ok  " if ok else "FAIL", name))
                failures += not ok
                ok, out = dkimpy_signs_we_verify(sel, key, alg, txt_file, canon)
                print("%s dkimpy signs, winnow verifies: %s: %s" % ("ok  " if ok else "FAIL", name, out))
                failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
