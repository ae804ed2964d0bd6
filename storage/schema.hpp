// The database schema and connection settings. Called by the store when it opens a data
// directory; not thread-safe (runs before any other thread starts).
#pragma once

#include "storage/sqlite.hpp"

namespace ifmatch::storage {

enum class durability { normal, full, none };

// Creates or migrates the schema (PRAGMA user_version) on the writer connection.
void migrate(connection &db);

// WAL, synchronous per durability, foreign keys, cache size. For every connection.
void configure(connection &db, durability d, bool writer);

} // namespace ifmatch::storage
