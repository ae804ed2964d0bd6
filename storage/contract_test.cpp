// The backend contract suite: what every storage::object_store must do, written against the
// interface alone (object_store.hpp, requests.hpp) and run for every backend the build has
// (backends() below). A backend passes it unchanged or it is not a backend.
#include "storage/backends.hpp"
#include "storage/object_store.hpp"
#include "storage/test_bodies.hpp"
#include "storage/test_postgres.hpp"

#include "protocol/crypto.hpp"
#include "protocol/etag.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unistd.h>

using namespace ifmatch;
using storage::object_store;
using protocol::s3_errc;

namespace {

namespace fs = std::filesystem;

// ---- the backends -----------------------------------------------------------------------------

struct backend_case {
    std::string name;
    bool persistent; // reopening the same location finds the data again
    std::function<std::unique_ptr<object_store>(const std::string &dir)> open;
};

// PostgreSQL on the process's throwaway server; reopening the same directory reopens the same
// database (one database per directory). `blob_dir`: bodies as files in DIR/blobs.
backend_case postgres_case(std::string name, bool blob_dir) {
    return {std::move(name), true, [blob_dir](const std::string &dir) {
                static std::mutex m;
                static std::map<std::string, std::string> dbs;
                std::lock_guard lk(m);
                auto &uri = dbs[dir];
                if (uri.empty()) {
                    uri = storage::testing::test_postgres::instance().new_database();
                }
                storage::open_options o;
                o.location = uri;
                o.pg_pool = 4;
                if (blob_dir) o.blob_dir = dir + "/blobs";
                return storage::open_store(o);
            }};
}

std::vector<backend_case> backends() {
    std::vector<backend_case> out;
    out.push_back({"sqlite (directory)", true, [](const std::string &dir) {
                       storage::open_options o;
                       o.location = dir;
                       return storage::open_store(o);
                   }});
    out.push_back({"sqlite (:memory:)", false, [](const std::string &) {
                       storage::open_options o;
                       o.location = ":memory:";
                       return storage::open_store(o);
                   }});
    out.push_back(postgres_case("postgresql", false));
    out.push_back(postgres_case("postgresql (--blob-dir)", true));
    return out;
}

struct scratch {
    std::string path;
    scratch() {
        static std::atomic<int> n{0};
        path = (fs::temp_directory_path() /
                ("ifmatch-contract-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
                   .string();
        fs::create_directories(path);
    }
    ~scratch() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// ---- calling the interface synchronously ------------------------------------------------------

template <class V, class Call> V wait(Call call) {
    std::promise<V> p;
    auto f = p.get_future();
    call([&p](V v) { p.set_value(std::move(v)); });
    return f.get();
}
template <class T, class Call> storage::result<T> ask(Call call) {
    return wait<storage::result<T>>(std::move(call));
}
template <class T, class Call> storage::write_outcome<T> decide(Call call) {
    return wait<storage::write_outcome<T>>(std::move(call));
}

std::string quoted_md5(std::string_view data) {
    return "\"" + protocol::to_hex(protocol::md5_raw(data)) + "\"";
}

// A store with helpers for the common steps.
struct fixture {
    scratch dir;
    std::unique_ptr<object_store> db;
    explicit fixture(const backend_case &b) : db(b.open(dir.path)) {}
    ~fixture() {
        if (db) db->close();
    }

    void bucket(const std::string &name, bool versioned = false) {
        auto r = ask<storage::create_bucket_result>(
            [&](auto done) { db->create_bucket(name, "us-east-1", {}, std::move(done)); });
        REQUIRE(r.has_value());
        if (versioned) {
            REQUIRE(ask<bool>([&](auto done) {
                        db->set_bucket_versioning(name, "Enabled", std::move(done));
                    }).has_value());
        }
    }
    storage::staged_body stage(std::string_view data) {
        auto sink = db->new_body();
        for (std::size_t i = 0; i < data.size(); i += 100000) {
            REQUIRE(sink->append(data.substr(i, 100000)));
        }
        REQUIRE(sink->size() == data.size());
        return sink->release();
    }
    storage::put_request put_req(const std::string &b, const std::string &k,
                                 std::string_view data) {
        storage::put_request r;
        r.bucket = b;
        r.key = k;
        r.body = stage(data);
        r.fields.etag = quoted_md5(data);
        r.fields.size = data.size();
        r.start = db->start();
        return r;
    }
    storage::write_outcome<storage::write_result> put(storage::put_request r) {
        return decide<storage::write_result>(
            [&](auto done) { db->put_object(std::move(r), std::move(done)); });
    }
    storage::write_outcome<storage::write_result> put(const std::string &b, const std::string &k,
                                                      std::string_view data,
                                                      protocol::write_conditions c = {}) {
        auto r = put_req(b, k, data);
        r.conditions = c;
        return put(std::move(r));
    }
    storage::result<storage::object_read> get(const std::string &b, const std::string &k,
                                              std::optional<std::string> version = {}) {
        storage::get_request g{b, k, std::move(version), true, false};
        return ask<storage::object_read>([&](auto done) { db->get_object(g, std::move(done)); });
    }
    // The whole body of a read, from its inline bytes and body sources.
    static std::string bytes(const storage::object_read &o) { return test_support::read_whole(o); }
    std::vector<storage::object_version> versions(const std::string &b, const std::string &k) {
        auto r = ask<std::vector<storage::object_version>>(
            [&](auto done) { db->key_versions(b, k, std::move(done)); });
        REQUIRE(r.has_value());
        return *r;
    }
    storage::write_outcome<storage::delete_result> del(const std::string &b, const std::string &k,
                                                       std::optional<std::string> version = {}) {
        storage::delete_request d;
        d.bucket = b;
        d.key = k;
        d.version_id = std::move(version);
        d.start = db->start();
        return decide<storage::delete_result>(
            [&](auto done) { db->delete_object(std::move(d), std::move(done)); });
    }
};

// If-Match as parse_write_conditions gives it: the ETag without its quotes (R-T1).
protocol::write_conditions if_match(const std::string &quoted) {
    protocol::write_conditions c;
    c.if_match = quoted.substr(1, quoted.size() - 2);
    return c;
}
protocol::write_conditions if_none_match_star() {
    protocol::write_conditions c;
    c.if_none_match_star = true;
    return c;
}

std::string big(std::size_t n, char seed) {
    std::string s(n, '\0');
    std::mt19937 rng(static_cast<unsigned>(seed));
    for (auto &c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
}

} // namespace

TEST_CASE("contract: buckets are created once, listed, and deleted only when empty") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        auto c = ask<storage::create_bucket_result>([&](auto done) {
            f.db->create_bucket("one", "us-east-1", {{"cors", "<x/>"}}, std::move(done));
        });
        REQUIRE(c.has_value());
        CHECK_FALSE(c->already_owned);
        auto again = ask<storage::create_bucket_result>(
            [&](auto done) { f.db->create_bucket("one", "us-east-1", {}, std::move(done)); });
        REQUIRE(again.has_value());
        CHECK(again->already_owned);
        auto cfg = ask<std::shared_ptr<const storage::bucket_config>>(
            [&](auto done) { f.db->get_bucket_config("one", std::move(done)); });
        REQUIRE(cfg.has_value());
        CHECK((*cfg)->settings == storage::string_pairs{{"cors", "<x/>"}});
        f.bucket("two");
        auto all = ask<std::vector<storage::bucket_info>>(
            [&](auto done) { f.db->list_buckets(std::move(done)); });
        REQUIRE(all.has_value());
        REQUIRE(all->size() == 2);
        CHECK((*all)[0].name == "one");
        CHECK((*all)[1].name == "two");
        REQUIRE(f.put("one", "k", "v").value.has_value());
        auto busy = ask<bool>([&](auto done) { f.db->delete_bucket("one", std::move(done)); });
        REQUIRE(busy.has_error());
        CHECK(busy.error().code == s3_errc::bucket_not_empty);
        auto gone = ask<bool>([&](auto done) { f.db->delete_bucket("two", std::move(done)); });
        CHECK(gone.has_value());
        auto missing = ask<storage::bucket_info>(
            [&](auto done) { f.db->get_bucket("two", std::move(done)); });
        REQUIRE(missing.has_error());
        CHECK(missing.error().code == s3_errc::no_such_bucket);
        auto put_missing = f.put("two", "k", "v");
        REQUIRE(put_missing.value.has_error());
        CHECK(put_missing.value.error().code == s3_errc::no_such_bucket);
    }
}

TEST_CASE("contract: bodies round-trip through sinks and sources, small and large") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        const std::string small = "hello";
        const std::string large = big(3 * 1024 * 1024 + 17, 'L');
        const std::string empty;
        for (const auto *data : {&small, &large, &empty}) {
            auto w = f.put("bk", "k" + std::to_string(data->size()), *data);
            REQUIRE(w.value.has_value());
            CHECK(w.value->etag == quoted_md5(*data));
            auto r = f.get("bk", "k" + std::to_string(data->size()));
            REQUIRE(r.has_value());
            CHECK(r->version.size == data->size());
            CHECK(r->version.etag == quoted_md5(*data));
            CHECK(fixture::bytes(*r) == *data);
        }
        // A source reads at any offset.
        auto r = f.get("bk", "k" + std::to_string(large.size()));
        REQUIRE(r.has_value());
        std::uint64_t base = 0;
        for (const auto &seg : r->segments) {
            if (seg.source && seg.size > 1000) {
                std::string piece(100, '\0');
                REQUIRE(seg.source->read_at(seg.size - 500, piece.data(), piece.size()));
                CHECK(piece == large.substr(base + seg.size - 500, 100));
            }
            base += seg.size;
        }
        // A sink dropped before release leaves nothing, and a refused write's body is gone too.
        { auto sink = f.db->new_body(); REQUIRE(sink->append(large)); }
        auto missing = f.get("bk", "never");
        REQUIRE(missing.has_error());
        CHECK(missing.error().code == s3_errc::no_such_key);
    }
}

TEST_CASE("contract: conditional writes answer 412 / 404 / 409 / 428 with the state they saw") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        // If-None-Match: * on an absent key creates it; on a present one it is 412.
        auto first = f.put("bk", "k", "one", if_none_match_star());
        REQUIRE(first.value.has_value());
        CHECK_FALSE(first.refused_against);
        auto second = f.put("bk", "k", "two", if_none_match_star());
        REQUIRE(second.value.has_error());
        CHECK(second.value.error().code == s3_errc::precondition_failed);
        REQUIRE(second.refused_against);
        CHECK(second.refused_against->exists);
        CHECK(second.refused_against->etag == quoted_md5("one"));
        CHECK(second.refused_against->version_id == first.value->version_id);
        // If-Match: a different ETag is 412, the right one proceeds.
        auto wrong = f.put("bk", "k", "two", if_match(quoted_md5("nope")));
        REQUIRE(wrong.value.has_error());
        CHECK(wrong.value.error().code == s3_errc::precondition_failed);
        auto right = f.put("bk", "k", "two", if_match(quoted_md5("one")));
        REQUIRE(right.value.has_value());
        // If-Match on an absent key: 404 NoSuchKey, decided against "absent".
        auto absent = f.put("bk", "nothing", "x", if_match(quoted_md5("x")));
        REQUIRE(absent.value.has_error());
        CHECK(absent.value.error().code == s3_errc::no_such_key);
        REQUIRE(absent.refused_against);
        CHECK_FALSE(absent.refused_against->exists);
        // 409: the ETag matches, but the key was written after the request's start (D3).
        auto late = f.put_req("bk", "k", "three");
        late.conditions = if_match(quoted_md5("two"));
        REQUIRE(f.put("bk", "k", "two").value.has_value()); // same bytes, a new write
        auto conflict = f.put(std::move(late));
        REQUIRE(conflict.value.has_error());
        CHECK(conflict.value.error().code == s3_errc::conditional_request_conflict);
        REQUIRE(conflict.refused_against);
        CHECK(conflict.refused_against->etag == quoted_md5("two"));
        // 409 for If-None-Match: * when the key existed at start and was deleted since.
        auto create = f.put_req("bk", "k", "four");
        create.conditions = if_none_match_star();
        REQUIRE(f.del("bk", "k").value.has_value());
        auto raced = f.put(std::move(create));
        REQUIRE(raced.value.has_error());
        CHECK(raced.value.error().code == s3_errc::conditional_request_conflict);
        // 428: the server requires conditions and the write sent none.
        auto bare = f.put_req("bk", "k2", "five");
        bare.server_requires_conditions = true;
        auto required = f.put(std::move(bare));
        REQUIRE(required.value.has_error());
        CHECK(required.value.error().code == s3_errc::precondition_required);
    }
}

TEST_CASE("contract: a refused write leaves no trace") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk", true);
        REQUIRE(f.put("bk", "k", "kept").value.has_value());
        auto before = f.versions("bk", "k");
        const std::string large = big(2 * 1024 * 1024, 'R');
        for (int i = 0; i < 3; ++i) {
            auto r = f.put("bk", "k", large, if_none_match_star());
            REQUIRE(r.value.has_error());
            auto c = f.put("bk", "k", large, if_match(quoted_md5("other")));
            REQUIRE(c.value.has_error());
        }
        storage::delete_request d;
        d.bucket = "bk";
        d.key = "k";
        d.conditions.if_match = protocol::parse_etag_list(quoted_md5("other"));
        d.start = f.db->start();
        auto refused_delete = decide<storage::delete_result>(
            [&](auto done) { f.db->delete_object(std::move(d), std::move(done)); });
        REQUIRE(refused_delete.value.has_error());
        CHECK(refused_delete.value.error().code == s3_errc::precondition_failed);
        auto after = f.versions("bk", "k");
        REQUIRE(after.size() == before.size());
        CHECK(after.back().version_id == before.back().version_id);
        auto r = f.get("bk", "k");
        REQUIRE(r.has_value());
        CHECK(fixture::bytes(*r) == "kept");
        auto totals = ask<storage::store_totals>(
            [&](auto done) { f.db->stored_totals(std::move(done)); });
        REQUIRE(totals.has_value());
        CHECK(totals->objects == 1);
        CHECK(totals->bytes == 4);
    }
}

TEST_CASE("contract: racing conditional writes have exactly one winner") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        constexpr int writers = 24;
        // Create-if-absent: one 200, the rest 412 (R-X1), submitted together.
        std::vector<std::future<storage::write_outcome<storage::write_result>>> results;
        std::vector<std::promise<storage::write_outcome<storage::write_result>>> slots(writers);
        for (int i = 0; i < writers; ++i) {
            auto r = f.put_req("bk", "lock", "writer " + std::to_string(i));
            r.conditions = if_none_match_star();
            results.push_back(slots[i].get_future());
            f.db->put_object(std::move(r), [&slots, i](auto o) { slots[i].set_value(std::move(o)); });
        }
        int won = 0, lost = 0;
        for (auto &r : results) {
            auto o = r.get();
            if (o.value.has_value()) {
                ++won;
            } else if (o.value.error().code == s3_errc::precondition_failed) {
                ++lost;
            }
        }
        CHECK(won == 1);
        CHECK(lost == writers - 1);
        // Compare-and-swap from many threads on one current ETag: one wins, the others are
        // refused (412 against the winner's ETag, or 409), never two winners.
        auto cur = f.get("bk", "lock");
        REQUIRE(cur.has_value());
        const std::string etag = cur->version.etag;
        std::atomic<int> cas_won{0}, cas_refused{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i) {
            threads.emplace_back([&, i] {
                auto o = f.put("bk", "lock", "cas " + std::to_string(i), if_match(etag));
                if (o.value.has_value()) {
                    ++cas_won;
                } else if (o.value.error().code == s3_errc::precondition_failed ||
                           o.value.error().code == s3_errc::conditional_request_conflict) {
                    ++cas_refused;
                }
            });
        }
        for (auto &t : threads) t.join();
        CHECK(cas_won == 1);
        CHECK(cas_refused == 7);
    }
}

TEST_CASE("contract: versioning keeps every version; delete markers hide and can be removed") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk", true);
        auto v1 = f.put("bk", "k", "first");
        auto v2 = f.put("bk", "k", "second");
        REQUIRE(v1.value.has_value());
        REQUIRE(v2.value.has_value());
        CHECK(v1.value->version_id != v2.value->version_id);
        CHECK(v1.value->version_id != "null");
        auto marker = f.del("bk", "k");
        REQUIRE(marker.value.has_value());
        CHECK(marker.value->delete_marker);
        auto cur = f.get("bk", "k");
        REQUIRE(cur.has_value());
        CHECK(cur->version.delete_marker);
        auto old = f.get("bk", "k", v1.value->version_id);
        REQUIRE(old.has_value());
        CHECK(fixture::bytes(*old) == "first");
        auto unknown = f.get("bk", "k", "no-such-version");
        REQUIRE(unknown.has_error());
        CHECK(unknown.error().code == s3_errc::no_such_version);
        // ListObjectVersions: newest first for the key.
        storage::list_versions_request lv;
        lv.bucket = "bk";
        auto page = ask<storage::list_versions_page>(
            [&](auto done) { f.db->list_versions(lv, std::move(done)); });
        REQUIRE(page.has_value());
        REQUIRE(page->versions.size() == 3);
        CHECK(page->versions[0].delete_marker);
        CHECK(page->versions[0].is_latest);
        CHECK(page->versions[1].version_id == v2.value->version_id);
        CHECK(page->versions[2].version_id == v1.value->version_id);
        // The marker is not listed as an object; removing it brings the last version back.
        storage::list_request lr;
        lr.bucket = "bk";
        auto listed = ask<storage::list_page>(
            [&](auto done) { f.db->list_objects(lr, std::move(done)); });
        REQUIRE(listed.has_value());
        CHECK(listed->contents.empty());
        REQUIRE(f.del("bk", "k", marker.value->version_id).value.has_value());
        auto back = f.get("bk", "k");
        REQUIRE(back.has_value());
        CHECK(fixture::bytes(*back) == "second");
        // If-Match on a key whose current version is a delete marker: 404.
        REQUIRE(f.del("bk", "k").value.has_value());
        auto on_marker = f.put("bk", "k", "x", if_match(quoted_md5("second")));
        REQUIRE(on_marker.value.has_error());
        CHECK(on_marker.value.error().code == s3_errc::no_such_key);
        REQUIRE(on_marker.refused_against);
        CHECK(on_marker.refused_against->delete_marker);
    }
}

TEST_CASE("contract: listing is in key order and pages without gaps or repeats") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        std::vector<std::string> keys = {"b", "a/2", "c", "a/1", "d/x/y", "aa", "e", "a"};
        for (auto &k : keys) REQUIRE(f.put("bk", k, k).value.has_value());
        std::set<std::string> sorted(keys.begin(), keys.end());
        std::vector<std::string> seen;
        storage::list_request lr;
        lr.bucket = "bk";
        lr.max_keys = 3;
        for (int pages = 0; pages < 10; ++pages) {
            auto p = ask<storage::list_page>(
                [&](auto done) { f.db->list_objects(lr, std::move(done)); });
            REQUIRE(p.has_value());
            for (auto &e : p->contents) seen.push_back(e.key);
            if (!p->truncated) break;
            lr.after = p->last;
        }
        CHECK(seen == std::vector<std::string>(sorted.begin(), sorted.end()));
        storage::list_request dl;
        dl.bucket = "bk";
        dl.delimiter = "/";
        auto d = ask<storage::list_page>([&](auto done) { f.db->list_objects(dl, std::move(done)); });
        REQUIRE(d.has_value());
        CHECK(d->common_prefixes == std::vector<std::string>{"a/", "d/"});
        std::vector<std::string> top;
        for (auto &e : d->contents) top.push_back(e.key);
        CHECK(top == std::vector<std::string>{"a", "aa", "b", "c", "e"});
    }
}

TEST_CASE("contract: multipart uploads complete, refuse at commit, and abort") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        auto create = [&](const std::string &key) {
            storage::create_upload_request c;
            c.bucket = "bk";
            c.key = key;
            auto u = ask<storage::upload_info>(
                [&](auto done) { f.db->create_upload(c, std::move(done)); });
            REQUIRE(u.has_value());
            return u->upload_id;
        };
        const std::string p1 = big(5 * 1024 * 1024, '1'), p2 = "tail of the object";
        auto part = [&](const std::string &key, const std::string &id, int n,
                        const std::string &data) {
            storage::upload_part_request r;
            r.bucket = "bk";
            r.key = key;
            r.upload_id = id;
            r.body = f.stage(data);
            r.part.number = n;
            r.part.etag = quoted_md5(data);
            r.part.size = data.size();
            auto p = ask<storage::part_info>([&](auto done) { f.db->put_part(r, std::move(done)); });
            REQUIRE(p.has_value());
        };
        auto complete = [&](const std::string &key, const std::string &id,
                            protocol::write_conditions c = {}) {
            storage::complete_request q;
            q.bucket = "bk";
            q.key = key;
            q.upload_id = id;
            q.parts.push_back({1, quoted_md5(p1).substr(1, 32), {}});
            q.parts.push_back({2, quoted_md5(p2).substr(1, 32), {}});
            q.conditions = c;
            return decide<storage::complete_result>(
                [&](auto done) { f.db->complete_upload(q, std::move(done)); });
        };
        auto id = create("obj");
        part("obj", id, 1, p1);
        part("obj", id, 2, p2);
        storage::list_uploads_request lu;
        lu.bucket = "bk";
        auto listed = ask<storage::list_uploads_page>(
            [&](auto done) { f.db->list_uploads(lu, std::move(done)); });
        REQUIRE(listed.has_value());
        REQUIRE(listed->uploads.size() == 1);
        CHECK(listed->uploads[0].upload_id == id);
        auto completed = complete("obj", id, if_none_match_star());
        REQUIRE(completed.value.has_value());
        REQUIRE_FALSE(completed.value->refusal);
        CHECK(completed.value->written.etag.find("-2\"") != std::string::npos);
        auto r = f.get("bk", "obj");
        REQUIRE(r.has_value());
        CHECK(fixture::bytes(*r) == p1 + p2);
        // 412 at commit leaves the upload; 409 (written since the upload began) removes it (D8).
        auto id2 = create("obj");
        part("obj", id2, 1, p1);
        part("obj", id2, 2, p2);
        auto refused = complete("obj", id2, if_none_match_star());
        REQUIRE(refused.value.has_error());
        CHECK(refused.value.error().code == s3_errc::precondition_failed);
        REQUIRE(refused.refused_against);
        CHECK(refused.refused_against->etag == r->version.etag);
        REQUIRE(f.put("bk", "obj", "overwritten").value.has_value());
        auto conflict = complete("obj", id2, if_match(quoted_md5("overwritten")));
        REQUIRE(conflict.value.has_value());
        REQUIRE(conflict.value->refusal);
        CHECK(conflict.value->refusal->code == s3_errc::conditional_request_conflict);
        CHECK(conflict.refused_against);
        auto gone = ask<storage::upload_info>(
            [&](auto done) { f.db->find_upload("bk", "obj", id2, std::move(done)); });
        REQUIRE(gone.has_error());
        CHECK(gone.error().code == s3_errc::no_such_upload);
        // Abort.
        auto id3 = create("other");
        part("other", id3, 1, "x");
        REQUIRE(ask<bool>([&](auto done) {
                    f.db->abort_upload("bk", "other", id3, std::move(done));
                }).has_value());
        auto aborted = ask<bool>(
            [&](auto done) { f.db->abort_upload("bk", "other", id3, std::move(done)); });
        REQUIRE(aborted.has_error());
        CHECK(aborted.error().code == s3_errc::no_such_upload);
    }
}

TEST_CASE("contract: CopyObject checks the source, then the destination, at commit") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        REQUIRE(f.put("bk", "src", "source bytes").value.has_value());
        REQUIRE(f.put("bk", "dst", "old").value.has_value());
        auto copy = [&](protocol::read_conditions src, protocol::write_conditions dst,
                        std::string src_key = "src") {
            storage::copy_request c;
            c.src_bucket = "bk";
            c.src_key = std::move(src_key);
            c.src_conditions = std::move(src);
            c.bucket = "bk";
            c.key = "dst";
            c.conditions = dst;
            c.start = f.db->start();
            return decide<storage::write_result>(
                [&](auto done) { f.db->copy_object(std::move(c), std::move(done)); });
        };
        auto missing = copy({}, {}, "nope");
        REQUIRE(missing.value.has_error());
        CHECK(missing.value.error().code == s3_errc::no_such_key);
        protocol::read_conditions wrong;
        wrong.if_match = protocol::parse_etag_list(quoted_md5("other"));
        auto src412 = copy(wrong, if_none_match_star());
        REQUIRE(src412.value.has_error());
        CHECK(src412.value.error().code == s3_errc::precondition_failed);
        auto dst412 = copy({}, if_none_match_star());
        REQUIRE(dst412.value.has_error());
        CHECK(dst412.value.error().code == s3_errc::precondition_failed);
        REQUIRE(dst412.refused_against);
        CHECK(dst412.refused_against->etag == quoted_md5("old"));
        auto ok = copy({}, if_match(quoted_md5("old")));
        REQUIRE(ok.value.has_value());
        auto r = f.get("bk", "dst");
        REQUIRE(r.has_value());
        CHECK(fixture::bytes(*r) == "source bytes");
        CHECK(r->version.etag == quoted_md5("source bytes"));
    }
}

TEST_CASE("contract: acknowledged writes survive close and reopen") {
    for (const auto &b : backends()) {
        if (!b.persistent) continue;
        CAPTURE(b.name);
        scratch dir;
        const std::string large = big(1024 * 1024, 'P');
        std::string etag;
        {
            auto db = b.open(dir.path);
            auto c = ask<storage::create_bucket_result>(
                [&](auto done) { db->create_bucket("bk", "us-east-1", {}, std::move(done)); });
            REQUIRE(c.has_value());
            auto sink = db->new_body();
            REQUIRE(sink->append(large));
            storage::put_request p;
            p.bucket = "bk";
            p.key = "k";
            p.body = sink->release();
            p.fields.etag = quoted_md5(large);
            p.fields.size = large.size();
            p.start = db->start();
            auto w = decide<storage::write_result>(
                [&](auto done) { db->put_object(std::move(p), std::move(done)); });
            REQUIRE(w.value.has_value());
            etag = w.value->etag;
            db->close();
        }
        auto db = b.open(dir.path);
        storage::get_request g{"bk", "k", {}, true, false};
        auto r = ask<storage::object_read>([&](auto done) { db->get_object(g, std::move(done)); });
        REQUIRE(r.has_value());
        CHECK(r->version.etag == etag);
        CHECK(fixture::bytes(*r) == large);
        // Conditions keep working across the restart.
        storage::put_request again;
        again.bucket = "bk";
        again.key = "k";
        auto sink = db->new_body();
        REQUIRE(sink->append("x"));
        again.body = sink->release();
        again.fields.etag = quoted_md5("x");
        again.fields.size = 1;
        again.conditions.if_none_match_star = true;
        again.start = db->start();
        auto refused = decide<storage::write_result>(
            [&](auto done) { db->put_object(std::move(again), std::move(done)); });
        REQUIRE(refused.value.has_error());
        CHECK(refused.value.error().code == s3_errc::precondition_failed);
        db->close();
    }
}

TEST_CASE("contract: UploadPartCopy's source conditions are decided at commit (R-C16)") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk");
        auto w = f.put("bk", "src", "original");
        REQUIRE(w.value.has_value());
        storage::create_upload_request c;
        c.bucket = "bk";
        c.key = "dst";
        auto u = ask<storage::upload_info>([&](auto done) { f.db->create_upload(c, std::move(done)); });
        REQUIRE(u.has_value());
        auto src = f.get("bk", "src");
        REQUIRE(src.has_value());
        auto copy_part = [&](protocol::read_conditions cond, std::int64_t read_seq) {
            storage::upload_part_request r;
            r.bucket = "bk";
            r.key = "dst";
            r.upload_id = u->upload_id;
            r.body = f.stage("original");
            r.part.number = 1;
            r.part.etag = quoted_md5("original");
            r.part.size = 8;
            r.source = storage::upload_part_request::copy_from{"bk", "src", {}, std::move(cond),
                                                               read_seq};
            return ask<storage::part_info>([&](auto done) { f.db->put_part(r, std::move(done)); });
        };
        protocol::read_conditions match;
        match.if_match = protocol::parse_etag_list(quoted_md5("original"));
        protocol::read_conditions mismatch;
        mismatch.if_match = protocol::parse_etag_list(quoted_md5("other"));
        auto failed = copy_part(mismatch, src->version.seq);
        REQUIRE(failed.has_error());
        CHECK(failed.error().code == s3_errc::precondition_failed);
        REQUIRE(copy_part(match, src->version.seq).has_value());
        // The source replaced (same bytes, a new version) after its bytes were read: with
        // conditions the stale part is refused; without, the copy of what was read stands.
        REQUIRE(f.put("bk", "src", "original").value.has_value());
        auto stale = copy_part(match, src->version.seq);
        REQUIRE(stale.has_error());
        CHECK(stale.error().code == s3_errc::conditional_request_conflict);
        CHECK(copy_part({}, src->version.seq).has_value());
        // A source deleted before the commit: 404 NoSuchKey, whatever the conditions.
        REQUIRE(f.del("bk", "src").value.has_value());
        auto gone = copy_part(match, src->version.seq);
        REQUIRE(gone.has_error());
        CHECK(gone.error().code == s3_errc::no_such_key);
        storage::list_parts_request lp{"bk", "dst", u->upload_id, 0, 1000};
        auto parts = ask<storage::list_parts_page>(
            [&](auto done) { f.db->list_parts(lp, std::move(done)); });
        REQUIRE(parts.has_value());
        REQUIRE(parts->parts.size() == 1); // only the successful copies stored part 1
    }
}

TEST_CASE("contract: the lifecycle's deletes: only noncurrent versions, exempt from required "
          "conditions") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk", true);
        REQUIRE(ask<bool>([&](auto done) {
                    f.db->set_bucket_require_conditions("bk", true, std::move(done));
                }).has_value());
        auto v1 = f.put("bk", "k", "one", if_none_match_star());
        REQUIRE(v1.value.has_value());
        auto v2 = f.put("bk", "k", "two", if_match(quoted_md5("one")));
        REQUIRE(v2.value.has_value());
        auto lifecycle_delete = [&](const std::string &version) {
            storage::delete_request d;
            d.bucket = "bk";
            d.key = "k";
            d.version_id = version;
            d.start = f.db->start();
            d.only_noncurrent = true;
            d.by_lifecycle = true;
            return decide<storage::delete_result>(
                [&](auto done) { f.db->delete_object(std::move(d), std::move(done)); });
        };
        // A client's unconditional delete is 428 in this bucket (D5); the lifecycle's is not.
        auto client = f.del("bk", "k", v1.value->version_id);
        REQUIRE(client.value.has_error());
        CHECK(client.value.error().code == s3_errc::precondition_required);
        // The current version is refused (restored meanwhile, in the worker's terms): 412.
        auto current = lifecycle_delete(v2.value->version_id);
        REQUIRE(current.value.has_error());
        CHECK(current.value.error().code == s3_errc::precondition_failed);
        CHECK(f.versions("bk", "k").size() == 2);
        // A noncurrent one goes.
        REQUIRE(lifecycle_delete(v1.value->version_id).value.has_value());
        auto left = f.versions("bk", "k");
        REQUIRE(left.size() == 1);
        CHECK(left[0].version_id == v2.value->version_id);
    }
}

TEST_CASE("contract: a delete marker carries the entries and the version id it is given (B-R3)") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        f.bucket("bk", true);
        REQUIRE(f.put("bk", "k", "one").value.has_value());
        storage::delete_request d;
        d.bucket = "bk";
        d.key = "k";
        d.start = f.db->start();
        d.marker_extra = {{"x-amz-replication-status", "REPLICA"}};
        d.marker_version_id = "replicated-marker-id";
        auto marker = decide<storage::delete_result>(
            [&](auto done) { f.db->delete_object(std::move(d), std::move(done)); });
        REQUIRE(marker.value.has_value());
        CHECK(marker.value->delete_marker);
        CHECK(marker.value->version_id == "replicated-marker-id");
        auto listed = f.versions("bk", "k");
        REQUIRE(listed.size() == 2);
        const auto &m = listed[0].delete_marker ? listed[0] : listed[1];
        CHECK(m.delete_marker);
        CHECK(m.version_id == "replicated-marker-id");
        CHECK(m.meta.extra == storage::string_pairs{{"x-amz-replication-status", "REPLICA"}});
        // A client's change of a marker's entries is S3's 405; the worker's is allowed.
        storage::version_extra_request x;
        x.bucket = "bk";
        x.key = "k";
        x.version_id = "replicated-marker-id";
        x.name = "x-amz-replication-status";
        x.value = "COMPLETED";
        auto refused = ask<storage::object_version>(
            [&](auto done) { f.db->set_version_extra(x, std::move(done)); });
        REQUIRE(refused.has_error());
        CHECK(refused.error().code == s3_errc::method_not_allowed);
        x.marker_allowed = true;
        x.expect.emplace_back("x-amz-replication-status", "REPLICA");
        auto changed = ask<storage::object_version>(
            [&](auto done) { f.db->set_version_extra(x, std::move(done)); });
        REQUIRE(changed.has_value());
        CHECK(changed->delete_marker);
        auto again = f.versions("bk", "k");
        const auto &m2 = again[0].delete_marker ? again[0] : again[1];
        CHECK(m2.meta.extra == storage::string_pairs{{"x-amz-replication-status", "COMPLETED"}});
        // The marker still hides the key.
        auto cur = f.get("bk", "k");
        REQUIRE(cur.has_value());
        CHECK(cur->version.delete_marker);
    }
}

TEST_CASE("contract: a shared store's fault rules are used exactly count times (D10)") {
    for (const auto &b : backends()) {
        CAPTURE(b.name);
        fixture f(b);
        if (!f.db->shared()) {
            // The process keeps its own rules: the store says so.
            auto r = ask<std::vector<storage::fault_rule_row>>(
                [&](auto done) { f.db->fault_rules(std::move(done)); });
            REQUIRE(r.has_error());
            CHECK(r.error().code == s3_errc::not_implemented);
            continue;
        }
        auto add = [&](std::string bucket, std::string rule, int count) {
            auto id = ask<std::uint64_t>([&](auto done) {
                f.db->add_fault_rule({0, std::move(bucket), std::move(rule), count},
                                     std::move(done));
            });
            REQUIRE(id.has_value());
            return *id;
        };
        auto take = [&](const std::string &bucket, const std::string &want) {
            auto got = ask<std::optional<storage::fault_rule_row>>([&](auto done) {
                f.db->take_fault_rule(
                    bucket,
                    [want](const storage::fault_rule_row &row) {
                        return row.rule == want        ? storage::fault_use::use
                               : row.rule == "hold:" + want ? storage::fault_use::peek
                                                            : storage::fault_use::no;
                    },
                    std::move(done));
            });
            REQUIRE(got.has_value());
            return *got;
        };
        const auto first = add("bk", "a", 3);
        add("other", "a", 1);
        // Twelve takers on four threads share the three uses exactly.
        std::atomic<int> won{0};
        std::vector<std::thread> takers;
        for (int i = 0; i < 4; ++i) {
            takers.emplace_back([&] {
                for (int j = 0; j < 3; ++j) {
                    if (take("bk", "a")) ++won;
                }
            });
        }
        for (auto &t : takers) t.join();
        CHECK(won == 3);
        auto left = ask<std::vector<storage::fault_rule_row>>(
            [&](auto done) { f.db->fault_rules(std::move(done)); });
        REQUIRE(left.has_value());
        REQUIRE(left->size() == 1); // the used-up rule went; the other bucket's stays
        CHECK(left->front().bucket == "other");
        CHECK(left->front().id != first);
        // A peeked rule is answered untouched, as often as asked.
        const auto held = add("bk", "hold:b", 1);
        for (int i = 0; i < 3; ++i) {
            auto got = take("bk", "b");
            REQUIRE(got);
            CHECK(got->id == held);
            CHECK(got->count == 1);
        }
        CHECK_FALSE(take("bk", "c"));
        auto one = ask<std::uint64_t>(
            [&](auto done) { f.db->remove_fault_rules(held, std::move(done)); });
        REQUIRE(one.has_value());
        CHECK(*one == 1);
        CHECK_FALSE(take("bk", "b"));
        auto all = ask<std::uint64_t>(
            [&](auto done) { f.db->remove_fault_rules(std::nullopt, std::move(done)); });
        REQUIRE(all.has_value());
        CHECK(*all == 1);
    }
}

TEST_CASE("postgresql --blob-dir: a released file stays while a GET reads it, then goes") {
    scratch dir;
    const std::string blobs = dir.path + "/blobs";
    storage::open_options o;
    o.location = storage::testing::test_postgres::instance().new_database();
    o.pg_pool = 4;
    o.blob_dir = blobs;
    backend_case c{"postgresql (--blob-dir)", true, [&](const std::string &) {
                       return storage::open_store(o);
                   }};
    fixture f(c);
    auto files = [&] {
        std::size_t n = 0;
        for (const auto &e : fs::directory_iterator(blobs)) n += e.path().extension() == ".body";
        return n;
    };
    f.bucket("bk");
    const auto first = big(300 * 1024, 'a');
    REQUIRE(f.put("bk", "k", first).value.has_value());
    CHECK(files() == 1);
    // A body at the inline limit or below stays in the database.
    REQUIRE(f.put("bk", "small", "tiny").value.has_value());
    CHECK(files() == 1);
    {
        auto reading = f.get("bk", "k"); // holds its snapshot while the read lives
        REQUIRE(reading.has_value());
        REQUIRE(f.put("bk", "k", big(300 * 1024, 'b')).value.has_value()); // releases `first`
        CHECK(files() == 2);
        std::this_thread::sleep_for(std::chrono::milliseconds(2500)); // janitor passes: 1 s
        CHECK(files() == 2); // the reader still holds the released file
        CHECK(fixture::bytes(*reading) == first);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (files() != 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(files() == 1); // reclaimed once no snapshot can read it
    auto now = f.get("bk", "k");
    REQUIRE(now.has_value());
    CHECK(fixture::bytes(*now) == big(300 * 1024, 'b'));
    // A refused write leaves no file behind either.
    auto refused = f.put("bk", "k", big(200 * 1024, 'c'), if_none_match_star());
    REQUIRE(refused.value.has_error());
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (files() != 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(files() == 1);
}
