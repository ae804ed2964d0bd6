"""Explained outcomes (spec D9) and deterministic races (spec D10) through boto3 (run via ../run.sh).

Arranges fault rules on /_ifmatch/faults and checks: 503 SlowDown is retried by boto3 (the call
succeeds after N faults with retries on, fails at once with retries off); an arranged 412 is not
retried; an injected write makes If-Match fail with a real 412; an injected delete makes an
If-None-Match: * PUT on an existing key fail with a real 409; a delay widens a race window
deterministically; refusals are recorded as events (with the writer of the current version) and,
only when asked with x-ifmatch-explain: 1, explained in response headers; `ifmatch explain`
prints the key's timeline from the API and from the data directory.
"""

import json
import os
import subprocess
import threading
import time
import urllib.request

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite explain_faults did not run")

r = lib.Reporter("explain_faults")
ENDPOINT = lib.endpoint()
BUCKET = "explain-faults"


def client(attempts):
    return boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"},
                                      connect_timeout=5, read_timeout=60))


s3 = client(1)
s3_retry = client(4)


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(ENDPOINT + "/_ifmatch/" + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read() or b"null")


def arrange(**rule):
    status, body = admin("POST", "faults", rule)
    r.eq(f"arrange {rule} -> 201", 201, status)
    return body


def code_of(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["ResponseMetadata"].get("RetryAttempts", 0))


s3.create_bucket(Bucket=BUCKET)
etag_a = s3.put_object(Bucket=BUCKET, Key="k", Body=b"version A")["ETag"]

# --- 503 SlowDown: retried (D10) ------------------------------------------------------------------
arrange(bucket=BUCKET, key="k", operation="GetObject", count=2, status=503)
got = r.run("GetObject with retries after 2 x 503", lambda: s3_retry.get_object(Bucket=BUCKET, Key="k"))
if got:
    r.eq("retried GetObject succeeds after the arranged 503s", b"version A", got["Body"].read())
    r.eq("boto3 reports 2 retry attempts", 2, got["ResponseMetadata"]["RetryAttempts"])
arrange(bucket=BUCKET, key="k", operation="PutObject", count=1, status=503)
r.eq("without retries the 503 SlowDown surfaces", (503, "SlowDown", 0),
     code_of(lambda: s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", IfMatch=etag_a)))
r.eq("faults expire after their uses", [], admin("GET", "faults")[1])

# --- 412 and 409 arranged: not retried --------------------------------------------------------
arrange(bucket=BUCKET, key="k", operation="PutObject", count=1, status=412)
r.eq("arranged 412 PreconditionFailed is not retried", (412, "PreconditionFailed", 0),
     code_of(lambda: s3_retry.put_object(Bucket=BUCKET, Key="k", Body=b"x", IfMatch=etag_a)))
arrange(bucket=BUCKET, prefix="k", operation="PutObject", count=1, status=409)
r.eq("arranged 409 ConditionalRequestConflict", 409,
     (code_of(lambda: s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", IfNoneMatch="*")) or [0])[0])
arrange(bucket=BUCKET, key="k", operation="HeadObject", count=1, status=500)
r.eq("arranged 500 on HEAD (no body)", 500,
     (code_of(lambda: s3.head_object(Bucket=BUCKET, Key="k")) or [0])[0])

# --- injected write -> real 412 from the evaluator ----------------------------------------------
arrange(bucket=BUCKET, key="k", operation="PutObject", count=1, inject="write")
r.eq("injected write: If-Match on the old ETag gets the evaluator's 412",
     (412, "PreconditionFailed", 0),
     code_of(lambda: s3.put_object(Bucket=BUCKET, Key="k", Body=b"mine", IfMatch=etag_a)))
head = s3.head_object(Bucket=BUCKET, Key="k")
r.check("the injected version is current (distinct body)", head["ETag"] != etag_a, head["ETag"])
etag_b = head["ETag"]

# --- events record the refusal with the injector as writer --------------------------------------
_, evs = admin("GET", f"events?bucket={BUCKET}&key=k&outcome=412")
last = evs[-1] if evs else {}
r.eq("event: operation", "PutObject", last.get("operation"))
r.eq("event: If-Match as sent", etag_a, last.get("conditions", {}).get("If-Match"))
r.eq("event: failed condition", "If-Match", last.get("failed_condition"))
r.eq("event: current ETag", etag_b, last.get("current", {}).get("etag"))
r.eq("event: current version written by the injector", "ifmatch-fault-injector",
     last.get("current", {}).get("writer", {}).get("access_key"))

# --- injected delete -> real 409 for If-None-Match: * on an existing key ------------------------
arrange(bucket=BUCKET, key="k", operation="PutObject", count=1, inject="delete")
r.eq("injected delete: If-None-Match * on an existing key gets 409",
     (409, "ConditionalRequestConflict", 0),
     code_of(lambda: s3.put_object(Bucket=BUCKET, Key="k", Body=b"mine", IfNoneMatch="*")))
r.eq("after the injected delete the key is gone", (404, "404", 0),
     code_of(lambda: s3.head_object(Bucket=BUCKET, Key="k")))

# --- delay widens a window deterministically ----------------------------------------------------
etag_c = s3.put_object(Bucket=BUCKET, Key="d", Body=b"start")["ETag"]
arrange(bucket=BUCKET, key="d", operation="PutObject", count=1, delay_ms=1500)
outcome = {}


def slow_put():
    outcome["slow"] = code_of(lambda: s3.put_object(Bucket=BUCKET, Key="d", Body=b"slow",
                                                    IfMatch=etag_c))


t = threading.Thread(target=slow_put)
started = time.monotonic()
t.start()
time.sleep(0.3)
s3.put_object(Bucket=BUCKET, Key="d", Body=b"fast writer")  # commits inside the held window
t.join()
r.check("delay held the request >= 1.5 s", time.monotonic() - started >= 1.4)
r.eq("the delayed If-Match write loses to the write committed meanwhile",
     (412, "PreconditionFailed", 0), outcome.get("slow"))

# --- explain headers only on request ------------------------------------------------------------
def raw_put(headers):
    req = urllib.request.Request(f"{ENDPOINT}/{BUCKET}/d", data=b"z", method="PUT", headers=headers)
    try:
        urllib.request.urlopen(req, timeout=10)
        return None
    except urllib.error.HTTPError as e:
        return e


plain = raw_put({"If-Match": '"0123"'})
explained = raw_put({"If-Match": '"0123"', "x-ifmatch-explain": "1"})
r.check("no x-ifmatch-* headers unless asked",
        plain is not None and not any(k.lower().startswith("x-ifmatch") for k in plain.headers))
if explained is not None:
    cur = s3.head_object(Bucket=BUCKET, Key="d")["ETag"]
    r.eq("x-ifmatch-current-etag", cur, explained.headers.get("x-ifmatch-current-etag"))
    r.eq("x-ifmatch-failed-condition", "If-Match", explained.headers.get("x-ifmatch-failed-condition"))
    r.check("x-ifmatch-last-writer names request@time by key",
            " by test" in (explained.headers.get("x-ifmatch-last-writer") or ""),
            explained.headers.get("x-ifmatch-last-writer"))
    r.check("x-ifmatch-current-last-modified present",
            explained.headers.get("x-ifmatch-current-last-modified"))

# --- 404 from If-Match on an absent key is an event --------------------------------------------
r.eq("If-Match on an absent key -> 404", (404, "NoSuchKey", 0),
     code_of(lambda: s3.put_object(Bucket=BUCKET, Key="absent", Body=b"x", IfMatch=etag_a)))
_, evs = admin("GET", f"events?bucket={BUCKET}&key=absent")
r.check("404 from If-Match recorded with current absent",
        evs and evs[-1]["status"] == 404 and evs[-1]["current"]["state"] == "absent", evs)

# --- ifmatch explain --url / --data -------------------------------------------------------------
binary = os.environ["IFMATCH_BIN"]
out = subprocess.run([binary, "explain", "--url", ENDPOINT, BUCKET, "k"], capture_output=True,
                     text=True, timeout=30)
r.eq("explain --url exits 0", 0, out.returncode)
r.check("explain --url shows the refused If-Match with both ETags",
        any("412" in line and etag_a in line and etag_b in line for line in out.stdout.splitlines()),
        out.stdout + out.stderr)
r.check("explain --url shows the injector's write",
        "ifmatch-fault-injector" in out.stdout and "wrote ETag " + etag_b in out.stdout, out.stdout)
time.sleep(0.5)  # events are persisted by the next group commit
out = subprocess.run([binary, "explain", "--data", lib.data_dir(), BUCKET, "k"],
                     capture_output=True, text=True, timeout=30)
r.eq("explain --data (read-only, server still running) exits 0", 0, out.returncode)
r.check("explain --data shows the 409 of the injected delete",
        "409 ConditionalRequestConflict" in out.stdout, out.stdout + out.stderr)
print(out.stdout)

# --- D9: a refusal whose current version was written with a User-Agent that is not UTF-8 is
# still persisted (its bytes become U+FFFD; the batch of events is not lost) -------------------
def raw(method, key, headers, data=None):
    req = urllib.request.Request(f"{ENDPOINT}/{BUCKET}/{key}", data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


r.eq("PUT with a Latin-1 User-Agent -> 200", 200,
     raw("PUT", "ua", {"User-Agent": "caf\xe9-client/1 \xff"}, b"ua body"))
r.eq("If-Match on it with a stale ETag -> 412", 412, raw("PUT", "ua", {"If-Match": '"0123"'}, b"x"))
time.sleep(0.5)  # events are persisted by the next group commit
out = subprocess.run([binary, "explain", "--data", lib.data_dir(), BUCKET, "ua"],
                     capture_output=True, text=True, errors="replace", timeout=30)
r.check("explain --data shows the persisted 412 of that key",
        "412 PreconditionFailed" in out.stdout, out.stdout + out.stderr)

# --- CompleteMultipartUpload: an injected write before its commit -> the evaluator's 412, and
# the refusal is recorded with the state it was decided against (D9, D10, R-M4) ----------------
mk = "mpu-k"
etag_m = s3.put_object(Bucket=BUCKET, Key=mk, Body=b"before upload")["ETag"]
up = s3.create_multipart_upload(Bucket=BUCKET, Key=mk)["UploadId"]
pe = s3.upload_part(Bucket=BUCKET, Key=mk, UploadId=up, PartNumber=1, Body=b"part")["ETag"]
arrange(bucket=BUCKET, key=mk, operation="CompleteMultipartUpload", count=1, inject="write")
r.eq("injected write before Complete: If-Match on the old ETag gets 412",
     (412, "PreconditionFailed", 0),
     code_of(lambda: s3.complete_multipart_upload(
         Bucket=BUCKET, Key=mk, UploadId=up, IfMatch=etag_m,
         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": pe}]})))
_, evs = admin("GET", f"events?bucket={BUCKET}&key={mk}")
last = evs[-1] if evs else {}
r.eq("the Complete refusal is an event", "CompleteMultipartUpload", last.get("operation"))
r.check("the event names the injected current version, not the one the client saw",
        etag_m not in json.dumps(last.get("current", last)), json.dumps(last)[:300])

# --- DeleteObjects: a per-key <ETag> refusal inside the 200 is an event too (D9, R-D11) ---------
dk = "dobj-k"
etag_d = s3.put_object(Bucket=BUCKET, Key=dk, Body=b"keep me")["ETag"]
res = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": dk, "ETag": '"0000"'}]})
r.eq("DeleteObjects with a stale ETag: per-key PreconditionFailed",
     ["PreconditionFailed"], [e["Code"] for e in res.get("Errors", [])])
_, evs = admin("GET", f"events?bucket={BUCKET}&key={dk}")
last = evs[-1] if evs else {}
r.eq("the per-key refusal is an event", ("DeleteObjects", 412),
     (last.get("operation"), last.get("status")))
r.check("the event names the current ETag", etag_d.strip('"') in json.dumps(last), json.dumps(last)[:300])
admin("DELETE", "faults")
r.finish()
