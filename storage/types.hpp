// Value types of the object store: buckets, object versions, stored bodies and the requests the
// store executes. Plain data; no SQLite and no networking types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ifmatch::storage {

using string_pairs = std::vector<std::pair<std::string, std::string>>;

// object_meta::extra entry holding the plain content MD5 (hex) of an object whose ETag is not it
// (multipart, SSE-KMS), so CopyObject can give copies the plain MD5 ETag (spec D12, R-E4).
inline constexpr const char *meta_content_md5 = "x-ifmatch-md5";

// object_meta::extra entry holding the upload id of the CompleteMultipartUpload that created a
// version, so that a repeated Complete can answer the same result (storage/multipart.cpp RULE 4).
inline constexpr const char *meta_upload_id = "x-ifmatch-upload-id";

// Who made a write (D9): kept with every version.
struct writer_identity {
    std::string request_id;
    std::string access_key;
    std::string remote;
    std::string user_agent;
};

// Representation headers and user metadata kept with a version.
struct object_meta {
    std::string content_type; // empty: binary/octet-stream
    std::string content_encoding;
    std::string content_disposition;
    std::string content_language;
    std::string cache_control;
    std::string expires;
    string_pairs user;      // x-amz-meta-* names lower-cased, without the prefix
    string_pairs checksums; // ("CRC32", base64), ...
    std::string checksum_type; // "FULL_OBJECT" / "COMPOSITE" / empty
    string_pairs extra;     // other stored headers (x-amz-storage-class, SSE, ...)
};

struct bucket_info {
    std::string name;
    std::int64_t created_ms = 0;
    std::string region;
    std::string versioning; // "", "Enabled", "Suspended"
    bool require_conditions = false;
    std::string policy; // JSON text, empty when none
};

// A bucket's configuration as the request path needs it before a write: the row and its
// settings (name, value), e.g. default encryption, ownership controls, CORS.
struct bucket_config {
    bucket_info info;
    std::vector<std::pair<std::string, std::string>> settings;
};

struct object_version {
    std::int64_t seq = 0; // the write's commit sequence
    std::string bucket;
    std::string key;
    std::string version_id; // "null" in unversioned buckets
    bool is_latest = false;
    bool delete_marker = false;
    std::string etag; // quoted
    std::uint64_t size = 0;
    std::int64_t last_modified_ms = 0;
    object_meta meta;
    std::int64_t body_id = 0;
    int parts_count = 0;
    writer_identity writer;
    std::int64_t rank_ms = 0; // orders versions (R-M11): initiation time for multipart, else
                              // last_modified_ms; 0 on install means last_modified_ms
};

// An open piece of stored bytes. Inline bodies carry their bytes; file bodies an open descriptor
// (opened by the reader thread, so a concurrent reclaim cannot remove the file under the reader).
struct body_segment {
    std::string inline_data;
    std::shared_ptr<int> fd; // closes on last release
    std::uint64_t size = 0;
};

struct object_read {
    object_version version;
    std::vector<body_segment> segments; // empty for delete markers and empty objects
};

// A body staged by the session before the commit that names it.
struct staged_body {
    std::string inline_data;  // when small
    std::string file;         // blob file name relative to the blob directory, when large
    std::uint64_t size = 0;
    bool is_file() const { return !file.empty(); }
};

} // namespace ifmatch::storage
