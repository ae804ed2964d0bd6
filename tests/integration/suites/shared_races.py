"""Shared mode (two ifmatch replicas on one PostgreSQL database): the race suites with their
clients split across the replicas. Starts its own PostgreSQL 15 (pgserver.py) and replicas
(replicas.py); run.sh's SQLite server is not used.

* R-X1 / D3 (race_if_none_match.py across replicas): 64 `If-None-Match: *` PUTs of one key, odd
  writers through replica b, even through a -> exactly one 200, 63 x 412 PreconditionFailed
  (Condition If-None-Match), the stored body and ETag are the winner's as read through both.
  Several rounds.
* R-P7 / R-P8 / R-X1 (race_counter.py across replicas): 16 workers GET the counter through one
  replica and PUT value+1 with If-Match of the ETag read through the other -> every non-200 is 412
  or 409, the final value equals the number of 200s, the versions chain 0..N.
* D3 / R-X2 / R-X3 (race_delete_during_put.py across replicas): a conditional PUT's head and half
  its body go to replica a; a DELETE (or an identical rewrite) commits through replica b; then the
  rest of the body: If-None-Match:* + DELETE -> 409 (also with a delete marker), If-Match +
  identical rewrite -> 409, If-Match + DELETE -> 404 NoSuchKey (R-M6 order), control -> 200.
Every wait is bounded.
"""

import re
import threading
import time

import lib
import sharedmode

r = lib.Reporter("shared_races")
STARTED = time.monotonic()
env = sharedmode.setup(r)
a, b = env.clients

INM_WRITERS = 64
INM_ROUNDS = sharedmode.env_flag("IFMATCH_SHARED_INM_ROUNDS", 3)
CAS_WORKERS = 16
CAS_ROUNDS = sharedmode.env_flag("IFMATCH_SHARED_CAS_ROUNDS", 6)
CAS_DEADLINE_S = 30


# --- If-None-Match: * creators split across the replicas ------------------------------------------

def inm_round(bucket, key):
    barrier = threading.Barrier(INM_WRITERS, timeout=30)

    def writer(i):
        client = env.client(i)
        body = f"writer {i} via {client.name} of {key}"
        barrier.wait()
        return i, body, client.put(bucket, key, body, {"If-None-Match": "*"})

    results = sharedmode.parallel(writer, range(INM_WRITERS), timeout=90)
    winners = [(i, body, resp) for i, body, resp in results if resp.status == 200]
    losers = [resp for _, _, resp in results if resp.status != 200]
    r.eq(f"{key}: exactly one 200 of {INM_WRITERS} across both replicas", 1, len(winners))
    good = [x for x in losers if x.status == 412 and x.code == "PreconditionFailed"
            and x.xml("Condition") == "If-None-Match"]
    r.check(f"{key}: {INM_WRITERS - 1} x 412 PreconditionFailed If-None-Match",
            len(good) == INM_WRITERS - 1,
            f"{len(good)} good; others: {[x for x in losers if x not in good][:3]}")
    by_replica = {c.name: sum(1 for i, _, resp in results
                              if env.client(i) is c and resp.status == 412) for c in env.clients}
    print(f"# {key}: winner {winners[0][0] if winners else None}, 412s per replica {by_replica}",
          flush=True)
    if len(winners) == 1:
        _, body, resp = winners[0]
        for c in env.clients:
            got = c.get(bucket, key)
            r.eq(f"{key}: body read through {c.name} is the winner's", body.encode(), got.body)
            r.eq(f"{key}: ETag read through {c.name} is the winner's", resp.header("etag"),
                 got.header("etag"))


def test_if_none_match():
    bucket = "shared-inm"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    for n in range(INM_ROUNDS):
        r.run(f"If-None-Match round {n}", lambda n=n: inm_round(bucket, f"lock-{n}"))


# --- If-Match counter, reads through one replica and writes through the other ---------------------

def cas_worker(w, bucket, key, deadline):
    successes, version_ids, unexpected, refusals = 0, [], [], 0
    for rnd in range(CAS_ROUNDS):
        for attempt in range(400):
            if time.monotonic() > deadline:
                unexpected.append(f"worker {w}: deadline in round {rnd}")
                return successes, version_ids, unexpected, refusals
            reader, writer = env.client(w + attempt), env.client(w + attempt + 1)
            cur = reader.get(bucket, key)
            if cur.status != 200:
                unexpected.append(f"GET via {reader.name} {cur.status} {cur.code}")
                continue
            value = int(cur.body.split(b":")[0])
            body = f"{value + 1}:w{w}:r{rnd}:{writer.name}"
            resp = writer.put(bucket, key, body, {"If-Match": cur.header("etag")})
            if resp.status == 200:
                successes += 1
                version_ids.append(resp.header("x-amz-version-id"))
                break
            if resp.status in (412, 409):
                refusals += 1
            else:
                unexpected.append(f"PUT via {writer.name} {resp.status} {resp.code}")
        else:
            unexpected.append(f"worker {w} round {rnd} gave up after 400 attempts")
    return successes, version_ids, unexpected, refusals


def test_counter():
    bucket, key = "shared-counter", "counter"
    r.eq("CreateBucket through b", 200, b.create_bucket(bucket).status)
    r.eq("versioning on through a", 200, a.enable_versioning(bucket).status)
    first = b.put(bucket, key, "0:init")
    r.eq("initial PUT through b", 200, first.status)
    deadline = time.monotonic() + CAS_DEADLINE_S
    t0 = time.monotonic()
    results = sharedmode.parallel(lambda w: cas_worker(w, bucket, key, deadline),
                                  range(CAS_WORKERS), timeout=CAS_DEADLINE_S + 30)
    total = sum(s for s, _, _, _ in results)
    refusals = sum(x for _, _, _, x in results)
    print(f"# counter: {total} x 200, {refusals} x 412/409 in {time.monotonic() - t0:.1f} s",
          flush=True)
    problems = [p for _, _, ps, _ in results for p in ps]
    r.eq("counter: every non-200 PUT is 412 or 409, every GET 200", [], problems[:10])
    r.eq("counter: every round succeeded once", CAS_WORKERS * CAS_ROUNDS, total)
    for c in env.clients:
        final = c.get(bucket, key)
        r.eq(f"counter: final value read through {c.name} == number of 200s", total,
             int(final.body.split(b":")[0]) if final.status == 200 else final.status)
    vids = [first.header("x-amz-version-id")] + [v for _, vs, _, _ in results for v in vs]
    r.eq("counter: version ids are distinct", len(vids), len(set(vids)))
    chain = []
    for i, vid in enumerate(vids):
        got = env.client(i).get(bucket, key, query=[("versionId", vid)])
        chain.append(int(got.body.split(b":")[0]) if got.status == 200 else -1)
    r.eq("counter: versions == 200s + 1, holding 0..N", list(range(total + 1)), sorted(chain))
    listing = a.list_versions(bucket)
    r.eq("counter: ListObjectVersions counts 200s + 1 versions", total + 1,
         len(re.findall(rb"<Version>", listing.body)) if listing.status == 200 else listing)


# --- a write committed through b while a conditional PUT's body is uploading through a -----------

BODY = b"0123456789abcdefghij"


def slow_put(bucket, key, headers, meanwhile):
    return sharedmode.slow_request(a, "PUT", f"/{bucket}/{key}", headers, BODY, meanwhile)


def expect(what, resp, status, code, condition=None, key=None):
    body = resp.body
    ok = resp.status == status and f"<Code>{code}</Code>".encode() in body
    if condition:
        ok = ok and f"<Condition>{condition}</Condition>".encode() in body
    if key:
        ok = ok and f"<Key>{key}</Key>".encode() in body
    r.check(what, ok, f"expected {status} {code} {condition or ''}, got {resp.status} {body!r}")


def test_delete_during_put():
    bk, vb = "shared-del", "shared-del-v"
    r.eq("CreateBucket through a", 200, a.create_bucket(bk).status)
    r.eq("CreateBucket versioned through b", 200, b.create_bucket(vb).status)
    r.eq("versioning on through b", 200, b.enable_versioning(vb).status)

    # If-None-Match: * on an existing key, DELETE through b meanwhile -> 409.
    r.eq("k1 written through b", 200, b.put(bk, "k1", "old").status)
    side, resp = slow_put(bk, "k1", {"If-None-Match": "*"}, lambda: b.delete(bk, "k1"))
    r.eq("D3 the DELETE through b committed meanwhile", 204, side.status)
    expect("D3 If-None-Match:* through a + DELETE through b during body -> 409", resp, 409,
           "ConditionalRequestConflict", "If-None-Match", "k1")
    r.eq("D3 after the 409 the key is absent (HEAD through b)", 404, b.head(bk, "k1").status)
    r.eq("D3 a retry through a succeeds", 200,
         a.put(bk, "k1", BODY, {"If-None-Match": "*"}).status)
    r.eq("D3 ... and is read through b", BODY, b.get(bk, "k1").body)

    # Versioned bucket: the DELETE through b makes a delete marker -> 409 as well.
    r.eq("versioned k1 written through a", 200, a.put(vb, "k1", "old").status)
    side, resp = slow_put(vb, "k1", {"If-None-Match": "*"}, lambda: b.delete(vb, "k1"))
    r.eq("D3 versioned: delete marker created through b meanwhile", "true",
         side.header("x-amz-delete-marker"))
    expect("D3 versioned If-None-Match:* + delete marker during body -> 409", resp, 409,
           "ConditionalRequestConflict", "If-None-Match", "k1")

    # If-Match: E, identical rewrite through b meanwhile -> 409.
    put = a.put(bk, "k2", "same bytes")
    etag = put.header("etag")
    side, resp = slow_put(bk, "k2", {"If-Match": etag}, lambda: b.put(bk, "k2", "same bytes"))
    r.eq("identical rewrite through b has the same ETag", etag, side.header("etag"))
    expect("D3 If-Match through a + identical rewrite through b during body -> 409", resp, 409,
           "ConditionalRequestConflict", "If-Match", "k2")
    r.eq("D3 after the 409 the rewrite stays (read through b)", b"same bytes",
         b.get(bk, "k2").body)

    # If-Match: E (the current ETag), DELETE through b meanwhile -> 404 NoSuchKey: D3 / R-M6
    # decide "no current object" before the 409 (race_delete_during_put.py case 3).
    put = b.put(bk, "k3", "to delete")
    side, resp = slow_put(bk, "k3", {"If-Match": put.header("etag")}, lambda: b.delete(bk, "k3"))
    r.eq("the DELETE through b committed meanwhile (k3)", 204, side.status)
    expect("D3/R-M6 If-Match through a + DELETE through b during body -> 404 NoSuchKey", resp,
           404, "NoSuchKey", key="k3")
    r.eq("k3 stays absent (HEAD through a)", 404, a.head(bk, "k3").status)

    # Same in the versioned bucket: a delete marker through b -> 404 NoSuchKey.
    put = a.put(vb, "k3", "to delete")
    side, resp = slow_put(vb, "k3", {"If-Match": put.header("etag")}, lambda: b.delete(vb, "k3"))
    r.eq("versioned: delete marker through b meanwhile (k3)", "true",
         side.header("x-amz-delete-marker"))
    expect("versioned If-Match + delete marker through b during body -> 404 NoSuchKey", resp,
           404, "NoSuchKey", key="k3")

    # If-Match: E, a different write through b meanwhile -> 412 (the ETag no longer matches).
    put = a.put(bk, "k5", "first")
    side, resp = slow_put(bk, "k5", {"If-Match": put.header("etag")},
                          lambda: b.put(bk, "k5", "second"))
    r.eq("a different write through b committed meanwhile", 200, side.status)
    expect("If-Match through a + different write through b during body -> 412", resp, 412,
           "PreconditionFailed", "If-Match")
    r.eq("the write through b stays", b"second", a.get(bk, "k5").body)

    # Control: nothing written meanwhile (a HEAD through b) -> 200.
    put = b.put(bk, "k4", "v1")
    side, resp = slow_put(bk, "k4", {"If-Match": put.header("etag")}, lambda: b.head(bk, "k4"))
    r.eq("control: HEAD through b meanwhile sees v1", put.header("etag"), side.header("etag"))
    r.eq("control: slow If-Match PUT through a -> 200", 200, resp.status)
    r.eq("control: body read through b", BODY, b.get(bk, "k4").body)


r.run("If-None-Match creators across replicas", test_if_none_match)
r.run("If-Match counter across replicas", test_counter)
r.run("write during a conditional PUT across replicas", test_delete_during_put)
env.finish(STARTED)
