// Store-wide totals.
#include "storage/sqlite/stats.hpp"

#include "storage/sqlite/sqlite.hpp"

namespace ifmatch::storage::sqlite {

result<store_totals> stored_totals(read_txn &t) {
    query q(t.db, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM versions "
                  "WHERE is_latest = 1 AND delete_marker = 0");
    store_totals s;
    if (q->step()) {
        s.objects = q->column_int(0);
        s.bytes = q->column_int(1);
    }
    return s;
}

} // namespace ifmatch::storage::sqlite
