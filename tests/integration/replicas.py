"""Extra ifmatch processes started by a suite, e.g. several replicas on one PostgreSQL database
(shared mode). run.sh's own server is not involved: these are independent processes.

    import replicas
    a = replicas.start(uri, name="a", flags=["--threads", "2"])
    a.endpoint, a.port, a.pid        # http://127.0.0.1:PORT
    a.kill9()                        # SIGKILL, waits until it is gone
    a.restart()                      # starts again on the same port and data, waits for health
    a.stop()                         # SIGTERM (then SIGKILL after the timeout); returns exit status

Each replica runs `$IFMATCH_BIN --listen 127.0.0.1:PORT --data DATA FLAGS...` on a free port and
is healthy once GET /_ifmatch/health answers 200. Its stdout and stderr go to its own log file,
`$IFMATCH_TMP/replica-NAME.log` (appended across restarts, with a line per start and exit);
log_tail() reads it. Every replica still running when the suite exits is stopped (atexit, and
SIGKILLed by the kernel if the suite itself is killed: PR_SET_PDEATHSIG). PR_SET_PDEATHSIG follows
the *thread* that started the process: start and restart replicas from the suite's main thread.
"""

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

_PR_SET_PDEATHSIG = 1
_all = []
_all_lock = threading.Lock()


def _free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _die_with_parent():
    """In the child before exec: SIGKILL when the thread that started it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort; atexit still stops it
        pass


def binary():
    path = os.environ.get("IFMATCH_BIN")
    if not path:
        sys.exit("replicas.py: $IFMATCH_BIN is not set; run this suite through run.sh")
    return path


def _log_dir():
    tmp = os.environ.get("IFMATCH_TMP")
    return tmp if tmp and os.path.isdir(tmp) else tempfile.gettempdir()


class Replica:
    def __init__(self, data, name, flags=(), port=None, bin=None, log_path=None):
        self.data = data
        self.name = name
        self.flags = list(flags)
        self.port = port
        self.bin = bin or binary()
        self.log_path = log_path or os.path.join(_log_dir(), f"replica-{name}.log")
        self.proc = None
        self.starts = 0

    # --- state -----------------------------------------------------------------------------------

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_status(self):
        return None if self.proc is None else self.proc.poll()

    def health(self, timeout=1.0):
        """Status of GET /_ifmatch/health, or None when the connection fails."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_ifmatch/health",
                                        timeout=timeout) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except (OSError, ValueError):
            return None

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError as e:
            return f"(no log: {e})"

    def _note(self, text):
        with open(self.log_path, "a") as f:
            f.write(f"=== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {text}\n")

    # --- life cycle ------------------------------------------------------------------------------

    def start(self, timeout=15.0):
        """Starts the process (on self.port, or a free port chosen now) and waits up to `timeout`
        seconds for a 200 from /_ifmatch/health. Raises RuntimeError (after printing the log tail)
        when it exits or stays unhealthy. Returns self."""
        if self.running():
            raise RuntimeError(f"replica {self.name} (pid {self.pid}) is still running")
        chosen_here = self.port is None
        for attempt in range(3):
            if chosen_here and (attempt > 0 or self.port is None):
                self.port = _free_port()
            argv = [self.bin, "--listen", f"127.0.0.1:{self.port}", "--data", self.data,
                    *self.flags]
            self._note("starting " + " ".join(argv))
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT,
                                             preexec_fn=_die_with_parent)
            finally:
                log.close()
            self.starts += 1
            _register(self)
            try:
                self.wait_healthy(timeout)
                return self
            except RuntimeError as e:
                status = self.exit_status()
                if status is None:
                    self._kill()
                tail = self.log_tail()
                if chosen_here and status is not None and "in use" in tail.lower() \
                        and attempt < 2:
                    continue
                print(f"replicas: {self.name} did not become healthy: {e}\n"
                      f"------ {self.log_path} tail ------\n{tail}------ end ------",
                      file=sys.stderr, flush=True)
                raise
        raise RuntimeError(f"replica {self.name}: no free port after 3 attempts")

    def wait_healthy(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            status = self.exit_status()
            if status is not None:
                raise RuntimeError(f"replica {self.name} exited with status {status} "
                                   "before becoming healthy")
            last = self.health()
            if last == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"replica {self.name}: no 200 from /_ifmatch/health within "
                           f"{timeout}s (last: {last})")

    def _reap(self, timeout):
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._note(f"pid {self.proc.pid} exited with status {status}")
        return status

    def _kill(self):
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self._reap(10)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; returns the exit status (0: clean shutdown). After `timeout` seconds
        it is SIGKILLed and None is returned. A replica that already exited returns its status."""
        if not self.running():
            return self.exit_status()
        self.proc.send_signal(signal.SIGTERM)
        status = self._reap(timeout)
        if status is None:
            self._note(f"pid {self.proc.pid} ignored SIGTERM for {timeout}s; SIGKILL")
            self._kill()
        return status

    def kill9(self):
        """SIGKILL and wait until the process is gone (raises if it survives 10 s)."""
        if not self.running():
            raise RuntimeError(f"replica {self.name} is not running")
        self.proc.send_signal(signal.SIGKILL)
        if self._reap(10) is None:
            raise RuntimeError(f"replica {self.name} (pid {self.pid}) survived SIGKILL for 10s")

    def restart(self, timeout=15.0):
        """Stops it if it runs, then starts it on the same port and data."""
        if self.running():
            self.stop()
        return self.start(timeout)

    def __repr__(self):
        return f"<Replica {self.name} {self.endpoint} pid={self.pid}>"


def start(data, name="a", flags=(), port=None, timeout=15.0, bin=None):
    """Starts one ifmatch process on `data` (a directory or a postgresql:// URI) with extra
    `flags`, on `port` or a free one; returns a healthy Replica."""
    return Replica(data, name, flags, port, bin).start(timeout)


def help_text(bin=None):
    """`ifmatch --help` (stdout and stderr), for suites that adapt to the flags offered."""
    proc = subprocess.run([bin or binary(), "--help"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=10)
    return proc.stdout.decode(errors="replace")


def stop_all():
    with _all_lock:
        replicas = list(_all)
    for replica in replicas:
        try:
            replica.stop(timeout=5)
        except Exception:  # noqa: BLE001 - cleanup goes on for the others
            pass


_registered = False


def _register(replica):
    """Remembers the replica for stop_all(), registered with atexit at the first start: atexit
    runs its hooks last-in first-out, so replicas stop before a PostgreSQL started earlier."""
    global _registered
    with _all_lock:
        if not _registered:
            _registered = True
            atexit.register(stop_all)
        if replica not in _all:
            _all.append(replica)
