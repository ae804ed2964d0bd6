// Row helpers of the PostgreSQL backend shared by its operation files: version rows, bodies and
// their references, the key lock and key state of the 409 model (D3). Called from inside a job,
// on the job's connection; the ones that wait for PostgreSQL are coroutines (task). Functions named
// queue_* only queue their statements (pg.hpp): they run with the next round trip, in order, and
// one whose answer is needed later reads it from the rows it was given. Writes whose answers
// nothing needs stay queued until COMMIT carries them.
//
// RULES
// 1. Every write that changes a key first calls lock_key, which takes the key's transaction-level
//    advisory lock (an absent key included) and only then reads the key: in READ COMMITTED each
//    later statement sees every write to the key that committed before the lock was granted.
// 2. A key's mutation is recorded by touch_key with the writing transaction's id; "written or
//    deleted since the request started" is "that id is not visible in the request's snapshot".
// 3. Last-Modified is the database's clock (clock_timestamp() when the lock was granted) plus the
//    store's clock offset, never a replica's clock.
// 4. A write decides from what one round trip read after the lock (the key's rows, and those of
//    its 'null' version), so it needs no answer from the writes it then queues, except to learn
//    whether a released body lost its last reference (release_body).
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
task<void> begin(write_txn &t);

extern const char *const version_columns; // 17 columns, read by read_version
object_version read_version(const rows &r, int row, int col = 0);

task<std::optional<bucket_info>> find_bucket(connection &c, const std::string &name);
// The same, holding the bucket row (FOR KEY SHARE) so it cannot be deleted before commit.
task<std::optional<bucket_info>> find_bucket_for_write(connection &c, const std::string &name);
// find_bucket_for_write in two halves: the query, queued, and the bucket read from its rows.
void queue_bucket_for_write(connection &c, const std::string &name, rows *into);
std::optional<bucket_info> bucket_of(const rows &r);
task<std::optional<object_version>> find_latest(connection &c, const std::string &bucket,
                                                const std::string &key);
task<std::optional<object_version>> find_version(connection &c, const std::string &bucket,
                                                 const std::string &key, const std::string &vid);
// find_version (with `vid`) or find_latest (without) in two halves.
void queue_version(connection &c, const std::string &bucket, const std::string &key,
                   const std::optional<std::string> &vid, rows *into);
std::optional<object_version> version_of(const rows &r);

// The key's version whose id is 'null' (an unversioned write replaces it).
struct null_version {
    std::int64_t seq = 0; // 0: installed by this transaction
    std::int64_t body_id = 0;
};

// A locked key as the write found it.
struct key_lock {
    std::string bucket, key;
    bool found = false; // a key_state row exists
    std::int64_t last_mutation_xid = 0, last_delete_xid = 0;
    mutation_history history;
    std::optional<object_version> current; // the is_latest row
    std::optional<null_version> null;      // the 'null' version, current or not
};
task<key_lock> lock_key(write_txn &t, const std::string &bucket, const std::string &key);
// lock_key in two halves, so that the lock shares a round trip with the statements queued before
// it (the transaction's BEGIN, the bucket's row) and after it: the lock and the key's read, queued
// in this order (RULE 1), and the key_lock read from their rows once they ran.
struct key_rows {
    rows lock, state;
};
void queue_lock_key(write_txn &t, const std::string &bucket, const std::string &key,
                    key_rows &into);
key_lock locked_key(write_txn &t, const std::string &bucket, const std::string &key,
                    const key_rows &r);

// The write context of D3 against the request's start token (waits for its snapshot). Errors:
// SlowDown when the snapshot could not be taken.
task<result<protocol::write_context>> gather_context(const key_lock &k, const bucket_info &b,
                                                     const start_token &start,
                                                     bool server_requires);
// The same against a snapshot given as text (the one a multipart upload recorded).
result<protocol::write_context> gather_context_at(const key_lock &k, const bucket_info &b,
                                                  const std::string &snapshot_text,
                                                  bool server_requires);

current_state state_of_lock(const key_lock &k);

// Inserts a body row with one reference (or adopts a staged one). Returns its id.
task<std::int64_t> store_body(write_txn &t, const staged_body &b);
// insert_body in two halves, so that the decision needs no round trip of its own: queue_body_slot
// reserves the new row's id (or locks the staged row, so it stays until the commit) with the
// key's lock; insert_body then queues the insertion (or adoption) and answers the id. Throws when
// the staged body is gone.
void queue_body_slot(write_txn &t, const staged_body &b, rows *into);
std::int64_t insert_body(write_txn &t, const staged_body &b, const rows &slot);
// Queues one more reference to the body.
void add_body_ref(connection &c, std::int64_t body_id);
// Drops one reference (one round trip, to learn whether it was the last); at zero removes the
// body, its chunks and its parts' references (queued, except the parts' list).
task<void> release_body(connection &c, std::int64_t body_id);
// Deletes a staged body that no commit adopted (autocommit; never throws).
task<void> drop_staged(connection &c, std::int64_t body_id);
// The same, queued (after a ROLLBACK; its answer is not needed).
void queue_drop_staged(connection &c, std::int64_t body_id);

// Creates (queues) the key's new version as the bucket's versioning state requires; fills
// version_id, is_latest, rank_ms, and leaves seq 0 (the row's seq is not read back: nothing
// addresses a version installed in the same transaction by seq). Updates k.current and k.null.
task<void> install_version(write_txn &t, const bucket_info &b, key_lock &k, object_version &v);
task<void> remove_version(write_txn &t, key_lock &k, const object_version &v);
// Marks the highest-ranked remaining version current (after the current one was removed).
task<void> promote_latest(write_txn &t, key_lock &k);
// Records (queues) the mutation for the 409 model.
void touch_key(write_txn &t, key_lock &k, bool is_delete, bool exists_after);

std::string new_version_id(std::int64_t now_ms, std::int64_t seq);

// Request bytes (a User-Agent, say) as PostgreSQL text, which must be UTF-8: valid UTF-8 as it
// is, anything else read as ISO-8859-1, the historical charset of HTTP field values.
std::string as_text(const std::string &s);
task<current_state> capture_current(connection &c, const std::string &bucket,
                                    const std::string &key);

protocol::s3_error no_such_bucket(const std::string &name);
protocol::s3_error no_such_key(const std::string &key);
protocol::s3_error unavailable();

// "pg:<id>", the staged_body::file token of a chunked body.
std::string staged_token(std::int64_t id);
std::int64_t staged_id(const std::string &token);

inline constexpr std::size_t chunk_size = 1 << 20;

} // namespace ifmatch::storage::postgres
