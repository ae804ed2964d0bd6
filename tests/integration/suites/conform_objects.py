"""Object and listing answers as S3 gives them, through boto3 and raw HTTP (run through
../run.sh): ListObjects / ListObjectsV2 with max-keys=0, the elements encoding-type=url encodes in
V1 and V2, non-ASCII user metadata (stored decoded, returned as RFC 2047 encoded-words), the
Content-Encoding kept as sent around aws-chunked, and a plain chunked PUT (501, as S3 answers).
"""

import email.header
import urllib.parse
import urllib.request

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite conform_objects did not run")

r = lib.Reporter("conform_objects")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "conform-objects"
s3.create_bucket(Bucket=B)


def raw_get(path):
    """(status, headers as a dict of lower-case names, body) of an unsigned GET (open mode)."""
    req = urllib.request.Request(lib.endpoint() + path)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def raw_put(key, headers, body):
    """PUT /B/key with the given header lines (bytes allowed) on a raw socket."""
    head = f"PUT /{B}/{urllib.parse.quote(key)} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    for h in headers:
        head += (h if isinstance(h, bytes) else h.encode()) + b"\r\n"
    return lib.raw_exchange(head + b"Connection: close\r\n\r\n" + body)


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"].get("Header"))
    return (200, None, None)


# --- max-keys=0 ------------------------------------------------------------------------------------
for k in ["bar", "baz", "foo", "quxx"]:
    s3.put_object(Bucket=B, Key=k, Body=b"x")
v1 = s3.list_objects(Bucket=B, MaxKeys=0)
r.eq("V1 max-keys=0: IsTruncated false", False, v1["IsTruncated"])
r.eq("V1 max-keys=0: no keys", [], v1.get("Contents", []))
r.check("V1 max-keys=0: no NextMarker", "NextMarker" not in v1, str(v1.get("NextMarker")))
v2 = s3.list_objects_v2(Bucket=B, MaxKeys=0)
r.eq("V2 max-keys=0: IsTruncated false", False, v2["IsTruncated"])
r.eq("V2 max-keys=0: KeyCount 0, no keys", (0, []), (v2["KeyCount"], v2.get("Contents", [])))
r.check("V2 max-keys=0: no NextContinuationToken", "NextContinuationToken" not in v2,
        str(v2.get("NextContinuationToken")))
r.eq("max-keys=1 still pages (IsTruncated true)", True,
     s3.list_objects_v2(Bucket=B, MaxKeys=1)["IsTruncated"])

# --- encoding-type=url: which elements each version encodes ------------------------------------------
prefix = "p\nx+/"
for k in ["a", "b c", "sub/d"]:
    s3.put_object(Bucket=B, Key=prefix + k, Body=b"x")
urls = []


def record_url(request, **kwargs):
    urls.append(request.url)


# Without an EncodingType of its own, botocore asks for encoding-type=url and decodes what it
# expects S3 to encode: Delimiter, Marker, NextMarker, Key and CommonPrefixes in V1 (not the
# top-level Prefix, so the Prefix it shows is the one on the wire), and in V2 also Prefix.
s3.meta.events.register("before-send.s3.ListObjects", record_url)
l1 = s3.list_objects(Bucket=B, Prefix=prefix, Delimiter="/", Marker=prefix + "a")
s3.meta.events.unregister("before-send.s3.ListObjects", record_url)
r.check("(precondition) botocore asked for encoding-type=url", "encoding-type=url" in urls[-1],
        urls[-1])
r.eq("V1 top-level Prefix is returned as sent", prefix, l1.get("Prefix"))
r.eq("V1 Marker (encoded on the wire, decoded by botocore)", prefix + "a", l1.get("Marker"))
r.eq("V1 keys", [prefix + "b c"], [c["Key"] for c in l1.get("Contents", [])])
r.eq("V1 common prefixes", [prefix + "sub/"], [c["Prefix"] for c in l1.get("CommonPrefixes", [])])
st, _, body = raw_get(f"/{B}?encoding-type=url&delimiter=%2F&prefix=" +
                      urllib.parse.quote(prefix, safe=""))
r.check("V1 wire: <Prefix> as sent, keys encoded",
        b"<Prefix>p\nx+/</Prefix>" in body and b"<Key>p%0Ax%2B/b%20c</Key>" in body
        and b"<Prefix>p%0Ax%2B/sub/</Prefix>" in body, body.decode(errors="replace")[:600])
l2 = s3.list_objects_v2(Bucket=B, Prefix=prefix, Delimiter="/")
r.eq("V2 top-level Prefix (encoded on the wire, decoded by botocore)", prefix, l2.get("Prefix"))
r.eq("V2 keys", [prefix + "a", prefix + "b c"], [c["Key"] for c in l2.get("Contents", [])])
st, _, body = raw_get(f"/{B}?list-type=2&encoding-type=url&delimiter=%2F&prefix=" +
                      urllib.parse.quote(prefix, safe=""))
r.check("V2 wire: <Prefix> encoded", b"<Prefix>p%0Ax%2B/</Prefix>" in body,
        body.decode(errors="replace")[:400])

# --- non-ASCII user metadata: stored decoded, returned as RFC 2047 encoded-words ---------------------
sent = {}


def non_ascii_meta(params, **kwargs):
    # What the external suite does: a header botocore would refuse as a Metadata value.
    params["headers"]["x-amz-meta-meta1"] = "Hello World\xe9"


def record(request, **kwargs):
    sent["meta1"] = request.headers.get("x-amz-meta-meta1")


s3.meta.events.register("before-call.s3.PutObject", non_ascii_meta)
s3.meta.events.register("before-send.s3.PutObject", record)
s3.put_object(Bucket=B, Key="meta-utf8", Body=b"bar")
s3.meta.events.unregister("before-call.s3.PutObject", non_ascii_meta)
s3.meta.events.unregister("before-send.s3.PutObject", record)
r.check("(precondition) botocore sent the value as UTF-8 bytes",
        sent.get("meta1") in ("Hello World\xe9", b"Hello World\xc3\xa9"), repr(sent.get("meta1")))
got = s3.get_object(Bucket=B, Key="meta-utf8")["Metadata"]["meta1"]
r.eq("non-ASCII value returned as an RFC 2047 encoded-word", "=?UTF-8?Q?Hello_World=C3=A9?=", got)
decoded = str(email.header.make_header(email.header.decode_header(got)))
r.eq("... which decodes to the text that was sent", "Hello World\xe9", decoded)
resp = raw_put("meta-latin1", [b"x-amz-meta-l1: caf\xe9", "Content-Length: 1"], b"x")
r.eq("ISO-8859-1 bytes accepted", 200, resp.status)
r.eq("ISO-8859-1 bytes are the same text", "=?UTF-8?Q?caf=C3=A9?=",
     s3.head_object(Bucket=B, Key="meta-latin1")["Metadata"]["l1"])
s3.put_object(Bucket=B, Key="meta-words", Body=b"x",
              Metadata={"q": "=?UTF-8?Q?actually-ascii?=", "b": "=?UTF-8?B?w4RNw4Ra?=",
                        "plain": "just ascii, _ and =?"})
m = s3.head_object(Bucket=B, Key="meta-words")["Metadata"]
r.eq("an encoded-word of ASCII text comes back decoded", "actually-ascii", m.get("q"))
r.eq("an encoded-word of non-ASCII text comes back Q-encoded", "=?UTF-8?Q?=C3=84M=C3=84Z?=",
     m.get("b"))
r.eq("plain ASCII comes back as sent", "just ascii, _ and =?", m.get("plain"))
too_big = "\xe9" * 1100  # 1100 bytes sent, 2200 bytes of UTF-8 text
resp = raw_put("meta-big", [b"x-amz-meta-big: " + too_big.encode("latin-1"), "Content-Length: 1"],
               b"x")
r.eq("metadata size counts the UTF-8 bytes of the stored text -> MetadataTooLarge",
     (400, True), (resp.status, b"MetadataTooLarge" in resp.body))

# --- Content-Encoding around aws-chunked -------------------------------------------------------------
s3.put_object(Bucket=B, Key="enc-plain", Body=b"x", ContentEncoding="deflate, gzip")
r.eq("Content-Encoding kept as sent", "deflate, gzip",
     s3.head_object(Bucket=B, Key="enc-plain").get("ContentEncoding"))
for key, value, stored in [("enc-1", "gzip, aws-chunked", "gzip"),
                           ("enc-2", "aws-chunked,deflate, gzip", "deflate, gzip"),
                           ("enc-3", "aws-chunked", None)]:
    resp = raw_put(key, ["x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                         f"Content-Encoding: {value}", "x-amz-decoded-content-length: 3",
                         "Content-Length: 13"], b"3\r\nbar\r\n0\r\n\r\n")
    r.eq(f"aws-chunked PUT with Content-Encoding: {value} -> 200", 200, resp.status)
    h = s3.head_object(Bucket=B, Key=key)
    r.eq(f"... stored Content-Encoding {stored!r}", stored, h.get("ContentEncoding"))
    r.eq("... decoded bytes", b"bar", s3.get_object(Bucket=B, Key=key)["Body"].read())

# --- a plain chunked PUT (no aws-chunked, no length): S3 answers 501 NotImplemented -------------------
te = {}


def add_te(request, **kwargs):
    request.headers.add_header("Transfer-Encoding", "chunked")


def record_te(request, **kwargs):
    te.update({k.lower(): v.decode() if isinstance(v, bytes) else v
               for k, v in request.headers.items()})


s3.meta.events.register_first("before-sign.s3.PutObject", add_te)
s3.meta.events.register("before-send.s3.PutObject", record_te)
res = error_of(lambda: s3.put_object(Bucket=B, Key="te-chunked", Body=b"bar"))
s3.meta.events.unregister("before-sign.s3.PutObject", add_te)
s3.meta.events.unregister("before-send.s3.PutObject", record_te)
r.check("(precondition) sent with Transfer-Encoding: chunked and no Content-Length",
        te.get("transfer-encoding") == "chunked" and "content-length" not in te, str(te))
r.eq("plain chunked PUT -> 501 NotImplemented naming Transfer-Encoding",
     (501, "NotImplemented", "Transfer-Encoding"), res)
r.eq("... nothing stored", (404, "404", None),
     error_of(lambda: s3.head_object(Bucket=B, Key="te-chunked")))

r.finish()
