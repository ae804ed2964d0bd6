"""S3's 200 whose body is an error, arranged with a fault rule (README, "Seeing and steering
conflicts"; spec D10, R-M10), and what boto3 does with it (run through ../run.sh).

The rule answers HTTP 200 with the error XML and writes nothing. botocore's 200-error handler
turns such an answer into a 500 before its retry logic runs, so boto3 retries InternalError and
PreconditionFailed alike (3 attempts in standard mode, 5 in legacy mode) and then raises a
ClientError with the body's code and HTTPStatusCode 500.
"""

import json
import urllib.request

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite faults_200_boto3 did not run")

r = lib.Reporter("faults_200_boto3")
B = "faults-200-boto3"


def client(mode):
    return boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"mode": mode}))


s3 = client("standard")
legacy = client("legacy")
attempts = {"n": 0}


def count_attempt(**kwargs):
    attempts["n"] += 1


for c in (s3, legacy):
    c.meta.events.register("before-send.s3.*", count_attempt)


def arrange(rule):
    req = urllib.request.Request(lib.endpoint() + "/_ifmatch/faults", method="POST",
                                 data=json.dumps(rule).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        r.eq(f"arrange {rule}", 201, resp.status)


def rules_left():
    with urllib.request.urlopen(lib.endpoint() + "/_ifmatch/faults", timeout=10) as resp:
        return json.loads(resp.read())


def outcome(fn):
    """(HTTP status as boto3 reports it, error code or None, attempts the client made)."""
    attempts["n"] = 0
    try:
        res = fn()
        return res["ResponseMetadata"]["HTTPStatusCode"], None, attempts["n"]
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], \
            attempts["n"]


def exists(key):
    try:
        s3.head_object(Bucket=B, Key=key)
        return True
    except ClientError:
        return False


s3.create_bucket(Bucket=B)
s3.put_object(Bucket=B, Key="src", Body=b"source bytes")
src = {"Bucket": B, "Key": "src"}

# --- CopyObject ---------------------------------------------------------------------------------------
arrange({"bucket": B, "key": "copy-retried", "operation": "CopyObject", "status": 200,
         "error": "InternalError"})
r.eq("CopyObject: InternalError in a 200 is retried; the second attempt copies", (200, None, 2),
     outcome(lambda: s3.copy_object(Bucket=B, Key="copy-retried", CopySource=src)))
r.eq("... the copy has the source's bytes", b"source bytes",
     s3.get_object(Bucket=B, Key="copy-retried")["Body"].read())

arrange({"bucket": B, "key": "copy-failed", "operation": "CopyObject", "status": 200,
         "error": "PreconditionFailed", "count": 3})
r.eq("CopyObject: PreconditionFailed in a 200 is retried, then raised as PreconditionFailed (500)",
     (500, "PreconditionFailed", 3),
     outcome(lambda: s3.copy_object(Bucket=B, Key="copy-failed", CopySource=src)))
r.eq("... every attempt reached the server", [], rules_left())
r.check("... nothing was copied", not exists("copy-failed"))

arrange({"bucket": B, "key": "copy-legacy", "operation": "CopyObject", "status": 200,
         "error": "InternalError", "count": 5})
r.eq("legacy retry mode: 5 attempts, then InternalError (500)", (500, "InternalError", 5),
     outcome(lambda: legacy.copy_object(Bucket=B, Key="copy-legacy", CopySource=src)))


# --- CompleteMultipartUpload ------------------------------------------------------------------------
def upload(key):
    uid = s3.create_multipart_upload(Bucket=B, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=1, Body=b"part")["ETag"]
    return uid, [{"PartNumber": 1, "ETag": etag}]


def complete(key, uid, parts):
    return s3.complete_multipart_upload(Bucket=B, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": parts})


uid, parts = upload("mpu-retried")
arrange({"bucket": B, "key": "mpu-retried", "operation": "CompleteMultipartUpload",
         "status": 200, "error": "InternalError"})
r.eq("Complete: InternalError in a 200 is retried; the second attempt completes", (200, None, 2),
     outcome(lambda: complete("mpu-retried", uid, parts)))
r.check("... the object exists", exists("mpu-retried"))

uid, parts = upload("mpu-failed")
arrange({"bucket": B, "key": "mpu-failed", "operation": "CompleteMultipartUpload",
         "status": 200, "error": "PreconditionFailed", "count": 3})
r.eq("Complete: PreconditionFailed in a 200 is retried, then raised as PreconditionFailed (500)",
     (500, "PreconditionFailed", 3), outcome(lambda: complete("mpu-failed", uid, parts)))
r.check("... no object was written", not exists("mpu-failed"))
r.eq("... the upload is still open", 200,
     s3.list_parts(Bucket=B, Key="mpu-failed", UploadId=uid)["ResponseMetadata"]["HTTPStatusCode"])
r.eq("... and completes once the rule is used up", (200, None, 1),
     outcome(lambda: complete("mpu-failed", uid, parts)))

r.finish()
