// Store tests of multipart uploads and version listings on a real SQLite store in a temporary
// directory: composite bodies without byte copies, part release, conditional Complete (R-M2,
// R-M3 + D8), ranking by initiation time (R-M11) and ListObjectVersions paging.
#include "storage/sqlite/multipart.hpp"

#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/store.hpp"

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
    temp_dir() : test_support::scratch_dir("ifmatch-mpu-test") {}
};

template <class T, class F> sqlite::result<T> w(sqlite::store &s, F fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.write<T>(std::function<sqlite::result<T>(sqlite::write_txn &)>(fn),
               [&p](sqlite::result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

template <class T, class F> sqlite::result<T> r(sqlite::store &s, F fn) {
    std::promise<sqlite::result<T>> p;
    auto f = p.get_future();
    s.read<T>(std::function<sqlite::result<T>(sqlite::read_txn &)>(fn),
              [&p](sqlite::result<T> v) { p.set_value(std::move(v)); });
    return f.get();
}

struct fixture {
    temp_dir d;
    std::int64_t now = 1767225600000;
    sqlite::store s;
    fixture() : s(make()) {}
    sqlite::store_options make() {
        sqlite::store_options o;
        o.data_dir = d.path;
        o.inline_limit = 16;
        o.clock = [this] { return now; };
        return o;
    }
    void bucket(const std::string &name, bool versioned = false) {
        REQUIRE(w<sqlite::create_bucket_result>(s, [name](sqlite::write_txn &t) {
                    return sqlite::create_bucket(t, name, "us-east-1");
                }).has_value());
        if (versioned) {
            REQUIRE(w<bool>(s, [name](sqlite::write_txn &t) {
                        return sqlite::set_bucket_versioning(t, name, "Enabled");
                    }).has_value());
        }
    }
    std::string create(const std::string &b, const std::string &key) {
        sqlite::create_upload_request c{b, key, {}, "", "", {}};
        auto u = w<sqlite::upload_info>(
            s, [c](sqlite::write_txn &t) { return sqlite::create_upload(t, c); });
        REQUIRE(u.has_value());
        return u->upload_id;
    }
    void part(const std::string &b, const std::string &key, const std::string &id, int n,
              const std::string &data) {
        sqlite::blob_writer bw(s.blobs(), s.inline_limit());
        REQUIRE(bw.append(data));
        sqlite::upload_part_request p;
        p.bucket = b;
        p.key = key;
        p.upload_id = id;
        p.body = bw.release();
        p.part.number = n;
        p.part.etag = "\"" + std::string(32, static_cast<char>('0' + n)) + "\"";
        p.part.size = data.size();
        REQUIRE(w<sqlite::part_info>(s, [p](sqlite::write_txn &t) {
                    return sqlite::put_part(t, p);
                }).has_value());
    }
    sqlite::result<sqlite::complete_result> complete(const std::string &b, const std::string &key,
                                                       const std::string &id,
                                                       std::vector<int> parts,
                                                       protocol::write_conditions c = {}) {
        sqlite::complete_request q;
        q.bucket = b;
        q.key = key;
        q.upload_id = id;
        for (int n : parts) q.parts.push_back({n, std::string(32, static_cast<char>('0' + n)), {}});
        q.conditions = c;
        return w<sqlite::complete_result>(
            s, [q](sqlite::write_txn &t) { return sqlite::complete_upload(t, q); });
    }
    void put(const std::string &b, const std::string &key, const std::string &data) {
        sqlite::blob_writer bw(s.blobs(), s.inline_limit());
        REQUIRE(bw.append(data));
        sqlite::put_request p;
        p.bucket = b;
        p.key = key;
        p.body = bw.release();
        p.fields.size = data.size();
        p.fields.etag = "\"e\"";
        REQUIRE(w<sqlite::write_result>(s, [p](sqlite::write_txn &t) {
                    return sqlite::put_object(t, p);
                }).has_value());
    }
    std::string get(const std::string &b, const std::string &key) {
        sqlite::get_request g{b, key, std::nullopt, true};
        auto o = r<sqlite::object_read>(
            s, [g](sqlite::read_txn &t) { return sqlite::get_object(t, g); });
        REQUIRE(o.has_value());
        return test_support::read_whole(*o);
    }
    std::int64_t bodies() {
        auto n = r<std::int64_t>(s, [](sqlite::read_txn &t) -> sqlite::result<std::int64_t> {
            sqlite::query q(t.db, "SELECT COUNT(*) FROM bodies");
            q->step();
            return q->column_int(0);
        });
        return *n;
    }
    bool alive(const std::string &b, const std::string &key, const std::string &id) {
        return r<sqlite::upload_info>(s, [=](sqlite::read_txn &t) {
                   return sqlite::find_upload(t, b, key, id);
               }).has_value();
    }
};

} // namespace

TEST_CASE("multipart: Complete composes the parts' bodies; unlisted parts are released") {
    fixture f;
    f.bucket("b");
    auto id = f.create("b", "k");
    std::string big(5 * 1024 * 1024, 'a');
    f.part("b", "k", id, 1, big);
    f.part("b", "k", id, 2, "tiny");
    f.part("b", "k", id, 3, "left out, more than sixteen bytes");
    f.part("b", "k", id, 2, "tail"); // replaces part 2, releasing its body
    CHECK(f.bodies() == 3);
    auto blobs_before = f.s.blobs().list().size();
    auto c = f.complete("b", "k", id, {1, 2});
    REQUIRE(c.has_value());
    CHECK(!c->refusal);
    CHECK(c->written.etag.find("-2\"") != std::string::npos);
    CHECK(f.get("b", "k") == big + "tail");
    CHECK(f.bodies() == 3); // two parts + the composite body; part 3 released
    CHECK(!f.alive("b", "k", id));
    auto sizes = r<std::vector<std::uint64_t>>(f.s, [](sqlite::read_txn &t) {
        sqlite::query q(t.db, "SELECT body_id FROM versions WHERE key = 'k'");
        q->step();
        return sqlite::result<std::vector<std::uint64_t>>(
            sqlite::body_part_sizes(t, q->column_int(0)));
    });
    CHECK(*sizes == std::vector<std::uint64_t>{big.size(), 4});
    (void)blobs_before;
    f.put("b", "k", "overwritten"); // the composite body and its parts are released
    CHECK(f.bodies() == 1);
}

TEST_CASE("multipart: EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload") {
    fixture f;
    f.bucket("b");
    auto id = f.create("b", "k");
    f.part("b", "k", id, 1, "small");
    f.part("b", "k", id, 2, "small");
    CHECK(f.complete("b", "k", id, {1, 2}).error().code == protocol::s3_errc::entity_too_small);
    CHECK(f.complete("b", "k", id, {2, 1}).error().code == protocol::s3_errc::invalid_part_order);
    CHECK(f.complete("b", "k", id, {3}).error().code == protocol::s3_errc::invalid_part);
    CHECK(f.complete("b", "k", "nope", {1}).error().code == protocol::s3_errc::no_such_upload);
    CHECK(f.alive("b", "k", id));
    CHECK(f.complete("b", "k", id, {2}).has_value());
}

TEST_CASE("multipart: R-M2 412 keeps the upload; R-M3 409 removes it in the same commit (D8)") {
    fixture f;
    f.bucket("b");
    f.put("b", "k", "existing");
    auto id = f.create("b", "k");
    f.part("b", "k", id, 1, "body of the upload, large enough to be a file");
    protocol::write_conditions inm;
    inm.if_none_match_star = true;
    CHECK(f.complete("b", "k", id, {1}, inm).error().code ==
          protocol::s3_errc::precondition_failed);
    CHECK(f.alive("b", "k", id));
    auto before = f.bodies();
    REQUIRE(w<sqlite::delete_result>(f.s, [](sqlite::write_txn &t) {
                sqlite::delete_request d;
                d.bucket = "b";
                d.key = "k";
                return sqlite::delete_object(t, d);
            }).has_value());
    auto c = f.complete("b", "k", id, {1}, inm);
    REQUIRE(c.has_value());
    REQUIRE(c->refusal);
    CHECK(c->refusal->code == protocol::s3_errc::conditional_request_conflict);
    CHECK(!f.alive("b", "k", id));
    CHECK(f.bodies() == before - 2); // the deleted object's body and the part's
}

TEST_CASE("multipart: R-M11 a versioned Complete ranks by initiation time; D11 unversioned") {
    fixture f;
    f.bucket("v", true);
    f.bucket("u");
    for (std::string b : {"v", "u"}) {
        f.now = 1000000;
        auto id = f.create(b, "k");
        f.part(b, "k", id, 1, "early");
        f.now = 2000000;
        f.put(b, "k", "later");
        f.now = 3000000;
        REQUIRE(f.complete(b, "k", id, {1}).has_value());
        CHECK(f.get(b, "k") == (b == "v" ? "later" : "early"));
    }
    sqlite::list_versions_request q{"v", "", "", "", "", 1000};
    auto page = r<sqlite::list_versions_page>(
        f.s, [q](sqlite::read_txn &t) { return sqlite::list_versions(t, q); });
    REQUIRE(page->versions.size() == 2);
    CHECK(page->versions[0].is_latest);
    CHECK(page->versions[0].last_modified_ms == 2000000);
    CHECK(!page->versions[1].is_latest);
    CHECK(page->versions[1].last_modified_ms == 1000000); // R-L3: the initiation time
}

TEST_CASE("multipart: R-M12 a repeated Complete answers the same result while it is current") {
    fixture f;
    f.bucket("u");
    f.bucket("v", true);
    for (std::string b : {"u", "v"}) {
        CAPTURE(b);
        auto id = f.create(b, "k");
        f.part(b, "k", id, 1, "the only part of this upload");
        auto first = f.complete(b, "k", id, {1});
        REQUIRE(first.has_value());
        auto again = f.complete(b, "k", id, {1});
        REQUIRE(again.has_value());
        CHECK(again->written.etag == first->written.etag);
        CHECK(again->written.version_id == first->written.version_id);
        CHECK(again->written.size == first->written.size);
        // A replay decides nothing again: a condition that now fails does not matter.
        protocol::write_conditions inm;
        inm.if_none_match_star = true;
        CHECK(f.complete(b, "k", id, {1}, inm).has_value());
        CHECK(f.get(b, "k") == "the only part of this upload");
        // Another upload id of the key is still unknown.
        CHECK(f.complete(b, "k", "nope", {1}).error().code == protocol::s3_errc::no_such_upload);
        // Once another write is current, the upload id is unknown again.
        f.put(b, "k", "overwritten");
        CHECK(f.complete(b, "k", id, {1}).error().code == protocol::s3_errc::no_such_upload);
    }
}

TEST_CASE("multipart: a part number listed twice is checked by its last entry (RULE 5)") {
    fixture f;
    f.bucket("b");
    auto id = f.create("b", "k");
    f.part("b", "k", id, 1, "stored part one");
    auto complete = [&](std::vector<std::pair<int, std::string>> listed) {
        sqlite::complete_request q;
        q.bucket = "b";
        q.key = "k";
        q.upload_id = id;
        for (auto &[n, etag] : listed) q.parts.push_back({n, etag, {}});
        return w<sqlite::complete_result>(
            f.s, [q](sqlite::write_txn &t) { return sqlite::complete_upload(t, q); });
    };
    const std::string stored(32, '1'), other(32, 'f');
    CHECK(complete({{1, stored}, {1, other}}).error().code == protocol::s3_errc::invalid_part);
    CHECK(complete({{2, stored}, {1, stored}}).error().code ==
          protocol::s3_errc::invalid_part_order);
    auto c = complete({{1, other}, {1, stored}});
    REQUIRE(c.has_value());
    CHECK(c->written.size == std::string("stored part one").size());
    CHECK(f.get("b", "k") == "stored part one");
}

TEST_CASE("versions: paging with key and version-id markers, delimiter") {
    fixture f;
    f.bucket("v", true);
    for (int i = 0; i < 5; ++i) {
        for (std::string k : {"a", "d/x", "d/y", "z"}) {
            f.now += 1;
            f.put("v", k, k + std::to_string(i));
        }
    }
    std::vector<std::pair<std::string, std::string>> seen;
    sqlite::list_versions_request q{"v", "", "", "", "", 3};
    for (int pages = 0; pages < 20; ++pages) {
        auto page = r<sqlite::list_versions_page>(
            f.s, [q](sqlite::read_txn &t) { return sqlite::list_versions(t, q); });
        REQUIRE(page.has_value());
        for (auto &v : page->versions) seen.emplace_back(v.key, v.version_id);
        if (!page->truncated) break;
        q.key_marker = page->next_key_marker;
        q.version_id_marker = page->next_version_id_marker;
    }
    REQUIRE(seen.size() == 20);
    CHECK(seen[0].first == "a");
    CHECK(seen[19].first == "z");
    sqlite::list_versions_request dq{"v", "", "/", "", "", 1000};
    auto page = r<sqlite::list_versions_page>(
        f.s, [dq](sqlite::read_txn &t) { return sqlite::list_versions(t, dq); });
    CHECK(page->common_prefixes == std::vector<std::string>{"d/"});
    CHECK(page->versions.size() == 10);
    sqlite::list_versions_request bad{"v", "", "", "a", "nope", 1000};
    CHECK(r<sqlite::list_versions_page>(f.s, [bad](sqlite::read_txn &t) {
              return sqlite::list_versions(t, bad);
          }).error().code == protocol::s3_errc::invalid_argument);
}
