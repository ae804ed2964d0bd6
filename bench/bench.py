#!/usr/bin/env python3
"""Side-by-side benchmark driver, started by bench/run.sh: runs every workload against the ceiling
server, ifmatch (default and full durability) and s3rver on loopback, measures requests/s,
latency, server CPU per 1,000 requests and peak RSS (medians of the rounds), start-up time and
idle RSS, then shared mode (bench/shared.py: SQLite against one and two replicas on PostgreSQL),
and writes RESULTS.md with ratios and the pass/fail of the performance targets."""
import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUCKET = "bench"
MIB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid):
    """utime + stime of `pid` in seconds (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem(pid, field):
    """A /proc/PID/status field in KiB (VmHWM, VmRSS)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def request(port, method, path, body=b"", headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class Server:
    """One server process on a free port with its own data directory."""

    def __init__(self, kind, args, cache):
        self.kind, self.args, self.cache = kind, args, cache
        self.port = free_port()
        self.data = os.path.join(cache, "data", f"{kind}-{self.port}")
        shutil.rmtree(self.data, ignore_errors=True)
        os.makedirs(self.data)
        self.proc = None

    def command(self):
        a = self.args
        if self.kind == "ceiling":
            return [a.ceiling, str(self.port)]
        if self.kind == "s3rver":
            return ["node", "--openssl-legacy-provider", a.s3rver, "-d", self.data,
                    "-a", "127.0.0.1", "-p", str(self.port), "--silent"]
        data = getattr(a, "data_uri", None) or self.data  # a postgresql:// URI (ab.py --pg)
        cmd = [a.ifmatch, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", data,
               "--log-level", "warn"]
        cmd += list(getattr(a, "ifmatch_args", None) or [])
        return cmd + (["--durability", "full"] if self.kind == "ifmatch-full" else [])

    def start(self, wait_path="/"):
        log = open(os.path.join(self.cache, f"{self.kind}.log"), "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}")
            try:
                if request(self.port, "HEAD", wait_path, timeout=1)[0] < 500:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.0005)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def setup(self, versioned=False, object_size=1024):
        if self.kind == "ceiling":
            return
        status, body = request(self.port, "PUT", f"/{BUCKET}")
        assert status == 200, (status, body)
        if versioned:
            xml = (b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                   b"<Status>Enabled</Status></VersioningConfiguration>")
            status, body = request(self.port, "PUT", f"/{BUCKET}?versioning", xml)
            assert status == 200, (status, body)
        status, body = request(self.port, "PUT", f"/{BUCKET}/object", b"o" * object_size)
        assert status == 200, (status, body)


def loadgen(args, port, workload, bucket=BUCKET, **kw):
    """One loadgen run; `port` may be "P1,P2" (connections alternate between the ports)."""
    cmd = [args.loadgen, "--port", str(port), "--bucket", bucket, "--workload", workload]
    for k, v in kw.items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen {workload}: {out.stderr.strip()}")
    return json.loads(out.stdout)


# (id, label, loadgen workload, connections, servers, extra loadgen options)
WORKLOADS = [
    ("get16", "GET 1 KiB, 16 conns", "get", 16, ["ceiling", "ifmatch", "s3rver"]),
    ("get64", "GET 1 KiB, 64 conns", "get", 64, ["ceiling", "ifmatch", "s3rver"]),
    ("head16", "HEAD 1 KiB, 16 conns", "head", 16, ["ceiling", "ifmatch", "s3rver"]),
    ("put16", "PUT 1 KiB new keys, 16 conns", "put", 16,
     ["ceiling", "ifmatch", "ifmatch-full", "s3rver"]),
    ("put64", "PUT 1 KiB new keys, 64 conns", "put", 64,
     ["ceiling", "ifmatch", "ifmatch-full", "s3rver"]),
    ("inm16", "PUT If-None-Match:* new keys, 16 conns", "put-inm", 16, ["ifmatch", "s3rver"]),
    ("cas64", "If-Match CAS, 1 hot key, 64 clients", "cas", 64, ["ifmatch", "s3rver"]),
    ("copy16", "CopyObject 1 KiB, 16 conns", "copy", 16, ["ifmatch", "s3rver"]),
]
UNSUPPORTED = {
    ("s3rver", "inm16"): "s3rver ignores If-None-Match on PUT",
    ("s3rver", "cas64"): "s3rver ignores If-Match on PUT",
}


def measure(args, srv, workload, rounds, **kw):
    """Runs `rounds` loadgen rounds against a started server; returns medians and the raw rounds."""
    results = []
    for i in range(rounds):
        c0 = proc_cpu(srv.proc.pid)
        # Each round writes keys of its own: "new keys" stay new after the first round.
        round_kw = dict(kw, prefix=f"{kw.get('prefix', 'k')}r{i}")
        r = loadgen(args, srv.port, workload, **round_kw)
        r["cpu_per_k"] = (proc_cpu(srv.proc.pid) - c0) / max(r["requests"], 1) * 1000
        results.append(r)
    med = {k: statistics.median(r[k] for r in results)
           for k in ("rps", "p50_us", "p99_us", "cpu_per_k", "mbps")}
    med["hwm_mib"] = proc_mem(srv.proc.pid, "VmHWM") / 1024
    med["rounds"] = results
    return med


def run_workloads(args, servers, log):
    table = {}
    for wid, label, workload, conns, kinds in WORKLOADS:
        for kind in kinds:
            if kind not in servers:
                continue
            if (kind, wid) in UNSUPPORTED:
                table[(wid, kind)] = {"unsupported": UNSUPPORTED[(kind, wid)]}
                continue
            srv = Server(kind, args, args.cache)
            srv.start()
            try:
                srv.setup(versioned=workload == "cas")
                kw = dict(connections=conns, duration=args.duration, prefix=f"{wid}")
                if workload == "cas":
                    kw["key"] = "hot"
                table[(wid, kind)] = measure(args, srv, workload, args.rounds, **kw)
            finally:
                srv.stop()
            m = table[(wid, kind)]
            log(f"{label:42} {kind:13} {m['rps']:10.0f}/s p50 {m['p50_us'] / 1000:7.2f} ms "
                f"p99 {m['p99_us'] / 1000:7.2f} ms cpu/1k {m['cpu_per_k']:.3f} s "
                f"hwm {m['hwm_mib']:.1f} MiB")
    return table


def run_large(args, servers, log):
    """Large PUT then GET of the same key on one server instance, per server (not the ceiling)."""
    out = {}
    for kind in ("ifmatch", "s3rver"):
        if kind not in servers:
            continue
        srv = Server(kind, args, args.cache)
        srv.start()
        try:
            srv.setup()
            put = measure(args, srv, "large-put", args.rounds, key="large", size=args.large)
            get = measure(args, srv, "large-get", args.rounds, key="large")
            out[kind] = (put, get)
        finally:
            srv.stop()
        log(f"large {args.large // MIB} MiB {kind:13} PUT {put['mbps']:.0f} MB/s "
            f"GET {get['mbps']:.0f} MB/s hwm {get['hwm_mib']:.1f} MiB")
    return out


def huge_put_rss(args, log):
    """Peak RSS of ifmatch across one PUT of args.huge bytes."""
    srv = Server("ifmatch", args, args.cache)
    srv.start()
    try:
        srv.setup()
        r = loadgen(args, srv.port, "large-put", key="huge", size=args.huge)
        hwm = proc_mem(srv.proc.pid, "VmHWM") / 1024
    finally:
        srv.stop()
    log(f"{args.huge // MIB} MiB PUT: status {r['status']} peak RSS {hwm:.1f} MiB")
    return hwm, r


def startup(args, kind, launches, log):
    """Median launch-to-first-200-HEAD-of-a-bucket time, and idle RSS one second after start."""
    srv = Server(kind, args, args.cache)
    srv.start()
    srv.setup()
    srv.stop()
    times, idle = [], 0
    for i in range(launches):
        times.append(srv.start(wait_path=f"/{BUCKET}"))
        if i == 0:
            time.sleep(1.0)
            idle = proc_mem(srv.proc.pid, "VmRSS") / 1024
        srv.stop()
    med = statistics.median(times) * 1000
    log(f"start-up {kind:13} median {med:.1f} ms over {launches} launches, idle RSS {idle:.1f} MiB")
    return med, idle, launches


def fsync_rate(cache, seconds):
    path = os.path.join(cache, "data", "fsync-probe")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    n, t0 = 0, time.perf_counter()
    try:
        while time.perf_counter() - t0 < seconds:
            os.write(fd, b"x" * 1024)
            os.fdatasync(fd)
            n += 1
    finally:
        os.close(fd)
        os.unlink(path)
    return n / (time.perf_counter() - t0)


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs (nproc), {model}, Linux {platform.release()}"


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


def results_table(table, servers):
    rows = ["| workload | server | req/s | p50 ms | p99 ms | CPU s / 1k req | peak RSS MiB "
            "| vs ceiling | vs s3rver |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for wid, label, workload, conns, kinds in WORKLOADS:
        for kind in kinds:
            if kind not in servers:
                continue
            m = table.get((wid, kind))
            if m is None:
                continue
            if "unsupported" in m:
                rows.append(f"| {label} | {kind} | not supported: {m['unsupported']} "
                            "| | | | | | |")
                continue
            ceil = table.get((wid, "ceiling"), {}).get("rps")
            peer = table.get((wid, "s3rver"), {}).get("rps")
            extra = ""
            if workload == "cas":
                st = m["rounds"][-1]["status"]
                decided = sum(st.get(k, 0) for k in ("200", "412", "409"))
                other = sum(v for k, v in st.items() if k not in ("200", "412", "409"))
                ok = all(r.get("cas_correct") for r in m["rounds"])
                extra = (f" (last round: 200={st.get('200', 0)} 412={st.get('412', 0)} "
                         f"409={st.get('409', 0)} other={other}, decided={decided}; "
                         f"final counter == 200s in every round: {'yes' if ok else 'NO'})")
            rows.append(
                f"| {label}{extra} | {kind} | {m['rps']:.0f} | {m['p50_us'] / 1000:.2f} "
                f"| {m['p99_us'] / 1000:.2f} | {m['cpu_per_k']:.3f} | {m['hwm_mib']:.1f} "
                f"| {fmt_ratio(m['rps'], ceil) if kind != 'ceiling' else '1.00×'} "
                f"| {fmt_ratio(m['rps'], peer) if kind != 's3rver' else '1.00×'} |")
    return rows


def targets(table, extras):
    def rps(wid, kind):
        m = table.get((wid, kind), {})
        return m.get("rps")

    out = ["| target | measured | result |", "|---|---|---|"]

    def check(name, value, ok):
        out.append(f"| {name} | {value} | {'pass' if ok else 'FAIL'} |"
                   if ok is not None else f"| {name} | {value} | not measured |")

    for wid, what, share in (("get16", "GET 1 KiB", 0.6), ("put16", "PUT 1 KiB", 0.4)):
        i, c, s = rps(wid, "ifmatch"), rps(wid, "ceiling"), rps(wid, "s3rver")
        check(f"{what} ≥ {share:.0%} of the ceiling (16 conns)",
              f"{i / c:.0%}" if i and c else "—", (i / c >= share) if i and c else None)
        check(f"{what} ≥ 10× s3rver (16 conns)", f"{i / s:.1f}×" if i and s else "—",
              (i / s >= 10) if i and s else None)
    cas = table.get(("cas64", "ifmatch"))
    if cas:
        # The median over the rounds, like every other number here (a single round swings with
        # the machine).
        decided = statistics.median(
            sum(st["status"].get(k, 0) for k in ("200", "412", "409")) / st["seconds"]
            for st in cas["rounds"])
        correct = all(r.get("cas_correct") and r["errors"] == 0 and
                      sum(v for k, v in r["status"].items() if k not in ("200", "412", "409")) == 0
                      for r in cas["rounds"])
        rounds = len(cas["rounds"])
        check("hot-key CAS ≥ 10,000 decided/s, exactly correct",
              f"{decided:.0f}/s (median of {rounds} round{'s' if rounds != 1 else ''}), "
              f"correct: {'yes' if correct else 'NO'}",
              decided >= 10000 and correct)
    full = rps("put64", "ifmatch-full")
    fs = extras.get("fsync")
    check("durable PUT (64 clients, --durability full) ≥ 2× fsync/s",
          f"{full:.0f}/s vs fsync {fs:.0f}/s = {full / fs:.1f}×" if full and fs else "—",
          (full >= 2 * fs) if full and fs else None)
    if "startup" in extras:
        ms, idle, _ = extras["startup"]
        check("start-up < 50 ms (median launch → first 200 HEAD of a bucket)", f"{ms:.1f} ms",
              ms < 50)
        check("idle RSS < 20 MiB", f"{idle:.1f} MiB", idle < 20)
    if "huge" in extras:
        hwm, size = extras["huge"]
        check(f"{size // MIB} MiB PUT peak RSS < 64 MiB", f"{hwm:.1f} MiB", hwm < 64)
    return out


def chart(args, table, servers):
    """Draws results.png with gnuplot when it is installed; returns whether it did."""
    if not shutil.which("gnuplot"):
        return False
    kinds = [k for k in ("ceiling", "ifmatch", "ifmatch-full", "s3rver") if k in servers]
    dat = os.path.join(args.cache, "chart.dat")
    with open(dat, "w") as f:
        for wid, *_ in WORKLOADS:
            vals = [str(table.get((wid, k), {}).get("rps", 0)) for k in kinds]
            f.write(f"{wid} {' '.join(vals)}\n")
    plots = ", ".join(f"'{dat}' using {i + 2}:xtic(1) title '{k}'" for i, k in enumerate(kinds))
    script = (f"set terminal png size 1000,500; set output '{os.path.join(args.out, 'results.png')}';"
              "set style data histogram; set style fill solid; set logscale y;"
              f"set ylabel 'requests/s (log)'; plot {plots}")
    return subprocess.run(["gnuplot", "-e", script]).returncode == 0


def write_report(args, table, large, extras, servers, notes, shared_lines=()):
    lines = [
        "# ifmatch benchmark results",
        "",
        "Written by `bench/run.sh`; every number below comes from one run on one machine state,",
        "so compare the ratios, not the absolute numbers (the machine is shared and noisy).",
        "",
        f"- Machine: {machine()}",
        f"- Command: `{args.command_line}`",
        f"- Date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- Rounds: {args.rounds} × {args.duration:g} s per workload, medians reported; "
        "load generator: bench/loadgen (C++/Asio, 1 thread, keep-alive, unsigned path-style).",
        "- Each (workload, server) pair runs on a fresh server process and data directory on disk;",
        "  ifmatch runs with `--log-level warn` (at `info` it logs every request), default",
        "  durability unless marked `ifmatch-full` (`--durability full`).",
        "- CPU = server utime+stime from /proc/PID/stat around each round; peak RSS = VmHWM.",
        "  For the CAS workload req/s and latency are those of the conditional PUTs (the GETs",
        "  before them add to the CPU).",
        "",
        "## Throughput and latency",
        "",
    ] + results_table(table, servers) + [""]
    if large:
        lines += ["## Large objects", "",
                  f"| server | PUT {args.large // MIB} MiB MB/s | GET MB/s | peak RSS MiB |",
                  "|---|---:|---:|---:|"]
        for kind, (put, get) in large.items():
            lines.append(f"| {kind} | {put['mbps']:.0f} | {get['mbps']:.0f} | "
                         f"{get['hwm_mib']:.1f} |")
        lines.append("")
    lines += ["## Start-up, memory, disk", ""]
    for kind, (ms, idle, launches) in extras.get("startups", {}).items():
        lines.append(f"- {kind}: start-up median {ms:.1f} ms over {launches} launches, "
                     f"idle RSS {idle:.1f} MiB")
    if "fsync" in extras:
        lines.append(f"- This disk: {extras['fsync']:.0f} write+fdatasync per second (1 KiB "
                     "appends, one thread) — the rate one fsync per write allows.")
    lines += ["", "## Targets", ""] + targets(table, extras) + [""]
    lines.append("Chart: results.png (requests/s per workload and server)."
                 if chart(args, table, servers) else
                 "No chart: gnuplot is not installed here (nor python3-matplotlib).")
    lines += notes
    if shared_lines:
        lines += [""] + list(shared_lines)
    extra = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimisations.md")
    if os.path.exists(extra):
        with open(extra) as f:
            lines += ["", f.read().rstrip()]
    with open(os.path.join(args.out, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ifmatch", required=True)
    p.add_argument("--ceiling", required=True)
    p.add_argument("--loadgen", required=True)
    p.add_argument("--s3rver", default="")
    p.add_argument("--cache", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--duration", type=float)
    p.add_argument("--command-line", default="bench/run.sh")
    p.add_argument("--note", action="append", default=[])
    p.add_argument("--no-shared", action="store_true", help="skip shared mode (bench/shared.py)")
    args = p.parse_args()
    args.rounds = 1 if args.quick else 3
    args.duration = args.duration or (1.0 if args.quick else 3.0)
    args.launches = 5 if args.quick else 20
    args.large = (32 if args.quick else 256) * MIB
    args.huge = (128 if args.quick else 1024) * MIB
    servers = ["ceiling", "ifmatch", "ifmatch-full"] + (["s3rver"] if args.s3rver else [])
    os.makedirs(args.out, exist_ok=True)

    def log(msg):
        print(msg, flush=True)

    extras = {"fsync": fsync_rate(args.cache, 0.5 if args.quick else 2.0)}
    log(f"fsync/s on this disk: {extras['fsync']:.0f}")
    table = run_workloads(args, servers, log)
    large = run_large(args, servers, log)
    extras["huge"] = (huge_put_rss(args, log)[0], args.huge)
    extras["startups"] = {}
    for kind in ("ifmatch", "s3rver", "ceiling"):
        if kind in servers:
            launches = args.launches if kind == "ifmatch" else min(args.launches, 2 if args.quick else 5)
            extras["startups"][kind] = startup(args, kind, launches, log)
    extras["startup"] = extras["startups"]["ifmatch"]
    shared_lines = []
    if not args.no_shared:
        import shared  # bench/shared.py, beside this file; it imports this module
        # Shorter rounds in quick mode: CTest's bench.quick only proves the tooling works.
        shared_args = argparse.Namespace(ifmatch=args.ifmatch, loadgen=args.loadgen,
                                         cache=args.cache, rounds=args.rounds, quick=args.quick,
                                         duration=0.2 if args.quick else args.duration)
        shared_lines = shared.run(shared_args, log)
    notes = [f"- {n}" for n in args.note]
    if not args.s3rver:
        notes.append("- s3rver was not available for this run (npm install failed or skipped).")
    write_report(args, table, large, extras, servers, notes, shared_lines)
    shutil.rmtree(os.path.join(args.cache, "data"), ignore_errors=True)
    log(f"wrote {os.path.join(args.out, 'RESULTS.md')}")


if __name__ == "__main__":
    sys.exit(main())
