// Tests for the shared ASCII text helpers: hex digits, the two trims, case folding.

#include "protocol/text.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ifmatch::protocol;

TEST_CASE("ascii: hex_value of every digit form, and -1 for anything else") {
    CHECK(ascii::hex_value('0') == 0);
    CHECK(ascii::hex_value('9') == 9);
    CHECK(ascii::hex_value('a') == 10);
    CHECK(ascii::hex_value('f') == 15);
    CHECK(ascii::hex_value('A') == 10);
    CHECK(ascii::hex_value('F') == 15);
    CHECK(ascii::hex_value('c') == ascii::hex_value('C'));
    for (const char c : {'g', 'G', 'z', '/', ':', '@', '`', ' ', '\0', '-', '\xC3', '\xFF'}) {
        CAPTURE(static_cast<int>(static_cast<unsigned char>(c)));
        CHECK(ascii::hex_value(c) == -1);
    }
    int valid = 0;
    for (int b = 0; b < 256; ++b) {
        valid += ascii::hex_value(static_cast<char>(b)) >= 0;
    }
    CHECK(valid == 22);
}

TEST_CASE("ascii: trim_ows strips only SP and HTAB") {
    CHECK(ascii::trim_ows("") == "");
    CHECK(ascii::trim_ows(" \t \t") == "");
    CHECK(ascii::trim_ows("abc") == "abc");
    CHECK(ascii::trim_ows(" \tabc\t ") == "abc");
    CHECK(ascii::trim_ows("  a b  ") == "a b"); // inner blanks stay
    CHECK(ascii::trim_ows("\r\nabc\r\n") == "\r\nabc\r\n");
    CHECK(ascii::trim_ows(" \rabc\n ") == "\rabc\n");
    CHECK(ascii::trim_ows("\vabc\f") == "\vabc\f");
    CHECK(ascii::trim_ows(std::string_view("\0x\0", 3)) == std::string_view("\0x\0", 3));
    // The result is a view into the argument.
    const std::string_view s = "  xy ";
    CHECK(ascii::trim_ows(s).data() == s.data() + 2);
}

TEST_CASE("ascii: trim_xml strips SP, HTAB, CR and LF") {
    CHECK(ascii::trim_xml("") == "");
    CHECK(ascii::trim_xml(" \t\r\n") == "");
    CHECK(ascii::trim_xml("\r\n\t Enabled \n") == "Enabled");
    CHECK(ascii::trim_xml(" a\r\nb ") == "a\r\nb");
    CHECK(ascii::trim_xml("\vabc\f") == "\vabc\f");
    CHECK(ascii::trim_xml("\xC2\xA0x\xC2\xA0") == "\xC2\xA0x\xC2\xA0"); // NBSP is not XML space
}

TEST_CASE("ascii: lower folds A-Z only") {
    CHECK(ascii::lower('A') == 'a');
    CHECK(ascii::lower('Z') == 'z');
    CHECK(ascii::lower('a') == 'a');
    CHECK(ascii::lower('@') == '@'); // just before 'A'
    CHECK(ascii::lower('[') == '['); // just after 'Z'
    CHECK(ascii::lower('\xC0') == '\xC0');
    CHECK(ascii::lower('\xDE') == '\xDE');
    CHECK(ascii::lower(std::string_view()) == "");
    CHECK(ascii::lower("X-Amz-Meta-Foo_1") == "x-amz-meta-foo_1");
    CHECK(ascii::lower("Caf\xC3\x89 \xC3\x84") == "caf\xC3\x89 \xC3\x84"); // UTF-8 bytes kept
    CHECK(ascii::lower("\xC0\xDE\xFF") == "\xC0\xDE\xFF");
    CHECK(ascii::lower(std::string_view("A\0B", 3)) == std::string_view("a\0b", 3));
}

TEST_CASE("ascii: iequals ignores ASCII case only") {
    CHECK(ascii::iequals("", ""));
    CHECK(ascii::iequals("Content-Type", "content-type"));
    CHECK(ascii::iequals("X-AMZ-DATE", "x-amz-date"));
    CHECK_FALSE(ascii::iequals("abc", "abcd"));
    CHECK_FALSE(ascii::iequals("abcd", "abc"));
    CHECK_FALSE(ascii::iequals("", "a"));
    CHECK_FALSE(ascii::iequals("a-b", "a_b"));
    CHECK_FALSE(
        ascii::iequals("@", "`")); // 0x40 and 0x60 differ by the case bit, but are no letters
    CHECK_FALSE(ascii::iequals("[", "{"));
    CHECK(ascii::iequals("\xC3\xA9", "\xC3\xA9"));
    CHECK_FALSE(ascii::iequals("\xC3\xA9", "\xC3\x89")); // é vs É: non-ASCII is not folded
}
