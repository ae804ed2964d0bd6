// The one-shot subcommands beside `serve`: `ifmatch check` (data-directory consistency) and
// `ifmatch health [URL]` (container health probe). Each prints its result and returns the
// process exit status. Called from main() before any server thread starts.
#pragma once

#include "server/config.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

// Checks cfg.data read-only (a running server may hold it). Prints a summary to stdout and every
// problem on its own line. Returns 0 when clean, 1 with problems, 2 when it cannot check at all.
int run_check(const config &cfg, const storage::offline_reader &reader);

// GETs cfg.health_url (default: /_ifmatch/health on cfg.listen). Returns 0 on 200, else 1.
int run_health(const config &cfg);

} // namespace ifmatch::server
