// Store-wide totals for the metrics endpoint: one aggregate query over current versions, run as
// a read job (reader thread, one snapshot).
#pragma once

#include "storage/requests.hpp"
#include "storage/sqlite/store.hpp"

#include <cstdint>

namespace ifmatch::storage::sqlite {

// COUNT/SUM over the current versions of every bucket. Errors: InternalError on SQLite failure.
result<store_totals> stored_totals(read_txn &t);

} // namespace ifmatch::storage::sqlite
