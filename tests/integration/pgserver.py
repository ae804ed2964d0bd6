"""A throwaway PostgreSQL server for the shared-mode suites (several ifmatch replicas on one
database).

    import pgserver
    with pgserver.start() as pg:                 # initdb + pg_ctl start, Unix socket only
        uri = pg.create_database("shared")       # postgresql:///shared?host=SOCK&port=P&user=postgres
        print(pg.psql("shared", "select 1"))     # "1"
        pg.restart()                             # pg_ctl restart -m fast
    # stopped (-m immediate) and its directory removed

Facts it relies on (Debian 12, tests run as root):

* The binaries are Debian's postgresql-15 in /usr/lib/postgresql/15/bin ($IFMATCH_PG_BIN overrides).
* initdb refuses to run as root, so as root every server command (initdb, pg_ctl, psql) runs as the
  `postgres` user through `runuser -u postgres --`, on a directory that user owns. Run as any other
  user, they run as that user.
* The server listens only on a Unix socket in its own temporary directory
  (`-k SOCKDIR -c listen_addresses=''`), with fsync, synchronous_commit and full_page_writes off
  (throwaway data) and max_connections=200. Its port (only the socket's file name, .s.PGSQL.PORT,
  and the key of its small SysV shared-memory segment) is a free one chosen at start, so servers
  started by suites running in parallel never meet.
* Cleanup always happens: stop() at the end of the `with` block, an atexit hook, SIGTERM turned into
  a normal exit, and a watchdog process that stops the server and removes its directory when the
  process that started it dies in any way (even SIGKILL).

Measured on the 2-core test machine: start() takes about 1.5-2 s (initdb ~1.3 s with --no-sync,
pg_ctl start ~0.3 s); CREATE DATABASE ~0.3-0.5 s; restart -m fast ~0.4 s. Run this file to measure
again: `python3 tests/integration/pgserver.py`.
"""

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PG_BIN = os.environ.get("IFMATCH_PG_BIN", "/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
START_TIMEOUT = 30          # seconds pg_ctl may wait for the server to accept connections
COMMAND_TIMEOUT = 60        # seconds any other server command may take

_live = []                  # servers started by this process and not yet stopped
_live_lock = threading.Lock()


def available():
    """None when a server can be started here, else the reason why not (for lib.skip)."""
    for tool in ("initdb", "pg_ctl", "psql"):
        if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
            return f"{PG_BIN}/{tool} not found (apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root and there is no `{PG_USER}` user to run initdb as"
        if not shutil.which("runuser"):
            return "running as root and runuser is missing"
    return None


def _as_server_user(argv):
    """argv run as the postgres user when we are root (initdb refuses root), else as ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--"] + argv
    return argv


def _free_port():
    """A port that no TCP listener on 127.0.0.1 holds and no PostgreSQL socket in the usual
    directories names. The server itself only uses it for its socket file name and its SysV
    shared-memory key, so this is ample to keep parallel servers apart."""
    for _ in range(50):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if any(os.path.exists(os.path.join(d, f".s.PGSQL.{port}"))
               for d in ("/tmp", "/var/run/postgresql", "/run/postgresql")):
            continue
        return port
    raise RuntimeError("pgserver: no free port found")


def _base_dir():
    """A temporary-directory parent that the postgres user can traverse (the suites' own
    $IFMATCH_TMP is mode 0700 and root's), with short paths: a Unix socket path is limited to
    107 bytes."""
    for parent in (os.environ.get("IFMATCH_PG_TMPDIR"), tempfile.gettempdir(), "/tmp"):
        if not parent or not os.path.isdir(parent) or len(parent) > 60:
            continue
        path, ok = os.path.realpath(parent), True
        while True:
            if os.geteuid() == 0 and not os.stat(path).st_mode & 0o001:
                ok = False
                break
            if path == "/":
                break
            path = os.path.dirname(path)
        if ok:
            return parent
    return "/tmp"


# The watchdog: started with the read end of a pipe as its stdin, it blocks until every write end
# is closed, which happens when the process that started the server exits for any reason. It then
# stops the server (immediate) if it still runs and removes the directory. After a normal stop() it
# finds nothing to do.
_WATCHDOG = r"""
import os, shutil, subprocess, sys
pg_ctl, data, root, as_root, user = sys.argv[1:6]
try:
    sys.stdin.buffer.read()
except Exception:
    pass
if os.path.exists(os.path.join(data, "postmaster.pid")):
    argv = [pg_ctl, "-D", data, "-m", "immediate", "-w", "-t", "20", "stop"]
    if as_root == "1":
        argv = ["runuser", "-u", user, "--"] + argv
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",
                   timeout=30)
shutil.rmtree(root, ignore_errors=True)
"""


class PgServer:
    """One throwaway PostgreSQL 15 cluster. Use start() to get a running one."""

    def __init__(self, root, port, verbose=True):
        self.root = root
        self.data_dir = os.path.join(root, "data")
        self.socket_dir = os.path.join(root, "sock")
        self.log_path = os.path.join(root, "postgres.log")
        self.port = port
        self.verbose = verbose
        self.running = False
        self.timings = {}
        self._watchdog = None
        self._watchdog_pipe = None

    # --- commands --------------------------------------------------------------------------------

    def _run(self, argv, timeout=COMMAND_TIMEOUT, check=True, input=None):
        proc = subprocess.run(_as_server_user(argv), cwd=self.root, input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"pgserver: {' '.join(argv)} exited with {proc.returncode}: "
                               f"{proc.stderr.decode(errors='replace').strip()[-2000:]}")
        return proc

    def _server_options(self):
        return (f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200")

    def _pg_ctl(self, *args, timeout=START_TIMEOUT):
        return self._run([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data_dir, *args],
                         timeout=timeout + 15)

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return f"(no log: {e})"

    def _say(self, text):
        if self.verbose:
            print(f"pgserver: {text}", flush=True)

    # --- life cycle ------------------------------------------------------------------------------

    def _initdb(self):
        t0 = time.monotonic()
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data_dir, "-A", "trust",
                   "-U", PG_USER, "--no-sync", "-E", "UTF8", "--locale=C",
                   "--no-instructions"], timeout=120)
        self.timings["initdb"] = time.monotonic() - t0

    def _start(self):
        """pg_ctl start -w; on failure the log tail is printed and RuntimeError raised."""
        t0 = time.monotonic()
        try:
            self._pg_ctl("-l", self.log_path, "-w", "-t", str(START_TIMEOUT),
                         "-o", self._server_options(), "start")
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print(f"pgserver: PostgreSQL did not start ({e})\n------ {self.log_path} tail ------\n"
                  f"{self.log_tail()}------ end of PostgreSQL log ------", file=sys.stderr,
                  flush=True)
            raise RuntimeError(f"pgserver: PostgreSQL did not start on port {self.port}: {e}")
        self.running = True
        self.timings["start"] = time.monotonic() - t0

    def _start_watchdog(self):
        read_end, write_end = os.pipe()
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-c", _WATCHDOG, os.path.join(PG_BIN, "pg_ctl"), self.data_dir,
                 self.root, "1" if os.geteuid() == 0 else "0", PG_USER],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, cwd="/")
        finally:
            os.close(read_end)
        self._watchdog_pipe = write_end   # not inheritable: other children never hold it

    def stop(self, mode="immediate", remove=True):
        """Stops the server (`pg_ctl stop -m MODE`, immediate by default: the data is throwaway)
        and, with remove, deletes its directory. Safe to call twice."""
        if self.running:
            self.running = False
            try:
                self._pg_ctl("-m", mode, "-w", "-t", "20", "stop", timeout=20)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"pgserver: stop failed: {e}", file=sys.stderr, flush=True)
                self._kill_postmaster()
        if remove:
            with _live_lock:
                if self in _live:
                    _live.remove(self)
            shutil.rmtree(self.root, ignore_errors=True)
            if self._watchdog_pipe is not None:
                os.close(self._watchdog_pipe)
                self._watchdog_pipe = None
                try:
                    self._watchdog.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass

    def _kill_postmaster(self):
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid")) as f:
                os.kill(int(f.readline().strip()), signal.SIGQUIT)
        except (OSError, ValueError):
            pass

    def start_again(self):
        """Starts a stopped server again on the same directory and port."""
        if self.running:
            raise RuntimeError("pgserver: already running")
        self._start()

    def restart(self, mode="fast", down_seconds=0.0):
        """`pg_ctl restart -m MODE` (fast by default: open sessions are terminated). With
        down_seconds > 0 the server is stopped, left down that long, then started. Returns the
        seconds it took."""
        t0 = time.monotonic()
        if down_seconds > 0:
            self._pg_ctl("-m", mode, "-w", "-t", "20", "stop", timeout=20)
            self.running = False
            time.sleep(down_seconds)
            self._start()
        else:
            try:
                self._pg_ctl("-m", mode, "-w", "-t", str(START_TIMEOUT), "-l", self.log_path,
                             "-o", self._server_options(), "restart")
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"pgserver: restart failed ({e})\n{self.log_tail()}", file=sys.stderr,
                      flush=True)
                raise
        self.running = True
        took = time.monotonic() - t0
        self.timings["restart"] = took
        return took

    # --- use -------------------------------------------------------------------------------------

    def uri(self, dbname):
        """The libpq URI of one database: postgresql:///NAME?host=SOCKDIR&port=PORT&user=postgres"""
        return f"postgresql:///{dbname}?host={self.socket_dir}&port={self.port}&user={PG_USER}"

    def psql(self, db, sql, timeout=COMMAND_TIMEOUT):
        """Runs `sql` with psql -At (unaligned, tuples only) in database `db`; returns its stdout
        without the final newline. Raises RuntimeError when psql fails (ON_ERROR_STOP)."""
        proc = self._run([os.path.join(PG_BIN, "psql"), "-X", "-h", self.socket_dir,
                          "-p", str(self.port), "-U", PG_USER, "-d", db, "-At",
                          "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=timeout)
        return proc.stdout.decode().rstrip("\n")

    def create_database(self, name, template=None):
        """CREATE DATABASE name (optionally from a template database); returns its URI."""
        t0 = time.monotonic()
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        self.psql("postgres", sql)
        self.timings[f"create_database {name}"] = time.monotonic() - t0
        return self.uri(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return f"<PgServer port={self.port} socket_dir={self.socket_dir} running={self.running}>"


def _stop_all():
    with _live_lock:
        servers = list(_live)
    for server in servers:
        server.stop()


_hooks_installed = False


def _install_hooks():
    """atexit stops every server; a default SIGTERM (run.sh's timeout) becomes a normal exit so
    that atexit runs. (SIGKILL is left to the watchdog.)"""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))


def start(verbose=True, attempts=3):
    """initdb + start a fresh server in a new temporary directory; returns a running PgServer.
    Raises RuntimeError (after printing the PostgreSQL log tail) when it cannot start."""
    reason = available()
    if reason:
        raise RuntimeError(f"pgserver: {reason}")
    _install_hooks()
    last = None
    for attempt in range(attempts):
        t0 = time.monotonic()
        root = tempfile.mkdtemp(prefix="ifm-pg.", dir=_base_dir())
        os.makedirs(os.path.join(root, "sock"))
        if os.geteuid() == 0:
            pw = pwd.getpwnam(PG_USER)
            for path in (root, os.path.join(root, "sock")):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o700)
        server = PgServer(root, _free_port(), verbose=verbose)
        with _live_lock:
            _live.append(server)
        server._start_watchdog()
        try:
            server._initdb()
            server._start()
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            last = e
            log = server.log_tail(20).lower()
            server.stop()
            if "initdb" in str(e) or not any(
                    hint in log for hint in ("in use", "lock file", "could not create",
                                             "shared memory")):
                break           # not a clash with another server: trying again will not help
            continue
        server.timings["total"] = time.monotonic() - t0
        server._say(f"PostgreSQL ready on {server.socket_dir} port {server.port} in "
                    f"{server.timings['total']:.2f} s (initdb {server.timings['initdb']:.2f} s, "
                    f"start {server.timings['start']:.2f} s)")
        return server
    raise RuntimeError(f"pgserver: could not start PostgreSQL after {attempts} attempts: {last}")


def _self_test():
    """python3 pgserver.py: start, two databases, select 1, restart, stop; prints timings."""
    t0 = time.monotonic()
    with start() as pg:
        u1 = pg.create_database("one")
        u2 = pg.create_database("two")
        print("uri:", u1)
        print("uri:", u2)
        assert pg.psql("one", "select 1") == "1", "select 1 in one"
        assert pg.psql("two", "select 1") == "1", "select 1 in two"
        pg.psql("one", "create table t (v int); insert into t values (42)")
        took = pg.restart()
        print(f"restart -m fast took {took:.2f} s")
        assert pg.psql("one", "select v from t") == "42", "data survives the restart"
        took = pg.restart(down_seconds=0.5)
        print(f"stop + 0.5 s down + start took {took:.2f} s")
        assert pg.psql("two", "select 1") == "1", "select 1 after the second restart"
        root = pg.root
        print({k: round(v, 3) for k, v in pg.timings.items()})
    assert not os.path.exists(root), "directory removed"
    print(f"pgserver self-test passed in {time.monotonic() - t0:.2f} s")


if __name__ == "__main__":
    _self_test()
