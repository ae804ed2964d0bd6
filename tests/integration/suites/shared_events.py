"""Shared mode: one view of conflicts across replicas, and background work on one replica.

* A 412 answered by replica b is listed by replica a's /_ifmatch/events (filtered by bucket and
  key, and by outcome), naming b as the replica that answered; a's own 412 names a.
* The key timeline (/_ifmatch/api/timeline) through a shows b's refusal next to the versions.
* The live stream (/_ifmatch/events/stream) opened on a carries an event answered by b.
* The scheduled lifecycle pass runs on one replica at a time: with --lifecycle-interval 1 on both
  replicas, the `lifecycle` lease row in PostgreSQL names one holder, and that holder stays the
  same while it lives.
* Fault rules are rows: a rule arranged through a is listed by b, and its uses go to exactly
  `count` matching requests on either replica, also when 40 race across both. A replication hold
  arranged through b keeps a version PENDING until it is released through a; then the replica
  (and later a delete marker) is written by whichever replica holds the replication lease. A
  third replica started with --fault-rules local keeps its rules to itself.
Every wait is bounded.
"""

import json
import socket
import time

import lib
import s3raw
import sharedmode

r = lib.Reporter("shared_events")
started = time.monotonic()
env = sharedmode.setup(r, flags=["--lifecycle-interval", "1"])
a, b = env.clients
B = "shared-events"


def events_on(client, query):
    resp = client.request("GET", "/_ifmatch/events?" + query)
    if resp.status != 200:
        return None
    return json.loads(resp.body)


r.eq("CreateBucket through a", 200, a.create_bucket(B).status)
r.eq("PUT k through a", 200, a.put(B, "k", "one").status)
refused = b.put(B, "k", "two", {"If-None-Match": "*"})
r.eq("If-None-Match: * through b is 412", 412, refused.status)
rid_b = refused.header("x-amz-request-id")


def b_event_on_a():
    evs = events_on(a, f"bucket={B}&key=k") or []
    return [e for e in evs if e.get("request_id") == rid_b]


seen = lib.wait_for(b_event_on_a, timeout=5.0)
if r.check("a's /_ifmatch/events lists the 412 b answered", len(seen) == 1, f"{seen}"):
    e = seen[0]
    r.eq("the event names replica b", "b", e.get("replica"))
    r.eq("the event's status", 412, e.get("status"))
    r.eq("the event's code", "PreconditionFailed", e.get("code"))
    r.eq("the event saw the object a wrote", "object", e.get("current", {}).get("state"))

refused_a = a.put(B, "k", "three", {"If-Match": '"0123456789abcdef0123456789abcdef"'})
r.eq("If-Match with a stale ETag through a is 412", 412, refused_a.status)
rid_a = refused_a.header("x-amz-request-id")


def a_event_on_b():
    evs = events_on(b, f"bucket={B}&outcome=412") or []
    return [e for e in evs if e.get("request_id") == rid_a]


seen_a = lib.wait_for(a_event_on_b)
r.check("b's /_ifmatch/events?outcome=412 lists a's 412, naming a",
        len(seen_a) == 1 and seen_a[0].get("replica") == "a", f"{seen_a}")
both = events_on(b, f"bucket={B}&outcome=412") or []
r.check("b lists both replicas' 412s", {"a", "b"} <= {e.get("replica") for e in both},
        f"{[(e.get('replica'), e.get('status')) for e in both]}")

hist = a.request("GET", f"/_ifmatch/api/timeline?bucket={B}&key=k")
if r.eq("key timeline through a", 200, hist.status):
    doc = json.loads(hist.body)
    text = json.dumps(doc)
    r.check("the key timeline through a carries b's refusal", rid_b in text, text[:400])


def stream_sees(client, trigger, want_rid_fn, timeout=6.0):
    """Opens the live stream on `client`, runs `trigger()` and reads until an event with the
    request id `want_rid_fn()` names arrives (or the time is up)."""
    sock = socket.create_connection(("127.0.0.1", client.port), timeout=timeout)
    try:
        sock.sendall(f"GET /_ifmatch/events/stream HTTP/1.1\r\nHost: 127.0.0.1:{client.port}"
                     "\r\n\r\n".encode())
        buf = b""
        deadline = time.monotonic() + timeout
        while b": connected" not in buf and time.monotonic() < deadline:
            buf += sock.recv(65536)
        rid = trigger()
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
            if rid and rid.encode() in buf:
                return True, buf
        return False, buf
    finally:
        sock.close()


def trigger_on_b():
    resp = b.put(B, "k", "four", {"If-None-Match": "*"})
    return resp.header("x-amz-request-id") if resp.status == 412 else None


ok, buf = stream_sees(a, trigger_on_b, None)
r.check("a's live stream carries a 412 answered by b", ok, buf[-400:])

# Background work: one lifecycle lease holder.
def holders():
    out = env.pg.psql(env.db, "select holder from leases where task = 'lifecycle'")
    return [line for line in out.splitlines() if line.strip()]


first = lib.wait_for(holders, timeout=8.0)
r.check("one replica holds the lifecycle lease", len(first) == 1, f"{first}")
time.sleep(2.5)
later = holders()
r.check("the same replica still holds it two intervals later", later == first,
        f"{first} then {later}")

# Fault rules are rows: arranged through a, used on whichever replica the request lands.
def faults_on(client, method="GET", body=None, query=""):
    resp = client.request(method, "/_ifmatch/faults" + query,
                          {"Content-Type": "application/json"},
                          json.dumps(body).encode() if body is not None else b"")
    return resp.status, (json.loads(resp.body) if resp.body else None)


status, rule = faults_on(a, "POST", {"bucket": B, "key": "faulty", "operation": "PutObject",
                                     "count": 3, "status": 503})
r.eq("a fault rule arranged through a", 201, status)
status, listed = faults_on(b)
r.check("b lists the rule arranged through a",
        status == 200 and [x["id"] for x in listed] == [rule["id"]], f"{status} {listed}")
got = [c.put(B, "faulty", f"try {i}").status for i, c in enumerate([b, a, b, a, b])]
r.eq("its 3 uses go to the next 3 matching requests on either replica, then writes succeed",
     [503, 503, 503, 200, 200], got)
r.eq("... and the used-up rule is gone on both", ([], []), (faults_on(a)[1], faults_on(b)[1]))

# --fault-rules local: that replica keeps its own rules and never asks the store.
c_replica = env.add_replica("c", ["--fault-rules", "local"])
c = sharedmode.Client(c_replica)
status, local_rule = faults_on(c, "POST", {"bucket": B, "key": "local-only",
                                           "operation": "PutObject", "status": 503})
r.eq("a rule arranged through a replica with --fault-rules local", 201, status)
r.eq("... is not a row: a does not list it", [], faults_on(a)[1])
r.eq("... a request through a does not meet it", 200, a.put(B, "local-only", "x").status)
r.eq("... the same request through c does", 503, c.put(B, "local-only", "x").status)
status, shared_rule = faults_on(a, "POST", {"bucket": B, "key": "shared-only",
                                            "operation": "PutObject", "status": 503})
r.eq("... and a row arranged through a does not bind c", 200,
     c.put(B, "shared-only", "x").status)
faults_on(a, "DELETE")
# c leaves before the replication checks: as a lease holder it would not see rows' holds.
r.eq("replica c exits 0 on SIGTERM", 0, c_replica.stop(timeout=15))

# Concurrent requests on both replicas share the uses exactly.
status, rule = faults_on(b, "POST", {"bucket": B, "prefix": "storm/", "operation": "PutObject",
                                     "count": 10, "status": 503})
outcomes = sharedmode.parallel(lambda i: (a if i % 2 else b).put(B, f"storm/{i}", "x").status,
                               range(40), workers=16)
r.eq("40 racing PUTs across both replicas: exactly 10 meet the rule",
     (10, 30), (outcomes.count(503), outcomes.count(200)))

# A hold rule for the replication worker, arranged on b, released on a; the worker runs on
# whichever replica holds the replication lease.
SRC, DST = "shared-repl-src", "shared-repl-dst"
for bucket in (SRC, DST):
    a.create_bucket(bucket)
    a.enable_versioning(bucket)
repl = ('<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role><Rule><ID>all</ID>'
        '<Priority>1</Priority><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>'
        f'<Destination><Bucket>arn:aws:s3:::{DST}</Bucket></Destination>'
        '<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication></Rule>'
        '</ReplicationConfiguration>')
r.eq("PutBucketReplication through a", 200,
     a.request("PUT", s3raw.path_of(SRC, query=[("replication", None)]), {}, repl).status)
status, hold = faults_on(b, "POST", {"bucket": SRC, "key": "held", "operation": "Replicate",
                                     "hold": True})
r.eq("a hold rule arranged through b", 201, status)
put = a.put(SRC, "held", "replicate me")
vid = put.header("x-amz-version-id")


def repl_status(client):
    resp = client.head(SRC, "held", query=[("versionId", vid)])
    return resp.header("x-amz-replication-status")


time.sleep(1.0)
r.eq("held: PENDING on both replicas", ("PENDING", "PENDING"), (repl_status(a), repl_status(b)))
r.eq("released through a", 200, faults_on(a, "DELETE", query=f"?id={hold['id']}")[0])
r.eq("then the replication completes", "COMPLETED",
     lib.wait_for(lambda: repl_status(b) if repl_status(b) == "COMPLETED" else None, timeout=8.0))
r.eq("... the replica reads the same through either replica",
     (b"replicate me", b"replicate me"), (a.get(DST, "held").body, b.get(DST, "held").body))
gone = b.delete(SRC, "held")
marker = gone.header("x-amz-version-id")


def dst_marker():
    resp = a.list_versions(DST, prefix="held")
    return marker.encode() in resp.body and b"<DeleteMarker>" in resp.body


r.check("a delete marker written through b replicates with its version id",
        lib.wait_for(dst_marker, timeout=8.0), marker)

env.finish(started)
