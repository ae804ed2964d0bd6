"""POST Object (browser form upload) through boto3's generate_presigned_post, a hand-built
multipart/form-data body sent with http.client, and curl -F (run through ../run.sh): policy
conditions (eq, starts-with, content-length-range, expiration, extra fields), ${filename},
success_action_status 200/201/204, success_action_redirect (303), a streamed large file.
The server runs in open mode, so signatures are not verified (see post_object.cpp's hook).
"""

import hashlib
import http.client
import os
import shutil
import subprocess
import urllib.parse
import uuid

import lib

try:
    import boto3
    from botocore.config import Config
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite surface_post did not run")

r = lib.Reporter("surface_post")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "forms"
s3.create_bucket(Bucket=B)


def form_body(fields, file_name, file_data, boundary=None):
    """multipart/form-data with `fields` (in order) then the file part."""
    boundary = boundary or "----ifmatch" + uuid.uuid4().hex
    out = b""
    for k, v in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                f"{v}\r\n").encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    out += file_data + f"\r\n--{boundary}--\r\n".encode()
    return boundary, out


def post(fields, file_name="f.bin", data=b"hello form", bucket=B):
    boundary, body = form_body(fields, file_name, data)
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=30)
    conn.request("POST", f"/{bucket}", body=body,
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    conn.close()
    return out


# boto3's presigned POST (SigV2 or SigV4 fields), then our own multipart body.
pp = s3.generate_presigned_post(B, "uploads/${filename}",
                                Fields={"Content-Type": "text/plain", "x-amz-meta-who": "form",
                                        "success_action_status": "201"},
                                Conditions=[{"Content-Type": "text/plain"},
                                            {"x-amz-meta-who": "form"},
                                            {"success_action_status": "201"},
                                            ["starts-with", "$key", "uploads/"],
                                            ["content-length-range", 1, 1048576]],
                                ExpiresIn=600)
st, h, body = post(list(pp["fields"].items()), "note.txt", b"hello form")
r.eq("presigned POST with success_action_status=201", 201, st)
r.check("PostResponse XML", b"<PostResponse>" in body and b"<Key>uploads/note.txt</Key>" in body,
        body[:300])
r.eq("POST ETag is the MD5", '"' + hashlib.md5(b"hello form").hexdigest() + '"', h.get("etag"))
o = s3.get_object(Bucket=B, Key="uploads/note.txt")
r.eq("${filename} replaced; body stored", b"hello form", o["Body"].read())
r.eq("Content-Type from the form", "text/plain", o["ContentType"])
r.eq("x-amz-meta-* from the form", {"who": "form"}, o["Metadata"])

fields = dict(pp["fields"])
fields["key"] = "elsewhere/x"
st, h, body = post(list(fields.items()))
r.check("starts-with condition failing -> 403 AccessDenied",
        st == 403 and b"Invalid according to Policy" in body, f"{st} {body[:200]!r}")
fields = dict(pp["fields"])
fields["x-amz-meta-extra"] = "1"
st, h, body = post(list(fields.items()))
r.check("a field the policy does not cover -> 403 Extra input fields",
        st == 403 and b"Extra input fields" in body, f"{st} {body[:200]!r}")
st, h, body = post(list(pp["fields"].items()), "big.bin", b"x" * (1048576 + 1))
r.check("content-length-range exceeded -> EntityTooLarge", st == 400 and b"EntityTooLarge" in body,
        f"{st} {body[:200]!r}")
st, h, body = post(list(pp["fields"].items()), "empty.bin", b"")
r.check("content-length-range below min -> EntityTooSmall", st == 400 and b"EntityTooSmall" in body,
        f"{st} {body[:200]!r}")
expired = s3.generate_presigned_post(B, "late", ExpiresIn=-10)
st, h, body = post(list(expired["fields"].items()))
r.check("expired policy -> 403 Policy expired", st == 403 and b"Policy expired" in body,
        f"{st} {body[:200]!r}")

# Without a policy (open mode) and the three success statuses.
st, h, body = post([("key", "plain")])
r.eq("default success_action_status -> 204", 204, st)
st, h, body = post([("key", "plain200"), ("success_action_status", "200")])
r.check("success_action_status=200 -> 200 empty", st == 200 and body == b"", f"{st}")
st, h, body = post([("key", "redir"), ("success_action_redirect", "http://example.com/done")])
r.eq("success_action_redirect -> 303", 303, st)
loc = urllib.parse.urlparse(h.get("location", ""))
q = urllib.parse.parse_qs(loc.query)
r.check("redirect carries bucket, key, etag",
        q.get("bucket") == [B] and q.get("key") == ["redir"] and "etag" in q, h.get("location"))
st, h, body = post([("key", "enc"), ("x-amz-server-side-encryption", "AES256"), ("acl", "public-read"),
                    ("tagging", "<Tagging><TagSet><Tag><Key>t</Key><Value>1</Value></Tag></TagSet></Tagging>")])
r.eq("SSE, acl and tagging fields accepted", 204, st)
hd = s3.head_object(Bucket=B, Key="enc")
r.eq("SSE stored from the form", "AES256", hd.get("ServerSideEncryption"))
r.eq("tags stored from the form", [{"Key": "t", "Value": "1"}],
     s3.get_object_tagging(Bucket=B, Key="enc")["TagSet"])
st, h, body = post([("success_action_status", "201")])
r.check("no key field -> 400 InvalidArgument", st == 400 and b"InvalidArgument" in body, f"{st}")
conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=10)
conn.request("POST", f"/{B}", body=b"key=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
resp = conn.getresponse()
r.eq("non-multipart POST -> 412", 412, resp.status)
resp.read()
conn.close()
nb = "----nofile"
nofile = (f"--{nb}\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nnofile\r\n"
          f"--{nb}--\r\n").encode()
conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=10)
conn.request("POST", f"/{B}", body=nofile,
             headers={"Content-Type": f"multipart/form-data; boundary={nb}"})
resp = conn.getresponse()
out = resp.read()
conn.close()
r.check("form without a file -> 400 IncorrectNumberOfFilesInPostRequest",
        resp.status == 400 and b"IncorrectNumberOfFilesInPostRequest" in out, f"{resp.status} {out[:200]!r}")
# A streamed 64 MiB file part: the server must not buffer it (peak RSS stays well below).
big = os.urandom(1 << 20) * 64
st, h, body = post([("key", "large")], "large.bin", big)
r.eq("64 MiB form upload", 204, st)
r.eq("64 MiB form upload ETag", '"' + hashlib.md5(big).hexdigest() + '"', h.get("etag"))
rss = lib.peak_rss_kib()
r.check(f"form upload streamed (peak RSS {rss} KiB < 48 MiB for a 64 MiB file)",
        rss < 48 * 1024, f"{rss} KiB")

if shutil.which("curl"):
    path = os.path.join(lib.scratch_dir(), "curl.txt")
    with open(path, "wb") as f:
        f.write(b"from curl")
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                          "-F", "key=curl/${filename}", "-F", "success_action_status=201",
                          "-F", f"file=@{path}", f"{lib.endpoint()}/{B}"],
                         capture_output=True, text=True)
    r.eq("curl -F upload -> 201", "201", out.stdout)
    r.eq("curl -F stored", b"from curl",
         s3.get_object(Bucket=B, Key="curl/curl.txt")["Body"].read())
else:
    print("SKIPPED: curl not installed; curl -F checks did not run")
r.finish()
