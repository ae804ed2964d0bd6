// The x-amz-copy-source header of CopyObject and UploadPartCopy: `bucket/key[?versionId=]`,
// URL-encoded, with an optional leading slash (wire.md §5).
#pragma once

#include "protocol/errors.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::server {

struct copy_source {
    std::string bucket, key;
    std::optional<std::string> version_id;
};

// Errors: InvalidArgument ("Invalid copy source encoding." for a malformed escape or bytes that
// are not UTF-8; no bucket or no key).
protocol::result<copy_source> parse_copy_source(std::string_view raw);

} // namespace ifmatch::server
