// The process's descriptor budget: the soft RLIMIT_NOFILE raised to the hard limit at start, the
// number of connections that budget allows, and one reserve descriptor the acceptor gives up to
// answer a connection when the process has run out (EMFILE / ENFILE). No Asio here. The functions
// are thread-safe; an fd_reserve belongs to one thread (the acceptors' thread).
#pragma once

#include <cstdint>

namespace ifmatch::server {

struct fd_limits {
    std::uint64_t soft_before = 0; // the soft limit found at start
    std::uint64_t soft = 0;        // the soft limit now
    std::uint64_t hard = 0;
    bool raise_failed = false; // setrlimit refused: the soft limit stayed at soft_before
};

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the hard limit is
// unlimited, which Linux does not accept as a soft value). Returns the limits before and after;
// never throws.
fd_limits raise_fd_limit();

// Descriptors open in this process now (entries of /proc/self/fd); -1 when that cannot be read.
int open_fd_count();

// Descriptors kept free for the store's own later files beyond those open at start (WAL and
// shared-memory files of reader connections opened on demand, checkpoints, temporary files of
// SQLite, blob directory scans, the reserve descriptor, the log).
inline constexpr int store_fd_headroom = 64;
// Descriptors one connection may hold: its socket and a blob file being read or written.
inline constexpr int fds_per_connection = 2;

// The connection limit to use: `requested`, lowered to what `soft` descriptors allow when
// `in_use` are already open, store_fd_headroom is kept free and each connection needs
// fds_per_connection. At least 1. Pure.
int connection_cap(int requested, std::uint64_t soft, int in_use);

// One descriptor (/dev/null) held in reserve. When accept fails for want of descriptors the
// acceptor releases it, accepts the pending connection into the freed slot, answers it and closes
// it, then acquires the reserve again. Not thread-safe.
class fd_reserve {
  public:
    fd_reserve() { acquire(); }
    ~fd_reserve() { release(); }
    fd_reserve(const fd_reserve &) = delete;
    fd_reserve &operator=(const fd_reserve &) = delete;

    bool held() const { return fd_ >= 0; }
    // Opens the reserve descriptor unless it is held; returns held() (false while the process
    // is out of descriptors).
    bool acquire();
    // Closes the reserve descriptor, freeing its slot.
    void release();

  private:
    int fd_ = -1;
};

} // namespace ifmatch::server
