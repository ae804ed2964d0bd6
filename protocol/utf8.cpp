// UTF-8 well-formedness (see utf8.hpp).
#include "protocol/utf8.hpp"

namespace ifmatch::protocol {

std::size_t utf8_sequence(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto c0 = b(i);
    if (c0 < 0x80) {
        return 1;
    }
    const std::size_t n = c0 >= 0xC2 && c0 <= 0xDF   ? 2
                          : c0 >= 0xE0 && c0 <= 0xEF ? 3
                          : c0 >= 0xF0 && c0 <= 0xF4 ? 4
                                                     : 0;
    if (n == 0 || i + n > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) {
            return 0;
        }
    }
    const auto c1 = b(i + 1);
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    if ((c0 == 0xE0 && c1 < 0xA0) || (c0 == 0xED && c1 > 0x9F) || (c0 == 0xF0 && c1 < 0x90) ||
        (c0 == 0xF4 && c1 > 0x8F)) {
        return 0;
    }
    return n;
}

bool is_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto n = utf8_sequence(s, i);
        if (n == 0) {
            return false;
        }
        i += n;
    }
    return true;
}

} // namespace ifmatch::protocol
