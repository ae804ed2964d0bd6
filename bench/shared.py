#!/usr/bin/env python3
"""Shared mode benchmark: ifmatch on SQLite against ifmatch on PostgreSQL with one replica and with
two replicas on the same database (the load split across them), for PUT, GET and hot-key
compare-and-swap. Per workload and store it measures requests/s and latency (medians of the
rounds), for PostgreSQL the statements and the round trips per request from each replica's
`ifmatch_store_statements_total` and `ifmatch_store_round_trips_total` (a round trip may carry
several statements) and the write-ahead log bytes per request (pg_current_wal_lsn() before and
after), for SQLite its log bytes per request (ifmatch_store_wal_frames_total), and for
CAS the outcome counts and whether the final counter equals the number of 200s.

bench.py runs it as part of bench/run.sh and puts its section into RESULTS.md. By hand:
    python3 bench/shared.py --ifmatch BINARY [--quick] [--rounds N] [--duration S]
prints the section (the load generator must be built: bench/run.sh or
cmake -S bench -B bench/.cache/build-tools && cmake --build bench/.cache/build-tools).

PostgreSQL is a throwaway cluster from tests/integration/pgserver.py. pgserver starts it with fsync,
synchronous_commit and full_page_writes off; here it is restarted with all three on (PostgreSQL's
defaults), so a 200 means the commit reached the disk as with SQLite's `--durability full`. The
settings in the report are read back from the server, not assumed.
"""
import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
import bench  # noqa: E402
import pgserver  # noqa: E402

PG_POOL = 8
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
SETTINGS = ("fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers",
            "max_wal_size", "checkpoint_timeout", "max_connections")
BUCKET, CAS_BUCKET = "bench", "bench-cas"

# (id, label, loadgen workload, connections, stores, also in quick mode). The single-client rows
# (latency without queueing) run the same code as the others, so quick mode leaves them out.
ALL, SINGLE = ("sqlite", "pg1", "pg2"), ("sqlite", "pg1")
WORKLOADS = [
    ("put16", "PUT 1 KiB new keys, 16 conns", "put", 16, ALL, True),
    ("get16", "GET 1 KiB, 16 conns", "get", 16, ALL, True),
    ("cas64", "If-Match CAS, 1 hot key, 64 clients", "cas", 64, ALL, True),
    ("put1", "PUT 1 KiB new keys, 1 client", "put", 1, SINGLE, False),
    ("get1", "GET 1 KiB, 1 client", "get", 1, SINGLE, False),
]
STORE_LABELS = {
    "sqlite": "SQLite, `--durability full`",
    "pg1": "PostgreSQL, 1 replica",
    "pg2": "PostgreSQL, 2 replicas",
}


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_ifmatch/metrics",
                                  timeout=10).read().decode()
    m = re.search(rf"^{name} (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


class Ifmatch:
    """One ifmatch process on a free port: SQLite in a directory, or a replica on a PostgreSQL URI.
    Its stdout and stderr go to LOG (the access log of answers >= 400 at --log-level warn)."""

    def __init__(self, binary, data, log_path, flags=()):
        self.binary, self.data, self.log_path, self.flags = binary, data, log_path, list(flags)
        self.port = bench.free_port()
        self.proc = None
        self.terminated = False

    def start(self, timeout=30):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", self.data,
             "--log-level", "warn", *self.flags], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ifmatch exited with {self.proc.returncode}; "
                                   f"see {self.log_path}")
            try:
                if bench.request(self.port, "GET", "/_ifmatch/health", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"ifmatch not healthy after {timeout} s; see {self.log_path}")

    def stop(self):
        """SIGTERM, then waits (SIGKILL after 15 s). To stop several at once, terminate() each
        first."""
        self.terminate()
        if self.proc:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def terminate(self):
        """One SIGTERM (a second one makes ifmatch exit at once, without its graceful stop)."""
        if self.proc and self.proc.poll() is None and not self.terminated:
            self.proc.terminate()
            self.terminated = True


class Store:
    """One column of the comparison: its processes, and the counters read around a round."""

    def __init__(self, name, servers, pg=None, db=None, sqlite_dir=None):
        self.name, self.servers, self.pg, self.db = name, servers, pg, db
        self.sqlite_dir = sqlite_dir

    @property
    def ports(self):
        return ",".join(str(s.port) for s in self.servers)

    def setup(self):
        port = self.servers[0].port
        for path, body in ((f"/{BUCKET}", b""), (f"/{BUCKET}/object", b"o" * 1024),
                           (f"/{CAS_BUCKET}", b""),
                           (f"/{CAS_BUCKET}?versioning",
                            b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/'
                            b'2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>')):
            status, text = bench.request(port, "PUT", path, body)
            if status != 200:
                raise RuntimeError(f"set-up PUT {path} on {self.name}: {status} {text[:300]!r}")

    def counters(self):
        """(statements summed over the replicas, SQLite WAL frames, PostgreSQL WAL position,
        round trips summed over the replicas)."""
        stmts = sum(metric(s.port, "ifmatch_store_statements_total") for s in self.servers)
        frames = sum(metric(s.port, "ifmatch_store_wal_frames_total") for s in self.servers)
        lsn = self.pg.psql(self.db, "SELECT pg_current_wal_lsn()") if self.pg else None
        trips = sum(metric(s.port, "ifmatch_store_round_trips_total") for s in self.servers)
        return stmts, frames, lsn, trips

    def log_bytes(self, before, after):
        """Write-ahead log bytes between two counters() readings."""
        if self.pg:
            return int(float(self.pg.psql(
                self.db, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{before[2]}')")))
        # A SQLite WAL frame is a 24-byte header and one page.
        return (after[1] - before[1]) * (sqlite_page_size(self.sqlite_dir) + 24)


def sqlite_page_size(data_dir):
    """The page size from the database file's header (big-endian u16 at offset 16; 1 = 65536)."""
    try:
        with open(os.path.join(data_dir, "ifmatch.db"), "rb") as f:
            header = f.read(18)
        size = int.from_bytes(header[16:18], "big")
        return 65536 if size == 1 else size
    except OSError:
        return 4096


def measure_once(args, store, wid, workload, conns, rnd):
    kw = dict(connections=conns, duration=args.duration, prefix=f"{wid}r{rnd}")
    bucket = BUCKET
    if workload == "cas":
        kw["key"], bucket = "hot", CAS_BUCKET
    before = store.counters()
    r = bench.loadgen(args, store.ports, workload, bucket=bucket, **kw)
    after = store.counters()
    n = max(1, r["requests"])
    r["stmts_per_req"] = (after[0] - before[0]) / n if store.pg else None
    r["trips_per_req"] = (after[3] - before[3]) / n if store.pg else None
    r["log_per_req"] = store.log_bytes(before, after) / n
    return r


def summarise(rounds):
    failed = [r["failed"] for r in rounds if "failed" in r]
    rounds = [r for r in rounds if "failed" not in r]
    if not rounds:
        return {"failed": failed}
    med = {k: statistics.median(r[k] for r in rounds) for k in ("rps", "p50_us", "p99_us")}
    for k in ("stmts_per_req", "trips_per_req", "log_per_req"):
        vals = [r[k] for r in rounds if r[k] is not None]
        med[k] = statistics.median(vals) if vals else None
    status = {}
    for r in rounds:
        for code, n in r["status"].items():
            status[code] = status.get(code, 0) + n
    med["status"] = status
    med["errors"] = sum(r["errors"] for r in rounds)
    med["cas"] = [(r.get("cas_final_counter"), r["status"].get("200", 0), r.get("cas_correct"))
                  for r in rounds if "cas_correct" in r]
    split = {}
    for r in rounds:
        for port, n in r.get("per_port", {}).items():
            split[port] = split.get(port, 0) + n
    med["split"] = list(split.values())
    med["rounds"] = rounds
    med["failed"] = failed
    return med


def pg_settings(pg):
    names = ",".join(f"'{n}'" for n in SETTINGS)
    rows = pg.psql("postgres", f"SELECT name, setting, coalesce(unit, '') FROM pg_settings "
                               f"WHERE name IN ({names}) ORDER BY name")
    out = []
    for line in rows.splitlines():
        name, setting, unit = line.split("|")
        if unit == "8kB":
            setting, unit = f"{int(setting) * 8 // 1024}", "MB"
        out.append(f"{name}={setting}{unit}")
    version = pg.psql("postgres", "SHOW server_version")
    return version, out


def log_findings(servers, pg):
    """Answers >= 500 and messages other than the access log's 4xx lines and the usual start-up
    warning, per server log; ERROR/FATAL/PANIC lines in PostgreSQL's log."""
    found = []
    for name, srv in servers:
        try:
            with open(srv.log_path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        odd = []
        for line in lines:
            m = re.search(r" (\d{3}) [\d.]+ms", line)
            if m and int(m.group(1)) < 500:
                continue
            if "no credentials configured" in line:
                continue
            odd.append(line)
        if odd:
            found.append(f"{name} ({srv.log_path}): {len(odd)} line(s), first: "
                         + " | ".join(odd[:3]))
    if pg:
        try:
            with open(pg.log_path, errors="replace") as f:
                errs = [ln for ln in f if re.search(r"\b(ERROR|FATAL|PANIC):", ln)]
        except OSError:
            errs = []
        if errs:
            found.append(f"PostgreSQL log: {len(errs)} ERROR/FATAL/PANIC line(s), first: "
                         + " | ".join(e.strip() for e in errs[:3]))
    return found


# Statements of the replicas' background passes (replication every 100 ms, lifecycle): a lease,
# then the list of buckets.
BACKGROUND = ("INSERT INTO leases", "FROM buckets ORDER BY name")


def trace(pg, store):
    """The statements of one PUT of a new key and one GET through the store's first replica, from
    PostgreSQL's log with log_statement = all for a moment, and the round trips the replica made
    for each: {"PUT": (status, [...], round trips), "GET": ...}. Only statements logged while the
    request was in flight count, in the store's database and not on the janitor's connection. A try
    that overlaps a background pass (BACKGROUND) is made again. The round trips are the growth of
    ifmatch_store_round_trips_total around the request, less the one of the metrics scrape that
    reads it (the scrape counts the stored objects first)."""
    out = {}
    for sql in ("ALTER SYSTEM SET log_statement = 'all'",
                "ALTER SYSTEM SET log_line_prefix = '%n %p %d '", "SELECT pg_reload_conf()"):
        pg.psql("postgres", sql)
    time.sleep(0.5)  # every backend applies the reload before its next command
    try:
        port = store.servers[0].port
        for what, method, path, body in (("PUT", "PUT", f"/{BUCKET}/traced", b"t" * 1024),
                                         ("GET", "GET", f"/{BUCKET}/object", b"")):
            for attempt in range(20):
                offset = os.path.getsize(pg.log_path)
                # A random pause, so that tries do not fall into step with the 100 ms passes.
                time.sleep(0.04 + random.uniform(0, 0.1))
                t_scrape = time.time()
                trips_before = metric(port, "ifmatch_store_round_trips_total")
                time.sleep(0.01)  # the scrape's own statement stays out of the window
                # PostgreSQL's %n truncates to the millisecond.
                t0 = int(time.time() * 1000) / 1000
                target = f"{path}{attempt}" if method == "PUT" else path
                status, _ = bench.request(port, method, target, body)
                time.sleep(0.05)  # a forgotten COMMIT or ROLLBACK may be logged after the answer
                t1 = time.time()
                trips = metric(port, "ifmatch_store_round_trips_total") - trips_before - 1
                t2 = time.time()
                time.sleep(0.3)
                with open(pg.log_path, errors="replace") as f:
                    f.seek(offset)
                    text = f.read()
                got = re.findall(r"^(\d+\.\d+) (\d+) (\S*) LOG:  "
                                 r"(?:statement|execute [^:]*): (.*)$", text, re.M)
                janitor = {pid for _, pid, _, sql in got if "pg_try_advisory_lock" in sql}
                # A pass takes a few milliseconds: one that began just before the first scrape
                # may still be running after it.
                mine = [(float(at), " ".join(sql.split())) for at, pid, db, sql in got
                        if db == store.db and pid not in janitor
                        and t_scrape - 0.01 <= float(at) <= t2]
                if attempt < 19 and any(b in sql for _, sql in mine for b in BACKGROUND):
                    continue  # a background pass ran between the two scrapes
                out[what] = (status, [sql for at, sql in mine if t0 <= at <= t1], trips)
                break
    finally:
        for sql in ("ALTER SYSTEM RESET log_statement", "ALTER SYSTEM RESET log_line_prefix",
                    "SELECT pg_reload_conf()"):
            pg.psql("postgres", sql)
    return out


def trace_lines(traced):
    lines = wrap(["Where the round trips go: the statements of one PUT of a new key and one GET "
                  "through one replica, from PostgreSQL's log (`log_statement = all` for the "
                  "moment of the trace; cut at 110 characters), and the round trips that carried "
                  "them (the replica's `ifmatch_store_round_trips_total`). The PUT's "
                  "`pg_current_snapshot()` is the start-token snapshot, which one statement serves "
                  "for all the write requests that arrive together; the other statements are the "
                  "request's own."]) + [""]
    for what, (status, stmts, trips) in traced.items():
        lines.append(f"- {what} (answered {status}), {len(stmts)} statements in {trips} round "
                     f"trip{'' if trips == 1 else 's'}:")
        for i, t in enumerate(stmts, 1):
            t = t if len(t) <= 110 else t[:107] + "..."
            lines.append(f"  {i}. `{t}`")
    return lines


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def table(results):
    rows = ["| workload | store | req/s | p50 ms | p99 ms | statements / req | round trips / req "
            "| log bytes / req | outcomes (all rounds) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for wid, label, workload, conns, stores, _ in WORKLOADS:
        for store in stores:
            m = results.get((wid, store))
            if m is None:
                continue
            if "rps" not in m:
                rows.append(f"| {label} | {STORE_LABELS[store]} | failed: {m['failed'][0]} "
                            "| | | | | | |")
                continue
            st = m["status"]
            if workload == "cas":
                other = sum(v for k, v in st.items() if k not in ("200", "412", "409"))
                ok = all(c for _, _, c in m["cas"]) and bool(m["cas"])
                finals = ", ".join(f"{f}/{w}" for f, w, _ in m["cas"])
                outcome = (f"200={st.get('200', 0)} 412={st.get('412', 0)} 409={st.get('409', 0)} "
                           f"other={other} errors={m['errors']}; final counter / 200s per round: "
                           f"{finals} — {'correct' if ok else 'WRONG'}")
            else:
                outcome = " ".join(f"{k}={v}" for k, v in sorted(st.items()))
                if m["errors"]:
                    outcome += f" errors={m['errors']}"
            if m["failed"]:
                outcome += f"; {len(m['failed'])} round(s) failed: {m['failed'][0]}"
            if len(m["split"]) > 1:
                outcome += " (replica a/b: " + "/".join(str(n) for n in m["split"]) + ")"
            rows.append(f"| {label} | {STORE_LABELS[store]} | {m['rps']:.0f} "
                        f"| {m['p50_us'] / 1000:.2f} | {m['p99_us'] / 1000:.2f} "
                        f"| {fmt(m['stmts_per_req'], '.1f')} | {fmt(m['trips_per_req'], '.1f')} "
                        f"| {fmt(m['log_per_req'], ',.0f')} "
                        f"| {outcome} |")
    return rows


def interpretation(results):
    """What this box can and cannot show, with this run's numbers where they say something."""
    def get(wid, store, key):
        return (results.get((wid, store)) or {}).get(key)

    def ms(wid, store):
        v = get(wid, store, "p50_us")
        return "—" if v is None else f"{v / 1000:.2f} ms"

    cas = [c for store in ("pg1", "pg2") for c in get("cas64", store, "cas") or []]
    cas_ok = bool(cas) and all(ok for *_, ok in cas)
    if get("put1", "pg1", "p50_us") is None:
        single = "(Single-client latency is not measured in quick mode.) "
    else:
        single = (f"Single-client latency (no queueing) shows the price of one request: PUT p50 "
                  f"{ms('put1', 'sqlite')} on SQLite against {ms('put1', 'pg1')} on PostgreSQL "
                  f"(both commit durably), GET {ms('get1', 'sqlite')} against "
                  f"{ms('get1', 'pg1')}. ")
    return [
        "What a 2-core box can show: what shared mode costs per request, which does not depend on "
        "the number of cores. A PUT on PostgreSQL made "
        f"{fmt(get('put16', 'pg1', 'trips_per_req'), '.1f')} round trips to the database "
        f"({fmt(get('put16', 'pg1', 'stmts_per_req'), '.1f')} statements), a GET "
        f"{fmt(get('get16', 'pg1', 'trips_per_req'), '.1f')} "
        f"({fmt(get('get16', 'pg1', 'stmts_per_req'), '.1f')}) and a CAS attempt "
        f"{fmt(get('cas64', 'pg1', 'trips_per_req'), '.1f')} "
        f"({fmt(get('cas64', 'pg1', 'stmts_per_req'), '.1f')}); SQLite makes none (it is in the "
        "process, and it answers a GET of a hot key from the replica's read cache, which shared "
        "mode does not have: docs/shared-mode.md). Each round trip wakes a PostgreSQL backend and "
        "one of the replica's workers, which here compete with everything else for the same two "
        "cores. " + single
        + "The log bytes per PUT show what one write adds to the write-ahead log: "
        f"{fmt(get('put16', 'pg1', 'log_per_req'), ',.0f')} bytes of WAL on PostgreSQL, which "
        "logs row changes (and a page's full image only at its first change after a "
        f"checkpoint), against {fmt(get('put16', 'sqlite', 'log_per_req'), ',.0f')} on SQLite, "
        "which logs every page a commit group changed, whole. And the box shows that "
        "compare-and-swap stays exact across replicas: with the 64 clients split between two "
        "processes, the hot key's final counter "
        + ("equalled the number of 200s in every round." if cas_ok else
           "did NOT equal the number of 200s in some round (see the table)."),
        "",
        "What it cannot show: whether throughput scales with replicas. PostgreSQL, both replicas "
        "and the load generator share the same 2 cores, so a second replica adds CPU demand, not "
        "CPU: the two-replica rows measure contention on this box (and that the load really was "
        "split, per the a/b counts), not the capacity of a deployment where each replica and the "
        "database have cores of their own. For the same reason the 16- and 64-connection rows "
        "compare the CPU spent per request more than anything a dedicated database server would "
        "bound.",
    ]


def run(args, log):
    """Measures every workload and store; returns the markdown lines of the section."""
    head = ["## Shared mode (PostgreSQL)", ""]
    reason = pgserver.available()
    if reason:
        log(f"shared mode: not measured: {reason}")
        return head + [f"Not measured in this run: {reason}."]
    t_start = time.monotonic()
    work = os.path.join(args.cache, "data", "shared")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        pg = pgserver.start(verbose=False)
    except RuntimeError as e:
        log(f"shared mode: not measured: {e}")
        return head + [f"Not measured in this run: PostgreSQL did not start ({e})."]
    servers = []
    try:
        # pgserver turns durability off for test databases; the benchmark wants PostgreSQL's
        # defaults back (durable commits, as SQLite's --durability full), so it restarts the
        # server with them appended (a later -c wins over an earlier one). pgserver has no
        # public way to pass settings; the report shows the settings read back either way.
        base_options = pg._server_options
        pg._server_options = lambda: f"{base_options()} {DURABLE}"
        pg.restart()
        version, settings = pg_settings(pg)
        durable = "fsync=on" in settings and "synchronous_commit=on" in settings
        log(f"shared mode: PostgreSQL {version}: {' '.join(settings)}")
        sqlite_dir = os.path.join(work, "sqlite")
        os.makedirs(sqlite_dir)
        sqlite = Ifmatch(args.ifmatch, sqlite_dir, os.path.join(work, "sqlite.log"),
                         ["--durability", "full"])
        stores = {"sqlite": Store("sqlite", [sqlite], sqlite_dir=sqlite_dir)}
        servers.append(("sqlite", sqlite))
        for name, replicas in (("pg1", ("a",)), ("pg2", ("a", "b"))):
            uri = pg.create_database(f"ifmatch_{name}")
            procs = []
            for r in replicas:
                p = Ifmatch(args.ifmatch, uri, os.path.join(work, f"{name}-{r}.log"),
                            ["--pg-pool", str(PG_POOL), "--replica-name", r])
                procs.append(p)
                servers.append((f"{name} replica {r}", p))
            stores[name] = Store(name, procs, pg=pg, db=f"ifmatch_{name}")
        for _, srv in servers:
            srv.start()
        for store in stores.values():
            store.setup()
        # Rounds interleaved across the stores (S P1 P2 S P1 P2 ...), so that all three see the
        # same machine state; every process stays up for the whole run.
        results = {}
        for wid, label, workload, conns, names, in_quick in WORKLOADS:
            if args.quick and not in_quick:
                continue
            rounds = {name: [] for name in names}
            for rnd in range(args.rounds):
                for name in names:
                    try:
                        r = measure_once(args, stores[name], wid, workload, conns, rnd)
                    except (RuntimeError, OSError, ValueError) as e:
                        r = {"failed": str(e)}
                        log(f"shared {label} {name} round {rnd + 1}: FAILED: {e}")
                    rounds[name].append(r)
            for name in names:
                m = results[(wid, name)] = summarise(rounds[name])
                if "rps" not in m:
                    continue
                extra = ""
                if m["stmts_per_req"] is not None:
                    extra = (f" stmts/req {m['stmts_per_req']:.1f}"
                             f" trips/req {m['trips_per_req']:.1f}")
                if workload == "cas":
                    extra += " cas " + ("correct" if all(c for *_, c in m["cas"]) else "WRONG")
                log(f"shared {label:38} {name:7} {m['rps']:8.0f}/s "
                    f"p50 {m['p50_us'] / 1000:6.2f} ms "
                    f"p99 {m['p99_us'] / 1000:7.2f} ms log {m['log_per_req']:7.0f} B/req{extra} "
                    f"{m['status']}{' errors=%d' % m['errors'] if m['errors'] else ''}")
        traced = {} if args.quick else trace(pg, stores["pg1"])
        for what, (status, stmts, trips) in traced.items():
            log(f"shared mode: one {what} ({status}) made {len(stmts)} statements in {trips} "
                f"round trip{'' if trips == 1 else 's'}")
    finally:
        for _, srv in servers:
            srv.terminate()
        for _, srv in servers:
            srv.stop()
        findings = log_findings(servers, pg)
        pg.stop()
    took = time.monotonic() - t_start
    for f in findings:
        log(f"shared mode: log: {f}")
    log(f"shared mode: {took:.1f} s")
    intro = [
        "The same ifmatch binary on SQLite and on one PostgreSQL database, measured in the same "
        "run with the same load generator. SQLite runs with `--durability full` (a 200 has reached "
        "the disk), the comparable setting: PostgreSQL here commits durably too."
        if durable else
        "The same ifmatch binary on SQLite and on one PostgreSQL database, measured in the same "
        "run with the same load generator. WARNING: PostgreSQL did NOT run with fsync and "
        "synchronous_commit on (see its settings below), so its commits were not durable while "
        "SQLite's (`--durability full`) were: the two are not comparable in this run.",
        "",
        f"- PostgreSQL {version} from tests/integration/pgserver.py (a throwaway cluster on this "
        "machine's disk, reached through a Unix socket), restarted with PostgreSQL's default "
        "durability; the settings read back from it: "
        + ", ".join(f"`{s}`" for s in settings) + ". pgserver's own default, for tests, is "
        "fsync, synchronous_commit and full_page_writes off: numbers with those would not be "
        "comparable with SQLite's durable commits.",
        "- Replicas: `ifmatch serve --data postgresql:///… "
        f"--pg-pool {PG_POOL} --replica-name a` "
        "(and `b`) `--log-level warn`, default `--threads`, each on its own port. Two replicas "
        "share one database and the load: the load generator opens its connections alternately to "
        "the two ports (`--port A,B`), so each replica serves half the clients.",
        f"- {args.rounds} round{'s' if args.rounds != 1 else ''} × {args.duration:g} s "
        "per workload "
        "and store, the stores' rounds interleaved; medians of req/s and latency. The processes "
        "stay up for the whole run; GET and PUT use an unversioned bucket, CAS a versioned one, as "
        "in the first table.",
        "- statements / req and round trips / req: the growth of `ifmatch_store_statements_total` "
        "and of `ifmatch_store_round_trips_total` (summed over the replicas) divided by the "
        "requests. A round trip sends the statements queued on a connection together (libpq's "
        "pipeline mode) and waits for their answers once. Both include the replicas' background "
        "work (each replica's replication pass polls every 100 ms). For CAS a request is one "
        "attempt: a GET and a PUT If-Match.",
        "- log bytes / req: PostgreSQL's WAL (`pg_wal_lsn_diff` of `pg_current_wal_lsn()` around "
        "the round; the whole cluster's, so autovacuum and the full-page images written after a "
        "checkpoint fall in it too), or SQLite's write-ahead log (`ifmatch_store_wal_frames_total` "
        "× (page size + 24)).",
        "- CAS: each client GETs the hot key (counter, ETag) and PUTs counter+1 with If-Match "
        "(bench/loadgen); after the round the load generator reads the key through the first "
        "replica and compares the counter with the 200s it counted across both replicas.",
        "- outcomes: the statuses of all rounds (for CAS those of the PUTs), transport errors, and "
        "for two replicas the requests each one answered.",
    ]
    if findings:
        logs = ["Server logs during this run (answers ≥ 500, warnings, errors):", ""]
        logs += [f"- {f}" for f in findings]
    else:
        logs = ["No answer ≥ 500 and no warning or error in the replicas' logs, no ERROR in "
                "PostgreSQL's log during this run."]
    return (head + wrap(intro) + [""] + table(results) + [""]
            + (trace_lines(traced) + [""] if traced else []) + wrap(interpretation(results))
            + [""] + wrap(logs))


def wrap(paragraphs, width=100):
    """Markdown source lines of at most `width` characters: each string is a paragraph or a
    `- ` bullet (continued with two spaces); "" is a blank line."""
    out = []
    for text in paragraphs:
        if not text:
            out.append("")
            continue
        bullet = text.startswith("- ")
        out += textwrap.wrap(text, width, subsequent_indent="  " if bullet else "",
                             break_long_words=False, break_on_hyphens=False)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ifmatch", required=True)
    p.add_argument("--loadgen", default=os.path.join(HERE, ".cache", "build-tools", "loadgen"))
    p.add_argument("--cache", default=os.path.join(HERE, ".cache"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int)
    p.add_argument("--duration", type=float)
    args = p.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (0.2 if args.quick else 3.0)
    lines = run(args, lambda msg: print(msg, file=sys.stderr, flush=True))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
