// Row helpers of the PostgreSQL backend shared by its operation files: version rows, bodies and
// their references, the key lock and key state of the 409 model (D3). Called from inside a job,
// on a worker's connection.
//
// RULES
// 1. Every write that changes a key first calls lock_key, which takes the key's transaction-level
//    advisory lock (an absent key included) and only then reads the key: in READ COMMITTED each
//    later statement sees every write to the key that committed before the lock was granted.
// 2. A key's mutation is recorded by touch_key with the writing transaction's id; "written or
//    deleted since the request started" is "that id is not visible in the request's snapshot".
// 3. Last-Modified is the database's clock (clock_timestamp() when the lock was granted) plus the
//    store's clock offset, never a replica's clock.
#pragma once

#include "protocol/preconditions.hpp"
#include "storage/codec.hpp"
#include "storage/postgres/pg.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/requests.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage::postgres {

// A write transaction in progress on one connection.
struct write_txn {
    connection &c;
    std::int64_t xid = 0;    // this transaction's id (set by lock_key / begin)
    std::int64_t now_ms = 0; // the store's clock in this transaction
    std::int64_t clock_offset_ms = 0;
    std::vector<std::int64_t> staged; // staged bodies this write adopted: dropped if it fails
};

// Reads the transaction id and the clock (a write that locks no key).
void begin(write_txn &t);

extern const char *const version_columns; // 17 columns, read by read_version
object_version read_version(const rows &r, int row, int col = 0);

std::optional<bucket_info> find_bucket(connection &c, const std::string &name);
// The same, holding the bucket row (FOR KEY SHARE) so it cannot be deleted before commit.
std::optional<bucket_info> find_bucket_for_write(connection &c, const std::string &name);
std::optional<object_version> find_latest(connection &c, const std::string &bucket,
                                          const std::string &key);
std::optional<object_version> find_version(connection &c, const std::string &bucket,
                                           const std::string &key, const std::string &vid);

// A locked key as the write found it.
struct key_lock {
    std::string bucket, key;
    bool found = false; // a key_state row exists
    std::int64_t last_mutation_xid = 0, last_delete_xid = 0;
    mutation_history history;
    std::optional<object_version> current; // the is_latest row
};
key_lock lock_key(write_txn &t, const std::string &bucket, const std::string &key);

// The write context of D3 against the request's start token (waits for its snapshot). Errors:
// SlowDown when the snapshot could not be taken.
result<protocol::write_context> gather_context(const key_lock &k, const bucket_info &b,
                                               const start_token &start, bool server_requires);
result<protocol::write_context> gather_context(const key_lock &k, const bucket_info &b,
                                               const std::string &snapshot_text,
                                               bool server_requires);

current_state state_of_lock(const key_lock &k);

// Inserts a body row with one reference (or adopts a staged one). Returns its id (0: empty).
std::int64_t insert_body(write_txn &t, const staged_body &b);
void add_body_ref(connection &c, std::int64_t body_id);
// Drops one reference; at zero removes the body, its chunks and its parts' references.
void release_body(connection &c, std::int64_t body_id);
// Deletes a staged body that no commit adopted (autocommit; never throws).
void drop_staged(connection &c, std::int64_t body_id);

// Creates the key's new version as the bucket's versioning state requires; fills seq,
// version_id, is_latest, rank_ms. Updates k.current.
void install_version(write_txn &t, const bucket_info &b, key_lock &k, object_version &v);
void remove_version(write_txn &t, key_lock &k, const object_version &v);
// Marks the highest-ranked remaining version current (after the current one was removed).
void promote_latest(write_txn &t, key_lock &k);
// Records the mutation for the 409 model.
void touch_key(write_txn &t, key_lock &k, bool is_delete, bool exists_after);

std::string new_version_id(std::int64_t now_ms, std::int64_t seq);
current_state capture_current(connection &c, const std::string &bucket, const std::string &key);

protocol::s3_error no_such_bucket(const std::string &name);
protocol::s3_error no_such_key(const std::string &key);
protocol::s3_error unavailable();

// "pg:<id>", the staged_body::file token of a chunked body.
std::string staged_token(std::int64_t id);
std::int64_t staged_id(const std::string &token);

inline constexpr std::size_t chunk_size = 1 << 20;

} // namespace ifmatch::storage::postgres
