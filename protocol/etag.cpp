// ETag values and the If-Match / If-None-Match list syntax (spec R-T1..R-T3, D1). Pure functions
// over string_views; safe from any thread.
//
// S3 ETags are quoted lower-case hex, optionally followed by `-N` (R-E1..R-E3), so they never
// contain a comma. Lists are therefore split on commas before quotes are looked at, which keeps
// R-T1's "one quote removed" values (`"abc`, `abc"`) working inside lists too.

#include "protocol/etag.hpp"

#include "protocol/text.hpp"

namespace ifmatch::protocol {

namespace {

// Parses one list member (already trimmed and non-empty): optional `W/`, then the opaque tag
// with its quotes made optional (R-T1).
entity_tag parse_member(std::string_view m) {
    entity_tag tag;
    if (m.starts_with("W/")) {
        tag.weak = true;
        m.remove_prefix(2);
    }
    tag.value = std::string(strip_quotes(m));
    return tag;
}

// The stored ETag in the form list members are compared with: no quotes, no weak prefix.
std::string_view normalise_current(std::string_view current) {
    current = ascii::trim_ows(current);
    if (current.starts_with("W/")) {
        current.remove_prefix(2);
    }
    return strip_quotes(current);
}

} // namespace

std::string_view strip_quotes(std::string_view v) {
    // R-T1: the leading and the trailing quote are removed independently of each other.
    if (!v.empty() && v.front() == '"') {
        v.remove_prefix(1);
    }
    if (!v.empty() && v.back() == '"') {
        v.remove_suffix(1);
    }
    return v;
}

std::optional<etag_list> parse_etag_list(std::string_view header) {
    etag_list list;
    bool any_member = false;
    while (true) {
        const auto comma = header.find(',');
        const auto member = ascii::trim_ows(header.substr(0, comma));
        if (member == "*") {
            // D1: `*` matches any current representation.
            list.any = true;
            any_member = true;
        } else if (!member.empty()) {
            // RFC 9110 §5.6.1: empty list elements are ignored.
            list.tags.push_back(parse_member(member));
            any_member = true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        header.remove_prefix(comma + 1);
    }
    if (!any_member) {
        return std::nullopt;
    }
    return list;
}

bool matches_strong(const etag_list &list, std::string_view current) {
    if (list.any) {
        return true;
    }
    const auto cur = normalise_current(current);
    for (const auto &tag : list.tags) {
        // RFC 9110 §8.8.3.2: a weak tag never matches under strong comparison.
        if (!tag.weak && tag.value == cur) {
            return true;
        }
    }
    return false;
}

bool matches_weak(const etag_list &list, std::string_view current) {
    if (list.any) {
        return true;
    }
    const auto cur = normalise_current(current);
    for (const auto &tag : list.tags) {
        if (tag.value == cur) {
            return true;
        }
    }
    return false;
}

std::string quote_etag(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        return std::string(v);
    }
    std::string out;
    out.reserve(v.size() + 2);
    out += '"';
    out += v;
    out += '"';
    return out;
}

} // namespace ifmatch::protocol
