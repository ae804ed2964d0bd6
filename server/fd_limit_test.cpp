// Unit tests for fd_limit.hpp: the connection cap, the soft limit raise, the reserve descriptor.
#include "server/fd_limit.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace ifmatch::server;

TEST_CASE("fd_limit: connection_cap keeps the store's headroom and two descriptors a connection") {
    // 1024 - 20 open - 64 headroom = 940 spare, 470 connections.
    CHECK(connection_cap(4096, 1024, 20) == 470);
    CHECK(connection_cap(100, 1024, 20) == 100);
    CHECK(connection_cap(470, 1024, 20) == 470);
    CHECK(connection_cap(471, 1024, 20) == 470);
    // A large hard limit leaves the request alone.
    CHECK(connection_cap(4096, 1048576, 40) == 4096);
    // Nothing spare: still one connection, so the server answers at all.
    CHECK(connection_cap(4096, 64, 30) == 1);
    CHECK(connection_cap(4096, 0, 0) == 1);
    CHECK(connection_cap(0, 1024, 20) == 1);
    // An unknown count (-1) counts as none open.
    CHECK(connection_cap(4096, 256, -1) == 96);
}

TEST_CASE("fd_limit: raise_fd_limit lifts the soft limit to the hard one") {
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 64) {
        return; // nothing to lower in this environment
    }
    rlim_t hard = saved.rlim_max == RLIM_INFINITY ? saved.rlim_cur : saved.rlim_max;
    rlim_t low = std::min<rlim_t>(hard, 256) - 1;
    rlimit lowered{low, saved.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    fd_limits got = raise_fd_limit();
    rlimit now{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
    CHECK(got.soft_before == low);
    CHECK_FALSE(got.raise_failed);
    CHECK(got.soft == now.rlim_cur);
    if (saved.rlim_max != RLIM_INFINITY) {
        CHECK(now.rlim_cur == saved.rlim_max);
        CHECK(got.hard == saved.rlim_max);
    } else {
        CHECK(now.rlim_cur > low);
    }
    // A second call finds nothing to do.
    fd_limits again = raise_fd_limit();
    CHECK(again.soft_before == again.soft);
    ::setrlimit(RLIMIT_NOFILE, &saved);
}

TEST_CASE("fd_limit: the reserve descriptor frees a slot when the process is out of them") {
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    int before = open_fd_count();
    REQUIRE(before > 0);
    fd_reserve reserve;
    REQUIRE(reserve.held());
    CHECK(open_fd_count() == before + 1);
    // Fill every slot below a soft limit a few above what is open now.
    rlimit tight{static_cast<rlim_t>(before + 8), saved.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    std::vector<int> hog;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
        hog.push_back(fd);
    }
    CHECK(::open("/dev/null", O_RDONLY) < 0);
    reserve.release();
    CHECK_FALSE(reserve.held());
    int slot = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(slot >= 0);
    CHECK_FALSE(reserve.acquire()); // the slot is taken again
    if (slot >= 0) {
        ::close(slot);
    }
    CHECK(reserve.acquire());
    for (int fd : hog) {
        ::close(fd);
    }
    ::setrlimit(RLIMIT_NOFILE, &saved);
}
