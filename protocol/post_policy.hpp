// The POST Object policy document: base64 JSON with `expiration` and `conditions` (exact matches
// as objects or ["eq", "$field", v], ["starts-with", "$field", prefix], and
// ["content-length-range", min, max]), checked against the form fields as S3 does. Pure.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/http_date.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

struct post_policy_condition {
    enum class kind { eq, starts_with } op = kind::eq;
    std::string field; // lower-case, without `$`
    std::string value;
    std::string text; // as written, for error messages
};

struct post_policy {
    sys_seconds expiration;
    std::vector<post_policy_condition> conditions;
    std::optional<std::pair<std::uint64_t, std::uint64_t>> length_range;
};

// Decodes and parses the `policy` form field. Errors: InvalidPolicyDocument.
result<post_policy> parse_post_policy(std::string_view base64_policy);

// Form fields as (lower-case name, value), with the final key (${filename} replaced).
using form_fields = std::vector<std::pair<std::string, std::string>>;

// Checks expiration and every eq / starts-with condition, and that every form field is covered by
// a condition (except policy, signature fields, file and x-ignore-*). Errors: AccessDenied
// "Invalid according to Policy: …".
result<void> check_post_policy(const post_policy &p, const form_fields &fields, sys_seconds now);

// Checks content-length-range against the file's size. Errors: EntityTooSmall, EntityTooLarge.
result<void> check_post_length(const post_policy &p, std::uint64_t size);

} // namespace ifmatch::protocol
