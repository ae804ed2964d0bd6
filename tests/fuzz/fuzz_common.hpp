// Helpers shared by the libFuzzer targets: split the input into fields, take a selector byte.
// Header-only; each target is one translation unit with LLVMFuzzerTestOneInput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ifmatch::fuzz {

// Splits `in` at every '\n' into at most `max` pieces (the last piece keeps the rest).
inline std::vector<std::string_view> fields(std::string_view in, std::size_t max) {
    std::vector<std::string_view> out;
    while (out.size() + 1 < max) {
        auto nl = in.find('\n');
        if (nl == std::string_view::npos) {
            break;
        }
        out.push_back(in.substr(0, nl));
        in.remove_prefix(nl + 1);
    }
    out.push_back(in);
    while (out.size() < max) {
        out.emplace_back();
    }
    return out;
}

inline std::string_view as_view(const std::uint8_t *data, std::size_t size) {
    return {reinterpret_cast<const char *>(data), size};
}

} // namespace ifmatch::fuzz
