"""GET /_ifmatch/metrics (run through ../run.sh), with plain unsigned HTTP (open mode).

Checks the Prometheus text format, that ifmatch_requests_total and the latency histogram count
every request, bytes in/out, the object and byte gauges, and that each conditional outcome lands
in its own counter: If-None-Match 412 on writes (create-if-absent conflict), If-Match 412 on
writes (guarded overwrite refused), copy-source 412, 304 and 412 on GET/HEAD, 428 when a bucket
requires conditions, and 409 ConditionalRequestConflict as counted by a race (spec D3).
"""

import hashlib
import http.client
import re
import threading

import lib

r = lib.Reporter("ops_metrics")
B = "metrics"
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+-]+|\+Inf|NaN)$')


def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def scrape():
    status, hdrs, body = call("GET", "/_ifmatch/metrics")
    assert status == 200, status
    samples, bad = {}, []
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            bad.append(line)
            continue
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return samples, hdrs, body.decode(), bad


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


def etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def requests_sum(s):
    return sum(v for k, v in s.items() if k.startswith("ifmatch_requests_total{"))


def test_format():
    s, hdrs, text, bad = scrape()
    r.check("Content-Type is Prometheus text 0.0.4",
            hdrs.get("content-type", "").startswith("text/plain; version=0.0.4"),
            hdrs.get("content-type"))
    r.eq("every sample line parses", [], bad)
    for name, kind in [("ifmatch_requests_total", "counter"),
                       ("ifmatch_request_duration_seconds", "histogram"),
                       ("ifmatch_bytes_in_total", "counter"),
                       ("ifmatch_bytes_out_total", "counter"),
                       ("ifmatch_objects_stored", "gauge"),
                       ("ifmatch_bytes_stored", "gauge"),
                       ("ifmatch_guarded_overwrites_refused_total", "counter"),
                       ("ifmatch_create_if_absent_conflicts_total", "counter"),
                       ("ifmatch_copy_source_precondition_failures_total", "counter"),
                       ("ifmatch_read_validator_outcomes_total", "counter"),
                       ("ifmatch_conditional_request_conflicts_total", "counter"),
                       ("ifmatch_precondition_required_total", "counter")]:
        r.check(f"# TYPE {name} {kind}", f"# TYPE {name} {kind}\n" in text)
    status, hdrs, body = call("HEAD", "/_ifmatch/metrics")
    r.eq("HEAD /_ifmatch/metrics answers 200 without a body", (200, b""), (status, body))


def test_counts():
    before, *_ = scrape()
    data = b"m" * 100_000
    r.eq("create bucket", 200, call("PUT", f"/{B}")[0])
    st, h, _ = call("PUT", f"/{B}/a", data, {"If-None-Match": "*"})
    r.eq("PUT If-None-Match * on a new key: 200", 200, st)
    tag = h.get("etag")
    r.eq("PUT If-None-Match * again: 412", 412,
         call("PUT", f"/{B}/a", data, {"If-None-Match": "*"})[0])
    r.eq("PUT If-Match wrong: 412", 412,
         call("PUT", f"/{B}/a", b"x", {"If-Match": '"0123"'})[0])
    r.eq("DELETE If-Match wrong: 412", 412,
         call("DELETE", f"/{B}/a", None, {"If-Match": '"0123"'})[0])
    r.eq("copy with x-amz-copy-source-if-match wrong: 412", 412,
         call("PUT", f"/{B}/b", b"", {"x-amz-copy-source": f"/{B}/a",
                                      "x-amz-copy-source-if-match": '"0123"'})[0])
    r.eq("GET If-None-Match current: 304", 304,
         call("GET", f"/{B}/a", None, {"If-None-Match": tag})[0])
    r.eq("HEAD If-None-Match current: 304", 304,
         call("HEAD", f"/{B}/a", None, {"If-None-Match": tag})[0])
    r.eq("GET If-Match wrong: 412", 412, call("GET", f"/{B}/a", None, {"If-Match": '"0"'})[0])
    st, _, got = call("GET", f"/{B}/a")
    r.eq("plain GET: 200 with the body", (200, len(data)), (st, len(got)))
    settings = b'{"require_conditional_writes": true}'
    r.eq("require conditional writes on the bucket", 200,
         call("PUT", f"/_ifmatch/buckets/{B}/settings", settings)[0])
    r.eq("unconditional PUT: 428", 428, call("PUT", f"/{B}/c", b"y")[0])
    r.eq("lift the requirement", 200, call("PUT", f"/_ifmatch/buckets/{B}/settings",
                                           b'{"require_conditional_writes": false}')[0])
    after, *_ = scrape()
    expect = {
        'ifmatch_requests_total{operation="PutObject",status="412"}': 2,
        'ifmatch_requests_total{operation="PutObject",status="428"}': 1,
        'ifmatch_requests_total{operation="CopyObject",status="412"}': 1,
        'ifmatch_requests_total{operation="GetObject",status="304"}': 1,
        'ifmatch_requests_total{operation="HeadObject",status="304"}': 1,
        'ifmatch_requests_total{operation="GetObject",status="200"}': 1,
        'ifmatch_requests_total{operation="CreateBucket",status="200"}': 1,
        "ifmatch_create_if_absent_conflicts_total": 1,
        "ifmatch_guarded_overwrites_refused_total": 2,
        "ifmatch_copy_source_precondition_failures_total": 1,
        'ifmatch_read_validator_outcomes_total{outcome="not_modified"}': 2,
        'ifmatch_read_validator_outcomes_total{outcome="precondition_failed"}': 1,
        "ifmatch_precondition_required_total": 1,
        "ifmatch_conditional_request_conflicts_total": 0,
    }
    for name, want in expect.items():
        r.eq(f"{name} grew by {want}", want, delta(before, after, name))
    r.check("bytes_in counted the 100000-byte bodies",
            delta(before, after, "ifmatch_bytes_in_total") >= 2 * len(data),
            delta(before, after, "ifmatch_bytes_in_total"))
    r.check("bytes_out counted the GET body",
            delta(before, after, "ifmatch_bytes_out_total") >= len(data),
            delta(before, after, "ifmatch_bytes_out_total"))
    # Every request but the scrape in progress is counted once in both families.
    r.eq("histogram _count equals the sum of ifmatch_requests_total",
         requests_sum(after), after.get("ifmatch_request_duration_seconds_count"))
    r.eq("+Inf bucket equals _count",
         after.get("ifmatch_request_duration_seconds_count"),
         after.get('ifmatch_request_duration_seconds_bucket{le="+Inf"}'))
    buckets = [v for k, v in after.items() if k.startswith("ifmatch_request_duration_seconds_bucket")]
    r.check("histogram buckets are cumulative", buckets == sorted(buckets), buckets)


def test_gauges():
    before, *_ = scrape()
    body = b"g" * 12345
    call("PUT", f"/{B}/gauge", body)
    mid, *_ = scrape()
    r.eq("objects_stored +1 after a PUT", 1, delta(before, mid, "ifmatch_objects_stored"))
    r.eq("bytes_stored +12345 after a PUT", len(body), delta(before, mid, "ifmatch_bytes_stored"))
    call("PUT", f"/{B}/gauge", b"short")
    call("DELETE", f"/{B}/gauge")
    after, *_ = scrape()
    r.eq("objects_stored back after overwrite + delete", 0,
         delta(before, after, "ifmatch_objects_stored"))
    r.eq("bytes_stored back after overwrite + delete", 0,
         delta(before, after, "ifmatch_bytes_stored"))


def test_race():
    """Concurrent If-None-Match: * PUTs on one key: each 412 and 409 shows in its counter."""
    before, *_ = scrape()
    statuses, lock = [], threading.Lock()
    body = b"r" * 300_000

    def worker():
        st = call("PUT", f"/{B}/race", body, {"If-None-Match": "*"})[0]
        with lock:
            statuses.append(st)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after, *_ = scrape()
    r.eq("exactly one racer wins", 1, statuses.count(200))
    r.eq("412s counted as create-if-absent conflicts", statuses.count(412),
         delta(before, after, "ifmatch_create_if_absent_conflicts_total"))
    r.eq("409s counted as ConditionalRequestConflict", statuses.count(409),
         delta(before, after, "ifmatch_conditional_request_conflicts_total"))
    print(f"     race outcomes: {sorted(statuses)}")


r.run("format", test_format)
r.run("counts", test_counts)
r.run("gauges", test_gauges)
r.run("race", test_race)
r.finish()
