"""The web interface: the controller's file server (worker_controller_static.c)
over plain HTTP, then the pages in a real browser (Debian's chromium driven
by playwright-core through tests/browser/webui.mjs).

The browser tests share one daemon with a read `password` and an
`enable_password` and run in file order, as one session would: a wrong then
a right password, counters that follow scans, a history row's explanation,
scanning and learning through the page, a read-only session, the
configuration view, and last the lockout message (it locks 127.0.0.1 out of
that daemon for a minute).  They skip, saying why, when node,
playwright-core or chromium is missing (fail under CI=true): `make check`
installs all three.
Screenshots go to $WINNOW_ARTIFACTS, else <build>/artifacts/webui/."""

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (BUILD, MESSAGES, ROOT, Daemon, Redis, controller_daemon, parse_raw_reply,
                      raw_request)

READ_PW = "webui-read"
ENABLE_PW = "webui-enable"
UI = ROOT / "ui"
DRIVER = ROOT / "tests" / "browser" / "webui.mjs"


def artifacts_dir():
    d = Path(os.environ["WINNOW_ARTIFACTS"]) if os.environ.get("WINNOW_ARTIFACTS") \
        else BUILD / "artifacts" / "webui"
    d.mkdir(parents=True, exist_ok=True)
    return d


def header(reply, name):
    for k, v in reply.headers:
        if k.lower() == name.lower():
            return v
    return None


def ctl(d, method, path, body=b"", password=None):
    return d.controller(method, path, body, password)


def start(tmp, redis, extra=""):
    return controller_daemon(tmp, redis, extra)


@pytest.fixture(scope="module")
def webui_redis(tmp_path_factory):
    """A Redis of this module's own, so the learn cache has not seen the
    fixture messages through other modules' daemons."""
    r = Redis(tmp_path_factory.mktemp("webui-redis"))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def wd(tmp_path_factory, webui_redis):
    """password and enable_password set (plain text), so loopback must log in."""
    d = start(tmp_path_factory.mktemp("webui"), webui_redis,
              f'password = "{READ_PW}";\nenable_password = "{ENABLE_PW}";\n')
    yield d
    d.stop(check=True)


# --------------------------------------------------------------------------
# the file server, over HTTP


def test_index_and_assets_served_without_password(wd):
    r = ctl(wd, "GET", "/")
    assert r.status == 200, r
    assert r.body == (UI / "index.html").read_bytes()
    assert header(r, "Content-Type") == "text/html; charset=utf-8"
    assert header(r, "Cache-Control") == "no-store"
    assert header(r, "X-Content-Type-Options") == "nosniff"
    csp = header(r, "Content-Security-Policy")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for path, ctype in [("/index.html", "text/html; charset=utf-8"),
                        ("/js/main.js", "text/javascript; charset=utf-8"),
                        ("/winnow.css", "text/css; charset=utf-8"),
                        ("/favicon.svg", "image/svg+xml")]:
        r = ctl(wd, "GET", path)
        assert r.status == 200, (path, r)
        assert header(r, "Content-Type") == ctype, path
        assert r.body == (UI / path.lstrip("/")).read_bytes(), path
    # The API behind it still wants the password.
    assert ctl(wd, "GET", "/stat").status == 401
    assert ctl(wd, "GET", "/stat", password=READ_PW).status == 200


def test_head_has_the_headers_and_no_body(wd):
    data = raw_request(wd.controller_port, b"HEAD /js/main.js HTTP/1.1\r\nHost: x\r\n"
                                           b"Connection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data[:200]
    size = (UI / "js" / "main.js").stat().st_size
    assert f"Content-Length: {size}".encode() in head
    assert body == b""


@pytest.mark.parametrize("path", [
    "/../etc/passwd", "/js/../index.html", "/%2e%2e/etc/passwd", "/js/%2E%2E/index.html",
    "/.%2e/x", "/./index.html", "/js/./main.js", "//index.html", "/js//main.js",
    "/index.html%00.txt", "/js%2fmain.js", "/js%5cmain.js", "/js\\main.js",
    "/%zz", "/index.html%", "/.git/config", "/.hidden.html",
    "/" + "a/" * 40 + "x.html", "/" + "a" * 5000 + ".html",
    "/nope.html", "/js", "/meson.build", "/js/", "/../../../../../../../../etc/passwd",
])
def test_hostile_and_missing_paths_are_404(wd, path):
    raw = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    status, body = parse_raw_reply(raw_request(wd.controller_port, raw))
    # A path the HTTP parser itself refuses gets its 400; anything that
    # reaches the file server is "Not found", the controller's answer to any
    # unknown path.
    assert status in (400, 404), (path, status, body)
    if status == 404:
        assert body == b"Not found"


def test_static_dir_confinement(tmp_path, webui_redis):
    """static_dir set explicitly: symbolic links below it (to a file or a
    directory outside), FIFOs, files over 4 MiB and unknown extensions are
    not served; plain files are."""
    www = tmp_path / "www"
    (www / "sub").mkdir(parents=True)
    (www / "index.html").write_text("<p>custom</p>")
    (www / "sub" / "page.html").write_text("<p>sub</p>")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (www / "link.txt").symlink_to(secret)
    (www / "linkdir").symlink_to(tmp_path)
    os.mkfifo(www / "fifo.txt")
    (www / "big.txt").write_bytes(b"x" * (4 * 1024 * 1024 + 1))
    (www / "ok.txt").write_bytes(b"x" * (4 * 1024 * 1024))
    (www / "data.bin").write_bytes(b"\0\1")
    d = start(tmp_path / "d", webui_redis, f'static_dir = "{www}";\n')
    try:
        assert ctl(d, "GET", "/").body == b"<p>custom</p>"
        assert ctl(d, "GET", "/sub/page.html").body == b"<p>sub</p>"
        assert len(ctl(d, "GET", "/ok.txt").body) == 4 * 1024 * 1024
        for path in ["/link.txt", "/linkdir/secret.txt", "/fifo.txt", "/big.txt", "/data.bin",
                     "/sub/", "/js/main.js"]:
            r = ctl(d, "GET", path)
            assert r.status == 404, (path, r)
        assert "static refused" in d.wait_log("static refused")
    finally:
        d.stop(check=True)


def test_static_dir_off_and_relative_refused(tmp_path, webui_redis):
    d = start(tmp_path / "off", webui_redis, 'static_dir = "";\n')
    try:
        assert ctl(d, "GET", "/").status == 404
        assert ctl(d, "GET", "/ping").status == 200
    finally:
        d.stop(check=True)
    d = Daemon(tmp_path / "rel", redis=webui_redis, local={}, count=1)
    d.write_local("worker-controller.inc",
                  f'bind_socket = "127.0.0.1:{d.controller_port}";\nstatic_dir = "ui";\n')
    d.start()
    try:
        d.wait_log("static_dir: expected an absolute directory name")
    finally:
        d.stop(check=False)


# --------------------------------------------------------------------------
# the browser


def playwright_core():
    env = os.environ.get("WINNOW_PLAYWRIGHT_CORE")
    candidates = [Path(env)] if env else []
    candidates += [ROOT / "tests" / ".cache" / "browser" / "node_modules" / "playwright-core",
                   ROOT / "tests" / ".cache" / "node_modules" / "playwright-core"]
    for c in candidates:
        if (c / "package.json").is_file():
            return c
    return None


def browser_requirements():
    """(node, playwright-core dir, chromium) or a reason to skip."""
    node = shutil.which("node")
    if node is None:
        return None, "node is not installed (scripts/install-deps installs nodejs)"
    pw = playwright_core()
    if pw is None:
        return None, ("playwright-core not found: set WINNOW_PLAYWRIGHT_CORE or run make check, "
                      "which npm-installs it into tests/.cache/browser")
    chromium = os.environ.get("WINNOW_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        return None, f"{chromium} not found (Debian package chromium; scripts/install-deps)"
    return (node, pw, chromium), None


class Browser:
    """tests/browser/webui.mjs as a subprocess, one JSON command per line."""

    def __init__(self, node, pw, chromium, artifacts):
        self.artifacts = artifacts
        env = dict(os.environ, WINNOW_PLAYWRIGHT_CORE=str(pw), WINNOW_CHROMIUM=chromium,
                   WINNOW_WEBUI_ARTIFACTS=str(artifacts))
        for k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "LD_PRELOAD"):
            env.pop(k, None)
        self.stderr = open(artifacts / "webui-driver.stderr", "wb")
        self.proc = subprocess.Popen([node, str(DRIVER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env)
        self.next_id = 0
        self.buf = b""

    def __call__(self, cmd, timeout=60, **args):
        self.next_id += 1
        self.proc.stdin.write((json.dumps({"id": self.next_id, "cmd": cmd, **args}) + "\n").encode())
        self.proc.stdin.flush()
        line = self._readline(timeout)
        reply = json.loads(line)
        assert reply["id"] == self.next_id, reply
        if not reply["ok"]:
            raise AssertionError(f"browser command {cmd} {args} failed:\n{reply['error']}")
        return reply["result"]

    def _readline(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"browser driver silent for {timeout}s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("browser driver exited:\n" + self.driver_log())
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def driver_log(self):
        self.stderr.flush()
        return (self.artifacts / "webui-driver.stderr").read_text(errors="replace")[-4000:]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"cmd":"quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


@pytest.fixture(scope="module")
def browser():
    req, why = browser_requirements()
    if req is None:
        # CI installs all of it (scripts/install-deps, scripts/check): there
        # a missing piece is a failure, not a reason to skip.
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    b = Browser(*req, artifacts_dir())
    yield b
    b.close()


def url(d):
    return f"http://127.0.0.1:{d.controller_port}/"


def api(d, path, password=ENABLE_PW):
    r = ctl(d, "GET", path, password=password)
    assert r.status == 200, (path, r)
    return r.json()


def test_login_wrong_then_right(wd, browser):
    assert browser("open", url=url(wd))["view"] == "login"
    r = browser("login", password="not-the-password")
    assert r["view"] == "login"
    assert r["error"] == "Wrong password."
    browser("screenshot", name="login.png")
    r = browser("login", password=ENABLE_PW)
    assert r["view"] == "app", r
    assert r["mode"] == "full access"
    assert r["logout_visible"]
    st = browser("state")
    assert st["stored_password"] and not st["readonly"]
    assert not st["learn_spam_disabled"] and not st["learn_ham_disabled"]
    # A reload keeps the session (sessionStorage), without a new login.
    assert browser("reload")["view"] == "app"


def test_status_counters_follow_scans(wd, browser):
    browser("tab", name="status")
    scanned = api(wd, "/stat")["scanned"]
    text = browser("wait_text", selector="#stat-scanned", pattern=f"^{scanned:,}$")
    assert text == f"{scanned:,}"
    files = sorted(MESSAGES.glob("*.eml"))
    for f in files:
        assert wd.scan(f).status == 200
    want = scanned + len(files)
    assert api(wd, "/stat")["scanned"] == want
    # The page refreshes every 5 s by itself.
    browser("wait_text", selector="#stat-scanned", pattern=f"^{want:,}$", timeout=20000)
    stat = api(wd, "/stat")
    legend = browser("text", selector="#actions-chart")
    for name, label in [("no action", "Clean"), ("reject", "Rejected")]:
        assert f"{label}: {stat['actions'][name]:,}" in legend, legend
    health = ctl(wd, "GET", "/status", password=ENABLE_PW)
    if health.status == 200:
        state = health.json()["redis"]["state"]
        assert browser("wait_text", selector="[data-testid=health-redis]", pattern=state) == state
    else:
        browser("wait_visible", selector="[data-testid=health-unavailable]")
    graph = ctl(wd, "GET", "/graph?type=hour", password=ENABLE_PW)
    if graph.status == 200:
        # The chart reloads every 30 s by itself; now, to picture the scans.
        browser("click", selector="#status-refresh")
        browser("wait_visible", selector="#throughput-chart svg, [data-testid=chart-empty]")
    else:
        browser("wait_visible", selector="[data-testid=throughput-unavailable]")
    browser("screenshot", name="status.png")


def test_history_row_explains_the_verdict(wd, browser):
    browser("tab", name="history")
    rows = api(wd, "/history")["rows"]
    assert rows, "no history rows: is history on?"
    shown = browser("history_rows")
    assert [r["message_id"] for r in shown] == [r["message-id"] for r in rows]
    browser("screenshot", name="history.png")
    # The row with the most symbols that carry a score.
    index = max(range(len(rows)),
                key=lambda i: sum(1 for s in rows[i]["symbols"].values() if s["score"]))
    row = rows[index]
    described = {rule["symbol"]: rule["description"]
                 for g in api(wd, "/symbols") for rule in g["rules"]}
    ex = browser("open_history_row", index=index, keyboard=True)
    assert ex["action"] == row["action"]
    assert f"{row['score']:.2f}" in ex["score"]
    names = [s["name"] for s in ex["symbols"]]
    assert sorted(names) == sorted(row["symbols"])
    scores = [s["score"] for s in ex["symbols"]]
    assert scores == sorted(scores, reverse=True), "symbols not sorted by score"
    for s in ex["symbols"]:
        assert s["score"] == pytest.approx(row["symbols"][s["name"]]["score"], abs=0.005)
        assert s["description"] == described.get(s["name"], ""), s
    assert any(s["description"] for s in ex["symbols"]), "no description shown"
    for t in ex["thresholds"]:
        value = next(a["value"] for a in api(wd, "/actions") if a["action"] == t["action"])
        assert t["crossed"] == (row["score"] >= value), t
    browser("screenshot", name="explanation.png")
    browser("close_explain")


def test_scan_through_the_page(wd, browser):
    browser("tab", name="scan")
    browser("set_message", file=str(MESSAGES / "gtube.eml"))
    r = browser("scan")
    assert r["ok"], r
    assert r["action"] == "reject"
    assert "GTUBE" in [s["name"] for s in r["symbols"]]
    assert any(t["action"] == "reject" and t["crossed"] for t in r["thresholds"])
    browser("screenshot", name="scan.png")


def test_learn_spam_through_the_page(wd, browser):
    probe = ctl(wd, "POST", "/learnham", b"From: a@b\r\n\r\nprobe\r\n", password=ENABLE_PW)
    if probe.status == 503:
        pytest.skip("learning unavailable in this build: " + probe.body.decode(errors="replace"))
    before = api(wd, "/stat")["learned"]
    browser("tab", name="scan")
    browser("set_message", file=str(MESSAGES / "html-only.eml"))
    r = browser("learn", spam=True)
    assert r["outcome"] == "success", r
    assert r["text"].startswith("Learned as spam."), r
    assert api(wd, "/stat")["learned"] == before + 1
    assert f"Messages learned: {before + 1:,}" in r["text"]
    browser("screenshot", name="learn.png")
    again = browser("learn", spam=True)
    assert again["outcome"] == "error"
    assert "already learned" in again["text"], again
    # And the status page shows the new count.
    browser("tab", name="status")
    browser("wait_text", selector="#stat-learned", pattern=f"^{before + 1:,}$")


def test_configuration_view(wd, browser):
    browser("tab", name="config")
    dump = ctl(wd, "GET", "/configdump", password=ENABLE_PW)
    if dump.status != 200:
        text = browser("wait_text", selector="#config-error", pattern="Not available|unavailable")
        assert text
        return
    browser("wait_visible", selector="[data-testid=config-node]")
    browser("click", selector="#config-expand")
    leaf = browser("text", selector="[data-testid=config-leaf][data-key=enable_password]")
    assert leaf == 'enable_password = <hidden>', leaf
    browser("screenshot", name="config.png")
    browser("click", selector="#config-collapse")
    browser("click", selector="#config-raw")
    text = browser("wait_text", selector="#config-text", pattern="<hidden>")
    assert READ_PW not in text and ENABLE_PW not in text
    assert json.loads(text) == dump.json()
    browser("screenshot", name="config-text.png")
    browser("click", selector="#config-raw")


def test_read_only_session(wd, browser):
    browser("click", selector="#logout")
    assert browser("view")["view"] == "login"
    assert not browser("state")["stored_password"]
    r = browser("login", password=READ_PW)
    assert r["view"] == "app" and r["mode"] == "read-only", r
    browser("tab", name="scan")
    st = browser("state")
    assert st["readonly"] and st["learn_spam_disabled"] and st["learn_ham_disabled"]
    assert not st["scan_disabled"]
    assert browser("visible", selector="#learn-readonly")
    browser("screenshot", name="readonly.png")
    # Enabled behind the page's back, the daemon still refuses, and the
    # page says so.
    learned = api(wd, "/stat")["learned"]
    browser("set_message", file=str(MESSAGES / "multipart-alt.eml"))
    r = browser("learn", spam=True, force=True)
    assert r["outcome"] == "error", r
    assert "enable password" in r["text"] and "read-only" in r["text"], r
    assert api(wd, "/stat")["learned"] == learned


def test_trusted_loopback_needs_no_login(tmp_path, webui_redis, browser):
    d = start(tmp_path / "open", webui_redis)
    try:
        assert browser("open", url=url(d))["view"] == "app"
        st = browser("state")
        assert st["mode"] == "trusted address" and not st["logout_visible"]
        assert not st["learn_spam_disabled"]
    finally:
        browser("close")
        d.stop(check=True)


def test_no_foreign_requests_and_no_page_errors(browser):
    rep = browser("report")
    assert rep["foreign_requests"] == []
    assert rep["page_errors"] == []
    assert rep["console_errors"] == []


def test_lockout_is_shown(wd, browser):
    """Last: this locks 127.0.0.1 out of wd for a minute."""
    assert browser("open", url=url(wd))["view"] == "login"
    for _ in range(10):
        r = browser("login", password="wrong-again")
        if "Locked out" in r["error"]:
            break
        assert r["error"] == "Wrong password.", r
    assert r["error"].startswith("Locked out after too many failed attempts: retry in "), r
    assert r["error"].endswith(" s."), r
    browser("screenshot", name="lockout.png")
