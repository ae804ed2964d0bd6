"""D5 opt-in 428 Precondition Required, per bucket and server-wide, and the request log of refused
writes (D9, first part: 412/409/428 log the key's current state).

Per bucket: PUT /_ifmatch/buckets/B/settings {"require_conditional_writes": true}. Unconditional
PutObject / CopyObject / DeleteObject then answer 428 <Code>PreconditionRequired</Code> with a
message naming the header to send; conditional ones behave as usual (412 / 404 / 200 / 204).
DeleteObjects (decision): each <Object> without <ETag> gets a per-key <Error> PreconditionRequired
inside the 200, as a failed <ETag> gets PreconditionFailed (R-D11); objects with <ETag> proceed.
Server-wide: a second server started with --require-conditional-writes (on its own port and data
directory) answers 428 on any bucket. CompleteMultipartUpload 428 comes with multipart.
"""

import os
import re
import socket
import subprocess
import time

import lib
import s3raw

r = lib.Reporter("conditional_required")
B = "required"
ETAG_TEST = s3raw.md5_etag("test")


def expect(what, resp, status, code="", condition=None, message_has=None):
    ok = resp.status == status and resp.code == code
    if condition is not None:
        ok = ok and resp.xml("Condition") == condition
    if message_has is not None:
        ok = ok and message_has in resp.xml("Message")
    r.check(what, ok, f"expected {status} {code} {condition or ''} {message_has or ''}, got "
                      f"{resp.status} {resp.body[:300]!r}")


def per_key(resp, key):
    """('Deleted', '') or ('Error', code) for `key` in a DeleteResult."""
    for tag in ("Deleted", "Error"):
        for block in re.findall(rb"<" + tag.encode() + rb">(.*?)</" + tag.encode() + rb">",
                                resp.body, re.S):
            if b"<Key>" + key.encode() + b"</Key>" in block:
                code = re.search(rb"<Code>(.*?)</Code>", block)
                return tag, code.group(1).decode() if code else ""
    return None, ""


def bucket_mode():
    r.eq("CreateBucket", 200, s3raw.create_bucket(B).status)
    r.eq("seed k (before the setting)", 200, s3raw.put(B, "k", "test").status)
    r.eq("seed src", 200, s3raw.put(B, "src", "test").status)
    for name in ("d1", "d2", "d3"):
        s3raw.put(B, name, "test")
    r.eq("settings: require_conditional_writes on", 200, s3raw.set_require_conditions(B).status)
    got = s3raw.request("GET", f"/_ifmatch/buckets/{B}/settings")
    r.check("settings read back", b'"require_conditional_writes":true' in got.body, got.body)

    # PutObject (P031/P032 of the truth table, here with the message checked).
    expect("D5 unconditional PUT on existing key -> 428", s3raw.put(B, "k", "x"), 428,
           "PreconditionRequired", message_has="If-None-Match")
    expect("D5 unconditional PUT on absent key -> 428 naming If-Match", s3raw.put(B, "new", "x"),
           428, "PreconditionRequired", message_has="If-Match")
    expect("D5 PUT If-None-Match:* absent -> 200", s3raw.put(B, "new", "x",
                                                              {"If-None-Match": "*"}), 200)
    expect("D5 PUT If-None-Match:* existing -> 412", s3raw.put(B, "k", "x",
                                                                {"If-None-Match": "*"}),
           412, "PreconditionFailed", "If-None-Match")
    expect("D5 PUT If-Match wrong -> 412", s3raw.put(B, "k", "x", {"If-Match": '"00"'}),
           412, "PreconditionFailed", "If-Match")
    expect("D5 PUT If-Match right -> 200", s3raw.put(B, "k", "test", {"If-Match": ETAG_TEST}),
           200)
    expect("D5 PUT If-Match absent key -> 404", s3raw.put(B, "nope", "x", {"If-Match": '"00"'}),
           404, "NoSuchKey")
    expect("D5 PUT with only a date header -> 428 (R-P11)",
           s3raw.put(B, "k", "x", {"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}),
           428, "PreconditionRequired")
    r.eq("D5 refused PUTs left k unchanged", ETAG_TEST, s3raw.head(B, "k").header("etag"))

    # CopyObject.
    src = {"x-amz-copy-source": f"/{B}/src"}
    expect("D5 unconditional CopyObject -> 428", s3raw.put(B, "copy", "", src), 428,
           "PreconditionRequired", message_has="If-None-Match")
    expect("D5 CopyObject with only a source condition -> 428",
           s3raw.put(B, "copy", "", dict(src, **{"x-amz-copy-source-if-match": ETAG_TEST})),
           428, "PreconditionRequired")
    expect("D5 CopyObject If-None-Match:* -> 200",
           s3raw.put(B, "copy", "", dict(src, **{"If-None-Match": "*"})), 200)
    expect("D5 CopyObject If-Match dest -> 200",
           s3raw.put(B, "copy", "", dict(src, **{"If-Match": ETAG_TEST})), 200)

    # DeleteObject.
    expect("D5 unconditional DELETE -> 428 naming If-Match", s3raw.delete(B, "d1"), 428,
           "PreconditionRequired", message_has="If-Match")
    expect("D5 unconditional DELETE of an absent key -> 428", s3raw.delete(B, "gone"), 428,
           "PreconditionRequired")
    expect("D5 DELETE If-Match wrong -> 412", s3raw.delete(B, "d1", {"If-Match": '"00"'}), 412,
           "PreconditionFailed", "If-Match")
    expect("D5 DELETE If-Match:* -> 204", s3raw.delete(B, "d1", {"If-Match": "*"}), 204)
    expect("D5 DELETE If-Match absent -> 404", s3raw.delete(B, "d1", {"If-Match": "*"}), 404,
           "NoSuchKey")

    # DeleteObjects: per-key decision.
    resp = s3raw.delete_objects(B, [{"Key": "d2"}, {"Key": "d3", "ETag": ETAG_TEST}])
    r.eq("D5 DeleteObjects status", 200, resp.status)
    r.eq("D5 DeleteObjects: key without <ETag> -> Error PreconditionRequired",
         ("Error", "PreconditionRequired"), per_key(resp, "d2"))
    r.eq("D5 DeleteObjects: key with <ETag> -> Deleted", ("Deleted", ""), per_key(resp, "d3"))
    r.eq("D5 d2 still exists", 200, s3raw.head(B, "d2").status)

    r.eq("settings: off again", 200, s3raw.set_require_conditions(B, False).status)
    expect("setting off: unconditional PUT -> 200 (R-B4 default)", s3raw.put(B, "k", "test"), 200)
    expect("setting off: unconditional DELETE -> 204", s3raw.delete(B, "d2"), 204)
    other = "not-required"
    s3raw.create_bucket(other)
    expect("other buckets are unaffected", s3raw.put(other, "k", "x"), 200)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_flag_mode():
    port = free_port()
    data = os.path.join(lib.scratch_dir(), "flag-data")
    os.makedirs(data, exist_ok=True)
    log = open(os.path.join(lib.scratch_dir(), "flag-server.log"), "wb")
    proc = subprocess.Popen([lib.env("IFMATCH_BIN"), "--listen", f"127.0.0.1:{port}", "--data",
                             data, "--require-conditional-writes"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if s3raw.request("GET", "/_ifmatch/health", port=port).status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        req = lambda *a, **k: s3raw.request(*a, port=port, **k)  # noqa: E731
        r.eq("flag server: CreateBucket", 200, req("PUT", "/flagged").status)
        expect("flag server: unconditional PUT -> 428", req("PUT", "/flagged/k", {}, "x"), 428,
               "PreconditionRequired")
        expect("flag server: PUT If-None-Match:* -> 200",
               req("PUT", "/flagged/k", {"If-None-Match": "*"}, "test"), 200)
        expect("flag server: CopyObject unconditional -> 428",
               req("PUT", "/flagged/c", {"x-amz-copy-source": "/flagged/k"}), 428, "PreconditionRequired")
        expect("flag server: DELETE unconditional -> 428", req("DELETE", "/flagged/k"), 428,
               "PreconditionRequired")
        expect("flag server: DELETE If-Match -> 204",
               req("DELETE", "/flagged/k", {"If-Match": ETAG_TEST}), 204)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    r.eq("flag server exited cleanly on SIGTERM", 0, proc.returncode)


def request_log():
    """D9 (first part): refused writes log the key's current state."""
    s3raw.create_bucket("logged")
    s3raw.put("logged", "k", "test")
    s3raw.put("logged", "absent-key", "x")
    s3raw.delete("logged", "absent-key")
    r.eq("log: PUT If-None-Match on existing -> 412",
         412, s3raw.put("logged", "k", "x", {"If-None-Match": "*"}).status)
    r.eq("log: PUT If-Match on absent -> 404",
         404, s3raw.put("logged", "absent-key", "x", {"If-Match": ETAG_TEST}).status)
    r.eq("log: DELETE If-Match wrong -> 412",
         412, s3raw.delete("logged", "k", {"If-Match": '"00"'}).status)
    s3raw.create_bucket("logged-v")
    s3raw.enable_versioning("logged-v")
    s3raw.put("logged-v", "k", "test")
    s3raw.delete("logged-v", "k")
    r.eq("log: PUT If-Match on a delete marker -> 404",
         404, s3raw.put("logged-v", "k", "x", {"If-Match": ETAG_TEST}).status)
    time.sleep(0.3)
    with open(lib.env("IFMATCH_LOG"), encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()

    def find(fragment, *more):
        return [ln for ln in lines if fragment in ln and all(m in ln for m in more)]

    hit = find("PutObject PUT /logged/k 412")
    r.check("log: PUT 412 line names the condition and the current ETag",
            hit and "failed=If-None-Match" in hit[-1] and f"current=[etag={ETAG_TEST}" in hit[-1],
            hit[-1:] or "no line")
    hit = find("PutObject PUT /logged/absent-key 404")
    r.check("log: PUT If-Match 404 line says current=[absent]",
            hit and "current=[absent]" in hit[-1], hit[-1:] or "no line")
    hit = find("DeleteObject DELETE /logged/k 412")
    r.check("log: DELETE 412 line names the current ETag",
            hit and f"current=[etag={ETAG_TEST}" in hit[-1], hit[-1:] or "no line")
    hit = find("PutObject PUT /logged-v/k 404")
    r.check("log: PUT on a delete marker says current=[delete marker ...]",
            hit and "current=[delete marker" in hit[-1], hit[-1:] or "no line")
    hit = find("PutObject PUT /required/k 428")
    r.check("log: 428 line has error=PreconditionRequired and the current state",
            hit and "error=PreconditionRequired" in hit[0] and "current=[etag=" in hit[0],
            hit[:1] or "no line")


r.run("bucket setting", bucket_mode)
r.run("server flag", server_flag_mode)
r.run("request log", request_log)
r.finish()
