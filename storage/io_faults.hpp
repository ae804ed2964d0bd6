// Deterministic I/O fault injection, the way SQLite tests itself: when armed, every storage I/O
// operation of the chosen kinds is counted, and the N-th one fails (with `persistent`, every one
// after it too, as a disk that stays full does). The SQLite side is the VFS shim (wal_vfs.cpp:
// page writes of the database and the write-ahead log, syncs, truncates); the blob side is
// blob_store (body writes, fsyncs, unlinks). Disarmed, a check costs one relaxed atomic load.
// Process-wide: a test arms it around one store; the server arms it only through the test hooks
// (--enable-test-hooks).
#pragma once

#include <cstdint>
#include <string>

namespace ifmatch::storage::io_faults {

enum kind : unsigned {
    db_write = 1u << 0,    // a page written to the database file (checkpoints)
    wal_write = 1u << 1,   // a frame appended to the write-ahead log (commits)
    db_sync = 1u << 2,     // fsync of the database file
    wal_sync = 1u << 3,    // fsync of the write-ahead log
    truncate = 1u << 4,    // truncation of either file
    blob_write = 1u << 5,  // bytes of a body written to its blob file
    blob_sync = 1u << 6,   // fdatasync of a blob file (durability full)
    blob_unlink = 1u << 7, // removal of a blob file
    all = (1u << 8) - 1,
};

struct plan {
    std::int64_t nth = 1;  // the first counted operation that fails (1-based)
    bool persistent = false;
    unsigned kinds = all;
    bool disk_full = true; // SQLITE_FULL / ENOSPC; false: an I/O error (SQLITE_IOERR / EIO)
};

void arm(const plan &p);
void disarm();
// Counts an operation of kind `k` when armed; true when it must fail.
bool hit(kind k);
bool disk_full();          // the armed plan's error
std::int64_t counted();    // operations counted since arm()
std::int64_t fired();      // faults delivered since arm()
// "wal_write,blob_sync" or "all" -> mask; 0 for an unknown name.
unsigned parse_kinds(const std::string &names);

} // namespace ifmatch::storage::io_faults
