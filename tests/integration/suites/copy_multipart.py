"""CopyObject of a multipart object (spec D12, R-E4, run through ../run.sh): the copy is a
single-part object whose ETag is the plain MD5 of the whole content, computed from the stored parts
(no byte copy); copying again, and copying the copy, give the same ETag; the source keeps its
multipart ETag.
"""

import hashlib

import lib

try:
    import boto3
    from botocore.config import Config
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite copy_multipart did not run")

r = lib.Reporter("copy_multipart")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "copy-mpu"
s3.create_bucket(Bucket=B)
MiB = 1024 * 1024
parts = [b"a" * (5 * MiB), b"b" * (5 * MiB), b"tail"]
up = s3.create_multipart_upload(Bucket=B, Key="src")
done = []
for i, p in enumerate(parts, 1):
    e = s3.upload_part(Bucket=B, Key="src", UploadId=up["UploadId"], PartNumber=i, Body=p)["ETag"]
    done.append({"PartNumber": i, "ETag": e})
c = s3.complete_multipart_upload(Bucket=B, Key="src", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": done})
whole = b"".join(parts)
plain = '"%s"' % hashlib.md5(whole).hexdigest()
r.check("the source has a multipart ETag", c["ETag"].endswith('-3"'), c["ETag"])

cp = s3.copy_object(Bucket=B, Key="copy1", CopySource={"Bucket": B, "Key": "src"})
r.eq("R-E4: the copy's ETag is the plain MD5 of the content", cp["CopyObjectResult"]["ETag"], plain)
head = s3.head_object(Bucket=B, Key="copy1")
r.eq("HEAD of the copy: same ETag", head["ETag"], plain)
r.eq("HEAD of the copy: full size", head["ContentLength"], len(whole))
got = s3.get_object(Bucket=B, Key="copy1")["Body"].read()
r.check("GET of the copy returns the bytes", got == whole, len(got))
cp2 = s3.copy_object(Bucket=B, Key="copy2", CopySource={"Bucket": B, "Key": "src"})
r.eq("a second copy of the source: same plain ETag", cp2["CopyObjectResult"]["ETag"], plain)
cp3 = s3.copy_object(Bucket=B, Key="copy3", CopySource={"Bucket": B, "Key": "copy1"})
r.eq("a copy of the copy: same plain ETag", cp3["CopyObjectResult"]["ETag"], plain)
r.eq("the source keeps its multipart ETag", s3.head_object(Bucket=B, Key="src")["ETag"], c["ETag"])
cond = s3.copy_object(Bucket=B, Key="copy4", CopySource={"Bucket": B, "Key": "src"},
                      CopySourceIfMatch=c["ETag"])
r.eq("copy-source If-Match uses the source's multipart ETag", cond["CopyObjectResult"]["ETag"],
     plain)
r.finish()
