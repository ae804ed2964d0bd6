"""Out of file descriptors. The server is restarted under `prlimit --nofile=128:256` with
--max-connections 1000, far above what 256 descriptors allow, then:
- the soft limit was raised to the hard one at start (/proc/PID/limits) and the log says once
  that max-connections was capped;
- 300 connections (more than the limit) leave the capped number open and answer the rest 503
  SlowDown at once, and a new request during the flood gets 503 SlowDown, while the server's CPU
  stays low; once they close, service is back (every one of the capped connections served);
- the server's soft limit lowered at run time (prlimit --pid) so that accept fails with EMFILE:
  each connection is answered 503 SlowDown through the reserve descriptor, idle or not, the CPU
  stays low (accept used to fail in a tight loop), and the condition is logged, rate-limited;
- a limit below even the reserve descriptor: the connection waits in the listen queue with the
  CPU low and is served once the limit is raised again."""
import os
import re
import resource
import select
import shutil
import socket
import time
import xml.etree.ElementTree as ET

import lib

r = lib.Reporter("fd_limits")
PORT = lib.port()
SOFT, HARD = 128, 256
REQUESTED = 1000
FLOOD = 300
TICKS = os.sysconf("SC_CLK_TCK")

if not shutil.which("prlimit"):
    lib.skip("prlimit (util-linux) not installed; suite fd_limits did not run")
own_soft, own_hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if own_hard != resource.RLIM_INFINITY and own_hard < FLOOD + 100:
    lib.skip(f"this process may open only {own_hard} descriptors; suite fd_limits did not run")
resource.setrlimit(resource.RLIMIT_NOFILE, (own_hard, own_hard))


def log_text():
    with open(os.environ["IFMATCH_LOG"], errors="replace") as f:
        return f.read()


def limits_line(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return [int(x) if x.isdigit() else x for x in line.split()[3:5]]
    return None


def cpu_share(pid, seconds=2.0):
    """Fraction of one core the server used (utime + stime) over `seconds`."""
    def ticks():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    before = ticks()
    time.sleep(seconds)
    return (ticks() - before) / TICKS / seconds


def readable(socks):
    """The sockets of `socks` with something to read now (poll: no FD_SETSIZE limit)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    return {by_fd[fd] for fd, _ in poller.poll(0)}


def server_fds(pid):
    return sorted(int(n) for n in os.listdir(f"/proc/{pid}/fd"))


def set_soft_limit(pid, soft):
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, HARD))


def health_request():
    return b"GET /_ifmatch/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def answer(sock, timeout=5.0):
    """The response on `sock`, or the exception that prevented reading one."""
    sock.settimeout(timeout)
    try:
        resp, _ = lib.read_response(sock)
        return resp
    except (OSError, ConnectionError) as e:
        return e


def is_slow_down(resp):
    if not isinstance(resp, lib.RawResponse) or resp.status != 503:
        return False
    try:
        root = ET.fromstring(resp.body)
    except ET.ParseError:
        return False
    return root.tag == "Error" and root.findtext("Code") == "SlowDown"


def served_ok(timeout=5.0):
    try:
        resp = lib.raw_exchange(health_request(), timeout=timeout)
        return resp.status
    except (OSError, ConnectionError) as e:
        return repr(e)


# --- restart with a low descriptor limit --------------------------------------------------------
lib.stop_server()
os.environ["IFMATCH_LAUNCH_PREFIX"] = f"prlimit --nofile={SOFT}:{HARD} --"
os.environ["IFMATCH_EXTRA_FLAGS"] = f"--max-connections {REQUESTED} --idle-timeout 120"
pid = lib.start_server()
r.eq(f"soft descriptor limit raised from {SOFT} to the hard limit at start (/proc/PID/limits)",
     [HARD, HARD], limits_line(pid))
caps = re.findall(r"max-connections (\d+) capped to (\d+)", log_text())
r.eq("the log says once that max-connections was capped", 1, len(caps))
cap = int(caps[0][1]) if caps else 0
r.check(f"the cap ({cap}) leaves room for the store and a blob file per connection",
        caps and int(caps[0][0]) == REQUESTED and 1 <= cap <= (HARD - 64) // 2, caps)

# --- more connections than the descriptor limit -------------------------------------------------
time.sleep(0.3)  # the health checks' connections have closed
flood = [lib.connect() for _ in range(FLOOD)]
time.sleep(1.0)
answered = readable(flood)
refused = [answer(s) for s in flood if s in answered]
open_now = [s for s in flood if s not in answered]
# A connection of the health checks may still be ending: allow it to count against the cap.
r.check(f"{FLOOD} connections: the {cap} under the cap stay open",
        cap - 2 <= len(open_now) <= cap, len(open_now))
r.eq(f"{FLOOD} connections: all the others are answered", FLOOD - len(open_now), len(refused))
r.check("every answered one is 503 SlowDown (S3 XML)", refused and all(map(is_slow_down, refused)),
        [x for x in refused if not is_slow_down(x)][:2])
r.check("the 503 says Connection: close", refused and isinstance(refused[0], lib.RawResponse)
        and refused[0].header("connection") == "close", refused[:1])
with lib.connect() as extra:
    extra.sendall(health_request())
    resp = answer(extra)
r.check("a request during the flood gets 503 SlowDown", is_slow_down(resp), resp)
share = cpu_share(pid)
r.check(f"server CPU while {cap} connections are held is low ({share:.0%} of a core)",
        share < 0.2, share)
for s in flood:
    s.close()
time.sleep(0.5)
r.eq("service is back once the connections close", 200, served_ok())
# The capped number of connections is really served, each on its own connection.
conns = [lib.connect() for _ in range(cap)]
for s in conns:
    s.sendall(health_request())
statuses = [getattr(answer(s), "status", None) for s in conns]
r.eq(f"{cap} concurrent connections are each served 200", [200] * cap, statuses)
for s in conns:
    s.close()
time.sleep(0.5)

# --- accept fails with EMFILE: the reserve descriptor answers ------------------------------------
used = server_fds(pid)
lowest_free = next(n for n in range(len(used) + 1) if n not in used)
reserve = [n for n in used if n > 2 and os.readlink(f"/proc/{pid}/fd/{n}") == "/dev/null"]
r.check("(precondition) the server holds a reserve descriptor below the limit about to be set",
        reserve and min(reserve) < lowest_free, (reserve, lowest_free))
set_soft_limit(pid, lowest_free)  # every slot below the limit is taken
socks = [lib.connect() for _ in range(5)]
for s in socks:
    s.sendall(health_request())
resps = [answer(s) for s in socks]
r.check("out of descriptors: requests are answered 503 SlowDown, not left hanging",
        all(map(is_slow_down, resps)), resps)
idle = [lib.connect() for _ in range(3)]  # connections that send nothing
share = cpu_share(pid)
r.check(f"out of descriptors: server CPU stays low ({share:.0%} of a core)", share < 0.1, share)
resps = [answer(s, timeout=1.0) for s in idle]
r.check("out of descriptors: silent connections are answered 503 SlowDown too",
        all(map(is_slow_down, resps)), resps)
for s in socks + idle:
    s.close()
log = log_text()
reports = re.findall(r"accept failed: Too many open files", log)
r.check("the condition is logged, rate-limited (one report for 8 refusals)", len(reports) == 1,
        reports)
r.check("the report gives the descriptor limit",
        re.search(rf"descriptor limit {lowest_free}\b", log), log[-800:])

# --- even the reserve cannot help: the connection waits, the server does not spin ----------------
set_soft_limit(pid, 3)
queued = lib.connect()
queued.sendall(health_request())
share = cpu_share(pid)
r.check(f"no descriptor at all: server CPU stays low ({share:.0%} of a core)", share < 0.1, share)
r.eq("no descriptor at all: the connection waits in the listen queue", set(), readable([queued]))
set_soft_limit(pid, HARD)
resp = answer(queued, timeout=5.0)
r.eq("the queued connection is served once descriptors are available", 200,
     getattr(resp, "status", resp))
queued.close()
r.check("the end of the episode is logged",
        re.search(r"accepting connections again after running out of descriptors \(\d+ "
                  r"connection\(s\) answered 503 SlowDown", log_text()), log_text()[-800:])

# --- service is back -----------------------------------------------------------------------------
body = b"after the descriptor drought"
put = lib.raw_exchange(b"PUT /fd-limits HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
r.eq("CreateBucket after the episode", 200, put.status)
put = lib.raw_exchange(b"PUT /fd-limits/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body)
r.eq("PutObject after the episode", 200, put.status)
got = lib.raw_exchange(b"GET /fd-limits/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
r.eq("GetObject after the episode", (200, body), (got.status, got.body))
r.eq("the server stops cleanly", 0, lib.stop_server())
r.finish()
