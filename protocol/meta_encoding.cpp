// Stored and returned forms of Content-Encoding and user metadata (see meta_encoding.hpp).
#include "protocol/meta_encoding.hpp"

#include "protocol/utf8.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <array>
#include <cstdint>
#include <optional>

namespace ifmatch::protocol {

namespace {

// Each byte as the code point of the same value (ISO-8859-1), UTF-8 encoded.
std::string latin1_to_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size() * 2);
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x80) {
            out.push_back(ch);
        } else {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

// RFC 2047 §4.2: `_` is a space, `=XX` a byte, anything else itself.
std::optional<std::string> q_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '_') {
            out.push_back(' ');
        } else if (text[i] == '=') {
            if (i + 2 >= text.size())
                return std::nullopt;
            int hi = ascii::hex_value(text[i + 1]), lo = ascii::hex_value(text[i + 2]);
            if (hi < 0 || lo < 0)
                return std::nullopt;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

// One encoded-word `=?charset?enc?text?=` starting at `s[0]`: its length and decoded UTF-8 text,
// or nullopt when `s` does not start with a word that decodes.
std::optional<std::pair<std::size_t, std::string>> encoded_word(std::string_view s) {
    if (s.substr(0, 2) != "=?")
        return std::nullopt;
    const auto q1 = s.find('?', 2);
    if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') {
        return std::nullopt;
    }
    const auto end = s.find("?=", q1 + 3);
    if (end == std::string_view::npos)
        return std::nullopt;
    const std::string charset = ascii::lower(s.substr(2, q1 - 2));
    const char enc = ascii::lower(s[q1 + 1]);
    const auto text = s.substr(q1 + 3, end - q1 - 3);
    if (text.find_first_of(" \t") != std::string_view::npos)
        return std::nullopt;
    std::optional<std::string> bytes;
    if (enc == 'q') {
        bytes = q_decode(text);
    } else if (enc == 'b') {
        bytes = base64_decode(text);
    }
    if (!bytes)
        return std::nullopt;
    std::string utf8;
    if (charset == "utf-8" || charset == "utf8") {
        if (!is_utf8(*bytes))
            return std::nullopt;
        utf8 = std::move(*bytes);
    } else if (charset == "iso-8859-1" || charset == "latin1" || charset == "us-ascii") {
        if (charset == "us-ascii" && !is_utf8(*bytes))
            return std::nullopt;
        utf8 = latin1_to_utf8(*bytes);
    } else {
        return std::nullopt;
    }
    return std::pair{end + 2, std::move(utf8)};
}

bool printable_ascii(std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c != '\t' && (c < 0x20 || c > 0x7E))
            return false;
    }
    return true;
}

// Control characters (C0 other than tab, DEL, C1) or U+FFFD in valid UTF-8 text.
bool has_unprintable(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return true;
        if (c == 0xC2 && i + 1 < s.size()) {
            auto n = static_cast<unsigned char>(s[i + 1]);
            if (n >= 0x80 && n <= 0x9F)
                return true; // U+0080..U+009F
        }
        if (s.substr(i, 3) == "\xEF\xBF\xBD")
            return true; // U+FFFD
    }
    return false;
}

} // namespace

std::string strip_aws_chunked(std::string_view value) {
    std::string kept;
    std::size_t start = 0;
    while (start <= value.size()) {
        auto comma = value.find(',', start);
        auto token = value.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                         : comma - start);
        if (ascii::lower(ascii::trim_ows(token)) != "aws-chunked") {
            // The token keeps the blanks written before it; the comma before it comes back.
            kept += kept.empty() ? std::string(ascii::trim_ows(token)) : "," + std::string(token);
        }
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return std::string(ascii::trim_ows(kept));
}


std::string decode_meta_value(std::string_view raw) {
    const std::string text = is_utf8(raw) ? std::string(raw) : latin1_to_utf8(raw);
    std::string out;
    std::size_t i = 0;
    bool after_word = false; // the last thing copied was a decoded word
    while (i < text.size()) {
        if (auto word = encoded_word(std::string_view(text).substr(i))) {
            out += word->second;
            i += word->first;
            after_word = true;
            continue;
        }
        // White space between two encoded-words is not part of the text (RFC 2047 §6.2).
        if (after_word && (text[i] == ' ' || text[i] == '\t')) {
            auto next = text.find_first_not_of(" \t", i);
            if (next != std::string::npos && encoded_word(std::string_view(text).substr(next))) {
                i = next;
                continue;
            }
        }
        out.push_back(text[i++]);
        after_word = false;
    }
    return out;
}

std::string encode_meta_value(std::string_view stored) {
    if (printable_ascii(stored)) {
        return std::string(stored);
    }
    if (has_unprintable(stored)) {
        return "=?UTF-8?B?" + base64_encode(stored) + "?=";
    }
    static const char hex[] = "0123456789ABCDEF";
    std::string out = "=?UTF-8?Q?";
    for (char ch : stored) {
        auto c = static_cast<unsigned char>(ch);
        if (c == ' ') {
            out.push_back('_');
        } else if (c > 0x20 && c < 0x7F && c != '=' && c != '?' && c != '_') {
            out.push_back(ch);
        } else {
            out.push_back('=');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out + "?=";
}

} // namespace ifmatch::protocol
