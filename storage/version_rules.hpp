// Pure rules every backend applies to a version's fields inside its commit: the change of a
// version's extra entries (tags, ACL, lock, replication status), the fields of a CopyObject's
// new version, and the facts its source and an UploadPartCopy's source are judged by. No SQL, no
// I/O; the backends call them after they found the rows.
#pragma once

#include "storage/requests.hpp"

#include <optional>
#include <string>

namespace ifmatch::storage {

// The lookup answer of a version a change names (set_version_extra): NoSuchVersion, NoSuchKey,
// or MethodNotAllowed for a delete marker; nullopt when `v` may be changed.
std::optional<protocol::s3_error> extra_target_refusal(const version_extra_request &r,
                                                       const std::optional<object_version> &v);

// Applies `r` to `meta` (the entries of `expect` must still hold, else 409
// ConditionalRequestConflict, and nothing changes).
std::optional<protocol::s3_error> apply_extra_change(const version_extra_request &r,
                                                     object_meta &meta);

// The fields of a CopyObject's new version from its source `src`: the source's metadata unless
// REPLACE, never the source's upload id, the source's ETag, size and parts -- except that a copy
// of a multipart source is a single-part object with the plain MD5 ETag `multipart_md5` (D12,
// R-E4) -- then the copy's own encryption, tags, ACL and lock (apply_copy_surface).
version_fields copy_fields(const copy_request &r, const object_version &src,
                           const std::optional<std::string> &multipart_md5);

// CopyObject's facts for protocol::decide_copy from its source version (`src`: read by id when
// the request named one, else the key's current one; nullopt: nothing there), the destination
// key's context at commit and the store's clock.
protocol::copy_facts copy_facts_of(const copy_request &r, const std::optional<object_version> &src,
                                   protocol::write_context destination, std::int64_t now_ms);

// UploadPartCopy's source at commit (R-C16): its conditions decided against `v`, the source's
// version now, in decide_copy_source's order; when conditions were sent and `v` is no longer the
// version whose bytes the part holds, the part would be stale: 409. nullopt: the part may commit.
std::optional<protocol::s3_error> part_source_refusal(const upload_part_request::copy_from &s,
                                                      const std::optional<object_version> &v,
                                                      std::int64_t now_ms,
                                                      const std::string &key);

} // namespace ifmatch::storage
