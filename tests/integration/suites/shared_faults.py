"""Shared mode (two ifmatch replicas on one PostgreSQL database) under faults. Starts its own
PostgreSQL 15 (pgserver.py) and replicas a and b (replicas.py); run.sh's SQLite server is not
used.

1. kill -9 of replica b during an If-Match counter storm (workers read through one replica and
   write through the other, alternating) and while half of a 4 MiB PUT (stored in chunks as it
   arrives) has reached b: replica a goes on answering (200s while b is down), the cut PUT left
   no object,
   b restarted serves again, and no acknowledged write is lost: every 200's version is listed with
   its bytes, no version appears that no request explains, the versions hold 0..N exactly once, and
   the final value == the 200s + the writes cut off by the kill that committed anyway (the count of
   those is printed; usually 0). Every non-200 answer is 412 / 409 (or 503 SlowDown /
   ServiceUnavailable).
2. PostgreSQL restarted (`pg_ctl restart -m fast`), then stopped for 1.5 s and started, while
   workers run PUT / GET / If-Match PUT / If-None-Match:* PUT on keys of their own through both
   replicas (one worker with 200 KiB bodies, stored in chunks): every answer is a correct one (checked against a model of each key that allows for a
   503'd write having committed or not) or 503 SlowDown / ServiceUnavailable; no 500, no wrong 2xx,
   no wrong 412/409, no request over its 10 s time-out or dropped connection; each replica answers a
   PUT and a GET again within 5 s of PostgreSQL being back.
3. `ifmatch check --data URI` is clean after each part.
Every wait is bounded.
"""

import hashlib
import re
import threading
import time

import lib
import s3raw
import sharedmode

r = lib.Reporter("shared_faults")
STARTED = time.monotonic()
env = sharedmode.setup(r)
a, b = env.clients
rep_a, rep_b = env.replicas
TIMEOUT = 10                   # seconds per request
RECOVERY_LIMIT = 5.0           # seconds to serve again once PostgreSQL is back
OK_503 = ("SlowDown", "ServiceUnavailable")


def md5_etag(body):
    return '"' + hashlib.md5(body.encode() if isinstance(body, str) else body).hexdigest() + '"'


def check_store(what):
    try:
        status, out = sharedmode.run_check(rep_a.bin, env.uri)
    except Exception as e:  # noqa: BLE001
        r.fail(what, f"{type(e).__name__}: {e}")
        return
    r.check(what, status == 0, f"exit {status}: {out.strip()[-1500:]}")
    print("# check: " + out.strip().replace("\n", "\n# check: ")[:1500], flush=True)


def list_version_etags(client, bucket, key):
    """[(version id, etag, is delete marker)] of every version of key, paging."""
    out, marker = [], None
    for _ in range(50):
        query = [("versions", None), ("prefix", key)]
        if marker:
            query += [("key-marker", marker[0]), ("version-id-marker", marker[1])]
        resp = client.request("GET", s3raw.path_of(bucket, query=query), timeout=30)
        if resp.status != 200:
            raise RuntimeError(f"ListObjectVersions {resp.status} {resp.body[:200]!r}")
        for kind, block in re.findall(rb"<(Version|DeleteMarker)>(.*?)</\1>", resp.body, re.S):
            vid = re.search(rb"<VersionId>(.*?)</VersionId>", block).group(1).decode()
            etag = re.search(rb"<ETag>(.*?)</ETag>", block)
            etag = etag.group(1).decode().replace("&quot;", '"') if etag else None
            out.append((vid, etag, kind == b"DeleteMarker"))
        if b"<IsTruncated>true</IsTruncated>" not in resp.body:
            return out
        marker = (resp.xml("NextKeyMarker"), resp.xml("NextVersionIdMarker"))
    raise RuntimeError("ListObjectVersions: more than 50 pages")


# --- 1. kill -9 of one replica during a CAS storm --------------------------------------------------

def storm_worker(w, bucket, key, stop, log):
    """CAS loop until stop is set, reading through one replica and writing through the other
    (alternating); a replica that refuses the connection (killed) is replaced by the other one for
    that request. Appends (time, kind, replica, body, response-or-error) to log."""
    attempt = 0

    def call(i, fn):
        """fn(client) on client(i), or on the other client when client(i) refuses to connect.
        Returns (client, response); raises the transport error of the last try."""
        for j in (i, i + 1):
            client = env.client(j)
            try:
                return client, fn(client)
            except ConnectionRefusedError:
                if j != i:
                    raise
        raise AssertionError("unreachable")

    while not stop.is_set():
        attempt += 1
        try:
            reader, cur = call(w + attempt, lambda c: c.get(bucket, key, timeout=TIMEOUT))
        except ConnectionRefusedError:
            time.sleep(0.02)
            continue
        except sharedmode.TRANSPORT_ERRORS as e:
            log.append((time.monotonic(), "get-error", "?", None, repr(e)))
            continue
        if cur.status != 200:
            log.append((time.monotonic(), "get-status", reader.name, None, cur))
            continue
        value = int(cur.body.split(b":")[0])
        body = f"{value + 1}:w{w}:a{attempt}"
        writer = env.client(w + attempt + 1)
        try:
            resp = writer.put(bucket, key, body, {"If-Match": cur.header("etag")},
                              timeout=TIMEOUT)
        except ConnectionRefusedError:                 # never sent: certainly not written
            try:
                writer = env.client(w + attempt)
                resp = writer.put(bucket, key, body, {"If-Match": cur.header("etag")},
                                  timeout=TIMEOUT)
            except ConnectionRefusedError:
                continue
            except sharedmode.TRANSPORT_ERRORS as e:
                log.append((time.monotonic(), "ambiguous", writer.name, body, repr(e)))
                continue
        except sharedmode.TRANSPORT_ERRORS as e:       # sent, answer lost: may have committed
            log.append((time.monotonic(), "ambiguous", writer.name, body, repr(e)))
            continue
        log.append((time.monotonic(), "put", writer.name, body, resp))


def half_put(client, bucket, key, size):
    """Sends a PUT head and half of its body (in 64 KiB pieces) and returns the open socket."""
    sock = client.connect()
    sock.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\n"
                 f"Content-Length: {size}\r\n\r\n".encode())
    piece = b"c" * (64 * 1024)
    for _ in range(size // 2 // len(piece)):
        sock.sendall(piece)
    time.sleep(0.3)                  # let b store the first chunks
    return sock


def test_kill9_storm():
    bucket, key = "shared-storm", "counter"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    r.eq("versioning on through b", 200, b.enable_versioning(bucket).status)
    first = a.put(bucket, key, "0:init")
    r.eq("initial PUT", 200, first.status)
    stop, log = threading.Event(), []
    threads = [threading.Thread(target=storm_worker, args=(w, bucket, key, stop, log),
                                daemon=True) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    # A large PUT (stored as chunks while it arrives) half-uploaded through b when b dies.
    half = r.run("half of a 4 MiB PUT sent to b", lambda: half_put(b, bucket, "cut.bin",
                                                                  4 * 1024 * 1024))
    t_kill = time.monotonic()
    rep_b.kill9()
    if half is not None:
        half.close()
    print(f"# killed replica b (-9) at +{t_kill - STARTED:.1f} s", flush=True)
    time.sleep(2.5)
    t_restart = time.monotonic()
    restarted = r.run("replica b restarts on the same database", lambda: rep_b.restart(30))
    t_back = time.monotonic()
    time.sleep(2.0)
    stop.set()
    for t in threads:
        t.join(TIMEOUT + 5)
    r.check("storm workers ended", not any(t.is_alive() for t in threads))

    puts = [e for e in log if e[1] == "put"]
    acked = [(t, rep, body, resp) for t, kind, rep, body, resp in puts if resp.status == 200]
    refused = [resp for _, _, _, _, resp in [e for e in puts] if resp.status in (412, 409)]
    slow = [resp for _, _, _, _, resp in puts if resp.status == 503]
    wrong = [e for e in puts if e[4].status not in (200, 412, 409, 503)
             or (e[4].status == 503 and e[4].code not in OK_503)]
    wrong += [e for e in log if e[1] == "get-status" and
              not (e[4].status == 503 and e[4].code in OK_503)]
    ambiguous = [e for e in log if e[1] == "ambiguous"]
    print(f"# storm: {len(acked)} x 200, {len(refused)} x 412/409, {len(slow)} x 503, "
          f"{len(ambiguous)} cut off, {sum(1 for e in log if e[1] == 'get-error')} GETs cut off",
          flush=True)
    r.eq("storm: every PUT answer is 200, 412, 409 or 503 SlowDown (every GET 200)", [],
         [(round(t - STARTED, 2), k, rep, repr(x)) for t, k, rep, _, x in wrong[:5]])
    r.check("storm: replica a answered 200s while b was down",
            any(t_kill < t < t_restart and rep == "a" for t, rep, _, _ in acked),
            f"200s through a in the window: 0 (of {len(acked)})")
    if restarted:
        r.check("storm: replica b answered 200s after its restart",
                any(t > t_back and rep == "b" for t, rep, _, _ in acked),
                f"200s through b after the restart: 0 (of {len(acked)})")
    late_ambiguous = [e for e in ambiguous if e[0] > t_kill + TIMEOUT or e[2] == "a"]
    r.eq("storm: requests cut off only on b, by its kill", [],
         [(round(t - STARTED, 2), rep, err) for t, _, rep, _, err in late_ambiguous[:5]])

    r.eq("the half-uploaded PUT left no object (HEAD through a)", 404,
         a.head(bucket, "cut.bin").status)
    # Without listing: each 200 is readable by its version id with its bytes, no two 200s wrote
    # the same counter value (no lost update), and the final value is the 200s plus at most the
    # writes whose answer the kill cut off.
    values = sorted(int(body.split(":")[0]) for _, _, body, _ in acked)
    r.eq("storm: no two 200s wrote the same value (no lost update)", len(values),
         len(set(values)))
    unreadable = []
    for i, (_, rep, body, resp) in enumerate(acked):
        vid = resp.header("x-amz-version-id")
        got = env.client(i).get(bucket, key, query=[("versionId", vid)]) if vid else None
        if got is None or (got.status, got.body) != (200, body.encode()):
            unreadable.append((rep, body, vid, got))
    r.eq("storm: every acknowledged write is readable by its version id with its bytes", [],
         unreadable[:5])
    finals = []
    for c in env.clients:
        final = c.get(bucket, key)
        finals.append(int(final.body.split(b":")[0]) if final.status == 200 else final)
    r.eq("storm: both replicas read the same final value", 1, len(set(map(repr, finals))))
    final = finals[0]
    r.check(f"storm: final value == 200s + k, 0 <= k <= {len(ambiguous)} cut-off writes",
            isinstance(final, int) and 0 <= final - len(acked) <= len(ambiguous),
            f"final {final}, {len(acked)} x 200, {len(ambiguous)} cut off")

    # With ListObjectVersions: exactly which cut-off writes committed, and nothing else did.
    versions = r.run("storm: ListObjectVersions", lambda: list_version_etags(a, bucket, key))
    if versions is None:
        return
    by_etag = {md5_etag(body): body for _, _, body, _ in acked}
    amb_by_etag = {md5_etag(body): body for _, _, _, body, _ in ambiguous}
    listed = {etag for _, etag, _ in versions}
    lost = [body for etag, body in by_etag.items() if etag not in listed]
    r.eq("storm: every acknowledged write is a listed version", [], lost[:5])
    committed_cut = [body for etag, body in amb_by_etag.items() if etag in listed]
    explained = set(by_etag) | set(amb_by_etag) | {first.header("etag")}
    phantoms = [(vid, etag) for vid, etag, dm in versions if dm or etag not in explained]
    r.eq("storm: no version that no request explains (no refused write committed)", [],
         phantoms[:5])
    chain = sorted(int((by_etag.get(etag) or amb_by_etag.get(etag) or "0").split(":")[0])
                   for _, etag, _ in versions if etag in explained)
    r.eq("storm: the versions hold 0..N once each", list(range(len(chain))), chain)
    print(f"# storm: {len(committed_cut)} write(s) cut off by the kill committed anyway",
          flush=True)
    r.eq(f"storm: final value == 200s + cut-off writes that committed "
         f"({len(acked)} + {len(committed_cut)})", len(acked) + len(committed_cut), final)


# --- 2. PostgreSQL restarted under load ------------------------------------------------------------

class Model:
    """What a key may hold: a set of possible bodies (None: absent). A 503'd write may or may not
    have committed, so it widens the set; a read narrows it."""

    def __init__(self):
        self.cands = {None}


def load_worker(w, bucket, phase, stop, out):
    key = f"p{phase}-w{w}"
    model = Model()
    n = 0
    stats = out[w] = {"ok": 0, "503": 0, "wrong": [], "errors": [], "max_s": 0.0, "codes": set()}
    while not stop.is_set():
        n += 1
        client = env.client(w + n)
        single = next(iter(model.cands)) if len(model.cands) == 1 else "?"
        op = n % 4
        if single == "?" or (op in (2, 3) and single is None):
            op = 1                                     # narrow the model first
        body = f"w{w} n{n} via {client.name}"
        if w == 0:                   # one worker's bodies are above the inline limit (chunked)
            body += " " + "x" * (200 * 1024)
        t0 = time.monotonic()
        try:
            if op == 0:
                resp = client.put(bucket, key, body, timeout=TIMEOUT)
            elif op == 1:
                resp = client.get(bucket, key, timeout=TIMEOUT)
            elif op == 2:
                resp = client.put(bucket, key, body, {"If-Match": md5_etag(single)},
                                  timeout=TIMEOUT)
            else:
                resp = client.put(bucket, key, body, {"If-None-Match": "*"}, timeout=TIMEOUT)
        except sharedmode.TRANSPORT_ERRORS as e:
            took = time.monotonic() - t0
            stats["errors"].append(f"+{t0 - STARTED:.1f}s {client.name} op{op}: "
                                   f"{type(e).__name__} {e} after {took:.1f}s")
            if op in (0, 2):
                model.cands.add(body)
            continue
        took = time.monotonic() - t0
        stats["max_s"] = max(stats["max_s"], took)
        where = f"+{t0 - STARTED:.1f}s {client.name} op{op}"
        if resp.status == 503:
            stats["503"] += 1
            stats["codes"].add(resp.code)
            if resp.code not in OK_503:
                stats["wrong"].append(f"{where}: 503 with code {resp.code!r}")
            if op in (0, 2):
                model.cands.add(body)
            continue
        good = False
        if op == 0:
            good = resp.status == 200 and resp.header("etag") == md5_etag(body)
            if good:
                model.cands = {body}
        elif op == 1:
            if resp.status == 200 and resp.body.decode(errors="replace") in model.cands:
                model.cands, good = {resp.body.decode()}, True
            elif resp.status == 404 and resp.code == "NoSuchKey" and None in model.cands:
                model.cands, good = {None}, True
        elif op == 2:
            good = resp.status == 200 and resp.header("etag") == md5_etag(body)
            if good:
                model.cands = {body}
        else:
            good = resp.status == 412 and resp.code == "PreconditionFailed"
        if good:
            stats["ok"] += 1
        else:
            stats["wrong"].append(f"{where}: {resp.status} {resp.code} {resp.body[:80]!r} "
                                  f"(model {sorted(map(str, model.cands))[:3]})")
            if op in (0, 2):
                model.cands.add(body)
    # The final state through both replicas agrees with the model.
    for c in env.clients:
        try:
            got = c.get(bucket, key, timeout=TIMEOUT)
            seen = got.body.decode() if got.status == 200 else (None if got.status == 404 else
                                                                 f"status {got.status}")
        except sharedmode.TRANSPORT_ERRORS as e:
            seen = repr(e)
        if seen not in model.cands:
            stats["wrong"].append(f"final read through {c.name}: {seen!r} not in model "
                                  f"{sorted(map(str, model.cands))[:3]}")
        else:
            model.cands = {seen}


def time_to_serve(client, bucket, since, limit):
    """Seconds from `since` until a PUT and a GET through `client` both answer 200 (None when not
    within `limit` seconds)."""
    n = 0
    while time.monotonic() - since < limit + 1:
        n += 1
        try:
            body = f"probe {n}"
            put = client.put(bucket, f"probe-{client.name}", body, timeout=TIMEOUT)
            got = client.get(bucket, f"probe-{client.name}", timeout=TIMEOUT)
            if put.status == 200 and got.status == 200 and got.body == body.encode():
                return time.monotonic() - since
        except sharedmode.TRANSPORT_ERRORS:
            pass
        time.sleep(0.05)
    return None


def test_pg_restart():
    bucket = "shared-pgrestart"
    r.eq("CreateBucket through b", 200, b.create_bucket(bucket).status)
    for n, (phase, down) in enumerate((("restart -m fast", 0.0),
                                       ("stop -m fast, 1.5 s down, start", 1.5))):
        stop, out = threading.Event(), {}
        threads = [threading.Thread(target=load_worker, args=(w, bucket, n, stop, out),
                                    daemon=True)
                   for w in range(6)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        t0 = time.monotonic()
        took = r.run(f"PostgreSQL {phase}", lambda: env.pg.restart("fast", down_seconds=down))
        t_back = time.monotonic()
        print(f"# PostgreSQL {phase}: {took and round(took, 2)} s (at +{t0 - STARTED:.1f} s)",
              flush=True)
        for c in env.clients:
            recovered = time_to_serve(c, bucket, t_back, RECOVERY_LIMIT)
            r.check(f"{phase}: replica {c.name} serves a PUT and a GET within "
                    f"{RECOVERY_LIMIT:.0f} s of PostgreSQL being back", recovered is not None
                    and recovered <= RECOVERY_LIMIT, f"took {recovered}")
            print(f"# {phase}: replica {c.name} served again {recovered and round(recovered, 2)}"
                  f" s after PostgreSQL was back", flush=True)
        time.sleep(1.5)
        stop.set()
        for t in threads:
            t.join(2 * TIMEOUT + 5)
        r.check(f"{phase}: load workers ended", not any(t.is_alive() for t in threads))
        oks = sum(s["ok"] for s in out.values())
        n503 = sum(s["503"] for s in out.values())
        codes = set().union(*(s["codes"] for s in out.values())) if out else set()
        print(f"# {phase}: {oks} correct answers, {n503} x 503 {sorted(codes)}, longest request "
              f"{max((s['max_s'] for s in out.values()), default=0):.2f} s", flush=True)
        r.eq(f"{phase}: only correct answers or 503 SlowDown/ServiceUnavailable", [],
             [x for s in out.values() for x in s["wrong"]][:6])
        r.eq(f"{phase}: no request timed out or lost its connection", [],
             [x for s in out.values() for x in s["errors"]][:6])
        r.check(f"{phase}: the load made progress", oks > 20, f"{oks} correct answers")
    check_store("ifmatch check --data URI is clean after the PostgreSQL restarts")


r.run("kill -9 of a replica during a CAS storm", test_kill9_storm)
check_store("ifmatch check --data URI is clean after the kill -9")
r.run("PostgreSQL restart under load", test_pg_restart)
env.finish(STARTED)
