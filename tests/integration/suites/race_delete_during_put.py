"""Deterministic 409 ConditionalRequestConflict (spec D3, R-X2, R-X3): a conditional PUT sends its
request head and half its body on a raw socket, another request commits meanwhile, then the rest
of the body is sent and the PUT is decided at commit:

* If-None-Match: * on an existing key, DELETE committed meanwhile -> 409 (Condition
  If-None-Match, Key); also with a delete marker in a versioned bucket.
* If-Match: E, the key rewritten with identical bytes (same ETag E) meanwhile -> 409 (If-Match).
* If-Match: E, the key deleted meanwhile -> 404 NoSuchKey (R-M6 / R-X3 order: 404 first).
* Control: nothing happens meanwhile -> 200.
Every socket read is bounded by a timeout.
"""

import time

import lib
import s3raw

r = lib.Reporter("race_delete_during_put")
BODY = b"0123456789abcdefghij"   # 20 bytes, sent in two halves
SETTLE = 0.4                     # seconds for the server to take in the request head


def slow_put(bucket, key, headers, meanwhile):
    """PUT with the body split around `meanwhile()` (which runs another request)."""
    sock = lib.connect(timeout=15)
    try:
        head = f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{lib.port()}\r\n"
        for name, value in headers.items():
            head += f"{name}: {value}\r\n"
        head += f"Content-Length: {len(BODY)}\r\n\r\n"
        sock.sendall(head.encode() + BODY[:10])
        time.sleep(SETTLE)
        side = meanwhile()
        time.sleep(0.05)
        sock.sendall(BODY[10:])
        resp, _ = lib.read_response(sock)
        return side, resp
    finally:
        sock.close()


def check(what, resp, status, code, condition=None, key=None):
    body = resp.body
    ok = resp.status == status and f"<Code>{code}</Code>".encode() in body
    if condition:
        ok = ok and f"<Condition>{condition}</Condition>".encode() in body
    if key:
        ok = ok and f"<Key>{key}</Key>".encode() in body
    r.check(what, ok, f"expected {status} {code} {condition or ''}, got {resp.status} {body!r}")


def main():
    b, vb = "race-del", "race-del-v"
    r.eq("CreateBucket", 200, s3raw.create_bucket(b).status)
    r.eq("CreateBucket versioned", 200, s3raw.create_bucket(vb).status)
    r.eq("versioning on", 200, s3raw.enable_versioning(vb).status)

    # 1. If-None-Match: * on an existing key, DELETE meanwhile -> 409.
    s3raw.put(b, "k1", "old")
    side, resp = slow_put(b, "k1", {"If-None-Match": "*"}, lambda: s3raw.delete(b, "k1"))
    r.eq("D3 the DELETE committed meanwhile", 204, side.status)
    check("D3 If-None-Match:* + DELETE during body -> 409", resp, 409,
          "ConditionalRequestConflict", "If-None-Match", "k1")
    r.eq("D3 after the 409 the key is still absent", 404, s3raw.head(b, "k1").status)
    r.eq("D3 a retry succeeds", 200, s3raw.put(b, "k1", BODY, {"If-None-Match": "*"}).status)

    # 1b. versioned bucket: the DELETE makes a delete marker -> 409 as well.
    s3raw.put(vb, "k1", "old")
    side, resp = slow_put(vb, "k1", {"If-None-Match": "*"}, lambda: s3raw.delete(vb, "k1"))
    r.eq("D3 versioned: delete marker created meanwhile", "true",
         side.header("x-amz-delete-marker"))
    check("D3 versioned If-None-Match:* + delete marker during body -> 409", resp, 409,
          "ConditionalRequestConflict", "If-None-Match", "k1")

    # 2. If-Match: E, identical rewrite meanwhile -> 409.
    put = s3raw.put(b, "k2", "same bytes")
    etag = put.header("etag")
    side, resp = slow_put(b, "k2", {"If-Match": etag}, lambda: s3raw.put(b, "k2", "same bytes"))
    r.eq("R-M5 analogue: identical rewrite has the same ETag", etag, side.header("etag"))
    check("D3 If-Match + identical rewrite during body -> 409", resp, 409,
          "ConditionalRequestConflict", "If-Match", "k2")
    r.eq("D3 after the 409 the rewrite stays", b"same bytes", s3raw.get(b, "k2").body)

    # 3. If-Match: E, DELETE meanwhile -> 404 NoSuchKey.
    put = s3raw.put(b, "k3", "to delete")
    side, resp = slow_put(b, "k3", {"If-Match": put.header("etag")},
                          lambda: s3raw.delete(b, "k3"))
    r.eq("D3 the DELETE committed meanwhile (k3)", 204, side.status)
    check("D3 If-Match + DELETE during body -> 404 NoSuchKey", resp, 404, "NoSuchKey", key="k3")

    # 4. Control: a slow conditional PUT with nothing happening meanwhile succeeds.
    put = s3raw.put(b, "k4", "v1")
    side, resp = slow_put(b, "k4", {"If-Match": put.header("etag")},
                          lambda: s3raw.head(b, "k4"))
    r.eq("control: slow If-Match PUT with a HEAD meanwhile -> 200", 200, resp.status)
    r.eq("control: body stored", BODY, s3raw.get(b, "k4").body)


r.run("delete during put", main)
r.finish()
