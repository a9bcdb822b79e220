"""End-to-end harness: real winnowd, real redis-server, real clients, loopback only.

Run with Debian's interpreter: `/usr/bin/python3 -m pytest tests/e2e` (make check
does).  WINNOW_BUILD names the build directory (default `build`); WINNOW_CORPUS
the SpamAssassin corpus directory (scripts/check installs it from npm).

Each Daemon gets a private copy of etc/ (so local.d files written by a test
never leak into another), its own DBDIR/RUNDIR/LOGDIR, a redis-server on a unix
socket, and free 127.0.0.1 ports for every worker.  Stopping it asserts a clean
exit and no sanitizer report in its stderr or log.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MESSAGES = FIXTURES / "messages"
BUILD = Path(os.environ.get("WINNOW_BUILD", "build"))
if not BUILD.is_absolute():
    BUILD = ROOT / BUILD

WINNOWD = BUILD / "src" / "daemon" / "winnowd"
WINNOWC = BUILD / "src" / "cli" / "winnowc"
WINNOWADM = BUILD / "src" / "cli" / "winnowadm"

# A daemon under ASan starts and scans several times slower than a plain one.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                     "UndefinedBehaviorSanitizer")

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def sanitizer_env():
    """Environment for every process we start: sanitizer options stay as
    make check set them, with defaults when pytest is run by hand."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    supp = ROOT / "tests" / "lsan.supp"
    if supp.exists():
        env.setdefault("LSAN_OPTIONS", f"suppressions={supp}:print_suppressions=0")
    return env


def binary(path):
    """A build product the tests need.  Missing means the build is broken:
    that fails the test rather than skipping it."""
    if not path.exists():
        pytest.fail(f"{path} not built (WINNOW_BUILD={BUILD})")
    return str(path)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sanitizer_reports(text):
    return [line for line in text.splitlines()
            if any(m in line for m in SANITIZER_MARKERS)]


def run(args, timeout=60, **kw):
    """Runs a command line tool with the sanitizer environment; returns the
    CompletedProcess (stdout/stderr as text).  A sanitizer report in its
    output fails the calling test."""
    kw.setdefault("env", sanitizer_env())
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       errors="replace", timeout=timeout, **kw)
    bad = sanitizer_reports(p.stderr) + sanitizer_reports(p.stdout)
    assert not bad, f"sanitizer report from {args[0]}:\n{p.stderr[-4000:]}"
    return p


# --------------------------------------------------------------------------
# redis


class Redis:
    def __init__(self, workdir):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sock = self.dir / "redis.sock"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.sock),
             "--unixsocketperm", "770", "--dir", str(self.dir), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", str(self.dir / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start: {(self.dir / 'redis.log').read_text()}")

    def ping(self):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1)
                s.connect(str(self.sock))
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def redis(tmp_path_factory):
    r = Redis(tmp_path_factory.mktemp("redis"))
    yield r
    r.stop()


# --------------------------------------------------------------------------
# HTTP


class Reply:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Reply {self.status} {self.reason} {self.body[:200]!r}>"


def http_request(port, method, path, body=b"", headers=(), timeout=60):
    """One request on a fresh connection.  headers is a sequence of (name,
    value) pairs so a name can repeat (Rcpt)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if method != "GET" or body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        return Reply(resp.status, resp.reason, resp.getheaders(), resp.read())
    finally:
        conn.close()


def recv_all(s, timeout=10):
    """Everything the peer sends until it closes (or resets, or times out)."""
    s.settimeout(timeout)
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def raw_request(port, data, timeout=10):
    """Sends raw bytes, half-closes, and returns everything the server sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return recv_all(s, timeout)


def parse_raw_reply(data):
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    return int(parts[1]), body


# --------------------------------------------------------------------------
# the daemon


def proc_children(pid):
    """PIDs whose parent is pid (from /proc)."""
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ..." - comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            kids.append(int(d.name))
    return sorted(kids)


def proc_title(pid):
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


class Daemon:
    """A winnowd with its own configuration directory.

    local: {"name.conf": "text"} written into etc/local.d/ on top of the
    harness' own files (worker ports, redis, logging); a file given here
    replaces the harness' file of the same name.
    """

    def __init__(self, tmp, redis=None, local=None, override=None, count=2):
        self.tmp = Path(tmp)
        self.etc = self.tmp / "etc"
        self.conf = self.etc / "winnow.conf"
        self.var = self.tmp / "var"
        self.dbdir, self.rundir, self.logdir = (self.var / d for d in ("lib", "run", "log"))
        shutil.copytree(ROOT / "etc", self.etc, dirs_exist_ok=True)
        for d in (self.dbdir, self.rundir, self.logdir, self.etc / "local.d", self.etc / "override.d"):
            d.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.controller_port = free_port()
        self.proxy_port = free_port()
        self.logfile = self.logdir / "winnow.log"
        self.stderr_path = self.tmp / "winnowd.stderr"
        files = {
            "worker-normal.inc": f'bind_socket = "127.0.0.1:{self.port}";\ncount = {count};\n',
            "worker-controller.inc": f'bind_socket = "127.0.0.1:{self.controller_port}";\n',
            "worker-proxy.inc": f'bind_socket = "127.0.0.1:{self.proxy_port}";\n',
            "logging.inc": f'type = "file";\nfilename = "{self.logfile}";\nlevel = "info";\n',
        }
        if redis is not None:
            files["redis.conf"] = f'servers = "unix:{redis.sock}";\n'
        files.update(local or {})
        for name, text in files.items():
            self.write_local(name, text)
        for name, text in (override or {}).items():
            (self.etc / "override.d" / name).write_text(text)
        self.proc = None
        self._stderr = None
        self.ready = False       # answered /ping once; a failed start is reported there

    def vars(self):
        # WWWDIR: the web interface straight from the source tree (ui/).
        return ["--var", f"DBDIR={self.dbdir}", "--var", f"RUNDIR={self.rundir}",
                "--var", f"LOGDIR={self.logdir}", "--var", f"WWWDIR={ROOT / 'ui'}"]

    def write_local(self, name, text):
        (self.etc / "local.d" / name).write_text(text)

    def configtest(self):
        return run([binary(WINNOWD), "-t", "-c", self.conf] + self.vars())

    def adm(self, command, *args):
        """winnowadm [--var ...] COMMAND -c CONF ARGS (global options first,
        as with rspamadm)."""
        return run([binary(WINNOWADM)] + self.vars() + [command, "-c", self.conf] + list(args))

    # -- life cycle

    def start(self):
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [binary(WINNOWD), "-f", "-c", str(self.conf)] + self.vars(),
            stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
            env=sanitizer_env(), cwd=self.tmp)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"winnowd exited with {self.proc.returncode} while starting:\n{self.output()[-4000:]}")
            try:
                r = http_request(self.port, "GET", "/ping", timeout=5)
                if r.status == 200 and r.body.strip() == b"pong":
                    self.ready = True
                    return
                last = r
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise AssertionError(f"winnowd not answering /ping on {self.port}: {last}\n{self.output()[-4000:]}")

    def stop(self, check=True):
        """SIGTERM, wait, and (check=True) assert a clean exit and no
        sanitizer report.  Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                for pid in self.workers():
                    os.kill(pid, signal.SIGKILL)
                self.proc.kill()
                self.proc.wait()
                if check:
                    raise AssertionError(f"winnowd did not stop within {STOP_TIMEOUT}s of SIGTERM")
        self._stderr.close()
        status = self.proc.returncode
        # Workers must not outlive the main process.
        time.sleep(0.2)
        if check and self.ready:
            assert status == 0, f"winnowd exited with {status}:\n{self.output()[-4000:]}"
            self.assert_no_sanitizer_reports()
        return status

    def assert_no_sanitizer_reports(self):
        bad = sanitizer_reports(self.output())
        assert not bad, "sanitizer report:\n" + self.output()[-8000:]

    # -- observation

    def output(self):
        """stderr of every process of the daemon plus its log file."""
        text = ""
        if self.stderr_path.exists():
            text += self.stderr_path.read_text(errors="replace")
        if self.logfile.exists():
            text += self.logfile.read_text(errors="replace")
        return text

    def log(self):
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""

    def wait_log(self, needle, timeout=20, start=0):
        """Waits until needle appears in the log (or stderr) after offset
        start; returns the text."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.output()
            if needle in text[start:]:
                return text
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} not logged within {timeout}s:\n{self.output()[-4000:]}")

    def workers(self):
        return proc_children(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def controller(self, method, path, body=b"", password=None, headers=()):
        """One request to the controller, with the Password header when given."""
        hs = list(headers) + ([("Password", password)] if password is not None else [])
        return http_request(self.controller_port, method, path, body, hs)

    def wait_controller(self, timeout=START_TIMEOUT):
        """Waits until the controller answers /ping (it starts after the
        scanners, which wait_ready() waits for); returns self."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.controller("GET", "/ping").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("controller not answering:\n" + self.output()[-3000:])

    def scanner_workers(self):
        return [p for p in self.workers() if "normal" in proc_title(p)]

    # -- scanning

    def scan(self, message, headers=(), path="/checkv2", timeout=60):
        body = message if isinstance(message, bytes) else Path(message).read_bytes()
        return http_request(self.port, "POST", path, body, headers, timeout=timeout)

    def scan_json(self, message, headers=()):
        r = self.scan(message, headers)
        assert r.status == 200, r
        return r.json()

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        # On a test failure still stop, but do not mask the original error.
        self.stop(check=exc_type is None)


def controller_daemon(tmp, redis, extra="", count=1, local=None):
    """A started Daemon whose local.d/worker-controller.inc is the harness'
    bind_socket plus `extra` (passwords, secure_ip ...), its controller
    answering."""
    d = Daemon(tmp, redis=redis, local=dict(local or {}), count=count)
    d.write_local("worker-controller.inc",
                  f'bind_socket = "127.0.0.1:{d.controller_port}";\n{extra}')
    d.start()
    return d.wait_controller()


@pytest.fixture
def make_daemon(tmp_path, redis):
    """Factory: make_daemon(local={...}) -> started Daemon, stopped (and
    checked) at the end of the test."""
    started = []

    def factory(local=None, override=None, count=2, start=True):
        d = Daemon(tmp_path / f"d{len(started)}", redis=redis, local=local,
                   override=override, count=count)
        started.append(d)
        return d.start() if start else d

    yield factory
    errors = []
    for d in started:
        try:
            d.stop(check=True)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, redis):
    """One shared daemon with the shipped configuration, for tests that only
    scan.  Checked for a clean exit when the module's tests are done."""
    d = Daemon(tmp_path_factory.mktemp("daemon"), redis=redis)
    d.start()
    yield d
    d.stop(check=True)


def message_files():
    return sorted(MESSAGES.glob("*.eml"))


def corpus_dir():
    p = os.environ.get("WINNOW_CORPUS")
    if p:
        return Path(p)
    return ROOT / "tests" / ".cache" / "node_modules" / "@stdlib" / "datasets-spam-assassin" / "data"


def corpus_files():
    d = corpus_dir()
    if not d.is_dir():
        return []
    return sorted(d.glob("*/*.txt"))
