// The store's operations, each a plain function run either as a write job (write_txn, on the
// writer thread inside its savepoint) or as a read job (read_txn, on a reader thread). Callers
// submit them through store::write / store::read. Preconditions are decided here, at commit,
// by calling protocol's pure evaluators (spec D3/D4): the rules themselves live in protocol/.
#pragma once

#include "protocol/preconditions.hpp"
#include "storage/requests.hpp"
#include "storage/sqlite/store.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage::sqlite {

// ---- buckets ------------------------------------------------------------------------------

// Errors: none beyond InternalError (the name is validated by the caller).
result<create_bucket_result> create_bucket(write_txn &t, const std::string &name,
                                           const std::string &region);
// Errors: NoSuchBucket, BucketNotEmpty (versions, delete markers or uploads remain).
result<bool> delete_bucket(write_txn &t, const std::string &name);
// Errors: NoSuchBucket.
result<bool> set_bucket_versioning(write_txn &t, const std::string &name,
                                   const std::string &status);
result<bool> set_bucket_require_conditions(write_txn &t, const std::string &name, bool on);
// An empty policy removes it. Errors: NoSuchBucket.
result<bool> set_bucket_policy(write_txn &t, const std::string &name, const std::string &policy);

// Errors: NoSuchBucket.
result<bucket_info> get_bucket(read_txn &t, const std::string &name);
result<std::vector<bucket_info>> list_buckets(read_txn &t);

// ---- object writes ------------------------------------------------------------------------

// PutObject. Errors: NoSuchBucket; the verdicts of protocol::evaluate_write (412 / 404 / 409 /
// 428). A refused write leaves no version, no marker and no blob (R-P15).
result<write_result> put_object(write_txn &t, const put_request &r,
                                std::optional<current_state> *refused = nullptr);

// CopyObject in spec D6's order: source existence (404) -> source conditions (412
// x-amz-copy-source-...) -> copy-to-self rule (400 InvalidRequest, R-C15) -> destination
// conditions (D3). The copy shares the source's stored body (no bytes are copied).
result<write_result> copy_object(write_txn &t, const copy_request &r,
                                 std::optional<current_state> *refused = nullptr);

// DeleteObject. Errors: NoSuchBucket; with conditions 412 / 404 / 428. Deleting an absent key
// without conditions succeeds (R-D9).
result<delete_result> delete_object(write_txn &t, const delete_request &r,
                                    std::optional<current_state> *refused = nullptr);

// ---- object reads -------------------------------------------------------------------------

// The current version (or the named one). A current delete marker is returned as a version with
// delete_marker set (the caller answers 404 + x-amz-delete-marker). Errors: NoSuchBucket,
// NoSuchKey (with Key), NoSuchVersion, InternalError (a body file is missing).
result<object_read> get_object(read_txn &t, const get_request &r);

// ListObjects(V1/V2) over current, non-delete-marker versions; max_keys 0 gives an empty page that
// is not truncated. Errors: NoSuchBucket.
result<list_page> list_objects(read_txn &t, const list_request &r);

} // namespace ifmatch::storage::sqlite
