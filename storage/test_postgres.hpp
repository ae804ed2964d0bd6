// Tests only: a throwaway PostgreSQL 15 (Debian's packages) in a temporary directory, started on
// first use and stopped when the test process exits. It listens on a Unix socket in its own
// directory only (no TCP port, so parallel test processes never collide), with fsync off.
// initdb refuses to run as root: as root the server runs as the `postgres` user.
#pragma once

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace ifmatch::storage::testing {

class test_postgres {
public:
    // The one server of this process (started on first use; throws when it cannot start).
    static test_postgres &instance() {
        static test_postgres pg;
        return pg;
    }

    // A new empty database; answers its libpq URI.
    std::string new_database() {
        static std::atomic<int> n{0};
        std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(n++);
        run(bin("createdb") + " -h " + dir_ + " -p 5432 " + name);
        return "postgresql:///" + name + "?host=" + dir_ + "&port=5432&user=postgres";
    }

    const std::string &socket_dir() const { return dir_; }

    ~test_postgres() {
        std::system((as_owner() + bin("pg_ctl") + " -D " + dir_ + "/data -m immediate stop " +
                     ">/dev/null 2>&1")
                        .c_str());
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

private:
    test_postgres() {
        char tmpl[] = "/tmp/ifmatch-pg-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        if (::geteuid() == 0) run("chown postgres " + dir_);
        run(bin("initdb") + " -A trust -U postgres --no-sync -D " + dir_ + "/data");
        run(bin("pg_ctl") + " -D " + dir_ + "/data -l " + dir_ + "/log -w -o \"-k " + dir_ +
            " -c listen_addresses='' -p 5432 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300\" start");
    }

    static std::string bin(const char *tool) {
        return std::string("/usr/lib/postgresql/15/bin/") + tool;
    }
    static std::string as_owner() { return ::geteuid() == 0 ? "runuser -u postgres -- " : ""; }

    void run(const std::string &cmd) const {
        const bool own = cmd.rfind("chown", 0) == 0;
        std::string full = (own ? "" : as_owner()) + cmd + " >>" + dir_ + "/setup.log 2>&1";
        if (std::system(full.c_str()) != 0) {
            throw std::runtime_error("test PostgreSQL: `" + cmd + "` failed (see " + dir_ +
                                     "/setup.log and " + dir_ + "/log)");
        }
    }

    std::string dir_;
};

} // namespace ifmatch::storage::testing
