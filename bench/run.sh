#!/usr/bin/env bash
# bench/run.sh [--quick] [--allow-no-s3rver] [--no-s3rver] [--no-shared] [--duration SECONDS]
#              [--out DIR] [--ifmatch BINARY]
#
# Builds ifmatch (Release, bench/.cache/build-ifmatch), the ceiling server and the load generator
# (bench/.cache/build-tools), installs s3rver from npm into bench/.cache/s3rver, then runs every
# workload against all of them on loopback (bench/bench.py), then shared mode: ifmatch on SQLite
# against one and two replicas on a throwaway PostgreSQL (bench/shared.py, PostgreSQL started by
# tests/integration/pgserver.py; skipped with a note when PostgreSQL 15 is not installed), and
# writes RESULTS.md: to bench/ for a full run, to bench/.cache/ for --quick (1 round of ~1 s per
# workload, 0.2 s in shared mode; proves the tooling works).
# --ifmatch BINARY: benchmark that binary instead of building a Release one (CTest's bench.quick).
# --allow-no-s3rver: when npm cannot install s3rver (offline), run without it instead of failing.
# --no-shared: leave shared mode (PostgreSQL) out.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cache="$here/.cache"
command_line="bench/run.sh${*:+ $*}"
quick=0 allow_no_s3rver=0 no_s3rver=0 out="" bin_ifmatch="" py_args=()
while (($#)); do
    case "$1" in
        --quick) quick=1; py_args+=(--quick) ;;
        --allow-no-s3rver) allow_no_s3rver=1 ;;
        --no-s3rver) no_s3rver=1 ;;
        --no-shared) py_args+=(--no-shared) ;;
        --duration) py_args+=(--duration "$2"); shift ;;
        --out) out="$2"; shift ;;
        --ifmatch) bin_ifmatch="$(realpath "$2")"; shift ;;
        *) echo "usage: $0 [--quick] [--allow-no-s3rver] [--no-s3rver] [--no-shared] [--duration S]" \
                "[--out DIR] [--ifmatch BINARY]" >&2
           exit 2 ;;
    esac
    shift
done
[[ -n "$out" ]] || out=$([[ $quick == 1 ]] && echo "$cache" || echo "$here")
mkdir -p "$cache"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ifmatch-ccache}"

if [[ -z "$bin_ifmatch" ]]; then
    echo "== build ifmatch (Release)"
    cmake -S "$root" -B "$cache/build-ifmatch" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
        >/dev/null
    cmake --build "$cache/build-ifmatch" -j2 --target ifmatch >/dev/null
    bin_ifmatch="$cache/build-ifmatch/server/ifmatch"
fi
echo "== build the ceiling server and the load generator"
cmake -S "$here" -B "$cache/build-tools" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$cache/build-tools" -j2 >/dev/null

s3rver_js="$cache/s3rver/node_modules/s3rver/bin/s3rver.js"
if [[ $no_s3rver == 1 ]]; then
    s3rver_js=""
elif [[ ! -f "$s3rver_js" ]]; then
    echo "== npm install s3rver"
    if ! timeout 60 npm install --prefix "$cache/s3rver" --no-audit --no-fund --loglevel=error \
            s3rver@latest; then
        if [[ $allow_no_s3rver == 1 ]]; then
            echo "WARNING: npm install s3rver failed; running without s3rver"
            s3rver_js=""
        else
            echo "npm install s3rver failed (use --allow-no-s3rver to run without it)" >&2
            exit 1
        fi
    fi
fi
notes=()
if [[ -n "$s3rver_js" ]]; then
    v=$(node -p "require('$cache/s3rver/node_modules/s3rver/package.json').version")
    notes+=(--note "s3rver $v (npm), node $(node --version), started with --openssl-legacy-provider.")
fi
echo "== run"
exec python3 "$here/bench.py" --ifmatch "$bin_ifmatch" \
    --ceiling "$cache/build-tools/ceiling_server" --loadgen "$cache/build-tools/loadgen" \
    --s3rver "$s3rver_js" --cache "$cache" --out "$out" \
    --command-line "$command_line" \
    "${notes[@]}" "${py_args[@]}"
