#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test:
#   1. layering lint (scripts/lint_layers.sh: protocol/ does no I/O, server/ sees the storage
#      interface only);
#   2. gcc build: unit tests and every integration suite against the real binary (CTest);
#   3. clang ASan+UBSan build: unit tests and the conditional and race suites;
#   4. the Docker check (docker/verify.sh: Docker, or rootful podman where there is no engine):
#      the image alone, then the shared-mode compose file (two replicas, PostgreSQL, HAProxy);
#   5. clang libFuzzer build: every tests/fuzz target for 5 s on its seed corpus.
# While iterating, IFMATCH_SKIP_SANITIZE=1, IFMATCH_SKIP_DOCKER=1, IFMATCH_SKIP_FUZZ=1 skip steps
# (IFMATCH_SKIP_DOCKER_SHARED=1 only the shared-mode part of the Docker check).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
"$here/scripts/deps.sh" --test
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ifmatch-ccache}"
export CCACHE_MAXSIZE=5G
# Hash paths relative to the checkout, so that fresh clones (CI) reuse earlier compilations.
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=1

echo "== layering lint"
scripts/lint_layers.sh

echo "== gcc build"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIFMATCH_WERROR=ON >/dev/null
cmake --build build-test -j2
status=0
(cd build-test && ctest --output-on-failure -j2 --timeout 900) || status=$?

if [[ "${IFMATCH_SKIP_SANITIZE:-0}" != "1" ]]; then
  echo "== clang ASan+UBSan build"
  CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
    -DIFMATCH_SANITIZE=address,undefined >/dev/null
  cmake --build build-asan -j2
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  export IFMATCH_STRICT_EXIT=1
  export IFMATCH_WALK_STRIDE=2 # the fault walk tests every second fault point here
  (cd build-asan && ctest --output-on-failure -L sanitize --timeout 900) || status=$?
fi
if [[ "${IFMATCH_SKIP_TSAN:-0}" != "1" ]]; then
  echo "== gcc TSan build: unit tests and the race suites"
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIFMATCH_SANITIZE=thread >/dev/null
  cmake --build build-tsan -j2 --target ifmatch unit_tests
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  export IFMATCH_STRICT_EXIT=1
  export IFMATCH_WALK_STRIDE=2
  (cd build-tsan && ctest --output-on-failure -L tsan --timeout 900) || status=$?
fi
if [[ "${IFMATCH_SKIP_DOCKER:-0}" != "1" ]]; then
  echo "== Docker check: build the image, run it, conditional PUTs, SIGTERM, restart on the volume;"
  echo "   shared mode: compose.shared.yaml, conditional PUTs through HAProxy, one replica killed"
  "$here/scripts/docker-check.sh" || status=$?
fi
if [[ "${IFMATCH_SKIP_FUZZ:-0}" != "1" ]]; then
  echo "== clang libFuzzer build (protocol library and fuzz targets only), 5 s per target"
  CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DIFMATCH_FUZZ=ON \
    -DIFMATCH_SANITIZE=address,undefined >/dev/null
  cmake --build build-fuzz -j2 --target fuzz_targets
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  unset IFMATCH_STRICT_EXIT
  (cd build-fuzz && ctest --output-on-failure -L fuzz -j2 --timeout 120) || status=$?
fi
exit $status
