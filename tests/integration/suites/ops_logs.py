"""The JSON access log (run through ../run.sh): restarts the server with IFMATCH_LOG_FORMAT=json,
makes a few requests (one signed by boto3, one answered 412) and parses every line written to
$IFMATCH_LOG since: each is one JSON object; the start-up line names version, listen address, data
directory, auth and durability modes; each request line has time, request id, remote address,
access key, operation, bucket, key, status, error code, bytes in/out, duration and the
conditional fields (conditions sent, the condition that failed, the current validators).
"""

import http.client
import json
import os
import time

import lib

r = lib.Reporter("ops_logs")
B = "logs"
REQUEST_KEYS = {"time", "request_id", "remote", "access_key", "operation", "bucket", "key",
                "method", "status", "error_code", "bytes_in", "bytes_out", "duration_ms",
                "conditions", "failed_condition", "current"}


def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def log_lines(offset):
    with open(lib.env("IFMATCH_LOG"), "rb") as f:
        f.seek(offset)
        text = f.read().decode()
    # Lines starting with "===" are the launcher's own markers, not the server's.
    return [line for line in text.splitlines() if line and not line.startswith("===")]


def main():
    r.eq("SIGTERM stops the text-format server with 0", 0, lib.stop_server())
    offset = os.path.getsize(lib.env("IFMATCH_LOG"))
    os.environ["IFMATCH_LOG_FORMAT"] = "json"
    lib.start_server()

    r.eq("create bucket", 200, call("PUT", f"/{B}")[0])
    body = b"log me" * 100
    st, h1, _ = call("PUT", f"/{B}/k", body, {"If-None-Match": "*"})
    r.eq("PUT If-None-Match *: 200", 200, st)
    st, h2, _ = call("PUT", f"/{B}/k", body, {"If-None-Match": "*"})
    r.eq("PUT If-None-Match * again: 412", 412, st)
    st, h3, _ = call("GET", f"/{B}/k", None, {"If-None-Match": h1["etag"]})
    r.eq("GET If-None-Match current: 304", 304, st)
    boto_key = None
    try:
        import boto3
        s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                          aws_access_key_id="AKIDLOGTEST", aws_secret_access_key="secret")
        s3.head_bucket(Bucket=B)
        boto_key = "AKIDLOGTEST"
    except ImportError:
        print("     boto3 missing: the access-key check is skipped")

    # A request is logged after its response is written: give the last line a moment.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and boto_key and \
            not any(boto_key in line for line in log_lines(offset)):
        time.sleep(0.05)
    lines = log_lines(offset)
    parsed, bad = [], []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            bad.append(line)
    r.eq("every server line is one JSON object", [], bad)
    starts = [j for j in parsed if "listen" in j]
    r.eq("one start-up line", 1, len(starts))
    if starts:
        s = starts[0]
        r.check("start-up names version, listen, data, auth, durability",
                all(s.get(k) for k in ("version", "listen", "data", "auth", "durability")), s)
        r.eq("start-up listen address", f"127.0.0.1:{lib.port()}", s.get("listen"))
        r.eq("start-up data directory", lib.data_dir(), s.get("data"))
    reqs = [j for j in parsed if "request_id" in j]
    for j in reqs:
        missing = REQUEST_KEYS - set(j)
        if missing:
            r.fail(f"request line for {j.get('operation')} has every field", sorted(missing))
            break
    else:
        r.check("every request line has every field", len(reqs) >= 4, len(reqs))
    by_id = {j["request_id"]: j for j in reqs}
    refused = by_id.get(h2.get("x-amz-request-id"))
    r.check("the 412 is logged under the response's x-amz-request-id", refused is not None)
    if refused:
        r.eq("412 line: operation, bucket, key, status, error",
             ("PutObject", B, "k", 412, "PreconditionFailed"),
             (refused["operation"], refused["bucket"], refused["key"], refused["status"],
              refused["error_code"]))
        r.eq("412 line: failed condition", "If-None-Match", refused["failed_condition"])
        r.check("412 line: the conditions sent",
                "if-none-match: *" in refused["conditions"].lower(), refused["conditions"])
        r.check("412 line: remote is 127.0.0.1:PORT", refused["remote"].startswith("127.0.0.1:"),
                refused["remote"])
        r.check("412 line: bytes_in <= body size, bytes_out is the error body",
                0 <= refused["bytes_in"] <= len(body) and refused["bytes_out"] > 0,
                (refused["bytes_in"], refused["bytes_out"]))
        r.check("412 line: duration is a number", isinstance(refused["duration_ms"], float))
        r.check("412 line: time is ISO 8601 UTC", refused["time"].endswith("Z"), refused["time"])
    ok = by_id.get(h1.get("x-amz-request-id"))
    if r.check("the 200 PUT is logged", ok is not None):
        r.eq("200 line: bytes_in is the body, no error",
             (len(body), ""), (ok["bytes_in"], ok["error_code"]))
    nm = by_id.get(h3.get("x-amz-request-id"))
    if r.check("the 304 GET is logged", nm is not None):
        r.eq("304 line: failed condition", "If-None-Match", nm["failed_condition"])
        r.check("304 line: current validators", h1["etag"] in nm["current"], nm["current"])
    if boto_key:
        r.check("a signed request logs its access key",
                any(j["access_key"] == boto_key and j["operation"] == "HeadBucket"
                    for j in reqs), [j["access_key"] for j in reqs])


r.run("json log", main)
r.finish()
