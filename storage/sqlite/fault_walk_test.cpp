// The fault-injection walk, the way SQLite tests itself: a mixed workload (inline and blob PUTs,
// a conditional create, an If-Match compare-and-swap, CopyObject, CompleteMultipartUpload, a
// DeleteObjects-style job removing two keys, an overwrite that releases a blob, a new version in
// a versioned bucket) runs against a fresh store while the N-th storage I/O operation fails
// (io_faults.hpp: page and frame writes, syncs and truncates of SQLite's files, blob writes,
// fsyncs and unlinks; checkpoints run inside the workload). N walks 1, 2, 3, ... until a run
// passes with no fault left. After every run:
//   - a write answered with an error left nothing (no version, no body, no blob file), a write
//     answered 2xx is there with exactly its bytes, and no answer contradicts another (a 412
//     only where the key existed);
//   - the store recovers by itself once the fault is gone (a later write succeeds);
//   - `ifmatch check` (check_data_dir) is clean after close, and again after a reopen, which
//     also finds the same objects.
// Set IFMATCH_WALK_STRIDE=K to test every K-th fault point only (sanitizer builds do).
#include "storage/sqlite/check.hpp"
#include "storage/io_faults.hpp"
#include "storage/sqlite/multipart.hpp"
#include "storage/sqlite/operations.hpp"
#include "storage/sqlite/store.hpp"
#include "storage/sqlite/test_dir.hpp"
#include "storage/test_bodies.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <unistd.h>

using namespace ifmatch;
namespace sqlite = ifmatch::storage::sqlite;
namespace faults = sqlite::io_faults;

namespace {

template <class T> using result = sqlite::result<T>;
using protocol::s3_errc;

template <class T> struct pending {
    std::shared_ptr<std::promise<result<T>>> p = std::make_shared<std::promise<result<T>>>();
    std::future<result<T>> f = p->get_future();
    result<T> get() { return f.get(); }
};

// Submits without waiting, so that consecutive submissions share a group commit.
template <class T, class F> pending<T> submit(sqlite::store &s, F fn) {
    pending<T> out;
    s.write<T>(std::function<result<T>(sqlite::write_txn &)>(std::move(fn)),
               [p = out.p](result<T> r) { p->set_value(std::move(r)); });
    return out;
}

template <class T, class F> result<T> read(sqlite::store &s, F fn) {
    std::promise<result<T>> p;
    auto f = p.get_future();
    s.read<T>(std::function<result<T>(sqlite::read_txn &)>(std::move(fn)),
              [&p](result<T> r) { p.set_value(std::move(r)); });
    return f.get();
}

constexpr std::size_t inline_limit = 1024;

std::string body_of(char c, std::size_t n) { return std::string(n, c); }

// What the store must hold: key -> bytes (absent keys are not in the map).
using model = std::map<std::string, std::string>;

struct walk_store {
    std::string dir;
    bool full_durability;
    int cache_pages;
    std::unique_ptr<sqlite::store> s;

    walk_store(std::string d, bool full, int cache)
        : dir(std::move(d)), full_durability(full), cache_pages(cache) {
        open();
    }
    void open() {
        sqlite::store_options o;
        o.data_dir = dir;
        o.inline_limit = inline_limit;
        o.dur = full_durability ? sqlite::durability::full : sqlite::durability::normal;
        o.checkpoint_pages = 8; // checkpoints inside the workload
        o.reader_threads = 1;
        o.writer_cache_pages = cache_pages;
        s = std::make_unique<sqlite::store>(o);
    }
    void close() {
        s->close();
        s.reset();
    }

    // A staged body as a session stages it; nullopt when a blob write failed (the request
    // would be answered 500 before reaching the store).
    std::optional<sqlite::staged_body> stage(const std::string &data) {
        sqlite::blob_writer w(s->blobs(), inline_limit);
        if (!w.append(data)) {
            return std::nullopt;
        }
        return w.release();
    }

    pending<sqlite::write_result> put(const std::string &bucket, const std::string &key,
                                       sqlite::staged_body body, protocol::write_conditions c,
                                       const std::string &etag) {
        sqlite::put_request r;
        r.bucket = bucket;
        r.key = key;
        r.fields.size = body.size;
        r.fields.etag = "\"" + etag + "\"";
        r.body = std::move(body);
        r.conditions = c;
        r.start.seq = s->committed_seq();
        return submit<sqlite::write_result>(
            *s, [r](sqlite::write_txn &t) { return sqlite::put_object(t, r); });
    }

    std::optional<std::string> get(const std::string &bucket, const std::string &key) {
        sqlite::get_request g{bucket, key, std::nullopt, true};
        auto o = read<sqlite::object_read>(
            *s, [g](sqlite::read_txn &t) { return sqlite::get_object(t, g); });
        if (!o) {
            REQUIRE(o.error().code == s3_errc::no_such_key);
            return std::nullopt;
        }
        return test_support::read_whole(*o);
    }

    std::size_t versions(const std::string &bucket, const std::string &key) {
        sqlite::list_versions_request q;
        q.bucket = bucket;
        q.prefix = key;
        auto page = read<sqlite::list_versions_page>(
            *s, [q](sqlite::read_txn &t) { return sqlite::list_versions(t, q); });
        REQUIRE(page.has_value());
        return page->versions.size();
    }

    bool upload_alive(const std::string &key, const std::string &id) {
        return read<sqlite::upload_info>(*s, [=](sqlite::read_txn &t) {
                   return sqlite::find_upload(t, "u", key, id);
               }).has_value();
    }
};

// Every outcome is a success or an InternalError, except where a condition decides.
template <class T> bool ok_or_internal(const result<T> &r) {
    if (!r) {
        CHECK(r.error().code == s3_errc::internal_error);
    }
    return r.has_value();
}

struct run_report {
    std::int64_t fired = 0, counted = 0;
};

// One run of the workload with the N-th I/O operation failing (nth 0: no fault).
struct walk_mode {
    bool persistent = false;
    bool disk_full = true;
    bool full_durability = false;
    int cache_pages = 0; // tiny: pages spill to the log inside statements
    std::string name() const {
        std::string n = persistent ? "persistent" : "one-shot";
        n += disk_full ? ", disk full" : ", I/O error";
        n += full_durability ? ", durability full" : ", durability normal";
        if (cache_pages) {
            n += ", " + std::to_string(cache_pages) + "-page cache";
        }
        return n;
    }
};

run_report run_once(std::int64_t nth, const walk_mode &mode) {
    test_support::scratch_dir dir("ifmatch-fault-walk");
    walk_store w(dir.path, mode.full_durability, mode.cache_pages);
    model m;
    std::string upload_id;
    // ---- set-up, without faults ----
    {
        for (auto b : {"u", "v"}) {
            auto r = submit<sqlite::create_bucket_result>(
                *w.s, [b](sqlite::write_txn &t) { return sqlite::create_bucket(t, b, "r"); });
            REQUIRE(r.get().has_value());
        }
        auto ver = submit<bool>(*w.s, [](sqlite::write_txn &t) {
            return sqlite::set_bucket_versioning(t, "v", "Enabled");
        });
        REQUIRE(ver.get().has_value());
        auto base = [&](const std::string &bucket, const std::string &key, std::string data) {
            auto staged = w.stage(data);
            REQUIRE(staged);
            REQUIRE(w.put(bucket, key, *staged, {}, key).get().has_value());
            m[bucket + "/" + key] = std::move(data);
        };
        base("u", "base-inline", "base inline body");
        base("u", "base-blob", body_of('B', 4000));
        base("u", "del1", "one");
        base("u", "del2", "two");
        base("v", "ver", body_of('V', 2000));
        sqlite::create_upload_request c{"u", "mp", {}, "", "", {}};
        auto up = submit<sqlite::upload_info>(
            *w.s, [c](sqlite::write_txn &t) { return sqlite::create_upload(t, c); });
        auto u = up.get();
        REQUIRE(u.has_value());
        upload_id = u->upload_id;
        auto staged = w.stage(body_of('P', 3000));
        REQUIRE(staged);
        sqlite::upload_part_request p;
        p.bucket = "u";
        p.key = "mp";
        p.upload_id = upload_id;
        p.body = *staged;
        p.part.number = 1;
        p.part.etag = "\"" + std::string(32, '1') + "\"";
        p.part.size = 3000;
        REQUIRE(submit<sqlite::part_info>(*w.s, [p](sqlite::write_txn &t) {
                    return sqlite::put_part(t, p);
                }).get().has_value());
    }
    if (nth > 0) {
        faults::arm({nth, mode.persistent, faults::all, mode.disk_full});
    }
    // ---- batch 1: creates, a conditional create of the same key, a compare-and-swap ----
    {
        auto a = w.put("u", "new-inline", *w.stage("first"), {}, "a");
        auto blob = w.stage(body_of('N', 5000));
        std::optional<pending<sqlite::write_result>> b;
        if (blob) {
            b = w.put("u", "new-blob", *blob, {}, "b");
        }
        protocol::write_conditions create_only;
        create_only.if_none_match_star = true;
        auto c = w.put("u", "new-inline", *w.stage("second"), create_only, "c");
        protocol::write_conditions cas;
        cas.if_match = "base-inline";
        auto d = w.put("u", "base-inline", *w.stage("swapped"), cas, "d");

        if (ok_or_internal(a.get())) {
            m["u/new-inline"] = "first";
        }
        if (b && ok_or_internal(b->get())) {
            m["u/new-blob"] = body_of('N', 5000);
        }
        auto rc = c.get();
        if (rc.has_value()) {
            CHECK_MESSAGE(!m.count("u/new-inline"), "If-None-Match: * succeeded over an object");
            m["u/new-inline"] = "second";
        } else if (rc.error().code == s3_errc::precondition_failed) {
            CHECK_MESSAGE(m.count("u/new-inline"), "412 for an object that is not there");
        } else {
            CHECK(rc.error().code == s3_errc::internal_error);
        }
        if (ok_or_internal(d.get())) {
            m["u/base-inline"] = "swapped";
        }
    }
    // ---- batch 2: copy, complete, delete two keys in one job, overwrite, new version ----
    {
        sqlite::copy_request cr;
        cr.src_bucket = "u";
        cr.src_key = "base-blob";
        cr.bucket = "u";
        cr.key = "copy";
        cr.start.seq = w.s->committed_seq();
        auto e = submit<sqlite::write_result>(
            *w.s, [cr](sqlite::write_txn &t) { return sqlite::copy_object(t, cr); });
        sqlite::complete_request q;
        q.bucket = "u";
        q.key = "mp";
        q.upload_id = upload_id;
        q.parts.push_back({1, std::string(32, '1'), {}});
        auto f = submit<sqlite::complete_result>(
            *w.s, [q](sqlite::write_txn &t) { return sqlite::complete_upload(t, q); });
        auto g = submit<bool>(*w.s, [](sqlite::write_txn &t) -> result<bool> {
            for (auto key : {"del1", "del2"}) {
                sqlite::delete_request d;
                d.bucket = "u";
                d.key = key;
                auto r = sqlite::delete_object(t, d);
                if (!r) {
                    return r.error();
                }
            }
            return true;
        });
        auto over = w.stage(body_of('O', 6000));
        std::optional<pending<sqlite::write_result>> h;
        if (over) {
            h = w.put("u", "base-blob", *over, {}, "h");
        }
        auto vbody = w.stage(body_of('W', 2500));
        std::optional<pending<sqlite::write_result>> i;
        if (vbody) {
            i = w.put("v", "ver", *vbody, {}, "i");
        }

        if (ok_or_internal(e.get())) {
            m["u/copy"] = m["u/base-blob"];
        }
        if (ok_or_internal(f.get())) {
            m["u/mp"] = body_of('P', 3000);
        }
        if (ok_or_internal(g.get())) {
            m.erase("u/del1");
            m.erase("u/del2");
        }
        if (h && ok_or_internal(h->get())) {
            m["u/base-blob"] = body_of('O', 6000);
        }
        if (i && ok_or_internal(i->get())) {
            m["v/ver"] = body_of('W', 2500);
        }
    }
    run_report rep{faults::fired(), faults::counted()};
    faults::disarm();
    const bool completed = m.count("u/mp") > 0;

    // ---- recovery: with the fault gone, a write succeeds at once ----
    {
        auto after = w.stage("after");
        REQUIRE(after);
        auto r = w.put("u", "after", *after, {}, "after").get();
        CHECK_MESSAGE(r.has_value(), "no recovery after the fault: " << (r ? "" : r.error().text()));
        m["u/after"] = "after";
    }
    auto verify = [&](const char *when) {
        INFO("verifying " << std::string(when));
        for (auto key : {"base-inline", "base-blob", "del1", "del2", "new-inline", "new-blob",
                         "copy", "mp", "after"}) {
            auto got = w.get("u", key);
            auto want = m.find(std::string("u/") + key);
            INFO("key u/" << key);
            if (want == m.end()) {
                CHECK_FALSE(got.has_value());
            } else {
                REQUIRE(got.has_value());
                CHECK(*got == want->second);
            }
        }
        auto ver = w.get("v", "ver");
        REQUIRE(ver.has_value());
        CHECK(*ver == m["v/ver"]);
        CHECK(w.versions("v", "ver") == (m["v/ver"] == body_of('V', 2000) ? 1u : 2u));
        CHECK(w.upload_alive("mp", upload_id) == !completed);
    };
    verify("before close");
    auto checked = [&](const char *when) {
        sqlite::check_options co;
        co.orphan_min_age_seconds = 0;
        auto report = sqlite::check_data_dir(dir.path, co);
        INFO("ifmatch check " << std::string(when));
        for (auto &p : report.problems) {
            INFO(p);
            CHECK(false);
        }
    };
    w.close();
    checked("after close");
    w.open();
    verify("after reopen");
    w.close();
    checked("after reopen");
    return rep;
}

struct walk_totals {
    std::int64_t points = 0, runs = 0;
};

walk_totals walk(const walk_mode &mode) {
    std::int64_t stride = 1;
    if (const char *e = std::getenv("IFMATCH_WALK_STRIDE")) {
        stride = std::max<std::int64_t>(1, std::atoll(e));
    }
    walk_totals t;
    for (std::int64_t n = 1;; n += stride) {
        INFO("fault at I/O operation " << n << ", " << mode.name());
        auto rep = run_once(n, mode);
        ++t.runs;
        if (rep.fired == 0) {
            t.points = rep.counted;
            break;
        }
        REQUIRE(n < 10000);
    }
    MESSAGE("fault walk (" << mode.name() << "): " << t.points
                           << " I/O operations in the workload, " << t.runs << " runs");
    return t;
}

} // namespace

TEST_CASE("fault walk: no fault at all leaves the model intact") {
    auto rep = run_once(0, walk_mode{});
    CHECK(rep.fired == 0);
}

TEST_CASE("fault walk: one failing write, sync, truncate or unlink (durability full)") {
    CHECK(walk({false, true, true, 0}).points > 20);
}

TEST_CASE("fault walk: a disk that stays full from the N-th operation on") {
    CHECK(walk({true, true, false, 0}).points > 20);
}

TEST_CASE("fault walk: pages spill inside statements (tiny cache), one-shot and persistent") {
    CHECK(walk({false, true, false, 4}).points > 20);
    CHECK(walk({true, false, false, 4}).points > 20);
}
