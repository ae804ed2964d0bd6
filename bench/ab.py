#!/usr/bin/env python3
"""A/B comparison of two ifmatch binaries on one workload, rounds interleaved (A B A B ...) so
both see the same machine state: prints the median requests/s and server CPU per 1,000 requests.
Usage: bench/ab.py [--pg] A_BINARY B_BINARY WORKLOAD [CONNECTIONS] [ROUNDS] [SECONDS]
--pg: both binaries store in one throwaway PostgreSQL (tests/integration/pgserver.py, restarted
with durable commits as in bench/shared.py), a new database per binary and round, --pg-pool 8;
server CPU is then the replica's alone, not PostgreSQL's.
WORKLOAD is a loadgen workload (get, put, cas, ...) or `large`: one 256 MiB PUT, then GETs of it
(MB/s each, and the server's peak RSS); CONNECTIONS is then ignored.
(build the load generator first with bench/run.sh or cmake -S bench -B bench/.cache/build-tools)."""
import os
import statistics
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))


def start_postgres():
    import pgserver  # noqa: E402
    import shared  # noqa: E402
    reason = pgserver.available()
    if reason:
        sys.exit(f"ab.py --pg: {reason}")
    pg = pgserver.start(verbose=False)
    base = pg._server_options  # the same durable restart as bench/shared.py
    pg._server_options = lambda: f"{base()} {shared.DURABLE}"
    pg.restart()
    return pg


def main():
    argv = [a for a in sys.argv if a != "--pg"]
    pg = start_postgres() if len(argv) != len(sys.argv) else None
    try:
        run(argv, pg)
    finally:
        if pg:
            pg.stop()


def run(argv, pg):
    a_bin, b_bin, workload = argv[1:4]
    conns = int(argv[4]) if len(argv) > 4 else 16
    rounds = int(argv[5]) if len(argv) > 5 else 5
    secs = float(argv[6]) if len(argv) > 6 else 2.0
    here = os.path.dirname(os.path.abspath(__file__))
    cache = os.path.join(here, ".cache")
    tools = os.path.join(cache, "build-tools")
    results = {"A": [], "B": []}
    for rnd in range(rounds):
        for name, binary in (("A", a_bin), ("B", b_bin)):
            args = types.SimpleNamespace(ifmatch=binary, ceiling="", s3rver="",
                                         loadgen=os.path.join(tools, "loadgen"))
            if pg:
                args.data_uri = pg.create_database(f"ab_{name.lower()}_{rnd}")
                args.ifmatch_args = ["--pg-pool", "8"]
            srv = bench.Server("ifmatch", args, cache)
            srv.start()
            try:
                srv.setup(versioned=workload == "cas")
                if workload == "large":
                    put = bench.measure(args, srv, "large-put", 1, key="large", size=256 * bench.MIB)
                    get = bench.measure(args, srv, "large-get", 1, key="large")
                    results[name].append({"put": put["mbps"], "get": get["mbps"],
                                          "hwm": get["hwm_mib"]})
                    continue
                kw = dict(connections=conns, duration=secs)
                if workload == "cas":
                    kw["key"] = "hot"
                results[name].append(bench.measure(args, srv, workload, 1, **kw))
            finally:
                srv.stop()
    if workload == "large":
        for name in ("A", "B"):
            put = statistics.median(r["put"] for r in results[name])
            get = statistics.median(r["get"] for r in results[name])
            hwm = max(r["hwm"] for r in results[name])
            print(f"{name}: 256 MiB PUT {put:.0f} MB/s, GET {get:.0f} MB/s, peak RSS {hwm:.0f} MiB "
                  f"({rounds} interleaved rounds)")
        return
    for name in ("A", "B"):
        rps = statistics.median(r["rps"] for r in results[name])
        cpu = statistics.median(r["cpu_per_k"] for r in results[name])
        p50 = statistics.median(r["p50_us"] for r in results[name]) / 1000
        print(f"{name}: {workload} x{conns}: {rps:.0f} req/s, p50 {p50:.2f} ms, "
              f"CPU {cpu:.3f} s/1k req ({rounds} interleaved rounds of {secs:g} s)")


if __name__ == "__main__":
    main()
