// Pure rules of the listings every backend pages through: the common prefix a key falls into and
// where ListObjectVersions resumes. No SQL, no I/O: the backend looks the marker's version up.
#pragma once

#include "storage/requests.hpp"

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

namespace ifmatch::storage {

// The common prefix `key` falls into: up to and including the first `delimiter` after `prefix`;
// empty without a delimiter or when the key holds none there.
std::string common_prefix(const std::string &key, const std::string &prefix,
                          const std::string &delimiter);

// A position in ListObjectVersions' order (key, then rank_ms and seq descending): the rows
// strictly after it come next. rank and seq at their maximum: the whole of `key` is still ahead;
// at their minimum: all of `key` is behind.
struct version_position {
    std::string key;
    std::int64_t rank = std::numeric_limits<std::int64_t>::max();
    std::int64_t seq = std::numeric_limits<std::int64_t>::max();
};

// Where ListObjectVersions resumes: the prefix when the key marker is empty or before it; past
// the whole marker key without a version-id marker; just after the named version otherwise.
// `find(key, version_id)`: that version, if it exists. Errors: InvalidArgument for a version-id
// marker without a key marker, or one naming no version.
result<version_position> versions_start(
    const list_versions_request &r,
    const std::function<std::optional<object_version>(const std::string &, const std::string &)>
        &find);

} // namespace ifmatch::storage
