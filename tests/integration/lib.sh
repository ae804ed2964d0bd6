#!/usr/bin/env bash
# Helpers for integration suites written in bash, and the launcher shared with run.sh and lib.py.
#
# Source it from a suite:   source "$IFMATCH_ITEST_DIR/lib.sh"
# run.sh has already started the server and exported IFMATCH_* (see README.md). A suite may stop,
# kill and restart the server on the same data directory with stop_server / kill9_server /
# start_server. The live server's PID is always in $IFMATCH_PIDFILE (and $IFMATCH_PID in this
# shell after start_server); its exit status lands in $IFMATCH_EXITFILE when it exits, whoever
# started it, because every start goes through the same wrapper (ifm_launch_foreground).
#
# Invoked as a command (`bash lib.sh __launch`) it runs that wrapper in the foreground; lib.py
# uses this so that servers started from Python record their exit status the same way.

# Prints a free TCP port on 127.0.0.1 (bind to port 0, read it back, release it).
ifm_free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs the server in the background, writes its PID to $IFMATCH_PIDFILE, waits for it and writes
# its exit status to $IFMATCH_EXITFILE. Blocks until the server exits. Output goes to $IFMATCH_LOG.
# $IFMATCH_LAUNCH_PREFIX, when set, is a command that execs the server with its arguments, so the
# PID stays the server's (e.g. `prlimit --nofile=128:256 --`).
ifm_launch_foreground() {
    : "${IFMATCH_BIN:?}" "${IFMATCH_PORT:?}" "${IFMATCH_DATA:?}" "${IFMATCH_LOG:?}"
    : "${IFMATCH_PIDFILE:?}" "${IFMATCH_EXITFILE:?}"
    local -a extra=() prefix=()
    read -r -a extra <<<"${IFMATCH_EXTRA_FLAGS:-}"
    read -r -a prefix <<<"${IFMATCH_LAUNCH_PREFIX:-}"
    echo "=== $(date -u +%FT%TZ) starting ${prefix[*]} $IFMATCH_BIN" \
         "--listen 127.0.0.1:$IFMATCH_PORT --data $IFMATCH_DATA ${extra[*]}" >>"$IFMATCH_LOG"
    "${prefix[@]}" "$IFMATCH_BIN" --listen "127.0.0.1:$IFMATCH_PORT" --data "$IFMATCH_DATA" \
        "${extra[@]}" </dev/null >>"$IFMATCH_LOG" 2>&1 &
    local pid=$!
    echo "$pid" >"$IFMATCH_PIDFILE.tmp" && mv "$IFMATCH_PIDFILE.tmp" "$IFMATCH_PIDFILE"
    local rc=0
    wait "$pid" || rc=$?
    echo "=== $(date -u +%FT%TZ) server pid $pid exited with status $rc" >>"$IFMATCH_LOG"
    echo "$rc" >"$IFMATCH_EXITFILE.tmp" && mv "$IFMATCH_EXITFILE.tmp" "$IFMATCH_EXITFILE"
}

# True while the server recorded in $IFMATCH_PIDFILE has not exited.
server_running() {
    [[ -s "$IFMATCH_PIDFILE" && ! -e "$IFMATCH_EXITFILE" ]]
}

# Prints the exit status of the last server, or nothing if it has not exited.
server_exit_status() {
    [[ -e "$IFMATCH_EXITFILE" ]] && cat "$IFMATCH_EXITFILE"
}

# wait_healthy [SECONDS]: polls GET /_ifmatch/health until 200 (default 10 s).
# Returns 1 on timeout, 2 if the server exited meanwhile.
wait_healthy() {
    local limit=${1:-10} deadline code
    deadline=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
    while (( $(date +%s%N) / 1000000 < deadline )); do
        if [[ -e "$IFMATCH_EXITFILE" ]]; then
            echo "wait_healthy: server exited with status $(cat "$IFMATCH_EXITFILE")" >&2
            return 2
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
               "http://127.0.0.1:$IFMATCH_PORT/_ifmatch/health" 2>/dev/null) || true
        [[ "$code" == 200 ]] && return 0
        sleep 0.05
    done
    echo "wait_healthy: no 200 from /_ifmatch/health within ${limit}s (last status '$code')" >&2
    return 1
}

# start_server [HEALTH_TIMEOUT]: starts the server on $IFMATCH_PORT / $IFMATCH_DATA and waits until
# healthy. Sets and exports IFMATCH_PID. Fails if a server from this run is still running.
start_server() {
    if server_running; then
        echo "start_server: server $(cat "$IFMATCH_PIDFILE") is still running" >&2
        return 1
    fi
    rm -f "$IFMATCH_PIDFILE" "$IFMATCH_EXITFILE"
    ifm_launch_foreground &
    local i
    for (( i = 0; i < 200; i++ )); do
        [[ -s "$IFMATCH_PIDFILE" ]] && break
        sleep 0.01
    done
    [[ -s "$IFMATCH_PIDFILE" ]] || { echo "start_server: launcher wrote no PID" >&2; return 1; }
    IFMATCH_PID=$(cat "$IFMATCH_PIDFILE")
    export IFMATCH_PID
    wait_healthy "${1:-10}"
}

# _ifm_wait_exit SECONDS: waits for $IFMATCH_EXITFILE; returns 1 on timeout.
_ifm_wait_exit() {
    local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
    while [[ ! -e "$IFMATCH_EXITFILE" ]]; do
        (( $(date +%s%N) / 1000000 < deadline )) || return 1
        sleep 0.02
    done
}

# stop_server [SECONDS]: SIGTERM, wait (default 10 s) for exit. Prints the exit status.
# Returns 0 only if the server exited with status 0; on timeout it is SIGKILLed and 1 is returned.
stop_server() {
    local pid
    pid=$(cat "$IFMATCH_PIDFILE" 2>/dev/null) || { echo "stop_server: no pid file" >&2; return 1; }
    if [[ -e "$IFMATCH_EXITFILE" ]]; then
        echo "stop_server: server $pid had already exited with $(cat "$IFMATCH_EXITFILE")" >&2
        return 1
    fi
    kill -TERM "$pid" 2>/dev/null
    if ! _ifm_wait_exit "${1:-10}"; then
        echo "stop_server: server $pid ignored SIGTERM for ${1:-10}s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
        _ifm_wait_exit 5
        return 1
    fi
    local rc
    rc=$(cat "$IFMATCH_EXITFILE")
    echo "$rc"
    [[ "$rc" == 0 ]]
}

# kill9_server: SIGKILL and wait until the process is gone.
kill9_server() {
    local pid
    pid=$(cat "$IFMATCH_PIDFILE" 2>/dev/null) || { echo "kill9_server: no pid file" >&2; return 1; }
    kill -KILL "$pid" 2>/dev/null
    _ifm_wait_exit 10
}

# --- tiny assertion helpers for bash suites ------------------------------------------------------

IFM_PASSED=0
IFM_FAILED=0

# ok NAME: records a pass.   fail NAME [DETAIL]: records a failure.
ok()   { IFM_PASSED=$((IFM_PASSED + 1)); echo "ok   - $1"; }
fail() { IFM_FAILED=$((IFM_FAILED + 1)); echo "FAIL - $1${2:+: $2}"; }

# check NAME EXPECTED ACTUAL: passes when the two strings are equal.
check() {
    if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# check_match NAME REGEX ACTUAL: passes when ACTUAL matches the extended regex.
check_match() {
    if [[ "$3" =~ $2 ]]; then ok "$1"; else fail "$1" "'$3' does not match /$2/"; fi
}

# finish: prints "N passed, M failed" and exits 1 if anything failed or nothing ran.
finish() {
    echo "$IFM_PASSED passed, $IFM_FAILED failed"
    (( IFM_FAILED == 0 && IFM_PASSED > 0 )) || exit 1
    exit 0
}

# aws_cli_setup SUITE DIR: ends the suite as skipped (exit 0) when the AWS CLI is missing; else
# gives it a private CLI configuration under $IFMATCH_TMP/scratch/DIR (region us-east-1, one
# attempt, 5 s connect time-out) and sets W (that directory) and ep (the --endpoint-url arguments).
aws_cli_setup() {
    if ! command -v aws >/dev/null; then
        echo "=================================================================="
        echo "SKIPPED: aws CLI not installed; suite $1 did not run"
        echo "=================================================================="
        exit 0
    fi
    W="$IFMATCH_TMP/scratch/$2"
    mkdir -p "$W"
    export AWS_CONFIG_FILE="$W/config"
    : >"$AWS_CONFIG_FILE"
    aws configure set default.region us-east-1
    aws configure set default.max_attempts 1
    aws configure set default.retry_mode standard
    aws configure set default.cli_connect_timeout 5
    ep=(--endpoint-url "$IFMATCH_ENDPOINT")
}

# ok_cmd NAME ARGS...: runs `aws --endpoint-url ... ARGS`, expects exit 0; stdout in $OUT.
ok_cmd() {
    local name=$1; shift
    if aws "${ep[@]}" "$@" >"$W/out" 2>"$W/err"; then
        OUT=$(cat "$W/out"); ok "$name"; return 0
    fi
    local rc=$?
    OUT=$(cat "$W/out")
    fail "$name" "aws $* -> exit $rc: $(tail -n 3 "$W/err" | tr '\n' ' ')"
    return 1
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    case "${1:-}" in
        __launch) ifm_launch_foreground ;;
        *) echo "usage: source lib.sh from a suite, or: bash lib.sh __launch" >&2; exit 2 ;;
    esac
fi
