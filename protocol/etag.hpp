// ETag values and the If-Match / If-None-Match list syntax (spec R-T1..R-T3, D1). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

// One member of an ETag list as sent by a client: quotes stripped (R-T1), weak flag kept.
struct entity_tag {
    std::string value; // without W/ and without surrounding quotes
    bool weak = false;
};

// A parsed If-Match / If-None-Match header value: `*` or a comma-separated list.
struct etag_list {
    bool any = false; // the value was `*`
    std::vector<entity_tag> tags;
};

// Strips one leading and one trailing double quote independently (R-T1). `"abc` -> `abc`.
std::string_view strip_quotes(std::string_view v);

// Parses a header value. Quotes are optional per member. An empty or all-blank value yields
// std::nullopt (treated as an absent header).
std::optional<etag_list> parse_etag_list(std::string_view header);

// Strong comparison (If-Match, RFC 9110 §8.8.3.2): a weak member never matches. `current` is the
// stored ETag with or without quotes.
bool matches_strong(const etag_list &list, std::string_view current);

// Weak comparison (If-None-Match): W/ is ignored.
bool matches_weak(const etag_list &list, std::string_view current);

// Returns `"hex"` for a bare value; leaves an already quoted value alone.
std::string quote_etag(std::string_view v);

} // namespace ifmatch::protocol
