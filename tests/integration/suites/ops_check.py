"""The data directory (run through ../run.sh): the writer's lock, `ifmatch check`, and refusing a
schema newer than the binary.

1. A second server on the same data directory exits non-zero with a clear message.
2. `ifmatch check --data DIR` (and `--check`) while the server runs: exit 0 on a clean store
   with inline, file-backed, copied (shared body) and overwritten objects.
3. A blob file deleted behind the server's back: check names it and exits 1. An old
   unreferenced file in blobs/ is reported as an orphan and left in place.
4. A database whose PRAGMA user_version is newer than the binary knows: the server refuses to
   start with a message saying so, and the database is left as it was.
"""

import http.client
import os
import socket
import sqlite3
import subprocess
import time

import lib

r = lib.Reporter("ops_check")
B = "check"


def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def run_check(*extra):
    p = subprocess.run([lib.env("IFMATCH_BIN"), *extra, "--data", lib.data_dir()],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def populate():
    r.eq("create bucket", 200, call("PUT", f"/{B}")[0])
    r.eq("small (inline) object", 200, call("PUT", f"/{B}/small", b"s" * 100)[0])
    r.eq("large (file) object", 200, call("PUT", f"/{B}/large", b"L" * 300_000)[0])
    r.eq("overwrite of the large object", 200, call("PUT", f"/{B}/large", b"M" * 200_000)[0])
    r.eq("copy (shares the body)", 200,
         call("PUT", f"/{B}/copy", b"", {"x-amz-copy-source": f"/{B}/large"})[0])
    r.eq("deleted object", 204, call("DELETE", f"/{B}/small")[0])


def second_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        other = s.getsockname()[1]
    try:
        p = subprocess.run([lib.env("IFMATCH_BIN"), "--listen", f"127.0.0.1:{other}",
                            "--data", lib.data_dir()], capture_output=True, text=True,
                           timeout=10)
    except subprocess.TimeoutExpired:
        r.fail("a second server on the same data directory exits", "it kept running")
        return
    r.check("a second server on the same data directory exits non-zero", p.returncode != 0,
            p.returncode)
    r.check("... saying the directory is in use", "in use by another ifmatch" in p.stderr,
            p.stderr)
    r.eq("the first server is still healthy", 200, lib.health_status())


def clean_check():
    time.sleep(0.2)
    rc, out = run_check("check")
    r.eq("check on a clean store (server running): exit 0", 0, rc)
    r.check("... summary says clean", "clean" in out, out)
    rc, out = run_check("--check")
    r.eq("--check spelling: exit 0", 0, rc)


def broken_blob():
    # A file the database names (an overwritten body's file may still await its reclaim).
    con = sqlite3.connect(f"file:{os.path.join(lib.data_dir(), 'ifmatch.db')}?mode=ro", uri=True)
    files = [row[0] for row in con.execute("SELECT file FROM bodies WHERE file IS NOT NULL")]
    con.close()
    r.check("the large body lives in a blob file", len(files) >= 1, files)
    if not files:
        return
    name = files[0]
    victim = os.path.join(lib.data_dir(), "blobs", name)
    os.unlink(victim)
    orphan = os.path.join(lib.data_dir(), "blobs", "ab", "ab-orphan-left-by-test")
    with open(orphan, "wb") as f:
        f.write(b"orphan")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    rc, out = run_check("check")
    print("     " + out.replace("\n", "\n     "))
    r.eq("check after deleting a blob file: exit 1", 1, rc)
    r.check("... names the missing file", name in out and "missing" in out, out)
    r.check("... reports the orphan", "ab/ab-orphan-left-by-test" in out and "orphan" in out,
            out)
    r.check("... and leaves the orphan in place", os.path.exists(orphan))
    os.unlink(orphan)


def newer_schema():
    r.eq("stop the server", 0, lib.stop_server())
    db = os.path.join(lib.data_dir(), "ifmatch.db")
    con = sqlite3.connect(db)
    original = con.execute("PRAGMA user_version").fetchone()[0]
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    size_before = os.path.getsize(db)
    p = subprocess.run([lib.env("IFMATCH_BIN"), "--listen", f"127.0.0.1:{lib.port()}",
                        "--data", lib.data_dir()], capture_output=True, text=True, timeout=10)
    r.check("a server refuses a newer schema (exit non-zero)", p.returncode != 0, p.returncode)
    r.check("... with a message naming both versions",
            "schema version 99" in p.stderr and "newer" in p.stderr, p.stderr)
    rc, out = run_check("check")
    r.check("check refuses it too (exit 2, same message)", rc == 2 and "newer" in out,
            (rc, out))
    con = sqlite3.connect(db)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.execute(f"PRAGMA user_version = {original}")
    con.commit()
    con.close()
    r.eq("the database is untouched (version, integrity)", (99, "ok"), (version, integrity))
    r.check("... and not rewritten", os.path.getsize(db) == size_before)
    lib.start_server()
    r.eq("with the version restored the server starts again", 200, lib.health_status())


r.run("populate", populate)
r.run("second server", second_server)
r.run("clean check", clean_check)
r.run("broken blob", broken_blob)
r.run("newer schema", newer_schema)
r.finish()
