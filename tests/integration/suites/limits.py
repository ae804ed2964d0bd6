# ifmatch-flags: --idle-timeout 2 --max-connections 6
"""Limits and time-outs (wire.md §5.3-§5.4, §7): oversized header sections, a 6 GiB declared PUT,
a stalled body, a silent header sender, the connection cap, a short body, long keys and large
metadata. Each must answer the S3 error (or drop the connection) without crash, leak or hang.
Runs in open mode with a 2 s idle time-out and at most 6 connections."""
import socket
import time
import xml.etree.ElementTree as ET

import lib

r = lib.Reporter("limits")
B = "limits"
PORT = lib.port()


def req(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n"
    for k, v in headers:
        head += f"{k}: {v}\r\n"
    return head.encode() + b"\r\n" + body


def code(resp):
    import re
    m = re.search(rb"<Code>([^<]*)</Code>", resp.body)
    return m.group(1).decode() if m else None


def closed_after(sock, wait=3.0):
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


resp = lib.raw_exchange(req("PUT", f"/{B}", [("Content-Length", "0")]))
r.eq("create bucket", 200, resp.status)

# Header section limit: 64 KiB. 40 KiB of headers pass, 80 KiB give 400.
resp = lib.raw_exchange(req("GET", f"/{B}?list-type=2", [("x-pad", "a" * 40000)]))
r.eq("40 KiB header section is accepted", 200, resp.status)
resp = lib.raw_exchange(req("GET", f"/{B}?list-type=2", [("x-pad", "a" * 80000)]))
r.eq("80 KiB header section -> 400 RequestHeaderSectionTooLarge",
     (400, "RequestHeaderSectionTooLarge"), (resp.status, code(resp)))

# The head limit (README, Limits) is the same however the bytes arrive: 65,536 bytes from the
# request line to the empty line pass, one more byte is refused, sent in one piece, in 1 KiB
# pieces or as 40 KiB then the rest; the client that sends everything before reading sees the
# answer. Also the case: a 116 KiB head passed when its first piece was large.
def head_of(size, fields=False):
    head = f"GET /{B}?list-type=2 HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n".encode()
    if fields:  # many short fields, so that Beast parses some of them before the rest arrives
        i = 0
        while len(head) + 60 < size:
            head += b"x-f%05d: %s\r\n" % (i, b"b" * 16)
            i += 1
    head += b"x-pad: " + b"a" * (size - len(head) - 7 - 4) + b"\r\n\r\n"
    assert len(head) == size, (len(head), size)
    return head


def send_in_pieces(data, piece):
    with lib.connect(timeout=5) as s:
        for i in range(0, len(data), piece):
            s.sendall(data[i:i + piece])
            if piece < len(data):
                time.sleep(0.001)
        resp, _ = lib.read_response(s)
        return resp.status, code(resp)


for fields in (False, True):
    shape = "many fields" if fields else "one long field"
    for size, want in ((65536, (200, None)), (65537, (400, "RequestHeaderSectionTooLarge"))):
        data = head_of(size, fields)
        got = {}
        for piece in (size, 1024, 40 * 1024):
            try:
                got[piece] = send_in_pieces(data, piece)
            except OSError as e:
                got[piece] = repr(e)
        r.eq(f"{size}-byte head ({shape}) -> {want[0]} in one piece, 1 KiB pieces and 40 KiB + rest",
             {p: want for p in got}, got)
big = head_of(116 * 1024, True)
for piece in (len(big), 65536, 1024):
    try:
        got = send_in_pieces(big, piece)
    except OSError as e:
        got = repr(e)
    r.eq(f"116 KiB head in pieces of {piece} -> 400 RequestHeaderSectionTooLarge",
         (400, "RequestHeaderSectionTooLarge"), got)

# 6 GiB declared, nothing sent: answered at once, connection closed, nothing read.
with lib.connect() as s:
    t0 = time.monotonic()
    s.sendall(req("PUT", f"/{B}/huge", [("Content-Length", str(6 << 30))]))
    resp, _ = lib.read_response(s)
    r.eq("6 GiB PUT -> 400 EntityTooLarge", (400, "EntityTooLarge"), (resp.status, code(resp)))
    r.check("EntityTooLarge comes without waiting for the body", time.monotonic() - t0 < 1.5)
    r.check("connection closed after EntityTooLarge", closed_after(s))

# A stalled body: RequestTimeout after the idle time-out, then the connection closes.
with lib.connect() as s:
    s.sendall(req("PUT", f"/{B}/stall", [("Content-Length", "100")], b"only ten b"))
    t0 = time.monotonic()
    resp, _ = lib.read_response(s)
    took = time.monotonic() - t0
    r.eq("stalled body -> 400 RequestTimeout", (400, "RequestTimeout"), (resp.status, code(resp)))
    r.check("RequestTimeout after about the idle time-out", 1.5 < took < 6, took)
resp = lib.raw_exchange(req("HEAD", f"/{B}/stall"), head_request=True)
r.eq("no object after a stalled body", 404, resp.status)

# A silent (or slow) header sender is dropped after the idle time-out.
with lib.connect() as s:
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    r.check("slow header sender is dropped", closed_after(s, 6))
    r.check("dropped after about the idle time-out", time.monotonic() - t0 < 5.5)

# Content-Length larger than the body, then the client closes: no object.
with lib.connect() as s:
    s.sendall(req("PUT", f"/{B}/short", [("Content-Length", "1000")], b"x" * 10))
    s.shutdown(socket.SHUT_WR)
    try:
        resp, _ = lib.read_response(s)
        r.check("short body answered 400 IncompleteBody (or closed)",
                (resp.status, code(resp)) == (400, "IncompleteBody"), resp)
    except ConnectionError:
        r.ok("short body: connection closed")
time.sleep(0.2)
resp = lib.raw_exchange(req("HEAD", f"/{B}/short"), head_request=True)
r.eq("no object after a short body", 404, resp.status)

# Key length and metadata size.
resp = lib.raw_exchange(req("PUT", f"/{B}/" + "k" * 1024, [("Content-Length", "1")], b"x"))
r.eq("1024-byte key is accepted", 200, resp.status)
resp = lib.raw_exchange(req("PUT", f"/{B}/" + "k" * 1025, [("Content-Length", "1")], b"x"))
r.eq("1025-byte key -> KeyTooLongError", (400, "KeyTooLongError"), (resp.status, code(resp)))
resp = lib.raw_exchange(req("PUT", f"/{B}/meta", [("Content-Length", "1"),
                                                   ("x-amz-meta-big", "v" * 2045)], b"x"))
r.eq("2 KiB of metadata (name + value) is accepted", 200, resp.status)
resp = lib.raw_exchange(req("PUT", f"/{B}/meta2", [("Content-Length", "1"),
                                                    ("x-amz-meta-big", "v" * 2046)], b"x"))
r.eq("metadata above 2 KiB -> MetadataTooLarge", (400, "MetadataTooLarge"),
     (resp.status, code(resp)))

# Connection cap: 6 open connections, the 7th gets 503 SlowDown.
held = []
# The sessions of the exchanges above end when the server reads their close; let them all end so
# the six below are the only open connections.
time.sleep(0.5)
try:
    for _ in range(6):
        held.append(lib.connect())
    time.sleep(0.3)
    with lib.connect() as s:
        # The answer comes on accept; sending first could race the close into a reset.
        resp, _ = lib.read_response(s)
        r.eq("connection over the cap -> 503 SlowDown", (503, "SlowDown"),
             (resp.status, code(resp)))
        # Like every other error: request id and host id in the XML and in the headers.
        rid = resp.header("x-amz-request-id")
        r.check("SlowDown has x-amz-request-id and x-amz-id-2 headers",
                rid and resp.header("x-amz-id-2") and resp.header("date"), resp.headers)
        try:
            doc = ET.fromstring(resp.body)
        except ET.ParseError as e:
            doc = None
            r.fail("SlowDown body is well-formed XML", f"{e}: {resp.body!r}")
        if doc is not None:
            r.eq("SlowDown XML: RequestId equals x-amz-request-id, HostId present",
                 (rid, True), (doc.findtext("RequestId"), bool(doc.findtext("HostId"))))
            r.check("SlowDown XML has a Message", doc.findtext("Message"), resp.body)
        r.eq("SlowDown closes the connection", "close", resp.header("connection"))
finally:
    for s in held:
        s.close()
time.sleep(0.5)
resp = lib.raw_exchange(req("GET", "/_ifmatch/health"))
r.eq("server serves again after the cap is released", 200, resp.status)
r.check("server still running", lib.server_running())
r.finish()
