"""Hostile bytes over raw sockets (issue 16 §3 and §5), with no client library in the way: malformed
request lines, invalid header bytes, oversize heads, bad Content-Length, short bodies, bad chunk
framing, broken aws-chunked bodies and signatures, malformed and hostile XML documents, a
10,000-part Complete list, bad percent-encoding, NUL and invalid UTF-8 in keys and bucket names,
enumerated header values S3 refuses, headers as query parameters, garbage dates and ranges.

Every case must be answered within 5 s with the status S3 gives; an error must be well-formed
XML 1.0 (parsed with expat, which refuses what XML 1.0 cannot carry) with Code, Message and a
RequestId equal to x-amz-request-id. After every case the server must answer its health check
and a GET of a known object. A second server with credentials takes the signature cases."""
import os
import re
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import authsign
import lib

r = lib.Reporter("hostile_input")
PORT = lib.port()
HOST = f"127.0.0.1:{PORT}"
B = "hostile"
KNOWN = b"a known body"
LIMIT = 5.0  # seconds any case may take
FFFD = "\ufffd"


# --- requests and answers ------------------------------------------------------------------------

def raw(method, target, headers=(), body=b"", host=None, length=None):
    """The bytes of one request. Content-Length is computed unless `length` says otherwise
    (False: none; a string: that value)."""
    if isinstance(body, str):
        body = body.encode()
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host or HOST}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if length is None and (body or method in ("PUT", "POST")):
        lines.append(f"Content-Length: {len(body)}")
    elif isinstance(length, str):
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(data, port=PORT, pieces=None, shutdown=False, head_request=False):
    """Sends `data` on a fresh connection (in pieces of `pieces` bytes when given, then half-closes
    when `shutdown`) and reads one response. Returns (response or None, seconds, problem)."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=LIMIT) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            step = pieces or len(data) or 1
            for i in range(0, len(data), step):
                s.sendall(data[i:i + step])
            if shutdown:
                s.shutdown(socket.SHUT_WR)
            resp, _ = lib.read_response(s, head_request=head_request)
            return resp, time.monotonic() - t0, ""
    except socket.timeout:
        return None, time.monotonic() - t0, f"no answer within {LIMIT} s"
    except (ConnectionError, OSError) as e:
        return None, time.monotonic() - t0, f"{type(e).__name__}: {e}"


def error_problem(resp):
    """Why `resp` is not an S3 error document, or '' when it is one."""
    try:
        doc = ET.fromstring(resp.body)
    except ET.ParseError as e:
        return f"not well-formed XML ({e}): {resp.body[:300]!r}"
    if doc.tag != "Error":
        return f"root <{doc.tag}>"
    for name in ("Code", "Message", "RequestId"):
        if not doc.findtext(name):
            return f"no {name}: {resp.body[:300]!r}"
    if doc.findtext("RequestId") != resp.header("x-amz-request-id"):
        return "RequestId differs from x-amz-request-id"
    if "xml" not in (resp.header("content-type") or ""):
        return f"Content-Type {resp.header('content-type')!r}"
    return ""


def field(resp, name):
    try:
        return ET.fromstring(resp.body).findtext(name)
    except ET.ParseError:
        return None


def alive():
    """'' when the server answers its health check and a GET of the known object."""
    health, _, problem = exchange(raw("GET", "/_ifmatch/health"))
    if health is None or health.status != 200:
        return f"health check: {problem or health.status}"
    known, _, problem = exchange(raw("GET", f"/{B}/known"))
    if known is None or (known.status, known.body) != (200, KNOWN):
        return f"GET of the known object: {problem or (known.status, known.body[:100])}"
    return ""


def case(name, data, status, code=None, check=None, **kw):
    """Sends one hostile request. `status` is one status or a tuple of them; `code` the expected
    S3 Code (or a tuple); `check(resp)` returns '' or a further problem. Returns the response."""
    statuses = status if isinstance(status, tuple) else (status,)
    codes = code if isinstance(code, tuple) or code is None else (code,)
    resp, took, problem = exchange(data, **kw)
    want = "/".join(map(str, statuses)) + (f" {'/'.join(codes)}" if codes else "")
    if resp is not None:
        got_code = field(resp, "Code") if resp.body else None
        if resp.status not in statuses or (codes and got_code not in codes):
            problem = f"got {resp.status} {got_code}: {resp.body[:300]!r}"
        elif resp.status >= 400 and not kw.get("head_request"):
            problem = error_problem(resp)
        if not problem and check:
            try:
                problem = check(resp)
            except Exception as e:  # noqa: BLE001 - an answer the check cannot read fails it
                problem = f"{type(e).__name__}: {e}: {resp.body[:300]!r}"
    if not problem and took > LIMIT:
        problem = f"took {took:.1f} s"
    if not problem:
        problem = alive()
    r.check(f"{name} -> {want}", not problem, problem)
    return resp


def has(name, value):
    return lambda resp: "" if field(resp, name) == value else \
        f"<{name}> is {field(resp, name)!r}, want {value!r}"


# --- set-up --------------------------------------------------------------------------------------

resp, _, _ = exchange(raw("PUT", f"/{B}"))
r.eq("create bucket (precondition)", 200, resp and resp.status)
resp, _, _ = exchange(raw("PUT", f"/{B}/known", body=KNOWN))
r.eq("put the known object (precondition)", 200, resp and resp.status)
r.eq("server healthy at the start", "", alive())
KNOWN_ETAG = resp.header("etag")

# --- request lines -------------------------------------------------------------------------------

case("garbage request line", b"GARBAGE\r\n\r\n", 400, "InvalidRequest")
case("method only", b"GET\r\n\r\n", 400, "InvalidRequest")
case("no HTTP version", f"GET /{B}/known\r\n\r\n".encode(), 400, "InvalidRequest")
case("HTTP/9.9", f"GET /{B}/known HTTP/9.9\r\nHost: x\r\n\r\n".encode(), 400, "InvalidRequest")
case("bare LF line ends", f"GET /{B}/known HTTP/1.1\nHost: x\n\n".encode(), 400, "InvalidRequest")
case("binary junk", bytes(range(256)) + b"\r\n\r\n", 400, "InvalidRequest")
case("TLS ClientHello on the plain port", bytes.fromhex("16030100a5010000a10303") + bytes(200),
     400, "InvalidRequest")
case("empty line before the request line", b"\r\n" + raw("GET", f"/{B}/known"), 400,
     "InvalidRequest")
case("lower-case method", raw("get", f"/{B}/known"), 405, "MethodNotAllowed")
case("unknown method", raw("BREW", f"/{B}/known"), 405, "MethodNotAllowed")
case("target without a leading slash", raw("GET", f"{B}/known"), 400, "InvalidURI")
case("asterisk target", raw("OPTIONS", "*"), 400, "InvalidURI")
case("absolute-form target is served", raw("GET", f"http://{HOST}/{B}/known"), 200)

# --- header bytes and the head limit -------------------------------------------------------------

for label, line in (("NUL in a header value", "x-a: a\x00b"),
                    ("control byte in a header value", "x-a: a\x01b"),
                    ("field line without a colon", "Bad header line"),
                    ("space before the colon", "x-a : b"),
                    ("@ in a field name", "x@y: 1"),
                    ("empty field name", ": v")):
    data = raw("GET", f"/{B}/known").replace(b"\r\n\r\n", b"\r\n" + line.encode("latin-1") +
                                             b"\r\n\r\n", 1)
    case(label, data, 400, "InvalidRequest")
case("obs-text (0xFF) in a header value is accepted", raw("GET", f"/{B}/known",
                                                          [("x-a", "\xff\xfe")]), 200)
case("5,000 small header fields", raw("GET", f"/{B}/known",
                                      [(f"x-h{i}", "v") for i in range(5000)]), 200)
big = raw("GET", f"/{B}/known", [("x-pad", "a" * (116 * 1024))])
case("116 KiB head in one piece", big, 400, "RequestHeaderSectionTooLarge")
case("116 KiB head in 1 KiB pieces", big, 400, "RequestHeaderSectionTooLarge", pieces=1024)

# --- Content-Length and bodies -------------------------------------------------------------------

for label, value in (("negative Content-Length", "-1"),
                     ("Content-Length overflowing 64 bits", "18446744073709551616"),
                     ("Content-Length of 23 digits", "99999999999999999999999"),
                     ("Content-Length not a number", "abc"),
                     ("Content-Length list", "1, 2")):
    case(label, raw("PUT", f"/{B}/cl", body=b"x", length=value), 400, "InvalidRequest")
case("two different Content-Length fields",
     raw("PUT", f"/{B}/cl", [("Content-Length", "1")], b"xx", length="2"), 400, "InvalidRequest")
case("Content-Length with Transfer-Encoding: chunked",
     raw("PUT", f"/{B}/cl", [("Transfer-Encoding", "chunked")], b"0\r\n\r\n", length="5"), 400,
     "InvalidRequest")
case("short body, then the client half-closes",
     raw("PUT", f"/{B}/short", body=b"x" * 10, length="1000"), 400, "IncompleteBody",
     shutdown=True)
case("nothing stored after the short body", raw("HEAD", f"/{B}/short"), 404, head_request=True)
case("6 GiB declared PUT", raw("PUT", f"/{B}/huge", length=str(6 << 30)), 400, "EntityTooLarge")
case("plain chunked PUT (not aws-chunked)",
     raw("PUT", f"/{B}/te", [("Transfer-Encoding", "chunked")], b"5\r\nhello\r\n0\r\n\r\n",
         length=False), 501, "NotImplemented")
case("Transfer-Encoding: gzip, chunked",
     raw("PUT", f"/{B}/te", [("Transfer-Encoding", "gzip, chunked")], b"5\r\nhello\r\n0\r\n\r\n",
         length=False), 501, "NotImplemented")

# --- aws-chunked framing -------------------------------------------------------------------------

UNSIGNED = [("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "5")]
for label, body, code in (
        ("aws-chunked size not hex", b"zz\r\nhello\r\n0\r\n\r\n", "IncompleteBody"),
        ("aws-chunked size overflowing 64 bits", b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
         "InvalidRequest"),
        ("aws-chunked chunk longer than announced", b"3\r\nhello\r\n0\r\n\r\n", "IncompleteBody"),
        ("aws-chunked chunk shorter than announced", b"50\r\nhello\r\n0\r\n\r\n",
         "IncompleteBody"),
        ("aws-chunked without the final chunk", b"5\r\nhello\r\n", "IncompleteBody"),
        ("aws-chunked data without its CRLF", b"5\r\nhello0\r\n\r\n", "IncompleteBody"),
        ("aws-chunked size line of 100 KiB", b"5;" + b"x" * 100000 + b"\r\nhello\r\n0\r\n\r\n",
         "InvalidRequest")):
    case(label, raw("PUT", f"/{B}/ac", UNSIGNED, body), 400, code)
case("aws-chunked trailer checksum not base64",
     raw("PUT", f"/{B}/ac", UNSIGNED + [("x-amz-trailer", "x-amz-checksum-crc32")],
         b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:!!\r\n\r\n"), 400,
     ("InvalidRequest", "IncompleteBody", "BadDigest"))
SIGNED_OPEN = [("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
               ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "5")]
case("signed aws-chunked without chunk-signature",
     raw("PUT", f"/{B}/sc", SIGNED_OPEN, b"5\r\nhello\r\n0\r\n\r\n"), 400, "InvalidRequest")
case("nothing stored by the broken aws-chunked bodies", raw("HEAD", f"/{B}/ac"), 404,
     head_request=True)

# --- XML documents -------------------------------------------------------------------------------

def post_delete(body):
    return raw("POST", f"/{B}?delete", body=body)


lol = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' +
       "".join(f'<!ENTITY a{i} "{("&a;" if i == 0 else f"&a{i - 1};") * 10}">' for i in range(9)) +
       ']><Delete><Object><Key>&a8;</Key></Object></Delete>')
for label, body in (("Delete not closed", "<Delete><Object><Key>a</Key></Object>"),
                    ("Delete with a DOCTYPE entity", '<!DOCTYPE d [<!ENTITY e "x">]>'
                     "<Delete><Object><Key>&e;</Key></Object></Delete>"),
                    ("Delete: billion laughs", lol),
                    ("Delete nested 100,000 deep", "<a>" * 100000 + "</a>" * 100000),
                    ("Delete empty body", ""),
                    ("Delete with a raw NUL", "<Delete>\x00<Object><Key>a</Key></Object></Delete>"),
                    ("Delete with 1,001 objects",
                     "<Delete>" + "<Object><Key>k</Key></Object>" * 1001 + "</Delete>"),
                    # Found by this suite: pugixml keeps these bytes, and the response then
                    # echoed them (a 200 that was not XML).
                    ("Delete key that is not UTF-8",
                     b"<Delete><Object><Key>\xff\xfe</Key></Object></Delete>"),
                    ("Delete key with &#1;", "<Delete><Object><Key>a&#1;b</Key></Object></Delete>"),
                    ("Delete key with &#0;", "<Delete><Object><Key>a&#0;b</Key></Object></Delete>")):
    case(label, post_delete(body), 400, "MalformedXML")
case("Delete body of 2 MiB", post_delete("<Delete>" + " " * (2 << 20) + "</Delete>"), 400,
     ("InvalidRequest", "MalformedXML"))
case("the known object survived the Delete documents", raw("HEAD", f"/{B}/known"), 200,
     head_request=True)
for label, target, body in (
        ("versioning status unknown", "?versioning",
         "<VersioningConfiguration><Status>Sideways</Status></VersioningConfiguration>"),
        ("versioning not closed", "?versioning", "<VersioningConfiguration><Status>"),
        ("versioning with U+FFFE", "?versioning",
         "<VersioningConfiguration><Status>\ufffe</Status></VersioningConfiguration>"),
        ("bucket tagging not closed", "?tagging", "<Tagging><TagSet><Tag><Key>k</Key>"),
        ("bucket tagging key not UTF-8", "?tagging",
         b"<Tagging><TagSet><Tag><Key>\xff</Key><Value>v</Value></Tag></TagSet></Tagging>"),
        ("CORS with an unknown method", "?cors",
         "<CORSConfiguration><CORSRule><AllowedMethod>BREW</AllowedMethod></CORSRule>"
         "</CORSConfiguration>"),
        ("encryption not closed", "?encryption", "<ServerSideEncryptionConfiguration><Rule>"),
        ("ownership unknown", "?ownershipControls",
         "<OwnershipControls><Rule><ObjectOwnership>Nobody</ObjectOwnership></Rule>"
         "</OwnershipControls>")):
    case(label, raw("PUT", f"/{B}{target}", body=body), 400, "MalformedXML")
case("ACL not closed", raw("PUT", f"/{B}?acl", body="<AccessControlPolicy><Owner>"), 400,
     "MalformedACLError")
case("policy that is not JSON", raw("PUT", f"/{B}?policy", body='{"Statement": [\x01'), 400,
     "MalformedPolicy")
case("object tagging key with &#1;",
     raw("PUT", f"/{B}/known?tagging",
         body="<Tagging><TagSet><Tag><Key>a&#1;</Key><Value>v</Value></Tag></TagSet></Tagging>"),
     400, "MalformedXML")
case("x-amz-tagging with a control character",
     raw("PUT", f"/{B}/tagged", [("x-amz-tagging", "k%01=v")], b"x"), 400, "InvalidTag")
case("x-amz-tagging that is not UTF-8",
     raw("PUT", f"/{B}/tagged", [("x-amz-tagging", "k=%FF")], b"x"), 400, "InvalidArgument")
case("object tagging still answers well-formed XML", raw("GET", f"/{B}/known?tagging"), 200,
     check=lambda resp: "" if ET.fromstring(resp.body).tag.endswith("Tagging") else "bad root")

# --- multipart: a 10,000-part Complete list and bad part numbers ---------------------------------

resp, _, _ = exchange(raw("POST", f"/{B}/mpu?uploads"))
upload = re.search(rb"<UploadId>([^<]+)</UploadId>", resp.body).group(1).decode()
resp, _, _ = exchange(raw("PUT", f"/{B}/mpu?partNumber=1&uploadId={upload}", body=b"part one"))
r.eq("upload part 1 (precondition)", 200, resp.status)


def complete(parts, upload_id=upload):
    body = ("<CompleteMultipartUpload>" +
            "".join(f'<Part><PartNumber>{n}</PartNumber><ETag>"{"0" * 32}"</ETag></Part>'
                    for n in parts) + "</CompleteMultipartUpload>")
    return raw("POST", f"/{B}/mpu?uploadId={upload_id}", body=body)


case("Complete with 10,000 parts", complete(range(1, 10001)), 400, "InvalidPart")
case("Complete with 10,001 parts", complete(range(1, 10002)), 400,
     ("InvalidPart", "MalformedXML", "InvalidArgument"))
case("Complete with part 0", complete([0]), 400, ("InvalidPartOrder", "InvalidArgument"))
case("Complete with part -1", complete([-1]), 400, ("InvalidPartOrder", "InvalidArgument"))
case("Complete with part 10^20",
     raw("POST", f"/{B}/mpu?uploadId={upload}",
         body="<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber>"
              "<ETag>x</ETag></Part></CompleteMultipartUpload>"), 400,
     ("MalformedXML", "InvalidArgument"))
case("Complete of an upload id with NUL", complete([1], "%00%FF"), 400, "InvalidURI")
case("Complete of an unknown upload id", complete([1], "nope"), 404, "NoSuchUpload")
for label, number in (("partNumber not a number", "x"), ("partNumber 10001", "10001"),
                      ("partNumber 10^20", "99999999999999999999"), ("partNumber 0", "0")):
    case(label, raw("PUT", f"/{B}/mpu?partNumber={number}&uploadId={upload}", body=b"x"), 400,
         "InvalidArgument")
exchange(raw("DELETE", f"/{B}/mpu?uploadId={upload}"))

# --- percent-encoding, NUL and invalid UTF-8 in names (item 1) -----------------------------------

case("% alone", raw("GET", f"/{B}/%"), 400, "InvalidURI")
case("% and one digit", raw("GET", f"/{B}/%4"), 400, "InvalidURI")
case("bad escape in the bucket", raw("GET", "/host%ile/k"), 400, "InvalidURI")
case("bad escape in the query", raw("GET", f"/{B}?prefix=%"), 400, "InvalidURI")
case("PUT /%FF%FE", raw("PUT", "/%FF%FE"), 400, "InvalidURI")
case("GET /bad/%FF%FE", raw("GET", "/bad/%FF%FE"), 400, "InvalidURI")
case("GET of a key that is not UTF-8", raw("GET", f"/{B}/caf%C3"), 400, "InvalidURI")
case("PUT of a key that is not UTF-8", raw("PUT", f"/{B}/%C0%AF", body=b"x"), 400, "InvalidURI")
case("raw 0xFF byte in the path", raw("GET", f"/{B}/\xff"), 400, "InvalidURI")
case("listing prefix that is not UTF-8", raw("GET", f"/{B}?list-type=2&prefix=%FF"), 400,
     "InvalidURI")
case("listing marker that is not UTF-8", raw("GET", f"/{B}?marker=%C3"), 400, "InvalidURI")
case("GET /ab%00cd/key: BucketName echoed as XML 1.0", raw("GET", "/ab%00cd/key"), 404,
     "NoSuchBucket", check=has("BucketName", f"ab{FFFD}cd"))
case("PUT of a key with NUL is stored", raw("PUT", f"/{B}/a%00b", body=b"nul"), 200)
case("GET of the key with NUL", raw("GET", f"/{B}/a%00b"), 200,
     check=lambda resp: "" if resp.body == b"nul" else f"body {resp.body!r}")
case("missing key with NUL and a control byte: Key echoed as XML 1.0",
     raw("GET", f"/{B}/x%00y%01z"), 404, "NoSuchKey", check=has("Key", f"x{FFFD}y{FFFD}z"))
case("virtual host that is not UTF-8", raw("GET", "/k", host="\xff\xfe.localhost"), 404,
     "NoSuchBucket", check=has("BucketName", FFFD + FFFD))
case("x-amz-acl with 0xFF: ArgumentValue echoed as XML 1.0",
     raw("PUT", f"/{B}/acl", [("x-amz-acl", "\xff\xfe")], b"x"), 400, "InvalidArgument",
     check=has("ArgumentValue", FFFD + FFFD))
case("If-Match with 0xFF", raw("GET", f"/{B}/known", [("If-Match", '"\xff\x80')]), 412,
     "PreconditionFailed")
case("copy source that is not UTF-8",
     raw("PUT", f"/{B}/cp", [("x-amz-copy-source", f"{B}/%FF")]), 400, "InvalidArgument",
     check=has("Message", "Invalid copy source encoding."))
case("copy source with a bad escape",
     raw("PUT", f"/{B}/cp", [("x-amz-copy-source", f"{B}/%zz")]), 400, "InvalidArgument")
case("copy source without a key", raw("PUT", f"/{B}/cp", [("x-amz-copy-source", B)]), 400,
     "InvalidArgument")

# --- enumerated header values S3 refuses (item 4) ------------------------------------------------

for op_label, method, target, extra, body in (
        ("PutObject", "PUT", f"/{B}/sc", [], b"x"),
        ("CopyObject", "PUT", f"/{B}/sc", [("x-amz-copy-source", f"/{B}/known")], b""),
        ("CreateMultipartUpload", "POST", f"/{B}/sc?uploads", [], b"")):
    case(f"{op_label} x-amz-storage-class: FLOPPY",
         raw(method, target, extra + [("x-amz-storage-class", "FLOPPY")], body),
         400, "InvalidStorageClass", check=has("StorageClassRequested", "FLOPPY"))
case("x-amz-storage-class: STANDARD_IA is accepted",
     raw("PUT", f"/{B}/ia", [("x-amz-storage-class", "STANDARD_IA")], b"x"), 200)
case("x-amz-object-attributes: Frob,,",
     raw("GET", f"/{B}/known?attributes", [("x-amz-object-attributes", "Frob,,")]), 400,
     "InvalidArgument", check=has("ArgumentValue", "Frob"))
case("x-amz-object-attributes naming nothing",
     raw("GET", f"/{B}/known?attributes", [("x-amz-object-attributes", ",,")]), 400,
     "InvalidRequest")
case("x-amz-object-attributes: ETag, ObjectSize is served",
     raw("GET", f"/{B}/known?attributes", [("x-amz-object-attributes", "ETag, ObjectSize")]), 200,
     check=lambda resp: "" if b"<ObjectSize>" in resp.body else f"{resp.body!r}")
for label, headers, code in (
        ("x-amz-object-lock-mode: FOREVER", [("x-amz-object-lock-mode", "FOREVER")],
         "InvalidArgument"),
        ("x-amz-object-lock-legal-hold: MAYBE", [("x-amz-object-lock-legal-hold", "MAYBE")],
         "InvalidArgument"),
        ("x-amz-acl: public-everything", [("x-amz-acl", "public-everything")], "InvalidArgument"),
        ("x-amz-server-side-encryption: ROT13", [("x-amz-server-side-encryption", "ROT13")],
         "InvalidArgument"),
        ("x-amz-sdk-checksum-algorithm: MD4", [("x-amz-sdk-checksum-algorithm", "MD4")],
         "InvalidRequest")):
    case(label, raw("PUT", f"/{B}/enum", headers, b"x"), 400, code,
         check=lambda resp, h=headers[0][0]: "" if field(resp, "Code") != "InvalidArgument" or
         field(resp, "ArgumentName") in (h, None) else f"ArgumentName {field(resp, 'ArgumentName')}")
for label, headers in (("x-amz-metadata-directive: MOVE", [("x-amz-metadata-directive", "MOVE")]),
                       ("x-amz-tagging-directive: MERGE", [("x-amz-tagging-directive", "MERGE")])):
    case(label, raw("PUT", f"/{B}/enum", [("x-amz-copy-source", f"/{B}/known")] + headers), 400,
         "InvalidArgument")
case("CreateMultipartUpload x-amz-checksum-type: PARTIAL",
     raw("POST", f"/{B}/enum?uploads", [("x-amz-checksum-algorithm", "CRC32"),
                                        ("x-amz-checksum-type", "PARTIAL")]), 400,
     "InvalidRequest")
case("CreateMultipartUpload x-amz-checksum-algorithm: MD4",
     raw("POST", f"/{B}/enum?uploads", [("x-amz-checksum-algorithm", "MD4")]), 400,
     "InvalidRequest")
case("nothing stored under a refused value", raw("HEAD", f"/{B}/enum"), 404, head_request=True)

# --- headers given as query parameters (item 5) --------------------------------------------------

GET_KNOWN = f"/{B}/known"
case("unsigned GET with ?If-None-Match=* ignores it", raw("GET", GET_KNOWN + "?If-None-Match=%2A"),
     200)
case("header-signed GET with ?If-Match=\"nope\" ignores it",
     raw("GET", GET_KNOWN + "?If-Match=%22nope%22",
         [("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/"
                            "aws4_request, SignedHeaders=host, Signature=00")]), 200)
case("SigV2 header-signed GET with ?If-Match=\"nope\" ignores it",
     raw("GET", GET_KNOWN + "?If-Match=%22nope%22", [("Authorization", "AWS test:c2lnbmF0dXJl")]),
     200)
case("presigned (SigV4) GET with If-Match=\"nope\" -> 412",
     raw("GET", GET_KNOWN + "?" + authsign.presign("GET", GET_KNOWN, HOST, "test", "test",
                                                   [("If-Match", '"nope"')])),
     412, "PreconditionFailed", check=has("Condition", "If-Match"))
case("presigned (SigV4) GET with If-None-Match=<etag> -> 304",
     raw("GET", GET_KNOWN + "?" + authsign.presign("GET", GET_KNOWN, HOST, "test", "test",
                                                   [("If-None-Match", KNOWN_ETAG)])), 304)
case("presigned (SigV2) GET with If-None-Match=<etag> -> 304",
     raw("GET", GET_KNOWN + "?AWSAccessKeyId=test&Expires=4102444800&Signature=x"
         "&If-None-Match=" + KNOWN_ETAG.replace('"', "%22")), 304)
case("unsigned GET with ?If-Unmodified-Since in the past ignores it",
     raw("GET", GET_KNOWN + "?If-Unmodified-Since=Thu%2C%2001%20Jan%201970%2000%3A00%3A00%20GMT"),
     200)
PUT_Q = f"/{B}/qput"
case("put qput (precondition)", raw("PUT", PUT_Q, body=b"v1"), 200)
case("presigned PUT with If-None-Match=* over an object -> 412",
     raw("PUT", PUT_Q + "?" + authsign.presign("PUT", PUT_Q, HOST, "test", "test",
                                               [("If-None-Match", "*")]), body=b"v2"),
     412, "PreconditionFailed")
case("unsigned PUT with ?If-None-Match=* ignores it (overwrites)",
     raw("PUT", PUT_Q + "?If-None-Match=%2A", body=b"v3"), 200)
case("the unsigned PUT wrote", raw("GET", PUT_Q), 200,
     check=lambda resp: "" if resp.body == b"v3" else f"body {resp.body!r}")

# --- garbage dates and ranges --------------------------------------------------------------------

for label, headers, status in (
        ("If-Modified-Since garbage is ignored", [("If-Modified-Since", "garbage")], 200),
        ("If-Unmodified-Since with day 99 is ignored",
         [("If-Unmodified-Since", "Thu, 99 Xyz 99999 99:99:99 GMT")], 200),
        ("If-Modified-Since in year 9999", [("If-Modified-Since",
                                             "Fri, 31 Dec 9999 23:59:59 GMT")], (200, 304)),
        ("If-Modified-Since in year 0", [("If-Modified-Since",
                                          "Sat, 01 Jan 0000 00:00:00 GMT")], 200),
        ("If-Modified-Since of 0xFF bytes", [("If-Modified-Since", "\xff\xfe")], 200),
        ("x-amz-date garbage (open mode)", [("x-amz-date", "99999999T999999Z")], 200),
        ("Date garbage", [("Date", "yesterday")], 200),
        ("If-None-Match list of 5,000 ETags", [("If-None-Match", ",".join(['"x"'] * 5000))], 200),
        ("Range not a range", [("Range", "bytes=abc")], 200),
        ("Range reversed", [("Range", "bytes=4-1")], 200),
        ("Range in another unit", [("Range", "items=0-1")], 200),
        ("Range of two pieces", [("Range", "bytes=0-1,2-3")], 200),
        ("Range of 1,000 pieces", [("Range", "bytes=" + ",".join(["0-0"] * 1000))], 200),
        ("Range suffix of 23 digits", [("Range", "bytes=-99999999999999999999999")], (200, 206)),
        ("If-Range of 0xFF bytes", [("Range", "bytes=0-1"), ("If-Range", "\xff")], (200, 206))):
    case(label, raw("GET", f"/{B}/known", headers), status)
for label, headers in (("Range start of 23 digits", [("Range", "bytes=99999999999999999999999-")]),
                       ("Range -0", [("Range", "bytes=-0")]),
                       ("Range past the end", [("Range", "bytes=100-200")])):
    case(label, raw("GET", f"/{B}/known", headers), 416, "InvalidRange")
case("Range with partNumber", raw("GET", f"/{B}/known?partNumber=1", [("Range", "bytes=0-1")]),
     400, "InvalidRequest")
case("copy-source-if-modified-since garbage is ignored",
     raw("PUT", f"/{B}/cp2", [("x-amz-copy-source", f"/{B}/known"),
                              ("x-amz-copy-source-if-modified-since", "nope")]), 200)

# --- broken signatures, on a second server that requires them ------------------------------------

signed_log = os.path.join(lib.scratch_dir(), "signed.log")
with open(signed_log, "w") as log:
    signed = subprocess.Popen([os.environ["IFMATCH_BIN"], "--listen", "127.0.0.1:0", "--data",
                               ":memory:", "--access-key", "test", "--secret-key", "test"],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
try:
    m = None
    deadline = time.monotonic() + 10
    while not m and time.monotonic() < deadline and signed.poll() is None:
        time.sleep(0.05)
        with open(signed_log) as log:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", log.read())
    r.check("signed server started (precondition)", m, open(signed_log).read()[-500:])
    SP = int(m.group(1)) if m else 0
    SH = f"127.0.0.1:{SP}"
    h, _, _, _, _ = authsign.sign("PUT", "/sig", SH, "test", "test")
    r.eq("signed CreateBucket (precondition)", 200, authsign.send("127.0.0.1", SP, "PUT", "/sig",
                                                                  h)[0])

    def sig_case(label, data, status, code, **kw):
        resp, took, problem = exchange(data, port=SP, **kw)
        if resp is not None:
            if (resp.status, field(resp, "Code")) != (status, code):
                problem = f"got {resp.status} {field(resp, 'Code')}: {resp.body[:300]!r}"
            else:
                problem = error_problem(resp)
        if not problem:
            health, _, hp = exchange(raw("GET", "/_ifmatch/health", host=SH), port=SP)
            problem = "" if health is not None and health.status == 200 else f"health: {hp}"
        r.check(f"signed: {label} -> {status} {code}", not problem, problem)

    for label, auth, status, code in (
            ("garbage SigV4 Authorization", "AWS4-HMAC-SHA256 garbage", 400,
             "AuthorizationHeaderMalformed"),
            ("0xFF bytes in the Credential",
             "AWS4-HMAC-SHA256 Credential=\xff/\xfe, SignedHeaders=host, Signature=00", 400,
             "AuthorizationHeaderMalformed"),
            ("garbage SigV2 Authorization", "AWS \xff", 400, "AuthorizationHeaderMalformed"),
            ("unknown Authorization scheme", "Bearer xyz", 400, "InvalidArgument"),
            ("wrong SigV4 signature",
             "AWS4-HMAC-SHA256 Credential=test/" + time.strftime("%Y%m%d", time.gmtime()) +
             "/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
             "Signature=" + "0" * 64, 403, "SignatureDoesNotMatch")):
        headers = [("Authorization", auth), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                   ("x-amz-date", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))]
        sig_case(label, raw("GET", "/sig", headers, host=SH), status, code)
    presigned = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20260101%2Fus-east-1"
                 "%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host"
                 "&X-Amz-Signature=00&X-Amz-Expires=")
    sig_case("presigned with X-Amz-Expires=-1", raw("GET", "/sig?" + presigned + "-1", host=SH),
             400, "AuthorizationQueryParametersError")
    sig_case("presigned with X-Amz-Expires of 20 digits",
             raw("GET", "/sig?" + presigned + "99999999999999999999", host=SH), 400,
             "AuthorizationQueryParametersError")
    sig_case("presigned URL with a parameter added after signing",
             raw("GET", "/sig/k?" + authsign.presign("GET", "/sig/k", SH, "test", "test") +
                 "&If-Match=%22x%22", host=SH), 403, "SignatureDoesNotMatch")
    data = b"x" * 100
    h, sig, amz_date, scope, key = authsign.sign(
        "PUT", "/sig/stream", SH, "test", "test",
        headers={"content-encoding": "aws-chunked",
                 "x-amz-decoded-content-length": str(len(data))},
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    stream_headers = [(k, v) for k, v in h.items() if k != "host"]
    tampered = authsign.chunked_body(data, 64, key, amz_date, scope, sig, tamper_chunk=1)
    sig_case("aws-chunked with a tampered chunk signature",
             raw("PUT", "/sig/stream", stream_headers, tampered, host=SH), 403,
             "SignatureDoesNotMatch")
    good = authsign.chunked_body(data, 64, key, amz_date, scope, sig)
    renamed = good.replace(b";chunk-signature=", b";chunk-sig=", 1)
    sig_case("aws-chunked with a renamed chunk-signature",
             raw("PUT", "/sig/stream", stream_headers, renamed, host=SH), 400, "InvalidRequest")
    sig_case("aws-chunked cut short, then the client half-closes",
             raw("PUT", "/sig/stream", stream_headers, good[:-40], host=SH,
                 length=str(len(good))), 400, "IncompleteBody", shutdown=True)
    h, _, _, _, _ = authsign.sign("HEAD", "/sig/stream", SH, "test", "test")
    r.eq("signed: nothing stored by the refused streams", 404,
         authsign.send("127.0.0.1", SP, "HEAD", "/sig/stream", h)[0])
finally:
    signed.terminate()
    try:
        signed.wait(timeout=10)
    except subprocess.TimeoutExpired:
        signed.kill()

# A key holding a newline (%0A) is one access-log line: its control bytes are escaped, so a key
# cannot forge a line of its own.
exchange(raw("PUT", "/logkeys", length=False))
resp, _, _ = exchange(raw("PUT", "/logkeys/a%0A2026-01-01T00:00:00Z%20forged%20line", body=b"x"))
r.eq("a key with a newline is stored", 200, resp.status if resp else None)
time.sleep(0.2)
with open(os.environ["IFMATCH_LOG"], encoding="utf-8", errors="replace") as f:
    log = f.read()
r.check("the access log holds it on one line, the newline escaped",
        "/logkeys/a\\x0a2026-01-01T00:00:00Z forged line 200" in log and
        not any(l.startswith("2026-01-01T00:00:00Z forged") for l in log.splitlines()),
        [l for l in log.splitlines() if "forged" in l])

r.check("server still running", lib.server_running())
r.finish()
