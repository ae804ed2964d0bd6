// The values the store's operations take and return (object_store.hpp): plain data, the same
// for every backend. No SQL, no handles, no callbacks.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/preconditions.hpp"
#include "storage/object_surface.hpp"
#include "storage/types.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ifmatch::storage {

template <class T> using result = protocol::result<T>;

// What the store hands out at a request's head (and at CreateMultipartUpload): later, the store
// itself answers whether the key existed at that moment, was written or deleted since (D3).
// Opaque to everyone but the backend that issued it.
struct start_token {
    std::int64_t seq = 0;
    std::shared_ptr<const void> state; // a backend's own (PostgreSQL: the snapshot being taken)
};

struct create_bucket_result {
    bool already_owned = false; // the caller decides 200 (us-east-1) or 409
};

// Everything a new version carries, whoever creates it.
struct version_fields {
    std::string etag; // quoted
    std::uint64_t size = 0;
    object_meta meta;
    int parts_count = 0;
    writer_identity writer;
    // A replica keeps its source's version id (B-R2); empty: the store makes one. Used only in a
    // bucket whose versioning is Enabled.
    std::string version_id;
};

struct put_request {
    std::string bucket;
    std::string key;
    staged_body body;
    version_fields fields;
    protocol::write_conditions conditions;
    start_token start; // object_store::start() when the request head arrived (D3)
    bool server_requires_conditions = false;
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
    start_token start;
    bool server_requires_conditions = false;
    // Encryption, tags and ACL of the copy, applied to the destination's fields once the source
    // is known (apply_copy_surface); nullopt: the fields stay as given.
    std::optional<copy_surface> surface;
    // The plain content MD5 (hex) of a multipart source, computed by the caller from the source
    // version with this seq (spec D12); used when the source has none stored.
    std::optional<std::pair<std::int64_t, std::string>> source_md5;
};

struct delete_request {
    std::string bucket;
    std::string key;
    std::optional<std::string> version_id;
    protocol::delete_conditions conditions;
    start_token start;
    bool server_requires_conditions = false;
    writer_identity writer;
    // The lifecycle's removal of a noncurrent version (B-C2): refused (412) when the named
    // version is the key's current one by now (restored meanwhile).
    bool only_noncurrent = false;
    // A lifecycle action: the bucket owner's own rule, exempt from required conditions (D5).
    bool by_lifecycle = false;
    // x-amz-bypass-governance-retention: true (B-L4): a GOVERNANCE retention does not refuse the
    // permanent delete of a version. Legal holds and COMPLIANCE retentions still do (B-L3).
    bool bypass_governance = false;
    // The delete marker this delete creates in a versioned bucket: the meta.extra entries it
    // carries (replication status, B-R3) and, for a replica, its source's version id (used only
    // where versioning is Enabled; empty: the store makes one).
    string_pairs marker_extra;
    std::string marker_version_id;
};

struct delete_result {
    bool delete_marker = false; // a marker was created, or the removed version was one
    std::string version_id;     // of the marker created or the version removed
};

struct get_request {
    std::string bucket;
    std::string key;
    std::optional<std::string> version_id;
    bool open_body = true;
    bool part_sizes = false; // also fill object_read::part_sizes (GetObject partNumber)
};

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

struct upload_info {
    std::string upload_id;
    std::string bucket;
    std::string key;
    std::int64_t initiated_ms = 0;
    start_token start;             // t_start (D3): issued inside the Create commit
    bool existed_at_start = false; // a current object existed at Create
    object_meta meta;
    std::string checksum_algo; // "CRC32" ... or empty
    std::string checksum_type; // "COMPOSITE" / "FULL_OBJECT" or empty
    writer_identity writer;
};

struct create_upload_request {
    std::string bucket;
    std::string key;
    object_meta meta;
    std::string checksum_algo;
    std::string checksum_type;
    writer_identity writer;
};

struct part_info {
    int number = 0;
    std::string etag; // quoted MD5 of the part
    std::uint64_t size = 0;
    std::int64_t body_id = 0;
    string_pairs checksums; // ("CRC32", base64)
    std::int64_t last_modified_ms = 0;
};

struct upload_part_request {
    std::string bucket;
    std::string key;
    std::string upload_id;
    staged_body body;      // ignored when share_body_id is set
    std::int64_t share_body_id = 0; // UploadPartCopy of a whole object: reference this body
    std::int64_t share_version_seq = 0; // ... of this version, which must still exist
    part_info part;
    // UploadPartCopy: the source and its x-amz-copy-source-if-* conditions, decided at commit
    // against the source as it is then, like CopyObject's (D6, R-C16).
    struct copy_from {
        std::string bucket, key;
        std::optional<std::string> version_id;
        protocol::read_conditions conditions;
        std::int64_t read_seq = 0; // the version whose bytes the part holds
    };
    std::optional<copy_from> source;
};

struct complete_request {
    std::string bucket;
    std::string key;
    std::string upload_id;
    struct part {
        int number = 0;
        std::string etag; // unquoted
        string_pairs checksums;
    };
    std::vector<part> parts;
    protocol::write_conditions conditions;
    bool server_requires_conditions = false;
    std::optional<std::string> full_checksum; // x-amz-checksum-<algo> header (FULL_OBJECT)
    std::optional<std::string> checksum_type;  // x-amz-checksum-type header
    std::optional<std::uint64_t> mp_object_size; // x-amz-mp-object-size
    writer_identity writer;
};

struct complete_result {
    write_result written;
    std::string checksum_type; // of the new object
    // A 409 refusal (D8): the upload was removed in this commit; the caller answers `refusal`.
    std::optional<protocol::s3_error> refusal;
};

struct list_parts_request {
    std::string bucket, key, upload_id;
    int marker = 0;
    int max_parts = 1000;
};

struct list_parts_page {
    upload_info upload;
    std::vector<part_info> parts;
    bool truncated = false;
};

struct list_uploads_request {
    std::string bucket, prefix, delimiter, key_marker, upload_id_marker;
    int max_uploads = 1000;
};

struct list_uploads_page {
    std::vector<upload_info> uploads;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string next_key_marker, next_upload_id_marker;
};

struct list_versions_request {
    std::string bucket, prefix, delimiter, key_marker, version_id_marker;
    int max_keys = 1000;
};

struct list_versions_page {
    std::vector<object_version> versions; // versions and delete markers, in S3's order
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string next_key_marker, next_version_id_marker;
};

// The current version of a key as a condition saw it.
struct current_state {
    bool exists = false;        // a version row is current (object or delete marker)
    bool delete_marker = false; // ... and it is a delete marker
    std::string etag;
    std::string version_id;
    std::int64_t last_modified_ms = 0;
    writer_identity writer; // who wrote the current version
};

// One persisted outcome event: indexed columns plus the event as JSON text (the server's format).
struct event_row {
    std::int64_t time_ms = 0;
    std::string bucket;
    std::string key;
    std::string json;
};

struct store_totals {
    std::int64_t objects = 0; // current versions that are not delete markers
    std::int64_t bytes = 0;   // their sizes summed
};

struct version_extra_request {
    std::string bucket;
    std::string key;
    std::optional<std::string> version_id;
    std::string name;                 // the meta.extra entry to change
    std::optional<std::string> value; // nullopt removes it
    // Further entries changed in the same commit (name, value or nullopt to remove).
    std::vector<std::pair<std::string, std::optional<std::string>>> more;
    // Entries that must still hold these values (nullopt: absent) when the change commits, else
    // 409 ConditionalRequestConflict: what a caller decided from (PutObjectRetention, B-L4).
    std::vector<std::pair<std::string, std::optional<std::string>>> expect;
    // A delete marker may be the target (the replication worker marking a marker's status,
    // B-R3); clients' requests leave this false and get S3's 405 for a marker.
    bool marker_allowed = false;
};

struct check_report {
    std::vector<std::string> problems; // empty: the directory is consistent
    std::vector<std::string> notes;    // informational (e.g. files of uploads still in flight)
    int schema_version = 0;
    std::int64_t versions = 0;
    std::int64_t bodies = 0;
    std::int64_t blob_files = 0;
    std::int64_t stored_bytes = 0; // sum of body sizes
};

struct check_options {
    // Unreferenced blob files younger than this are staged uploads or reclaims in progress of a
    // running server, not orphans.
    std::int64_t orphan_min_age_seconds = 600;
};

// A key's current version and its whole body.
struct cached_object {
    object_version version;
    std::string body;
};

// The state a version gives its key when it is current.
inline current_state state_of(const object_version &v) {
    current_state s;
    s.exists = true;
    s.delete_marker = v.delete_marker;
    s.etag = v.etag;
    s.version_id = v.version_id;
    s.last_modified_ms = v.last_modified_ms;
    s.writer = v.writer;
    return s;
}

// A conditional write's answer (D9): the result and, when the store refused the write (412 / 404
// / 409 / 428), the key's state the refusal was decided against, taken from the row the decision
// read. The error XML, the explain headers, the access log, the event and the metrics are all
// made from this one value.
template <class T> struct write_outcome {
    result<T> value;
    std::optional<current_state> refused_against;
};

} // namespace ifmatch::storage
