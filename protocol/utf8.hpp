// UTF-8 well-formedness (Unicode 15, table 3-7): the one definition the key check, the request
// classifier and the XML text writer share. Pure.
#pragma once

#include <cstddef>
#include <string_view>

namespace ifmatch::protocol {

// The length (1-4) of the well-formed UTF-8 sequence starting at s[i], or 0 when the bytes there
// are not one: a stray continuation byte, a truncated sequence, an overlong form, a UTF-16
// surrogate or a code point above U+10FFFF. `i` must be less than s.size().
std::size_t utf8_sequence(std::string_view s, std::size_t i);

// True when all of `s` is well-formed UTF-8 (the empty string is).
bool is_utf8(std::string_view s);

} // namespace ifmatch::protocol
