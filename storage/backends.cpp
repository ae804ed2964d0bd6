// Backend selection (see backends.hpp): a postgresql:// (or postgres://) URI is the PostgreSQL
// backend's (shared mode); anything else is the SQLite backend's, a directory or ":memory:".
#include "storage/backends.hpp"

#include "storage/postgres/backend.hpp"

#include "storage/sqlite/backend.hpp"
#include "storage/sqlite/check.hpp"

#include <algorithm>

namespace ifmatch::storage {

bool is_postgres_location(const std::string &location) {
    return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::unique_ptr<object_store> open_store(const open_options &o) {
    if (is_postgres_location(o.location)) {
        postgres::options p;
        p.uri = o.location;
        p.pool_size = o.pg_pool;
        p.pool_threads = o.pg_threads;
        p.blob_dir = o.blob_dir;
        p.on_error = o.on_error;
        return std::make_unique<postgres::backend>(std::move(p));
    }
    sqlite::store_options s;
    s.memory = o.location == ":memory:";
    s.data_dir = o.location;
    s.dur = o.durable_full ? sqlite::durability::full : sqlite::durability::normal;
    s.reader_threads = std::max(2, o.threads);
    s.on_error = o.on_error;
    return std::make_unique<sqlite::backend>(std::move(s));
}

check_report check_store(const std::string &location, const std::string &blob_dir) {
    if (is_postgres_location(location)) {
        return postgres::check_database(location, blob_dir);
    }
    return sqlite::check_data_dir(location);
}

key_history read_key_history(const std::string &location, const std::string &bucket,
                             const std::string &key, std::size_t event_limit) {
    if (is_postgres_location(location)) {
        return postgres::read_key_history(location, bucket, key, event_limit);
    }
    return sqlite::read_key_history(location, bucket, key, event_limit);
}

} // namespace ifmatch::storage
