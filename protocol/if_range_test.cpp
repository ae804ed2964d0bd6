// Unit tests of If-Range (R-G15).
#include "protocol/if_range.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

TEST_CASE("R-G15 If-Range: strong ETag or exact Last-Modified second") {
    const std::string etag = "\"0cc175b9c0f1b6a831c399e269772661\"";
    // Sun, 06 Nov 1994 08:49:37.250 GMT
    const sys_millis lm{std::chrono::milliseconds(784111777250)};
    CHECK(if_range_holds(etag, etag, lm));
    CHECK(if_range_holds(" " + etag + " ", etag, lm));
    CHECK_FALSE(if_range_holds("\"other\"", etag, lm));
    CHECK_FALSE(if_range_holds("W/" + etag, etag, lm));
    CHECK_FALSE(if_range_holds("0cc175b9c0f1b6a831c399e269772661", etag, lm));
    CHECK(if_range_holds("Sun, 06 Nov 1994 08:49:37 GMT", etag, lm));
    CHECK_FALSE(if_range_holds("Sun, 06 Nov 1994 08:49:38 GMT", etag, lm));
    CHECK_FALSE(if_range_holds("Sun, 06 Nov 1994 08:49:36 GMT", etag, lm));
    CHECK_FALSE(if_range_holds("not a date", etag, lm));
    CHECK_FALSE(if_range_holds("", etag, lm));
}
