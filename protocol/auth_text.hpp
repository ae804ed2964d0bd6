// Small text helpers shared by the SigV4 and SigV2 code: splitting, digit checks and the
// percent-encoding rules of AWS signatures (trimming and case folding are in text.hpp). Internal
// to protocol/ (uri.hpp is the public URI module); pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol::auth_text {

// Splits on every `sep`; an empty input yields one empty piece.
std::vector<std::string_view> split(std::string_view s, char sep);
// True for a hex digit (0-9, a-f, A-F).
bool is_hex(char c);
// True when every byte is 0-9 (the empty string is).
bool all_digits(std::string_view s);

// Decodes %XX escapes (malformed escapes are kept literally); '+' becomes a space only when
// `plus_as_space` (query semantics).
std::string percent_decode(std::string_view s, bool plus_as_space);
// SigV4 URI-encoding: every byte except A-Z a-z 0-9 - _ . ~ (and '/' when `keep_slash`)
// becomes %XX with upper-case hex.
std::string uri_encode(std::string_view s, bool keep_slash);

// Calls fn(name, value) for each `&`-separated parameter of a raw query, both decoded with '+'
// as a space; a parameter without '=' has an empty value; empty pieces are skipped.
template <class Fn> void for_each_query_param(std::string_view raw_query, Fn &&fn) {
    for (auto piece : split(raw_query, '&')) {
        if (piece.empty()) {
            continue;
        }
        auto eq = piece.find('=');
        std::string_view name = piece.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
        fn(percent_decode(name, true), percent_decode(value, true));
    }
}

} // namespace ifmatch::protocol::auth_text
