#!/usr/bin/env bash
# Builds ifmatch (release) and runs it. Arguments are passed to the server, e.g.
#   ./scripts/serve.sh --listen 127.0.0.1:9000 --data ./data
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/deps.sh"
cmake -S "$here" -B "$here/build-release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$here/build-release" -j2 --target ifmatch
exec "$here/build-release/server/ifmatch" "$@"
