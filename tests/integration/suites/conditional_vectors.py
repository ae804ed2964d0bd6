"""Replays EVERY row of tests/vectors/conditional_requests.tsv against the real server.

For each row the state named in its `state` column is built through the S3 API in a bucket of the
row's own (so rows never disturb each other), then, once at least 2 s have passed since the last
state was built (so `$LM+1s` lies in the past), the row's request is sent and its status, <Code>
and <Condition> (for 501: <Header>) are compared; rows citing R-G12 or D7 also check the ETag and
Last-Modified response headers. State building and replay run on a few threads; there is a single
sleep for the whole table. Failing rows print `row ID: expected ... got ...`.

Rows whose op or state needs multipart upload (COMPLETE, UPLOAD_PART_COPY, upload-open) are replayed
against the standard S3 multipart API; a server without it fails them.

shared_vectors.py replays the same table against two replicas of shared mode (run(reporter,
ports)): each row's state is built through one replica and its request sent through the other.
"""

import concurrent.futures
import datetime
import email.utils
import os
import sys
import time

import authsign
import lib
import s3raw

r = None      # the suite's reporter (run)
PORTS = None  # shared mode: the replicas' ports; row i builds on PORTS[i % 2], asks the other
TSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "vectors",
                   "conditional_requests.tsv")

BODY_CURRENT, BODY_OLD, BODY_DEST, BODY_PART = "test", "data", "dest", "part"
ETAG_CURRENT = s3raw.md5_etag(BODY_CURRENT)
ETAG_OLD = s3raw.md5_etag(BODY_OLD)
ETAG_DEST = s3raw.md5_etag(BODY_DEST)
OTHER = '"795f3202b17cb6bc3d4b771d8c6c9eaf"'
MULTIPART_OPS = ("COMPLETE", "UPLOAD_PART_COPY")


def read_rows():
    rows, columns = [], None
    with open(TSV, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if columns is None:
                columns = cells
                continue
            cells += [""] * (len(columns) - len(cells))
            rows.append(dict(zip(columns, cells)))
    return rows


class StateError(Exception):
    pass


def must(resp, what, statuses=(200, 204)):
    if resp.status not in statuses:
        raise StateError(f"state step '{what}' answered {resp.status} {resp.code}".strip())
    return resp


# --- state building ------------------------------------------------------------------------------

class State:
    """Everything a row's placeholders and request need."""

    def __init__(self, row):
        self.row = row
        self.tokens = [t.strip() for t in row["state"].split(",") if t.strip()]
        self.bucket = "cv-" + row["id"].lower()
        self.key = "k"
        self.vars = {"$ETAG": ETAG_CURRENT, "$OLD_ETAG": ETAG_OLD, "$DEST_ETAG": ETAG_DEST,
                     "$VERSION_ID": "", "$OLD_VERSION_ID": "", "$DM_VERSION_ID": ""}
        self.lm_from = None      # (key, query) to HEAD for $LM
        self.source = None
        self.upload_id = None
        self.part_etag = None
        self.built_at = None

    def has(self, token):
        return token in self.tokens


def put_version(bucket, key, body):
    resp = must(s3raw.put(bucket, key, body), f"PUT {key}={body}")
    return resp.header("x-amz-version-id", "")


def build_single(st):
    """States of the single-key operations (GET HEAD PUT DELETE DELETE_OBJECTS)."""
    b, k = st.bucket, st.key
    if st.has("no-bucket"):
        return
    must(s3raw.create_bucket(b), "CreateBucket")
    if st.has("versioned-exists") or st.has("delete-marker"):
        must(s3raw.enable_versioning(b), "PutBucketVersioning")
    if st.has("exists"):
        put_version(b, k, BODY_CURRENT)
        st.lm_from = (k, None)
    elif st.has("versioned-exists"):
        st.vars["$OLD_VERSION_ID"] = put_version(b, k, BODY_OLD)
        st.vars["$VERSION_ID"] = put_version(b, k, BODY_CURRENT)
        st.lm_from = (k, None)
    elif st.has("delete-marker"):
        vid = put_version(b, k, BODY_CURRENT)
        st.vars["$VERSION_ID"] = vid
        dm = must(s3raw.delete(b, k), "DELETE (marker)")
        st.vars["$DM_VERSION_ID"] = dm.header("x-amz-version-id", "")
        st.lm_from = (k, [("versionId", vid)])
    if st.has("upload-open"):
        resp, st.upload_id = s3raw.create_upload(b, k)
        must(resp, "CreateMultipartUpload")


def build_complete(st):
    """COMPLETE: Create + UploadPart in the named state; history states change the key after."""
    b, k = st.bucket, st.key
    history = [t for t in st.tokens if t.endswith("-during-upload")]
    if not history:
        build_single(st)
    else:
        must(s3raw.create_bucket(b), "CreateBucket")
        if history[0] in ("overwritten-during-upload", "deleted-during-upload"):
            put_version(b, k, BODY_OLD)
    resp, st.upload_id = s3raw.create_upload(b, k)
    must(resp, "CreateMultipartUpload")
    part = must(s3raw.upload_part(b, k, st.upload_id, 1, BODY_PART), "UploadPart")
    st.part_etag = part.header("etag")
    if history and history[0] in ("created-during-upload", "overwritten-during-upload"):
        put_version(b, k, BODY_CURRENT)
        st.lm_from = (k, None)
    elif history:
        must(s3raw.delete(b, k), "DELETE during upload")
    if st.has("no-upload"):
        must(s3raw.abort_upload(b, k, st.upload_id), "AbortMultipartUpload")


def build_copy(st):
    """COPY / UPLOAD_PART_COPY: source `src`, destination `dest` (or `k` for self states)."""
    b = st.bucket
    versioned = any("versioned" in t or "delete-marker" in t for t in st.tokens)
    must(s3raw.create_bucket(b), "CreateBucket")
    if versioned:
        must(s3raw.enable_versioning(b), "PutBucketVersioning")
    if st.has("self") or st.has("self-versioned"):
        st.vars["$VERSION_ID"] = put_version(b, "k", BODY_CURRENT)
        st.source, st.dest, st.lm_from = f"/{b}/k", "k", ("k", None)
        st.vars["$DEST_ETAG"] = ETAG_CURRENT
        return
    st.source, st.dest = f"/{b}/src", "dest"
    if st.has("src-exists"):
        put_version(b, "src", BODY_CURRENT)
        st.lm_from = ("src", None)
    elif st.has("src-versioned-exists"):
        st.vars["$OLD_VERSION_ID"] = put_version(b, "src", BODY_OLD)
        st.vars["$VERSION_ID"] = put_version(b, "src", BODY_CURRENT)
        st.lm_from = ("src", None)
    elif st.has("src-delete-marker"):
        vid = put_version(b, "src", BODY_CURRENT)
        st.vars["$VERSION_ID"] = vid
        dm = must(s3raw.delete(b, "src"), "DELETE src (marker)")
        st.vars["$DM_VERSION_ID"] = dm.header("x-amz-version-id", "")
        st.lm_from = ("src", [("versionId", vid)])
    elif st.has("src-no-bucket"):
        st.source = f"/{b}-missing/src"
    if st.has("dest-exists") or st.has("dest-delete-marker"):
        put_version(b, "dest", BODY_DEST)
    if st.has("dest-delete-marker"):
        must(s3raw.delete(b, "dest"), "DELETE dest (marker)")
    if st.has("upload-open"):
        resp, st.upload_id = s3raw.create_upload(b, "dest")
        must(resp, "CreateMultipartUpload")


def build(row, index=0):
    if PORTS:
        s3raw.use_port(PORTS[index % len(PORTS)])
    st = State(row)
    st.index = index
    if row["op"] in ("COPY", "UPLOAD_PART_COPY"):
        build_copy(st)
    elif row["op"] == "COMPLETE":
        build_complete(st)
    else:
        build_single(st)
    if st.has("conditions-required"):
        must(s3raw.set_require_conditions(st.bucket, True), "require-conditional-writes setting")
    st.built_at = time.monotonic()
    return st


# --- placeholders --------------------------------------------------------------------------------

def imf(dt):
    return email.utils.format_datetime(dt, usegmt=True)


def rfc850(dt):
    return dt.strftime("%A, %d-%b-%y %H:%M:%S GMT")


def asctime(dt):
    return dt.strftime("%a %b ") + f"{dt.day:2d}" + dt.strftime(" %H:%M:%S %Y")


def resolve_times(st):
    """$LM (read back by HEAD; the server's Date when the state has no object) and $FUTURE."""
    lm_text = None
    if st.lm_from:
        key, query = st.lm_from
        resp = s3raw.head(st.bucket, key, query=query)
        lm_text = resp.header("last-modified")
        if st.lm_from and st.row["op"] not in ("COPY", "UPLOAD_PART_COPY") and resp.status == 200:
            st.vars["$ETAG"] = resp.header("etag", st.vars["$ETAG"])
    if not lm_text:
        lm_text = s3raw.request("GET", "/_ifmatch/health").header("date")
    lm = email.utils.parsedate_to_datetime(lm_text).astimezone(datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    v = st.vars
    v["$LM"] = imf(lm)
    v["$LM-1d"] = imf(lm - datetime.timedelta(days=1))
    v["$LM-1s"] = imf(lm - datetime.timedelta(seconds=1))
    v["$LM+1s"] = imf(lm + datetime.timedelta(seconds=1))
    v["$LM_RFC850"] = rfc850(lm)
    v["$LM_ASCTIME"] = asctime(lm)
    v["$LM_ISO8601"] = lm.strftime("%Y-%m-%dT%H:%M:%SZ")
    v["$FUTURE"] = imf(future)
    v["$INVALID_DATE"] = "not a date"
    v["$OTHER"] = OTHER
    v["$ETAG_UNQUOTED"] = v["$ETAG"].strip('"')
    v["$ETAG_UPPER"] = '"' + v["$ETAG"].strip('"').upper() + '"'
    v["$DEST_ETAG_UNQUOTED"] = v["$DEST_ETAG"].strip('"')
    v["$SOURCE"] = st.source or ""


def substitute(text, variables):
    for name in sorted(variables, key=len, reverse=True):
        text = text.replace(name, variables[name])
    return text


def parse_pairs(st):
    """The row's headers column -> (header list, query list)."""
    headers, query = [], []
    if not st.row["headers"].strip():
        return headers, query
    for pair in st.row["headers"].split(" | "):
        name, _, value = pair.partition(":")
        value = substitute(value.strip(), st.vars)
        name = name.strip()
        if name.startswith("?"):
            query.append((name[1:], value))
        else:
            headers.append((name, value))
    return headers, query


# --- the request ---------------------------------------------------------------------------------

def send(st):
    row, b = st.row, st.bucket
    headers, query = parse_pairs(st)
    hdrs = dict(headers)
    op = row["op"]
    if op in ("GET", "HEAD", "PUT", "DELETE"):
        method = {"GET": "GET", "HEAD": "HEAD", "PUT": "PUT", "DELETE": "DELETE"}[op]
        body = b"written by the row" if op == "PUT" else b""
        if any(n.lower().startswith(("if-", "x-amz-")) for n, _ in query):
            # A header in the query is honoured on a presigned URL only (R-G16): sign one.
            path = s3raw.path_of(b, st.key)
            signed = authsign.presign(method, path, f"127.0.0.1:{s3raw.current_port()}", "test",
                                      "test",
                                      query)
            return s3raw.request(method, path + "?" + signed, hdrs, body)
        return s3raw.request(method, s3raw.path_of(b, st.key, query), hdrs, body)
    if op == "COPY":
        if not any(n.lower() == "x-amz-copy-source" for n in hdrs):
            hdrs["x-amz-copy-source"] = st.source
        return s3raw.request("PUT", s3raw.path_of(b, st.dest, query), hdrs)
    if op == "UPLOAD_PART_COPY":
        if not any(n.lower() == "x-amz-copy-source" for n in hdrs):
            hdrs["x-amz-copy-source"] = st.source
        q = [("partNumber", "1"), ("uploadId", st.upload_id)] + query
        return s3raw.request("PUT", s3raw.path_of(b, "dest", q), hdrs)
    if op == "COMPLETE":
        return s3raw.complete_upload(b, st.key, st.upload_id, [(1, st.part_etag)], hdrs)
    if op == "DELETE_OBJECTS":
        obj = {"Key": st.key}
        for name, value in headers:
            obj[name] = value
        return s3raw.delete_objects(b, [obj])
    raise StateError(f"unknown op {op}")


def observed(st, resp):
    """(status, code, condition) as the row's columns would state them."""
    if st.row["op"] == "DELETE_OBJECTS":
        err = resp.body.split(b"<Error>", 1)
        inner = s3raw.Resp(resp.status, [], err[1]) if len(err) > 1 else None
        return resp.status, (inner.code if inner else ""), ""
    if st.row["op"] == "HEAD" or resp.status < 300 or resp.status == 304:
        return resp.status, resp.code if st.row["op"] != "HEAD" else "", ""
    cond = resp.xml("Header") if resp.status == 501 else resp.xml("Condition")
    return resp.status, resp.code, cond


def replay(st):
    """Returns None when the row holds, else a description of the difference."""
    row = st.row
    if PORTS:
        s3raw.use_port(PORTS[(st.index + 1) % len(PORTS)])
    resolve_times(st)
    resp = send(st)
    got = observed(st, resp)
    want = (int(row["status"]), row["code"], row["condition"])
    problems = []
    if got != want:
        problems.append(f"expected {want}, got {got}")
    rules = [x.strip() for x in row["rule"].split(",")]
    if "R-G12" in rules or "D7" in rules:
        for name, var in (("etag", "$ETAG"), ("last-modified", "$LM")):
            if resp.header(name) != st.vars[var]:
                problems.append(f"header {name}: expected {st.vars[var]!r}, "
                                f"got {resp.header(name)!r}")
    if row["op"] == "DELETE_OBJECTS" and not row["code"] and resp.status == 200:
        if b"<Deleted>" not in resp.body:
            problems.append("key not listed under <Deleted>")
    if problems and resp.status >= 400 and row["op"] != "HEAD":
        problems.append(f"body {resp.body[:240]!r}")
    return "; ".join(problems) or None


def needs_multipart(row):
    return row["op"] in MULTIPART_OPS or "upload-open" in row["state"]


def run(reporter, ports=None):
    """Replays every row, reporting to `reporter` (not finished here); with `ports`, builds each
    row's state through one of them and sends its request through the next."""
    global r, PORTS
    r, PORTS = reporter, ports
    rows = read_rows()
    r.check(f"truth table has rows ({len(rows)})", len(rows) > 250)
    states, outcome = {}, {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        futures = {pool.submit(build, row, i): row for i, row in enumerate(rows)}
        for fut in concurrent.futures.as_completed(futures):
            row = futures[fut]
            try:
                states[row["id"]] = fut.result()
            except Exception as e:  # noqa: BLE001 - a state that cannot be built fails the row
                outcome[row["id"]] = f"state {row['state']!r} not built: {e}"
    # One sleep for the whole table: every state is at least 2 s old before its request (R-T7).
    newest = max((s.built_at for s in states.values()), default=time.monotonic())
    time.sleep(max(0.0, newest + 2.2 - time.monotonic()))
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        futures = {pool.submit(replay, st): rid for rid, st in states.items()}
        for fut in concurrent.futures.as_completed(futures):
            rid = futures[fut]
            try:
                outcome[rid] = fut.result()
            except Exception as e:  # noqa: BLE001
                outcome[rid] = f"{type(e).__name__}: {e}"
    multipart_failed = []
    for row in rows:
        problem = outcome.get(row["id"])
        what = f"row {row['id']} {row['op']} [{row['state']}] {row['headers'] or '-'}"
        if problem and needs_multipart(row):
            multipart_failed.append(row["id"])
        r.check(what, problem is None, problem or "")
    counted = sum(1 for row in rows if row["id"] in outcome)
    r.eq("every row was replayed", len(rows), counted)
    if multipart_failed:
        print(f"note: {len(multipart_failed)} failing rows need multipart upload: "
              + " ".join(multipart_failed), flush=True)


if __name__ == "__main__":
    run(lib.Reporter("conditional_vectors"))
    r.finish()
