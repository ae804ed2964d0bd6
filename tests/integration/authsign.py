"""Hand-rolled SigV4 signing for the auth_* suites: requests with a chosen clock, tampered bodies
and signed aws-chunked streams, which the SDKs will not produce. Written from the AWS SigV4
description in wire.md §1-§2; only what the suites need."""
import datetime
import hashlib
import hmac
import http.client
import urllib.parse

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region="us-east-1"):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, "s3")
    return _hmac(k, "aws4_request")


def _uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def sign(method, path, host, access_key, secret, headers=None, query="", payload_hash=None,
         when=None, region="us-east-1"):
    """Returns (headers dict, signature, amz_date, scope) for a header-signed request."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    h = {k.lower(): v for k, v in (headers or {}).items()}
    h["host"] = host
    h["x-amz-date"] = amz_date
    h["x-amz-content-sha256"] = payload_hash or EMPTY_SHA256
    names = sorted(h)
    pairs = []
    for piece in filter(None, query.split("&")):
        k, _, v = piece.partition("=")
        pairs.append((_uri_encode(urllib.parse.unquote(k), False),
                      _uri_encode(urllib.parse.unquote(v), False)))
    canonical = "\n".join([
        method, _uri_encode(urllib.parse.unquote(path), True),
        "&".join(f"{k}={v}" for k, v in sorted(pairs)),
        "".join(f"{n}:{' '.join(str(h[n]).split())}\n" for n in names),
        ";".join(names), h["x-amz-content-sha256"]])
    scope = f"{date}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret, date, region)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                          f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return h, sig, amz_date, scope, key


def presign(method, path, host, access_key, secret, params=(), expires=300, when=None,
            region="us-east-1"):
    """The query string of a SigV4 presigned URL for `path` (signed header `host`, payload
    UNSIGNED-PAYLOAD) that also carries `params`, a list of (name, value), as signed parameters:
    how a presigner sends headers such as If-None-Match in the URL."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    pairs = list(params) + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", f"{access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    encoded = sorted((_uri_encode(k, False), _uri_encode(v, False)) for k, v in pairs)
    query = "&".join(f"{k}={v}" for k, v in encoded)
    canonical = "\n".join([method, _uri_encode(urllib.parse.unquote(path), True), query,
                           f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    sig = hmac.new(signing_key(secret, amz_date[:8], region), sts.encode(),
                   hashlib.sha256).hexdigest()
    return query + "&X-Amz-Signature=" + sig


def chunked_body(data, chunk_size, key, amz_date, scope, seed, tamper_chunk=None):
    """The STREAMING-AWS4-HMAC-SHA256-PAYLOAD encoding of `data`; chunk number `tamper_chunk`
    (0-based) gets a wrong signature."""
    out = b""
    prev = seed
    pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for n, piece in enumerate(pieces):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256,
                         hashlib.sha256(piece).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        prev = sig
        if n == tamper_chunk:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        out += f"{len(piece):x};chunk-signature={sig}\r\n".encode() + piece + b"\r\n"
    return out


def send(host, port, method, path, headers, body=b"", query=""):
    """Sends one request on a fresh connection; returns (status, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    target = path + ("?" + query if query else "")
    conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for k, v in headers.items():
        conn.putheader(k, v)
    if (body or method in ("PUT", "POST")) and "content-length" not in headers:
        conn.putheader("content-length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data
