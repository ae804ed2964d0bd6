// I/O fault injection (see io_faults.hpp).
#include "storage/io_faults.hpp"

#include <atomic>
#include <sstream>

namespace ifmatch::storage::io_faults {

namespace {

std::atomic<bool> armed{false};
std::atomic<std::int64_t> nth{0}, count{0}, fired_count{0};
std::atomic<unsigned> kinds{0};
std::atomic<bool> persistent{false}, full{true};

} // namespace

void arm(const plan &p) {
    armed.store(false);
    nth.store(p.nth);
    kinds.store(p.kinds);
    persistent.store(p.persistent);
    full.store(p.disk_full);
    count.store(0);
    fired_count.store(0);
    armed.store(true);
}

void disarm() { armed.store(false); }

bool hit(kind k) {
    if (!armed.load(std::memory_order_relaxed) || (kinds.load() & k) == 0) {
        return false;
    }
    auto n = count.fetch_add(1) + 1;
    auto at = nth.load();
    if (n == at || (persistent.load() && n > at)) {
        fired_count.fetch_add(1);
        return true;
    }
    return false;
}

bool disk_full() { return full.load(); }
std::int64_t counted() { return count.load(); }
std::int64_t fired() { return fired_count.load(); }

unsigned parse_kinds(const std::string &names) {
    static const std::pair<const char *, unsigned> table[] = {
        {"db_write", db_write},     {"wal_write", wal_write}, {"db_sync", db_sync},
        {"wal_sync", wal_sync},     {"truncate", truncate},   {"blob_write", blob_write},
        {"blob_sync", blob_sync},   {"blob_unlink", blob_unlink}, {"all", all},
    };
    unsigned mask = 0;
    std::stringstream in(names);
    std::string name;
    while (std::getline(in, name, ',')) {
        unsigned one = 0;
        for (auto &[n, m] : table) {
            if (name == n) {
                one = m;
            }
        }
        if (one == 0) {
            return 0;
        }
        mask |= one;
    }
    return mask;
}

} // namespace ifmatch::storage::io_faults
