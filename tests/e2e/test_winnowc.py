"""winnowc against a live winnowd: FILE, DIR, stdin, --json, -n, envelope
options, and its exit status when the server is not there."""

import json
import shutil

import pytest

from conftest import MESSAGES, WINNOWC, binary, free_port, message_files, run
from report import parse_reports, symbol_order_ok


def winnowc(port, *args, **kw):
    return run([binary(WINNOWC), "-h", f"127.0.0.1:{port}"] + list(args), **kw)


def test_file(daemon):
    msg = MESSAGES / "ham-plain.eml"
    p = winnowc(daemon.port, msg)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(f"Results for file: {msg} (") and lines[0].endswith(" seconds)"), lines[0]
    assert lines[1] == "[Metric: default]"
    r = parse_reports(p.stdout)[str(msg)]
    j = daemon.scan_json(msg)
    assert r["action"] == j["action"]
    assert r["score"] == pytest.approx(j["score"], abs=0.006)
    assert r["required"] == 15.0
    assert set(r["symbols"]) == set(j["symbols"])
    assert symbol_order_ok(r)
    assert r["message_id"] == "20251124100000.12345@example.org"
    assert p.stdout.endswith("\n\n"), "a blank line ends each result"


def test_gtube_file(daemon):
    p = winnowc(daemon.port, MESSAGES / "gtube.eml")
    assert p.returncode == 0, p.stderr
    r = parse_reports(p.stdout)[str(MESSAGES / "gtube.eml")]
    assert r["action"] == "reject" and r["spam"] == "true"
    assert "GTUBE" in r["symbols"]


def test_directory(daemon, tmp_path):
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    shutil.copy(MESSAGES / "gtube.eml", d / "a.eml")
    shutil.copy(MESSAGES / "ham-plain.eml", d / "sub" / "b.eml")
    p = winnowc(daemon.port, d)
    assert p.returncode == 0, p.stderr
    reports = parse_reports(p.stdout)
    assert set(reports) == {str(d / "a.eml"), str(d / "sub" / "b.eml")}, p.stdout
    assert reports[str(d / "a.eml")]["action"] == "reject"


def test_stdin(daemon):
    with open(MESSAGES / "day-one.eml", "rb") as f:
        p = winnowc(daemon.port, stdin=f)
    assert p.returncode == 0, p.stderr
    r = parse_reports(p.stdout)["stdin"]
    assert r["action"] == daemon.scan_json(MESSAGES / "day-one.eml")["action"]


def test_json(daemon):
    p = winnowc(daemon.port, "--json", MESSAGES / "gtube.eml")
    assert p.returncode == 0, p.stderr
    text = p.stdout
    # rspamc prints the Results line before the JSON; accept either shape.
    j = json.loads(text[text.index("{"):])
    assert j["action"] == "reject"
    assert "GTUBE" in j["symbols"]
    assert j["required_score"] == 15.0


def test_parallel(daemon, tmp_path):
    files = []
    for i, f in enumerate(message_files() * 3):
        dst = tmp_path / f"{i:03d}-{f.name}"
        shutil.copy(f, dst)
        files.append(str(dst))
    p = winnowc(daemon.port, "-n", "4", *files, timeout=180)
    assert p.returncode == 0, p.stderr
    reports = parse_reports(p.stdout)
    assert set(reports) == set(files)
    for name, r in reports.items():
        if name.endswith("gtube.eml"):
            assert r["action"] == "reject"


def test_envelope_options(daemon):
    p = winnowc(daemon.port, "-i", "192.0.2.55", "-F", "wc-from@example.org", "-r", "wc-r1@example.net",
                "-r", "wc-r2@example.net", "--header", "Queue-Id: QIDWINNOWC", MESSAGES / "ham-plain.eml")
    assert p.returncode == 0, p.stderr
    line = next(l for l in daemon.wait_log("QIDWINNOWC").splitlines() if "QIDWINNOWC" in l)
    for want in ("192.0.2.55", "wc-from@example.org", "wc-r1@example.net", "wc-r2@example.net"):
        assert want in line, line


def test_closed_port_exits_1():
    port = free_port()  # nothing listens there
    p = winnowc(port, MESSAGES / "ham-plain.eml", timeout=60)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "Action:" not in p.stdout


def test_missing_file_fails(daemon, tmp_path):
    p = winnowc(daemon.port, tmp_path / "does-not-exist.eml")
    assert p.returncode != 0
