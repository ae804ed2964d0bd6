#include "storage/sqlite/check.hpp"

#include "storage/sqlite/history.hpp"
#include "storage/sqlite/multipart.hpp"
#include "storage/sqlite/operations.hpp"
#include "storage/sqlite/schema.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/store.hpp"

#include "storage/sqlite/test_dir.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ifmatch;
namespace sqlite = ifmatch::storage::sqlite;

namespace {

struct scratch_dir : test_support::scratch_dir {
    scratch_dir() : test_support::scratch_dir("ifmatch-check-test") {}
};

sqlite::store_options options(const std::string &dir) {
    sqlite::store_options o;
    o.data_dir = dir;
    o.reader_threads = 1;
    return o;
}

bool contains(const std::vector<std::string> &lines, const std::string &needle) {
    for (auto &l : lines) {
        if (l.find(needle) != std::string::npos) return true;
    }
    return false;
}

} // namespace

TEST_CASE("schema: a store refuses a database written by a newer ifmatch, untouched") {
    scratch_dir d;
    { sqlite::store s(options(d.path)); }
    {
        sqlite::connection c(d.path + "/ifmatch.db", false);
        c.exec("PRAGMA user_version = " + std::to_string(sqlite::current_schema_version + 1));
    }
    std::string message;
    try {
        sqlite::store s(options(d.path));
    } catch (const std::runtime_error &e) {
        message = e.what();
    }
    CHECK(message.find("newer than this ifmatch understands") != std::string::npos);
    CHECK(message.find("schema version " + std::to_string(sqlite::current_schema_version + 1)) !=
          std::string::npos);
    sqlite::connection c(d.path + "/ifmatch.db", true);
    CHECK(sqlite::schema_version(c) == sqlite::current_schema_version + 1);
}

TEST_CASE("schema: a second store on one directory is refused while the first holds the lock") {
    scratch_dir d;
    sqlite::store first(options(d.path));
    std::string message;
    try {
        sqlite::store second(options(d.path));
    } catch (const std::runtime_error &e) {
        message = e.what();
    }
    CHECK(message.find("in use by another ifmatch") != std::string::npos);
}

TEST_CASE("check: clean store, then a missing blob, a wrong refcount and an orphan") {
    scratch_dir d;
    { sqlite::store s(options(d.path)); }
    auto clean = sqlite::check_data_dir(d.path);
    CHECK(clean.problems.empty());
    CHECK(clean.schema_version == sqlite::current_schema_version);
    {
        sqlite::connection c(d.path + "/ifmatch.db", false);
        c.exec("INSERT INTO bodies(id, size, file, refs) VALUES(7, 5, 'ab/gone', 1)");
        c.exec("INSERT INTO versions(bucket, key, version_id, is_latest, delete_marker, "
               "last_modified_ms, body_id) VALUES('b', 'k', 'null', 1, 0, 0, 7)");
        c.exec("INSERT INTO bodies(id, size, data, refs) VALUES(8, 3, x'616263', 2)");
        c.exec("INSERT INTO versions(bucket, key, version_id, is_latest, delete_marker, "
               "last_modified_ms, body_id) VALUES('b', 'k2', 'null', 1, 0, 0, 8)");
        c.exec("INSERT INTO versions(bucket, key, version_id, is_latest, delete_marker, "
               "last_modified_ms, body_id) VALUES('b', 'k3', 'null', 1, 0, 0, 9)");
    }
    fs::create_directories(d.path + "/blobs/cd");
    std::ofstream(d.path + "/blobs/cd/orphan") << "x";
    sqlite::check_options opts;
    opts.orphan_min_age_seconds = 0;
    auto r = sqlite::check_data_dir(d.path, opts);
    CHECK(contains(r.problems, "blobs/ab/gone is missing"));
    CHECK(contains(r.problems, "body 8: reference count 2, but 1 references"));
    CHECK(contains(r.problems, "body 9 does not exist"));
    CHECK(contains(r.problems, "orphan blob file blobs/cd/orphan"));
    CHECK(fs::exists(d.path + "/blobs/cd/orphan"));
    CHECK_THROWS_AS(sqlite::check_data_dir(d.path + "/nothing-here"), std::runtime_error);
}

TEST_CASE("schema: version 1 data migrates to version 2 with each key's current version kept") {
    scratch_dir d;
    {
        sqlite::connection c(d.path + "/ifmatch.db", false);
        sqlite::configure(c, sqlite::durability::normal, true);
        sqlite::migrate_to(c, 1);
        REQUIRE(sqlite::schema_version(c) == 1);
        c.exec("INSERT INTO buckets(name, created_ms, region, versioning) "
               "VALUES('b', 1, 'us-east-1', 'Enabled')");
        c.exec("INSERT INTO bodies(id, size, data, refs) VALUES(1, 3, x'616161', 1), "
               "(2, 3, x'626262', 1)");
        // Key `a`: two versions, the second current. Key `gone`: a delete marker on top.
        // Key `nostate`: a version with no key_state row (the migration creates one).
        c.exec("INSERT INTO versions(seq, bucket, key, version_id, is_latest, delete_marker, "
               "etag, size, last_modified_ms, body_id, rank_ms) VALUES "
               "(1, 'b', 'a', 'v1', 0, 0, '\"e1\"', 3, 10, 1, 10), "
               "(2, 'b', 'a', 'v2', 1, 0, '\"e2\"', 3, 20, 2, 20), "
               "(3, 'b', 'gone', 'v3', 1, 1, '', 0, 30, NULL, 30), "
               "(4, 'b', 'nostate', 'v4', 1, 0, '\"e4\"', 0, 40, NULL, 40)");
        c.exec("INSERT INTO key_state(bucket, key, last_mutation_seq, last_delete_seq) VALUES "
               "('b', 'a', 2, 0), ('b', 'gone', 3, 3), ('b', 'deleted', 5, 5)");
        c.exec("UPDATE meta SET v = '5' WHERE k = 'seq'");
    }
    {
        sqlite::store s(options(d.path));
        std::promise<sqlite::result<sqlite::object_read>> p;
        auto f = p.get_future();
        sqlite::get_request g;
        g.bucket = "b";
        g.key = "a";
        s.read<sqlite::object_read>(
            [g](sqlite::read_txn &t) { return sqlite::get_object(t, g); },
            [&p](sqlite::result<sqlite::object_read> r) { p.set_value(std::move(r)); });
        auto got = f.get();
        REQUIRE(got.has_value());
        CHECK(got->version.version_id == "v2");
        CHECK(got->version.etag == "\"e2\"");
        std::promise<sqlite::result<sqlite::list_page>> lp;
        auto lf = lp.get_future();
        sqlite::list_request lr;
        lr.bucket = "b";
        lr.max_keys = 1000;
        s.read<sqlite::list_page>(
            [lr](sqlite::read_txn &t) { return sqlite::list_objects(t, lr); },
            [&lp](sqlite::result<sqlite::list_page> r) { lp.set_value(std::move(r)); });
        auto page = lf.get();
        REQUIRE(page.has_value());
        REQUIRE(page->contents.size() == 2); // the delete marker hides `gone`
        CHECK(page->contents[0].key == "a");
        CHECK(page->contents[1].key == "nostate");
    }
    auto r = sqlite::check_data_dir(d.path);
    CHECK(r.schema_version == sqlite::current_schema_version);
    CHECK(r.problems.empty());
    sqlite::connection c(d.path + "/ifmatch.db", true);
    sqlite::query q(c, "SELECT key, latest_seq FROM key_state ORDER BY key");
    std::vector<std::pair<std::string, std::int64_t>> got;
    while (q->step()) got.emplace_back(q->column_text(0), q->column_int(1));
    CHECK(got == std::vector<std::pair<std::string, std::int64_t>>{
                     {"a", 2}, {"deleted", 0}, {"gone", 3}, {"nostate", 4}});
}

namespace {

template <typename T, typename Fn> sqlite::result<T> read_now(sqlite::store &s, Fn fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.read<T>(std::move(fn), [&p](sqlite::result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

} // namespace

TEST_CASE("schema: version 2 data migrates to version 3 with every version still found") {
    scratch_dir d;
    {
        sqlite::connection c(d.path + "/ifmatch.db", false);
        sqlite::configure(c, sqlite::durability::normal, true);
        sqlite::migrate_to(c, 2);
        REQUIRE(sqlite::schema_version(c) == 2);
        c.exec("INSERT INTO buckets(name, created_ms, region, versioning) "
               "VALUES('b', 1, 'us-east-1', 'Enabled')");
        // Key `a`: three versions, v3 current. Key `b`: its row says current but key_state names
        // none, and `c`'s key_state names a row marked not current (the migration trusts
        // key_state, as reads have since version 2).
        c.exec("INSERT INTO versions(seq, bucket, key, version_id, is_latest, delete_marker, "
               "etag, size, last_modified_ms, rank_ms) VALUES "
               "(1, 'b', 'a', 'v1', 0, 0, '\"e1\"', 0, 10, 10), "
               "(2, 'b', 'a', 'v2', 0, 0, '\"e2\"', 0, 20, 20), "
               "(3, 'b', 'a', 'v3', 1, 0, '\"e3\"', 0, 30, 30), "
               "(4, 'b', 'b', 'v4', 1, 0, '\"e4\"', 0, 40, 40), "
               "(5, 'b', 'c', 'v5', 0, 0, '\"e5\"', 0, 50, 50)");
        c.exec("INSERT INTO key_state(bucket, key, last_mutation_seq, latest_seq) VALUES "
               "('b', 'a', 3, 3), ('b', 'b', 4, 0), ('b', 'c', 5, 5)");
        c.exec("UPDATE meta SET v = '5' WHERE k = 'seq'");
    }
    sqlite::store s(options(d.path));
    sqlite::list_versions_request lv{"b", "", "", "", "", 1000};
    auto page = read_now<sqlite::list_versions_page>(
        s, [lv](sqlite::read_txn &t) { return sqlite::list_versions(t, lv); });
    REQUIRE(page.has_value());
    std::vector<std::pair<std::string, bool>> listed;
    for (auto &v : page->versions) listed.emplace_back(v.version_id, v.is_latest);
    CHECK(listed == std::vector<std::pair<std::string, bool>>{
                        {"v3", true}, {"v2", false}, {"v1", false}, {"v4", false}, {"v5", true}});
    for (std::string vid : {"v1", "v3", "v4"}) {
        sqlite::get_request g;
        g.bucket = "b";
        g.key = vid == "v4" ? "b" : "a";
        g.version_id = vid;
        auto got = read_now<sqlite::object_read>(
            s, [g](sqlite::read_txn &t) { return sqlite::get_object(t, g); });
        REQUIRE(got.has_value());
        CHECK(got->version.version_id == vid);
    }
    auto history = read_now<std::vector<sqlite::object_version>>(
        s, [](sqlite::read_txn &t) { return sqlite::key_versions(t, "b", "a"); });
    REQUIRE(history.has_value());
    REQUIRE(history->size() == 3);
    CHECK((*history)[0].version_id == "v1");
    CHECK((*history)[2].version_id == "v3");
    sqlite::connection c(d.path + "/ifmatch.db", true);
    sqlite::query q(c, "SELECT name FROM sqlite_master WHERE name LIKE 'versions_by_%'");
    REQUIRE(q->step());
    CHECK(q->column_text(0) == "versions_by_key");
    CHECK(!q->step());
    auto r = sqlite::check_data_dir(d.path);
    CHECK(r.schema_version == 3);
    CHECK(r.problems.empty());
}

TEST_CASE("check: a version marked current that the key's state does not name is reported") {
    scratch_dir d;
    { sqlite::store s(options(d.path)); }
    {
        sqlite::connection c(d.path + "/ifmatch.db", false);
        c.exec("INSERT INTO versions(seq, bucket, key, version_id, is_latest, delete_marker, "
               "last_modified_ms) VALUES(9, 'b', 'k', 'null', 1, 0, 0)");
        c.exec("INSERT INTO key_state(bucket, key, last_mutation_seq, latest_seq) "
               "VALUES('b', 'k', 9, 0)");
    }
    auto r = sqlite::check_data_dir(d.path);
    CHECK(contains(r.problems, "key b/k: version 9 disagrees with the key's current version 0"));
}
