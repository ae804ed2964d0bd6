"""Lifecycle rules that act, on the clock the test moves (B-C1..B-C6; run through ../run.sh).

boto3 puts configurations (and sees S3's validation errors), then moves the store's clock with
POST /_ifmatch/clock: the lifecycle pass that follows expires current versions (a delete marker in
a versioned bucket, a removal otherwise), noncurrent versions, lone delete markers and incomplete
uploads, each through the ordinary decision path, named `lifecycle` in the events, counted in the
metrics, and idempotent across a restart. A conditional PUT that is in flight while an expiration
commits meets it (404 NoSuchKey), and x-amz-expiration announces the expiry on PUT, GET and HEAD.
"""

import datetime
import json
import os
import threading
import time
import urllib.request

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite lifecycle did not run")

r = lib.Reporter("lifecycle")
DAY = 86400

lib.stop_server()
os.environ["IFMATCH_CONTROLLABLE_CLOCK"] = "1"
os.environ["IFMATCH_LIFECYCLE_INTERVAL"] = "0"
lib.start_server()

s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(lib.endpoint() + "/_ifmatch/" + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw.startswith(b"{") or raw.startswith(b"[")
                             else raw.decode())


def advance(days):
    status, body = admin("POST", "clock", {"advance_seconds": int(days * DAY)})
    assert status == 200, body
    return body["lifecycle"]


def now():
    return datetime.datetime.fromtimestamp(admin("GET", "clock")[1]["now_ms"] / 1000,
                                           datetime.timezone.utc)


def code(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def exists(bucket, key):
    return code(lambda: s3.head_object(Bucket=bucket, Key=key)) is None


RULES = [
    {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
     "Expiration": {"Days": 1}},
    {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}},
    {"ID": "tagged", "Status": "Enabled",
     "Filter": {"And": {"Prefix": "tag/", "Tags": [{"Key": "gone", "Value": "yes"}]}},
     "Expiration": {"Days": 1}},
    {"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": "ver/"},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": "ver/"},
     "Expiration": {"ExpiredObjectDeleteMarker": True}},
    {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": "up/"},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
    {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "cold/"},
     "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
]

# --- configuration: not configured, validation, round trip (B-N1, B-C6) --------------------------
s3.create_bucket(Bucket="lc-plain")
r.eq("B-N1 a bucket without one: NoSuchLifecycleConfiguration", "NoSuchLifecycleConfiguration",
     code(lambda: s3.get_bucket_lifecycle_configuration(Bucket="lc-plain")))
bad = [
    ("Days 0", [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""},
                 "Expiration": {"Days": 0}}], "InvalidArgument"),
    ("duplicate IDs", [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "x"},
                        "Expiration": {"Days": 1}},
                       {"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "y"},
                        "Expiration": {"Days": 1}}], "InvalidArgument"),
    ("ExpiredObjectDeleteMarker with Days",
     [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""},
       "Expiration": {"Days": 1, "ExpiredObjectDeleteMarker": True}}], None),
]
for label, rules, want in bad:
    got = code(lambda: s3.put_bucket_lifecycle_configuration(
        Bucket="lc-plain", LifecycleConfiguration={"Rules": rules}))
    if want is None:
        r.check(f"B-C6 {label}: refused", got in ("InvalidArgument", "MalformedXML"), got)
    else:
        r.eq(f"B-C6 {label}: {want}", want, got)
s3.put_bucket_lifecycle_configuration(Bucket="lc-plain", LifecycleConfiguration={"Rules": RULES})
got = s3.get_bucket_lifecycle_configuration(Bucket="lc-plain")["Rules"]
r.eq("GET returns the rules' ids in order", [x["ID"] for x in RULES], [x["ID"] for x in got])
r.eq("... with their filters and actions",
     ({"Prefix": "tmp/"}, {"Days": 1}, "Disabled",
      {"NoncurrentDays": 1}, {"DaysAfterInitiation": 1}, "GLACIER"),
     (got[0]["Filter"], got[0]["Expiration"], got[1]["Status"],
      got[3]["NoncurrentVersionExpiration"], got[5]["AbortIncompleteMultipartUpload"],
      got[6]["Transitions"][0]["StorageClass"]))
r.eq("the And filter keeps its tag", [{"Key": "gone", "Value": "yes"}],
     got[2]["Filter"]["And"]["Tags"])

# --- x-amz-expiration (B-C5) and the current version's expiry, unversioned (B-C1) ---------------
put = s3.put_object(Bucket="lc-plain", Key="tmp/a", Body=b"a")
header = put["ResponseMetadata"]["HTTPHeaders"].get("x-amz-expiration", "")
r.check("B-C5 PUT announces x-amz-expiration with the rule id", 'rule-id="expire-tmp"' in header,
        header)
written = now()
due = (written + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
if due < written + datetime.timedelta(days=1):
    due += datetime.timedelta(days=1)
r.check("B-C1 ... due at the midnight UTC after one day",
        f'expiry-date="{due.strftime("%a, %d %b %Y %H:%M:%S GMT")}"' in header, (header, due))
head = s3.head_object(Bucket="lc-plain", Key="tmp/a")["ResponseMetadata"]["HTTPHeaders"]
r.eq("B-C5 HEAD announces the same", header, head.get("x-amz-expiration"))
get = s3.get_object(Bucket="lc-plain", Key="tmp/a")["ResponseMetadata"]["HTTPHeaders"]
r.eq("B-C5 GET announces the same", header, get.get("x-amz-expiration"))
s3.put_object(Bucket="lc-plain", Key="keep/a", Body=b"k")
keep = s3.head_object(Bucket="lc-plain", Key="keep/a")["ResponseMetadata"]["HTTPHeaders"]
r.eq("a Disabled rule announces nothing", None, keep.get("x-amz-expiration"))
s3.put_object(Bucket="lc-plain", Key="tag/yes", Body=b"t", Tagging="gone=yes")
s3.put_object(Bucket="lc-plain", Key="tag/no", Body=b"t", Tagging="gone=no")
s3.put_object(Bucket="lc-plain", Key="cold/a", Body=b"c")

passed = advance((due - written).total_seconds() / DAY - 0.01)
r.eq("just before the due midnight nothing expires", 0, passed["expired_current"])
r.check("tmp/a is still there", exists("lc-plain", "tmp/a"), "")
passed = advance(0.02)
r.eq("after it: tmp/a and tag/yes expire", 2, passed["expired_current"])
r.eq("unversioned: the object is gone (404)", "404", code(lambda: s3.head_object(Bucket="lc-plain",
                                                                                Key="tmp/a")))
r.eq("the tag filter: tag/yes gone, tag/no kept", (False, True),
     (exists("lc-plain", "tag/yes"), exists("lc-plain", "tag/no")))
r.check("a Disabled rule never acts: keep/a stays", exists("lc-plain", "keep/a"), "")
r.check("transitions are recorded, the bytes stay: cold/a stays", exists("lc-plain", "cold/a"), "")

# --- versioned: a delete marker, noncurrent versions, lone markers (B-C1..B-C3) ------------------
s3.create_bucket(Bucket="lc-ver")
s3.put_bucket_versioning(Bucket="lc-ver", VersioningConfiguration={"Status": "Enabled"})
s3.put_bucket_lifecycle_configuration(Bucket="lc-ver", LifecycleConfiguration={"Rules": RULES})
v1 = s3.put_object(Bucket="lc-ver", Key="ver/x", Body=b"1")["VersionId"]
advance(0.5)
v2 = s3.put_object(Bucket="lc-ver", Key="ver/x", Body=b"2")["VersionId"]
s3.put_object(Bucket="lc-ver", Key="tmp/v", Body=b"v")
passed = advance(0.7)
r.eq("B-C2 noncurrent age counts from when it became noncurrent: v1 kept at 0.7 days",
     0, passed["expired_noncurrent"])
passed = advance(1.5)
r.eq("B-C2 ... then v1 expires", 1, passed["expired_noncurrent"])
vs = s3.list_object_versions(Bucket="lc-ver", Prefix="ver/x")
r.eq("only v2 is left", [v2], [v["VersionId"] for v in vs.get("Versions", [])])
r.eq("B-C1 versioned: the expired current version became a delete marker", 1,
     len(s3.list_object_versions(Bucket="lc-ver", Prefix="tmp/v").get("DeleteMarkers", [])))
r.eq("... and its version stays", 1,
     len(s3.list_object_versions(Bucket="lc-ver", Prefix="tmp/v").get("Versions", [])))
status, evs = admin("GET", "events?bucket=lc-ver&key=tmp/v")
lc = [e for e in evs if e.get("access_key") == "lifecycle"]
r.check("the event log names the writer lifecycle and its rule",
        lc and lc[-1]["operation"] == "LifecycleExpiration" and
        lc[-1]["request_id"].startswith("lifecycle:expire-tmp:"), evs)
s3.delete_object(Bucket="lc-ver", Key="ver/x")
passed = advance(2)
r.eq("B-C2 v2, noncurrent under the marker, expires", 1, passed["expired_noncurrent"])
r.eq("B-C3 the lone delete marker is removed in the same pass", 1,
     passed["removed_delete_markers"])
vs = s3.list_object_versions(Bucket="lc-ver", Prefix="ver/x")
r.eq("ver/x has no versions and no markers left", ([], []),
     (vs.get("Versions", []), vs.get("DeleteMarkers", [])))

# --- incomplete multipart uploads (B-C4) ---------------------------------------------------------
up = s3.create_multipart_upload(Bucket="lc-plain", Key="up/m")["UploadId"]
other = s3.create_multipart_upload(Bucket="lc-plain", Key="other/m")["UploadId"]
passed = advance(2.01)
r.eq("B-C4 the upload under up/ is aborted", 1, passed["aborted_uploads"])
left = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="lc-plain").get("Uploads", [])]
r.eq("... the one outside the filter stays", [other], left)
r.eq("the aborted id answers NoSuchUpload", "NoSuchUpload",
     code(lambda: s3.list_parts(Bucket="lc-plain", Key="up/m", UploadId=up)))

# --- a conditional PUT in flight while an expiration commits --------------------------------------
etag = s3.put_object(Bucket="lc-ver", Key="tmp/race", Body=b"r")["ETag"]
admin("POST", "faults", {"bucket": "lc-ver", "key": "tmp/race", "operation": "PutObject",
                         "count": 1, "delay_ms": 1500})
result = {}


def guarded_put():
    result["code"] = code(lambda: s3.put_object(Bucket="lc-ver", Key="tmp/race", Body=b"new",
                                                IfMatch=etag))


t = threading.Thread(target=guarded_put)
t.start()
time.sleep(0.5)  # the PUT's head is in, its commit is held back
passed = advance(3)
t.join()
r.check("the expiration committed while the PUT waited", passed["expired_current"] >= 1, passed)
r.eq("the If-Match PUT then meets the delete marker: 404 NoSuchKey", "NoSuchKey", result["code"])
status, evs = admin("GET", "events?bucket=lc-ver&key=tmp/race")
refused = [e for e in evs if e.get("status") == 404]
r.check("its event shows the current state written by lifecycle",
        refused and refused[-1]["current"]["state"] == "delete marker" and
        refused[-1]["current"]["writer"]["access_key"] == "lifecycle", evs)

# --- metrics, idempotence across a restart --------------------------------------------------------
status, text = admin("GET", "metrics")
r.check("metrics count lifecycle actions",
        'ifmatch_lifecycle_actions_total{action="expire_current"}' in text and
        'ifmatch_lifecycle_actions_total{action="abort_upload"} 1' in text, text[-800:])
lib.stop_server()
lib.start_server()
status, again = admin("POST", "lifecycle")
r.eq("after a restart a pass finds nothing left to do",
     {"expired_current": 0, "expired_noncurrent": 0, "removed_delete_markers": 0,
      "aborted_uploads": 0, "lost_races": 0, "kept_locked": 0}, again)
r.check("keep/a, tag/no and cold/a survived everything",
        exists("lc-plain", "keep/a") and exists("lc-plain", "tag/no") and exists("lc-plain", "cold/a"), "")
s3.delete_bucket_lifecycle(Bucket="lc-plain")
r.eq("DeleteBucketLifecycle removes it", "NoSuchLifecycleConfiguration",
     code(lambda: s3.get_bucket_lifecycle_configuration(Bucket="lc-plain")))
r.finish()
