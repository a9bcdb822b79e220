"""Parser for the rspamc-shaped text report (spec §6.3), shared by the tests
of winnowc and of Debian's rspamc against winnowd."""

import re

RESULTS_RE = re.compile(r"^Results for file: (.*) \(([0-9.e-]+) seconds\)$")
SCORE_RE = re.compile(r"^Score: (-?[0-9]+\.[0-9]{2}) / (-?[0-9]+\.[0-9]{2})$")
SYMBOL_RE = re.compile(r"^Symbol: ([A-Za-z0-9_]+) \((-?[0-9]+\.[0-9]{2})\)(?:\[(.*)\])?$")


class ReportError(AssertionError):
    pass


def parse_reports(text):
    """Returns {filename: {"action", "spam", "score", "required", "symbols":
    {name: (score, [options])}, "message_id", "lines"}}.  Raises ReportError
    when a result block does not have the documented shape."""
    results = {}
    cur = None
    for line in text.splitlines():
        m = RESULTS_RE.match(line)
        if m:
            cur = {"file": m.group(1), "secs": float(m.group(2)), "symbols": {}, "lines": [line]}
            results[cur["file"]] = cur
            continue
        if cur is None:
            continue
        cur["lines"].append(line)
        if line == "[Metric: default]":
            cur["metric"] = True
        elif line.startswith("Action: "):
            cur["action"] = line[len("Action: "):]
        elif line.startswith("Spam: "):
            cur["spam"] = line[len("Spam: "):]
        elif line.startswith("Score: "):
            m = SCORE_RE.match(line)
            if not m:
                raise ReportError(f"bad Score line: {line!r}")
            cur["score"], cur["required"] = float(m.group(1)), float(m.group(2))
        elif line.startswith("Symbol: "):
            m = SYMBOL_RE.match(line)
            if not m:
                raise ReportError(f"bad Symbol line: {line!r}")
            opts = [o for o in m.group(3).split(", ")] if m.group(3) is not None else []
            cur["symbols"][m.group(1)] = (float(m.group(2)), opts)
        elif line.startswith("Message-ID: "):
            cur["message_id"] = line[len("Message-ID: "):]
    for name, r in results.items():
        for key in ("metric", "action", "score", "required"):
            if key not in r:
                raise ReportError(f"{name}: no {key} in report:\n" + "\n".join(r["lines"]))
        if r["action"] in ("reject", "soft reject", "rewrite subject", "add header", "greylist",
                           "no action") and "spam" not in r:
            raise ReportError(f"{name}: no Spam line:\n" + "\n".join(r["lines"]))
    return results


def symbol_order_ok(report):
    """rspamc prints symbols sorted by name."""
    names = [l.split(" ", 2)[1] for l in report["lines"] if l.startswith("Symbol: ")]
    return names == sorted(names)
