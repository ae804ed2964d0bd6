// Tests for percent-decoding, SigV4 URI encoding and query-string parsing.

#include "protocol/uri.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

TEST_CASE("uri: percent_decode") {
    CHECK(percent_decode("") == "");
    CHECK(percent_decode("plain") == "plain");
    CHECK(percent_decode("a%20b") == "a b");
    CHECK(percent_decode("a+b") == "a+b"); // A plus in a path is a plus.
    CHECK(percent_decode("%2B") == "+");
    CHECK(percent_decode("a%2Fb") == "a/b");
    CHECK(percent_decode("a%2fb") == "a/b");
    CHECK(percent_decode("%C3%A9t%C3%A9") == "\xC3\xA9t\xC3\xA9");
    CHECK(percent_decode("\xC3\xA9") == "\xC3\xA9"); // Raw UTF-8 passes through.
    CHECK(percent_decode("%252F") == "%2F");         // Decoded once only.
    CHECK(percent_decode("%00") == std::string(1, '\0'));
    CHECK(percent_decode("100%25") == "100%");
}

TEST_CASE("uri: malformed escapes") {
    for (const std::string_view s : {"%", "%2", "a%", "%zz", "%2G", "%G2", "abc%4", "%%41"}) {
        CAPTURE(s);
        CHECK_FALSE(percent_decode(s));
        CHECK_FALSE(query_decode(s));
    }
}

TEST_CASE("uri: query_decode uses form semantics") {
    CHECK(query_decode("a+b") == "a b");
    CHECK(query_decode("a%2Bb") == "a+b");
    CHECK(query_decode("a%20b") == "a b");
}

TEST_CASE("uri: uri_encode") {
    CHECK(uri_encode("AZaz09-_.~", false) == "AZaz09-_.~");
    CHECK(uri_encode("a b+c", false) == "a%20b%2Bc");
    CHECK(uri_encode("a/b", false) == "a%2Fb");
    CHECK(uri_encode("a/b", true) == "a/b");
    CHECK(uri_encode("\xC3\xA9", true) == "%C3%A9");
    CHECK(uri_encode("*'()!", true) == "%2A%27%28%29%21");
    CHECK(uri_encode(std::string(1, '\0'), true) == "%00");
    CHECK(uri_encode("\xFF", true) == "%FF");
    const std::string all = "k =&?#%\xE2\x82\xAC/~";
    CHECK(percent_decode(uri_encode(all, true)) == all);
    CHECK(percent_decode(uri_encode(all, false)) == all);
}

TEST_CASE("uri: query_params") {
    SUBCASE("order, valueless parameters and decoding") {
        auto q = query_params::parse("list-type=2&prefix=a%2Fb+c&delimiter=%2F&uploads&x-id=Put");
        REQUIRE(q.has_value());
        REQUIRE(q->items().size() == 5);
        CHECK(q->items()[0].first == "list-type");
        CHECK(q->get("list-type") == "2");
        CHECK(q->get("prefix") == "a/b c");
        CHECK(q->get("delimiter") == "/");
        CHECK(q->has("uploads"));
        CHECK(q->get("uploads") == "");
        CHECK_FALSE(q->has("upload"));
        CHECK_FALSE(q->get("missing"));
    }
    SUBCASE("empty pieces and `=` in values") {
        auto q = query_params::parse("&a=1&&b=x=y&uploads=&");
        REQUIRE(q.has_value());
        REQUIRE(q->items().size() == 3);
        CHECK(q->get("b") == "x=y");
        CHECK(q->get("uploads") == "");
        auto empty = query_params::parse("");
        REQUIRE(empty.has_value());
        CHECK(empty->items().empty());
    }
    SUBCASE("the first of repeated names wins") {
        auto q = query_params::parse("a=1&a=2");
        REQUIRE(q.has_value());
        CHECK(q->get("a") == "1");
        CHECK(q->items().size() == 2);
    }
    SUBCASE("names are case-sensitive") {
        auto q = query_params::parse("uploadId=x");
        REQUIRE(q.has_value());
        CHECK(q->has("uploadId"));
        CHECK_FALSE(q->has("uploadid"));
    }
    SUBCASE("malformed escape") {
        CHECK_FALSE(query_params::parse("a=%zz"));
        CHECK_FALSE(query_params::parse("%=1"));
    }
}
