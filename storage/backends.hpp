// The one place that knows the backends: picks one from the --data location and opens it, and
// runs the offline tools (`ifmatch check`, `ifmatch explain --data`) on a location. Linked by
// main.cpp only; server/ sees storage::object_store alone.
#pragma once

#include "storage/object_store.hpp"

#include <functional>
#include <memory>
#include <string>

namespace ifmatch::storage {

struct open_options {
    // A directory, ":memory:" (a throw-away store) or a PostgreSQL URI (postgresql://...).
    std::string location = "./data";
    bool durable_full = false;         // fsync every commit (--durability full)
    int threads = 2;                   // reader threads (SQLite)
    int pg_pool = 8;                   // connections per replica (PostgreSQL)
    int pg_threads = 0;                // threads running them (0: automatic)
    std::string blob_dir;              // PostgreSQL: bodies as files in this shared directory
    // Told once when writes start failing and once when they commit again.
    std::function<void(const std::string &)> on_error;
};

// Whether `location` names a PostgreSQL database (postgresql:// or postgres://).
bool is_postgres_location(const std::string &location);

// Opens (creating if needed) the store at `o.location`. Throws std::runtime_error with a clear
// message when it cannot (including "data directory is in use by another ifmatch").
std::unique_ptr<object_store> open_store(const open_options &o);

// A read-only consistency check of a store location; never modifies anything. Throws
// std::runtime_error when the location holds no ifmatch store.
check_report check_store(const std::string &location, const std::string &blob_dir = {});

// A key's versions and the newest `event_limit` recorded events, read-only.
key_history read_key_history(const std::string &location, const std::string &bucket,
                             const std::string &key, std::size_t event_limit);

} // namespace ifmatch::storage
