// Object and bucket tags (S3 tagging): the `x-amz-tagging` header (a URL-encoded query string),
// the <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging> document, and S3's limits.
// Tags are stored as their canonical query-string encoding. Pure.
#pragma once

#include "protocol/errors.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

using tag_set = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t max_object_tags = 10;
constexpr std::size_t max_bucket_tags = 50;

// Checks S3's limits: at most `max_tags` tags, keys of 1-128 characters, values of at most 256
// characters (Unicode characters, not bytes), no duplicate key, no `aws:` prefix. Errors:
// InvalidTag with S3's message.
result<void> validate_tags(const tag_set &tags, std::size_t max_tags);

// Parses `x-amz-tagging: k1=v1&k2=v2` (percent-encoding and `+` decoded) and validates it for an
// object. Errors: InvalidArgument for a malformed encoding, InvalidTag.
result<tag_set> parse_tagging_header(std::string_view header);

// Parses a Tagging document and validates it with `max_tags`. Errors: MalformedXML, InvalidTag.
result<tag_set> parse_tagging_xml(std::string_view body, std::size_t max_tags);

// Renders <Tagging xmlns=…><TagSet>…</TagSet></Tagging>.
std::string render_tagging_xml(const tag_set &tags);

// The canonical storage form (`k=v&…`, every byte but unreserved ones percent-encoded) and back.
std::string encode_tags(const tag_set &tags);
tag_set decode_tags(std::string_view stored);

} // namespace ifmatch::protocol
