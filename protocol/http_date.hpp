// HTTP-date parsing (IMF-fixdate, RFC 850, asctime: spec R-T4/R-T5, D2) and the date formats S3
// emits (RFC 1123 headers, ISO 8601 in XML, the SigV4 basic form). Pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

using sys_seconds = std::chrono::sys_seconds;
using sys_millis = std::chrono::sys_time<std::chrono::milliseconds>;

// Parses any of the three HTTP-date forms. Anything else (ISO 8601, garbage) -> nullopt.
// `now` resolves RFC 850's two-digit year (RFC 9110 §5.6.7: a year that would lie more than 50
// years in the future is taken from the previous century). Surrounding white space is ignored.
std::optional<sys_seconds> parse_http_date(std::string_view v, sys_seconds now);

// As above with `now` read from the system clock (the clock matters only for RFC 850 years).
std::optional<sys_seconds> parse_http_date(std::string_view v);

// `Sun, 06 Nov 1994 08:49:37 GMT`.
std::string format_http_date(sys_seconds t);

// `2009-10-12T17:50:30.123Z` (XML LastModified, milliseconds kept).
std::string format_iso8601(sys_millis t);

// An ISO 8601 date or date-time -> milliseconds since the epoch (UTC): `2030-01-01`,
// `2030-01-01T00:00:00Z`, `...T00:00:00.123Z` (any number of fraction digits, kept to the
// millisecond; a non-zero part finer than that adds 1 ms, so such a time is never taken for an
// exact one), `...T02:00:00+02:00` / `+0200` / `-05:00`. Seconds are required with a time.
// Anything else -> nullopt.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view s);

// `20130524T000000Z` (x-amz-date) -> time; nullopt when malformed.
std::optional<sys_seconds> parse_amz_date(std::string_view v);
std::string format_amz_date(sys_seconds t);

} // namespace ifmatch::protocol
