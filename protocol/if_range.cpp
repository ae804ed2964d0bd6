// If-Range evaluation (R-G15): a strong ETag comparison or an exact Last-Modified date match.
#include "protocol/if_range.hpp"

namespace ifmatch::protocol {

bool if_range_holds(std::string_view if_range, std::string_view etag, sys_millis last_modified) {
    while (!if_range.empty() && (if_range.front() == ' ' || if_range.front() == '\t')) {
        if_range.remove_prefix(1);
    }
    while (!if_range.empty() && (if_range.back() == ' ' || if_range.back() == '\t')) {
        if_range.remove_suffix(1);
    }
    if (if_range.starts_with("W/")) {
        return false; // a weak validator never satisfies If-Range (RFC 9110 §13.1.5)
    }
    if (if_range.starts_with("\"")) {
        return if_range == etag;
    }
    auto date = parse_http_date(if_range);
    if (!date) {
        return false;
    }
    return *date == std::chrono::floor<std::chrono::seconds>(last_modified);
}

} // namespace ifmatch::protocol
