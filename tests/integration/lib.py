"""Helpers for integration suites written in Python (run.sh puts this directory on PYTHONPATH).

run.sh has already started the server and exported IFMATCH_* (see README.md). Suites may stop,
kill and restart it on the same data directory with stop_server / kill9_server / start_server.
Servers are launched through lib.sh's wrapper, so the live PID is always in $IFMATCH_PIDFILE and
the exit status lands in $IFMATCH_EXITFILE whoever started the process.

Reporter is the assertion helper: every check prints one line, finish() prints
"N passed, M failed" and exits non-zero on any failure (or when nothing was checked).
"""

import os
import re
import socket
import subprocess
import sys
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"lib.py: ${name} is not set; run this suite through tests/integration/run.sh")
    return value


def endpoint():
    return env("IFMATCH_ENDPOINT")


def port():
    return int(env("IFMATCH_PORT"))


def data_dir():
    return env("IFMATCH_DATA")


def scratch_dir():
    path = os.path.join(env("IFMATCH_TMP"), "scratch")
    os.makedirs(path, exist_ok=True)
    return path


def skip(reason):
    """Prints a loud SKIPPED banner and exits 0."""
    bar = "=" * 66
    print(f"{bar}\nSKIPPED: {reason}\n{bar}", flush=True)
    sys.exit(0)


# --- server control ------------------------------------------------------------------------------

def server_pid():
    with open(env("IFMATCH_PIDFILE")) as f:
        return int(f.read().strip())


def server_exit_status():
    """The exit status of the last server, or None while it runs."""
    try:
        with open(env("IFMATCH_EXITFILE")) as f:
            return int(f.read().strip())
    except FileNotFoundError:
        return None


def server_running():
    return os.path.exists(env("IFMATCH_PIDFILE")) and server_exit_status() is None


def health_status():
    """HTTP status of GET /_ifmatch/health, or None when the connection fails."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port()}/_ifmatch/health", timeout=1) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, ValueError):
        return None


def wait_healthy(timeout=10.0):
    """Polls the health endpoint until 200. Raises RuntimeError on timeout or if the server exits."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        status = server_exit_status()
        if status is not None:
            raise RuntimeError(f"server exited with status {status} before becoming healthy")
        last = health_status()
        if last == 200:
            return
        time.sleep(0.05)
    raise RuntimeError(f"no 200 from /_ifmatch/health within {timeout}s (last: {last})")


_launchers = []


def start_server(timeout=10.0):
    """Starts the server on the same port and data directory and waits until it is healthy.
    Returns the new PID."""
    if server_running():
        raise RuntimeError(f"server {server_pid()} is still running")
    for name in ("IFMATCH_PIDFILE", "IFMATCH_EXITFILE"):
        try:
            os.unlink(env(name))
        except FileNotFoundError:
            pass
    launcher = subprocess.Popen(["bash", os.path.join(HERE, "lib.sh"), "__launch"],
                                stdin=subprocess.DEVNULL)
    _launchers.append(launcher)
    deadline = time.monotonic() + 2
    while not os.path.exists(env("IFMATCH_PIDFILE")):
        if time.monotonic() > deadline or launcher.poll() is not None:
            raise RuntimeError("the launcher wrote no PID file")
        time.sleep(0.01)
    pid = server_pid()
    os.environ["IFMATCH_PID"] = str(pid)
    wait_healthy(timeout)
    return pid


def _wait_exit(timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server_exit_status()
        if status is not None:
            for launcher in _launchers:
                launcher.poll()
            return status
        time.sleep(0.02)
    return None


def stop_server(timeout=10.0):
    """Sends SIGTERM and waits for exit. Returns the exit status (0 is a clean shutdown).
    If the server is still running after `timeout` seconds it is SIGKILLed and None is returned."""
    pid = server_pid()
    if server_exit_status() is not None:
        raise RuntimeError(f"server {pid} had already exited with {server_exit_status()}")
    os.kill(pid, 15)
    status = _wait_exit(timeout)
    if status is None:
        os.kill(pid, 9)
        _wait_exit(5)
    return status


def kill9_server():
    """Sends SIGKILL and waits until the process is gone."""
    pid = server_pid()
    os.kill(pid, 9)
    if _wait_exit(10) is None:
        raise RuntimeError(f"server {pid} survived SIGKILL for 10s")


def peak_rss_kib(pid=None):
    """VmHWM of the server from /proc, in KiB."""
    pid = pid or server_pid()
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


# --- raw HTTP ------------------------------------------------------------------------------------

class RawResponse:
    def __init__(self, status, reason, headers, body, raw):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def __repr__(self):
        return f"<RawResponse {self.status} {self.reason} body={self.body[:200]!r}>"


def _read_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


def read_response(sock, buf=b"", head_request=False, interim=False):
    """Reads one HTTP/1.1 response from `sock` (with leftover bytes `buf`).
    Returns (RawResponse, leftover bytes). Handles Content-Length, chunked and read-to-close.
    Interim 1xx responses are skipped unless `interim` is true, when the first one is returned."""
    while True:
        resp, buf = _read_one(sock, buf, head_request)
        if interim or not 100 <= resp.status < 200:
            return resp, buf


def _read_one(sock, buf, head_request):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a full response head: {buf[:300]!r}")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    resp = RawResponse(status, reason, headers, b"", head)
    if head_request or status in (204, 304) or 100 <= status < 200:
        return resp, buf
    te = resp.header("transfer-encoding", "")
    if "chunked" in te.lower():
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536) or b""
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                while b"\r\n" not in buf:
                    buf += sock.recv(65536)
                # Skip trailers up to the empty line.
                while not buf.startswith(b"\r\n"):
                    _, buf = buf.split(b"\r\n", 1)
                    while b"\r\n" not in buf:
                        buf += sock.recv(65536)
                buf = buf[2:]
                break
            buf = _read_exact(sock, buf, size + 2)
            body += buf[:size]
            buf = buf[size + 2:]
        resp.body = body
        return resp, buf
    length = resp.header("content-length")
    if length is not None:
        n = int(length)
        buf = _read_exact(sock, buf, n)
        resp.body, buf = buf[:n], buf[n:]
        return resp, buf
    # No framing: the body runs to the end of the connection.
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    resp.body, buf = buf, b""
    return resp, buf


def connect(timeout=10.0):
    sock = socket.create_connection(("127.0.0.1", port()), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def raw_exchange(data, head_request=False, timeout=10.0):
    """Sends `data` on a fresh connection and returns the first response."""
    with connect(timeout) as sock:
        sock.sendall(data)
        resp, _ = read_response(sock, head_request=head_request)
        return resp


# --- reporting -----------------------------------------------------------------------------------

def _short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


class Reporter:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok   - {what}", flush=True)

    def fail(self, what, detail=""):
        self.failed += 1
        print(f"FAIL - {what}" + (f": {detail}" if detail else ""), flush=True)

    def check(self, what, cond, detail=""):
        if cond:
            self.ok(what)
        else:
            self.fail(what, detail)
        return bool(cond)

    def eq(self, what, expected, actual):
        return self.check(what, expected == actual,
                          f"expected {_short(expected)}, got {_short(actual)}")

    def run(self, what, fn):
        """Runs fn(); an exception is a failure of `what`. Returns fn's result or None."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - any exception fails the step
            self.fail(what, f"{type(e).__name__}: {e}")
            traceback.print_exc(limit=3)
            return None

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)


def wait_for(fn, timeout=8.0, every=0.1):
    """Calls fn() until it answers something true or `timeout` seconds passed; its last answer."""
    deadline = time.monotonic() + timeout
    got = fn()
    while not got and time.monotonic() < deadline:
        time.sleep(every)
        got = fn()
    return got


def error_code(fn):
    """The S3 error code a boto3 call raises (None when it succeeds)."""
    try:
        fn()
        return None
    except Exception as e:  # botocore's ClientError; lib.py does not import botocore
        if not hasattr(e, "response"):
            raise
        return e.response.get("Error", {}).get("Code")


def xml_code(body):
    """The <Code> of an S3 error document (bytes), or None."""
    m = re.search(rb"<Code>([^<]*)</Code>", body)
    return m.group(1).decode() if m else None
