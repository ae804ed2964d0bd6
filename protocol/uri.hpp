// Percent-decoding and encoding, and the query string: the pieces of a request target that S3
// routing and SigV4 canonicalisation share. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

// Decodes %XX; `+` stays a plus (paths). Returns nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);
// As above, but `+` decodes to a space (query strings, form semantics).
std::optional<std::string> query_decode(std::string_view s);

// Encodes every byte except A-Z a-z 0-9 - _ . ~ (and `/` when keep_slash) as %XX upper-case.
std::string uri_encode(std::string_view s, bool keep_slash);

// A decoded query string in arrival order. Parameters without `=` have an empty value.
class query_params {
public:
    static std::optional<query_params> parse(std::string_view raw);

    bool has(std::string_view name) const;
    std::optional<std::string_view> get(std::string_view name) const;
    const std::vector<std::pair<std::string, std::string>> &items() const { return items_; }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

} // namespace ifmatch::protocol
