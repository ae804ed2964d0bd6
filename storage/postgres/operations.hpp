// The PostgreSQL backend's operations: plain functions run by backend.cpp, writes inside one
// transaction (write_txn; rolled back when they answer an error), reads on a job's connection;
// coroutines on the pool's I/O context (pool.hpp). Preconditions are decided here, at commit, by
// protocol's evaluators (D3/D4), never by SQL.
#pragma once

#include "storage/postgres/bodies.hpp"
#include "storage/postgres/rows.hpp"
#include "storage/requests.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage::postgres {

using against_fn = std::optional<current_state> *;

// ---- buckets (buckets.cpp) --------------------------------------------------------------------
task<result<create_bucket_result>> create_bucket(write_txn &t, const std::string &name,
                                                 const std::string &region, const string_pairs &s);
task<result<bool>> delete_bucket(write_txn &t, const std::string &name);
task<result<bucket_info>> get_bucket(connection &c, const std::string &name);
task<result<std::vector<bucket_info>>> list_buckets(connection &c);
task<result<bucket_config>> get_bucket_config(connection &c, const std::string &name);
// get_bucket_config in two halves, so that its query can share a round trip: the query, queued on
// `c` (its rows go to `into`), and the configuration read from those rows (NoSuchBucket).
void queue_bucket_config(connection &c, const std::string &name, rows *into);
result<bucket_config> bucket_config_of(const rows &r, const std::string &name);
// Sets one column of the bucket row ("versioning", "require_conditions", "policy").
// `column` and `value` are taken by value: callers pass temporaries to the coroutine.
task<result<bool>> set_bucket_column(write_txn &t, const std::string &name, std::string column,
                                     std::string value);
task<result<bool>> set_bucket_setting(write_txn &t, const std::string &name,
                                      const std::string &setting, const std::string &value);

// ---- object writes (objects.cpp, copy.cpp) ----------------------------------------------------
// Installs a new version of the locked key with `f` and `body_id` (whose reference the caller
// already holds) and records the mutation (touch_key).
task<write_result> install_new_version(write_txn &t, const bucket_info &b, key_lock &k,
                                       const version_fields &f, std::int64_t body_id);
task<result<write_result>> put_object(write_txn &t, const put_request &r, against_fn against);
task<result<write_result>> copy_object(write_txn &t, const copy_request &r, against_fn against);
task<result<delete_result>> delete_object(write_txn &t, const delete_request &r,
                                          against_fn against);
task<result<object_version>> set_version_extra(write_txn &t, const version_extra_request &r);

// ---- object reads (objects.cpp, lists.cpp) ----------------------------------------------------
// What a GET reads, in one round trip (inside the caller's REPEATABLE READ transaction, so in one
// snapshot): the bucket's configuration, the version the request names and, as the request asks,
// its body's pieces and its parts' sizes. Errors: NoSuchBucket, NoSuchKey, NoSuchVersion.
struct got_object {
    bucket_config bucket;
    object_version version;
    std::vector<body_piece> pieces;
    std::vector<std::uint64_t> part_sizes;
};
task<result<got_object>> read_for_get(connection &c, const get_request &r);
task<result<list_page>> list_objects(connection &c, const list_request &r);
task<result<list_versions_page>> list_versions(connection &c, const list_versions_request &r);
task<result<std::vector<object_version>>> key_versions(connection &c, const std::string &bucket,
                                                       const std::string &key);
task<result<std::vector<object_version>>> bucket_keys(connection &c, const std::string &bucket,
                                                      const std::string &after, std::size_t limit);

// ---- multipart uploads (multipart.cpp) --------------------------------------------------------
task<result<upload_info>> create_upload(write_txn &t, const create_upload_request &r);
task<result<upload_info>> find_upload(connection &c, const std::string &bucket,
                                      const std::string &key, const std::string &upload_id);
task<result<part_info>> put_part(write_txn &t, const upload_part_request &r);
task<result<complete_result>> complete_upload(write_txn &t, const complete_request &r,
                                              against_fn against);
task<result<bool>> abort_upload(write_txn &t, const std::string &bucket, const std::string &key,
                                const std::string &upload_id);
task<result<list_parts_page>> list_parts(connection &c, const list_parts_request &r);
task<result<list_uploads_page>> list_uploads(connection &c, const list_uploads_request &r);

// ---- history and totals (objects.cpp) ---------------------------------------------------------
task<result<bool>> append_events(write_txn &t, const std::vector<event_row> &rows,
                                 std::size_t keep);
task<result<std::vector<event_row>>> recent_events(connection &c, std::size_t limit);
task<result<store_totals>> stored_totals(connection &c);

} // namespace ifmatch::storage::postgres
