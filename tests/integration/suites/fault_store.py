"""Faults of the machine never cost data (run through ../run.sh, restarted with
--enable-test-hooks).

1. Four clients PUT a mix of 2 KiB (inline) and 300 KiB (blob file) bodies while the database cannot
   grow. Every answer is a 200 or S3's 500 InternalError XML; afterwards every key answered 500 is
   absent (HEAD 404, no blob file, no reference) and every key answered 200 holds exactly its bytes
   -- while running, after a clean stop (`ifmatch check` and the rows themselves) and after a
   restart.
2. Persistent I/O errors on the write-ahead log (storage/io_faults.hpp through
   /_ifmatch/test/io-fault): writes answer 500, reads keep working, the metrics count the failed
   commits, the log says so once, and writes succeed by themselves once the errors stop.
3. An I/O error on a blob file's write: 500, and no file is left behind.
"""

import concurrent.futures
import http.client
import os
import re
import sqlite3
import subprocess
import threading
import xml.etree.ElementTree as ET

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite fault_store did not run")

r = lib.Reporter("fault_store")
lib.stop_server()
os.environ["IFMATCH_ENABLE_TEST_HOOKS"] = "1"
lib.start_server()
BLOBS = os.path.join(lib.data_dir(), "blobs")
local = threading.local()


def client():
    if not hasattr(local, "s3"):
        local.s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test",
                                config=Config(retries={"total_max_attempts": 1}))
    return local.s3


def raw(method, path, body=b""):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=20)
    conn.request(method, path, body=body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def hook(path):
    status, body = raw("PUT", f"/_ifmatch/test/{path}")
    if status != 200:
        raise RuntimeError(f"hook {path}: {status} {body[:200]}")
    return body


def error_xml(body, code):
    """The body is S3's error XML with `code` and a RequestId."""
    try:
        root = ET.fromstring(body)
        r.eq(f"the error is S3's {code}", code, root.findtext("Code"))
        r.check("with a RequestId", bool(root.findtext("RequestId")))
    except ET.ParseError as e:
        r.fail("the error is well-formed XML", f"{e}: {body[:120]!r}")


def blob_files():
    return sum(len(files) for _, _, files in os.walk(BLOBS))


def put(key, data):
    """(status, code) of a PutObject, and the raw XML error must be S3's."""
    try:
        client().put_object(Bucket="mix", Key=key, Body=data)
        return 200, ""
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]


def exists(key):
    try:
        client().head_object(Bucket="mix", Key=key)
        return True
    except ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
            raise
        return False


def verify(acked, failed, when):
    bad_present = [k for k in failed if exists(k)]
    r.eq(f"{when}: keys answered 500 are absent", [], bad_present)
    wrong = []
    for key, data in acked.items():
        try:
            got = client().get_object(Bucket="mix", Key=key)["Body"].read()
        except ClientError as e:
            got = e.response["Error"]["Code"].encode()
        if got != data:
            wrong.append(key)
    r.eq(f"{when}: keys answered 200 hold exactly their bytes", [], wrong)


def offline_checks(when):
    """With the server stopped: `ifmatch check`, and the rows against the blob directory."""
    check = subprocess.run([os.environ["IFMATCH_BIN"], "check", "--data", lib.data_dir()],
                           capture_output=True, text=True)
    r.check(f"{when}: ifmatch check is clean", check.returncode == 0, check.stdout + check.stderr)
    db = sqlite3.connect(os.path.join(lib.data_dir(), "ifmatch.db"))
    file_rows = db.execute("SELECT COUNT(*) FROM bodies WHERE file IS NOT NULL").fetchone()[0]
    r.eq(f"{when}: blob files = body rows naming one (no orphan, none missing)", file_rows,
         blob_files())
    db.close()


client().create_bucket(Bucket="mix")

# ---- 1. the database cannot grow; four clients, mixed sizes ---------------------------------
hook("db-max-pages?pages=0")
bodies = {}
for c in range(4):
    for i in range(12):
        size = 300 * 1024 if (i + c) % 2 else 2 * 1024
        bodies[f"c{c}-{i}"] = os.urandom(size)
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    results = dict(zip(bodies, pool.map(lambda k: put(k, bodies[k]), bodies)))
statuses = sorted({s for s, _ in results.values()})
r.check("every answer is 200 or 500", set(statuses) <= {200, 500}, statuses)
r.check("with the database frozen, writes fail", any(s == 500 for s in statuses), statuses)
r.check("every 500 is InternalError",
        all(code == "InternalError" for s, code in results.values() if s == 500),
        {k: v for k, v in results.items() if v[0] == 500 and v[1] != "InternalError"})
acked = {k: bodies[k] for k, (s, _) in results.items() if s == 200}
failed = [k for k, (s, _) in results.items() if s != 200]
r.check("reads work while the database is full",
        client().list_objects_v2(Bucket="mix")["ResponseMetadata"]["HTTPStatusCode"] == 200)
verify(acked, failed, "while full")
hook("db-max-pages?pages=-1")
status, _ = put("after-full", b"x" * 300 * 1024)
r.eq("writes succeed once the database may grow", 200, status)
acked["after-full"] = b"x" * 300 * 1024
verify(acked, failed, "space back")
live = subprocess.run([os.environ["IFMATCH_BIN"], "check", "--data", lib.data_dir()],
                      capture_output=True, text=True)
r.check("ifmatch check is clean beside the running server", live.returncode == 0,
        live.stdout + live.stderr)
r.eq("clean stop", 0, lib.stop_server())
offline_checks("after the disk-full episode")
lib.start_server()
verify(acked, failed, "after restart")

# ---- 2. persistent I/O errors on the write-ahead log -----------------------------------------
log_before = open(os.environ["IFMATCH_LOG"], errors="replace").read().count(
    "a write could not be committed")
hook("io-fault?nth=1&persistent=1&kinds=wal_write,wal_sync&error=io")
status, body = raw("PUT", "/mix/eio-inline", b"inline body")
r.eq("WAL I/O error: PUT answers 500", 500, status)
error_xml(body, "InternalError")
codes = [put(f"eio-{i}", os.urandom(300 * 1024 if i % 2 else 100))[0] for i in range(6)]
r.eq("every write during the errors answers 500", [500] * 6, codes)
r.eq("reads keep working", acked["c0-0"],
     client().get_object(Bucket="mix", Key="c0-0")["Body"].read())
status, metrics = raw("GET", "/_ifmatch/metrics")
failed_total = sum(int(x) for x in re.findall(
    rb"^ifmatch_store_(?:failed_commits|lost_transactions)_total (\d+)", metrics, re.M))
r.check("the metrics count the failed commits", failed_total >= 7, failed_total)
hook("io-fault?nth=0")
status, _ = put("eio-after", b"after the errors")
r.eq("writes succeed by themselves once the errors stop", 200, status)
log = open(os.environ["IFMATCH_LOG"], errors="replace").read()
r.eq("the failure is logged once for the episode", 1,
     log.count("a write could not be committed") - log_before)
r.check("and its end is logged", "writes commit again" in log)
r.eq("no write answered 500 exists", [], [k for k in ["eio-inline"] + [f"eio-{i}" for i in range(6)]
                                          if exists(k)])

# ---- 3. an I/O error writing a blob file -----------------------------------------------------
files = blob_files()
hook("io-fault?nth=1&kinds=blob_write&error=io")
status, code = put("blob-eio", os.urandom(400 * 1024))
hook("io-fault?nth=0")
r.eq("blob write error: 500 InternalError", (500, "InternalError"), (status, code))
r.eq("no blob file left behind", files, blob_files())
r.check("and no object", not exists("blob-eio"))

# ---- 4. a GET whose body cannot be read ------------------------------------------------------
def blob_paths():
    return {os.path.join(d, f) for d, _, files in os.walk(BLOBS) for f in files}


before = blob_paths()
payload = os.urandom(300 * 1024)
r.eq("a 300 KiB PUT for the unreadable GET", (200, ""), put("unreadable", payload))
made = sorted(blob_paths() - before)
r.eq("it has one blob file", 1, len(made))
if len(made) == 1:
    saved = open(made[0], "rb").read()
    os.truncate(made[0], 0)            # the row still says 300 KiB: the first read comes up short
    status, body = raw("GET", "/mix/unreadable")
    r.eq("a body whose first piece cannot be read: 503, not a cut connection", 503, status)
    error_xml(body, "ServiceUnavailable")
    with open(made[0], "wb") as f:
        f.write(saved)
    r.eq("the server still answers, and the restored body reads back", payload,
         client().get_object(Bucket="mix", Key="unreadable")["Body"].read())

r.eq("clean stop at the end", 0, lib.stop_server())
offline_checks("at the end")
lib.start_server()
r.finish()
