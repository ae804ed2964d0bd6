// Value types of the object store: buckets, object versions and stored bodies, the same for every
// backend. Plain data; no SQL and no networking types.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::storage {

using string_pairs = std::vector<std::pair<std::string, std::string>>;

// object_meta::extra entry holding the plain content MD5 (hex) of an object whose ETag is not it
// (multipart, SSE-KMS), so CopyObject can give copies the plain MD5 ETag (spec D12, R-E4).
inline constexpr const char *meta_content_md5 = "x-ifmatch-md5";

// object_meta::extra entry holding the upload id of the CompleteMultipartUpload that created a
// version, so that a repeated Complete can answer the same result (storage/sqlite/multipart.cpp RULE 4).
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

// Reads the bytes of one stored body, at any offset, from any thread; the backend keeps what it
// needs open (a file, a connection) for as long as a segment refers to it, so a concurrent
// reclaim cannot take the bytes away from a reader.
class body_source {
public:
    virtual ~body_source() = default;
    // Reads exactly `size` bytes at `offset` into `out` (blocking: callers run it on the body
    // thread for large pieces). False when the bytes cannot be read.
    virtual bool read_at(std::uint64_t offset, char *out, std::size_t size) const = 0;
};

// One piece of stored bytes: inline bytes in memory, or a body_source.
struct body_segment {
    std::string inline_data;
    std::shared_ptr<const body_source> source; // null: the bytes are inline_data
    std::uint64_t size = 0;
};

struct object_read {
    object_version version;
    std::vector<body_segment> segments; // empty for delete markers and empty objects
    std::vector<std::uint64_t> part_sizes; // get_request::part_sizes: sizes of the body's parts
    // The bucket's configuration, when the backend read it with the version (else null: the
    // caller reads it itself when it needs it).
    std::shared_ptr<const bucket_config> bucket;
};

// A body staged through a body_sink before the commit that names it. Small bodies travel inline;
// a large one is named by `file`, a token only the backend that staged it reads.
struct staged_body {
    std::string inline_data;  // when small
    std::string file;         // the backend's name for the staged bytes, when large
    std::uint64_t size = 0;
    bool is_file() const { return !file.empty(); }
};

// Where an upload's bytes go while they arrive (the backend decides: memory, a file, ...).
// Belongs to one thread at a time. Destroying an unreleased sink discards what it staged, so a
// failed or refused upload leaves nothing.
class body_sink {
public:
    virtual ~body_sink() = default;
    // Appends bytes. False on an I/O error (disk full, ...); error() says why.
    virtual bool append(std::string_view data) = 0;
    virtual std::uint64_t size() const = 0;
    virtual const std::string &error() const = 0;
    // Hands the staged body over for a write request; the sink no longer discards it.
    virtual staged_body release() = 0;
};

} // namespace ifmatch::storage
