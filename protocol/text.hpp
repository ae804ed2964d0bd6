// ASCII text helpers shared across protocol/ (namespace ascii): hex digits, trimming, case
// folding. Byte-oriented and locale-independent: only A-Z fold, every other byte (UTF-8 and other
// non-ASCII bytes included) is left as it is; trims return a view into their argument. Pure; safe
// from any thread.
#pragma once

#include <string>
#include <string_view>

namespace ifmatch::protocol::ascii {

// The value (0-15) of the hex digit `c` (0-9, a-f, A-F), or -1 when it is none.
int hex_value(char c);

// Strips HTTP optional white space (SP and HTAB, RFC 9110 §5.6.3) at both ends; CR/LF are kept.
std::string_view trim_ows(std::string_view s);
// Strips XML white space (SP, HTAB, CR and LF) at both ends, e.g. around element text.
std::string_view trim_xml(std::string_view s);

// `c` with A-Z mapped to a-z; any other byte is returned unchanged.
char lower(char c);
// A copy of `s` with A-Z mapped to a-z; any other byte is kept.
std::string lower(std::string_view s);
// True when `a` and `b` are equal ignoring ASCII case (A-Z vs a-z only).
bool iequals(std::string_view a, std::string_view b);

} // namespace ifmatch::protocol::ascii
