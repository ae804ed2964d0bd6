// The PostgreSQL backend's schema and its migrations (see schema.cpp).
#pragma once

#include "storage/postgres/pg.hpp"

namespace ifmatch::storage::postgres {

inline constexpr int current_schema_version = 3;

// Brings the database to current_schema_version under an advisory lock, so replicas starting
// together migrate once. Throws std::runtime_error when the schema is newer than this build.
void migrate(connection &c);
// The schema version, 0 when the database holds no ifmatch store.
int schema_version(connection &c);

} // namespace ifmatch::storage::postgres
