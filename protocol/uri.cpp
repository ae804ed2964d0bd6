// Percent-encoding for S3 request targets (spec wire.md §4.3) and SigV4 (AWS "UriEncode"): paths
// are decoded exactly once and `+` in a path is a literal plus; query strings use form semantics.

#include "protocol/uri.hpp"

#include "protocol/text.hpp"

namespace ifmatch::protocol {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

// Decodes %XX escapes; `plus_is_space` selects form semantics for `+`.
std::optional<std::string> decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '+' && plus_is_space) {
            out += ' ';
            continue;
        }
        if (c != '%') {
            out += c;
            continue;
        }
        if (i + 2 >= s.size()) {
            return std::nullopt;
        }
        const int hi = ascii::hex_value(s[i + 1]);
        const int lo = ascii::hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view s) { return decode(s, false); }

std::optional<std::string> query_decode(std::string_view s) { return decode(s, true); }

std::string uri_encode(std::string_view s, bool keep_slash) {
    constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (c == '/' && keep_slash)) {
            out += ch;
            continue;
        }
        out += '%';
        out += digits[c >> 4];
        out += digits[c & 0x0F];
    }
    return out;
}

std::optional<query_params> query_params::parse(std::string_view raw) {
    query_params params;
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        const auto item = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (item.empty()) {
            continue; // `a=1&&b=2` and a trailing `&` carry no parameter.
        }
        const auto eq = item.find('=');
        auto name = query_decode(item.substr(0, eq));
        auto value =
            query_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
        if (!name || !value) {
            return std::nullopt;
        }
        params.items_.emplace_back(std::move(*name), std::move(*value));
    }
    return params;
}

bool query_params::has(std::string_view name) const { return get(name).has_value(); }

std::optional<std::string_view> query_params::get(std::string_view name) const {
    for (const auto &[n, v] : items_) {
        if (n == name) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

} // namespace ifmatch::protocol
