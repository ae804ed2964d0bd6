#include "storage/check.hpp"

#include "storage/operations.hpp"
#include "storage/schema.hpp"
#include "storage/sqlite.hpp"
#include "storage/store.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ifmatch;

namespace {

struct scratch_dir {
    std::string path;
    scratch_dir() {
        std::string t = (fs::temp_directory_path() / "ifmatch-check-test-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~scratch_dir() { fs::remove_all(path); }
};

storage::store_options options(const std::string &dir) {
    storage::store_options o;
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
    { storage::store s(options(d.path)); }
    {
        storage::connection c(d.path + "/ifmatch.db", false);
        c.exec("PRAGMA user_version = " + std::to_string(storage::current_schema_version + 1));
    }
    std::string message;
    try {
        storage::store s(options(d.path));
    } catch (const std::runtime_error &e) {
        message = e.what();
    }
    CHECK(message.find("newer than this ifmatch understands") != std::string::npos);
    CHECK(message.find("schema version " + std::to_string(storage::current_schema_version + 1)) !=
          std::string::npos);
    storage::connection c(d.path + "/ifmatch.db", true);
    CHECK(storage::schema_version(c) == storage::current_schema_version + 1);
}

TEST_CASE("schema: a second store on one directory is refused while the first holds the lock") {
    scratch_dir d;
    storage::store first(options(d.path));
    std::string message;
    try {
        storage::store second(options(d.path));
    } catch (const std::runtime_error &e) {
        message = e.what();
    }
    CHECK(message.find("in use by another ifmatch") != std::string::npos);
}

TEST_CASE("check: clean store, then a missing blob, a wrong refcount and an orphan") {
    scratch_dir d;
    { storage::store s(options(d.path)); }
    auto clean = storage::check_data_dir(d.path);
    CHECK(clean.problems.empty());
    CHECK(clean.schema_version == storage::current_schema_version);
    {
        storage::connection c(d.path + "/ifmatch.db", false);
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
    storage::check_options opts;
    opts.orphan_min_age_seconds = 0;
    auto r = storage::check_data_dir(d.path, opts);
    CHECK(contains(r.problems, "blobs/ab/gone is missing"));
    CHECK(contains(r.problems, "body 8: reference count 2, but 1 references"));
    CHECK(contains(r.problems, "body 9 does not exist"));
    CHECK(contains(r.problems, "orphan blob file blobs/cd/orphan"));
    CHECK(fs::exists(d.path + "/blobs/cd/orphan"));
    CHECK_THROWS_AS(storage::check_data_dir(d.path + "/nothing-here"), std::runtime_error);
}
