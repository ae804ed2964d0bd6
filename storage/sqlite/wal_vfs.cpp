// WAL write gathering (see wal_vfs.hpp). Hand-written: SQLite's VFS interface is the supported
// way to change how it does I/O, and no packaged shim gathers WAL writes.
#include "storage/sqlite/wal_vfs.hpp"

#include "storage/io_faults.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ifmatch::storage::sqlite {

namespace {

constexpr int frame_header_size = 24;         // WAL frame header (sqlite's wal.c format)
constexpr std::size_t flush_above = 1u << 20; // a long transaction is written in 1 MiB pieces
// The platform VFS keeps only the low 17 bits of a write's length (it expects page-sized
// writes): a gathered write goes to it in pieces below 128 KiB.
constexpr std::size_t write_piece = 31 * 4096;

sqlite3_vfs *platform = nullptr;

// Injected faults (io_faults.hpp): the error SQLite would get from the platform VFS.
int write_fault() { return io_faults::disk_full() ? SQLITE_FULL : SQLITE_IOERR_WRITE; }
constexpr int sync_fault = SQLITE_IOERR_FSYNC;
constexpr int truncate_fault = SQLITE_IOERR_TRUNCATE;

struct wal_state {
    sqlite3_file *real = nullptr;
    std::string path;
    std::mutex mu;
    std::string buf; // bytes not yet written, from offset `at`
    std::atomic<bool> pending{false}; // buf is not empty: lets db_barrier skip idle files
    sqlite3_int64 at = 0;
    bool commit_page_next = false; // the last append was a commit frame's header

    int flush_locked() {
        int rc = SQLITE_OK;
        for (std::size_t done = 0; done < buf.size() && rc == SQLITE_OK; done += write_piece) {
            auto n = std::min(write_piece, buf.size() - done);
            rc = real->pMethods->xWrite(real, buf.data() + done, static_cast<int>(n),
                                        at + static_cast<sqlite3_int64>(done));
        }
        buf.clear();
        pending.store(false, std::memory_order_release);
        return rc;
    }
};

// Open WAL files by path, for the database file's xShmBarrier (RULE 3).
std::mutex registry_mu;
std::multimap<std::string, wal_state *> registry;

struct shim_file {
    sqlite3_file base;
    sqlite3_file *real;
    wal_state *wal;      // for a WAL file
    std::string *db_wal; // for a main database file: the path of its WAL
};

std::size_t real_offset() {
    return (sizeof(shim_file) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) *
           alignof(std::max_align_t);
}

shim_file *shim(sqlite3_file *f) { return reinterpret_cast<shim_file *>(f); }
sqlite3_file *real(sqlite3_file *f) { return shim(f)->real; }

// ---- pass-through methods shared by both wrapped kinds ----------------------------------------

int pass_lock(sqlite3_file *f, int l) { return real(f)->pMethods->xLock(real(f), l); }
int pass_unlock(sqlite3_file *f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
int pass_check_reserved(sqlite3_file *f, int *out) {
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int pass_sector_size(sqlite3_file *f) { return real(f)->pMethods->xSectorSize(real(f)); }
int pass_device(sqlite3_file *f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
int pass_shm_map(sqlite3_file *f, int pg, int size, int extend, void volatile **pp) {
    return real(f)->pMethods->xShmMap(real(f), pg, size, extend, pp);
}
int pass_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
int pass_shm_unmap(sqlite3_file *f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
int pass_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp) {
    return real(f)->pMethods->xFetch(real(f), off, n, pp);
}
int pass_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
    return real(f)->pMethods->xUnfetch(real(f), off, p);
}

// ---- the main database file: everything passes through; the barrier also flushes ----------

int db_close(sqlite3_file *f) {
    int rc = real(f)->pMethods->xClose(real(f));
    delete shim(f)->db_wal;
    return rc;
}
int db_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off) {
    return real(f)->pMethods->xRead(real(f), p, n, off);
}
int db_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
    if (io_faults::hit(io_faults::db_write)) {
        return write_fault();
    }
    return real(f)->pMethods->xWrite(real(f), p, n, off);
}
int db_truncate(sqlite3_file *f, sqlite3_int64 size) {
    if (io_faults::hit(io_faults::truncate)) {
        return truncate_fault;
    }
    return real(f)->pMethods->xTruncate(real(f), size);
}
int db_sync(sqlite3_file *f, int flags) {
    if (io_faults::hit(io_faults::db_sync)) {
        return sync_fault;
    }
    return real(f)->pMethods->xSync(real(f), flags);
}
int db_size(sqlite3_file *f, sqlite3_int64 *out) {
    return real(f)->pMethods->xFileSize(real(f), out);
}
int db_control(sqlite3_file *f, int op, void *arg) {
    return real(f)->pMethods->xFileControl(real(f), op, arg);
}
void db_barrier(sqlite3_file *f) {
    {
        std::lock_guard<std::mutex> g(registry_mu);
        auto [from, to] = registry.equal_range(*shim(f)->db_wal);
        for (auto it = from; it != to; ++it) {
            if (!it->second->pending.load(std::memory_order_acquire)) {
                continue; // nothing gathered: no lock to wait for
            }
            std::lock_guard<std::mutex> w(it->second->mu);
            it->second->flush_locked(); // an error here was already reported (RULE 2)
        }
    }
    real(f)->pMethods->xShmBarrier(real(f));
}

const sqlite3_io_methods db_methods = {
    3,          db_close,         db_read,     db_write,     db_truncate,
    db_sync,    db_size,          pass_lock,   pass_unlock,  pass_check_reserved,
    db_control, pass_sector_size, pass_device, pass_shm_map, pass_shm_lock,
    db_barrier, pass_shm_unmap,   pass_fetch,  pass_unfetch,
};

// ---- the WAL: appends are gathered --------------------------------------------------------

wal_state &wal(sqlite3_file *f) { return *shim(f)->wal; }

int wal_close(sqlite3_file *f) {
    auto *w = shim(f)->wal;
    int rc;
    {
        std::lock_guard<std::mutex> g(w->mu);
        rc = w->flush_locked();
    }
    {
        std::lock_guard<std::mutex> g(registry_mu);
        auto [from, to] = registry.equal_range(w->path);
        for (auto it = from; it != to; ++it) {
            if (it->second == w) {
                registry.erase(it);
                break;
            }
        }
    }
    int rc2 = real(f)->pMethods->xClose(real(f));
    delete w;
    return rc != SQLITE_OK ? rc : rc2;
}

// Runs `op` on the platform's WAL file once the gathered bytes are written (RULE 2).
template <class Op> int after_flush(sqlite3_file *f, Op op) {
    auto &w = wal(f);
    std::lock_guard<std::mutex> g(w.mu);
    if (int rc = w.flush_locked(); rc != SQLITE_OK) {
        return rc;
    }
    return op(w.real);
}

int wal_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off) {
    return after_flush(f, [&](sqlite3_file *r) { return r->pMethods->xRead(r, p, n, off); });
}

std::uint32_t big_endian_u32(const unsigned char *p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

int wal_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
    if (io_faults::hit(io_faults::wal_write)) {
        return write_fault();
    }
    auto &w = wal(f);
    std::lock_guard<std::mutex> g(w.mu);
    if (!w.buf.empty() && off != w.at + static_cast<sqlite3_int64>(w.buf.size())) {
        // Not an append to what is gathered: write that first, then this one directly.
        w.commit_page_next = false;
        if (int rc = w.flush_locked(); rc != SQLITE_OK) {
            return rc;
        }
        return w.real->pMethods->xWrite(w.real, p, n, off);
    }
    if (w.buf.empty()) {
        w.at = off;
    }
    w.buf.append(static_cast<const char *>(p), static_cast<std::size_t>(n));
    w.pending.store(true, std::memory_order_release);
    bool commit_page = w.commit_page_next && n != frame_header_size;
    // A frame header with a non-zero database size ends a transaction: its page comes next.
    w.commit_page_next =
        n == frame_header_size && big_endian_u32(static_cast<const unsigned char *>(p) + 4) != 0;
    if (commit_page || w.buf.size() >= flush_above) {
        return w.flush_locked();
    }
    return SQLITE_OK;
}

int wal_truncate(sqlite3_file *f, sqlite3_int64 size) {
    if (io_faults::hit(io_faults::truncate)) {
        return truncate_fault;
    }
    return after_flush(f, [&](sqlite3_file *r) { return r->pMethods->xTruncate(r, size); });
}

int wal_sync(sqlite3_file *f, int flags) {
    if (io_faults::hit(io_faults::wal_sync)) {
        return sync_fault;
    }
    return after_flush(f, [&](sqlite3_file *r) { return r->pMethods->xSync(r, flags); });
}

int wal_size(sqlite3_file *f, sqlite3_int64 *out) {
    return after_flush(f, [&](sqlite3_file *r) { return r->pMethods->xFileSize(r, out); });
}

int wal_control(sqlite3_file *f, int op, void *arg) {
    return after_flush(f, [&](sqlite3_file *r) { return r->pMethods->xFileControl(r, op, arg); });
}

void wal_barrier(sqlite3_file *f) { real(f)->pMethods->xShmBarrier(real(f)); }

const sqlite3_io_methods wal_methods = {
    3,           wal_close,        wal_read,    wal_write,    wal_truncate,
    wal_sync,    wal_size,         pass_lock,   pass_unlock,  pass_check_reserved,
    wal_control, pass_sector_size, pass_device, pass_shm_map, pass_shm_lock,
    wal_barrier, pass_shm_unmap,   pass_fetch,  pass_unfetch,
};

// ---- the VFS ------------------------------------------------------------------------------

int shim_open(sqlite3_vfs *, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags) {
    const bool is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    const bool is_db = (flags & SQLITE_OPEN_MAIN_DB) != 0;
    if ((!is_wal && !is_db) || !name) {
        // Journals and temporary files: the platform's own file object, in place.
        return platform->xOpen(platform, name, f, flags, out_flags);
    }
    auto *s = shim(f);
    s->base.pMethods = nullptr;
    s->real = reinterpret_cast<sqlite3_file *>(reinterpret_cast<char *>(f) + real_offset());
    s->wal = nullptr;
    s->db_wal = nullptr;
    s->real->pMethods = nullptr;
    int rc = platform->xOpen(platform, name, s->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (s->real->pMethods) {
            s->real->pMethods->xClose(s->real);
        }
        return rc;
    }
    if (is_db) {
        s->db_wal = new std::string(std::string(name) + "-wal");
        s->base.pMethods = &db_methods;
        return SQLITE_OK;
    }
    s->wal = new wal_state;
    s->wal->real = s->real;
    s->wal->path = name;
    {
        std::lock_guard<std::mutex> g(registry_mu);
        registry.emplace(s->wal->path, s->wal);
    }
    s->base.pMethods = &wal_methods;
    return SQLITE_OK;
}

int shim_delete(sqlite3_vfs *, const char *name, int sync_dir) {
    return platform->xDelete(platform, name, sync_dir);
}
int shim_access(sqlite3_vfs *, const char *name, int flags, int *out) {
    return platform->xAccess(platform, name, flags, out);
}
int shim_full_pathname(sqlite3_vfs *, const char *name, int n, char *out) {
    return platform->xFullPathname(platform, name, n, out);
}
void *shim_dl_open(sqlite3_vfs *, const char *name) { return platform->xDlOpen(platform, name); }
void shim_dl_error(sqlite3_vfs *, int n, char *msg) { platform->xDlError(platform, n, msg); }
void (*shim_dl_sym(sqlite3_vfs *, void *h, const char *sym))(void) {
    return platform->xDlSym(platform, h, sym);
}
void shim_dl_close(sqlite3_vfs *, void *h) { platform->xDlClose(platform, h); }
int shim_randomness(sqlite3_vfs *, int n, char *out) {
    return platform->xRandomness(platform, n, out);
}
int shim_sleep(sqlite3_vfs *, int us) { return platform->xSleep(platform, us); }
int shim_current_time(sqlite3_vfs *, double *out) { return platform->xCurrentTime(platform, out); }
int shim_last_error(sqlite3_vfs *, int n, char *out) {
    return platform->xGetLastError(platform, n, out);
}
int shim_current_time64(sqlite3_vfs *, sqlite3_int64 *out) {
    return platform->xCurrentTimeInt64(platform, out);
}

sqlite3_vfs shim_vfs;

} // namespace

const char *wal_vfs_name() {
    static std::once_flag once;
    std::call_once(once, [] {
        platform = sqlite3_vfs_find(nullptr);
        shim_vfs = sqlite3_vfs{};
        shim_vfs.iVersion = 2;
        shim_vfs.szOsFile = static_cast<int>(real_offset()) + platform->szOsFile;
        shim_vfs.mxPathname = platform->mxPathname;
        shim_vfs.zName = "ifmatch-wal";
        shim_vfs.xOpen = shim_open;
        shim_vfs.xDelete = shim_delete;
        shim_vfs.xAccess = shim_access;
        shim_vfs.xFullPathname = shim_full_pathname;
        shim_vfs.xDlOpen = shim_dl_open;
        shim_vfs.xDlError = shim_dl_error;
        shim_vfs.xDlSym = shim_dl_sym;
        shim_vfs.xDlClose = shim_dl_close;
        shim_vfs.xRandomness = shim_randomness;
        shim_vfs.xSleep = shim_sleep;
        shim_vfs.xCurrentTime = shim_current_time;
        shim_vfs.xGetLastError = shim_last_error;
        shim_vfs.xCurrentTimeInt64 = shim_current_time64;
        sqlite3_vfs_register(&shim_vfs, 0);
    });
    return shim_vfs.zName;
}

} // namespace ifmatch::storage::sqlite
