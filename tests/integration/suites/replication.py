"""Replication that really writes (B-R1..B-R4; run through ../run.sh).

boto3 puts a replication configuration (and meets S3's validation: both buckets versioned, the
destination must exist); a new version in the source shows x-amz-replication-status PENDING, then
COMPLETED, and the destination holds a REPLICA with the same version id, ETag, metadata and tags.
Keys outside the rule's prefix are not replicated; a destination that went away makes the source
FAILED. Delete markers replicate (same version id) only under a rule with DeleteMarkerReplication
Enabled or a V1 rule, and a V1 configuration is answered as V1. Fault rules hold a replication
(the client's write to the destination lands first, then the replica overwrites it and the
client's If-Match is 412) or fail one (FAILED, an event). A client's If-None-Match: * PUT to the destination, in flight while the replica commits,
is refused (412) and its event names the replication as the last writer. Pending work survives a
kill -9: it is in the store. Every wait is bounded.
"""

import json
import os
import socket
import time
import urllib.request

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite replication did not run")

r = lib.Reporter("replication")
SRC, DST, GONE = "repl-src", "repl-dst", "repl-gone"


def restart(delay_ms):
    os.environ["IFMATCH_REPLICATION_DELAY_MS"] = str(delay_ms)
    lib.start_server()


lib.stop_server()
restart(600)

s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))


def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"].get("Message", ""))
    return ("ok", None, None)


def versioned(bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def config(dest, prefix="", priority=1, rule_id="r1", extra_rules=()):
    rules = [{"ID": rule_id, "Priority": priority, "Status": "Enabled",
              "Filter": {"Prefix": prefix},
              "DeleteMarkerReplication": {"Status": "Disabled"},
              "Destination": {"Bucket": f"arn:aws:s3:::{dest}"}}]
    rules += list(extra_rules)
    return {"Role": "arn:aws:iam::123456789012:role/replication", "Rules": rules}


def status(bucket, key, version_id=None):
    kw = {"Bucket": bucket, "Key": key}
    if version_id:
        kw["VersionId"] = version_id
    return s3.head_object(**kw).get("ReplicationStatus")


def wait_status(bucket, key, version_id, want, timeout=8.0):
    deadline = time.monotonic() + timeout
    got = status(bucket, key, version_id)
    while got != want and time.monotonic() < deadline:
        time.sleep(0.1)
        got = status(bucket, key, version_id)
    return got


# --- B-R1 validation -----------------------------------------------------------------------------
for b in (SRC, DST, GONE):
    s3.create_bucket(Bucket=b)
r.eq("GetBucketReplication without one -> 404 ReplicationConfigurationNotFoundError",
     404, code(s3.get_bucket_replication, Bucket=SRC)[0])
r.eq("B-R1 source without versioning -> 400 InvalidRequest",
     (400, "InvalidRequest"),
     code(s3.put_bucket_replication, Bucket=SRC, ReplicationConfiguration=config(DST))[:2])
versioned(SRC)
r.eq("B-R1 a destination that does not exist -> 400 InvalidRequest",
     (400, "InvalidRequest", "Destination bucket must exist."),
     code(s3.put_bucket_replication, Bucket=SRC,
          ReplicationConfiguration=config("repl-nowhere")))
r.eq("B-R1 a destination without versioning -> 400 InvalidRequest",
     (400, "InvalidRequest", "Destination bucket must have versioning enabled."),
     code(s3.put_bucket_replication, Bucket=SRC, ReplicationConfiguration=config(DST)))
versioned(DST)
versioned(GONE)
gone_rule = {"ID": "gone", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "gone/"},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": f"arn:aws:s3:::{GONE}"}}
r.eq("PutBucketReplication with both buckets versioned", ("ok", None, None),
     code(s3.put_bucket_replication, Bucket=SRC,
          ReplicationConfiguration=config(DST, prefix="data/", extra_rules=[gone_rule])))
got = s3.get_bucket_replication(Bucket=SRC)["ReplicationConfiguration"]
r.eq("GetBucketReplication returns the rules", {"r1": f"arn:aws:s3:::{DST}",
                                                  "gone": f"arn:aws:s3:::{GONE}"},
     {x["ID"]: x["Destination"]["Bucket"] for x in got["Rules"]})

# --- B-R2 PENDING -> COMPLETED, the replica ------------------------------------------------------
put = s3.put_object(Bucket=SRC, Key="data/a.txt", Body=b"replicate me",
                    Metadata={"owner": "team-a"}, Tagging="env=test", ContentType="text/plain")
vid = put["VersionId"]
r.eq("B-R2 a new version is PENDING at first", "PENDING", status(SRC, "data/a.txt", vid))
r.eq("B-R2 ... then COMPLETED", "COMPLETED", wait_status(SRC, "data/a.txt", vid, "COMPLETED"))
try:
    rep = s3.head_object(Bucket=DST, Key="data/a.txt", VersionId=vid)
    r.eq("B-R2 the replica has the source's version id", vid, rep.get("VersionId"))
    r.eq("B-R2 ... is REPLICA", "REPLICA", rep.get("ReplicationStatus"))
    r.eq("B-R2 ... has the same ETag", put["ETag"], rep.get("ETag"))
    r.eq("B-R2 ... the same metadata", {"owner": "team-a"}, rep.get("Metadata"))
    r.eq("B-R2 ... the same content type", "text/plain", rep.get("ContentType"))
    tags = s3.get_object_tagging(Bucket=DST, Key="data/a.txt", VersionId=vid)["TagSet"]
    r.eq("B-R2 ... the same tags", [{"Key": "env", "Value": "test"}], tags)
    body = s3.get_object(Bucket=DST, Key="data/a.txt")["Body"].read()
    r.eq("B-R2 ... the same bytes", b"replicate me", body)
except ClientError as e:
    r.fail("B-R2 the replica exists", str(e))

big = os.urandom(3 * 1024 * 1024 + 17)
put_big = s3.put_object(Bucket=SRC, Key="data/big.bin", Body=big)
r.eq("B-R2 a 3 MiB version replicates", "COMPLETED",
     wait_status(SRC, "data/big.bin", put_big["VersionId"], "COMPLETED"))
r.eq("B-R2 ... byte for byte", big,
     s3.get_object(Bucket=DST, Key="data/big.bin")["Body"].read())

s3.put_object(Bucket=SRC, Key="other/b.txt", Body=b"stay")
time.sleep(1.0)
r.eq("a key outside every rule's prefix has no replication status", None,
     status(SRC, "other/b.txt"))
r.eq("... and is not replicated", (404, "404"),
     code(s3.head_object, Bucket=DST, Key="other/b.txt")[:2])

# --- B-R3 deleting a version never replicates -----------------------------------------------------
s3.delete_object(Bucket=SRC, Key="data/a.txt", VersionId=vid)
time.sleep(1.0)
r.eq("B-R3 deleting the source version leaves the replica", vid,
     s3.head_object(Bucket=DST, Key="data/a.txt", VersionId=vid).get("VersionId"))

# --- FAILED: the destination went away -----------------------------------------------------------
s3.delete_bucket(Bucket=GONE)
put_gone = s3.put_object(Bucket=SRC, Key="gone/x", Body=b"x")
r.eq("B-R2 a destination that went away makes the version FAILED", "FAILED",
     wait_status(SRC, "gone/x", put_gone["VersionId"], "FAILED"))

# --- B-R4 a client's conditional write racing a replica ------------------------------------------
port = lib.port()
sock = socket.create_connection(("127.0.0.1", port), timeout=15)
payload = b"client's own bytes"
sock.sendall((f"PUT /{DST}/data/race HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
              f"If-None-Match: *\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
             + payload[:5])
time.sleep(0.2)
race = s3.put_object(Bucket=SRC, Key="data/race", Body=b"the replica")
r.eq("B-R4 the replica commits while the client's PUT is in flight", "COMPLETED",
     wait_status(SRC, "data/race", race["VersionId"], "COMPLETED"))
sock.sendall(payload[5:])
resp, _ = lib.read_response(sock)
sock.close()
r.eq("B-R4 the client's If-None-Match: * PUT meets the replica: 412", 412, resp.status)
rid = resp.header("x-amz-request-id")
events = json.loads(urllib.request.urlopen(
    f"{lib.endpoint()}/_ifmatch/events?bucket={DST}&key=data/race", timeout=10).read())
mine = [e for e in events if e.get("request_id") == rid]
r.check("B-R4 the refusal is an event naming the replication as the last writer",
        len(mine) == 1 and mine[0]["current"].get("writer", {}).get("access_key") == "replication",
        f"{mine}")
r.eq("B-R4 the destination holds the replica", b"the replica",
     s3.get_object(Bucket=DST, Key="data/race")["Body"].read())

# --- pending work survives kill -9 ---------------------------------------------------------------
lib.stop_server()
restart(60000)  # held PENDING for a minute
pending = s3.put_object(Bucket=SRC, Key="data/pending", Body=b"later")
r.eq("a version held PENDING by --replication-delay-ms", "PENDING",
     status(SRC, "data/pending", pending["VersionId"]))
lib.kill9_server()
restart(0)
r.eq("after kill -9 and a restart the pending version replicates", "COMPLETED",
     wait_status(SRC, "data/pending", pending["VersionId"], "COMPLETED"))
r.eq("... into the destination", b"later",
     s3.get_object(Bucket=DST, Key="data/pending")["Body"].read())

metrics = urllib.request.urlopen(f"{lib.endpoint()}/_ifmatch/metrics", timeout=10).read().decode()
line = [x for x in metrics.splitlines()
        if x.startswith('ifmatch_replication_total{outcome="completed"}')]
r.check("the metrics count completed replicas", bool(line) and int(line[0].split()[-1]) >= 1,
        f"{line}")



def admin(method, path, doc=None):
    data = json.dumps(doc).encode() if doc is not None else None
    req = urllib.request.Request(lib.endpoint() + path, method=method, data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def dest_markers(key):
    out = s3.list_object_versions(Bucket=DST, Prefix=key)
    return [m["VersionId"] for m in out.get("DeleteMarkers", []) if m["Key"] == key]


# --- B-R3 delete markers replicate when the rule says so -----------------------------------------
marks_rule = {"ID": "marks", "Priority": 3, "Status": "Enabled", "Filter": {"Prefix": "marks/"},
              "DeleteMarkerReplication": {"Status": "Enabled"},
              "Destination": {"Bucket": f"arn:aws:s3:::{DST}"}}
tag_rule = {"ID": "tagged", "Priority": 4, "Status": "Enabled",
            "Filter": {"Tag": {"Key": "k", "Value": "v"}},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{DST}"}}
r.eq("B-R3 a tag rule that replicates delete markers -> 400 InvalidRequest",
     (400, "InvalidRequest"),
     code(s3.put_bucket_replication, Bucket=SRC,
          ReplicationConfiguration=config(DST, prefix="data/", extra_rules=[tag_rule]))[:2])
s3.put_bucket_replication(Bucket=SRC, ReplicationConfiguration=config(
    DST, prefix="data/", extra_rules=[marks_rule]))
m_put = s3.put_object(Bucket=SRC, Key="marks/m", Body=b"soon deleted")
r.eq("B-R3 the object under a marker-replicating rule replicates first", "COMPLETED",
     wait_status(SRC, "marks/m", m_put["VersionId"], "COMPLETED"))
m_del = s3.delete_object(Bucket=SRC, Key="marks/m")
r.eq("B-R3 the client's delete writes a marker in the source", "true",
     str(m_del.get("DeleteMarker")).lower())
r.eq("B-R3 the marker is replicated with the source marker's version id",
     [m_del["VersionId"]], lib.wait_for(lambda: dest_markers("marks/m")))
r.eq("B-R3 ... so the destination key reads 404", (404, "404"),
     code(s3.head_object, Bucket=DST, Key="marks/m")[:2])
r.eq("B-R3 ... and the replica version stays under it", m_put["VersionId"],
     s3.head_object(Bucket=DST, Key="marks/m", VersionId=m_put["VersionId"]).get("VersionId"))
k_put = s3.put_object(Bucket=SRC, Key="data/kept", Body=b"kept")
wait_status(SRC, "data/kept", k_put["VersionId"], "COMPLETED")
s3.delete_object(Bucket=SRC, Key="data/kept")
time.sleep(1.0)
r.eq("B-R3 with DeleteMarkerReplication Disabled the marker stays in the source", [],
     dest_markers("data/kept"))
r.eq("B-R3 ... and the destination still serves the object", b"kept",
     s3.get_object(Bucket=DST, Key="data/kept")["Body"].read())

# --- B-R4 fault rules: hold a replication, fail one ----------------------------------------------
hold = admin("POST", "/_ifmatch/faults",
             {"bucket": SRC, "key": "data/held", "operation": "Replicate", "hold": True})
held = s3.put_object(Bucket=SRC, Key="data/held", Body=b"from the source")
time.sleep(0.8)
r.eq("B-R4 a hold rule keeps the version PENDING", "PENDING",
     status(SRC, "data/held", held["VersionId"]))
mine = s3.put_object(Bucket=DST, Key="data/held", Body=b"the client's", IfNoneMatch="*")
r.check("B-R4 ... so the client's If-None-Match: * PUT to the destination wins (200)",
        bool(mine.get("ETag")), f"{mine}")
admin("DELETE", f"/_ifmatch/faults?id={hold['id']}")
r.eq("B-R4 released, the replication completes", "COMPLETED",
     wait_status(SRC, "data/held", held["VersionId"], "COMPLETED"))
r.eq("B-R4 ... and the replica is now the destination's current version", b"from the source",
     s3.get_object(Bucket=DST, Key="data/held")["Body"].read())
r.eq("B-R4 the client's If-Match on its own ETag now -> 412",
     (412, "PreconditionFailed"),
     code(s3.put_object, Bucket=DST, Key="data/held", Body=b"again", IfMatch=mine["ETag"])[:2])
ev = admin("GET", f"/_ifmatch/events?bucket={DST}&key=data/held")
r.check("B-R4 ... explained with the replication as the last writer",
        bool(ev) and ev[-1]["current"].get("writer", {}).get("access_key") == "replication",
        f"{ev[-1:] if ev else ev}")

admin("POST", "/_ifmatch/faults",
      {"bucket": SRC, "key": "data/fails", "operation": "Replicate", "fail": True, "count": 1})
f1 = s3.put_object(Bucket=SRC, Key="data/fails", Body=b"1")
r.eq("B-R4 a fail rule makes the replication FAILED", "FAILED",
     wait_status(SRC, "data/fails", f1["VersionId"], "FAILED"))
ev = admin("GET", f"/_ifmatch/events?bucket={SRC}&key=data/fails")
r.check("B-R4 ... an event of the source key names the rule",
        any(e["operation"] == "Replicate" and e["code"] == "ReplicationFailed"
            and "fault #" in e.get("failed_condition", "") for e in ev), f"{ev}")
r.eq("B-R4 ... and nothing reached the destination", (404, "NoSuchKey"),
     code(s3.get_object, Bucket=DST, Key="data/fails")[:2])
f2 = s3.put_object(Bucket=SRC, Key="data/fails", Body=b"2")
r.eq("B-R4 the rule was used once: the next version replicates", "COMPLETED",
     wait_status(SRC, "data/fails", f2["VersionId"], "COMPLETED"))
r.eq("B-R4 no rule is left", [], admin("GET", "/_ifmatch/faults"))

# --- a V1 (legacy) configuration is answered as V1 and replicates delete markers ------------------
v1 = {"Role": "arn:aws:iam::123456789012:role/replication",
      "Rules": [{"ID": "legacy", "Prefix": "legacy/", "Status": "Enabled",
                 "Destination": {"Bucket": f"arn:aws:s3:::{DST}"}}]}
s3.put_bucket_replication(Bucket=SRC, ReplicationConfiguration=v1)
got = s3.get_bucket_replication(Bucket=SRC)["ReplicationConfiguration"]["Rules"][0]
r.eq("a V1 rule is answered in V1: a Prefix, no Filter, no DeleteMarkerReplication",
     ("legacy/", False, False),
     (got.get("Prefix"), "Filter" in got, "DeleteMarkerReplication" in got))
l_put = s3.put_object(Bucket=SRC, Key="legacy/x", Body=b"old style")
wait_status(SRC, "legacy/x", l_put["VersionId"], "COMPLETED")
l_del = s3.delete_object(Bucket=SRC, Key="legacy/x")
r.eq("a V1 rule replicates delete markers", [l_del["VersionId"]],
     lib.wait_for(lambda: dest_markers("legacy/x")))

r.eq("DeleteBucketReplication", ("ok", None, None),
     code(s3.delete_bucket_replication, Bucket=SRC))
r.eq("... then GetBucketReplication -> 404", 404, code(s3.get_bucket_replication, Bucket=SRC)[0])
r.finish()
