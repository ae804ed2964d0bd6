// Test support: the whole body of a read, from its inline bytes and body sources (any backend).
#pragma once

#include "storage/types.hpp"

#include <doctest/doctest.h>

#include <string>

namespace ifmatch::test_support {

inline std::string read_whole(const storage::object_read &o) {
    std::string out;
    for (const auto &seg : o.segments) {
        if (!seg.source) {
            out += seg.inline_data;
            continue;
        }
        std::string buf(seg.size, '\0');
        REQUIRE(seg.source->read_at(0, buf.data(), buf.size()));
        out += buf;
    }
    return out;
}

} // namespace ifmatch::test_support
