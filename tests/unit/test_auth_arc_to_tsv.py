#!/usr/bin/python3
"""Converts the ValiMail ARC validation suite (YAML) into the tab-separated
stream tests/unit/test_auth_arc.c reads, so the C test needs no YAML parser.
Lines:
  S <description>            scenario start (its key records follow)
  K <name> <txt value>       TXT record served for this scenario
  T <id> <cv> <message>      cv lower-cased ('' -> fail); message with CRLF
Backslash, tab, CR, LF and NUL are escaped as \\\\ \\t \\r \\n \\0."""
import sys

import yaml


def esc(s):
    return (str(s).replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r")
            .replace("\n", "\\n").replace("\0", "\\0"))


def main(path):
    out = sys.stdout
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            out.write("S\t%s\n" % esc(doc.get("description", "")))
            for name, val in (doc.get("txt-records") or {}).items():
                out.write("K\t%s\t%s\n" % (name, esc(val)))
            for tid, t in (doc.get("tests") or {}).items():
                cv = (t.get("cv") or "fail").lower()
                msg = t["message"].replace("\r\n", "\n").replace("\n", "\r\n")
                out.write("T\t%s\t%s\t%s\n" % (tid, cv, esc(msg)))


if __name__ == "__main__":
    main(sys.argv[1])
