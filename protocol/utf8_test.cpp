// Tests for UTF-8 well-formedness (Unicode table 3-7).

#include "protocol/utf8.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ifmatch::protocol;

TEST_CASE("utf8: sequence lengths of well-formed characters") {
    CHECK(utf8_sequence("a", 0) == 1);
    CHECK(utf8_sequence(std::string_view("\0", 1), 0) == 1);
    CHECK(utf8_sequence("\xC3\xA9", 0) == 2);
    CHECK(utf8_sequence("\xE2\x82\xAC", 0) == 3);
    CHECK(utf8_sequence("\xF0\x9F\x98\x80", 0) == 4);
    CHECK(utf8_sequence("\xF4\x8F\xBF\xBF", 0) == 4); // U+10FFFF
    CHECK(utf8_sequence("x\xC3\xA9", 1) == 2);
}

TEST_CASE("utf8: ill-formed sequences have length 0") {
    for (const std::string_view bad :
         {"\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xC3", "\xC3x", "\xE0\x80\xAF", "\xED\xA0\x80",
          "\xE2\x82", "\xF0\x80\x80\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFE", "\xFF"}) {
        CAPTURE(bad);
        CHECK(utf8_sequence(bad, 0) == 0);
        CHECK_FALSE(is_utf8(bad));
    }
    CHECK(is_utf8(""));
    CHECK(is_utf8("caf\xC3\xA9 \xE2\x82\xAC"));
    CHECK_FALSE(is_utf8("caf\xC3\xA9\xFF"));
}
