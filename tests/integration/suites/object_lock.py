# ifmatch-flags: --controllable-clock
"""Object Lock with boto3 (B-L1..B-L7, docs/bucket-configuration.md; run through ../run.sh).

Buckets created with Object Lock or given a configuration once versioning is Enabled; retention in
GOVERNANCE and COMPLIANCE mode, the governance bypass, legal holds, default retention; the refused
permanent deletes (DeleteObject with a version id, DeleteObjects per key, lifecycle) while a delete
marker is always allowed; B-L6's Content-MD5 / checksum requirement with raw requests; the store's
clock moved past a retain-until date (POST /_ifmatch/clock) releasing the version; the outcome
event naming the lock; a copy never inheriting the source's retention; and the issue's story, a
cleanup job that must not delete a locked artifact.
"""

import base64
import datetime
import hashlib
import json
import urllib.request
import zlib

import lib
import s3raw

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite object_lock did not run")

r = lib.Reporter("object_lock")
DAY = 86400
UTC = datetime.timezone.utc

s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))

# Every request boto3 sends, (operation, headers), to assert what the client really sent.
sent = []


def _record(request, **kwargs):
    op = kwargs.get("event_name", "").split(".")[-1]
    sent.append((op, {k.lower(): (v.decode() if isinstance(v, bytes) else v)
                      for k, v in request.headers.items()}))


s3.meta.events.register("before-send.s3", _record)


def last_sent(op):
    for name, headers in reversed(sent):
        if name == op:
            return headers
    return {}


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(lib.endpoint() + "/_ifmatch/" + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


def advance(days):
    status, body = admin("POST", "clock", {"advance_seconds": int(days * DAY)})
    assert status == 200, body
    return body


def now():
    return datetime.datetime.fromtimestamp(admin("GET", "clock")[1]["now_ms"] / 1000, UTC)


def later(days):
    """The store's clock plus `days`, whole seconds (S3 dates round-trip to the second)."""
    return (now() + datetime.timedelta(days=days)).replace(microsecond=0)


def iso(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def err(fn):
    """(HTTP status, code, message) of the ClientError fn raises; (200, None, None) on success."""
    try:
        out = fn()
        return out["ResponseMetadata"]["HTTPStatusCode"], None, None
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code"),
                e.response["Error"].get("Message", ""))


def status_code(fn):
    return err(fn)[:2]


def version_exists(bucket, key, vid):
    return err(lambda: s3.head_object(Bucket=bucket, Key=key, VersionId=vid))[0] == 200


def put_locked(bucket, key, mode, until, body=b"locked", **extra):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ObjectLockMode=mode,
                         ObjectLockRetainUntilDate=until, **extra)["VersionId"]


def delete_version(bucket, key, vid, bypass=False):
    kwargs = {"BypassGovernanceRetention": True} if bypass else {}
    return err(lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=vid, **kwargs))


def sent_checksum(headers):
    return ("content-md5" in headers or any(k.startswith("x-amz-checksum-") for k in headers)
            or "x-amz-sdk-checksum-algorithm" in headers or "x-amz-trailer" in headers)


A = "lock-a"

# --- B-L1: CreateBucket with Object Lock ---------------------------------------------------------
s3.create_bucket(Bucket=A, ObjectLockEnabledForBucket=True)
r.eq("(precondition) CreateBucket sent x-amz-bucket-object-lock-enabled: true", "true",
     last_sent("CreateBucket").get("x-amz-bucket-object-lock-enabled"))
r.eq("B-L1 the bucket's versioning is Enabled", "Enabled",
     s3.get_bucket_versioning(Bucket=A).get("Status"))
cfg = s3.get_object_lock_configuration(Bucket=A)["ObjectLockConfiguration"]
r.eq("B-L1 GetObjectLockConfiguration: ObjectLockEnabled Enabled, no rule", ("Enabled", None),
     (cfg.get("ObjectLockEnabled"), cfg.get("Rule")))
st, code, msg = err(lambda: s3.put_bucket_versioning(
    Bucket=A, VersioningConfiguration={"Status": "Suspended"}))
r.eq("B-L1 PutBucketVersioning Suspended: 409 InvalidBucketState", (409, "InvalidBucketState"),
     (st, code))
r.check("B-L1 ... 'An Object Lock configuration is present on this bucket'",
        "Object Lock configuration is present" in (msg or ""), msg)
r.eq("B-L1 ... versioning still Enabled", "Enabled",
     s3.get_bucket_versioning(Bucket=A).get("Status"))
bad = s3raw.request("PUT", "/lock-bad", {"x-amz-bucket-object-lock-enabled": "yes"})
r.eq("B-L1 x-amz-bucket-object-lock-enabled: yes -> 400 InvalidArgument", (400, "InvalidArgument"),
     (bad.status, bad.code))
r.eq("B-L1 ... and no bucket was created (HEAD 404)", 404,
     err(lambda: s3.head_bucket(Bucket="lock-bad"))[0])

# --- a bucket without Object Lock (B-N3, B-L5) ---------------------------------------------------
P = "lock-plain"
s3.create_bucket(Bucket=P)
s3.put_object(Bucket=P, Key="k", Body=b"plain")
r.eq("B-N3 GetObjectLockConfiguration: 404 ObjectLockConfigurationNotFoundError",
     (404, "ObjectLockConfigurationNotFoundError"),
     status_code(lambda: s3.get_object_lock_configuration(Bucket=P)))
st, code, msg = err(lambda: put_locked(P, "locked", "GOVERNANCE", later(1)))
r.eq("B-L5 PutObject with lock headers: 400 InvalidRequest", (400, "InvalidRequest"), (st, code))
r.check("B-L5 ... 'Bucket is missing ObjectLockConfiguration'",
        "Bucket is missing ObjectLockConfiguration" in (msg or ""), msg)
r.eq("B-L5 ... nothing was written", 404,
     err(lambda: s3.head_object(Bucket=P, Key="locked"))[0])
st, code, msg = err(lambda: s3.get_object_retention(Bucket=P, Key="k"))
r.eq("B-L5 GetObjectRetention: 400 InvalidRequest", (400, "InvalidRequest"), (st, code))
r.check("B-L5 ... 'Bucket is missing Object Lock Configuration'",
        "Bucket is missing Object Lock Configuration" in (msg or ""), msg)
r.eq("B-L5 GetObjectLegalHold: 400 InvalidRequest", (400, "InvalidRequest"),
     status_code(lambda: s3.get_object_legal_hold(Bucket=P, Key="k")))
r.eq("B-L5 PutObjectLegalHold: 400 InvalidRequest", (400, "InvalidRequest"),
     status_code(lambda: s3.put_object_legal_hold(Bucket=P, Key="k",
                                                  LegalHold={"Status": "ON"})))
r.eq("B-L5 NoSuchBucket comes first", (404, "NoSuchBucket"),
     status_code(lambda: s3.get_object_retention(Bucket="lock-missing", Key="k")))
ENABLED = {"ObjectLockEnabled": "Enabled"}
st, code, msg = err(lambda: s3.put_object_lock_configuration(
    Bucket=P, ObjectLockConfiguration=ENABLED))
r.eq("B-L1 PutObjectLockConfiguration on a non-versioned bucket: 409 InvalidBucketState",
     (409, "InvalidBucketState"), (st, code))
r.check("B-L1 ... 'Versioning must be 'Enabled' on the bucket'",
        "Versioning must be 'Enabled'" in (msg or ""), msg)
r.eq("B-L1 ... still no configuration", (404, "ObjectLockConfigurationNotFoundError"),
     status_code(lambda: s3.get_object_lock_configuration(Bucket=P)))

V = "lock-later"
s3.create_bucket(Bucket=V)
s3.put_bucket_versioning(Bucket=V, VersioningConfiguration={"Status": "Suspended"})
r.eq("B-L1 PutObjectLockConfiguration with versioning Suspended: 409 InvalidBucketState",
     (409, "InvalidBucketState"),
     status_code(lambda: s3.put_object_lock_configuration(Bucket=V,
                                                          ObjectLockConfiguration=ENABLED)))
s3.put_bucket_versioning(Bucket=V, VersioningConfiguration={"Status": "Enabled"})
r.eq("B-L1 PutObjectLockConfiguration on a versioning-Enabled bucket: 200", (200, None),
     status_code(lambda: s3.put_object_lock_configuration(Bucket=V,
                                                          ObjectLockConfiguration=ENABLED)))
r.eq("B-L1 ... GetObjectLockConfiguration shows Enabled", "Enabled",
     s3.get_object_lock_configuration(Bucket=V)["ObjectLockConfiguration"].get("ObjectLockEnabled"))
vid = r.run("PutObject with retention into the bucket that got Object Lock later",
            lambda: put_locked(V, "k", "GOVERNANCE", later(2)))
if vid:
    r.eq("... its version is locked: DeleteObject VersionId -> 403 AccessDenied",
         (403, "AccessDenied"), delete_version(V, "k", vid)[:2])
    r.check("... the version stays", version_exists(V, "k", vid), "")
r.eq("... and its versioning can no longer be Suspended: 409 InvalidBucketState",
     (409, "InvalidBucketState"),
     status_code(lambda: s3.put_bucket_versioning(
         Bucket=V, VersioningConfiguration={"Status": "Suspended"})))

# --- GOVERNANCE (B-L2, B-L3, B-L4) ----------------------------------------------------------------
gov_until = later(2)
gov = put_locked(A, "gov", "GOVERNANCE", gov_until, body=b"governed")
hdrs = last_sent("PutObject")
r.check("(precondition) boto3 sent a checksum (or Content-MD5) with the locked PutObject",
        sent_checksum(hdrs), sorted(hdrs))
r.eq("(precondition) ... and the lock headers", ("GOVERNANCE", True),
     (hdrs.get("x-amz-object-lock-mode"), "x-amz-object-lock-retain-until-date" in hdrs))
head = s3.head_object(Bucket=A, Key="gov")
r.eq("HEAD shows ObjectLockMode GOVERNANCE and the RetainUntilDate",
     ("GOVERNANCE", gov_until), (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")))
got = s3.get_object(Bucket=A, Key="gov")
r.eq("GET shows the same", ("GOVERNANCE", gov_until, b"governed"),
     (got.get("ObjectLockMode"), got.get("ObjectLockRetainUntilDate"), got["Body"].read()))
ret = s3.get_object_retention(Bucket=A, Key="gov", VersionId=gov)["Retention"]
r.eq("GetObjectRetention", {"Mode": "GOVERNANCE", "RetainUntilDate": gov_until}, ret)
st, code, msg = delete_version(A, "gov", gov)
r.eq("B-L3 DeleteObject VersionId of a GOVERNANCE version: 403 AccessDenied",
     (403, "AccessDenied"), (st, code))
r.check("B-L3 ... the message names the object lock", "object lock" in (msg or "").lower(), msg)
r.eq("B-L3 ... the version is still readable", b"governed",
     s3.get_object(Bucket=A, Key="gov", VersionId=gov)["Body"].read())
st, evs = admin("GET", f"events?bucket={A}")
refused = [e for e in evs if e.get("status") == 403 and e.get("key") == "gov"]
r.check("B-L3 the refusal is an event: 403, failed_condition starts with 'object lock'",
        refused and str(refused[-1].get("failed_condition", "")).startswith("object lock"),
        evs[-3:])
r.check("B-L3 ... naming GOVERNANCE and the date",
        refused and "GOVERNANCE" in refused[-1].get("failed_condition", "")
        and iso(gov_until)[:19] in refused[-1].get("failed_condition", ""),
        refused[-1:] if refused else evs[-3:])
st, code, _ = err(lambda: s3.put_object_retention(
    Bucket=A, Key="gov", VersionId=gov,
    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(1)}))
r.eq("B-L4 shortening a GOVERNANCE retention without the bypass: 403 AccessDenied",
     (403, "AccessDenied"), (st, code))
r.eq("B-L4 extending it: 200", (200, None), status_code(lambda: s3.put_object_retention(
    Bucket=A, Key="gov", VersionId=gov,
    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": gov_until + datetime.timedelta(days=1)})))
r.eq("B-L4 shortening it with the bypass: 200", (200, None),
     status_code(lambda: s3.put_object_retention(
         Bucket=A, Key="gov", VersionId=gov, BypassGovernanceRetention=True,
         Retention={"Mode": "GOVERNANCE", "RetainUntilDate": gov_until})))
r.eq("... the retention reads back shortened", gov_until,
     s3.get_object_retention(Bucket=A, Key="gov", VersionId=gov)["Retention"]["RetainUntilDate"])

# B-L2: writes go on, and a delete without a version id writes a delete marker.
etag = s3.head_object(Bucket=A, Key="gov")["ETag"]
st = err(lambda: s3.put_object(Bucket=A, Key="gov", Body=b"next", IfMatch=etag))[0]
r.eq("B-L2 a conditional PutObject over a locked current version: 200 (a new version)", 200, st)
d = s3.delete_object(Bucket=A, Key="gov")
r.eq("B-L2 DeleteObject without a version id: 204 with a delete marker", (204, True),
     (d["ResponseMetadata"]["HTTPStatusCode"], d.get("DeleteMarker")))
r.eq("B-L2 ... the key now answers 404", 404, err(lambda: s3.head_object(Bucket=A, Key="gov"))[0])
r.check("B-L2 ... the locked version is still there", version_exists(A, "gov", gov), "")
r.eq("B-L2 ... the delete marker itself can be removed (it has no retention)", 204,
     delete_version(A, "gov", d["VersionId"])[0])
st, code, _ = delete_version(A, "gov", gov, bypass=True)
r.eq("B-L4 DeleteObject VersionId with BypassGovernanceRetention: 204", (204, None), (st, code))
r.eq("(precondition) boto3 sent x-amz-bypass-governance-retention: true", "true",
     last_sent("DeleteObject").get("x-amz-bypass-governance-retention"))
r.check("B-L4 ... the version is gone", not version_exists(A, "gov", gov), "")

gov2 = put_locked(A, "gov-clock", "GOVERNANCE", later(2))

# --- COMPLIANCE (B-L4) ---------------------------------------------------------------------------
comp_until = later(2)
comp = put_locked(A, "comp", "COMPLIANCE", comp_until, body=b"compliant")
r.eq("COMPLIANCE: HEAD shows the mode", "COMPLIANCE",
     s3.head_object(Bucket=A, Key="comp", VersionId=comp).get("ObjectLockMode"))
r.eq("B-L4 COMPLIANCE: DeleteObject VersionId with the bypass: 403 AccessDenied",
     (403, "AccessDenied"), delete_version(A, "comp", comp, bypass=True)[:2])
r.eq("B-L4 COMPLIANCE: without the bypass: 403 AccessDenied", (403, "AccessDenied"),
     delete_version(A, "comp", comp)[:2])


def put_retention(key, vid, mode, until, bypass=False):
    kwargs = {"BypassGovernanceRetention": True} if bypass else {}
    return status_code(lambda: s3.put_object_retention(
        Bucket=A, Key=key, VersionId=vid, Retention={"Mode": mode, "RetainUntilDate": until},
        **kwargs))


r.eq("B-L4 COMPLIANCE: PutObjectRetention shortening: 403 AccessDenied", (403, "AccessDenied"),
     put_retention("comp", comp, "COMPLIANCE", later(1)))
r.eq("B-L4 COMPLIANCE: ... shortening with the bypass: 403 AccessDenied", (403, "AccessDenied"),
     put_retention("comp", comp, "COMPLIANCE", later(1), bypass=True))
comp_until = comp_until + datetime.timedelta(days=1)
r.eq("B-L4 COMPLIANCE: extending: 200", (200, None),
     put_retention("comp", comp, "COMPLIANCE", comp_until))
r.eq("B-L4 COMPLIANCE: switching to GOVERNANCE: 403 AccessDenied", (403, "AccessDenied"),
     put_retention("comp", comp, "GOVERNANCE", comp_until + datetime.timedelta(days=1)))
r.eq("... the retention is the extended COMPLIANCE one",
     {"Mode": "COMPLIANCE", "RetainUntilDate": comp_until},
     s3.get_object_retention(Bucket=A, Key="comp", VersionId=comp)["Retention"])
st, evs = admin("GET", f"events?bucket={A}&key=comp")
refused = [e for e in evs if e.get("status") == 403]
r.check("B-L3 the COMPLIANCE refusal's event: 'object lock: COMPLIANCE until ...'",
        refused and str(refused[-1].get("failed_condition", "")).startswith(
            "object lock: COMPLIANCE until"), evs[-3:])

# --- legal hold (B-L3, B-L5) ---------------------------------------------------------------------
plain = s3.put_object(Bucket=A, Key="held", Body=b"held")["VersionId"]
r.eq("B-L5 GetObjectLegalHold before any: 404 NoSuchObjectLockConfiguration",
     (404, "NoSuchObjectLockConfiguration"),
     status_code(lambda: s3.get_object_legal_hold(Bucket=A, Key="held", VersionId=plain)))
r.eq("B-L5 GetObjectRetention of a version without one: 404 NoSuchObjectLockConfiguration",
     (404, "NoSuchObjectLockConfiguration"),
     status_code(lambda: s3.get_object_retention(Bucket=A, Key="held", VersionId=plain)))
held = put_locked(A, "held", "GOVERNANCE", later(1), body=b"held+retained")
s3.put_object_legal_hold(Bucket=A, Key="held", VersionId=held, LegalHold={"Status": "ON"})
r.eq("PutObjectLegalHold ON; GetObjectLegalHold reads ON", "ON",
     s3.get_object_legal_hold(Bucket=A, Key="held", VersionId=held)["LegalHold"]["Status"])
r.eq("HEAD shows ObjectLockLegalHoldStatus ON", "ON",
     s3.head_object(Bucket=A, Key="held", VersionId=held).get("ObjectLockLegalHoldStatus"))
r.eq("B-L3 legal hold ON: DeleteObject VersionId with the bypass: 403 AccessDenied",
     (403, "AccessDenied"), delete_version(A, "held", held, bypass=True)[:2])
s3.put_object_legal_hold(Bucket=A, Key="held", VersionId=plain, LegalHold={"Status": "ON"})

# --- the clock moves past every retain-until (B-L3: judged on the store's clock) ------------------
before = now()
moved = advance(4)
r.check("the store's clock moved four days", (now() - before).total_seconds() > 4 * DAY - 60, moved)
r.check("(precondition) gov-clock's retain-until is now in the past",
        s3.get_object_retention(Bucket=A, Key="gov-clock", VersionId=gov2)["Retention"][
            "RetainUntilDate"] < now(), "")
r.eq("past retain-until: GOVERNANCE version deleted without the bypass: 204", (204, None),
     delete_version(A, "gov-clock", gov2)[:2])
r.eq("B-L4 an expired COMPLIANCE retention can be replaced freely (GOVERNANCE, +1 day): 200",
     (200, None), put_retention("comp", comp, "GOVERNANCE", later(1)))
r.eq("... which then needs the bypass again: 403 without it", (403, "AccessDenied"),
     delete_version(A, "comp", comp)[:2])
r.eq("... 204 with it", (204, None), delete_version(A, "comp", comp, bypass=True)[:2])
comp2 = put_locked(A, "comp2", "COMPLIANCE", later(1))
advance(1.1)
r.eq("past retain-until: COMPLIANCE version deleted without the bypass: 204", (204, None),
     delete_version(A, "comp2", comp2)[:2])
st, code, msg = delete_version(A, "held", held)
r.eq("B-L3 legal hold ON after its retention expired: still 403 AccessDenied",
     (403, "AccessDenied"), (st, code))
st, evs = admin("GET", f"events?bucket={A}&key=held")
refused = [e for e in evs if e.get("status") == 403]
r.eq("B-L3 its event: failed_condition 'object lock: legal hold ON'", "object lock: legal hold ON",
     refused[-1].get("failed_condition") if refused else evs[-3:])
r.eq("B-L3 legal hold ON on a version without retention: 403 AccessDenied",
     (403, "AccessDenied"), delete_version(A, "held", plain)[:2])
s3.put_object_legal_hold(Bucket=A, Key="held", VersionId=held, LegalHold={"Status": "OFF"})
s3.put_object_legal_hold(Bucket=A, Key="held", VersionId=plain, LegalHold={"Status": "OFF"})
r.eq("legal hold OFF reads back OFF", "OFF",
     s3.get_object_legal_hold(Bucket=A, Key="held", VersionId=held)["LegalHold"]["Status"])
r.eq("legal hold OFF (retention expired): DeleteObject VersionId 204", (204, None),
     delete_version(A, "held", held)[:2])
r.eq("legal hold OFF (no retention): DeleteObject VersionId 204", (204, None),
     delete_version(A, "held", plain)[:2])

# --- B-L6 with raw requests (no client adds a checksum) -------------------------------------------
BODY = b"raw body"
MD5 = base64.b64encode(hashlib.md5(BODY).digest()).decode()
CRC = base64.b64encode(zlib.crc32(BODY).to_bytes(4, "big")).decode()


def lock_headers(until=None, mode="GOVERNANCE"):
    h = {}
    if mode:
        h["x-amz-object-lock-mode"] = mode
    if until:
        h["x-amz-object-lock-retain-until-date"] = until
    return h


until = iso(later(1))
resp = s3raw.put(A, "raw", BODY, lock_headers(until))
r.eq("B-L6 raw PutObject with lock headers, no Content-MD5, no checksum: 400 InvalidRequest",
     (400, "InvalidRequest"), (resp.status, resp.code))
r.check("B-L6 ... the message names Content-MD5", "Content-MD5" in resp.xml("Message"), resp)
r.eq("B-L6 ... nothing was written", 404, s3raw.head(A, "raw").status)
sha = hashlib.sha256(BODY).hexdigest()
resp = s3raw.put(A, "raw", BODY, {**lock_headers(until), "x-amz-content-sha256": sha})
r.eq("B-L6 x-amz-content-sha256 does not count: 400 InvalidRequest", (400, "InvalidRequest"),
     (resp.status, resp.code))
resp = s3raw.put(A, "raw", BODY, {**lock_headers(until), "Content-MD5": MD5})
r.eq("B-L6 the same with Content-MD5: 200", 200, resp.status)
raw_vid = resp.header("x-amz-version-id")
resp = s3raw.put(A, "raw-crc", BODY, {**lock_headers(until), "x-amz-checksum-crc32": CRC})
r.eq("B-L6 the same with x-amz-checksum-crc32: 200", 200, resp.status)
h = s3raw.head(A, "raw", query=[("versionId", raw_vid)] if raw_vid else None)
r.eq("B-L6 ... the raw version carries the lock", ("GOVERNANCE", until),
     (h.header("x-amz-object-lock-mode"), h.header("x-amz-object-lock-retain-until-date")))
for label, hdr in (
        ("a mode without a retain-until date", lock_headers(None)),
        ("a retain-until date without a mode", lock_headers(until, mode=None)),
        ("a retain-until date in the past", lock_headers("2020-01-01T00:00:00.000Z")),
        ("a retain-until date that is not ISO 8601", lock_headers("tomorrow")),
        ("an unknown mode", lock_headers(until, mode="FOREVER"))):
    resp = s3raw.put(A, "raw-bad", BODY, {**hdr, "Content-MD5": MD5})
    r.eq(f"B-L6 {label}: 400 InvalidArgument", (400, "InvalidArgument"), (resp.status, resp.code))
r.eq("B-L6 ... none was written", 404, s3raw.head(A, "raw-bad").status)
resp = s3raw.put(A, "raw-past", BODY,
                 {**lock_headers(iso(now() - datetime.timedelta(hours=1))), "Content-MD5": MD5})
r.eq("B-L6 a retain-until date in the past on the store's (moved) clock: 400 InvalidArgument",
     (400, "InvalidArgument"), (resp.status, resp.code))
resp = s3raw.put(A, "raw-hold", BODY, {"x-amz-object-lock-legal-hold": "ON"})
r.eq("B-L6 a legal-hold header without a checksum: 400 InvalidRequest", (400, "InvalidRequest"),
     (resp.status, resp.code))

# --- default retention (B-L1, B-L6) ---------------------------------------------------------------
D = "lock-default"
s3.create_bucket(Bucket=D, ObjectLockEnabledForBucket=True)
s3.put_object_lock_configuration(Bucket=D, ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled",
    "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
cfg = s3.get_object_lock_configuration(Bucket=D)["ObjectLockConfiguration"]
r.eq("B-L1 the default retention reads back", {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
     cfg.get("Rule"))
dv = s3.put_object(Bucket=D, Key="plain", Body=b"defaulted")["VersionId"]
head = s3.head_object(Bucket=D, Key="plain")
r.eq("B-L6 a plain PutObject gets the default mode GOVERNANCE", "GOVERNANCE",
     head.get("ObjectLockMode"))
until = head.get("ObjectLockRetainUntilDate")
gap = (until - head["LastModified"]).total_seconds() if until else None
r.check("B-L6 ... retain-until is one day after its Last-Modified",
        gap is not None and abs(gap - DAY) < 5, (until, head["LastModified"]))
r.eq("B-L3 ... so the default-retained version is locked: 403 AccessDenied",
     (403, "AccessDenied"), delete_version(D, "plain", dv)[:2])
resp = s3raw.put(D, "raw", BODY)
r.eq("B-L6 a raw PutObject without a checksum into a bucket with a default retention: 400",
     (400, "InvalidRequest"), (resp.status, resp.code))
resp = s3raw.put(D, "raw", BODY, {"Content-MD5": MD5})
r.eq("B-L6 ... with Content-MD5: 200", 200, resp.status)
explicit = later(7)
s3.put_object(Bucket=D, Key="explicit", Body=b"x", ObjectLockMode="COMPLIANCE",
              ObjectLockRetainUntilDate=explicit)
head = s3.head_object(Bucket=D, Key="explicit")
r.eq("the request's lock wins over the default", ("COMPLIANCE", explicit),
     (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")))
s3.put_object_lock_configuration(Bucket=D, ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE",
                                                                  "Years": 1}}})
s3.put_object(Bucket=D, Key="yearly", Body=b"y")
head = s3.head_object(Bucket=D, Key="yearly")
gap = (head["ObjectLockRetainUntilDate"] - head["LastModified"]).total_seconds() \
    if head.get("ObjectLockRetainUntilDate") else None
r.check("B-L1 Years 1 is 365 days", head.get("ObjectLockMode") == "COMPLIANCE" and gap is not None
        and abs(gap - 365 * DAY) < 5, (head.get("ObjectLockMode"), gap))
s3.put_object_lock_configuration(Bucket=D, ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE",
                                                                  "Days": 1}}})

# --- CopyObject never carries the source's retention (B-L6) --------------------------------------
src_until = later(10)
src = put_locked(A, "src", "GOVERNANCE", src_until, body=b"source")
s3.copy_object(Bucket=A, Key="copy", CopySource={"Bucket": A, "Key": "src", "VersionId": src})
head = s3.head_object(Bucket=A, Key="copy")
r.eq("CopyObject of a locked source, no lock headers, no default: the copy has no retention",
     (None, None), (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")))
r.eq("... GetObjectRetention of the copy: 404 NoSuchObjectLockConfiguration",
     (404, "NoSuchObjectLockConfiguration"),
     status_code(lambda: s3.get_object_retention(Bucket=A, Key="copy")))
r.eq("... so the copy's version can be deleted", 204,
     delete_version(A, "copy", head["VersionId"])[0])
s3.copy_object(Bucket=D, Key="copy", CopySource={"Bucket": A, "Key": "src", "VersionId": src})
head = s3.head_object(Bucket=D, Key="copy")
gap = (head["ObjectLockRetainUntilDate"] - head["LastModified"]).total_seconds() \
    if head.get("ObjectLockRetainUntilDate") else None
r.check("a copy into the bucket with a default gets the default (GOVERNANCE, +1 day), "
        "not the source's date", head.get("ObjectLockMode") == "GOVERNANCE" and gap is not None
        and abs(gap - DAY) < 5, (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")))
copy_until = later(3)
st = err(lambda: s3.copy_object(Bucket=A, Key="copy2", CopySource={"Bucket": A, "Key": "src"},
                                ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=copy_until))
r.eq("CopyObject with lock headers: 200", 200, st[0])
head = s3.head_object(Bucket=A, Key="copy2")
r.eq("... the copy gets the request's lock", ("COMPLIANCE", copy_until),
     (head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")))

# --- DeleteObjects reports the locked keys per key (B-L3) -----------------------------------------
d1 = put_locked(A, "batch/gov", "GOVERNANCE", later(2))
d2 = s3.put_object(Bucket=A, Key="batch/held", Body=b"h", ObjectLockLegalHoldStatus="ON")[
    "VersionId"]
d3 = s3.put_object(Bucket=A, Key="batch/free", Body=b"f")["VersionId"]
out = s3.delete_objects(Bucket=A, Delete={"Objects": [
    {"Key": "batch/gov", "VersionId": d1}, {"Key": "batch/held", "VersionId": d2},
    {"Key": "batch/free", "VersionId": d3}]})
errors = {e["Key"]: e.get("Code") for e in out.get("Errors", [])}
r.eq("B-L3 DeleteObjects: the two locked versions are Errors with AccessDenied",
     {"batch/gov": "AccessDenied", "batch/held": "AccessDenied"}, errors)
r.eq("B-L3 DeleteObjects: the unlocked one is Deleted", [("batch/free", d3)],
     [(x["Key"], x.get("VersionId")) for x in out.get("Deleted", [])])
r.eq("... the locked versions stay, the unlocked one is gone", (True, True, False),
     (version_exists(A, "batch/gov", d1), version_exists(A, "batch/held", d2),
      version_exists(A, "batch/free", d3)))
out = s3.delete_objects(Bucket=A, BypassGovernanceRetention=True, Delete={"Objects": [
    {"Key": "batch/gov", "VersionId": d1}, {"Key": "batch/held", "VersionId": d2}]})
r.eq("B-L4 DeleteObjects with the bypass: GOVERNANCE deleted, the legal hold still refused",
     ([("batch/gov", d1)], {"batch/held": "AccessDenied"}),
     ([(x["Key"], x.get("VersionId")) for x in out.get("Deleted", [])],
      {e["Key"]: e.get("Code") for e in out.get("Errors", [])}))

# --- the story: a cleanup job that must not delete a locked artifact ----------------------
C = "lock-artifacts"
s3.create_bucket(Bucket=C, ObjectLockEnabledForBucket=True)
keep = {}
keep["release/1.0.tar"] = put_locked(C, "release/1.0.tar", "COMPLIANCE", later(30), b"1.0")
keep["release/1.1.tar"] = put_locked(C, "release/1.1.tar", "GOVERNANCE", later(30), b"1.1")
keep["evidence.log"] = s3.put_object(Bucket=C, Key="evidence.log", Body=b"e",
                                     ObjectLockLegalHoldStatus="ON")["VersionId"]
s3.put_object(Bucket=C, Key="release/1.1.tar", Body=b"1.1-rebuilt")  # unlocked, newer
s3.put_object(Bucket=C, Key="nightly/a.tar", Body=b"n1")
s3.put_object(Bucket=C, Key="nightly/a.tar", Body=b"n2")
s3.delete_object(Bucket=C, Key="nightly/b.tar")  # a lone delete marker
listing = s3.list_object_versions(Bucket=C)
every = [(v["Key"], v["VersionId"]) for v in listing.get("Versions", []) +
         listing.get("DeleteMarkers", [])]
refused, removed, other = [], [], []
for key, vid in every:
    st, code, _ = delete_version(C, key, vid)
    (removed if st == 204 else refused if (st, code) == (403, "AccessDenied") else other).append(
        (key, vid, st, code))
r.eq("cleanup job: 7 versions and markers listed", 7, len(every))
r.eq("cleanup job: the three locked artifacts are refused with 403 AccessDenied",
     sorted(keep.items()), sorted((k, v) for k, v, _, _ in refused))
r.eq("cleanup job: the other four are removed, nothing else happens", (4, []),
     (len(removed), other))
listing = s3.list_object_versions(Bucket=C)
r.eq("cleanup job: afterwards only the locked versions are listed", sorted(keep.items()),
     sorted((v["Key"], v["VersionId"]) for v in listing.get("Versions", [])))
r.eq("... and no delete markers", [], listing.get("DeleteMarkers", []))

# --- lifecycle never removes a locked version (B-L7) ----------------------------------------------
L = "lock-lifecycle"
s3.create_bucket(Bucket=L, ObjectLockEnabledForBucket=True)
s3.put_bucket_lifecycle_configuration(Bucket=L, LifecycleConfiguration={"Rules": [
    {"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": "ver/"},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
    {"ID": "current", "Status": "Enabled", "Filter": {"Prefix": "cur/"},
     "Expiration": {"Days": 1}}]})
locked_nc = put_locked(L, "ver/locked", "GOVERNANCE", later(30), b"old")
s3.put_object(Bucket=L, Key="ver/locked", Body=b"new")
free_nc = s3.put_object(Bucket=L, Key="ver/free", Body=b"old")["VersionId"]
s3.put_object(Bucket=L, Key="ver/free", Body=b"new")
cur = put_locked(L, "cur/locked", "COMPLIANCE", later(30), b"current")
moved = advance(3)
r.check("(precondition) the clock move ran a lifecycle pass", "lifecycle" in moved, moved)
r.check("B-L7 the locked noncurrent version still exists after 3 days (NoncurrentDays 1)",
        version_exists(L, "ver/locked", locked_nc), "")
r.check("B-L7 the unlocked noncurrent version in the same bucket IS removed",
        not version_exists(L, "ver/free", free_nc), moved.get("lifecycle"))
vs = s3.list_object_versions(Bucket=L, Prefix="cur/locked")
r.eq("B-L7 the expiring locked current version got a delete marker", 1,
     len(vs.get("DeleteMarkers", [])))
r.check("B-L7 ... and the version stays", version_exists(L, "cur/locked", cur), "")
st, evs = admin("GET", f"events?bucket={L}&key=ver/locked")
refused = [e for e in evs if e.get("status") == 403]
r.check("B-L3 the refused lifecycle delete is an event naming the lock",
        refused and str(refused[-1].get("failed_condition", "")).startswith("object lock"),
        f"events for ver/locked: {evs}; the pass: {moved.get('lifecycle')}")
moved = advance(2)
r.check("B-L7 a later pass still leaves it", version_exists(L, "ver/locked", locked_nc),
        moved.get("lifecycle"))

r.finish()
