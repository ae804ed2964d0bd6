#include "storage/sqlite/store.hpp"

#include "storage/sqlite/check.hpp"
#include "storage/sqlite/operations.hpp"

#include "storage/sqlite/test_dir.hpp"
#include "storage/test_bodies.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <future>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace ifmatch;
namespace sqlite = ifmatch::storage::sqlite;

namespace {

struct temp_dir : test_support::scratch_dir {
    temp_dir() : test_support::scratch_dir("ifmatch-store-test") {}
};

template <class T>
sqlite::result<T> write_sync(sqlite::store &s, std::function<sqlite::result<T>(sqlite::write_txn &)> fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.write<T>(std::move(fn), [&p](sqlite::result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

template <class T>
sqlite::result<T> read_sync(sqlite::store &s, std::function<sqlite::result<T>(sqlite::read_txn &)> fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.read<T>(std::move(fn), [&p](sqlite::result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

sqlite::store_options opts(const std::string &dir, std::int64_t *clock) {
    sqlite::store_options o;
    o.data_dir = dir;
    o.inline_limit = 16;
    o.clock = [clock] { return *clock; };
    return o;
}

sqlite::put_request put(std::string bucket, std::string key, sqlite::staged_body body,
                         std::string etag) {
    sqlite::put_request r;
    r.bucket = std::move(bucket);
    r.key = std::move(key);
    r.fields.size = body.size;
    r.body = std::move(body);
    r.fields.etag = std::move(etag);
    return r;
}

sqlite::staged_body stage(sqlite::store &s, std::string_view data) {
    sqlite::blob_writer w(s.blobs(), s.inline_limit());
    REQUIRE(w.append(data));
    return w.release();
}

std::string read_all(const sqlite::object_read &o) {
    return test_support::read_whole(o);
}

void make_bucket(sqlite::store &s, const std::string &name) {
    REQUIRE(write_sync<sqlite::create_bucket_result>(s, [name](sqlite::write_txn &t) {
                return sqlite::create_bucket(t, name, "us-east-1");
            }).has_value());
}

sqlite::result<sqlite::write_result> put_sync(sqlite::store &s, const sqlite::put_request &r) {
    return write_sync<sqlite::write_result>(
        s, [&r](sqlite::write_txn &t) { return sqlite::put_object(t, r); });
}

sqlite::result<sqlite::delete_result> delete_sync(sqlite::store &s, std::string key,
                                                    std::optional<std::string> vid = {}) {
    sqlite::delete_request r;
    r.bucket = "b";
    r.key = std::move(key);
    r.version_id = std::move(vid);
    return write_sync<sqlite::delete_result>(
        s, [r](sqlite::write_txn &t) { return sqlite::delete_object(t, r); });
}

// The current version's id, "marker:<id>" for a delete marker, "" when the key has none.
std::string current_of(sqlite::store &s, const std::string &key) {
    auto got = read_sync<sqlite::object_read>(s, [key](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", key, std::nullopt, false});
    });
    if (!got) return "";
    return (got->version.delete_marker ? "marker:" : "") + got->version.version_id;
}

// A store in a scratch directory on a fixed clock, with bucket "b".
struct bucket_fixture {
    temp_dir d;
    std::int64_t now = 1767225600000;
    sqlite::store s{opts(d.path, &now)};
    bucket_fixture() { make_bucket(s, "b"); }
};

} // namespace

TEST_CASE("store: put, get, overwrite and delete survive a reopen; blobs are reclaimed") {
    temp_dir d;
    std::int64_t now = 1767225600000;
    std::string big(1000, 'x');
    {
        sqlite::store s(opts(d.path, &now));
        make_bucket(s, "b");
        auto small = put("b", "small", stage(s, "hello"), "\"e1\"");
        REQUIRE(put_sync(s, small).has_value());
        auto large = put("b", "large", stage(s, big), "\"e2\"");
        REQUIRE(large.body.is_file());
        REQUIRE(put_sync(s, large).has_value());
        CHECK(s.blobs().list().size() == 1);
    }
    sqlite::store s(opts(d.path, &now));
    auto got = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "large", std::nullopt, true});
    });
    REQUIRE(got.has_value());
    CHECK(read_all(*got) == big);
    CHECK(got->version.etag == "\"e2\"");
    CHECK(got->version.last_modified_ms == now);

    // Overwriting in an unversioned bucket releases the old body's file.
    auto again = put("b", "large", stage(s, "tiny"), "\"e3\"");
    REQUIRE(put_sync(s, again).has_value());
    auto small = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "small", std::nullopt, true});
    });
    REQUIRE(small.has_value());
    CHECK(read_all(*small) == "hello");

    auto missing = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "nope", std::nullopt, true});
    });
    REQUIRE(missing.has_error());
    CHECK(missing.error().code == protocol::s3_errc::no_such_key);
    auto nob = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"zz", "nope", std::nullopt, true});
    });
    REQUIRE(nob.has_error());
    CHECK(nob.error().code == protocol::s3_errc::no_such_bucket);
}

TEST_CASE("store: a refused conditional write leaves no version and no blob (R-P15, R-P5)") {
    bucket_fixture f;
    auto &s = f.s;
    auto first = put("b", "k", stage(s, std::string(100, 'a')), "\"e1\"");
    first.conditions.if_none_match_star = true;
    REQUIRE(put_sync(s, first).has_value());
    auto second = put("b", "k", stage(s, std::string(100, 'b')), "\"e2\"");
    second.conditions.if_none_match_star = true;
    auto r = write_sync<sqlite::write_result>(s, [&](sqlite::write_txn &t) {
        return sqlite::put_object(t, second);
    });
    REQUIRE(r.has_error());
    CHECK(r.error().code == protocol::s3_errc::precondition_failed);
    CHECK(s.blobs().list().size() == 1);
    auto got = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "k", std::nullopt, true});
    });
    REQUIRE(got.has_value());
    CHECK(got->version.etag == "\"e1\"");
}

TEST_CASE("store: If-None-Match * after a delete that committed since t_start is a 409 (D3)") {
    bucket_fixture f;
    auto &s = f.s;
    auto first = put("b", "k", stage(s, "one"), "\"e1\"");
    REQUIRE(put_sync(s, first).has_value());
    std::int64_t t_start = s.committed_seq();
    REQUIRE(delete_sync(s, "k").has_value());
    auto late = put("b", "k", stage(s, "two"), "\"e2\"");
    late.conditions.if_none_match_star = true;
    late.start.seq = t_start;
    auto r = write_sync<sqlite::write_result>(s, [&](sqlite::write_txn &t) {
        return sqlite::put_object(t, late);
    });
    REQUIRE(r.has_error());
    CHECK(r.error().code == protocol::s3_errc::conditional_request_conflict);
    // A request that started after the delete creates the object (R-P4).
    late.start.seq = s.committed_seq();
    late.body = stage(s, "two");
    CHECK(write_sync<sqlite::write_result>(s, [&](sqlite::write_txn &t) {
              return sqlite::put_object(t, late);
          }).has_value());
}

TEST_CASE("store: a second store on the same directory is refused") {
    temp_dir d;
    std::int64_t now = 0;
    sqlite::store s(opts(d.path, &now));
    CHECK_THROWS_WITH_AS(sqlite::store(opts(d.path, &now)),
                         doctest::Contains("in use by another ifmatch"), std::runtime_error);
}

TEST_CASE("read cache: offers older than a committed change are refused (read_cache RULE 2)") {
    sqlite::read_cache c;
    auto obj = std::make_shared<sqlite::cached_object>();
    obj->version.bucket = "b";
    obj->version.key = "k";
    obj->version.is_latest = true;
    obj->version.size = 2;
    obj->body = "hi";
    auto g = c.generation();
    c.apply({{"b", "other", {}, {}}}); // a change committed after the read began
    c.offer_object(obj, g);
    CHECK(c.object("b", "k") == nullptr);
    c.offer_object(obj, c.generation());
    REQUIRE(c.object("b", "k") != nullptr);
    CHECK(c.object("b", "k")->body == "hi");
    // Delete markers, partial bodies and older versions never qualify (RULE 3).
    auto marker = std::make_shared<sqlite::cached_object>(*obj);
    marker->version.key = "m";
    marker->version.delete_marker = true;
    c.offer_object(marker, c.generation());
    CHECK(c.object("b", "m") == nullptr);
    auto partial = std::make_shared<sqlite::cached_object>(*obj);
    partial->version.key = "p";
    partial->body = "h";
    c.offer_object(partial, c.generation());
    CHECK(c.object("b", "p") == nullptr);
}

TEST_CASE("read cache: the writer refreshes a hot key on PutObject and drops it on delete") {
    bucket_fixture f;
    auto &s = f.s;
    auto first = put("b", "k", stage(s, "one"), "\"e1\"");
    REQUIRE(put_sync(s, first).has_value());
    // A key nobody read is not cached by writes.
    CHECK(s.cache().object("b", "k") == nullptr);
    auto g = s.cache().generation();
    auto got = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "k", std::nullopt, true});
    });
    REQUIRE(got.has_value());
    auto entry = std::make_shared<sqlite::cached_object>();
    entry->version = got->version;
    entry->body = read_all(*got);
    s.cache().offer_object(entry, g);
    REQUIRE(s.cache().object("b", "k") != nullptr);

    f.now += 1000;
    auto second = put("b", "k", stage(s, "two"), "\"e2\"");
    REQUIRE(put_sync(s, second).has_value());
    // Refreshed before the write was acknowledged, equal to what a reader sees.
    auto hot = s.cache().object("b", "k");
    REQUIRE(hot != nullptr);
    CHECK(hot->body == "two");
    auto fresh = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "k", std::nullopt, true});
    });
    REQUIRE(fresh.has_value());
    CHECK(hot->version.etag == fresh->version.etag);
    CHECK(hot->version.seq == fresh->version.seq);
    CHECK(hot->version.version_id == fresh->version.version_id);
    CHECK(hot->version.last_modified_ms == fresh->version.last_modified_ms);
    CHECK(hot->version.body_id == fresh->version.body_id);

    REQUIRE(delete_sync(s, "k").has_value());
    CHECK(s.cache().object("b", "k") == nullptr);
}

TEST_CASE("read cache: a bucket's configuration is dropped when it changes") {
    bucket_fixture f;
    auto &s = f.s;
    auto cfg = std::make_shared<sqlite::bucket_config>();
    cfg->info.name = "b";
    s.cache().offer_bucket("b", cfg, s.cache().generation());
    REQUIRE(s.cache().bucket("b") != nullptr);
    REQUIRE(write_sync<bool>(s, [](sqlite::write_txn &t) {
                return sqlite::set_bucket_versioning(t, "b", "Enabled");
            }).has_value());
    CHECK(s.cache().bucket("b") == nullptr);
}

TEST_CASE("store: a write that fails after writing rows leaves none; its group's others commit") {
    bucket_fixture f;
    auto &s = f.s;
    // Hold the writer in one job so the next three are queued and run as one group.
    std::promise<void> started, gate;
    auto gate_f = gate.get_future().share();
    std::promise<sqlite::result<bool>> p0, pa, pb, pc;
    s.write<bool>(
        [&started, gate_f](sqlite::write_txn &) {
            started.set_value();
            gate_f.wait();
            return sqlite::result<bool>(true);
        },
        [&p0](sqlite::result<bool> r) { p0.set_value(std::move(r)); });
    started.get_future().wait();
    auto before = s.stats();
    s.write<bool>(
        [](sqlite::write_txn &t) -> sqlite::result<bool> {
            REQUIRE(sqlite::create_bucket(t, "x", "us-east-1").has_value());
            return protocol::s3_error(protocol::s3_errc::internal_error, "fails after writing");
        },
        [&pa](sqlite::result<bool> r) { pa.set_value(std::move(r)); });
    auto ok_put = put("b", "k", stage(s, "kept"), "\"e1\"");
    s.write<bool>(
        [&ok_put](sqlite::write_txn &t) -> sqlite::result<bool> {
            auto r = sqlite::put_object(t, ok_put);
            if (r.has_error()) return r.error();
            return true;
        },
        [&pb](sqlite::result<bool> r) { pb.set_value(std::move(r)); });
    auto refused = put("missing", "k", stage(s, "no"), "\"e2\"");
    s.write<bool>(
        [&refused](sqlite::write_txn &t) -> sqlite::result<bool> {
            auto r = sqlite::put_object(t, refused); // NoSuchBucket, before writing anything
            if (r.has_error()) return r.error();
            return true;
        },
        [&pc](sqlite::result<bool> r) { pc.set_value(std::move(r)); });
    gate.set_value();
    CHECK(p0.get_future().get().has_value());
    auto a = pa.get_future().get();
    auto b = pb.get_future().get();
    auto c = pc.get_future().get();
    REQUIRE(a.has_error());
    CHECK(a.error().code == protocol::s3_errc::internal_error);
    CHECK(b.has_value());
    REQUIRE(c.has_error());
    CHECK(c.error().code == protocol::s3_errc::no_such_bucket);
    // One group after the holding job: all three ran together.
    CHECK(s.stats().commits - before.commits == 2);
    auto x = read_sync<sqlite::bucket_info>(s, [](sqlite::read_txn &t) {
        return sqlite::get_bucket(t, "x");
    });
    CHECK(x.has_error());
    auto got = read_sync<sqlite::object_read>(s, [](sqlite::read_txn &t) {
        return sqlite::get_object(t, {"b", "k", std::nullopt, true});
    });
    REQUIRE(got.has_value());
    CHECK(read_all(*got) == "kept");
}

TEST_CASE("store: the current version follows puts, markers and version deletes (schema 2)") {
    bucket_fixture f;
    auto &s = f.s;
    auto versioning = [&](std::string status) {
        REQUIRE(write_sync<bool>(s, [status](sqlite::write_txn &t) {
                    return sqlite::set_bucket_versioning(t, "b", status);
                }).has_value());
    };
    auto put_key = [&](const std::string &key, const std::string &body) {
        ++f.now;
        auto w = put_sync(s, put("b", key, stage(s, body), "\"" + body + "\""));
        REQUIRE(w.has_value());
        return w->version_id;
    };
    put_key("k", "pre"); // the `null` version from before versioning
    versioning("Enabled");
    auto v1 = put_key("k", "one");
    auto v2 = put_key("k", "two");
    CHECK(current_of(s, "k") == v2);
    ++f.now;
    auto marker = delete_sync(s, "k");
    REQUIRE(marker.has_value());
    CHECK(current_of(s, "k") == "marker:" + marker->version_id);
    REQUIRE(delete_sync(s, "k", marker->version_id).has_value()); // R-V: the marker goes
    CHECK(current_of(s, "k") == v2);
    REQUIRE(delete_sync(s, "k", v2).has_value()); // the next-highest becomes current
    CHECK(current_of(s, "k") == v1);
    REQUIRE(delete_sync(s, "k", v1).has_value());
    CHECK(current_of(s, "k") == "null");
    REQUIRE(delete_sync(s, "k", std::string("null")).has_value());
    CHECK(current_of(s, "k") == "");
    auto v3 = put_key("k", "three");
    versioning("Suspended");
    CHECK(put_key("k", "four") == "null"); // a `null` version on top of v3
    CHECK(current_of(s, "k") == "null");
    REQUIRE(delete_sync(s, "k", std::string("null")).has_value());
    CHECK(current_of(s, "k") == v3);
    auto r = sqlite::check_data_dir(f.d.path);
    CHECK(r.problems.empty());
}
