// The WAL shim (wal_vfs.hpp): what a COMMIT acknowledged is in the WAL file when it returns, so
// another connection that does not use the shim reads it, and so does the next process after
// an abrupt exit with the connection still open.
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/test_dir.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ifmatch;
namespace sqlite = ifmatch::storage::sqlite;

namespace {

struct wal_dir : test_support::scratch_dir {
    wal_dir() : test_support::scratch_dir("ifmatch-wal-test") {}
};

// Rows and their summed lengths, read through SQLite's own platform VFS (no shim).
std::pair<long, long> count_plain(const std::string &db_path) {
    sqlite3 *db = nullptr;
    REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt *st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*), COALESCE(SUM(length(v)), 0) FROM t", -1, &st,
                               nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::pair<long, long> out{sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1)};
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

// A writer connection in WAL mode on a new database with table t.
std::unique_ptr<sqlite::connection> open_table(const std::string &db_path) {
    auto c = std::make_unique<sqlite::connection>(db_path, false);
    sqlite::configure(*c, sqlite::durability::normal, true);
    c->exec("CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)");
    return c;
}

void fill(sqlite::connection &c, int rows, int size) {
    c.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < rows; ++i) {
        c.exec("INSERT INTO t(v) VALUES(randomblob(" + std::to_string(size) + "))");
    }
    c.exec("COMMIT");
}

} // namespace

TEST_CASE("wal shim: each COMMIT is readable at once by a connection without the shim") {
    wal_dir d;
    const std::string db = d.path + "/w.db";
    auto conn = open_table(db);
    auto &w = *conn;
    long rows = 0, bytes = 0;
    for (int round = 0; round < 6; ++round) {
        fill(w, 40, 3000); // about 30 pages per transaction
        rows += 40;
        bytes += 40 * 3000;
        CHECK(count_plain(db) == std::make_pair(rows, bytes));
    }
    // A transaction larger than the shim's 1 MiB gathering limit, and one rolled back.
    fill(w, 600, 3000);
    rows += 600;
    bytes += 600L * 3000;
    w.exec("BEGIN IMMEDIATE");
    w.exec("INSERT INTO t(v) VALUES(randomblob(5000))");
    w.exec("ROLLBACK");
    fill(w, 1, 10);
    rows += 1;
    bytes += 10;
    CHECK(count_plain(db) == std::make_pair(rows, bytes));
    // Rewriting the same pages inside one transaction (frames overwritten in place).
    w.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < 50; ++i) {
        w.exec("UPDATE t SET v = zeroblob(3000) WHERE k <= 40");
    }
    w.exec("COMMIT");
    CHECK(count_plain(db) == std::make_pair(rows, bytes));
    w.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    fill(w, 5, 100);
    CHECK(count_plain(db) == std::make_pair(rows + 5, bytes + 500));
}

TEST_CASE("wal shim: transactions of every size from 1 to 400 pages commit") {
    // The platform VFS writes at most 128 KiB - 1 bytes per call; gathered writes of any
    // length (some are exact multiples of 128 KiB) must still reach the file whole.
    wal_dir d;
    const std::string db = d.path + "/w.db";
    auto conn = open_table(db);
    auto &w = *conn;
    long rows = 0;
    for (int n = 1; n <= 400; n += 3) {
        fill(w, n, 3500); // one row per page
        rows += n;
    }
    CHECK(count_plain(db) == std::make_pair(rows, rows * 3500));
}

TEST_CASE("wal shim: commits survive a process that exits abruptly with the database open") {
    wal_dir d;
    const std::string db = d.path + "/w.db";
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 0;
        try {
            auto *c = open_table(db).release(); // never closed
            for (int i = 0; i < 20; ++i) {
                fill(*c, 10, 2000);
            }
        } catch (...) {
            code = 3;
        }
        ::_exit(code); // no destructors, no close: what kill -9 leaves
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(count_plain(db) == std::make_pair(200L, 400000L));
}
