#!/usr/bin/env bash
# The layering lint (docs/architecture.md §1): protocol/ does no I/O; storage/'s interface names no
# backend; server/ speaks to storage::object_store only -- no SQL, no SQLite or backend types, no
# backend headers, no descriptors of stored bodies -- and its library links no backend.
# Usage: scripts/lint_layers.sh [ROOT]   (exit 1 and one line per violation when the rules break)
set -uo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root" || exit 2
bad=0
fail() { echo "layering: $*"; bad=1; }
# grep -rnE PATTERN DIR... minus comment-only lines
hits() { local pat="$1"; shift; grep -rnE --include='*.cpp' --include='*.hpp' "$pat" "$@" 2>/dev/null \
         | grep -vE '^[^:]+:[0-9]+:\s*//' ; }

while read -r h; do fail "protocol/ must not do I/O or name another layer: $h"; done < <(
  hits '#include <(boost/asio|boost/beast|sqlite3\.h|libpq-fe\.h)|#include "(storage|server)/' protocol)
# A backend may run its own I/O context (the PostgreSQL backend drives libpq on Asio); the
# interface and the SQLite backend stay synchronous, and no storage code speaks HTTP.
while read -r h; do fail "storage/ must not include Beast: $h"; done < <(hits '#include <boost/beast' storage)
while read -r h; do fail "storage/ outside storage/postgres/ must not include Asio: $h"; done < <(
  hits '#include <boost/asio' storage | grep -v '^storage/postgres/')
# The interface (storage/*.hpp, *.cpp) names no backend; backends.* is the one selector.
while read -r h; do fail "the storage interface must not name a backend: $h"; done < <(
  hits '#include <(sqlite3\.h|libpq-fe\.h)>|#include "storage/(sqlite|postgres)/|\bsqlite3?_|\bPG(conn|result)\b' \
    $(ls storage/*.hpp storage/*.cpp | grep -v '^storage/backends\.'))
# server/: the interface only.
while read -r h; do fail "server/ must not name a backend: $h"; done < <(
  hits '#include <(sqlite3\.h|libpq-fe\.h)>|#include "storage/(sqlite|postgres)/|\bsqlite3?(::|_)|\bPG(conn|result)\b|\b(write_txn|read_txn|blob_store|blob_writer|read_cache|store_options)\b|storage::(store|connection|query|statement)\b' server)
while read -r h; do fail "server/ must not hold SQL: $h"; done < <(
  hits '"[^"]*\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|PRAGMA|BEGIN IMMEDIATE|COMMIT)\b' server)
while read -r h; do fail "server/ must not read stored bodies through descriptors: $h"; done < <(
  hits '\bpread\b|\.fd\b|->fd\b' server)
while read -r h; do fail "only main.cpp picks a backend: $h"; done < <(
  hits '#include "storage/backends\.hpp"' server | grep -v '^server/main\.cpp:')
# The server library links the interface library only (the executable adds the backends).
if grep -nE 'SQLite::|ifmatch_storage_sqlite|ifmatch_backends|PostgreSQL::|pq\b' server/CMakeLists.txt \
   | grep -vE 'target_link_libraries\(ifmatch PRIVATE' | grep -q .; then
  fail "server/CMakeLists.txt: ifmatch_server must link ifmatch_storage only"
fi
exit $bad
