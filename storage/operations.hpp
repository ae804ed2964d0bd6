// The store's operations, each a plain function run either as a write job (write_txn, on the
// writer thread inside its savepoint) or as a read job (read_txn, on a reader thread). Callers
// submit them through store::write / store::read. Preconditions are decided here, at commit,
// by calling protocol's pure evaluators (spec D3/D4): the rules themselves live in protocol/.
#pragma once

#include "protocol/preconditions.hpp"
#include "storage/store.hpp"
#include "storage/types.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage {

// ---- buckets ------------------------------------------------------------------------------

struct create_bucket_result {
    bool already_owned = false; // the caller decides 200 (us-east-1) or 409
};
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

// Everything a new version carries, whoever creates it.
struct version_fields {
    std::string etag; // quoted
    std::uint64_t size = 0;
    object_meta meta;
    int parts_count = 0;
    writer_identity writer;
};

struct put_request {
    std::string bucket;
    std::string key;
    staged_body body;
    version_fields fields;
    protocol::write_conditions conditions;
    std::int64_t start_seq = 0;      // store::committed_seq() when the request head arrived
    bool server_requires_conditions = false;
    // Out (D9): when the write is refused (412 / 404 / 409 / 428), the key's current state as the
    // request log shows it (`etag=... last-modified=... version=...`, "absent", "delete marker").
    // Owned by the caller, who must keep it alive until the job's outcome is delivered.
    std::string *current_out = nullptr;
};

struct write_result {
    std::string version_id;        // "null" when the bucket is not versioned
    bool versioned = false;        // the bucket's versioning is Enabled
    std::string etag;
    std::int64_t last_modified_ms = 0;
    std::uint64_t size = 0;
    object_meta meta;
    std::string source_version_id; // CopyObject: the version that was copied
};

// PutObject. Errors: NoSuchBucket; the verdicts of protocol::evaluate_write (412 / 404 / 409 /
// 428). A refused write leaves no version, no marker and no blob (R-P15).
result<write_result> put_object(write_txn &t, const put_request &r);

struct copy_request {
    std::string src_bucket;
    std::string src_key;
    std::optional<std::string> src_version_id;
    protocol::read_conditions src_conditions; // x-amz-copy-source-if-*
    std::string bucket;                       // destination
    std::string key;
    bool replace_metadata = false;            // x-amz-metadata-directive: REPLACE
    bool changes_attributes = false;          // storage class / redirect / SSE given (R-C15)
    version_fields fields;                    // meta used when replace_metadata; writer always
    protocol::write_conditions conditions;    // destination (R-C9..R-C11)
    std::int64_t start_seq = 0;
    bool server_requires_conditions = false;
    std::string *current_out = nullptr;       // as put_request::current_out
    // Optional last step on the destination's fields once the source is known (encryption,
    // tags, ACL of the copy); may change meta and etag.
    std::function<void(version_fields &, const object_version &src)> finish;
    // The plain content MD5 (hex) of a multipart source, computed by the caller from the source
    // version with this seq (spec D12); used when the source has none stored.
    std::optional<std::pair<std::int64_t, std::string>> source_md5;
};

// CopyObject in spec D6's order: source existence (404) -> source conditions (412
// x-amz-copy-source-...) -> copy-to-self rule (400 InvalidRequest, R-C15) -> destination
// conditions (D3). The copy shares the source's stored body (no bytes are copied).
result<write_result> copy_object(write_txn &t, const copy_request &r);

struct delete_request {
    std::string bucket;
    std::string key;
    std::optional<std::string> version_id;
    protocol::delete_conditions conditions;
    std::int64_t start_seq = 0;
    bool server_requires_conditions = false;
    writer_identity writer;
    std::string *current_out = nullptr; // as put_request::current_out
};

struct delete_result {
    bool delete_marker = false; // a marker was created, or the removed version was one
    std::string version_id;     // of the marker created or the version removed
};

// DeleteObject. Errors: NoSuchBucket; with conditions 412 / 404 / 428. Deleting an absent key
// without conditions succeeds (R-D9).
result<delete_result> delete_object(write_txn &t, const delete_request &r);

// ---- object reads -------------------------------------------------------------------------

struct get_request {
    std::string bucket;
    std::string key;
    std::optional<std::string> version_id;
    bool open_body = true;
};

// The current version (or the named one). A current delete marker is returned as a version with
// delete_marker set (the caller answers 404 + x-amz-delete-marker). Errors: NoSuchBucket,
// NoSuchKey (with Key), NoSuchVersion, InternalError (a body file is missing).
result<object_read> get_object(read_txn &t, const get_request &r);

struct list_request {
    std::string bucket;
    std::string prefix;
    std::string delimiter;
    std::string after; // exclusive start: marker / start-after / continuation key
    int max_keys = 1000;
};

struct list_entry {
    std::string key;
    std::string etag;
    std::uint64_t size = 0;
    std::int64_t last_modified_ms = 0;
};

struct list_page {
    std::vector<list_entry> contents;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string last; // the last key or common prefix returned (next marker)
};

// ListObjects(V1/V2) over current, non-delete-marker versions; max_keys 0 gives an empty page that
// is not truncated. Errors: NoSuchBucket.
result<list_page> list_objects(read_txn &t, const list_request &r);

} // namespace ifmatch::storage
