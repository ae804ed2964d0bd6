// What ifmatch remembers to explain conditional outcomes (spec D9): the state of a key at the
// moment a condition was decided, the key's version history with the writer of each version, and
// the persisted tail of recorded outcome events. Reads and writes run as ordinary store jobs.
#pragma once

#include "storage/sqlite/store.hpp"
#include "storage/requests.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ifmatch::storage::sqlite {

// Reads the current version of bucket/key on `db` (inside a store job, any connection).
current_state capture_current(connection &db, const std::string &bucket, const std::string &key);

// Appends events and keeps only the newest `keep` rows. Runs on the writer.
result<bool> append_events(write_txn &t, const std::vector<event_row> &rows, std::size_t keep);
// The newest `limit` events, oldest first.
result<std::vector<event_row>> recent_events(read_txn &t, std::size_t limit);
std::vector<event_row> recent_events(connection &db, std::size_t limit);

// Every version of a key (object versions and delete markers), oldest first. Errors: NoSuchBucket.
result<std::vector<object_version>> key_versions(read_txn &t, const std::string &bucket,
                                                 const std::string &key);
std::vector<object_version> key_versions(connection &db, const std::string &bucket,
                                         const std::string &key);

// The keys of a bucket (current version of each, delete markers included), by key, at most
// `limit` after `after`. Errors: NoSuchBucket.
result<std::vector<object_version>> bucket_keys(read_txn &t, const std::string &bucket,
                                                const std::string &after, std::size_t limit);

// Opens an existing data directory's database read-only, without the writer lock (for
// `ifmatch explain --data`). Throws std::runtime_error when it does not exist.
std::unique_ptr<connection> open_read_only(const std::string &data_dir);

} // namespace ifmatch::storage::sqlite
