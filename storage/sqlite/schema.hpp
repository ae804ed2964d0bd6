// The database schema and connection settings. Called by the store when it opens a data
// directory; not thread-safe (runs before any other thread starts).
#pragma once

#include "storage/sqlite/sqlite.hpp"

#include <string>

namespace ifmatch::storage::sqlite {

enum class durability { normal, full, none };

// The newest schema this build knows (PRAGMA user_version after migrate()).
constexpr int current_schema_version = 3;

// The database's PRAGMA user_version.
int schema_version(connection &db);

// Throws std::runtime_error when the database was written by a newer ifmatch (user_version
// above current_schema_version): opening it could corrupt data this build does not understand.
void require_known_schema(connection &db, const std::string &where);

// Creates or migrates the schema (PRAGMA user_version) on the writer connection. Throws
// std::runtime_error, without touching the database, when its schema is newer than this build's.
void migrate(connection &db);
// The same, stopping at schema version `target` (tests build old layouts with it).
void migrate_to(connection &db, int target);

// WAL, synchronous per durability, foreign keys, cache size. For every connection.
void configure(connection &db, durability d, bool writer);

} // namespace ifmatch::storage::sqlite
