// Store-wide totals for the metrics endpoint: one aggregate query over current versions, run as
// a read job (reader thread, one snapshot).
#pragma once

#include "storage/store.hpp"

#include <cstdint>

namespace ifmatch::storage {

struct store_totals {
    std::int64_t objects = 0; // current versions that are not delete markers
    std::int64_t bytes = 0;   // their sizes summed
};

// COUNT/SUM over the current versions of every bucket. Errors: InternalError on SQLite failure.
result<store_totals> stored_totals(read_txn &t);

} // namespace ifmatch::storage
