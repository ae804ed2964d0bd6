// RLIMIT_NOFILE at start, the connection cap it allows, the reserve descriptor.
#include "server/fd_limit.hpp"

#include <algorithm>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace ifmatch::server {

namespace {

// fs.nr_open: the largest value Linux accepts for RLIMIT_NOFILE; 0 when unknown.
std::uint64_t nr_open() {
    std::FILE *f = std::fopen("/proc/sys/fs/nr_open", "r");
    if (!f) {
        return 0;
    }
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) != 1) {
        v = 0;
    }
    std::fclose(f);
    return v;
}

} // namespace

fd_limits raise_fd_limit() {
    fd_limits out;
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        out.raise_failed = true;
        return out;
    }
    out.soft_before = out.soft = rl.rlim_cur;
    out.hard = rl.rlim_max;
    if (rl.rlim_cur >= rl.rlim_max && rl.rlim_max != RLIM_INFINITY) {
        return out;
    }
    rlim_t target = rl.rlim_max;
    if (target == RLIM_INFINITY) {
        std::uint64_t cap = nr_open();
        target = cap > 0 ? static_cast<rlim_t>(cap) : static_cast<rlim_t>(1) << 20;
    }
    if (target <= rl.rlim_cur) {
        return out;
    }
    rlimit raised{target, rl.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
        out.raise_failed = true;
        return out;
    }
    out.soft = target;
    return out;
}

int open_fd_count() {
    DIR *d = ::opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    int n = 0;
    while (const dirent *e = ::readdir(d)) {
        if (e->d_name[0] != '.') {
            ++n;
        }
    }
    ::closedir(d);
    return n - 1; // the directory stream's own descriptor
}

int connection_cap(int requested, std::uint64_t soft, int in_use) {
    const std::uint64_t taken = static_cast<std::uint64_t>(std::max(in_use, 0)) +
                                static_cast<std::uint64_t>(store_fd_headroom);
    const std::uint64_t spare = soft > taken ? soft - taken : 0;
    const std::uint64_t allowed = std::max<std::uint64_t>(1, spare / fds_per_connection);
    const std::uint64_t wanted = static_cast<std::uint64_t>(std::max(requested, 1));
    return static_cast<int>(std::min(wanted, allowed));
}

bool fd_reserve::acquire() {
    if (fd_ < 0) {
        fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    return fd_ >= 0;
}

void fd_reserve::release() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

} // namespace ifmatch::server
