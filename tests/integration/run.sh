#!/usr/bin/env bash
# run.sh IFMATCH_BINARY SUITE_FILE
#
# Starts ifmatch on a free loopback port with a fresh temporary data directory, runs one suite
# against it (.mjs -> node, .py -> python3, .sh -> bash) and always stops the server by PID.
# The exit status is the suite's. On failure the tail of the server log is printed.
# Environment knobs: IFMATCH_SUITE_TIMEOUT (seconds, default 600), IFMATCH_KEEP_TMP=1 (keep the
# temporary directory), TMPDIR (where the temporary directory goes).
set -uo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 IFMATCH_BINARY SUITE_FILE" >&2
    exit 2
fi

ITEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$(realpath "$1")
SUITE=$(realpath "$2")
SUITE_NAME=$(basename "$SUITE")

if [[ ! -x "$BIN" ]]; then
    echo "run.sh: $BIN is not an executable file" >&2
    exit 2
fi
if [[ ! -f "$SUITE" ]]; then
    echo "run.sh: suite $SUITE not found" >&2
    exit 2
fi

# Choose the interpreter first, so that a missing tool costs no server start.
case "$SUITE" in
    *.mjs|*.js) RUNNER=(node) ;;
    *.py)       RUNNER=(python3) ;;
    *.sh)       RUNNER=(bash) ;;
    *) echo "run.sh: do not know how to run $SUITE_NAME (expected .mjs, .py or .sh)" >&2; exit 2 ;;
esac
if ! command -v "${RUNNER[0]}" >/dev/null; then
    echo "=================================================================="
    echo "SKIPPED: ${RUNNER[0]} not installed; suite $SUITE_NAME did not run"
    echo "=================================================================="
    exit 0
fi

# The JS suites need the pinned SDK from package-lock.json. Install it once (under a lock, since
# CTest may run several suites at a time) when node_modules is missing or older than the lock file.
ensure_node_modules() {
    local marker="$ITEST_DIR/node_modules/.package-lock.json"
    if [[ -f "$marker" && ! "$ITEST_DIR/package-lock.json" -nt "$marker" ]]; then
        return 0
    fi
    (
        flock 9
        if [[ ! -f "$marker" || "$ITEST_DIR/package-lock.json" -nt "$marker" ]]; then
            echo "run.sh: installing JS dependencies with npm ci" >&2
            cd "$ITEST_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2
        fi
    ) 9>"$ITEST_DIR/.npm-ci.lock"
}
if [[ "${RUNNER[0]}" == node ]]; then
    if ! ensure_node_modules; then
        echo "run.sh: npm ci failed in $ITEST_DIR; cannot run $SUITE_NAME" >&2
        exit 1
    fi
fi

# A suite may ask for extra server flags with a comment line near its top:
#   # ifmatch-flags: --access-key test --secret-key test
# ($IFMATCH_TMP in the flags is expanded once the temporary directory exists.)
IFMATCH_EXTRA_FLAGS=$(head -n 5 "$SUITE" | sed -n 's/^.*ifmatch-flags:[[:space:]]*//p' | head -n 1)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ifmatch-itest.XXXXXX")
IFMATCH_EXTRA_FLAGS=${IFMATCH_EXTRA_FLAGS//\$IFMATCH_TMP/$TMP}
export IFMATCH_EXTRA_FLAGS
export IFMATCH_TMP="$TMP"
export IFMATCH_BIN="$BIN"
export IFMATCH_DATA="$TMP/data"
export IFMATCH_LOG="$TMP/server.log"
export IFMATCH_PIDFILE="$TMP/server.pid"
export IFMATCH_EXITFILE="$TMP/server.exit"
export IFMATCH_ITEST_DIR="$ITEST_DIR"
mkdir -p "$IFMATCH_DATA" "$TMP/scratch"
: >"$IFMATCH_LOG"

# Keep the suites away from any real AWS configuration: drop every AWS_* variable (profiles,
# endpoints, CA bundles, session tokens) and point the config files at /dev/null.
for name in $(compgen -e); do
    [[ "$name" == AWS_* ]] && unset "$name"
done
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER=""
export PYTHONPATH="$ITEST_DIR${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
export PYTHONDONTWRITEBYTECODE=1

# shellcheck source=lib.sh
source "$ITEST_DIR/lib.sh"

SUITE_RC=1
SUITE_PID=
cleanup() {
    trap - EXIT INT TERM
    if [[ -n "$SUITE_PID" ]] && kill -0 "$SUITE_PID" 2>/dev/null; then
        kill -TERM "$SUITE_PID" 2>/dev/null
        wait "$SUITE_PID" 2>/dev/null
    fi
    if server_running; then
        local status
        if status=$(stop_server 10); then
            :
        else
            echo "run.sh: WARNING: server did not exit cleanly on SIGTERM (status '${status}')" >&2
            # Sanitizer runs: a report at exit (leak, UB) makes the exit status non-zero.
            if [[ "${IFMATCH_STRICT_EXIT:-0}" == 1 && "$SUITE_RC" == 0 ]]; then
                echo "run.sh: FAIL: IFMATCH_STRICT_EXIT=1 and the server exited with '${status}'" >&2
                SUITE_RC=1
            fi
        fi
    fi
    if [[ "$SUITE_RC" != 0 ]]; then
        echo "------ server log tail ($IFMATCH_LOG) ------" >&2
        tail -n 60 "$IFMATCH_LOG" >&2
        echo "------ end of server log ------" >&2
    fi
    if [[ "${IFMATCH_KEEP_TMP:-0}" == 1 ]]; then
        echo "run.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$SUITE_RC"
}
trap cleanup EXIT
trap 'SUITE_RC=130; exit 130' INT
trap 'SUITE_RC=143; exit 143' TERM

# Start the server. A port can be taken between choosing and binding it; retry a few times then.
started=0
for attempt in 1 2 3; do
    IFMATCH_PORT=$(ifm_free_port)
    export IFMATCH_PORT
    export IFMATCH_ENDPOINT="http://127.0.0.1:$IFMATCH_PORT"
    if start_server 10; then
        started=1
        break
    fi
    if server_running || ! grep -qi 'in use' "$IFMATCH_LOG"; then
        break
    fi
    echo "run.sh: port $IFMATCH_PORT was taken (attempt $attempt); retrying" >&2
done
if [[ "$started" != 1 ]]; then
    echo "run.sh: server did not become healthy; not running $SUITE_NAME" >&2
    SUITE_RC=1
    exit 1
fi
export IFMATCH_PID
echo "run.sh: ifmatch pid $IFMATCH_PID listening on $IFMATCH_ENDPOINT, data $IFMATCH_DATA"
echo "run.sh: running $SUITE_NAME"

SUITE_RC=0
cd "$TMP/scratch" || exit 1
# The suite runs in the background so that a TERM or INT to run.sh is handled at once.
timeout --kill-after=10 "${IFMATCH_SUITE_TIMEOUT:-600}" "${RUNNER[@]}" "$SUITE" &
SUITE_PID=$!
wait "$SUITE_PID" || SUITE_RC=$?
SUITE_PID=
if [[ "$SUITE_RC" == 124 ]]; then
    echo "run.sh: $SUITE_NAME timed out after ${IFMATCH_SUITE_TIMEOUT:-600}s" >&2
fi
echo "run.sh: $SUITE_NAME exited with status $SUITE_RC"
exit "$SUITE_RC"
