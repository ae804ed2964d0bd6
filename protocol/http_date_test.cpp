// Unit tests for protocol/http_date: the three HTTP-date forms (R-T4, D2, RFC 9110 §5.6.7),
// rejection of everything else (R-T5), and the formatters S3 emits.
#include "protocol/http_date.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;
using namespace std::chrono;

namespace {

// RFC 9110's example instant, Sun, 06 Nov 1994 08:49:37 GMT.
const sys_seconds rfc_example = sys_days{1994y / November / 6} + 8h + 49min + 37s;
// A fixed server clock for RFC 850 year resolution.
const sys_seconds now_2026 = sys_days{2026y / March / 2} + 12h;

std::optional<sys_seconds> at(std::string_view v) { return parse_http_date(v, now_2026); }

sys_seconds ymd_hms(year_month_day d, hours h, minutes m, seconds s) {
    return sys_days{d} + h + m + s;
}

} // namespace

TEST_CASE("R-T4, D2: the three HTTP-date forms name the same instant") {
    CHECK(at("Sun, 06 Nov 1994 08:49:37 GMT") == rfc_example);
    CHECK(at("Sunday, 06-Nov-94 08:49:37 GMT") == rfc_example);
    CHECK(at("Sun Nov  6 08:49:37 1994") == rfc_example);
    CHECK(at("Sun Nov 06 08:49:37 1994") == rfc_example);
    CHECK(rfc_example.time_since_epoch().count() == 784111777);
}

TEST_CASE("R-T4: IMF-fixdate fields across the calendar") {
    CHECK(at("Sat, 01 Jan 2000 00:00:00 GMT") == sys_seconds{sys_days{2000y / January / 1}});
    CHECK(at("Thu, 29 Feb 2024 23:59:59 GMT") == ymd_hms(2024y / February / 29, 23h, 59min, 59s));
    CHECK(at("Thu, 01 Jan 1970 00:00:00 GMT") == sys_seconds{});
    CHECK(at("Wed, 31 Dec 1969 23:59:59 GMT") == sys_seconds{-1s});
    CHECK(at("Sun, 01 Mar 2026 12:00:00 GMT") == ymd_hms(2026y / March / 1, 12h, 0min, 0s));
}

TEST_CASE("D2: a leap second (60) is accepted and rolls into the next minute") {
    CHECK(at("Wed, 31 Dec 2008 23:59:60 GMT") == sys_seconds{sys_days{2009y / January / 1}});
}

TEST_CASE("D2: surrounding white space is ignored") {
    CHECK(at("  Sun, 06 Nov 1994 08:49:37 GMT\t") == rfc_example);
}

TEST_CASE("D2: the day name is not checked against the date") {
    CHECK(at("Mon, 06 Nov 1994 08:49:37 GMT") == rfc_example);
}

TEST_CASE("D2, RFC 9110 §5.6.7: RFC 850 two-digit years never lie more than 50 years ahead") {
    CHECK(at("Sunday, 06-Nov-94 08:49:37 GMT") == rfc_example);
    CHECK(at("Sunday, 01-Mar-26 12:00:00 GMT") == ymd_hms(2026y / March / 1, 12h, 0min, 0s));
    CHECK(at("Saturday, 01-Jan-00 00:00:00 GMT") == sys_seconds{sys_days{2000y / January / 1}});
    CHECK(at("Monday, 01-Jan-76 00:00:00 GMT") == sys_seconds{sys_days{2076y / January / 1}});
    CHECK(at("Friday, 01-Jan-77 00:00:00 GMT") == sys_seconds{sys_days{1977y / January / 1}});
    // Exactly at the 50-year limit (2076-03-02 12:00:00) is not "more than 50 years" ahead.
    CHECK(at("Monday, 02-Mar-76 12:00:00 GMT") == ymd_hms(2076y / March / 2, 12h, 0min, 0s));
    CHECK(at("Monday, 02-Mar-76 12:00:01 GMT") == ymd_hms(1976y / March / 2, 12h, 0min, 1s));
    // Late in a century a small year belongs to the next century when within 50 years.
    const sys_seconds now_2090 = sys_days{2090y / June / 1};
    CHECK(parse_http_date("Monday, 01-Jan-01 00:00:00 GMT", now_2090) ==
          sys_seconds{sys_days{2101y / January / 1}});
    CHECK(parse_http_date("Monday, 01-Jan-40 00:00:00 GMT", now_2090) ==
          sys_seconds{sys_days{2140y / January / 1}});
    CHECK(parse_http_date("Monday, 01-Jan-41 00:00:00 GMT", now_2090) ==
          sys_seconds{sys_days{2041y / January / 1}});
}

TEST_CASE("R-T5, D2: anything that is not one of the three forms is rejected") {
    for (auto v : {"",
                   "not a date",
                   "946684800",
                   "2026-03-01T12:00:00Z",
                   "2026-03-01T12:00:00.456Z",
                   "20260301T120000Z",
                   "Sat, 01 Jan 2000 00:00:00 UTC",
                   "Sat, 01 Jan 2000 00:00:00 +0000",
                   "Sat, 1 Jan 2000 00:00:00 GMT",
                   "Sat, 01 Jan 00 00:00:00 GMT",
                   "sat, 01 jan 2000 00:00:00 gmt",
                   "SAT, 01 JAN 2000 00:00:00 GMT",
                   "Sat 01 Jan 2000 00:00:00 GMT",
                   "01 Jan 2000 00:00:00 GMT",
                   "Sat, 01 Jan 2000 00:00 GMT",
                   "Sat, 01 Jan 2000 0:00:00 GMT",
                   "Sat, 01 Jan 2000 00:00:00 GMT junk",
                   "Sat, 01-Jan-2000 00:00:00 GMT",
                   "Saturday, 01 Jan 2000 00:00:00 GMT",
                   "Saturday, 01-Jan-2000 00:00:00 GMT",
                   "Sat, 01-Jan-00 00:00:00 GMT",
                   "Saturday, 1-Jan-00 00:00:00 GMT",
                   "Sat Jan 1 00:00:00 2000",
                   "Sat Jan  1 00:00:00 00",
                   "Sat Jan  1 00:00:00 2000 GMT",
                   "Xyz, 01 Jan 2000 00:00:00 GMT",
                   "Sat, 01 Foo 2000 00:00:00 GMT",
                   "Sat, 00 Jan 2000 00:00:00 GMT",
                   "Sat, 32 Jan 2000 00:00:00 GMT",
                   "Sat, 31 Feb 2000 00:00:00 GMT",
                   "Sat, 29 Feb 2025 00:00:00 GMT",
                   "Sat, 01 Jan 2000 24:00:00 GMT",
                   "Sat, 01 Jan 2000 00:60:00 GMT",
                   "Sat, 01 Jan 2000 00:00:61 GMT",
                   "Sat, 0x Jan 2000 00:00:00 GMT",
                   "Sat, 01 Jan 2000 00:00:00 GMT\r\n"}) {
        CAPTURE(v);
        CHECK_FALSE(at(v).has_value());
    }
}

TEST_CASE("R-L1: format_http_date writes IMF-fixdate and round-trips") {
    CHECK(format_http_date(rfc_example) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(format_http_date(sys_seconds{}) == "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(format_http_date(sys_seconds{-1s}) == "Wed, 31 Dec 1969 23:59:59 GMT");
    CHECK(format_http_date(ymd_hms(2026y / March / 1, 12h, 0min, 0s)) ==
          "Sun, 01 Mar 2026 12:00:00 GMT");
    for (auto t : {rfc_example, now_2026, sys_seconds{sys_days{2024y / February / 29}}}) {
        CHECK(at(format_http_date(t)) == t);
    }
}

TEST_CASE("R-L1: format_iso8601 keeps milliseconds") {
    const sys_millis t = sys_days{2026y / March / 1} + 12h + 456ms;
    CHECK(format_iso8601(t) == "2026-03-01T12:00:00.456Z");
    CHECK(format_iso8601(sys_millis{}) == "1970-01-01T00:00:00.000Z");
    CHECK(format_iso8601(sys_millis{-1ms}) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("SigV4 x-amz-date basic form parses and formats") {
    CHECK(parse_amz_date("20130524T000000Z") == sys_seconds{sys_days{2013y / May / 24}});
    CHECK(format_amz_date(rfc_example) == "19941106T084937Z");
    CHECK(parse_amz_date(format_amz_date(now_2026)) == now_2026);
    for (auto v :
         {"", "20130524T000000", "20130524 000000Z", "2013-05-24T00:00:00Z", "20131324T000000Z",
          "20130532T000000Z", "20130524T240000Z", "2013052AT000000Z"}) {
        CAPTURE(v);
        CHECK_FALSE(parse_amz_date(v).has_value());
    }
}

TEST_CASE("parse_iso8601_ms: dates, times, fractions and offsets") {
    CHECK(parse_iso8601_ms("1970-01-01") == 0);
    CHECK(parse_iso8601_ms("1970-01-02T00:00:00Z") == 86'400'000);
    CHECK(parse_iso8601_ms("2030-01-01T00:00:00.000Z") == 1'893'456'000'000);
    CHECK(parse_iso8601_ms("2030-01-01T00:00:00.5Z") == 1'893'456'000'500);
    CHECK(parse_iso8601_ms("2030-01-01T02:00:00+02:00") == 1'893'456'000'000);
    CHECK(parse_iso8601_ms("2029-12-31T19:00:00-0500") == 1'893'456'000'000);
    CHECK_FALSE(parse_iso8601_ms("2030-02-30"));
    CHECK_FALSE(parse_iso8601_ms("2030-01-01T00:00Z"));
    CHECK_FALSE(parse_iso8601_ms("Sun, 06 Nov 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_iso8601_ms(""));
}
