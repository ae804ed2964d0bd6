// Pure rules every backend applies to a version's fields inside its commit: the change of a
// version's extra entries (tags, ACL, lock, replication status) and the fields of a CopyObject's
// new version. No SQL, no I/O; the backends call them after they found the rows.
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

} // namespace ifmatch::storage
