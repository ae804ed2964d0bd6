// Unit tests for protocol/etag: quote stripping (R-T1), exact comparison (R-T2) and the
// If-Match / If-None-Match list syntax with `*` and W/ (R-T3, D1).
#include "protocol/etag.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

namespace {

constexpr std::string_view stored = "\"098f6bcd4621d373cade4e832627b4f6\"";
constexpr std::string_view bare = "098f6bcd4621d373cade4e832627b4f6";

etag_list parse(std::string_view v) {
    const auto list = parse_etag_list(v);
    REQUIRE(list.has_value());
    return *list;
}

} // namespace

TEST_CASE("R-T1: strip_quotes removes one leading and one trailing quote independently") {
    CHECK(strip_quotes("\"abc\"") == "abc");
    CHECK(strip_quotes("abc") == "abc");
    CHECK(strip_quotes("\"abc") == "abc");
    CHECK(strip_quotes("abc\"") == "abc");
    CHECK(strip_quotes("\"\"abc\"\"") == "\"abc\"");
    CHECK(strip_quotes("\"") == "");
    CHECK(strip_quotes("") == "");
}

TEST_CASE("R-T1, R-T3: a single member with or without quotes") {
    for (auto v : {"\"abc\"", "abc", "\"abc", "abc\"", "  \"abc\"\t"}) {
        CAPTURE(v);
        const auto list = parse(v);
        CHECK_FALSE(list.any);
        REQUIRE(list.tags.size() == 1);
        CHECK(list.tags[0].value == "abc");
        CHECK_FALSE(list.tags[0].weak);
    }
}

TEST_CASE("D1, R-T3: `*` sets any, alone or padded") {
    CHECK(parse("*").any);
    CHECK(parse("  *  ").any);
    CHECK(parse("*").tags.empty());
}

TEST_CASE("D1, R-T3: W/ marks a weak member and is not part of the value") {
    const auto list = parse("W/\"abc\"");
    REQUIRE(list.tags.size() == 1);
    CHECK(list.tags[0].weak);
    CHECK(list.tags[0].value == "abc");
    CHECK(parse("W/abc").tags[0].value == "abc");
    // Lower-case w/ is not the weak indicator (RFC 9110 §8.8.3 is case-sensitive).
    CHECK_FALSE(parse("w/\"abc\"").tags[0].weak);
}

TEST_CASE("D1, R-T3: comma lists with spaces, empty elements and mixed quoting") {
    const auto list = parse("\"a\", W/\"b\" ,c,  ,\"d , e\"");
    REQUIRE(list.tags.size() == 5);
    CHECK(list.tags[0].value == "a");
    CHECK(list.tags[1].value == "b");
    CHECK(list.tags[1].weak);
    CHECK(list.tags[2].value == "c");
    // S3 ETags never contain commas; a quoted comma splits the member (documented contract).
    CHECK(list.tags[3].value == "d");
    CHECK(list.tags[4].value == "e");
    CHECK(parse("\"a\", *").any);
}

TEST_CASE("R-T3: an empty or all-blank header is absent") {
    CHECK_FALSE(parse_etag_list("").has_value());
    CHECK_FALSE(parse_etag_list("   ").has_value());
    CHECK_FALSE(parse_etag_list(" , ,").has_value());
}

TEST_CASE("R-T1, R-T2: strong comparison ignores quotes but not case") {
    CHECK(matches_strong(parse(stored), stored));
    CHECK(matches_strong(parse(bare), stored));
    CHECK(matches_strong(parse(stored), bare));
    CHECK(matches_strong(parse("\"098f6bcd4621d373cade4e832627b4f6"), stored));
    CHECK(matches_strong(parse("098f6bcd4621d373cade4e832627b4f6\""), stored));
    CHECK_FALSE(matches_strong(parse("\"098F6BCD4621D373CADE4E832627B4F6\""), stored));
    CHECK_FALSE(matches_strong(parse("\"other\""), stored));
}

TEST_CASE("D1: strong comparison never matches a W/ member; `*` matches") {
    CHECK_FALSE(matches_strong(parse("W/\"098f6bcd4621d373cade4e832627b4f6\""), stored));
    CHECK(matches_strong(parse("W/\"098f6bcd4621d373cade4e832627b4f6\", " + std::string(stored)),
                         stored));
    CHECK(matches_strong(parse("*"), stored));
    CHECK(matches_strong(parse("\"x\", \"098f6bcd4621d373cade4e832627b4f6\""), stored));
    CHECK_FALSE(matches_strong(parse("\"x\", \"y\""), stored));
}

TEST_CASE("D1: weak comparison ignores W/ on either side") {
    CHECK(matches_weak(parse("W/\"098f6bcd4621d373cade4e832627b4f6\""), stored));
    CHECK(matches_weak(parse(stored), "W/" + std::string(stored)));
    CHECK(matches_weak(parse("*"), stored));
    CHECK(matches_weak(parse("\"x\", 098f6bcd4621d373cade4e832627b4f6"), stored));
    CHECK_FALSE(matches_weak(parse("\"x\", W/\"y\""), stored));
}

TEST_CASE("R-E1: quote_etag quotes bare values and leaves quoted ones alone") {
    CHECK(quote_etag(bare) == stored);
    CHECK(quote_etag(stored) == stored);
    CHECK(quote_etag("abc-2") == "\"abc-2\"");
    CHECK(quote_etag("") == "\"\"");
    CHECK(quote_etag("\"") == "\"\"\"");
}
