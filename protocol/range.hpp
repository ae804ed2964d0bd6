// The Range request header (spec wire.md §5.8, R-G13/R-G14): a single byte range resolved against
// an object size. Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace ifmatch::protocol {

enum class range_kind {
    whole,         // no header, or a header S3 ignores (malformed, multi-range)
    partial,       // 206 with Content-Range
    unsatisfiable, // 416 InvalidRange
};

struct resolved_range {
    range_kind kind = range_kind::whole;
    std::uint64_t first = 0; // inclusive
    std::uint64_t last = 0;  // inclusive; valid when kind == partial
    std::uint64_t length() const { return last - first + 1; }
};

// Resolves `bytes=a-b`, `bytes=a-`, `bytes=-n` against `size`; the end is clamped to the size.
resolved_range resolve_range(std::string_view header, std::uint64_t size);

} // namespace ifmatch::protocol
