// The libpq layer's round trips (pg.hpp) and what the PostgreSQL backend builds on them: queued
// statements share one round trip, a failed one stops the rest of its round trip, answers of a
// forgotten round trip are read by the next; a PUT, a refused PUT and a GET take the round trips
// docs/shared-mode.md lists; a connection lost around COMMIT is resolved by looking the
// transaction up, as before; an asynchronous connect has a time limit; the pool's jobs wait for
// PostgreSQL together on one thread. Runs against the throwaway server of
// storage/test_postgres.hpp.
#include "protocol/crypto.hpp"
#include "storage/backends.hpp"
#include "storage/object_store.hpp"
#include "storage/postgres/pg.hpp"
#include "storage/postgres/pool.hpp"
#include "storage/test_bodies.hpp"
#include "storage/test_postgres.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <doctest/doctest.h>
#include <future>
#include <mutex>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace ifmatch;
using storage::postgres::connection;
using storage::postgres::pg_error;
using storage::postgres::rows;

namespace {

std::string new_database() { return storage::testing::test_postgres::instance().new_database(); }

struct counted {
    std::uint64_t statements = storage::postgres::statements_sent();
    std::uint64_t trips = storage::postgres::round_trips();
    std::uint64_t new_statements() const {
        return storage::postgres::statements_sent() - statements;
    }
    std::uint64_t new_trips() const { return storage::postgres::round_trips() - trips; }
};

template <class V, class Call> V wait(Call call) {
    std::promise<V> p;
    auto f = p.get_future();
    call([&p](V v) { p.set_value(std::move(v)); });
    return f.get();
}

// A store on a new database with one bucket; its requests carry no start token (no snapshot
// statement), so a request's round trips are its own.
struct store {
    std::unique_ptr<storage::object_store> db;
    std::string location = new_database();
    explicit store(bool versioned) {
        storage::open_options o;
        o.location = location;
        o.pg_pool = 2;
        db = storage::open_store(o);
        auto made = wait<storage::result<storage::create_bucket_result>>(
            [&](auto done) { db->create_bucket("b", "us-east-1", {}, std::move(done)); });
        REQUIRE(made.has_value());
        if (versioned) {
            REQUIRE(wait<storage::result<bool>>([&](auto done) {
                        db->set_bucket_versioning("b", "Enabled", std::move(done));
                    }).has_value());
        }
    }
    ~store() { db->close(); }

    storage::write_outcome<storage::write_result>
    put(const std::string &key, const std::string &data, protocol::write_conditions c = {}) {
        storage::put_request r;
        r.bucket = "b";
        r.key = key;
        auto sink = db->new_body();
        REQUIRE(sink->append(data));
        r.body = sink->release();
        r.fields.etag = "\"" + protocol::to_hex(protocol::md5_raw(data)) + "\"";
        r.fields.size = data.size();
        r.conditions = c;
        return wait<storage::write_outcome<storage::write_result>>(
            [&](auto done) { db->put_object(std::move(r), std::move(done)); });
    }
    storage::result<storage::object_read> get(const std::string &key) {
        storage::get_request g{"b", key, std::nullopt, true, false};
        return wait<storage::result<storage::object_read>>(
            [&](auto done) { db->get_object(g, std::move(done)); });
    }
    std::size_t versions(const std::string &key) {
        auto v = wait<storage::result<std::vector<storage::object_version>>>(
            [&](auto done) { db->key_versions("b", key, std::move(done)); });
        REQUIRE(v.has_value());
        return v->size();
    }
};

// The lost-connection seam: cuts the socket of the next round trip that ends with COMMIT, before
// it is sent or once it has been sent.
enum class cut { none, before_commit, after_commit };
std::atomic<cut> g_cut{cut::none};

void cut_commit(std::string_view last_sql, int socket, bool sent) {
    const cut when = sent ? cut::after_commit : cut::before_commit;
    if (last_sql != "COMMIT")
        return;
    cut expected = when;
    if (g_cut.compare_exchange_strong(expected, cut::none)) {
        // The socket is swapped for one whose peer is gone, so no answer can be read even if it
        // has already arrived (shutdown(2) would leave that readable); PostgreSQL sees its
        // client leave after what was sent.
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0 || ::dup2(pair[0], socket) != socket)
            std::abort(); // runs on the pool's thread: no doctest assertion here
        ::close(pair[1]);
        ::close(pair[0]);
    }
}

} // namespace

TEST_CASE("pg: queued statements travel in one round trip, in order, with their rows") {
    connection c(new_database());
    rows a, b;
    counted n;
    c.queue("CREATE TEMP TABLE t(v int)");
    c.queue("INSERT INTO t VALUES (1), (2) RETURNING v", {}, &a);
    c.queue("SELECT $1::int + 1", {41}, &b);
    auto last = c.exec("SELECT count(*) FROM t");
    CHECK(n.new_trips() == 1);
    CHECK(n.new_statements() == 4);
    CHECK(a.size() == 2);
    CHECK(b.i64(0, 0) == 42);
    CHECK(last.i64(0, 0) == 2); // the later statement saw the earlier one's rows
}

TEST_CASE("pg: a failed statement skips the rest of its round trip; the connection goes on") {
    connection c(new_database());
    c.queue("CREATE TEMP TABLE t(v int)");
    c.queue("SELECT 1 / 0");
    c.queue("INSERT INTO t VALUES (1)");
    try {
        c.exec("SELECT 1");
        FAIL("the division by zero was not reported");
    } catch (const pg_error &e) {
        CHECK(e.sqlstate() == "22012");
        CHECK_FALSE(e.connection_lost());
    }
    CHECK(c.ok());
    // Outside a transaction block the round trip was one implicit transaction: all of it undone.
    CHECK(c.run("SELECT to_regclass('pg_temp.t') IS NULL").boolean(0, 0));

    // In a transaction block the failure aborts the transaction until ROLLBACK.
    c.queue("BEGIN");
    c.queue("SELECT 1 / 0");
    CHECK_THROWS_AS(c.flush(), pg_error);
    try {
        c.exec("SELECT 1");
        FAIL("the aborted transaction ran a statement");
    } catch (const pg_error &e) {
        CHECK(e.sqlstate() == "25P02");
    }
    c.run("ROLLBACK");
    CHECK(c.run("SELECT 7").i64(0, 0) == 7);
}

TEST_CASE("pg: forget() sends without waiting; the next round trip reads those answers first") {
    connection c(new_database());
    counted n;
    c.queue("CREATE TEMP TABLE f(v int)");
    c.queue("INSERT INTO f VALUES (5)");
    c.forget();
    CHECK(n.new_trips() == 0);
    CHECK(n.new_statements() == 2);
    CHECK(c.run("SELECT v FROM f").i64(0, 0) == 5);
    // An error in a forgotten round trip is not the next one's.
    c.queue("SELECT 1 / 0");
    c.forget();
    CHECK(c.run("SELECT count(*) FROM f").i64(0, 0) == 1);
    // Several forgotten round trips, then a simple query (migrations) after them.
    c.queue("INSERT INTO f VALUES (6)");
    c.forget();
    c.queue("INSERT INTO f VALUES (7)");
    c.forget();
    c.script("INSERT INTO f VALUES (8); INSERT INTO f VALUES (9)");
    CHECK(c.run("SELECT count(*) FROM f").i64(0, 0) == 5);
    rows r;
    c.queue("SELECT 1", {}, &r);
    CHECK_THROWS_AS(c.forget(), std::logic_error); // its rows would have nowhere to go
    c.discard();
}

TEST_CASE("pg: a connection the server ends is reported lost") {
    const auto uri = new_database();
    connection c(uri), other(uri);
    auto pid = c.run("SELECT pg_backend_pid()").i64(0, 0);
    other.run("SELECT pg_terminate_backend($1::int)", static_cast<int>(pid));
    bool lost = false;
    for (int i = 0; i < 50 && !lost; ++i) { // the server ends it asynchronously
        try {
            c.run("SELECT 1");
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } catch (const pg_error &e) {
            lost = e.connection_lost();
            CHECK(lost);
        }
    }
    CHECK(lost);
    CHECK_FALSE(c.ok());
    CHECK_THROWS_AS(c.run("SELECT 1"), pg_error);
}

TEST_CASE("postgresql backend: the round trips of a PUT, a refused PUT and a GET") {
    store s(false);
    counted put;
    auto w = s.put("k", "hello");
    REQUIRE(w.value.has_value());
    // BEGIN, the bucket's row, the key's lock and read, the body's id; then the writes and COMMIT.
    CHECK(put.new_trips() == 2);
    CHECK(put.new_statements() == 9);

    counted overwrite;
    REQUIRE(s.put("k", "again").value.has_value());
    // The same, and one more to learn that the replaced body lost its last reference.
    CHECK(overwrite.new_trips() == 3);

    protocol::write_conditions stale;
    stale.if_match = "0123456789abcdef0123456789abcdef";
    counted refused;
    auto r = s.put("k", "nope", stale);
    REQUIRE(r.value.has_error());
    CHECK(r.value.error().code == protocol::s3_errc::precondition_failed);
    CHECK(refused.new_trips() == 1); // the decision; nothing waits for the ROLLBACK

    counted get;
    auto g = s.get("k");
    REQUIRE(g.has_value());
    CHECK(get.new_trips() == 1);
    CHECK(test_support::read_whole(*g) == "again");
    REQUIRE(g->bucket);
    CHECK(g->bucket->info.name == "b");
    CHECK(s.get("missing").error().code == protocol::s3_errc::no_such_key);
}

TEST_CASE("postgresql backend: a COMMIT whose connection is lost is looked up, not guessed") {
    storage::postgres::set_round_trip_hook(&cut_commit);
    SUBCASE("lost once sent: it committed, and the write is answered as done") {
        store s(true);
        const auto lost = s.db->stats().lost_transactions;
        g_cut = cut::after_commit;
        auto w = s.put("k", "one");
        CHECK(g_cut.load() == cut::none); // the cut happened
        REQUIRE(w.value.has_value());
        CHECK(s.db->stats().lost_transactions == lost + 1);
        CHECK(s.versions("k") == 1);
        auto g = s.get("k");
        REQUIRE(g.has_value());
        CHECK(test_support::read_whole(*g) == "one");
    }
    SUBCASE("lost before it was sent: nothing committed, and the write runs again") {
        store s(true);
        const auto before = s.db->stats();
        g_cut = cut::before_commit;
        auto w = s.put("k", "two");
        CHECK(g_cut.load() == cut::none);
        REQUIRE(w.value.has_value());
        const auto after = s.db->stats();
        CHECK(after.lost_transactions == before.lost_transactions + 1);
        CHECK(after.reruns == before.reruns + 1);
        CHECK(s.versions("k") == 1); // once, not twice
        auto g = s.get("k");
        REQUIRE(g.has_value());
        CHECK(test_support::read_whole(*g) == "two");
    }
    storage::postgres::set_round_trip_hook(nullptr);
}

TEST_CASE("postgresql backend: a connection that died while idle is replaced, not answered 503") {
    // What a restart of PostgreSQL leaves in every pool: connections that look open until used.
    store s(false);
    REQUIRE(s.put("k", "kept").value.has_value());
    REQUIRE(s.get("k").has_value());
    connection admin(s.location);
    const auto killed = admin.exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> "
                                   "pg_backend_pid()");
    REQUIRE(killed.i64(0, 0) >= 1);
    for (int i = 0; i < 500; ++i) { // pg_terminate_backend only signals: wait for them to end
        if (admin
                .exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()")
                .i64(0, 0) == 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto before = s.db->stats();
    auto g = s.get("k"); // a read
    REQUIRE(g.has_value());
    CHECK(test_support::read_whole(*g) == "kept");
    auto w = s.put("k2", "new"); // and a write, on the pool's other dead connection or a new one
    CHECK(w.value.has_value());
    CHECK(s.db->stats().reruns >= before.reruns + 1);
    CHECK(s.versions("k2") == 1);
}

TEST_CASE("pg: an asynchronous connect gives up at its time limit") {
    // A listener that never accepts: the kernel completes the handshake, libpq sends its startup
    // packet, and no answer ever comes. libpq leaves the limit to the caller (pg.hpp).
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(l >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(l, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
    REQUIRE(::listen(l, 4) == 0);
    socklen_t n = sizeof a;
    REQUIRE(::getsockname(l, reinterpret_cast<sockaddr *>(&a), &n) == 0);
    const std::string uri = "postgresql://nobody@127.0.0.1:" + std::to_string(ntohs(a.sin_port)) +
                            "/none?sslmode=disable";
    std::string error;
    try {
        storage::postgres::run_here(connection::open(uri, std::chrono::milliseconds(300)));
    } catch (const pg_error &e) {
        error = e.what();
        CHECK(e.connection_lost());
    }
    CHECK(error.find("no answer within 300 ms") != std::string::npos);
    ::close(l);
}

TEST_CASE("pool: jobs wait for PostgreSQL together on the pool's one thread") {
    // Job A holds an advisory lock until it sees job B waiting for it inside PostgreSQL. Were a
    // job's wait a blocking call, the one thread would sit in A's loop and B's statement would
    // never be sent; with the socket waits on the I/O context both are in flight at once.
    storage::postgres::pool p(new_database(), 2);
    std::promise<std::string> a_done, b_done;
    std::mutex m;
    std::set<std::thread::id> threads;
    auto note = [&] {
        std::lock_guard lk(m);
        threads.insert(std::this_thread::get_id());
    };
    p.submit([&](std::unique_ptr<connection> &c) -> storage::postgres::task<void> {
        note();
        std::string out = "no connection";
        if (c) {
            auto lock_call = c->async_run("SELECT pg_advisory_lock(4242)");
            co_await std::move(lock_call);
            p.submit([&](std::unique_ptr<connection> &c2) -> storage::postgres::task<void> {
                note();
                std::string got = "no connection";
                if (c2) {
                    auto wait_call = c2->async_run("SELECT pg_advisory_lock(4242)");
                    co_await std::move(wait_call);
                    auto unlock_call = c2->async_run("SELECT pg_advisory_unlock(4242)");
                    co_await std::move(unlock_call);
                    got = "locked after A";
                }
                b_done.set_value(got);
            });
            out = "B never waited";
            for (int i = 0; i < 500; ++i) {
                auto seen_call = c->async_run("SELECT count(*) FROM pg_locks WHERE locktype = "
                                              "'advisory' AND NOT granted");
                auto seen = co_await std::move(seen_call);
                note();
                if (seen.i64(0, 0) > 0) {
                    out = "saw B waiting";
                    break;
                }
            }
            auto unlock_call = c->async_run("SELECT pg_advisory_unlock(4242)");
            co_await std::move(unlock_call);
        }
        a_done.set_value(out);
    });
    CHECK(a_done.get_future().get() == "saw B waiting");
    CHECK(b_done.get_future().get() == "locked after A");
    p.close();
    CHECK(threads.size() == 1);
}
