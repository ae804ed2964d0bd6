// Backend selection (see backends.hpp). Today every location is the SQLite backend's: a
// directory, or ":memory:".
#include "storage/backends.hpp"

#include "storage/sqlite/backend.hpp"
#include "storage/sqlite/check.hpp"

#include <algorithm>

namespace ifmatch::storage {

std::unique_ptr<object_store> open_store(const open_options &o) {
    sqlite::store_options s;
    s.memory = o.location == ":memory:";
    s.data_dir = o.location;
    s.dur = o.durable_full ? sqlite::durability::full : sqlite::durability::normal;
    s.reader_threads = std::max(2, o.threads);
    s.on_error = o.on_error;
    return std::make_unique<sqlite::backend>(std::move(s));
}

check_report check_store(const std::string &location) { return sqlite::check_data_dir(location); }

key_history read_key_history(const std::string &location, const std::string &bucket,
                             const std::string &key, std::size_t event_limit) {
    return sqlite::read_key_history(location, bucket, key, event_limit);
}

} // namespace ifmatch::storage
