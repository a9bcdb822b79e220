#!/usr/bin/python3
"""Turns the authentication subset of the Rspamd functional-test corpus
(shared/testdata/rspamd-messages: expectations.json + fake-dns.json) into the
tab-separated stream tests/unit/test_auth_rspamd.c reads.  Lines:
  Z <name> <type> <rcode> <value>     fake DNS (rcode ok|norec|nxdomain|timeout|...)
  T <file> <ip> <from> <helo> <user> <want,...> <not_want,...>
Only steps that expect (or forbid) an R_SPF_*, R_DKIM_*, DMARC_* or ARC_*
symbol are kept; of the expectations only those symbols are kept (Rspamd's
whitelist, MULTIPLE_FROM ... are other modules')."""
import json
import os
import re
import sys

AUTH = re.compile(r"\b(R_SPF_[A-Z]+|R_DKIM_[A-Z]+|DMARC_[A-Z_]+|ARC_[A-Z]+)\b")


def syms(items):
    out = []
    for x in items:
        m = AUTH.search(x)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def main(d):
    dns = json.load(open(os.path.join(d, "fake-dns.json")))
    seen = set()
    order = ["merged-local.conf"] + [k for k in dns if k != "merged-local.conf"]
    for conf in order:
        for r in dns[conf]:
            key = (r["name"].lower(), r["type"].lower())
            if key in seen:
                continue
            seen.add(key)
            rcode = r.get("rcode", "ok")
            for v in (r.get("replies") or [""]):
                if isinstance(v, dict):        # MX {priority, name}
                    v = "%s %s" % (v.get("priority", 10), v.get("name", ""))
                print("Z\t%s\t%s\t%s\t%s" % (r["name"], r["type"].lower(), rcode,
                                           str(v).replace("\t", " ")))
    exp = json.load(open(os.path.join(d, "expectations.json")))
    for f, steps in exp.items():
        for s in steps:
            want, not_want = syms(s["expect"]), syms(s["not_expect"])
            if not want and not not_want:
                continue
            a = dict(x.split("=", 1) for x in s["args"] if "=" in x)
            frm = a.get("From", "-")
            if frm == "<>":
                frm = ""
            print("T\t%s\t%s\t%s\t%s\t%s\t%s\t%s" % (
                f, a.get("IP", "-"), frm if frm != "" else "<>", a.get("Helo", "-"),
                a.get("User", "-"), ",".join(want) or "-", ",".join(not_want) or "-"))


if __name__ == "__main__":
    main(sys.argv[1])
