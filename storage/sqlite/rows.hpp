// Internal row helpers shared by the store's operation files: version rows, bodies and their
// reference counts, key state. Called only from inside a store job (one connection, one thread).
#pragma once

#include "protocol/preconditions.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/store.hpp"
#include "storage/types.hpp"

#include <optional>
#include <string>

namespace ifmatch::storage::sqlite::rows {

// The column list every version query selects, in the order read_version() expects.
extern const char *const version_columns;
// The same list with each column qualified by a table alias ("v" gives "v.seq, v.bucket, ...").
std::string qualified_version_columns(const std::string &alias);
object_version read_version(statement &st);

std::optional<bucket_info> find_bucket(connection &db, const std::string &name);
// The same inside a write job, through the group's bucket memo (write_txn::bucket_memo).
std::optional<bucket_info> find_bucket(write_txn &t, const std::string &name);
std::optional<object_version> find_latest(connection &db, const std::string &bucket,
                                          const std::string &key);
// The version row with this seq.
std::optional<object_version> find_seq(connection &db, std::int64_t seq);
std::optional<object_version> find_version(connection &db, const std::string &bucket,
                                           const std::string &key, const std::string &vid);

// Inserts a body row with one reference; adopts the staged file. Returns its id.
std::int64_t insert_body(write_txn &t, const staged_body &b);
void add_body_ref(connection &db, std::int64_t body_id);
// Drops one reference; at zero removes the row (and its parts' references) and reclaims files.
void release_body(write_txn &t, std::int64_t body_id);

// Removes one version row and releases its body.
void remove_version(write_txn &t, const object_version &v);

// Creates the new current version of a key as the bucket's versioning state requires (Enabled:
// a new id, current unless a version with a higher rank_ms exists (R-M11); otherwise the `null`
// version is replaced and the new one is current). Fills seq, version_id, is_latest, rank_ms.
void install_version(write_txn &t, const bucket_info &b, object_version &v);

// Marks the highest-ranked remaining version of a key current (after the current one was removed).
void promote_latest(write_txn &t, const std::string &bucket, const std::string &key);

// The key's current version as this job sees it (including changes touch_key has not written).
std::optional<object_version> find_current(write_txn &t, const std::string &bucket,
                                           const std::string &key);

// The key's key_state row as this job sees it (read once, then kept in t.key_state_seen).
// RULE: install_version, remove_version and promote_latest change its latest_seq in memory;
// the job must call touch_key for that key, which writes the row, before it changes another
// key (key_state_of throws std::logic_error otherwise, which fails the whole group).
write_txn::key_state_row &key_state_of(write_txn &t, const std::string &bucket,
                                       const std::string &key);

// Records a mutation of a key for the 409 model, and writes its key_state row.
void touch_key(write_txn &t, const std::string &bucket, const std::string &key, std::int64_t seq,
               bool is_delete, bool exists_after);

// Gathers the write context of spec D3 inside the writer's transaction.
protocol::write_context gather_context(write_txn &t, const bucket_info &b,
                                       const std::string &key, std::int64_t start_seq,
                                       bool server_requires);

std::string new_version_id(std::int64_t now_ms, std::int64_t seq);

protocol::s3_error no_such_bucket(const std::string &name);
protocol::s3_error no_such_key(const std::string &key);

} // namespace ifmatch::storage::sqlite::rows
