"""Fixtures for the shared-mode suites (suites/shared_*.py): one throwaway PostgreSQL per suite
(pgserver.py), one database, and several ifmatch replicas on it (replicas.py), plus a small
unsigned S3 client bound to one replica (the s3raw.py helpers with a port).

    import sharedmode
    env = sharedmode.setup(reporter)              # PostgreSQL + database + replicas a and b
    a, b = env.clients                            # Client objects, one per replica
    a.put(B, "k", "body", {"If-None-Match": "*"})
    env.client(i)                                 # the clients in turn: i % number of replicas

run.sh's own server (SQLite, on $IFMATCH_PORT) is not used by these suites. When a check fails,
finish() prints the tail of every replica's log and of the PostgreSQL log, since run.sh only shows
its own server's.
"""

import concurrent.futures
import http.client
import os
import socket
import subprocess
import sys
import time

import lib
import pgserver
import replicas
import s3raw

REQUEST_TIMEOUT = 15        # seconds; every request of these suites is bounded


class Client:
    """The s3raw helpers against one replica. Every request opens a fresh connection."""

    def __init__(self, replica):
        self.replica = replica

    @property
    def port(self):
        return self.replica.port

    @property
    def name(self):
        return self.replica.name

    def request(self, method, path, headers=None, body=b"", timeout=REQUEST_TIMEOUT):
        return s3raw.request(method, path, headers, body, timeout=timeout, port=self.port)

    def create_bucket(self, bucket):
        return self.request("PUT", s3raw.path_of(bucket))

    def enable_versioning(self, bucket):
        body = ('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                "<Status>Enabled</Status></VersioningConfiguration>")
        return self.request("PUT", s3raw.path_of(bucket, query=[("versioning", None)]), {}, body)

    def put(self, bucket, key, body, headers=None, timeout=REQUEST_TIMEOUT):
        return self.request("PUT", s3raw.path_of(bucket, key), headers, body, timeout)

    def get(self, bucket, key, headers=None, query=None, timeout=REQUEST_TIMEOUT):
        return self.request("GET", s3raw.path_of(bucket, key, query), headers, b"", timeout)

    def head(self, bucket, key, headers=None, query=None):
        return self.request("HEAD", s3raw.path_of(bucket, key, query), headers)

    def delete(self, bucket, key, headers=None, query=None):
        return self.request("DELETE", s3raw.path_of(bucket, key, query), headers)

    def list_v2(self, bucket, prefix=None):
        query = [("list-type", "2")] + ([("prefix", prefix)] if prefix is not None else [])
        return self.request("GET", s3raw.path_of(bucket, query=query))

    def list_versions(self, bucket, prefix=None):
        query = [("versions", None)] + ([("prefix", prefix)] if prefix is not None else [])
        return self.request("GET", s3raw.path_of(bucket, query=query))

    def create_upload(self, bucket, key, headers=None):
        r = self.request("POST", s3raw.path_of(bucket, key, [("uploads", None)]), headers)
        return r, (r.xml("UploadId") if r.status == 200 else None)

    def upload_part(self, bucket, key, upload_id, number, body):
        return self.request("PUT", s3raw.path_of(bucket, key, [("partNumber", str(number)),
                                                               ("uploadId", upload_id)]), {}, body)

    def list_parts(self, bucket, key, upload_id):
        return self.request("GET", s3raw.path_of(bucket, key, [("uploadId", upload_id)]))

    def complete_upload(self, bucket, key, upload_id, parts, headers=None):
        xml = "<CompleteMultipartUpload>" + "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
        xml += "</CompleteMultipartUpload>"
        return self.request("POST", s3raw.path_of(bucket, key, [("uploadId", upload_id)]),
                            headers, xml)

    def connect(self, timeout=REQUEST_TIMEOUT):
        """A raw socket to this replica (for requests sent in pieces)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def __repr__(self):
        return f"<Client {self.name} :{self.port}>"


def pool_flags(help_text):
    """Flags that keep a replica's PostgreSQL connections few (2 cores, several replicas)."""
    for flag in ("--pg-pool", "--pg-pool-size", "--pool-size", "--pg-connections"):
        if flag + " " in help_text or flag + "=" in help_text or flag + "\n" in help_text:
            return [flag, "4"]
    return []


class Env:
    def __init__(self, reporter, pg, uri, replicas_, db):
        self.reporter = reporter
        self.pg = pg
        self.uri = uri
        self.db = db
        self.replicas = replicas_
        self.clients = [Client(r) for r in replicas_]

    def client(self, i):
        return self.clients[i % len(self.clients)]

    def add_replica(self, name, flags=()):
        """Another replica on the same database (e.g. with credentials)."""
        own = ["--replica-name", name] if self.replica_names else []
        rep = replicas.start(self.uri, name=name,
                             flags=list(self.base_flags) + own + list(flags))
        self.replicas.append(rep)
        return rep

    def dump_logs(self, lines=40):
        for rep in self.replicas:
            print(f"------ replica {rep.name} log tail ({rep.log_path}) ------", file=sys.stderr)
            print(rep.log_tail(lines), file=sys.stderr, end="")
        if self.pg is not None:
            print(f"------ PostgreSQL log tail ({self.pg.log_path}) ------", file=sys.stderr)
            print(self.pg.log_tail(lines), file=sys.stderr, end="")
        print("------ end of logs ------", file=sys.stderr, flush=True)

    def finish(self, started):
        """Prints the run time, the logs when something failed, stops everything and ends the
        suite through reporter.finish()."""
        # Every replica still running shuts down cleanly on SIGTERM (exit 0; a sanitizer build
        # reporting at exit would not).
        for rep in self.replicas:
            if rep.running():
                status = rep.stop(timeout=15)
                self.reporter.eq(f"replica {rep.name} exits 0 on SIGTERM", 0, status)
        print(f"# suite ran in {time.monotonic() - started:.1f} s", flush=True)
        if self.reporter.failed:
            self.dump_logs()
        replicas.stop_all()
        if self.pg is not None:
            self.pg.stop()
        self.reporter.finish()


def setup(reporter, names=("a", "b"), flags=(), db="shared"):
    """Starts PostgreSQL, creates one database and starts one replica per name on it, all with
    `flags` (plus a small connection pool when the binary offers a flag for it). A failure to
    start is a failed check and ends the suite (no point in going on)."""
    reason = pgserver.available()
    if reason:
        # scripts/deps.sh --test installs PostgreSQL: its absence is a failure, never a skip.
        reporter.check("PostgreSQL 15 is installed", False, reason)
        reporter.finish()
    pg = reporter.run("PostgreSQL 15 starts", pgserver.start)
    if pg is None:
        reporter.finish()
    uri = reporter.run("CREATE DATABASE", lambda: pg.create_database(db))
    if uri is None:
        pg.stop()
        reporter.finish()
    try:
        help_text = replicas.help_text()
    except (OSError, subprocess.SubprocessError) as e:
        help_text = ""
        print(f"# {replicas.binary()} --help failed: {e}", flush=True)
    base = pool_flags(help_text) + list(flags)
    env = Env(reporter, pg, uri, [], db)
    env.base_flags = base
    env.replica_names = "--replica-name " in help_text
    for name in names:
        own = ["--replica-name", name] if "--replica-name " in help_text else []
        rep = reporter.run(f"replica {name} starts on {uri}",
                           lambda name=name, own=own: replicas.start(uri, name=name,
                                                                     flags=base + own,
                                                                     timeout=30))
        if rep is None:
            env.dump_logs()
            replicas.stop_all()
            pg.stop()
            reporter.finish()
        env.replicas.append(rep)
    env.clients = [Client(r) for r in env.replicas]
    # A binary without the backend would take the URI for a directory name: make sure the
    # replicas really use the database.
    tables = reporter.run("schema query", lambda: int(pg.psql(db, (
        "select count(*) from information_schema.tables "
        "where table_schema not in ('pg_catalog', 'information_schema')"))))
    if not reporter.check("the replicas created their tables in the PostgreSQL database",
                          bool(tables), f"{tables} tables in {db}"):
        env.finish(time.monotonic())
    print(f"# replicas {', '.join(f'{r.name}={r.endpoint}' for r in env.replicas)} "
          f"flags {base}", flush=True)
    return env


def parallel(fn, args, workers=None, timeout=120):
    """[fn(a) for a in args] on a thread pool, bounded by `timeout` seconds in all."""
    args = list(args)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers or len(args)) as pool:
        return list(pool.map(fn, args, timeout=timeout))


def slow_request(client, method, path, headers, body, meanwhile, split=None, settle=0.4):
    """Sends `method path` to `client` with its body in two pieces around `meanwhile()` (another
    request, typically through another replica). Returns (meanwhile's result, the response)."""
    split = len(body) // 2 if split is None else split
    sock = client.connect()
    try:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\n"
        for name, value in headers.items():
            head += f"{name}: {value}\r\n"
        head += f"Content-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body[:split])
        time.sleep(settle)
        side = meanwhile()
        time.sleep(0.05)
        sock.sendall(body[split:])
        resp, _ = lib.read_response(sock)
        return side, resp
    finally:
        sock.close()


TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


def slow_get_start(client, bucket, key, first=128 * 1024):
    """Opens a GET of bucket/key through `client` with a small receive buffer and reads its head
    and about `first` body bytes, leaving the rest unread: a slow reader. Returns (socket, head,
    body so far); finish with slow_get_finish."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.settimeout(REQUEST_TIMEOUT)
    sock.connect(("127.0.0.1", client.port))
    sock.sendall(f"GET /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\n\r\n"
                 .encode())
    buf = b""
    while b"\r\n\r\n" not in buf or len(buf) < first:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    return sock, head, body


def slow_get_finish(sock, body, total):
    """Reads a slow GET's body on until `total` bytes (or the connection ends), then closes it."""
    try:
        while len(body) < total:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            body += chunk
    finally:
        sock.close()
    return body


def etag_of(body):
    return s3raw.md5_etag(body)


def run_check(binary, uri, timeout=60, extra=()):
    """`ifmatch check --data URI` (and `extra` arguments): (exit status, output)."""
    proc = subprocess.run([binary, "check", "--data", uri, *extra], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace")


def env_flag(name, default):
    value = os.environ.get(name)
    return type(default)(value) if value else default
