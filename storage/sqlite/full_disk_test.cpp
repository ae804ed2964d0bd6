// A full disk, injected at both layers: the blob layer (blob_store::set_write_budget) and SQLite
// (PRAGMA max_page_count on the writer connection, run as a write job). A write that cannot be
// stored fails with InternalError naming the cause, leaves no row, no reference and no blob file
// behind, and reads keep working; once space is back, writes succeed again.
#include "storage/sqlite/operations.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/store.hpp"

#include "storage/sqlite/test_dir.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <future>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ifmatch;
namespace sqlite = ifmatch::storage::sqlite;

namespace {

struct scratch_dir : test_support::scratch_dir {
    scratch_dir() : test_support::scratch_dir("ifmatch-full-disk") {}
};

template <class T>
sqlite::result<T> run_write(sqlite::store &s,
                             std::function<sqlite::result<T>(sqlite::write_txn &)> fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.write<T>(std::move(fn), [&p](sqlite::result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

template <class T>
sqlite::result<T> run_read(sqlite::store &s,
                            std::function<sqlite::result<T>(sqlite::read_txn &)> fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.read<T>(std::move(fn), [&p](sqlite::result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

std::size_t blob_files(sqlite::store &s) { return s.blobs().list().size(); }

sqlite::result<sqlite::write_result> put(sqlite::store &s, std::string key,
                                           sqlite::staged_body body) {
    sqlite::put_request r;
    r.bucket = "b";
    r.key = std::move(key);
    r.fields.size = body.size;
    r.fields.etag = "\"e\"";
    r.body = std::move(body);
    return run_write<sqlite::write_result>(
        s, [r](sqlite::write_txn &t) { return sqlite::put_object(t, r); });
}

// Consistency of rows and references, as `ifmatch check` would see them.
std::int64_t scalar(sqlite::store &s, std::string sql) {
    auto r =
        run_read<std::int64_t>(s, [sql](sqlite::read_txn &t) -> sqlite::result<std::int64_t> {
            sqlite::query q(t.db, sql);
            return q->step() ? q->column_int(0) : -1;
        });
    return r ? *r : -1;
}

void check_consistent(sqlite::store &s) {
    // Every body's refs equals the number of versions naming it; no version names a missing body.
    CHECK(scalar(s, "SELECT COUNT(*) FROM bodies b WHERE refs != (SELECT COUNT(*) FROM versions v "
                    "WHERE v.body_id = b.id)") == 0);
    CHECK(scalar(s, "SELECT COUNT(*) FROM versions v WHERE v.body_id IS NOT NULL AND v.body_id "
                    "!= 0 AND NOT EXISTS (SELECT 1 FROM bodies b WHERE b.id = v.body_id)") == 0);
    CHECK(static_cast<std::int64_t>(blob_files(s)) ==
          scalar(s, "SELECT COUNT(*) FROM bodies WHERE file IS NOT NULL"));
}

} // namespace

TEST_CASE("full disk at the blob layer: InternalError, nothing half-written, reads work") {
    scratch_dir dir;
    sqlite::store_options o;
    o.data_dir = dir.path;
    o.inline_limit = 16;
    sqlite::store s(o);
    REQUIRE(run_write<sqlite::create_bucket_result>(s, [](sqlite::write_txn &t) {
                return sqlite::create_bucket(t, "b", "us-east-1");
            }).has_value());
    sqlite::blob_writer w0(s.blobs(), s.inline_limit());
    REQUIRE(w0.append(std::string(1000, 'a')));
    REQUIRE(put(s, "old", w0.release()).has_value());

    s.blobs().set_write_budget(100);
    {
        sqlite::blob_writer w(s.blobs(), s.inline_limit());
        CHECK_FALSE(w.append(std::string(1000, 'b')));
        CHECK(w.error().find("No space left on device") != std::string::npos);
    } // the writer removes its partial file
    CHECK(blob_files(s) == 1);
    auto r = run_read<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, sqlite::get_request{"b", "old", std::nullopt, true});
    });
    REQUIRE(r.has_value());
    CHECK(r->version.size == 1000);
    s.blobs().set_write_budget(-1);
    sqlite::blob_writer w1(s.blobs(), s.inline_limit());
    REQUIRE(w1.append(std::string(1000, 'c')));
    CHECK(put(s, "new", w1.release()).has_value());
    check_consistent(s);
    s.close();
}

TEST_CASE("full disk at the SQLite layer: InternalError naming the cause, no row, reads work") {
    scratch_dir dir;
    sqlite::store_options o;
    o.data_dir = dir.path;
    o.inline_limit = 64 * 1024;
    sqlite::store s(o);
    REQUIRE(run_write<sqlite::create_bucket_result>(s, [](sqlite::write_txn &t) {
                return sqlite::create_bucket(t, "b", "us-east-1");
            }).has_value());
    sqlite::staged_body small;
    small.inline_data = "kept";
    small.size = 4;
    REQUIRE(put(s, "kept", small).has_value());

    // Freeze the database at its current size: the next write that needs a page fails.
    REQUIRE(run_write<bool>(s, [](sqlite::write_txn &t) -> sqlite::result<bool> {
                std::int64_t pages = 0;
                {
                    sqlite::query q(t.db, "PRAGMA page_count");
                    if (q->step())
                        pages = q->column_int(0);
                }
                t.db.exec("PRAGMA max_page_count = " + std::to_string(pages));
                return true;
            }).has_value());
    sqlite::staged_body big;
    big.inline_data = std::string(60 * 1024, 'x');
    big.size = big.inline_data.size();
    auto failed = put(s, "big", big);
    REQUIRE(failed.has_error());
    CHECK(failed.error().code == protocol::s3_errc::internal_error);
    CHECK(std::string(failed.error().text()).find("full") != std::string::npos);
    auto missing = run_read<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, sqlite::get_request{"b", "big", std::nullopt, false});
    });
    CHECK(missing.has_error());
    auto kept = run_read<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, sqlite::get_request{"b", "kept", std::nullopt, true});
    });
    REQUIRE(kept.has_value());
    CHECK(kept->version.size == 4);

    REQUIRE(run_write<bool>(s, [](sqlite::write_txn &t) -> sqlite::result<bool> {
                t.db.exec("PRAGMA max_page_count = 1073741823");
                return true;
            }).has_value());
    CHECK(put(s, "big", big).has_value());
    check_consistent(s);
    s.close();
}
