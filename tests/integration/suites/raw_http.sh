#!/usr/bin/env bash
# Wire-level behaviour with curl and raw sockets (open mode: unsigned requests), run through ../run.sh.
# Part 1 uses curl; part 2 is a Python block using lib.py's raw-socket helpers for requests curl
# cannot (or will not) send. Both report into one "N passed, M failed" line.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

W="$IFMATCH_TMP/scratch/raw"
mkdir -p "$W"
E="$IFMATCH_ENDPOINT"
B=raw-bucket

# req METHOD URL [CURL ARGS...]: sets $STATUS, headers in $W/h, body in $W/b.
req() {
    local method=$1 url=$2; shift 2
    local m=(-X "$method")
    [[ "$method" == HEAD ]] && m=(--head)
    STATUS=$(curl -s -S --max-time 30 "${m[@]}" -D "$W/h" -o "$W/b" -w '%{http_code}' "$@" "$url") \
        || STATUS="curl-failed"
}
# hdr NAME: value of a response header from the last req (case-insensitive, CR stripped).
hdr() {
    grep -i "^$1:" "$W/h" | tail -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}
# xml TAG: text of the first <TAG> in the last body.
xml() {
    python3 - "$W/b" "$1" <<'EOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    sys.exit(0)
node = root if root.tag.split('}')[-1] == sys.argv[2] else None
if node is None:
    for el in root.iter():
        if el.tag.split('}')[-1] == sys.argv[2]:
            node = el
            break
print(node.text or "" if node is not None else "", end="")
EOF
}
# every_response NAME: checks the headers every S3 response must carry.
every_response() {
    local id id2 date
    id=$(hdr x-amz-request-id); id2=$(hdr x-amz-id-2); date=$(hdr date)
    [[ -n "$id" ]] && ok "$1: x-amz-request-id" || fail "$1: x-amz-request-id" "missing"
    [[ -n "$id2" ]] && ok "$1: x-amz-id-2" || fail "$1: x-amz-id-2" "missing"
    check_match "$1: Date is an IMF-fixdate" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' "$date"
}
# s3_error NAME STATUS CODE: checks the last response is an S3 XML error envelope.
s3_error() {
    local name=$1 status=$2 code=$3
    check "$name: status" "$status" "$STATUS"
    check "$name: Code" "$code" "$(xml Code)"
    check_match "$name: Content-Type application/xml" '^application/xml' "$(hdr content-type)"
    check_match "$name: Message present" '.' "$(xml Message)"
    check "$name: RequestId equals x-amz-request-id" "$(hdr x-amz-request-id)" "$(xml RequestId)"
    check_match "$name: HostId present" '.' "$(xml HostId)"
    if grep -q '<Error xmlns' "$W/b"; then fail "$name: <Error> has no namespace"; else ok "$name: <Error> has no namespace"; fi
    every_response "$name"
}

echo "# setup and common headers"
req PUT "$E/$B"
check "CreateBucket (unsigned) -> 200" 200 "$STATUS"
every_response "CreateBucket"
printf 'hello raw world' >"$W/hello"
req PUT "$E/$B/hello.txt" -T "$W/hello"
check "PutObject (curl -T, no Content-Type) -> 200" 200 "$STATUS"
check "PutObject ETag" "\"$(md5sum "$W/hello" | cut -d' ' -f1)\"" "$(hdr etag)"
every_response "PutObject"
req GET "$E/$B/hello.txt"
check "GetObject -> 200" 200 "$STATUS"
check "GetObject body" "hello raw world" "$(cat "$W/b")"
check "default Content-Type" "binary/octet-stream" "$(hdr content-type)"
check_match "Last-Modified is an IMF-fixdate" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' "$(hdr last-modified)"
every_response "GetObject"
req HEAD "$E/$B/hello.txt"
check "HeadObject -> 200" 200 "$STATUS"
check "HeadObject Content-Length is the object size" 15 "$(hdr content-length)"
every_response "HeadObject"
# A response-* override cannot add a header line of its own: CR/LF in it become spaces.
for m in GET HEAD; do
    req "$m" "$E/$B/hello.txt?response-content-disposition=a%0D%0AX-Injected:%201"
    check "$m response-content-disposition with CR LF -> 200" 200 "$STATUS"
    check "$m CR LF in an override adds no header" "" "$(hdr x-injected)"
    check "$m override kept on one line" "a  X-Injected: 1" "$(hdr content-disposition)"
done

echo "# error envelopes"
req GET "$E/$B/missing-key"
s3_error "NoSuchKey" 404 NoSuchKey
req GET "$E/raw-no-such-bucket/missing-key"
s3_error "NoSuchBucket wins over NoSuchKey" 404 NoSuchBucket
req HEAD "$E/$B/missing-key"
check "HEAD missing key -> 404" 404 "$STATUS"
# curl --head writes the header block to -o as well: the file must hold the headers and nothing more.
check "HEAD error has no body" "$(wc -c <"$W/h")" "$(stat -c %s "$W/b")"
every_response "HEAD error"
req PUT "$E/Invalid_Bucket"
s3_error "uppercase/underscore bucket name" 400 InvalidBucketName
req PUT "$E/ab"
s3_error "two-character bucket name" 400 InvalidBucketName
req PUT "$E/192.168.1.1"
s3_error "IP-address bucket name" 400 InvalidBucketName
req GET "$E/$B/hello.txt?torrent"
s3_error "GET ?torrent (unimplemented)" 501 NotImplemented
req PUT "$E/$B?intelligent-tiering&id=x" --data-binary '<x/>'
s3_error "PUT ?intelligent-tiering (unimplemented)" 501 NotImplemented
req GET "$E/$B/hello.txt" -H 'Range: bytes=100-200'
s3_error "unsatisfiable range" 416 InvalidRange
check "416 Content-Range" "bytes */15" "$(hdr content-range)"
check "416 ActualObjectSize" 15 "$(xml ActualObjectSize)"

echo "# body framing"
head -c 5000 /dev/urandom >"$W/chunky"
req PUT "$E/$B/te-chunked" -H 'Transfer-Encoding: chunked' --data-binary @"$W/chunky"
s3_error "plain Transfer-Encoding: chunked" 501 NotImplemented
check "NotImplemented names the header" "Transfer-Encoding" "$(xml Header)"
req HEAD "$E/$B/te-chunked"
check "the chunked PUT stored nothing" 404 "$STATUS"
other_sha=$(printf 'not the body' | sha256sum | cut -d' ' -f1)
req PUT "$E/$B/sha-mismatch" --data-binary 'the body' -H "x-amz-content-sha256: $other_sha" -H 'Content-Type:'
s3_error "hex x-amz-content-sha256 mismatch" 400 XAmzContentSHA256Mismatch
req HEAD "$E/$B/sha-mismatch"
check "the mismatched PUT stored nothing" 404 "$STATUS"
good_sha=$(printf 'the body' | sha256sum | cut -d' ' -f1)
req PUT "$E/$B/sha-match" --data-binary 'the body' -H "x-amz-content-sha256: $good_sha" -H 'Content-Type:'
check "matching hex x-amz-content-sha256 -> 200" 200 "$STATUS"

echo "# virtual-hosted style"
req PUT "http://127.0.0.1:$IFMATCH_PORT/vkey.txt" -H "Host: $B.localhost:$IFMATCH_PORT" --data-binary 'via vhost' -H 'Content-Type: text/plain'
check "vhost PUT (explicit Host header) -> 200" 200 "$STATUS"
req GET "$E/$B/vkey.txt"
check "vhost-written object readable path-style" "via vhost" "$(cat "$W/b")"
req GET "http://$B.localhost:$IFMATCH_PORT/vkey.txt" --connect-to "$B.localhost:$IFMATCH_PORT:127.0.0.1:$IFMATCH_PORT"
check "vhost GET via --connect-to -> 200" 200 "$STATUS"
check "vhost GET body" "via vhost" "$(cat "$W/b")"
req GET "http://$B.localhost:$IFMATCH_PORT/?list-type=2" --connect-to "$B.localhost:$IFMATCH_PORT:127.0.0.1:$IFMATCH_PORT"
check "vhost ListObjectsV2 -> 200" 200 "$STATUS"
check "vhost listing Name is the bucket" "$B" "$(xml Name)"
grep -q '<Key>vkey.txt</Key>' "$W/b" && ok "vhost listing contains the key" || fail "vhost listing contains the key" "$(head -c 400 "$W/b")"
req GET "http://127.0.0.1:$IFMATCH_PORT/missing" -H "Host: $B.localhost:$IFMATCH_PORT"
s3_error "vhost missing key" 404 NoSuchKey

echo "# raw sockets"
# The Python block prints its own ok/FAIL lines and leaves its counts in a file.
python3 - "$B" "$W/py_counts" <<'EOF'
import base64, socket, sys, time, zlib
import lib

bucket, counts_file = sys.argv[1], sys.argv[2]
r = lib.Reporter("raw_http.py")
host = f"127.0.0.1:{lib.port()}"


def request(method, target, headers=(), body=b"", head=False):
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"] + list(headers)
    return lib.raw_exchange(("\r\n".join(lines) + "\r\n\r\n").encode() + body, head_request=head)


def get(key):
    return request("GET", f"/{bucket}/{key}", ["Connection: close"])


def alive(after):
    r.eq(f"server still healthy after {after}", 200, lib.health_status())


def crc32_b64(data):
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def code_of(resp):
    body = resp.body.decode("utf-8", "replace")
    start = body.find("<Code>")
    return body[start + 6:body.find("</Code>")] if start >= 0 else None


def aws_chunked(chunks, trailer_value):
    out = b""
    for c in chunks:
        out += f"{len(c):x}\r\n".encode() + c + b"\r\n"
    return out + f"0\r\nx-amz-checksum-crc32:{trailer_value}\r\n\r\n".encode()


def put_trailer(key, chunks, trailer_value, outer_chunked=False):
    data = b"".join(chunks)
    body = aws_chunked(chunks, trailer_value)
    headers = ["x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER",
               "Content-Encoding: aws-chunked",
               f"x-amz-decoded-content-length: {len(data)}",
               "x-amz-trailer: x-amz-checksum-crc32",
               "x-amz-sdk-checksum-algorithm: CRC32",
               "Connection: close"]
    if outer_chunked:
        # HTTP chunking around the aws-chunked stream, in uneven pieces.
        wire = b""
        for i in range(0, len(body), 777):
            piece = body[i:i + 777]
            wire += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        body = wire + b"0\r\n\r\n"
        headers.append("Transfer-Encoding: chunked")
    else:
        headers.append(f"Content-Length: {len(body)}")
    return request("PUT", f"/{bucket}/{key}", headers, body)


def main():
    print("# aws-chunked with an unsigned trailer", flush=True)
    chunks = [b"a" * 8192, bytes(range(256)) * 20, b"tail"]
    data = b"".join(chunks)
    resp = put_trailer("trailer-ok", chunks, crc32_b64(data))
    r.eq("STREAMING-UNSIGNED-PAYLOAD-TRAILER with correct CRC32 -> 200", 200, resp.status)
    r.eq("... ETag is MD5 of the decoded bytes",
         '"' + __import__("hashlib").md5(data).hexdigest() + '"', resp.header("etag"))
    got = get("trailer-ok")
    r.check("stored bytes exclude the aws-chunked framing", got.body == data,
            f"{len(got.body)} bytes, starts {got.body[:40]!r}")
    r.check("stored object has no aws-chunked Content-Encoding",
            "aws-chunked" not in (got.header("content-encoding") or ""), got.header("content-encoding"))

    resp = put_trailer("trailer-bad", chunks, crc32_b64(data + b"!"))
    r.eq("wrong trailer CRC32 -> 400", 400, resp.status)
    r.eq("wrong trailer CRC32 -> BadDigest", "BadDigest", code_of(resp))
    r.eq("object with a bad trailer was not stored", 404, get("trailer-bad").status)

    resp = put_trailer("trailer-outer", chunks, crc32_b64(data), outer_chunked=True)
    r.eq("aws-chunked inside Transfer-Encoding: chunked -> 200", 200, resp.status)
    r.check("double-framed upload stored the decoded bytes", get("trailer-outer").body == data)

    print("# Expect: 100-continue", flush=True)
    payload = b"x" * 4096
    with lib.connect() as s:
        s.sendall((f"PUT /{bucket}/expect HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(payload)}\r\n"
                   "Expect: 100-continue\r\n\r\n").encode())
        t0 = time.monotonic()
        first, rest = lib.read_response(s, interim=True)
        waited = time.monotonic() - t0
        r.eq("Expect: 100-continue gets 100 Continue", 100, first.status)
        r.check("... promptly (< 0.5 s)", waited < 0.5, f"{waited:.3f} s")
        s.sendall(payload)
        final, _ = lib.read_response(s, rest)
        r.eq("body after 100 Continue -> 200", 200, final.status)
    r.eq("100-continue upload stored", payload, get("expect").body)

    print("# missing length", flush=True)
    resp = request("PUT", f"/{bucket}/nolength", ["Connection: close"])
    r.eq("PUT with neither Content-Length nor chunking -> 411", 411, resp.status)
    r.eq("... MissingContentLength", "MissingContentLength", code_of(resp))

    print("# malformed input", flush=True)
    for target in (f"/{bucket}/bad%zzkey", f"/{bucket}/bad%4", f"/{bucket}/%"):
        resp = request("GET", target, ["Connection: close"])
        r.eq(f"malformed percent-escape {target!r} -> 400", 400, resp.status)
    alive("malformed escapes")

    try:
        resp = lib.raw_exchange(b"GARBAGE\r\n\r\n")
        r.eq("garbage request line -> 400", 400, resp.status)
    except (ConnectionError, OSError, ValueError, IndexError) as e:
        r.fail("garbage request line -> 400", f"no parseable response: {e}")
    alive("a garbage request line")
    try:
        lib.raw_exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64) + b"\r\n\r\n", timeout=5)
    except (ConnectionError, OSError):
        pass
    alive("binary junk (TLS ClientHello on the plain port)")

    big = "a" * 100_000
    try:
        resp = request("GET", f"/{bucket}/hello.txt", [f"X-Big: {big}", "Connection: close"])
        r.check("100 KB header -> 4xx", 400 <= resp.status < 500, f"status {resp.status}")
    except (ConnectionError, OSError) as e:
        r.fail("100 KB header -> 4xx", f"no response: {e}")
    alive("a 100 KB header")

    print("# keep-alive", flush=True)
    with lib.connect() as s:
        s.sendall(f"HEAD /{bucket}/missing HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        head, rest = lib.read_response(s, head_request=True)
        r.eq("HEAD error -> 404", 404, head.status)
        s.settimeout(0.3)
        try:
            extra = rest + s.recv(65536)
        except socket.timeout:
            extra = rest
        s.settimeout(10)
        r.eq("HEAD error sent no body bytes", b"", extra)
        s.sendall(f"GET /{bucket}/hello.txt HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        second, _ = lib.read_response(s)
        r.check("connection stays usable after a HEAD error",
                second.status == 200 and second.body == b"hello raw world", repr(second))

    print("# object bodies: sent as one buffer up to 64 KiB in memory, streamed above", flush=True)
    with lib.connect() as s:
        for size in (1, 1024, 65536, 65537, 300000):
            data = bytes((i * 7 + size) % 251 for i in range(size))
            key = f"sized-{size}"
            s.sendall(f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: {host}\r\n"
                      f"Content-Length: {size}\r\n\r\n".encode() + data)
            put, rest = lib.read_response(s)
            r.eq(f"PUT {size} B -> 200", 200, put.status)
            s.sendall(f"HEAD /{bucket}/{key} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head, rest = lib.read_response(s, rest, head_request=True)
            for _ in range(2):  # the second GET proves the connection stayed in step
                s.sendall(f"GET /{bucket}/{key} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                got, rest = lib.read_response(s, rest)
                r.check(f"GET {size} B: status 200 and the exact bytes",
                        got.status == 200 and got.body == data, (got.status, len(got.body)))
            skip = {"date", "x-amz-request-id", "x-amz-id-2"}
            r.eq(f"GET {size} B: the header fields of HEAD, in order",
                 [h for h in head.headers if h[0] not in skip],
                 [h for h in got.headers if h[0] not in skip])
            s.sendall(f"GET /{bucket}/{key} HTTP/1.1\r\nHost: {host}\r\n"
                      f"Range: bytes={size // 3}-{size - 1}\r\n\r\n".encode())
            part, rest = lib.read_response(s, rest)
            r.check(f"GET {size} B with a Range: 206, Content-Range and the bytes",
                    part.status == 206 and part.body == data[size // 3:] and
                    part.header("content-range") == f"bytes {size // 3}-{size - 1}/{size}",
                    (part.status, len(part.body), part.header("content-range")))
        s.sendall(f"GET /{bucket}/sized-1024 HTTP/1.1\r\nHost: {host}\r\n"
                  "Connection: close\r\n\r\n".encode())
        last, rest = lib.read_response(s, rest)
        r.check("GET with Connection: close answers Connection: close and closes",
                last.status == 200 and (last.header("connection") or "").lower() == "close" and
                s.recv(1) == b"", last.headers)

r.run("raw-socket block", main)
with open(counts_file, "w") as f:
    f.write(f"{r.passed} {r.failed}\n")
EOF
if [[ -s "$W/py_counts" ]]; then
    read -r p f <"$W/py_counts"
    IFM_PASSED=$((IFM_PASSED + p)); IFM_FAILED=$((IFM_FAILED + f))
else
    fail "raw-socket block ran to completion" "it crashed; see the traceback above"
fi

finish
