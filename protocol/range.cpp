// The Range header (spec wire.md §5.8, RFC 9110 §14.1.2), as S3 answers it:
//  1. Only a single `bytes=` range is honoured; a multi-range list, another unit or any syntax
//  error
//     makes the header ignored (200, whole object).
//  2. `bytes=a-b` with b < a is a syntax error (ignored), as RFC 9110 says.
//  3. A range whose first byte is at or past the end is 416 InvalidRange: `bytes=a-` / `bytes=a-b`
//     with a >= size, and the empty suffix `bytes=-0`.
//  4. An object of size 0 has no satisfiable range: every well-formed range is 416 (S3 answers
//     InvalidRange for `bytes=0-` on an empty object; SDK downloaders handle that 416).
//  5. The last byte is clamped to size-1; a suffix longer than the object selects all of it.
// Numbers too large for 64 bits saturate, which rules 3 and 5 then handle.

#include "protocol/range.hpp"

#include "protocol/text.hpp"

#include <limits>
#include <optional>

namespace ifmatch::protocol {
namespace {

constexpr std::uint64_t saturated = std::numeric_limits<std::uint64_t>::max();

// Parses a non-empty run of decimal digits, saturating on overflow; nullopt otherwise.
std::optional<std::uint64_t> parse_number(std::string_view s) {
    if (s.empty()) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        const auto digit = static_cast<std::uint64_t>(c - '0');
        value = value > (saturated - digit) / 10 ? saturated : value * 10 + digit;
    }
    return value;
}

resolved_range partial(std::uint64_t first, std::uint64_t last) {
    return {range_kind::partial, first, last};
}

resolved_range unsatisfiable() { return {range_kind::unsatisfiable, 0, 0}; }

// Rule 3–5 for a suffix range `-n`.
resolved_range resolve_suffix(std::uint64_t n, std::uint64_t size) {
    if (n == 0 || size == 0) {
        return unsatisfiable();
    }
    return partial(n >= size ? 0 : size - n, size - 1);
}

} // namespace

resolved_range resolve_range(std::string_view header, std::uint64_t size) {
    header = ascii::trim_ows(header);
    const auto eq = header.find('=');
    if (eq == std::string_view::npos ||
        !ascii::iequals(ascii::trim_ows(header.substr(0, eq)), "bytes")) {
        return {};
    }
    const auto spec = ascii::trim_ows(header.substr(eq + 1));
    const auto dash = spec.find('-');
    if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) {
        return {};
    }
    const auto first_text = ascii::trim_ows(spec.substr(0, dash));
    const auto last_text = ascii::trim_ows(spec.substr(dash + 1));
    if (first_text.empty()) {
        const auto n = parse_number(last_text);
        return n ? resolve_suffix(*n, size) : resolved_range{};
    }
    const auto first = parse_number(first_text);
    const auto last = last_text.empty() ? std::optional(saturated) : parse_number(last_text);
    if (!first || !last || *last < *first) {
        return {};
    }
    if (*first >= size) {
        return unsatisfiable();
    }
    return partial(*first, *last >= size ? size - 1 : *last);
}

} // namespace ifmatch::protocol
