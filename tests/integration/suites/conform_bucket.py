"""Bucket policies and CORS answers as S3 gives them, through boto3 and raw HTTP (run through
../run.sh): a policy whose Resource wildcards cover the bucket (valid) or name only other buckets
(MalformedPolicy "Policy has invalid resource"), and the Access-Control-* headers of preflights
and of actual requests a CORS rule matches.
"""

import http.client
import json

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite conform_bucket did not run")

r = lib.Reporter("conform_bucket")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B, B2 = "conform-bucket", "conform-bucket-2"
for b in (B, B2):
    s3.create_bucket(Bucket=b)


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"]["Message"])
    return (200, None, None)


# --- bucket policy resources -------------------------------------------------------------------------
any_bucket = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
    "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}]})
r.eq("Resource arn:aws:s3:::* and arn:aws:s3:::*/* -> accepted", (200, None, None),
     error_of(lambda: s3.put_bucket_policy(Bucket=B, Policy=any_bucket)))
stored = s3.get_bucket_policy(Bucket=B)["Policy"]
r.eq("the stored policy can be put on another bucket", (200, None, None),
     error_of(lambda: s3.put_bucket_policy(Bucket=B2, Policy=stored)))
other = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::some-other-bucket/*"}]})
r.eq("a Resource naming only another bucket -> 400 MalformedPolicy",
     (400, "MalformedPolicy", "Policy has invalid resource"),
     error_of(lambda: s3.put_bucket_policy(Bucket=B, Policy=other)))
deny_unconditional = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*",
    "Condition": {"Null": {"s3:if-none-match": "true"}}}]})
s3.put_bucket_policy(Bucket=B, Policy=deny_unconditional)
r.eq("a wildcard Resource applies to this bucket: unconditional PUT -> 403",
     403, error_of(lambda: s3.put_object(Bucket=B, Key="k", Body=b"x"))[0])
r.eq("... a conditional PUT is allowed", (200, None, None),
     error_of(lambda: s3.put_object(Bucket=B, Key="k", Body=b"x", IfNoneMatch="*")))
s3.delete_bucket_policy(Bucket=B)

# --- CORS --------------------------------------------------------------------------------------------
s3.put_object(Bucket=B, Key="obj", Body=b"x")
s3.put_bucket_cors(Bucket=B, CORSConfiguration={"CORSRules": [
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["*suffix"]},
    {"AllowedMethods": ["GET"], "AllowedOrigins": ["start*end"]},
    {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*.put"]},
    {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://app.example"],
     "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-request-id"],
     "MaxAgeSeconds": 3000},
    {"AllowedMethods": ["HEAD"], "AllowedOrigins": ["*"]}]})


def call(method, path, headers):
    """(status, {lower-case name: value}) of a raw request."""
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=10)
    body = b"x" if method == "PUT" else None
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}


def cors(h):
    return {k: v for k, v in h.items() if k.startswith("access-control-") or k == "vary"}


obj = f"/{B}/obj"
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

st, h = call("OPTIONS", obj, {"Origin": "foo.suffix", "Access-Control-Request-Method": "GET"})
r.eq("preflight matched -> 200", 200, st)
r.eq("preflight headers: origin, the rule's methods, credentials, Vary",
     {"access-control-allow-origin": "foo.suffix", "access-control-allow-methods": "GET",
      "access-control-allow-credentials": "true", "vary": VARY}, cors(h))
st, h = call("OPTIONS", obj, {"Origin": "https://app.example",
                              "Access-Control-Request-Method": "PUT",
                              "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"})
r.eq("preflight with requested headers, Expose-Headers and Max-Age",
     {"access-control-allow-origin": "https://app.example",
      "access-control-allow-methods": "GET, PUT",
      "access-control-allow-headers": "content-type, x-amz-date",
      "access-control-expose-headers": "ETag, x-amz-request-id",
      "access-control-max-age": "3000", "access-control-allow-credentials": "true",
      "vary": VARY}, cors(h))
st, h = call("OPTIONS", obj, {"Origin": "start12end", "Access-Control-Request-Method": "GET"})
r.eq("preflight start*end matches start12end", (200, "GET"),
     (st, h.get("access-control-allow-methods")))
st, h = call("OPTIONS", obj, {"Origin": "foo.put", "Access-Control-Request-Method": "GET"})
r.eq("preflight for a method no rule of the origin allows -> 403", (403, {}), (st, cors(h)))
st, h = call("OPTIONS", obj, {"Origin": "foo.suffix"})
r.eq("preflight without Access-Control-Request-Method -> 400", 400, st)

st, h = call("GET", obj, {"Origin": "foo.suffix"})
r.eq("actual GET from a matched origin: the same headers as its preflight",
     (200, {"access-control-allow-origin": "foo.suffix", "access-control-allow-methods": "GET",
            "access-control-allow-credentials": "true", "vary": VARY}), (st, cors(h)))
st, h = call("GET", obj, {"Origin": "https://app.example"})
r.eq("actual GET gets Allow-Methods, Expose-Headers and Max-Age",
     ("GET, PUT", "ETag, x-amz-request-id", "3000"),
     (h.get("access-control-allow-methods"), h.get("access-control-expose-headers"),
      h.get("access-control-max-age")))
st, h = call("GET", obj, {"Origin": "foo.bar"})
r.eq("actual GET from an unmatched origin: no CORS headers", {}, cors(h))
st, h = call("GET", obj, {"Origin": "foo.suffix", "Access-Control-Request-Method": "PUT"})
r.eq("actual GET naming PUT in Access-Control-Request-Method is matched as PUT: none", {},
     cors(h))
st, h = call("PUT", f"/{B}/new", {"Origin": "foo.put"})
r.eq("actual PUT from *.put", (200, "foo.put", "PUT"),
     (st, h.get("access-control-allow-origin"), h.get("access-control-allow-methods")))
st, h = call("PUT", f"/{B}/new2", {"Origin": "foo.suffix", "Access-Control-Request-Method": "GET"})
r.eq("actual PUT naming GET is matched as GET", ("foo.suffix", "GET"),
     (h.get("access-control-allow-origin"), h.get("access-control-allow-methods")))
st, h = call("HEAD", obj, {"Origin": "http://anywhere"})
r.eq("a rule for any origin: Allow-Origin *, no credentials",
     {"access-control-allow-origin": "*", "access-control-allow-methods": "HEAD", "vary": VARY},
     cors(h))

r.finish()
