"""Shared mode (ifmatch replicas on one PostgreSQL database): what one replica commits, the other
reads at once. Starts its own PostgreSQL 15 (pgserver.py) and replicas a and b (replicas.py), plus
c and d with credentials for the presigned checks; run.sh's SQLite server is not used.

* read-after-write: PUT through one replica, then at once GET, HEAD and ListObjectsV2 through the
  other see the new ETag and bytes (many times, overwriting a few keys); DELETE through one, HEAD
  through the other is 404 at once.
* buckets: created through a -> seen through b; deleted through b -> gone through a.
* versioning: enabled through a -> Enabled through b; PUT through b, DELETE through a -> delete
  marker; GET / HEAD through b -> 404 with x-amz-delete-marker: true; ListObjectVersions through b
  lists both versions and the marker (IsLatest); the marker deleted by id through b -> the last
  version is current again through a.
* large bodies (chunked above 64 KiB): 8 MiB written through a, read whole and by range through
  b; a slow GET through b keeps returning the old bytes while a overwrites and deletes the key.
* CopyObject through b of a's object: copy-source-if-match of a's ETag -> 200; of an ETag a has
  since replaced -> 412; If-None-Match: * onto an existing destination -> 412.
* multipart: created through a, parts uploaded through b, ListParts through a, completed through a
  (If-None-Match: * on an absent key) -> the object reads back whole through b with the -N ETag;
  a second upload of the existing key completed with If-None-Match: * -> 412 PreconditionFailed
  and the upload is kept (D8); R-M3: the key existed at Create through a, deleted through b
  during the upload -> Complete If-None-Match: * through a is 409 and the upload gone; two
  If-None-Match: * Completes of one key at once, one through each replica -> one 200, one 412.
* presigned (replicas c and d run with credentials test/test on the same database): a presigned
  GET made for c's endpoint works against c, reads an object written through the open replica a,
  works unchanged against d (same Host signed), d's own URL works, and a tampered URL is 403.
Every wait is bounded.
"""

import hashlib
import html
import os
import re
import time
import urllib.error
import urllib.request

import lib
import sharedmode

r = lib.Reporter("shared_consistency")
STARTED = time.monotonic()
env = sharedmode.setup(r)
a, b = env.clients
RAW_ROUNDS = sharedmode.env_flag("IFMATCH_SHARED_RAW_ROUNDS", 120)
MiB = 1024 * 1024


def listed(resp):
    """{key: etag} of a ListObjectsV2 answer."""
    out = {}
    for block in re.findall(rb"<Contents>(.*?)</Contents>", resp.body, re.S):
        key = re.search(rb"<Key>(.*?)</Key>", block, re.S)
        etag = re.search(rb"<ETag>(.*?)</ETag>", block, re.S)
        if key:
            out[html.unescape(key.group(1).decode())] = \
                html.unescape(etag.group(1).decode()) if etag else None
    return out


def test_read_after_write():
    bucket = "shared-raw"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    stale = {"GET": [], "HEAD": [], "LIST": [], "DELETE": []}
    writes = 0
    t0 = time.monotonic()
    for i in range(RAW_ROUNDS):
        writer, reader = env.client(i), env.client(i + 1)
        key = f"k{i % 4}"
        body = f"round {i} through {writer.name}".encode()
        put = writer.put(bucket, key, body)
        if put.status != 200:
            stale["GET"].append(f"round {i}: PUT {put.status} {put.code}")
            continue
        writes += 1
        etag = put.header("etag")
        got = reader.get(bucket, key)
        if (got.status, got.header("etag"), got.body) != (200, etag, body):
            stale["GET"].append(f"round {i}: {got.status} {got.header('etag')} {got.body[:40]!r}"
                                f" != {etag} {body!r}")
        head = reader.head(bucket, key)
        if (head.status, head.header("etag")) != (200, etag):
            stale["HEAD"].append(f"round {i}: {head.status} {head.header('etag')} != {etag}")
        lst = reader.list_v2(bucket, prefix=key)
        seen = listed(lst) if lst.status == 200 else {"status": lst.status}
        if seen.get(key) != etag:
            stale["LIST"].append(f"round {i}: {seen} lacks {key}={etag}")
        if i % 10 == 9:
            gone = writer.delete(bucket, key)
            after = reader.head(bucket, key)
            if (gone.status, after.status) != (204, 404):
                stale["DELETE"].append(f"round {i}: DELETE {gone.status}, HEAD {after.status}")
    print(f"# read-after-write: {RAW_ROUNDS} rounds in {time.monotonic() - t0:.1f} s", flush=True)
    r.eq("read-after-write: every PUT answered 200", RAW_ROUNDS, writes)
    for what, problems in stale.items():
        r.eq(f"read-after-write: {what} through the other replica sees the write at once",
             [], problems[:5])


def test_buckets():
    bucket = "shared-bucket-life"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    r.eq("HeadBucket through b", 200, b.request("HEAD", f"/{bucket}").status)
    names = re.findall(rb"<Name>(.*?)</Name>", b.request("GET", "/").body)
    r.check("ListBuckets through b lists it", bucket.encode() in names, f"{names}")
    r.eq("DeleteBucket through b", 204, b.request("DELETE", f"/{bucket}").status)
    r.eq("HeadBucket through a -> 404", 404, a.request("HEAD", f"/{bucket}").status)


def test_versioning():
    bucket, key = "shared-versions", "doc"
    r.eq("CreateBucket through b", 200, b.create_bucket(bucket).status)
    r.eq("versioning on through a", 200, a.enable_versioning(bucket).status)
    conf = b.request("GET", f"/{bucket}?versioning")
    r.eq("GetBucketVersioning through b -> Enabled", "Enabled", conf.xml("Status"))
    v1 = b.put(bucket, key, "version one")
    r.eq("PUT v1 through b", 200, v1.status)
    v2 = a.put(bucket, key, "version two")
    r.eq("PUT v2 through a", 200, v2.status)
    r.check("distinct version ids", v1.header("x-amz-version-id") and
            v1.header("x-amz-version-id") != v2.header("x-amz-version-id"),
            f"{v1.header('x-amz-version-id')} / {v2.header('x-amz-version-id')}")
    dm = a.delete(bucket, key)
    r.eq("DELETE through a -> 204 with x-amz-delete-marker", (204, "true"),
         (dm.status, dm.header("x-amz-delete-marker")))
    marker = dm.header("x-amz-version-id")
    r.check("the delete marker has a version id", bool(marker))
    got = b.get(bucket, key)
    r.eq("GET through b -> 404 NoSuchKey", (404, "NoSuchKey"), (got.status, got.code))
    r.eq("... with x-amz-delete-marker: true", "true", got.header("x-amz-delete-marker"))
    hd = b.head(bucket, key)
    r.eq("HEAD through b -> 404 with x-amz-delete-marker", (404, "true"),
         (hd.status, hd.header("x-amz-delete-marker")))
    lv = b.list_versions(bucket)
    versions = re.findall(rb"<Version>.*?<VersionId>(.*?)</VersionId>.*?</Version>", lv.body, re.S)
    markers = re.findall(rb"<DeleteMarker>(.*?)</DeleteMarker>", lv.body, re.S)
    r.eq("ListObjectVersions through b: both versions", sorted(
        [v1.header("x-amz-version-id"), v2.header("x-amz-version-id")]),
        sorted(v.decode() for v in versions))
    r.eq("ListObjectVersions through b: one delete marker, the latest", 1, len(markers))
    if markers:
        r.check("the listed marker is a's and IsLatest",
                f"<VersionId>{marker}</VersionId>".encode() in markers[0]
                and b"<IsLatest>true</IsLatest>" in markers[0], markers[0])
    old = b.get(bucket, key, query=[("versionId", v1.header("x-amz-version-id"))])
    r.eq("GET v1 by id through b", (200, b"version one"), (old.status, old.body))
    undo = b.delete(bucket, key, query=[("versionId", marker)])
    r.eq("DELETE the marker by id through b", (204, "true"),
         (undo.status, undo.header("x-amz-delete-marker")))
    now = a.get(bucket, key)
    r.eq("v2 is current again through a", (200, b"version two", v2.header("etag")),
         (now.status, now.body, now.header("etag")))


def test_large_bodies():
    """Bodies above the inline limit (64 KiB) are stored as 1 MiB chunks: written through a, read
    whole and by range (across a chunk boundary) through b; and a slow GET through b keeps its
    bytes while a overwrites and then deletes the object."""
    bucket, key = "shared-large", "eight.bin"
    r.eq("CreateBucket through b", 200, b.create_bucket(bucket).status)
    big = os.urandom(8 * MiB + 12345)
    put = a.put(bucket, key, big, timeout=60)
    r.eq("PUT 8 MiB through a", (200, sharedmode.etag_of(big)), (put.status, put.header("etag")))
    got = b.get(bucket, key, timeout=60)
    r.eq("GET through b: status and ETag", (200, put.header("etag")),
         (got.status, got.header("etag")))
    r.check("GET through b: the same bytes", got.body == big, f"{len(got.body)} bytes")
    lo, hi = MiB - 7, 3 * MiB + 7
    part = b.get(bucket, key, {"Range": f"bytes={lo}-{hi}"}, timeout=60)
    r.eq("ranged GET through b across chunk boundaries", (206, big[lo:hi + 1]),
         (part.status, part.body))

    # A slow reader on b, a writer on a.
    sock, head, body = sharedmode.slow_get_start(b, bucket, key)
    try:
        r.check("slow GET through b: 200 head", head.startswith(b"HTTP/1.1 200"), head[:100])
        over = a.put(bucket, key, b"overwritten through a")
        gone = a.delete(bucket, key)
        r.eq("overwrite and DELETE through a while b streams the old body", (200, 204),
             (over.status, gone.status))
    finally:
        body = sharedmode.slow_get_finish(sock, body, len(big))
    r.check("slow GET through b: the old body, whole (its snapshot keeps the chunks)",
            body == big, f"{len(body)} bytes of {len(big)}, equal prefix: "
            f"{body == big[:len(body)]}")
    r.eq("the object is gone (HEAD through b)", 404, b.head(bucket, key).status)


def test_copy():
    """CopyObject through b of what a just wrote, with copy-source and destination conditions."""
    bucket = "shared-copy"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    src = a.put(bucket, "src", "source written through a")
    etag = src.header("etag")
    cp = b.request("PUT", f"/{bucket}/dst", {"x-amz-copy-source": f"/{bucket}/src",
                                             "x-amz-copy-source-if-match": etag})
    r.eq("CopyObject through b, copy-source-if-match of a's ETag -> 200", (200, etag),
         (cp.status, cp.xml("ETag").replace("&quot;", '"')))
    r.eq("the copy reads back through a", b"source written through a",
         a.get(bucket, "dst").body)
    a.put(bucket, "src", "rewritten through a")
    stale = b.request("PUT", f"/{bucket}/dst2", {"x-amz-copy-source": f"/{bucket}/src",
                                                 "x-amz-copy-source-if-match": etag})
    r.eq("copy-source-if-match of the old ETag through b after a rewrote it -> 412",
         (412, "PreconditionFailed"), (stale.status, stale.code))
    dup = b.request("PUT", f"/{bucket}/dst", {"x-amz-copy-source": f"/{bucket}/src",
                                              "If-None-Match": "*"})
    r.eq("CopyObject through b with If-None-Match: * onto a's existing copy -> 412",
         (412, "PreconditionFailed", "If-None-Match"), (dup.status, dup.code,
                                                        dup.xml("Condition")))


def mp_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                        len(parts))


def test_multipart():
    bucket, key = "shared-mpu", "big.bin"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    parts = [bytes([i % 251 for i in range(256)]) * (5 * MiB // 256), b"tail through b"]
    resp, uid = a.create_upload(bucket, key)
    if not r.eq("CreateMultipartUpload through a", 200, resp.status):
        return
    etags = []
    for n, part in enumerate(parts, 1):
        up = b.upload_part(bucket, key, uid, n, part)
        r.eq(f"UploadPart {n} through b", (200, sharedmode.etag_of(part)),
             (up.status, up.header("etag")))
        etags.append(up.header("etag"))
    lp = a.list_parts(bucket, key, uid)
    r.eq("ListParts through a lists b's parts", ["1", "2"],
         [p.decode() for p in re.findall(rb"<PartNumber>(\d+)</PartNumber>", lp.body)])
    done = a.complete_upload(bucket, key, uid, list(zip([1, 2], etags)), {"If-None-Match": "*"})
    r.eq("CompleteMultipartUpload through a (If-None-Match: *, absent key)",
         (200, mp_etag(parts)), (done.status, done.xml("ETag").replace("&quot;", '"')))
    got = b.get(bucket, key, timeout=60)
    r.eq("GET through b: status and -N ETag", (200, mp_etag(parts)),
         (got.status, got.header("etag")))
    r.check("GET through b: the whole object", got.body == b"".join(parts),
            f"{len(got.body)} bytes, expected {sum(map(len, parts))}")

    # The key exists now: a second upload completed with If-None-Match: * -> 412, upload kept.
    resp, uid2 = b.create_upload(bucket, key)
    if not r.eq("second CreateMultipartUpload through b", 200, resp.status):
        return
    up = a.upload_part(bucket, key, uid2, 1, b"other bytes")
    r.eq("its part through a", 200, up.status)
    refused = b.complete_upload(bucket, key, uid2, [(1, up.header("etag"))],
                                {"If-None-Match": "*"})
    r.eq("R-M2 Complete If-None-Match: * on the existing key -> 412",
         (412, "PreconditionFailed", "If-None-Match"),
         (refused.status, refused.code, refused.xml("Condition")))
    r.eq("D8 the upload is kept (ListParts through a)", 200, a.list_parts(bucket, key, uid2).status)
    r.eq("the object is unchanged (ETag through a)", mp_etag(parts),
         a.head(bucket, key).header("etag"))
    r.eq("AbortMultipartUpload through a", 204,
         a.request("DELETE", f"/{bucket}/{key}?uploadId={uid2}").status)

    # R-M3 across replicas: the key existed when the upload was created through a, a DELETE
    # through b commits during the upload -> Complete If-None-Match: * through a is 409 and the
    # upload is gone (D8); the start snapshot kept with the upload is what decides.
    key3 = "m3.bin"
    r.eq("m3 written through b", 200, b.put(bucket, key3, "exists at create").status)
    resp, uid3 = a.create_upload(bucket, key3)
    if not r.eq("CreateMultipartUpload m3 through a", 200, resp.status):
        return
    up = b.upload_part(bucket, key3, uid3, 1, b"m3 part")
    r.eq("DELETE m3 through b during the upload", 204, b.delete(bucket, key3).status)
    late = a.complete_upload(bucket, key3, uid3, [(1, up.header("etag"))], {"If-None-Match": "*"})
    r.eq("R-M3 Complete If-None-Match: * through a after b's DELETE -> 409",
         (409, "ConditionalRequestConflict", "If-None-Match"),
         (late.status, late.code, late.xml("Condition")))
    r.eq("D8 the upload is gone (ListParts through b -> NoSuchUpload)", (404, "NoSuchUpload"),
         (lambda x: (x.status, x.code))(b.list_parts(bucket, key3, uid3)))

    # Two uploads of one absent key completed at once with If-None-Match: *, one through each
    # replica -> one 200 and one 412 (R-X1).
    key4 = "duel.bin"
    uploads = []
    for c in (a, b):
        resp, uid4 = c.create_upload(bucket, key4)
        part = c.upload_part(bucket, key4, uid4, 1, f"duel through {c.name}".encode())
        uploads.append((c, uid4, part.header("etag")))
    results = sharedmode.parallel(
        lambda u: u[0].complete_upload(bucket, key4, u[1], [(1, u[2])], {"If-None-Match": "*"}),
        uploads)
    statuses = sorted((x.status, x.code) for x in results)
    r.eq("R-X1 two If-None-Match: * Completes through a and b at once -> one 200, one 412",
         [(200, ""), (412, "PreconditionFailed")], statuses)
    winner = [u[0].name for u, x in zip(uploads, results) if x.status == 200]
    if winner:
        r.eq("the winner's bytes are stored", f"duel through {winner[0]}".encode(),
             a.get(bucket, key4).body)


def url_status(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_presigned():
    try:
        import boto3
        from botocore.config import Config
    except ImportError as e:
        print(f"# boto3 not importable ({e}): presigned checks skipped", flush=True)
        return
    bucket, key = "shared-presigned", "p.txt"
    c = env.add_replica("c", ["--access-key", "test", "--secret-key", "test"])
    d = env.add_replica("d", ["--access-key", "test", "--secret-key", "test"])
    r.eq("CreateBucket through the open replica a", 200, a.create_bucket(bucket).status)
    r.eq("PUT through a", 200, a.put(bucket, key, "presigned body").status)

    def s3_for(rep):
        return boto3.client("s3", endpoint_url=rep.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"total_max_attempts": 1}, connect_timeout=5,
                                          read_timeout=15, signature_version="s3v4"))

    sc, sd = s3_for(c), s3_for(d)
    r.eq("c requires signatures (unsigned GET -> 403)", 403,
         sharedmode.Client(c).get(bucket, key).status)
    url = sc.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                    ExpiresIn=300)
    r.eq("presigned GET for c's endpoint, against c", (200, b"presigned body"), url_status(url))
    url_d = url.replace(c.endpoint, d.endpoint, 1)
    r.eq("the same URL against d with c's Host header (what the URL signed)",
         (200, b"presigned body"), url_status(url_d, {"Host": f"127.0.0.1:{c.port}"}))
    r.eq("the same URL against d with d's Host -> 403 SignatureDoesNotMatch",
         (403, "SignatureDoesNotMatch"), (lambda s: (s[0], lib.xml_code(s[1])))(url_status(url_d)))
    own = sd.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                    ExpiresIn=300)
    r.eq("presigned GET for d's endpoint, against d", (200, b"presigned body"), url_status(own))
    sd.put_object(Bucket=bucket, Key="q.txt", Body=b"signed through d")
    url_q = sc.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "q.txt"},
                                      ExpiresIn=300)
    r.eq("a signed PUT through d is read by a presigned GET through c",
         (200, b"signed through d"), url_status(url_q))
    tampered = url.replace("p.txt", "q.txt")
    status, body = url_status(tampered)
    r.eq("tampered URL against c -> 403 SignatureDoesNotMatch", (403, "SignatureDoesNotMatch"),
         (status, lib.xml_code(body)))
    r.eq("the open replica b reads the same key", b"presigned body", b.get(bucket, key).body)


def test_latin1_header():
    """A User-Agent in ISO-8859-1 (recorded as the writer's) is stored as text, not a 500."""
    bucket = "shared-latin1"
    r.eq("CreateBucket through a", 200, a.create_bucket(bucket).status)
    sock = a.connect()
    try:
        body = b"written by a Latin-1 client"
        sock.sendall(f"PUT /{bucket}/k HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n".encode()
                     + b"User-Agent: caf\xe9-client/1.0\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        resp, _ = lib.read_response(sock)
    finally:
        sock.close()
    r.eq("PUT with a Latin-1 User-Agent through a", 200, resp.status)
    r.eq("... read through b", (200, body), (lambda g: (g.status, g.body))(b.get(bucket, "k")))


r.run("read-after-write across replicas", test_read_after_write)
r.run("a Latin-1 request header across replicas", test_latin1_header)
r.run("buckets across replicas", test_buckets)
r.run("versioning and delete markers across replicas", test_versioning)
r.run("large (chunked) bodies across replicas", test_large_bodies)
r.run("CopyObject across replicas", test_copy)
r.run("multipart upload across replicas", test_multipart)
r.run("presigned URLs across replicas", test_presigned)
env.finish(STARTED)
