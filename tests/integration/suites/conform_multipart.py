"""Multipart answers as S3 gives them, through boto3 and raw HTTP (run through ../run.sh): a
CompleteMultipartUpload repeated after it succeeded (R-M12), a part re-sent while its first upload
was still running ("resend first finishes last"), UploadPartCopy ranges outside the source and
GET ?partNumber= beyond the parts.
"""

import os

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite conform_multipart did not run")

r = lib.Reporter("conform_multipart")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B, V = "conform-mpu", "conform-mpu-versioned"
s3.create_bucket(Bucket=B)
s3.create_bucket(Bucket=V)
s3.put_bucket_versioning(Bucket=V, VersioningConfiguration={"Status": "Enabled"})


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    return 200, None


def upload(bucket, key, body):
    """An upload with one part; returns (upload id, parts list for Complete)."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=body)["ETag"]
    return uid, [{"PartNumber": 1, "ETag": etag}]


def complete(bucket, key, uid, parts, **kw):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": parts}, **kw)


# --- R-M12: Complete repeated after it succeeded -----------------------------------------------------
for bucket in (B, V):
    uid, parts = upload(bucket, "twice", b"first and only part")
    first = complete(bucket, "twice", uid, parts)
    again = complete(bucket, "twice", uid, parts)
    r.eq(f"repeated Complete -> 200 ({bucket})", 200, again["ResponseMetadata"]["HTTPStatusCode"])
    r.eq(f"... the same ETag ({bucket})", first["ETag"], again["ETag"])
    r.eq(f"... the same version id ({bucket})", first.get("VersionId"), again.get("VersionId"))
    r.eq(f"... the same Location, Bucket, Key ({bucket})",
         (first["Location"], first["Bucket"], first["Key"]),
         (again["Location"], again["Bucket"], again["Key"]))
    r.eq(f"... with If-None-Match: * too: a replay decides nothing again ({bucket})", first["ETag"],
         complete(bucket, "twice", uid, parts, IfNoneMatch="*")["ETag"])
    if bucket == V:
        versions = s3.list_object_versions(Bucket=V, Prefix="twice").get("Versions", [])
        r.eq("the replays wrote no version", 1, len(versions))
    r.eq(f"ListParts still answers NoSuchUpload ({bucket})", (404, "NoSuchUpload"),
         error_of(lambda: s3.list_parts(Bucket=bucket, Key="twice", UploadId=uid)))
    s3.copy_object(Bucket=bucket, Key="twice", CopySource={"Bucket": bucket, "Key": "twice"},
                   MetadataDirective="REPLACE", Metadata={"copied": "yes"})
    r.eq(f"after a copy onto the key: NoSuchUpload ({bucket})", (404, "NoSuchUpload"),
         error_of(lambda: complete(bucket, "twice", uid, parts)))

uid, parts = upload(B, "overwritten", b"part")
complete(B, "overwritten", uid, parts)
s3.put_object(Bucket=B, Key="overwritten", Body=b"newer")
r.eq("after an overwrite: NoSuchUpload", (404, "NoSuchUpload"),
     error_of(lambda: complete(B, "overwritten", uid, parts)))
r.eq("the overwrite stays", b"newer", s3.get_object(Bucket=B, Key="overwritten")["Body"].read())

# --- a part re-sent while its first upload is still running ----------------------------------------
size = 64 * 1024
uid = s3.create_multipart_upload(Bucket=B, Key="resend")["UploadId"]
with lib.connect() as sock:
    head = (f"PUT /{B}/resend?partNumber=1&uploadId={uid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    sock.sendall(head + b"A" * (size // 2))
    etag_b = s3.upload_part(Bucket=B, Key="resend", UploadId=uid, PartNumber=1,
                            Body=b"B" * size)["ETag"]
    listed = s3.list_parts(Bucket=B, Key="resend", UploadId=uid)["Parts"]
    r.eq("(precondition) the resend committed while the first upload was still running",
         [etag_b], [p["ETag"] for p in listed])
    sock.sendall(b"A" * (size - size // 2))
    resp, _ = lib.read_response(sock)
    etag_a = resp.header("etag")
r.eq("the first upload finished last -> 200", 200, resp.status)
listed = s3.list_parts(Bucket=B, Key="resend", UploadId=uid)["Parts"]
r.eq("the part that finished last is the stored part", [etag_a], [p["ETag"] for p in listed])
# The client recorded each part as its upload returned: the resend first, then the first upload.
parts = [{"PartNumber": 1, "ETag": etag_b}, {"PartNumber": 1, "ETag": etag_a}]
res = complete(B, "resend", uid, parts)
r.eq("Complete listing part 1 twice -> 200", 200, res["ResponseMetadata"]["HTTPStatusCode"])
r.eq("the object is the part that finished last", b"A" * size,
     s3.get_object(Bucket=B, Key="resend")["Body"].read())
uid2, p2 = upload(B, "order", b"x")
r.eq("decreasing part numbers are still InvalidPartOrder", (400, "InvalidPartOrder"),
     error_of(lambda: complete(B, "order", uid2, [{"PartNumber": 2, "ETag": p2[0]["ETag"]},
                                                  {"PartNumber": 1, "ETag": p2[0]["ETag"]}])))
r.eq("a repeated number whose last entry names another ETag is InvalidPart",
     (400, "InvalidPart"),
     error_of(lambda: complete(B, "order", uid2, [p2[0], {"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}])))

# --- UploadPartCopy ranges outside the source (10 bytes) --------------------------------------------
s3.put_object(Bucket=B, Key="src", Body=b"0123456789")
uid = s3.create_multipart_upload(Bucket=B, Key="copied")["UploadId"]


def copy_range(rng):
    try:
        s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": B, "Key": "src"}, CopySourceRange=rng)
    except ClientError as e:
        err = e.response["Error"]
        return e.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"], err["Message"]
    return 200, None, None


r.eq("a range that starts beyond the source -> 400 InvalidRequest",
     (400, "InvalidRequest", "The specified copy range is invalid for the source object size"),
     copy_range("bytes=100-200"))
r.eq("a range that ends beyond the source -> 400 InvalidArgument",
     (400, "InvalidArgument", "Range specified is not valid for source object of size: 10"),
     copy_range("bytes=0-21"))
r.eq("a range inside the source -> 200", 200, copy_range("bytes=2-5")[0])

# --- GET ?partNumber= beyond the parts: 416 InvalidPartNumber, as S3 answers ------------------------
s3.put_object(Bucket=B, Key="single", Body=b"body")
st = lib.raw_exchange(f"GET /{B}/single?partNumber=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n".encode())
r.eq("single-part object, partNumber=2 -> 416", 416, st.status)
r.check("... InvalidPartNumber with PartNumberRequested 2 and ActualPartCount 1",
        b"<Code>InvalidPartNumber</Code>" in st.body and
        b"<PartNumberRequested>2</PartNumberRequested>" in st.body and
        b"<ActualPartCount>1</ActualPartCount>" in st.body, st.body[:400])
r.eq("partNumber=1 of a single-part object is all of it", b"body",
     s3.get_object(Bucket=B, Key="single", PartNumber=1)["Body"].read())

r.finish()
