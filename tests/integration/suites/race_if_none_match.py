"""R-X1 / D3: concurrent `If-None-Match: *` PUTs of one key with distinct bodies. The first to
commit wins (200); every other one is decided against the winner: 412 PreconditionFailed with
<Condition>If-None-Match</Condition> (never 409: nothing was deleted). The stored object is the
winner's. Several rounds on fresh keys; every wait is bounded.
"""

import concurrent.futures
import threading

import lib
import s3raw

r = lib.Reporter("race_if_none_match")
B = "race-inm"
WRITERS = 64
ROUNDS = 3


def one_round(key):
    barrier = threading.Barrier(WRITERS, timeout=30)

    def writer(i):
        body = f"writer {i} of {key}"
        barrier.wait()
        resp = s3raw.put(B, key, body, {"If-None-Match": "*"})
        return i, body, resp

    with concurrent.futures.ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS), timeout=60))
    winners = [(i, body, resp) for i, body, resp in results if resp.status == 200]
    losers = [resp for _, _, resp in results if resp.status != 200]
    r.eq(f"{key}: exactly one 200", 1, len(winners))
    good = [x for x in losers if x.status == 412 and x.code == "PreconditionFailed"
            and x.xml("Condition") == "If-None-Match"]
    r.check(f"{key}: {WRITERS - 1} x 412 PreconditionFailed If-None-Match",
            len(good) == WRITERS - 1,
            f"{len(good)} good; others: {[x for x in losers if x not in good][:3]}")
    if len(winners) == 1:
        _, body, resp = winners[0]
        got = s3raw.get(B, key)
        r.eq(f"{key}: stored body is the winner's", body.encode(), got.body)
        r.eq(f"{key}: stored ETag is the winner's", resp.header("etag"), got.header("etag"))


r.eq("CreateBucket", 200, s3raw.create_bucket(B).status)
for n in range(ROUNDS):
    r.run(f"round {n}", lambda n=n: one_round(f"lock-{n}"))
r.finish()
