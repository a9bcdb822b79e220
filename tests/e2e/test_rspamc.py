"""Debian's real rspamc (Rspamd 3.4's client) pointed at winnowd gets a
correct answer, and agrees with winnowc and with the /checkv2 JSON."""

import shutil

import pytest

from conftest import MESSAGES, WINNOWC, binary, corpus_files, message_files, run
from report import parse_reports, symbol_order_ok

RSPAMC = shutil.which("rspamc")
pytestmark = pytest.mark.skipif(RSPAMC is None, reason="rspamc not installed (scripts/install-deps installs rspamd)")

SPAM_ACTIONS = {"reject", "soft reject", "rewrite subject", "add header"}


def sample():
    """The fixtures plus a spread of corpus messages (every 300th)."""
    files = list(message_files())
    files += corpus_files()[::300]
    return files


def rspamc(daemon, *args, timeout=120, **kw):
    return run([RSPAMC, "-h", f"127.0.0.1:{daemon.port}", "-t", "60"] + list(args), timeout=timeout, **kw)


def winnowc(daemon, *args, timeout=120, **kw):
    return run([binary(WINNOWC), "-h", f"127.0.0.1:{daemon.port}", "-t", "60"] + list(args),
               timeout=timeout, **kw)


def test_rspamc_single_file(daemon):
    msg = MESSAGES / "ham-plain.eml"
    p = rspamc(daemon, msg)
    assert p.returncode == 0, p.stderr + p.stdout
    reports = parse_reports(p.stdout)
    assert list(reports) == [str(msg)], p.stdout
    r = reports[str(msg)]
    j = daemon.scan_json(msg)
    assert r["action"] == j["action"]
    assert r["score"] == pytest.approx(j["score"], abs=0.006)
    assert r["required"] == pytest.approx(j["required_score"], abs=0.006)
    assert r["spam"] == ("true" if j["action"] in SPAM_ACTIONS else "false")
    assert set(r["symbols"]) == set(j["symbols"])
    for name, (score, opts) in r["symbols"].items():
        assert score == pytest.approx(j["symbols"][name]["score"], abs=0.006), name
    assert r["message_id"] == j["message-id"]


def test_rspamc_gtube(daemon):
    p = rspamc(daemon, MESSAGES / "gtube.eml")
    assert p.returncode == 0, p.stderr
    r = parse_reports(p.stdout)[str(MESSAGES / "gtube.eml")]
    assert r["action"] == "reject"
    assert r["spam"] == "true"
    assert "GTUBE" in r["symbols"]


def test_rspamc_stdin(daemon):
    with open(MESSAGES / "gtube.eml", "rb") as f:
        p = rspamc(daemon, stdin=f)
    assert p.returncode == 0, p.stderr
    assert parse_reports(p.stdout)["stdin"]["action"] == "reject"


def test_rspamc_json(daemon):
    import json
    p = rspamc(daemon, "--json", MESSAGES / "gtube.eml")
    assert p.returncode == 0, p.stderr
    start = p.stdout.index("{")
    j = json.loads(p.stdout[start:])
    assert j["action"] == "reject"


def test_rspamc_envelope_options(daemon):
    p = rspamc(daemon, "-i", "192.0.2.99", "-F", "rspamc-from@example.org",
               "-r", "rspamc-rcpt1@example.net", "-r", "rspamc-rcpt2@example.net",
               "--header", "Queue-Id=QIDRSPAMC1", MESSAGES / "ham-plain.eml")
    assert p.returncode == 0, p.stderr
    line = next(l for l in daemon.wait_log("QIDRSPAMC1").splitlines() if "QIDRSPAMC1" in l)
    assert "192.0.2.99" in line and "rspamc-from@example.org" in line, line
    assert "rspamc-rcpt1@example.net" in line and "rspamc-rcpt2@example.net" in line, line


def test_rspamc_winnowc_json_agree_on_sample(daemon, tmp_path):
    """Action and score agree between rspamc, winnowc and /checkv2 for the
    fixtures and a sample of the corpus (when installed)."""
    files = sample()
    # rspamc and winnowc both scan a directory of copies in one run.
    d = tmp_path / "sample"
    d.mkdir()
    names = {}
    for i, f in enumerate(files):
        dst = d / f"{i:04d}-{f.name}"
        shutil.copyfile(f, dst)
        names[str(dst)] = f
    p_r = rspamc(daemon, "-n", "4", *sorted(names))
    assert p_r.returncode == 0, p_r.stderr
    p_w = winnowc(daemon, "-n", "4", *sorted(names))
    assert p_w.returncode == 0, p_w.stderr
    by_r = parse_reports(p_r.stdout)
    by_w = parse_reports(p_w.stdout)
    assert set(by_r) == set(names), set(names) - set(by_r)
    assert set(by_w) == set(names), \
        f"winnowc reported {sorted(set(by_w) - set(names))[:5]} instead of {sorted(set(names) - set(by_w))[:5]}"
    mismatches = []
    for path in sorted(names):
        j = daemon.scan_json(open(path, "rb").read())
        r, w = by_r[path], by_w[path]
        if not (r["action"] == w["action"] == j["action"]) or \
                abs(r["score"] - j["score"]) > 0.006 or abs(w["score"] - j["score"]) > 0.006:
            mismatches.append(f"{names[path]}: rspamc {r['action']}/{r['score']} "
                              f"winnowc {w['action']}/{w['score']} json {j['action']}/{j['score']:.2f}")
        assert symbol_order_ok(w), w["lines"]
        assert r["required"] == w["required"] == j["required_score"]
    assert not mismatches, "\n".join(mismatches)
