"""Optimistic concurrency with If-Match (R-P7, R-P8, R-X1, D3): 16 workers each do 20 rounds of
GET -> PUT (counter + 1, a body distinct per worker and round) with If-Match of the ETag read,
retrying on 412 / 409. No increment may be lost: the final value equals the number of 200s, and in
the versioned bucket the versions are exactly the initial one plus one per 200, chaining 0..N.
Every loop is bounded in attempts and time.
"""

import concurrent.futures
import re
import time

import lib
import s3raw

r = lib.Reporter("race_counter")
B, KEY = "race-counter", "counter"
WORKERS, ROUNDS = 16, 20
MAX_ATTEMPTS = 400          # per round
DEADLINE = time.monotonic() + 240


def worker(w):
    successes, version_ids, unexpected = 0, [], []
    for rnd in range(ROUNDS):
        for _attempt in range(MAX_ATTEMPTS):
            if time.monotonic() > DEADLINE:
                unexpected.append("deadline")
                return successes, version_ids, unexpected
            cur = s3raw.get(B, KEY)
            if cur.status != 200:
                unexpected.append(f"GET {cur.status}")
                continue
            value = int(cur.body.split(b":")[0])
            body = f"{value + 1}:w{w}:r{rnd}"
            resp = s3raw.put(B, KEY, body, {"If-Match": cur.header("etag")})
            if resp.status == 200:
                successes += 1
                version_ids.append(resp.header("x-amz-version-id"))
                break
            if resp.status not in (412, 409):
                unexpected.append(f"PUT {resp.status} {resp.code}")
        else:
            unexpected.append(f"round {rnd} gave up after {MAX_ATTEMPTS} attempts")
    return successes, version_ids, unexpected


def main():
    r.eq("CreateBucket", 200, s3raw.create_bucket(B).status)
    r.eq("versioning on", 200, s3raw.enable_versioning(B).status)
    first = s3raw.put(B, KEY, "0:init")
    r.eq("initial PUT", 200, first.status)
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(worker, range(WORKERS), timeout=300))
    total = sum(s for s, _, _ in results)
    vids = [first.header("x-amz-version-id")] + [v for _, vs, _ in results for v in vs]
    problems = [p for _, _, ps in results for p in ps]
    r.eq("no unexpected answers", [], problems[:10])
    r.eq("every round succeeded once", WORKERS * ROUNDS, total)
    final = s3raw.get(B, KEY)
    r.eq("final value == number of 200s", total, int(final.body.split(b":")[0]))
    r.eq("version ids are distinct", len(vids), len(set(vids)))
    chain = []
    for vid in vids:
        got = s3raw.get(B, KEY, query=[("versionId", vid)])
        chain.append(int(got.body.split(b":")[0]) if got.status == 200 else -1)
    r.eq("versions == 200s + 1, holding 0..N", list(range(total + 1)), sorted(chain))
    listing = s3raw.request("GET", s3raw.path_of(B, query=[("versions", None)]))
    if listing.status == 200:
        count = len(re.findall(rb"<Version>", listing.body))
        r.eq("ListObjectVersions counts 200s + 1 versions", total + 1, count)
    else:
        print(f"note: ListObjectVersions answered {listing.status}; counted by version id")


r.run("counter", main)
r.finish()
