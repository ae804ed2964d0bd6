// `ifmatch explain`: prints one key's version history and recorded conditional outcomes as a
// timeline, from a data directory (read-only, no writer lock) or from a running server's API.
#pragma once

#include "storage/object_store.hpp"

namespace ifmatch::server {

// argv[1] == "explain". Returns the process exit code (0 ok, 1 failure, 2 usage).
int run_explain(int argc, char **argv, const storage::offline_reader &reader);

} // namespace ifmatch::server
