#!/usr/bin/env python3
"""Where an ifmatch binary spends its CPU on one workload: server CPU microseconds per request for
each thread group (ifmatch = the main I/O thread, ifm-io, ifm-writer, ifm-reader, ifm-checkpoint,
ifm-body),
from /proc/PID/task/*/stat around one loadgen round, plus the store's commit counters (mean group
size, write-ahead-log pages per write). Steadier than requests/s on a shared machine.
Usage: bench/threads.py BINARY WORKLOAD [CONNECTIONS] [SECONDS] [-- SERVER ARGS...]
(build the load generator first with bench/run.sh or cmake -S bench -B bench/.cache/build-tools)."""
import collections
import os
import re
import sys
import types
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def thread_ticks(pid):
    out = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[name] += int(fields[11]) + int(fields[12])  # utime + stime
    return out


def store_counters(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_ifmatch/metrics").read().decode()
    got = {}
    for name in ("commits", "write_jobs", "wal_frames", "group_reruns"):
        m = re.search(rf"^ifmatch_store_{name}_total (\d+)", text, re.M)
        got[name] = int(m.group(1)) if m else 0
    return got


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    binary, workload = argv[0], argv[1]
    conns = int(argv[2]) if len(argv) > 2 else 16
    secs = float(argv[3]) if len(argv) > 3 else 3.0
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, ".cache")
    args = types.SimpleNamespace(ifmatch=binary, ceiling="", s3rver="",
                                 loadgen=os.path.join(cache, "build-tools", "loadgen"),
                                 ifmatch_args=extra)
    srv = bench.Server("ifmatch", args, cache)
    srv.start()
    try:
        srv.setup(versioned=workload == "cas")
        kw = dict(connections=conns, duration=secs, prefix="t")
        if workload == "cas":
            kw["key"] = "hot"
        before, c0 = thread_ticks(srv.proc.pid), store_counters(srv.port)
        r = bench.loadgen(args, srv.port, workload, **kw)
        after, c1 = thread_ticks(srv.proc.pid), store_counters(srv.port)
    finally:
        srv.stop()
    n = max(1, r["requests"])
    hz = os.sysconf("SC_CLK_TCK")
    print(f"{workload} x{conns}: {r['rps']:.0f} req/s, p50 {r['p50_us'] / 1000:.2f} ms, "
          f"p99 {r['p99_us'] / 1000:.2f} ms")
    total = 0.0
    for name in sorted(after):
        us = (after[name] - before.get(name, 0)) * 1e6 / hz / n
        total += us
        print(f"  {name:15} {us:6.1f} us/request")
    print(f"  {'total':15} {total:6.1f} us/request")
    commits = c1["commits"] - c0["commits"]
    if commits:
        jobs = c1["write_jobs"] - c0["write_jobs"]
        frames = c1["wal_frames"] - c0["wal_frames"]
        print(f"  group commit: {jobs / commits:.1f} writes per commit, "
              f"{frames / max(1, jobs):.2f} log pages per write, "
              f"{c1['group_reruns'] - c0['group_reruns']} groups run again")


if __name__ == "__main__":
    main()
