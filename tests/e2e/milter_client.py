"""A milter client speaking protocol version 6 the way Postfix does, for the
end-to-end tests of winnowd's proxy worker.

It offers what Postfix 3.7 offers (actions 0x1FF, protocol flags 0x1FFFFF),
sends the macros of Postfix's defaults, the envelope, the headers one frame
each (folded headers keep their line breaks, as Postfix sends them), the
body in chunks of at most 65535 bytes with CRLF line ends, and reads replies
until a final one (accept, reject, tempfail, discard, reply code).  Every
reply is decoded into a tuple:

    ("h", name, value)          add header
    ("i", index, name, value)   insert header
    ("m", index, name, value)   change header (value "" = delete)
    ("y", text)                 SMTP reply code
    ("q", reason)               quarantine
    ("a",) ("t",) ("d",) ("r",) ("c",) ...
"""

import socket
import struct
import time

FINAL = {"a", "r", "t", "d", "y"}
POSTFIX_ACTIONS = 0x1FF
POSTFIX_PROTOCOL = 0x1FFFFF
CHUNK = 65535


class MilterError(Exception):
    pass


def connect_socket(addr, timeout=60.0, wait=20.0):
    """addr: (host, port) or a unix socket path.  Retries for `wait` seconds
    while the proxy worker starts."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if isinstance(addr, (tuple, list)):
                s = socket.create_connection(tuple(addr), timeout=timeout)
            else:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(timeout)
                s.connect(str(addr))
            return s
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def frame(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd.encode() + data


def cstr(s):
    if isinstance(s, str):
        s = s.encode()
    return s + b"\0"


def decode_reply(cmd, data):
    def strings(d):
        parts = d.split(b"\0")
        return [p.decode("utf-8", "replace") for p in parts[:-1]] if d else []
    if cmd in ("h",):
        name, value = strings(data)[:2]
        return ("h", name, value)
    if cmd in ("i", "m"):
        idx = struct.unpack(">I", data[:4])[0]
        name, value = strings(data[4:])[:2]
        return (cmd, idx, name, value)
    if cmd in ("y", "q", "e", "+", "-"):
        return (cmd,) + tuple(strings(data))
    if cmd == "O":
        return ("O",) + struct.unpack(">III", data[:12])
    return (cmd,)


def split_message(raw):
    """(headers, body) of an RFC 5322 message as Postfix hands them to a
    milter: [(name, value)] with the space after the colon removed and
    continuation lines joined by CRLF; body with CRLF line ends."""
    raw = raw.replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    if not sep:
        head, body = raw, b""
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\r\n" + line)
        elif b":" in line:
            name, _, value = line.partition(b":")
            headers.append((name, value.lstrip(b" ")))
    return headers, body.replace(b"\n", b"\r\n")


class MilterClient:
    def __init__(self, addr, timeout=60.0):
        self.sock = connect_socket(addr, timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- wire

    def send(self, cmd, data=b""):
        self.sock.sendall(frame(cmd, data))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MilterError("connection closed by the filter")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        (length,) = struct.unpack(">I", self._read(4))
        body = self._read(length)
        return decode_reply(chr(body[0]), body[1:])

    def closed_by_peer(self, timeout=10.0):
        """True when the filter closes the connection (EOF) in time."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    # -- commands

    def optneg(self, version=6, actions=POSTFIX_ACTIONS, protocol=POSTFIX_PROTOCOL):
        self.send("O", struct.pack(">III", version, actions, protocol))
        return self.recv()

    def macros(self, stage, pairs):
        data = stage.encode()
        for k, v in pairs.items():
            data += cstr(k) + cstr(v)
        self.send("D", data)

    def connect(self, hostname="client.example.net", addr="192.0.2.1", family="4", port=25):
        if family == "U":
            self.send("C", cstr(hostname) + b"U")
        else:
            self.send("C", cstr(hostname) + family.encode() + struct.pack(">H", port) + cstr(addr))

    def message(self, raw, sender="<sender@example.net>", rcpts=("<rcpt@example.com>",),
                queue_id="4ABC123", macros=None, helo="client.example.net"):
        """MAIL .. end of message for one message; returns the replies up to
        and including the final one."""
        headers, body = split_message(raw)
        self.send("H", cstr(helo))
        m = {"i": queue_id, "{mail_addr}": sender.strip("<>")}
        m.update(macros or {})
        self.macros("M", m)
        self.send("M", cstr(sender))
        for r in rcpts:
            self.macros("R", {"{rcpt_addr}": r.strip("<>")})
            self.send("R", cstr(r))
        self.send("T")
        for name, value in headers:
            self.send("L", cstr(name) + cstr(value))
        self.send("N")
        for off in range(0, len(body), CHUNK):
            self.send("B", body[off:off + CHUNK])
        self.send("E")
        return self.replies()

    def replies(self):
        out = []
        while True:
            r = self.recv()
            out.append(r)
            if r[0] in FINAL:
                return out

    def quit(self):
        self.send("Q")


def scan(addr, raw, connect_macros=None, **kw):
    """One connection, one message, quit: (optneg reply, replies)."""
    with MilterClient(addr) as c:
        neg = c.optneg()
        c.macros("C", connect_macros or {"j": "mx.example.com", "{daemon_name}": "smtpd",
                                         "v": "Postfix 3.7.11"})
        c.connect()
        replies = c.message(raw, **kw)
        c.quit()
        return neg, replies


def added_headers(replies):
    """{name: value} of the h/i replies (the last value of a name)."""
    out = {}
    for r in replies:
        if r[0] == "h":
            out[r[1]] = r[2]
        elif r[0] == "i":
            out[r[2]] = r[3]
    return out
