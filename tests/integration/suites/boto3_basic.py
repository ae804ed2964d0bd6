"""Core S3 operations through boto3 with its default configuration (run through ../run.sh).

Over http botocore sends a hex SHA-256 payload hash, a CRC32 header checksum on every PutObject,
and Expect: 100-continue when the body is a file object. Prints one line per check and a closing
"N passed, M failed"; exits 1 on any failure, 0 with a SKIPPED banner if boto3 is missing.
"""

import base64
import hashlib
import io
import os
import time
import urllib.error
import urllib.request
import zlib

import lib

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite boto3_basic did not run")

r = lib.Reporter("boto3_basic")
ENDPOINT = lib.endpoint()

# Only the retry count and timeouts differ from the defaults: a retry would hide a first failure.
s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}, connect_timeout=5,
                                read_timeout=60))

# Record the final headers of each request so checks can confirm the wire path taken.
sent = []


def _record(request, **_):
    sent.append({k.lower(): (v.decode() if isinstance(v, bytes) else v)
                 for k, v in request.headers.items()})


s3.meta.events.register("before-send.s3", _record)


# --- checksums computed independently of botocore ------------------------------------------------

def _table(poly, bits):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c & ((1 << bits) - 1))
    return table


_CRC32C = _table(0x82F63B78, 32)
_CRC64NVME = _table(0x9A6C9329AC4BC9B5, 64)


def _crc(data, table, bits):
    mask = (1 << bits) - 1
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32_b64(data):
    return b64((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big"))


def crc32c_b64(data):
    return b64(_crc(data, _CRC32C, 32).to_bytes(4, "big"))


def crc64nvme_b64(data):
    return b64(_crc(data, _CRC64NVME, 64).to_bytes(8, "big"))


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


assert _crc(b"123456789", _CRC32C, 32) == 0xE3069283, "CRC32C self-test"
assert _crc(b"123456789", _CRC64NVME, 64) == 0xAE8B14860A799888, "CRC64NVME self-test"

ALGORITHMS = {
    "CRC32": crc32_b64,
    "CRC32C": crc32c_b64,
    "CRC64NVME": crc64nvme_b64,
    "SHA1": lambda d: b64(hashlib.sha1(d).digest()),
    "SHA256": lambda d: b64(hashlib.sha256(d).digest()),
}


def expect_error(what, fn, code, status):
    try:
        fn()
    except ClientError as e:
        got_code = e.response.get("Error", {}).get("Code")
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        r.check(what, got_code == code and got_status == status,
                f"expected {code}/{status}, got {got_code}/{got_status}")
        return
    except Exception as e:  # noqa: BLE001
        r.fail(what, f"expected {code}/{status}, got {type(e).__name__}: {e}")
        return
    r.fail(what, f"expected {code}/{status}, request succeeded")


def status_of(resp):
    return resp["ResponseMetadata"]["HTTPStatusCode"]


BUCKET = "py-basic"
LIST_BUCKET = "py-list"


def buckets():
    r.eq("CreateBucket -> 200", 200, status_of(s3.create_bucket(Bucket=BUCKET)))
    s3.create_bucket(Bucket=LIST_BUCKET)
    r.eq("HeadBucket -> 200", 200, status_of(s3.head_bucket(Bucket=BUCKET)))
    expect_error("HeadBucket missing -> 404", lambda: s3.head_bucket(Bucket="py-no-such-bucket"),
                 "404", 404)
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    r.check("ListBuckets lists both buckets", BUCKET in names and LIST_BUCKET in names, str(names))
    loc = s3.get_bucket_location(Bucket=BUCKET)
    r.check("GetBucketLocation us-east-1 -> empty LocationConstraint",
            not loc.get("LocationConstraint"), str(loc.get("LocationConstraint")))


DATA = os.urandom(200_000)


def put_get_head():
    resp = s3.put_object(Bucket=BUCKET, Key="obj.bin", Body=DATA)
    r.check("botocore sent CRC32 header and hex payload hash (precondition)",
            sent[-1].get("x-amz-checksum-crc32") == crc32_b64(DATA)
            and sent[-1].get("x-amz-content-sha256") == hashlib.sha256(DATA).hexdigest(),
            str(sent[-1]))
    r.eq("PutObject ETag is the quoted MD5", md5_etag(DATA), resp["ETag"])
    r.eq("PutObject echoes the verified ChecksumCRC32", crc32_b64(DATA), resp.get("ChecksumCRC32"))

    got = s3.get_object(Bucket=BUCKET, Key="obj.bin")
    r.check("GetObject returns the exact bytes", got["Body"].read() == DATA)
    r.eq("GetObject ETag", md5_etag(DATA), got["ETag"])
    r.eq("GetObject ContentLength", len(DATA), got["ContentLength"])
    head = s3.head_object(Bucket=BUCKET, Key="obj.bin")
    r.eq("HeadObject ContentLength", len(DATA), head["ContentLength"])
    r.eq("HeadObject ETag", md5_etag(DATA), head["ETag"])
    r.eq("HeadObject Accept-Ranges", "bytes", head.get("AcceptRanges"))

    got = s3.get_object(Bucket=BUCKET, Key="obj.bin", ChecksumMode="ENABLED")
    r.eq("GetObject ChecksumMode ENABLED returns ChecksumCRC32", crc32_b64(DATA),
         got.get("ChecksumCRC32"))
    r.check("checksum-validated body is intact", got["Body"].read() == DATA)

    rng = s3.get_object(Bucket=BUCKET, Key="obj.bin", Range="bytes=100-199", ChecksumMode="ENABLED")
    r.eq("Range GET -> 206", 206, status_of(rng))
    r.eq("Range GET ContentRange", f"bytes 100-199/{len(DATA)}", rng.get("ContentRange"))
    r.check("Range GET body", rng["Body"].read() == DATA[100:200])
    r.check("Range GET has no whole-object checksum", "ChecksumCRC32" not in rng)

    s3.put_object(Bucket=BUCKET, Key="meta", Body=b"m", ContentType="application/json",
                  CacheControl="no-cache", ContentDisposition="inline",
                  Metadata={"owner": "tests", "n": "42"})
    head = s3.head_object(Bucket=BUCKET, Key="meta")
    r.eq("ContentType round trip", "application/json", head.get("ContentType"))
    r.eq("CacheControl round trip", "no-cache", head.get("CacheControl"))
    r.eq("ContentDisposition round trip", "inline", head.get("ContentDisposition"))
    r.eq("user metadata round trip", {"owner": "tests", "n": "42"}, head.get("Metadata"))


def file_objects():
    path = os.path.join(lib.scratch_dir(), "file.bin")
    payload = os.urandom(300_000)
    with open(path, "wb") as f:
        f.write(payload)
    timings = []
    for i in range(3):
        with open(path, "rb") as f:
            t0 = time.monotonic()
            resp = s3.put_object(Bucket=BUCKET, Key=f"file-{i}", Body=f)
            timings.append(time.monotonic() - t0)
        r.eq(f"PutObject(file object) #{i} ETag", md5_etag(payload), resp["ETag"])
    r.eq("botocore sent Expect: 100-continue for a file object (precondition)",
         "100-continue", sent[-1].get("expect"))
    # botocore waits 1 s for "100 Continue" before sending the body anyway.
    r.check("server answers Expect: 100-continue (fastest PUT < 0.5 s)", min(timings) < 0.5,
            f"timings {[round(t, 3) for t in timings]}")
    got = s3.get_object(Bucket=BUCKET, Key="file-2")["Body"].read()
    r.check("file-object upload stored exact bytes", got == payload)

    small = os.urandom(50_000)
    s3.upload_fileobj(io.BytesIO(small), BUCKET, "fileobj-small")
    back = io.BytesIO()
    s3.download_fileobj(BUCKET, "fileobj-small", back)
    r.check("upload_fileobj / download_fileobj round trip", back.getvalue() == small)
    r.eq("upload_fileobj ETag is plain MD5 (single PUT)", md5_etag(small),
         s3.head_object(Bucket=BUCKET, Key="fileobj-small")["ETag"])


def content_md5():
    body = b"content-md5 body"
    good = b64(hashlib.md5(body).digest())
    resp = s3.put_object(Bucket=BUCKET, Key="md5", Body=body, ContentMD5=good)
    r.eq("PutObject with correct Content-MD5 -> 200", 200, status_of(resp))
    r.eq("... ETag", md5_etag(body), resp["ETag"])
    wrong = b64(hashlib.md5(b"something else").digest())
    expect_error("wrong Content-MD5 -> 400 BadDigest",
                 lambda: s3.put_object(Bucket=BUCKET, Key="md5-bad", Body=body, ContentMD5=wrong),
                 "BadDigest", 400)
    r.eq("the wrong Content-MD5 went out unchanged (precondition)", wrong, sent[-1].get("content-md5"))
    expect_error("Content-MD5 that is not base64 of 16 bytes -> 400 InvalidDigest",
                 lambda: s3.put_object(Bucket=BUCKET, Key="md5-bad", Body=body,
                                       ContentMD5="bm90LW1kNQ=="),
                 "InvalidDigest", 400)
    expect_error("failed PUTs stored nothing", lambda: s3.head_object(Bucket=BUCKET, Key="md5-bad"),
                 "404", 404)


def checksum_algorithms():
    body = os.urandom(10_000) + b"checksums"
    for alg, fn in ALGORITHMS.items():
        key = f"ck-{alg.lower()}"
        expected = fn(body)
        try:
            resp = s3.put_object(Bucket=BUCKET, Key=key, Body=body, ChecksumAlgorithm=alg)
            how = "computed by botocore"
        except botocore.exceptions.MissingDependencyException:
            # Without awscrt botocore cannot compute CRC32C/CRC64NVME; send our own value instead.
            resp = s3.put_object(Bucket=BUCKET, Key=key, Body=body, **{f"Checksum{alg}": expected})
            how = "supplied by the test"
        r.eq(f"{alg} ({how}) sent on the wire (precondition)", expected,
             sent[-1].get(f"x-amz-checksum-{alg.lower()}"))
        r.eq(f"{alg}: PutObject echoes Checksum{alg}", expected, resp.get(f"Checksum{alg}"))
        got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        r.eq(f"{alg}: GetObject returns Checksum{alg}", expected, got.get(f"Checksum{alg}"))
        r.check(f"{alg}: body intact", got["Body"].read() == body)
        head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        r.eq(f"{alg}: HeadObject returns Checksum{alg}", expected, head.get(f"Checksum{alg}"))
        wrong = fn(body + b"x")
        expect_error(f"{alg}: wrong checksum -> 400 BadDigest",
                     lambda: s3.put_object(Bucket=BUCKET, Key=key + "-bad", Body=body,
                                           **{f"Checksum{alg}": wrong}),
                     "BadDigest", 400)
        r.eq(f"{alg}: the wrong value went out unchanged (precondition)", wrong,
             sent[-1].get(f"x-amz-checksum-{alg.lower()}"))
    expect_error("objects with bad checksums were not stored",
                 lambda: s3.head_object(Bucket=BUCKET, Key="ck-sha256-bad"), "404", 404)


def list_v1():
    keys = ["a/1", "a/2", "b/1", "c", "d e+f", "g"]
    for k in keys:
        s3.put_object(Bucket=LIST_BUCKET, Key=k, Body=k.encode())
    everything = s3.list_objects(Bucket=LIST_BUCKET)
    r.eq("ListObjects (v1) all keys, '+' and ' ' intact", sorted(keys),
         [o["Key"] for o in everything.get("Contents", [])])
    r.eq("v1 IsTruncated false", False, everything["IsTruncated"])

    d = s3.list_objects(Bucket=LIST_BUCKET, Delimiter="/")
    r.eq("v1 delimiter Contents", ["c", "d e+f", "g"], [o["Key"] for o in d.get("Contents", [])])
    r.eq("v1 delimiter CommonPrefixes", ["a/", "b/"],
         [p["Prefix"] for p in d.get("CommonPrefixes", [])])

    page1 = s3.list_objects(Bucket=LIST_BUCKET, MaxKeys=2)
    r.eq("v1 MaxKeys=2 page 1", ["a/1", "a/2"], [o["Key"] for o in page1.get("Contents", [])])
    r.eq("v1 MaxKeys=2 truncated", True, page1["IsTruncated"])
    page2 = s3.list_objects(Bucket=LIST_BUCKET, MaxKeys=2, Marker="a/2")
    r.eq("v1 Marker continues after the marker", ["b/1", "c"],
         [o["Key"] for o in page2.get("Contents", [])])
    r.eq("v1 Marker echoed", "a/2", page2.get("Marker"))

    pd = s3.list_objects(Bucket=LIST_BUCKET, Delimiter="/", MaxKeys=1)
    r.eq("v1 delimiter+MaxKeys=1 -> first entry is a prefix", ["a/"],
         [p["Prefix"] for p in pd.get("CommonPrefixes", [])])
    r.check("v1 delimiter truncated listing has NextMarker", pd["IsTruncated"] and pd.get("NextMarker"),
            str({k: pd.get(k) for k in ("IsTruncated", "NextMarker")}))
    pd2 = s3.list_objects(Bucket=LIST_BUCKET, Delimiter="/", Marker=pd.get("NextMarker", "a/"))
    r.eq("v1 listing from NextMarker skips the whole prefix", ["b/"],
         [p["Prefix"] for p in pd2.get("CommonPrefixes", [])])

    pre = s3.list_objects(Bucket=LIST_BUCKET, Prefix="a/")
    r.eq("v1 prefix", ["a/1", "a/2"], [o["Key"] for o in pre.get("Contents", [])])

    # The same key survives the list-then-get round trip (botocore url-decodes listed keys).
    got = s3.get_object(Bucket=LIST_BUCKET, Key="d e+f")["Body"].read()
    r.eq("key with space and plus readable by name", b"d e+f", got)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def presigned():
    # Default signing for presigned URLs (SigV2 query auth in us-east-1 for some botocore versions).
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "obj.bin"},
                                    ExpiresIn=300)
    status, body, _ = fetch(url)
    r.eq("presigned GET (default signature) -> 200", 200, status)
    r.check("presigned GET (default signature) bytes", body == DATA)

    v4 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(signature_version="s3v4"))
    url = v4.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "obj.bin"},
                                    ExpiresIn=300)
    r.check("s3v4 presigned URL carries X-Amz-Signature (precondition)", "X-Amz-Signature=" in url, url)
    status, body, _ = fetch(url)
    r.eq("presigned GET (SigV4) -> 200", 200, status)
    r.check("presigned GET (SigV4) bytes", body == DATA)

    url = v4.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": BUCKET, "Key": "obj.bin", "ResponseContentType": "text/x-override",
        "ResponseContentDisposition": "attachment; filename=o.bin"})
    status, _, headers = fetch(url)
    r.eq("presigned GET response-content-type override", "text/x-override",
         headers.get("Content-Type"))
    r.eq("presigned GET response-content-disposition override", "attachment; filename=o.bin",
         headers.get("Content-Disposition"))
    status, body, _ = fetch(v4.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "no-such-key"}, ExpiresIn=300))
    r.check("presigned GET of a missing key -> 404 NoSuchKey",
            status == 404 and b"<Code>NoSuchKey</Code>" in body, f"{status} {body[:200]!r}")


def errors_and_cleanup():
    expect_error("GetObject missing key -> NoSuchKey",
                 lambda: s3.get_object(Bucket=BUCKET, Key="nope"), "NoSuchKey", 404)
    expect_error("GetObject missing bucket -> NoSuchBucket",
                 lambda: s3.get_object(Bucket="py-no-such-bucket", Key="nope"), "NoSuchBucket", 404)
    expect_error("DeleteBucket with objects -> BucketNotEmpty",
                 lambda: s3.delete_bucket(Bucket=LIST_BUCKET), "BucketNotEmpty", 409)
    r.eq("DeleteObject -> 204", 204, status_of(s3.delete_object(Bucket=LIST_BUCKET, Key="g")))
    expect_error("deleted object is gone", lambda: s3.head_object(Bucket=LIST_BUCKET, Key="g"),
                 "404", 404)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=LIST_BUCKET).get("Contents", [])]
    resp = s3.delete_objects(Bucket=LIST_BUCKET, Delete={"Objects": [{"Key": k} for k in keys]})
    r.check("botocore sent DeleteObjects with x-amz-checksum-crc32 (precondition)",
            "x-amz-checksum-crc32" in sent[-1], str(sent[-1]))
    r.eq("DeleteObjects deleted every key", sorted(keys), sorted(d["Key"] for d in resp.get("Deleted", [])))
    r.eq("DeleteObjects no errors", [], resp.get("Errors", []))
    r.eq("DeleteBucket empty -> 204", 204, status_of(s3.delete_bucket(Bucket=LIST_BUCKET)))
    expect_error("deleted bucket is gone", lambda: s3.head_bucket(Bucket=LIST_BUCKET), "404", 404)


for step in (buckets, put_get_head, file_objects, content_md5, checksum_algorithms, list_v1,
             presigned, errors_and_cleanup):
    print(f"# {step.__name__}", flush=True)
    r.run(step.__name__, step)
r.finish()
