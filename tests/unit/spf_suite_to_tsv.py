#!/usr/bin/python3
"""Converts an OpenSPF YAML test suite into the tab-separated stream that
tests/unit/test_spf_suite.c reads (the suite stays where it is, in
shared/testdata; this is only a format bridge, so the C test needs no YAML
parser).  Lines:
  S <desc>                          scenario start
  Z <name> <TYPE> <value>           zone record (TXT/SPF strings concatenated,
                                    MX as "pref host", TIMEOUT with empty value)
  T <id> <helo> <ip> <mailfrom> <results,comma> <explanation or \\x01>
"""
import sys

import yaml


def flat(v):
    if isinstance(v, list):
        return "".join(str(x) for x in v)
    return str(v)


def clean(s):
    """Escapes backslash, tab, newline and NUL (records may hold them)."""
    return (str(s).replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\0", "\\0"))


def main(path):
    out = sys.stdout
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            out.write("S\t%s\n" % clean(doc.get("description", "")))
            for name, recs in (doc.get("zonedata") or {}).items():
                for rec in recs or []:
                    if rec == "TIMEOUT":
                        out.write("Z\t%s\tTIMEOUT\t\n" % name)
                        continue
                    for rtype, val in rec.items():
                        if rtype == "MX":
                            val = "%s %s" % (val[0], val[1])
                        out.write("Z\t%s\t%s\t%s\n" % (name, rtype, clean(flat(val))))
            for tid, t in (doc.get("tests") or {}).items():
                res = t["result"]
                res = ",".join(res) if isinstance(res, list) else res
                exp = t.get("explanation")
                out.write("T\t%s\t%s\t%s\t%s\t%s\t%s\n" % (
                    tid, clean(t.get("helo", "")), t.get("host", ""),
                    clean(t.get("mailfrom", "")), res,
                    "\x01" if exp is None else clean(exp)))


if __name__ == "__main__":
    main(sys.argv[1])
