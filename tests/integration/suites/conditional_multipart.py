"""Conditional CompleteMultipartUpload (spec §6 R-M1..R-M11, D3, D5, D8, D11) through boto3.

Every rule of §6 against the real server, including both 409 cases (R-M3 delete during the
upload with If-None-Match, R-M5 rewrite during the upload with If-Match) and what happens to the
upload id afterwards (D8: gone after 409, kept after 412 / 404 / 501).
"""

import json
import os
import urllib.request

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite conditional_multipart did not run")

r = lib.Reporter("conditional_multipart")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "cond-mpu"
V = "cond-mpu-versioned"
s3.create_bucket(Bucket=B)
s3.create_bucket(Bucket=V)
s3.put_bucket_versioning(Bucket=V, VersioningConfiguration={"Status": "Enabled"})


def err(fn):
    try:
        fn()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"].get("Condition"))
    return (200, None, None)


class Upload:
    def __init__(self, key, bucket=B, body=b"part body"):
        self.key, self.bucket = key, bucket
        self.id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        self.part = s3.upload_part(Bucket=bucket, Key=key, UploadId=self.id, PartNumber=1,
                                   Body=body)["ETag"]

    def complete(self, **kw):
        return s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": self.part}]}, **kw)

    def alive(self):
        try:
            s3.list_parts(Bucket=self.bucket, Key=self.key, UploadId=self.id)
            return True
        except ClientError as e:
            if e.response["Error"]["Code"] == "NoSuchUpload":
                return False
            raise


def put(key, body=b"x", bucket=B):
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"]


# R-M1: header validation, 501, upload kept (D8).
u = Upload("m1")
r.eq("R-M1 If-None-Match: <etag> -> 501", (501, "NotImplemented", None),
     err(lambda: u.complete(IfNoneMatch='"abc"')))
r.eq("R-M1 If-Match: * -> 501", (501, "NotImplemented", None),
     err(lambda: u.complete(IfMatch="*")))
r.eq("R-M1 both headers -> 501", (501, "NotImplemented", None),
     err(lambda: u.complete(IfMatch='"abc"', IfNoneMatch="*")))
r.check("D8 upload kept after 501", u.alive())
r.eq("If-None-Match * on an absent key -> 200", 200,
     u.complete(IfNoneMatch="*")["ResponseMetadata"]["HTTPStatusCode"])

# R-M2: exists before Create -> 412, upload kept; PUT during the upload -> 412.
put("m2a")
u = Upload("m2a")
r.eq("R-M2 existed before Create -> 412 If-None-Match", (412, "PreconditionFailed",
                                                         "If-None-Match"),
     err(lambda: u.complete(IfNoneMatch="*")))
r.check("D8 upload kept after 412", u.alive())
r.eq("retry without the condition succeeds", 200,
     u.complete()["ResponseMetadata"]["HTTPStatusCode"])
u = Upload("m2b")
put("m2b")
r.eq("R-M2 PUT during the upload -> 412", (412, "PreconditionFailed", "If-None-Match"),
     err(lambda: u.complete(IfNoneMatch="*")))
s3.abort_multipart_upload(Bucket=B, Key="m2b", UploadId=u.id)

# R-M3: existed at Create, deleted during -> 409; the upload id is gone (D8).
for bucket in (B, V):
    put("m3", bucket=bucket)
    u = Upload("m3", bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="m3")
    r.eq(f"R-M3 deleted during the upload -> 409 ({bucket})",
         (409, "ConditionalRequestConflict", "If-None-Match"),
         err(lambda: u.complete(IfNoneMatch="*")))
    r.check(f"D8 upload gone after 409 ({bucket})", not u.alive())
    r.eq(f"D8 Complete again -> NoSuchUpload ({bucket})", (404, "NoSuchUpload", None),
         err(lambda: u.complete(IfNoneMatch="*")))
    fresh = Upload("m3", bucket=bucket)
    r.eq(f"R-M3 a fresh upload then succeeds ({bucket})", 200,
         fresh.complete(IfNoneMatch="*")["ResponseMetadata"]["HTTPStatusCode"])

# R-M4: If-Match old ETag, overwritten during -> 412.
old = put("m4", b"one")
u = Upload("m4")
put("m4", b"two")
r.eq("R-M4 If-Match old ETag after an overwrite -> 412", (412, "PreconditionFailed", "If-Match"),
     err(lambda: u.complete(IfMatch=old)))
r.check("upload kept after 412", u.alive())

# R-M5: If-Match the ETag written during the upload (even identical bytes) -> 409.
same = put("m5", b"same")
u = Upload("m5")
again = put("m5", b"same")
r.eq("identical content gives the identical ETag", same, again)
r.eq("R-M5 rewritten during the upload -> 409", (409, "ConditionalRequestConflict", "If-Match"),
     err(lambda: u.complete(IfMatch=again)))
r.check("D8 upload gone after the If-Match 409", not u.alive())
u = Upload("m5b")
put("m5b", b"new")  # absent at Create, written during
r.eq("R-M5 If-Match the ETag of an object created during the upload -> 409",
     (409, "ConditionalRequestConflict", "If-Match"),
     err(lambda: u.complete(IfMatch='"%s"' % __import__("hashlib").md5(b"new").hexdigest())))

# R-M6: If-Match, deleted during -> 404 NoSuchKey (upload kept); re-created, retry -> 409.
e6 = put("m6", b"six")
u = Upload("m6")
s3.delete_object(Bucket=B, Key="m6")
r.eq("R-M6 deleted during the upload -> 404 NoSuchKey", (404, "NoSuchKey", None),
     err(lambda: u.complete(IfMatch=e6)))
r.check("upload kept after 404", u.alive())
e6b = put("m6", b"six again")
r.eq("R-M6 re-created, retry with the new ETag -> 409",
     (409, "ConditionalRequestConflict", "If-Match"), err(lambda: u.complete(IfMatch=e6b)))

# R-M7: NoSuchUpload before conditions; 404 before 412.
bogus = Upload("m7")
r.eq("R-M7 NoSuchUpload is checked before conditions", (404, "NoSuchUpload", None),
     err(lambda: s3.complete_multipart_upload(
         Bucket=B, Key="m7", UploadId="not-an-upload", IfMatch='"abc"',
         MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": bogus.part}]})))
r.eq("R-M7 If-Match on an absent key -> 404 (not 412)", (404, "NoSuchKey", None),
     err(lambda: bogus.complete(IfMatch='"abc"')))

# R-M8: right ETag, no intervening write -> 200 with a multipart ETag usable for If-Match.
e8 = put("m8", b"eight")
u = Upload("m8", body=b"test")
res = u.complete(IfMatch=e8)
r.eq("R-M8 conditional Complete succeeds with the -N ETag",
     '"60cd54a928cbbcbb6e7b5595bab46a9e-1"', res["ETag"])
r.eq("ETag the sole part 'test' (R-E7)", '"60cd54a928cbbcbb6e7b5595bab46a9e-1"',
     s3.head_object(Bucket=B, Key="m8")["ETag"])
u2 = Upload("m8")
r.eq("R-M8 the next If-Match uses the multipart ETag", 200,
     u2.complete(IfMatch=res["ETag"])["ResponseMetadata"]["HTTPStatusCode"])

# R-M9: Create ignores write conditions.
r.eq("R-M9 Create with If-None-Match is ignored", 200,
     err(lambda: s3.create_multipart_upload(Bucket=B, Key="m9"))[0])

# R-M11 / D11: versioned buckets rank by initiation; unversioned: last commit wins.
early = Upload("rank", bucket=V, body=b"early")
later = put("rank", b"later", bucket=V)
res = early.complete()
r.check("R-M11 Complete answers a version id", bool(res.get("VersionId")))
cur = s3.get_object(Bucket=V, Key="rank")
r.eq("R-M11 the later PUT stays current", b"later", cur["Body"].read())
vs = s3.list_object_versions(Bucket=V, Prefix="rank")["Versions"]
r.eq("R-M11 the multipart version is listed below, not latest",
     [(False, res["VersionId"])],
     [(v["IsLatest"], v["VersionId"]) for v in vs if v["VersionId"] == res["VersionId"]])
r.eq("R-M11 GET by version id of the multipart version", b"early",
     s3.get_object(Bucket=V, Key="rank", VersionId=res["VersionId"])["Body"].read())
s3.delete_object(Bucket=V, Key="rank", VersionId=cur["VersionId"])
r.eq("deleting the current version promotes the multipart one", b"early",
     s3.get_object(Bucket=V, Key="rank")["Body"].read())
early = Upload("rank-u", body=b"early")
put("rank-u", b"later")
early.complete()
r.eq("D11 unversioned: the last commit is current", b"early",
     s3.get_object(Bucket=B, Key="rank-u")["Body"].read())

# D5: opt-in 428 for an unconditional Complete on a bucket that requires conditions.
req = urllib.request.Request(f"http://127.0.0.1:{lib.port()}/_ifmatch/buckets/{B}/settings",
                             data=json.dumps({"require_conditional_writes": True}).encode(),
                             method="PUT")
urllib.request.urlopen(req).read()
u = Upload("d5")
r.eq("D5 unconditional Complete -> 428", (428, "PreconditionRequired", None),
     err(lambda: u.complete()))
r.check("upload kept after 428", u.alive())
r.eq("D5 conditional Complete passes", 200,
     u.complete(IfNoneMatch="*")["ResponseMetadata"]["HTTPStatusCode"])
r.finish()
