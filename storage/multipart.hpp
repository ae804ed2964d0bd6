// Multipart uploads and version listings in the store: Create / UploadPart / UploadPartCopy /
// Complete / Abort as write jobs, ListParts / ListMultipartUploads / ListObjectVersions as read
// jobs. Complete decides conditional writes at commit with the upload's t_start (spec §6, D3, D8).
#pragma once

#include "protocol/preconditions.hpp"
#include "storage/operations.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage {

struct upload_info {
    std::string upload_id;
    std::string bucket;
    std::string key;
    std::int64_t initiated_ms = 0;
    std::int64_t start_seq = 0;    // t_start (D3): a seq allocated inside the Create commit
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

// Errors: NoSuchBucket.
result<upload_info> create_upload(write_txn &t, const create_upload_request &r);

// The upload named by (bucket, key, upload_id). Errors: NoSuchBucket, NoSuchUpload.
result<upload_info> find_upload(read_txn &t, const std::string &bucket, const std::string &key,
                                const std::string &upload_id);

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
};

// UploadPart / UploadPartCopy: stores (or replaces, releasing the old body) part N.
// Errors: NoSuchBucket, NoSuchUpload, NoSuchKey (a shared source vanished meanwhile).
result<part_info> put_part(write_txn &t, const upload_part_request &r);

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

// CompleteMultipartUpload. Order: NoSuchBucket -> NoSuchUpload -> parts (InvalidPartOrder,
// InvalidPart, EntityTooSmall, checksum errors) -> conditions at commit (R-M2..R-M7: 412 / 404 /
// 428 as errors, leaving the upload; 409 as `refusal`, removing it) -> the new version, whose
// body references the parts' bodies (no byte copy) and which ranks by initiation time (R-M11).
result<complete_result> complete_upload(write_txn &t, const complete_request &r);

// AbortMultipartUpload. Errors: NoSuchBucket, NoSuchUpload.
result<bool> abort_upload(write_txn &t, const std::string &bucket, const std::string &key,
                          const std::string &upload_id);

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

// Errors: NoSuchBucket, NoSuchUpload.
result<list_parts_page> list_parts(read_txn &t, const list_parts_request &r);

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

// Keys ascending, then initiation order. Errors: NoSuchBucket.
result<list_uploads_page> list_uploads(read_txn &t, const list_uploads_request &r);

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

// ListObjectVersions: keys ascending, each key's versions newest (highest rank) first.
// Errors: NoSuchBucket, InvalidArgument (a version-id-marker that names no version of the key).
result<list_versions_page> list_versions(read_txn &t, const list_versions_request &r);

// Byte sizes of the parts of a stored body, in order (one entry for a plain body).
std::vector<std::uint64_t> body_part_sizes(read_txn &t, std::int64_t body_id);

} // namespace ifmatch::storage
