"""Graceful shutdown (run through ../run.sh).

1. SIGTERM during a slow upload: the server stops accepting, closes idle keep-alive connections
   at once, lets the upload finish (200, Connection: close), then exits 0; after a restart the
   object is there.
2. Idle keep-alive connections do not delay shutdown: SIGTERM with several open -> exit 0 fast.
3. A second SIGTERM exits at once, even with a request in flight (any status is fine).
4. A request still in flight when --shutdown-grace runs out is dropped; the server exits 0.
"""

import os
import socket
import time

import lib

r = lib.Reporter("ops_shutdown")
B = "shutdown"
SIZE = 300_000


def keepalive_conn():
    """A connection that made one request and is now idle, kept alive."""
    s = lib.connect()
    s.sendall(b"GET /_ifmatch/health HTTP/1.1\r\nHost: x\r\n\r\n")
    resp, _ = lib.read_response(s)
    assert resp.status == 200, resp
    return s


def closed_within(sock, seconds):
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def start_slow_put(key):
    s = lib.connect(timeout=30)
    s.sendall(f"PUT /{B}/{key} HTTP/1.1\r\nHost: x\r\nContent-Length: {SIZE}\r\n\r\n".encode())
    s.sendall(b"a" * (SIZE // 3))
    return s


def wait_exit(timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        st = lib.server_exit_status()
        if st is not None:
            return st, time.monotonic() - t0
        time.sleep(0.02)
    return None, timeout


def connect_refused():
    try:
        with socket.create_connection(("127.0.0.1", lib.port()), timeout=1) as s:
            s.sendall(b"GET /_ifmatch/health HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(1)
            return s.recv(100) == b""
    except OSError:
        return True


def graceful():
    os.environ["IFMATCH_SHUTDOWN_GRACE"] = "20"
    r.eq("stop the first server", 0, lib.stop_server())
    lib.start_server()
    st = lib.raw_exchange(f"PUT /{B} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    r.eq("create bucket", 200, st.status)
    idle = keepalive_conn()
    slow = start_slow_put("slow")
    time.sleep(0.3)
    os.kill(lib.server_pid(), 15)
    t_term = time.monotonic()
    r.check("the idle keep-alive connection is closed at once", closed_within(idle, 2))
    r.check("new connections are refused", connect_refused())
    r.eq("still running while the upload is in flight", None, lib.server_exit_status())
    for _ in range(10):
        slow.sendall(b"b" * ((SIZE - SIZE // 3) // 10))
        time.sleep(0.1)
    rest = SIZE - SIZE // 3 - 10 * ((SIZE - SIZE // 3) // 10)
    slow.sendall(b"c" * rest)
    resp, _ = lib.read_response(slow)
    slow.close()
    r.eq("the in-flight upload completes with 200", 200, resp.status)
    r.eq("... and Connection: close", "close", (resp.header("connection") or "").lower())
    status, took = wait_exit(10)
    r.eq("the server exits 0 after the upload", 0, status)
    r.check("... promptly (within 3 s of the response)", took < 3, f"{took:.2f}s")
    print(f"     SIGTERM to exit: {time.monotonic() - t_term:.2f}s (upload took ~1 s of it)")
    lib.start_server()
    head = lib.raw_exchange(f"HEAD /{B}/slow HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                            head_request=True)
    r.eq("after restart the upload is stored with its size", (200, str(SIZE)),
         (head.status, head.header("content-length")))


def idle_only():
    conns = [keepalive_conn() for _ in range(5)]
    os.kill(lib.server_pid(), 15)
    status, took = wait_exit(5)
    r.eq("with 5 idle keep-alive connections: exit 0", 0, status)
    r.check("... within 1 s", took < 1.0, f"{took:.2f}s")
    for c in conns:
        c.close()
    lib.start_server()


def second_signal():
    slow = start_slow_put("never")
    time.sleep(0.3)
    pid = lib.server_pid()
    os.kill(pid, 15)
    time.sleep(0.3)
    r.eq("first SIGTERM waits for the upload", None, lib.server_exit_status())
    os.kill(pid, 15)
    status, took = wait_exit(3)
    r.check("a second SIGTERM exits at once", status is not None and took < 1.0,
            f"status {status} after {took:.2f}s")
    slow.close()
    lib.start_server()
    head = lib.raw_exchange(f"HEAD /{B}/never HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                            head_request=True)
    r.eq("the interrupted upload left nothing", 404, head.status)


def grace_expires():
    """An upload that stalls past --shutdown-grace is dropped; the store still closes cleanly."""
    r.eq("stop before changing the grace period", 0, lib.stop_server())
    os.environ["IFMATCH_SHUTDOWN_GRACE"] = "1"
    lib.start_server()
    slow = start_slow_put("stalled")
    time.sleep(0.3)
    os.kill(lib.server_pid(), 15)
    status, took = wait_exit(5)
    r.eq("a stalled upload past the grace period: exit 0", 0, status)
    r.check("... about when the grace period ends", 0.8 < took < 3, f"{took:.2f}s")
    slow.close()
    os.environ["IFMATCH_SHUTDOWN_GRACE"] = "20"
    lib.start_server()
    head = lib.raw_exchange(f"HEAD /{B}/stalled HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                            head_request=True)
    r.eq("the dropped upload left nothing", 404, head.status)


r.run("graceful", graceful)
r.run("idle", idle_only)
r.run("second signal", second_signal)
r.run("grace expires", grace_expires)
r.finish()
