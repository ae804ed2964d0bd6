"""Multipart uploads through boto3 (run through ../run.sh): upload_file above the threshold with
the default CRC32 checksums, ListParts / ListMultipartUploads paging, Abort, GET/HEAD by
partNumber, EntityTooSmall / InvalidPart / InvalidPartOrder / NoSuchUpload, UploadPartCopy with a
range and copy-source conditions, R-E3 ETags and COMPOSITE / FULL_OBJECT checksums.
"""

import base64
import hashlib
import os
import zlib

import lib

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite mpu_boto3 did not run")

r = lib.Reporter("mpu_boto3")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}, read_timeout=120))
MiB = 1024 * 1024
B = "mpu-boto3"
s3.create_bucket(Bucket=B)


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def mp_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


# --- upload_file above the threshold, CRC32 default checksums ------------------------------------
path = os.path.join(lib.scratch_dir(), "twenty.bin")
data = os.urandom(20 * MiB + 12345)
with open(path, "wb") as f:
    f.write(data)
cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
r.run("upload_file 20 MiB", lambda: s3.upload_file(path, B, "big.bin", Config=cfg))
chunks = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
head = s3.head_object(Bucket=B, Key="big.bin", ChecksumMode="ENABLED")
r.eq("R-E3 multipart ETag of upload_file", mp_etag(chunks), head["ETag"])
r.eq("size", len(data), head["ContentLength"])
composite = base64.b64encode(zlib.crc32(b"".join(
    zlib.crc32(c).to_bytes(4, "big") for c in chunks)).to_bytes(4, "big")).decode() + "-3"
r.eq("COMPOSITE CRC32 of the object", composite, head.get("ChecksumCRC32"))
r.eq("checksum type COMPOSITE", "COMPOSITE", head.get("ChecksumType"))
got = s3.get_object(Bucket=B, Key="big.bin")["Body"].read()
r.check("GET returns the bytes uploaded", got == data)
dl = os.path.join(lib.scratch_dir(), "twenty.out")
r.run("download_file (ranged, checksum mode)", lambda: s3.download_file(B, "big.bin", dl, Config=cfg))
r.check("download_file bytes equal", open(dl, "rb").read() == data)

# --- GET / HEAD by partNumber ----------------------------------------------------------------------
p2 = s3.get_object(Bucket=B, Key="big.bin", PartNumber=2)
r.eq("partNumber=2 status", 206, p2["ResponseMetadata"]["HTTPStatusCode"])
r.check("partNumber=2 bytes", p2["Body"].read() == chunks[1])
r.eq("partNumber=2 x-amz-mp-parts-count", 3, p2.get("PartsCount"))
r.eq("partNumber=2 whole object's ETag", mp_etag(chunks), p2["ETag"])
r.eq("partNumber=2 Content-Range", f"bytes {8 * MiB}-{16 * MiB - 1}/{len(data)}",
     p2.get("ContentRange"))
h3 = s3.head_object(Bucket=B, Key="big.bin", PartNumber=3)
r.eq("HEAD partNumber=3 length", len(chunks[2]), h3["ContentLength"])
r.eq("partNumber=4 -> InvalidPartNumber 416", ("InvalidPartNumber", 416),
     code_of(lambda: s3.get_object(Bucket=B, Key="big.bin", PartNumber=4)))


# --- low-level API ---------------------------------------------------------------------------------
def create(key, **kw):
    return s3.create_multipart_upload(Bucket=B, Key=key, **kw)["UploadId"]


def put(key, uid, n, body, **kw):
    return s3.upload_part(Bucket=B, Key=key, UploadId=uid, PartNumber=n, Body=body, **kw)


five = os.urandom(5 * MiB)
uid = create("low.bin", ChecksumAlgorithm="CRC32")
p1 = put("low.bin", uid, 1, five, ChecksumAlgorithm="CRC32")
r.eq("UploadPart ETag = MD5 of the part", '"%s"' % hashlib.md5(five).hexdigest(), p1["ETag"])
r.eq("UploadPart echoes x-amz-checksum-crc32", crc32_b64(five), p1.get("ChecksumCRC32"))
p2r = put("low.bin", uid, 2, b"tail", ChecksumAlgorithm="CRC32")
p3r = put("low.bin", uid, 3, b"x" * 10, ChecksumAlgorithm="CRC32")
parts = s3.list_parts(Bucket=B, Key="low.bin", UploadId=uid)
r.eq("ListParts numbers", [1, 2, 3], [p["PartNumber"] for p in parts["Parts"]])
r.eq("ListParts sizes", [5 * MiB, 4, 10], [p["Size"] for p in parts["Parts"]])
r.eq("ListParts checksum", crc32_b64(b"tail"), parts["Parts"][1].get("ChecksumCRC32"))
page = s3.list_parts(Bucket=B, Key="low.bin", UploadId=uid, MaxParts=2)
r.check("ListParts max-parts=2 truncated", page["IsTruncated"] and len(page["Parts"]) == 2)
r.eq("NextPartNumberMarker", 2, page.get("NextPartNumberMarker"))
page2 = s3.list_parts(Bucket=B, Key="low.bin", UploadId=uid, PartNumberMarker=2)
r.eq("ListParts after marker 2", [3], [p["PartNumber"] for p in page2["Parts"]])
# Replacing a part.
p2r = put("low.bin", uid, 2, b"tail!", ChecksumAlgorithm="CRC32")
r.eq("replaced part ETag", '"%s"' % hashlib.md5(b"tail!").hexdigest(), p2r["ETag"])


def complete(key, uid, parts, **kw):
    return s3.complete_multipart_upload(Bucket=B, Key=key, UploadId=uid,
                                        MultipartUpload={"Parts": parts}, **kw)


def ref(n, resp):
    d = {"PartNumber": n, "ETag": resp["ETag"]}
    if resp.get("ChecksumCRC32"):
        d["ChecksumCRC32"] = resp["ChecksumCRC32"]
    return d


r.eq("InvalidPartOrder", ("InvalidPartOrder", 400),
     code_of(lambda: complete("low.bin", uid, [ref(2, p2r), ref(1, p1)])))
r.eq("InvalidPart (wrong ETag)", ("InvalidPart", 400),
     code_of(lambda: complete("low.bin", uid, [ref(1, p1), {"PartNumber": 2,
                                                              "ETag": '"%s"' % ("0" * 32)}])))
r.eq("InvalidPart (missing part)", ("InvalidPart", 400),
     code_of(lambda: complete("low.bin", uid, [ref(1, p1), {"PartNumber": 7, "ETag": p1["ETag"]}])))
r.eq("EntityTooSmall (a small part before the last)", ("EntityTooSmall", 400),
     code_of(lambda: complete("low.bin", uid, [ref(1, p1), ref(2, p2r), ref(3, p3r)])))
r.eq("NoSuchUpload on Complete", ("NoSuchUpload", 404),
     code_of(lambda: complete("low.bin", "nope", [ref(1, p1)])))
r.eq("NoSuchUpload on UploadPart", ("NoSuchUpload", 404),
     code_of(lambda: put("low.bin", "nope", 1, b"x")))
res = complete("low.bin", uid, [ref(1, p1), ref(2, p2r)])  # part 3 left out: released
r.eq("Complete ETag (R-E3)", mp_etag([five, b"tail!"]), res["ETag"])
expected = base64.b64encode(zlib.crc32(zlib.crc32(five).to_bytes(4, "big") +
                                       zlib.crc32(b"tail!").to_bytes(4, "big"))
                            .to_bytes(4, "big")).decode() + "-2"
r.eq("Complete COMPOSITE checksum", expected, res.get("ChecksumCRC32"))
r.check("object bytes", s3.get_object(Bucket=B, Key="low.bin")["Body"].read() == five + b"tail!")
r.eq("upload gone after Complete", ("NoSuchUpload", 404),
     code_of(lambda: s3.list_parts(Bucket=B, Key="low.bin", UploadId=uid)))

# FULL_OBJECT CRC32: combined from the part CRCs.
uid = create("full.bin", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")
a = put("full.bin", uid, 1, five, ChecksumAlgorithm="CRC32")
b = put("full.bin", uid, 2, b"end", ChecksumAlgorithm="CRC32")
res = complete("full.bin", uid, [ref(1, a), ref(2, b)], ChecksumCRC32=crc32_b64(five + b"end"),
               ChecksumType="FULL_OBJECT")
r.eq("FULL_OBJECT CRC32 = CRC32 of the whole object", crc32_b64(five + b"end"),
     res.get("ChecksumCRC32"))
r.eq("ChecksumType FULL_OBJECT", "FULL_OBJECT", res.get("ChecksumType"))

# Abort, ListMultipartUploads.
u1 = create("dir/a")
u2 = create("dir/b")
u3 = create("other")
u4 = create("dir/a")
ups = s3.list_multipart_uploads(Bucket=B)
keys = [(u["Key"], u["UploadId"]) for u in ups.get("Uploads", [])]
r.check("ListMultipartUploads lists all four", {u1, u2, u3, u4} <= {k[1] for k in keys})
r.eq("keys ascending, initiation order within a key",
     ["dir/a", "dir/a", "dir/b", "other"], [k[0] for k in keys])
r.eq("same key in initiation order", [u1, u4], [k[1] for k in keys if k[0] == "dir/a"])
pg = s3.list_multipart_uploads(Bucket=B, MaxUploads=2)
r.check("max-uploads=2 truncated", pg["IsTruncated"] and len(pg["Uploads"]) == 2)
pg2 = s3.list_multipart_uploads(Bucket=B, KeyMarker=pg["NextKeyMarker"],
                                UploadIdMarker=pg["NextUploadIdMarker"])
r.eq("second page", ["dir/b", "other"], [u["Key"] for u in pg2.get("Uploads", [])])
dl = s3.list_multipart_uploads(Bucket=B, Delimiter="/")
r.eq("delimiter: common prefix", ["dir/"], [c["Prefix"] for c in dl.get("CommonPrefixes", [])])
r.eq("delimiter: uploads", ["other"], [u["Key"] for u in dl.get("Uploads", [])])
pf = s3.list_multipart_uploads(Bucket=B, Prefix="dir/b")
r.eq("prefix", [u2], [u["UploadId"] for u in pf.get("Uploads", [])])
for key, u in (("dir/a", u1), ("dir/b", u2), ("other", u3), ("dir/a", u4)):
    s3.abort_multipart_upload(Bucket=B, Key=key, UploadId=u)
r.eq("Abort twice -> NoSuchUpload", ("NoSuchUpload", 404),
     code_of(lambda: s3.abort_multipart_upload(Bucket=B, Key="other", UploadId=u3)))
r.eq("no uploads left", [], s3.list_multipart_uploads(Bucket=B).get("Uploads", []))

# --- UploadPartCopy -------------------------------------------------------------------------------
src = os.urandom(6 * MiB)
put_src = s3.put_object(Bucket=B, Key="src", Body=src)
uid = create("copied")
c1 = s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=1,
                         CopySource={"Bucket": B, "Key": "src"})
r.eq("UploadPartCopy whole: ETag = source MD5", put_src["ETag"], c1["CopyPartResult"]["ETag"])
c2 = s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=2,
                         CopySource={"Bucket": B, "Key": "src"}, CopySourceRange=f"bytes=100-{100 + 5 * MiB - 1}")
mid = src[100:100 + 5 * MiB]
r.eq("UploadPartCopy range ETag", '"%s"' % hashlib.md5(mid).hexdigest(),
     c2["CopyPartResult"]["ETag"])
r.eq("copy-source-if-match mismatch -> 412", ("PreconditionFailed", 412),
     code_of(lambda: s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=3,
                                         CopySource={"Bucket": B, "Key": "src"},
                                         CopySourceIfMatch='"%s"' % ("0" * 32))))
r.eq("copy-source-if-none-match match -> 412", ("PreconditionFailed", 412),
     code_of(lambda: s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=3,
                                         CopySource={"Bucket": B, "Key": "src"},
                                         CopySourceIfNoneMatch=put_src["ETag"])))
ok = s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=3,
                         CopySource={"Bucket": B, "Key": "src"}, CopySourceIfMatch=put_src["ETag"],
                         CopySourceRange="bytes=0-9")
r.eq("copy-source-if-match match -> copied", '"%s"' % hashlib.md5(src[:10]).hexdigest(),
     ok["CopyPartResult"]["ETag"])
r.eq("bad range syntax -> InvalidArgument", ("InvalidArgument", 400),
     code_of(lambda: s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=4,
                                         CopySource={"Bucket": B, "Key": "src"},
                                         CopySourceRange="bytes=5-")))
r.eq("range past the end -> InvalidArgument", ("InvalidArgument", 400),
     code_of(lambda: s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=4,
                                         CopySource={"Bucket": B, "Key": "src"},
                                         CopySourceRange=f"bytes=0-{len(src)}")))
r.eq("missing source -> NoSuchKey", ("NoSuchKey", 404),
     code_of(lambda: s3.upload_part_copy(Bucket=B, Key="copied", UploadId=uid, PartNumber=4,
                                         CopySource={"Bucket": B, "Key": "absent"})))
res = complete("copied", uid, [{"PartNumber": 1, "ETag": c1["CopyPartResult"]["ETag"]},
                               {"PartNumber": 2, "ETag": c2["CopyPartResult"]["ETag"]},
                               {"PartNumber": 3, "ETag": ok["CopyPartResult"]["ETag"]}])
body = s3.get_object(Bucket=B, Key="copied")["Body"].read()
r.check("UploadPartCopy object bytes", body == src + mid + src[:10])
r.eq("ETag", mp_etag([src, mid, src[:10]]), res["ETag"])
# The source overwritten afterwards: the copied part keeps its bytes.
s3.put_object(Bucket=B, Key="src", Body=b"new")
r.check("copied object unaffected by a later source write",
        s3.get_object(Bucket=B, Key="copied")["Body"].read()[:len(src)] == src)
# A multipart source copied whole into a part.
uid = create("copy-of-mp")
c = s3.upload_part_copy(Bucket=B, Key="copy-of-mp", UploadId=uid, PartNumber=1,
                        CopySource={"Bucket": B, "Key": "low.bin"})
r.eq("whole multipart source: part ETag = MD5 of content",
     '"%s"' % hashlib.md5(five + b"tail!").hexdigest(), c["CopyPartResult"]["ETag"])
s3.abort_multipart_upload(Bucket=B, Key="copy-of-mp", UploadId=uid)

# CopyObject of a multipart source -> plain MD5 ETag is R-E4 (left to the copy suite).
r.finish()
