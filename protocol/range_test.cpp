// Tests for Range header resolution (spec wire.md §5.8).

#include "protocol/range.hpp"

#include <doctest/doctest.h>
#include <limits>

using namespace ifmatch::protocol;

TEST_CASE("range: resolution table") {
    struct row {
        std::string_view header;
        std::uint64_t size;
        range_kind kind;
        std::uint64_t first;
        std::uint64_t last;
    };
    constexpr auto whole = range_kind::whole;
    constexpr auto part = range_kind::partial;
    constexpr auto none = range_kind::unsatisfiable;
    const row rows[] = {
        // Satisfiable forms.
        {"bytes=0-0", 10, part, 0, 0},
        {"bytes=0-9", 10, part, 0, 9},
        {"bytes=2-5", 10, part, 2, 5},
        {"bytes=5-", 10, part, 5, 9},
        {"bytes=9-", 10, part, 9, 9},
        {"bytes=-3", 10, part, 7, 9},
        {"bytes=-10", 10, part, 0, 9},
        // The end is clamped; a long suffix selects everything.
        {"bytes=5-100", 10, part, 5, 9},
        {"bytes=0-18446744073709551615", 10, part, 0, 9},
        {"bytes=0-99999999999999999999999", 10, part, 0, 9},
        {"bytes=-100", 10, part, 0, 9},
        // Case and surrounding whitespace are tolerated.
        {"Bytes=1-2", 10, part, 1, 2},
        {" bytes = 1 - 2 ", 10, part, 1, 2},
        // Unsatisfiable.
        {"bytes=10-", 10, none, 0, 0},
        {"bytes=10-20", 10, none, 0, 0},
        {"bytes=99999999999999999999999-", 10, none, 0, 0},
        {"bytes=-0", 10, none, 0, 0},
        // An empty object has no satisfiable range.
        {"bytes=0-", 0, none, 0, 0},
        {"bytes=0-0", 0, none, 0, 0},
        {"bytes=-5", 0, none, 0, 0},
        // Ignored: absent, malformed, another unit, reversed, multi-range.
        {"", 10, whole, 0, 0},
        {"bytes=", 10, whole, 0, 0},
        {"bytes=-", 10, whole, 0, 0},
        {"bytes=a-b", 10, whole, 0, 0},
        {"bytes=1-x", 10, whole, 0, 0},
        {"bytes=+1-2", 10, whole, 0, 0},
        {"bytes=5-2", 10, whole, 0, 0},
        {"bytes=0-1,3-4", 10, whole, 0, 0},
        {"items=0-1", 10, whole, 0, 0},
        {"bytes 0-1", 10, whole, 0, 0},
        {"bytes=1", 10, whole, 0, 0},
        {"bytes=--1", 10, whole, 0, 0},
        {"bytes=a-", 0, whole, 0, 0},
    };
    for (const auto &r : rows) {
        CAPTURE(r.header);
        CAPTURE(r.size);
        const auto got = resolve_range(r.header, r.size);
        CHECK(got.kind == r.kind);
        if (r.kind == range_kind::partial) {
            CHECK(got.first == r.first);
            CHECK(got.last == r.last);
            CHECK(got.length() == r.last - r.first + 1);
        }
    }
}

TEST_CASE("range: huge objects") {
    const std::uint64_t size = std::uint64_t{50} << 40; // 50 TiB
    const auto r = resolve_range("bytes=-1", size);
    REQUIRE(r.kind == range_kind::partial);
    CHECK(r.first == size - 1);
    CHECK(r.last == size - 1);
    const auto max = std::numeric_limits<std::uint64_t>::max();
    CHECK(resolve_range("bytes=0-", max).last == max - 1);
}
