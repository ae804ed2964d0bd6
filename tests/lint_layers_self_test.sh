#!/usr/bin/env bash
# Shows scripts/lint_layers.sh fails on each kind of violation: copies the three layers to a
# scratch directory, plants one violation at a time and expects the lint to reject it.
set -uo pipefail
src="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/protocol" "$src/storage" "$src/server" "$src/scripts" "$tmp/"
"$tmp/scripts/lint_layers.sh" "$tmp" >/dev/null || { echo "lint fails on the clean tree"; exit 1; }
plant() { # FILE LINE: the lint must fail with LINE appended to FILE, and pass again without it
  local f="$tmp/$1"
  cp "$f" "$f.orig"
  printf '%s\n' "$2" >> "$f"
  if "$tmp/scripts/lint_layers.sh" "$tmp" >/dev/null; then
    echo "not caught: '$2' in $1"; exit 1
  fi
  mv "$f.orig" "$f"
}
plant server/router.cpp '#include "storage/sqlite/store.hpp"'
plant server/router.cpp '#include <sqlite3.h>'
plant server/router.cpp 'void f(ifmatch::storage::sqlite::write_txn &t);'
plant server/router.cpp 'static const char *q = "SELECT etag FROM versions";'
plant server/router.cpp 'static const char *q = "PRAGMA page_count";'
plant server/session.cpp 'auto n = ::pread(fd, buf, 1, 0);'
plant server/session.cpp 'storage::store *s = nullptr;'
plant server/router.cpp '#include "storage/backends.hpp"'
plant storage/object_store.hpp '#include "storage/sqlite/store.hpp"'
plant protocol/etag.cpp '#include <boost/asio/post.hpp>'
plant storage/sqlite/store.cpp '#include <boost/asio/post.hpp>'
plant storage/object_store.hpp '#include <boost/asio/io_context.hpp>'
plant storage/postgres/pg.cpp '#include <boost/beast/http.hpp>'
plant server/CMakeLists.txt 'target_link_libraries(ifmatch_server PRIVATE SQLite::SQLite3)'
"$tmp/scripts/lint_layers.sh" "$tmp" >/dev/null || { echo "lint fails after the plants were removed"; exit 1; }
echo "lint self-test: every planted violation was caught"
