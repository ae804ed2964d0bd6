// What a write asks of a new version beyond its bytes and representation headers: server-side
// encryption, ACL and tags, kept in the version's meta.extra. Pure functions of values, shared by
// the request path (PutObject, CreateMultipartUpload, POST) and by every backend's CopyObject,
// which applies the copy's surface once it has read the source (no callback into the server).
#pragma once

#include "protocol/bucket_config.hpp"
#include "protocol/object_lock.hpp"
#include "storage/types.hpp"

#include <optional>
#include <string>

namespace ifmatch::storage {

// meta.extra names ifmatch keeps and never echoes as headers.
inline constexpr const char *extra_tags = "x-amz-tagging"; // encoded tag set
inline constexpr const char *extra_acl = "x-ifmatch-acl";  // encoded ACL
inline constexpr const char *extra_md5 = meta_content_md5; // content MD5 of an SSE-KMS object

// SSE, ACL and tags a request asks for.
struct write_surface {
    std::optional<protocol::sse_spec> sse;
    protocol::access_control acl;
    std::optional<std::string> tags; // encoded; nullopt when no x-amz-tagging header
    // An x-amz-object-lock-* header was sent; their values as sent (B-L5, B-L6).
    bool lock_requested = false;
    std::optional<std::string> lock_mode, lock_until, lock_hold;
    bool integrity_header = false; // Content-MD5 or x-amz-checksum-* came with the request
    // The lock the new version gets (headers, else the bucket's default retention), settled by
    // the bucket's configuration (server/surface.cpp apply_bucket_defaults).
    std::optional<protocol::version_lock> lock;
    // The bucket replicates the new version (B-R2): it is written with x-amz-replication-status
    // PENDING, which the replication worker turns into COMPLETED or FAILED.
    bool replication_pending = false;
};

// Stores `w` in `meta` (replacing SSE/ACL entries, and the Object Lock entries when `w.lock`) and, for SSE-KMS, replaces `etag` with the
// non-MD5 KMS ETag (R-E2). `md5_hex` is the content's MD5 (unquoted), empty if unknown
// (multipart sources keep their ETag).
void store_write_surface(const write_surface &w, const std::string &md5_hex, object_meta &meta,
                         std::string &etag, const std::string &region);

// The content MD5 of a stored version: its kept MD5 (SSE-KMS) or its plain ETag; empty for
// multipart ETags.
std::string content_md5(const object_version &v);

// The surface of a CopyObject request.
struct copy_surface {
    write_surface surface;
    bool replace_tags = false; // x-amz-tagging-directive: REPLACE
    std::string region;
};

// Tags, ACL and encryption of a copy: x-amz-tagging-directive COPY (the default) keeps the
// source's tags, REPLACE takes x-amz-tagging; the ACL and encryption come from the request (or
// the bucket's default encryption), never from the source, as on S3. So does the Object Lock: the
// copy gets the request's lock (or the destination bucket's default), never the source's.
void apply_copy_surface(const copy_surface &c, object_meta &meta, std::string &etag,
                        const object_version &src);

} // namespace ifmatch::storage
