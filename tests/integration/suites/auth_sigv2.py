# ifmatch-flags: --access-key test --secret-key test
"""Signature Version 2 in signed mode (credentials test/test): boto3 with signature_version "s3"
signs bucket-level, object-level and sub-resource requests with `Authorization: AWS ...` headers,
generate_presigned_url makes SigV2 query URLs (AWSAccessKeyId/Expires/Signature) for the same
kinds of requests, and s3cmd (Debian) runs with signature_v2 = True. Every part runs path-style
AND virtual-hosted-style (`Host: BUCKET.localhost:PORT`; *.localhost does not resolve here, so the
clients' resolver maps it to 127.0.0.1). The client's outgoing requests are recorded and asserted
as (precondition): SigV2, the addressing style asked for."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import lib

try:
    import boto3
    from botocore.client import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite auth_sigv2 did not run")

r = lib.Reporter("auth_sigv2")
PORT = lib.port()

# *.localhost -> 127.0.0.1 for this process (boto3 and urllib); s3cmd gets the same below.
_getaddrinfo = socket.getaddrinfo


def _resolve_localhost(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _resolve_localhost

# botocore's endpoint rules use path-style for an IP endpoint, so virtual-hosted style needs a name.
ENDPOINTS = {"path": f"http://127.0.0.1:{PORT}", "virtual": f"http://localhost:{PORT}"}


def client(style, secret="test"):
    cfg = Config(signature_version="s3", s3={"addressing_style": style},
                 retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    c = boto3.client("s3", endpoint_url=ENDPOINTS[style], region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key=secret, config=cfg)
    c.sent = []
    c.meta.events.register(
        "before-send.s3",
        lambda request, **kw: c.sent.append(
            (request.method, request.url, request.headers.get("Authorization", b""))))
    return c


error_code = lib.error_code
xml_code = lib.xml_code


def url_call(url, method="GET", data=None):
    # urllib would add a form Content-Type to bodies, which the URL signs as empty.
    headers = {"Content-Type": ""} if data is not None else {}
    req = urllib.request.Request(url, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def host_of(url):
    return urllib.parse.urlsplit(url).netloc


def check_sent(tag, c, style, bucket, n_before):
    """(precondition) every request since n_before was SigV2-signed in the addressing style."""
    sent = c.sent[n_before:]
    auths = {a[:4] for _, _, a in sent}
    r.check(f"{tag}: (precondition) {len(sent)} requests signed with `AWS key:sig`",
            sent and auths == {b"AWS "}, [a[:30] for _, _, a in sent])
    if style == "virtual":
        # GetBucketLocation is always sent path-style by botocore.
        hosts = {host_of(u) for _, u, _ in sent if "?location" not in u}
        r.eq(f"{tag}: (precondition) virtual-hosted requests", {f"{bucket}.localhost:{PORT}"},
             hosts)
    else:
        bad = [u for _, u, _ in sent if not u.startswith(f"{ENDPOINTS['path']}/{bucket}")]
        r.eq(f"{tag}: (precondition) path-style requests", [], bad)


# --- boto3, header signing -------------------------------------------------------------------
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::{b}/denied/*"}]})
CORS = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"]}]}

for style in ("path", "virtual"):
    c = client(style)
    B = f"sigv2-{style}"
    tag = f"boto3 {style}"
    n0 = len(c.sent)
    # Bucket-level requests, without and with sub-resources.
    r.run(f"{tag}: CreateBucket", lambda: c.create_bucket(Bucket=B))
    r.run(f"{tag}: HeadBucket", lambda: c.head_bucket(Bucket=B))
    r.eq(f"{tag}: ListObjects (V1) of the empty bucket", [],
         r.run(f"{tag}: ListObjects", lambda: c.list_objects(Bucket=B).get("Contents", [])))
    r.eq(f"{tag}: GetBucketLocation (?location)", None,
         r.run(f"{tag}: GetBucketLocation",
               lambda: c.get_bucket_location(Bucket=B)["LocationConstraint"]))
    r.run(f"{tag}: PutBucketVersioning (?versioning)", lambda: c.put_bucket_versioning(
        Bucket=B, VersioningConfiguration={"Status": "Enabled"}))
    r.eq(f"{tag}: GetBucketVersioning (?versioning)", "Enabled",
         r.run(f"{tag}: GetBucketVersioning",
               lambda: c.get_bucket_versioning(Bucket=B).get("Status")))
    r.check(f"{tag}: GetBucketAcl (?acl)",
            r.run(f"{tag}: GetBucketAcl", lambda: c.get_bucket_acl(Bucket=B)["Grants"]))
    r.run(f"{tag}: PutBucketTagging (?tagging)", lambda: c.put_bucket_tagging(
        Bucket=B, Tagging={"TagSet": [{"Key": "team", "Value": "a b"}]}))
    r.eq(f"{tag}: GetBucketTagging (?tagging)", [{"Key": "team", "Value": "a b"}],
         r.run(f"{tag}: GetBucketTagging", lambda: c.get_bucket_tagging(Bucket=B)["TagSet"]))
    r.run(f"{tag}: DeleteBucketTagging (?tagging)", lambda: c.delete_bucket_tagging(Bucket=B))
    r.run(f"{tag}: PutBucketPolicy (?policy)",
          lambda: c.put_bucket_policy(Bucket=B, Policy=POLICY.replace("{b}", B)))
    r.check(f"{tag}: GetBucketPolicy (?policy)", "denied/*" in (r.run(
        f"{tag}: GetBucketPolicy", lambda: c.get_bucket_policy(Bucket=B)["Policy"]) or ""))
    r.eq(f"{tag}: the policy is enforced (Deny PutObject denied/*)", "AccessDenied",
         error_code(lambda: c.put_object(Bucket=B, Key="denied/x", Body=b"x")))
    r.run(f"{tag}: DeleteBucketPolicy (?policy)", lambda: c.delete_bucket_policy(Bucket=B))
    r.run(f"{tag}: PutBucketCors (?cors)",
          lambda: c.put_bucket_cors(Bucket=B, CORSConfiguration=CORS))
    r.eq(f"{tag}: GetBucketCors (?cors)", ["https://example.com"], r.run(
        f"{tag}: GetBucketCors",
        lambda: c.get_bucket_cors(Bucket=B)["CORSRules"][0]["AllowedOrigins"]))
    r.run(f"{tag}: DeleteBucketCors (?cors)", lambda: c.delete_bucket_cors(Bucket=B))

    # Object-level requests, plain and with sub-resources.
    K = "dir/a b+c ü.txt"
    put = r.run(f"{tag}: PutObject", lambda: c.put_object(Bucket=B, Key=K, Body=b"v1"))
    vid = put and put.get("VersionId")
    r.run(f"{tag}: PutObject v2", lambda: c.put_object(Bucket=B, Key=K, Body=b"v2"))
    r.eq(f"{tag}: GetObject", b"v2",
         r.run(f"{tag}: GetObject", lambda: c.get_object(Bucket=B, Key=K)["Body"].read()))
    r.eq(f"{tag}: GetObject ?versionId (sub-resource)", b"v1", r.run(
        f"{tag}: GetObject versionId",
        lambda: c.get_object(Bucket=B, Key=K, VersionId=vid)["Body"].read()))
    got = r.run(f"{tag}: GetObject ?response-content-type",
                lambda: c.get_object(Bucket=B, Key=K, ResponseContentType="text/x-y; a=b"))
    r.eq(f"{tag}: response-content-type override applied", "text/x-y; a=b",
         got and got["ContentType"])
    r.eq(f"{tag}: HeadObject size", 2,
         r.run(f"{tag}: HeadObject", lambda: c.head_object(Bucket=B, Key=K)["ContentLength"]))
    r.run(f"{tag}: CopyObject (x-amz-copy-source)", lambda: c.copy_object(
        Bucket=B, Key="copy.txt", CopySource={"Bucket": B, "Key": K}))
    r.run(f"{tag}: PutObjectTagging (?tagging)", lambda: c.put_object_tagging(
        Bucket=B, Key=K, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}))
    r.eq(f"{tag}: GetObjectTagging (?tagging)", [{"Key": "k", "Value": "v"}], r.run(
        f"{tag}: GetObjectTagging", lambda: c.get_object_tagging(Bucket=B, Key=K)["TagSet"]))
    r.check(f"{tag}: GetObjectAcl (?acl)",
            r.run(f"{tag}: GetObjectAcl", lambda: c.get_object_acl(Bucket=B, Key=K)["Grants"]))
    # Multipart: ?uploads on the object and the bucket, ?uploadId, ?partNumber.
    up = r.run(f"{tag}: CreateMultipartUpload (?uploads)",
               lambda: c.create_multipart_upload(Bucket=B, Key="mp.bin")["UploadId"])
    ups = r.run(f"{tag}: ListMultipartUploads (bucket ?uploads)",
                lambda: c.list_multipart_uploads(Bucket=B).get("Uploads", []))
    r.eq(f"{tag}: the upload is listed", [up], [u["UploadId"] for u in ups or []])
    part = r.run(f"{tag}: UploadPart (?partNumber&uploadId)", lambda: c.upload_part(
        Bucket=B, Key="mp.bin", UploadId=up, PartNumber=1, Body=b"p" * 1000))
    r.eq(f"{tag}: ListParts (?uploadId)", [1], r.run(f"{tag}: ListParts", lambda: [
        p["PartNumber"] for p in c.list_parts(Bucket=B, Key="mp.bin", UploadId=up)["Parts"]]))
    r.run(f"{tag}: CompleteMultipartUpload (?uploadId)", lambda: c.complete_multipart_upload(
        Bucket=B, Key="mp.bin", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}))
    r.eq(f"{tag}: GetObject ?partNumber=1", 1000, r.run(
        f"{tag}: GetObject partNumber",
        lambda: c.get_object(Bucket=B, Key="mp.bin", PartNumber=1)["ContentLength"]))
    up2 = r.run(f"{tag}: CreateMultipartUpload 2",
                lambda: c.create_multipart_upload(Bucket=B, Key="mp2.bin")["UploadId"])
    r.run(f"{tag}: AbortMultipartUpload (?uploadId)",
          lambda: c.abort_multipart_upload(Bucket=B, Key="mp2.bin", UploadId=up2))
    # Bucket-level reads of the contents.
    keys = r.run(f"{tag}: ListObjects", lambda: [
        o["Key"] for o in c.list_objects(Bucket=B, Prefix="dir/")["Contents"]])
    r.eq(f"{tag}: ListObjects lists the key", [K], keys)
    keys = r.run(f"{tag}: ListObjectsV2", lambda: [
        o["Key"] for o in c.list_objects_v2(Bucket=B)["Contents"]])
    r.eq(f"{tag}: ListObjectsV2 lists the keys", sorted([K, "copy.txt", "mp.bin"]), keys)
    versions = r.run(f"{tag}: ListObjectVersions (?versions)",
                     lambda: c.list_object_versions(Bucket=B, Prefix="dir/")["Versions"])
    r.eq(f"{tag}: two versions listed", 2, len(versions or []))
    # DeleteObject with ?versionId, then DeleteObjects (?delete) of everything left.
    r.run(f"{tag}: DeleteObject ?versionId", lambda: c.delete_object(
        Bucket=B, Key=K, VersionId=vid))
    r.run(f"{tag}: PutBucketVersioning Suspended", lambda: c.put_bucket_versioning(
        Bucket=B, VersioningConfiguration={"Status": "Suspended"}))
    listing = c.list_object_versions(Bucket=B)
    objs = [{"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    res = r.run(f"{tag}: DeleteObjects (?delete)",
                lambda: c.delete_objects(Bucket=B, Delete={"Objects": objs}))
    r.eq(f"{tag}: DeleteObjects deleted all, no errors", (len(objs), []),
         (len((res or {}).get("Deleted", [])), (res or {}).get("Errors", [])))
    check_sent(tag, c, style, B, n0)

    # Wrong secret and unknown key on bucket-level requests.
    bad = client(style, secret="wrong")
    r.eq(f"{tag}: wrong secret, ListObjects -> SignatureDoesNotMatch", "SignatureDoesNotMatch",
         error_code(lambda: bad.list_objects(Bucket=B)))
    r.eq(f"{tag}: wrong secret, GetBucketAcl -> SignatureDoesNotMatch", "SignatureDoesNotMatch",
         error_code(lambda: bad.get_bucket_acl(Bucket=B)))
    r.eq(f"{tag}: wrong secret, CreateBucket -> SignatureDoesNotMatch", "SignatureDoesNotMatch",
         error_code(lambda: bad.create_bucket(Bucket=B + "-x")))
    r.eq(f"{tag}: nothing was created by the refused request", "NoSuchBucket",
         error_code(lambda: c.list_objects(Bucket=B + "-x")))

# --- boto3 generate_presigned_url (SigV2 query signing) -------------------------------------
for style in ("path", "virtual"):
    c = client(style)
    B = f"sigv2-{style}"
    tag = f"presigned {style}"
    c.put_object(Bucket=B, Key="p q.txt", Body=b"presigned body")

    def url(op, expires=300, **params):
        return c.generate_presigned_url(op, Params={"Bucket": B, **params}, ExpiresIn=expires)

    u = url("list_objects")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)
    r.check(f"{tag}: (precondition) SigV2 query URL",
            {"AWSAccessKeyId", "Expires", "Signature"} <= set(q) and "X-Amz-Signature" not in q,
            u)
    want_host = f"{B}.localhost:{PORT}" if style == "virtual" else f"127.0.0.1:{PORT}"
    r.eq(f"{tag}: (precondition) host", want_host, host_of(u))
    status, body, _ = url_call(u)
    # botocore adds encoding-type=url to ListObjects, so the key comes back encoded.
    r.check(f"{tag}: ListObjects URL (bucket-level) -> 200 with the key",
            status == 200 and b"<Key>p%20q.txt</Key>" in body, (status, body[:300]))
    status, body, _ = url_call(url("get_bucket_acl"))
    r.check(f"{tag}: GetBucketAcl URL (?acl) -> 200 AccessControlPolicy",
            status == 200 and b"<AccessControlPolicy" in body, (status, body[:300]))
    status, body, _ = url_call(url("get_bucket_versioning"))
    r.check(f"{tag}: GetBucketVersioning URL (?versioning) -> 200",
            status == 200 and b"VersioningConfiguration" in body, (status, body[:300]))
    status, body, _ = url_call(url("list_multipart_uploads"))
    r.check(f"{tag}: ListMultipartUploads URL (?uploads) -> 200",
            status == 200 and b"ListMultipartUploadsResult" in body, (status, body[:300]))
    status, body, _ = url_call(url("head_bucket"), method="HEAD")
    r.eq(f"{tag}: HeadBucket URL -> 200", 200, status)
    status, body, _ = url_call(url("get_object", Key="p q.txt"))
    r.eq(f"{tag}: GetObject URL -> 200 body", (200, b"presigned body"), (status, body))
    status, body, headers = url_call(url("get_object", Key="p q.txt",
                                         ResponseContentType="text/x-z"))
    r.eq(f"{tag}: GetObject URL with response-content-type -> override",
         (200, "text/x-z"), (status, headers.get("Content-Type")))
    status, _, _ = url_call(url("put_object", Key="via url"), "PUT", b"put by url")
    r.eq(f"{tag}: PutObject URL -> 200", 200, status)
    r.eq(f"{tag}: the object PUT by URL is stored", b"put by url",
         c.get_object(Bucket=B, Key="via url")["Body"].read())
    status, _, _ = url_call(url("put_object_tagging", Key="via url",
                                Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}), "PUT",
                            b'<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag>'
                            b'</TagSet></Tagging>')
    r.eq(f"{tag}: PutObjectTagging URL (?tagging) -> 200", 200, status)
    r.eq(f"{tag}: the tag set by URL is stored", [{"Key": "a", "Value": "b"}],
         c.get_object_tagging(Bucket=B, Key="via url")["TagSet"])
    status, _, _ = url_call(url("delete_object", Key="via url"), "DELETE")
    r.eq(f"{tag}: DeleteObject URL -> 204", 204, status)

    # A URL signed for one sub-resource must not serve another, nor another bucket path.
    acl = url("get_bucket_acl")
    status, body, _ = url_call(acl.replace("?acl", "?versioning", 1))
    r.eq(f"{tag}: ?acl URL used for ?versioning -> 403 SignatureDoesNotMatch",
         (403, "SignatureDoesNotMatch"), (status, xml_code(body)))
    status, body, _ = url_call(u.replace("Signature=", "Signature=A", 1))
    r.eq(f"{tag}: tampered signature on a bucket URL -> 403 SignatureDoesNotMatch",
         (403, "SignatureDoesNotMatch"), (status, xml_code(body)))
    expired = url("list_objects", expires=1)
    time.sleep(2.2)
    status, body, _ = url_call(expired)
    r.eq(f"{tag}: expired bucket URL -> 403 AccessDenied", (403, "AccessDenied"),
         (status, xml_code(body)))

# --- s3cmd (Debian) with signature_v2 = True ------------------------------------------------
S3CMD = shutil.which("s3cmd")
if not S3CMD:
    print("=" * 66 + "\nSKIPPED: s3cmd not installed (apt-get install s3cmd); "
          "s3cmd part of auth_sigv2 did not run\n" + "=" * 66)
else:
    with open(S3CMD, "rb") as f:
        interpreter = f.readline()[2:].decode().strip().split()
    # Runs s3cmd in its own interpreter with *.localhost resolving to 127.0.0.1.
    launcher = ("import socket, sys, runpy\n"
                "_g = socket.getaddrinfo\n"
                "def gai(host, *a, **k):\n"
                "    if isinstance(host, str) and host.endswith('.localhost'):\n"
                "        host = '127.0.0.1'\n"
                "    return _g(host, *a, **k)\n"
                "socket.getaddrinfo = gai\n"
                "sys.argv = ['s3cmd'] + sys.argv[1:]\n"
                f"runpy.run_path({S3CMD!r}, run_name='__main__')\n")
    W = os.path.join(lib.scratch_dir(), "s3cmd")
    os.makedirs(W, exist_ok=True)
    small = os.path.join(W, "small.txt")
    with open(small, "wb") as f:
        f.write(b"s3cmd small\n")
    cors = os.path.join(W, "cors.xml")
    with open(cors, "w") as f:
        f.write("<CORSConfiguration><CORSRule><AllowedOrigin>https://example.com</AllowedOrigin>"
                "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>")
    policy = os.path.join(W, "policy.json")
    big = os.path.join(W, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(6 * 1024 * 1024))

    for style in ("path", "virtual"):
        B = f"sigv2-s3cmd-{style}"
        tag = f"s3cmd {style}"
        host_bucket = (f"127.0.0.1:{PORT}" if style == "path"
                       else f"%(bucket)s.localhost:{PORT}")
        cfg = os.path.join(W, f"{style}.cfg")
        with open(cfg, "w") as f:
            f.write(f"[default]\naccess_key = test\nsecret_key = test\n"
                    f"host_base = 127.0.0.1:{PORT}\nhost_bucket = {host_bucket}\n"
                    "use_https = False\nsignature_v2 = True\nbucket_location = US\n"
                    "multipart_chunk_size_mb = 5\n")

        def s3cmd(*args, cfg=cfg):
            p = subprocess.run(interpreter + ["-c", launcher, "-c", cfg, "--no-progress",
                                              "--debug", *args],
                               capture_output=True, text=True, timeout=120)
            return p.returncode, p.stdout, p.stderr

        def run(what, *args):
            rc, out, err = s3cmd(*args)
            signed_v2 = "Using signature v2" in err and "Using signature v4" not in err
            # s3cmd's debug log names the connection's host and the path it sends.
            vhost, path = f"//{B}.localhost:{PORT}" in err, f"format_uri(): /{B}" in err
            addressed = (vhost and not path) if style == "virtual" else (path and not vhost)
            r.check(f"{tag}: {what}", rc == 0, (rc, out[-300:], err[-600:]))
            r.check(f"{tag}: {what} (precondition: SigV2, {style}-style)",
                    signed_v2 and addressed, err[-600:])
            return out

        run("mb (CreateBucket)", "mb", f"s3://{B}")
        run("put", "put", small, f"s3://{B}/dir/small file.txt")
        run("put 6 MiB (multipart: ?uploads, ?partNumber&uploadId)", "put", big,
            f"s3://{B}/big.bin")
        out = run("ls (ListObjects)", "ls", "--recursive", f"s3://{B}")
        r.check(f"{tag}: ls lists both keys",
                f"s3://{B}/dir/small file.txt" in out and f"s3://{B}/big.bin" in out, out)
        out = run("info (?location ?acl ?policy ?cors ...)", "info", f"s3://{B}")
        r.check(f"{tag}: info shows the location", "us-east-1" in out, out)
        run("setacl (GetObjectAcl + PutObjectAcl ?acl)", "setacl", "--acl-public",
            f"s3://{B}/dir/small file.txt")
        run("setcors (PutBucketCors ?cors)", "setcors", cors, f"s3://{B}")
        out = run("info after setcors", "info", f"s3://{B}")
        r.check(f"{tag}: info shows the CORS rule", "https://example.com" in out, out)
        run("delcors (DeleteBucketCors ?cors)", "delcors", f"s3://{B}")
        with open(policy, "w") as f:
            f.write(POLICY.replace("{b}", B))
        run("setpolicy (PutBucketPolicy ?policy)", "setpolicy", policy, f"s3://{B}")
        run("delpolicy (DeleteBucketPolicy ?policy)", "delpolicy", f"s3://{B}")
        run("multipart (ListMultipartUploads ?uploads)", "multipart", f"s3://{B}")
        got = os.path.join(W, f"{style}.out")
        run("get", "get", "--force", f"s3://{B}/big.bin", got)
        with open(got, "rb") as f1, open(big, "rb") as f2:
            r.check(f"{tag}: get returns the 6 MiB body", f1.read() == f2.read())
        run("del (DeleteObjects ?delete)", "del", "--recursive", "--force", f"s3://{B}")
        run("rb (DeleteBucket)", "rb", f"s3://{B}")
        bad = cfg + ".bad"
        with open(cfg) as f, open(bad, "w") as g:
            g.write(f.read().replace("secret_key = test", "secret_key = wrong"))
        rc, out, err = s3cmd("ls", "s3://sigv2-path", cfg=bad)
        r.check(f"{tag}: wrong secret -> SignatureDoesNotMatch",
                rc != 0 and "SignatureDoesNotMatch" in out + err, (rc, err[-300:]))

r.finish()
