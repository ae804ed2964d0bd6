"""Durability across restarts (run through ../run.sh), with plain unsigned HTTP (open mode).

1. Objects written before a SIGTERM survive a restart on the same data directory, bytes, ETags,
   Content-Type and metadata intact; the server exits 0 on SIGTERM.
2. Every PUT and DELETE acknowledged before a `kill -9` (sent right after the last 200, with
   uploads from several threads) is visible after restart; an upload in flight at the kill is
   either absent or complete, never torn.
3. An upload cut off by `kill -9` half-way through its body leaves the previous version of the
   key untouched and creates nothing for a new key.
"""

import hashlib
import http.client
import os
import random
import threading
import time
from urllib.parse import quote

import lib

r = lib.Reporter("durability")
BUCKET = "durable"


def call(method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def put(key, data, headers=None):
    status, hdrs, body = call("PUT", f"/{BUCKET}/{key}", data, headers)
    if status != 200:
        raise RuntimeError(f"PUT {key} -> {status}: {body[:200]!r}")
    return hdrs.get("etag")


def list_keys():
    keys, token = [], None
    while True:
        q = "?list-type=2&max-keys=1000" + (f"&continuation-token={quote(token, safe='')}"
                                             if token else "")
        status, _, body = call("GET", f"/{BUCKET}{q}")
        if status != 200:
            raise RuntimeError(f"ListObjectsV2 -> {status}")
        text = body.decode()
        keys += [part.split("</Key>")[0] for part in text.split("<Key>")[1:]]
        if "<IsTruncated>true</IsTruncated>" not in text:
            return keys
        token = text.split("<NextContinuationToken>")[1].split("</NextContinuationToken>")[0]


def restart_after(what, how):
    """Stops the server with `how` ('term' or 'kill9') and starts it again on the same data."""
    if how == "term":
        t0 = time.monotonic()
        status = lib.stop_server(10)
        r.eq(f"{what}: SIGTERM -> exit status 0", 0, status)
        r.check(f"{what}: shutdown within 10 s", time.monotonic() - t0 < 10)
    else:
        lib.kill9_server()
    t0 = time.monotonic()
    lib.start_server(30)
    r.ok(f"{what}: restarted on the same data directory in {time.monotonic() - t0:.2f} s")


def phase_clean_restart():
    status, _, _ = call("PUT", f"/{BUCKET}")
    r.eq("CreateBucket", 200, status)
    rng = random.Random(1)
    objects = {}
    for i, size in enumerate([0, 1, 100, 4096, 65537, 1 << 20, 5 << 20 | 3]):
        data = rng.randbytes(size)
        key = f"clean/{i:02d}-{size}"
        objects[key] = data
        headers = {"Content-Type": f"application/x-test-{i}", "x-amz-meta-index": str(i)}
        r.eq(f"PUT {key} ETag", etag(data), put(key, data, headers))
    restart_after("clean restart", "term")

    status, _, _ = call("HEAD", f"/{BUCKET}")
    r.eq("bucket exists after restart", 200, status)
    for i, (key, data) in enumerate(objects.items()):
        status, hdrs, body = call("GET", f"/{BUCKET}/{key}")
        r.check(f"{key}: bytes intact after restart", status == 200 and body == data,
                f"status {status}, {len(body)} bytes")
        r.eq(f"{key}: ETag intact", etag(data), hdrs.get("etag"))
        r.eq(f"{key}: Content-Type intact", f"application/x-test-{i}", hdrs.get("content-type"))
        r.eq(f"{key}: metadata intact", str(i), hdrs.get("x-amz-meta-index"))
    r.eq("listing after restart", sorted(objects), list_keys())
    return objects


def phase_kill9(earlier):
    expected = dict(earlier)  # key -> bytes, or None for acknowledged deletes
    lock = threading.Lock()
    errors = []

    def writer(tid):
        rng = random.Random(100 + tid)
        try:
            for i in range(60):
                key = f"acked/t{tid}/{i:03d}"
                data = rng.randbytes(rng.choice([10, 1000, 20000, 300000]))
                if put(key, data) != etag(data):
                    raise RuntimeError(f"PUT {key}: wrong ETag")
                with lock:
                    expected[key] = data
                if i % 10 == 9:  # Overwrite an earlier key: the last acknowledged version must win.
                    okey = f"acked/t{tid}/{i - 5:03d}"
                    odata = b"overwritten " + rng.randbytes(500)
                    put(okey, odata)
                    with lock:
                        expected[okey] = odata
                if i % 15 == 14:  # Delete one: an acknowledged delete must stick.
                    dkey = f"acked/t{tid}/{i - 1:03d}"
                    status, _, _ = call("DELETE", f"/{BUCKET}/{dkey}")
                    if status != 204:
                        raise RuntimeError(f"DELETE {dkey} -> {status}")
                    with lock:
                        expected[dkey] = None
        except Exception as e:  # noqa: BLE001
            errors.append(f"writer {tid}: {e}")

    # Uploads that are in flight at the moment of the kill: each is either absent afterwards or
    # complete and correct.
    inflight = {}
    stop = threading.Event()

    def churner():
        rng = random.Random(7)
        n = 0
        while not stop.is_set():
            data = rng.randbytes(rng.choice([100, 50000, 400000]))
            key = f"inflight/{n:04d}"
            inflight[key] = data
            try:
                put(key, data)
            except Exception:  # noqa: BLE001 - the kill cuts these off; that is the point
                return
            n += 1

    writers = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    churn = threading.Thread(target=churner, daemon=True)
    churn.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    r.eq("all acknowledged writes succeeded before the kill", [], errors)
    restart_after("kill -9 right after the last acknowledgement", "kill9")
    stop.set()
    churn.join(10)

    missing, wrong, resurrected = [], [], []
    for key, data in expected.items():
        status, hdrs, body = call("GET", f"/{BUCKET}/{key}")
        if data is None:
            if status != 404:
                resurrected.append(key)
        elif status != 200:
            missing.append(f"{key}:{status}")
        elif body != data or hdrs.get("etag") != etag(data):
            wrong.append(key)
    live = sum(1 for v in expected.values() if v is not None)
    r.eq(f"all {live} acknowledged objects readable after kill -9", [], missing)
    r.eq("acknowledged objects have the right bytes and ETag (last overwrite wins)", [], wrong)
    r.eq("acknowledged deletes stay deleted", [], resurrected)
    r.eq("listing equals the acknowledged state",
         sorted(k for k, v in expected.items() if v is not None and not k.startswith("inflight/")),
         sorted(k for k in list_keys() if not k.startswith("inflight/")))

    torn = []
    for key, data in inflight.items():
        status, hdrs, body = call("GET", f"/{BUCKET}/{key}")
        if status == 200 and (body != data or hdrs.get("etag") != etag(data)):
            torn.append(key)
        elif status not in (200, 404):
            torn.append(f"{key}:{status}")
    r.eq(f"uploads in flight at the kill are absent or complete ({len(inflight)} checked)", [], torn)
    return {k: v for k, v in expected.items() if v is not None}


def phase_partial_upload(expected):
    old_key = next(iter(sorted(k for k in expected if k.startswith("clean/"))))
    for key in (old_key, "partial/new"):
        total = 20 << 20
        sock = lib.connect()
        sock.sendall((f"PUT /{BUCKET}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{lib.port()}\r\n"
                      f"Content-Length: {total}\r\n\r\n").encode())
        sock.sendall(os.urandom(8 << 20))
        time.sleep(0.3)  # Let the server take in the partial body.
        restart_after(f"kill -9 during a half-sent upload to {key}", "kill9")
        sock.close()
    status, hdrs, body = call("GET", f"/{BUCKET}/{old_key}")
    r.check("a cut-off overwrite left the old version intact",
            status == 200 and body == expected[old_key] and hdrs.get("etag") == etag(expected[old_key]),
            f"status {status}, {len(body)} bytes")
    status, _, _ = call("HEAD", f"/{BUCKET}/partial/new")
    r.eq("a cut-off upload of a new key created nothing", 404, status)

    # The restarted server still takes writes, and a final clean restart keeps everything.
    data = os.urandom(12345)
    r.eq("PUT after crash recovery", etag(data), put("after/recovery", data))
    expected["after/recovery"] = data
    restart_after("final clean restart", "term")
    bad = [k for k, v in expected.items()
           if call("GET", f"/{BUCKET}/{k}")[2] != v]
    r.eq(f"all {len(expected)} objects intact after the final restart", [], bad)


def main():
    objects = r.run("clean restart", phase_clean_restart)
    if objects is None:
        return
    expected = r.run("kill -9", lambda: phase_kill9(objects))
    if expected is None:
        return
    r.run("partial upload", lambda: phase_partial_upload(expected))


main()
r.finish()
