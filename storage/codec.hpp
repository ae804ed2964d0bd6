// Text encodings of the small structured columns (object metadata, checksums, key history).
// Pure helpers shared by the backends (no SQL, no I/O).
#pragma once

#include "storage/types.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ifmatch::storage {

std::string encode_pairs(const string_pairs &pairs);
string_pairs decode_pairs(std::string_view text);

std::string encode_meta(const object_meta &m);
object_meta decode_meta(std::string_view text);

// Key history for the 409 model (spec D3): the last few mutations of a key as (seq, exists after).
struct mutation_history {
    bool base_exists = false; // state before the oldest kept entry
    std::vector<std::pair<std::int64_t, bool>> entries;

    // Whether a current object existed once every mutation with seq <= `at` had committed.
    bool existed_at(std::int64_t at) const;
    void append(std::int64_t seq, bool exists_after, std::size_t keep = 16);
};
std::string encode_history(const mutation_history &h);
mutation_history decode_history(std::string_view text);

} // namespace ifmatch::storage
