#!/usr/bin/python3
"""Converts shared/testdata/mailauth/dmarc-cases.json into the tab-separated
stream read by tests/unit/test_dmarc_cases.c (the data stays in shared/).
Only cases with a checkable expectation are emitted; DMARCbis cases that
mailauth marks pending and cases whose inputs the extractor lost are
skipped and counted on stderr.  Lines:
  C <name> <from> <dkim,domains> <spf domain> <dns error 0/1> <result> <policy> <domain>
  D <txt name> <record>        (chunks of one record joined)
"""
import json
import sys

LOST = {"Should handle domains with string DKIM/SPF entries",
        "Should handle headerFrom array with single element",
        "Should return false for headerFrom array with multiple elements",
        # The extractor dropped the duplicate records these two are about;
        # test_dmarc.c covers the rule (§4.10 step 2) with the records.
        "discards the record set when multiple DMARC records are published (\u00a74.10 step 2)",
        "does not inherit the org policy when the author domain publishes multiple records "
        "(\u00a74.10 step 2)"}


def main(path):
    cases = json.load(open(path, encoding="utf-8"))
    skipped = 0
    for c in cases:
        e = c.get("expect") or {}
        checkable = any(k in e for k in ("status.result", "policy", "domain"))
        if c.get("pending_in_upstream") or c["test"] in LOST or not checkable:
            skipped += 1
            continue
        frm = c.get("headerFrom") or ""
        dom = frm.split("@", 1)[1] if "@" in frm else frm
        print("C\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s" % (
            c["test"].replace("\t", " "), dom, ",".join(c.get("dkimDomains") or []),
            (c.get("spfDomains") or [""])[0] if c.get("spfDomains") else "",
            1 if c.get("dns_error_injected") else 0,
            e.get("status.result", "-"), e.get("policy", "-"), e.get("domain", "-")))
        for name, chunks in (c.get("dns_txt") or {}).items():
            if chunks:
                print("D\t%s\t%s" % (name, "".join(chunks)))
    print("skipped %d cases (pending DMARCbis or no checkable expectation)" % skipped,
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
