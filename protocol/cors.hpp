// Bucket CORS: the <CORSConfiguration> document and rule matching for preflight (OPTIONS) and
// actual requests, as S3 does it: the first rule whose AllowedOrigin (one `*` wildcard allowed),
// AllowedMethod and AllowedHeader (for every requested header) all match wins. Pure.
#pragma once

#include "protocol/errors.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

struct cors_rule {
    std::string id;
    std::vector<std::string> origins;
    std::vector<std::string> methods;
    std::vector<std::string> headers; // AllowedHeader
    std::vector<std::string> expose;  // ExposeHeader
    std::optional<int> max_age;
};

// Parses a CORSConfiguration (1-100 rules). Errors: MalformedXML (no rule, a rule without
// origin or method), InvalidRequest (an unsupported method, two wildcards in one origin).
result<std::vector<cors_rule>> parse_cors_configuration(std::string_view body);
std::string render_cors_configuration(const std::vector<cors_rule> &rules);

// True if `pattern` (at most one `*`, matching any run of characters) matches `value`;
// `case_insensitive` for header names.
bool cors_wildcard_match(std::string_view pattern, std::string_view value,
                         bool case_insensitive = false);

// The first rule allowing `origin`, `method` and each of the comma-separated
// `request_headers` (may be empty), or nullptr. For an actual request S3 matches the method of
// Access-Control-Request-Method and the names of Access-Control-Request-Headers when the request
// carries them, as it does for a preflight.
const cors_rule *match_cors(const std::vector<cors_rule> &rules, std::string_view origin,
                            std::string_view method, std::string_view request_headers);

// The response headers for a matched rule, the same on a preflight and on an actual request:
// Access-Control-Allow-Origin (`*` when the rule allows any origin), -Allow-Methods (the rule's),
// -Allow-Headers (the requested ones, lower-cased, when any), -Expose-Headers, -Allow-Credentials
// (unless `*`), -Max-Age (when set) and Vary.
std::vector<std::pair<std::string, std::string>>
cors_response_headers(const cors_rule &rule, std::string_view origin,
                      std::string_view request_headers);

} // namespace ifmatch::protocol
