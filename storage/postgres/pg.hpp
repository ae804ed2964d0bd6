// A thin RAII layer over libpq for the PostgreSQL backend: one connection, statements with $n
// parameters sent in text format (bytea in binary), results read by row and column, and errors
// carrying PostgreSQL's SQLSTATE. Statements queued on a connection travel together in one round
// trip (libpq's pipeline mode).
//
// The connection is always non-blocking (libpq's asynchronous API). Its async_* calls are Asio
// coroutines: while PostgreSQL answers, the socket is watched by the I/O context the coroutine
// runs on (the backend's, pool.hpp), so a thread or two serve every connection of the pool. The
// plain calls wait in poll(2) instead; they are for start-up (migrations), `ifmatch check` and
// tests, never for a thread that runs an I/O context.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pg_conn;
struct pg_result;

namespace boost::asio {
class io_context;
}

namespace ifmatch::storage::postgres {

// A coroutine of the backend (an Asio awaitable).
template <class T> using task = boost::asio::awaitable<T>;

// A failed statement or a lost connection.
class pg_error : public std::runtime_error {
  public:
    pg_error(std::string message, std::string sqlstate, bool connection_lost)
        : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)),
          lost_(connection_lost) {}
    const std::string &sqlstate() const { return sqlstate_; }
    bool connection_lost() const { return lost_; }
    // A serialization failure or a deadlock: the transaction may simply run again.
    bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

  private:
    std::string sqlstate_;
    bool lost_;
};

// Bytes sent as a binary bytea parameter. They are not copied: they must outlive the round trip
// that sends their statement.
struct bytea {
    std::string_view bytes;
};

// One parameter: text (or NULL), or binary bytes.
struct param {
    std::optional<std::string> text;
    std::string_view binary;
    bool is_binary = false;

    param(std::nullopt_t) {}
    param(std::string s) : text(std::move(s)) {}
    param(const char *s) : text(s) {}
    param(std::string_view s) : text(std::string(s)) {}
    param(std::optional<std::string> s) : text(std::move(s)) {}
    param(bool b) : text(b ? "t" : "f") {}
    param(int v) : text(std::to_string(v)) {}
    param(std::int64_t v) : text(std::to_string(v)) {}
    param(std::uint64_t v) : text(std::to_string(v)) {}
    param(bytea b) : binary(b.bytes), is_binary(true) {}
};

class rows {
  public:
    rows() = default;
    explicit rows(pg_result *r);
    rows(rows &&) noexcept;
    rows &operator=(rows &&) noexcept;
    rows(const rows &) = delete;
    rows &operator=(const rows &) = delete;
    ~rows();

    int size() const;
    bool empty() const { return size() == 0; }
    bool null(int row, int col) const;
    std::string text(int row, int col) const;
    std::string_view view(int row, int col) const;
    std::int64_t i64(int row, int col) const; // NULL reads as 0
    bool boolean(int row, int col) const;     // 't'
    // Rows affected by an INSERT / UPDATE / DELETE.
    std::int64_t affected() const;

  private:
    pg_result *r_ = nullptr;
};

// Statements sent by every connection of this process, and the round trips they took: a round
// trip sends every statement queued on a connection and waits for their answers, so it may carry
// several statements.
std::uint64_t statements_sent();
std::uint64_t round_trips();

// A test seam: when set, called for each round trip with its last statement and the connection's
// socket, before the round trip is sent (`sent` false) and once it has been sent (`sent` true).
// The lost-connection tests (pg_test.cpp) cut the socket there. Never set outside tests.
using round_trip_hook = void (*)(std::string_view last_sql, int socket, bool sent);
void set_round_trip_hook(round_trip_hook h);

// Marks `ctx` as an I/O context that outlives the connections waiting on it (the pool's, whose
// connections end before it does, pool.hpp): a connection then keeps its socket registered with it
// from one read wait to the next instead of registering it for each wait.
void mark_long_lived(boost::asio::io_context &ctx);

struct socket_watch;

// One connection. Statements run in the order they are queued; a round trip sends the queued ones
// with one synchronisation point, so a statement that fails makes PostgreSQL skip the statements
// after it in the same round trip (in a transaction block, the transaction is then aborted and
// waits for ROLLBACK, as after any failed statement).
class connection {
  public:
    // Connects, waiting in poll(2). Throws pg_error when the server cannot be reached.
    explicit connection(const std::string &uri);
    // Connects, the socket watched by the coroutine's I/O context, within `timeout` (libpq leaves
    // the time limit of an asynchronous connect to its caller). Throws pg_error.
    static task<std::unique_ptr<connection>>
    open(std::string uri, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~connection();
    connection(const connection &) = delete;
    connection &operator=(const connection &) = delete;

    bool ok() const;
    // For a connection that outlives the long-lived I/O context it waited on: forgets the
    // registration without touching that context (its few bytes are leaked).
    void abandon_watch();

    // ---- the round trip as a coroutine ---------------------------------------------------------
    // Runs one statement after the queued ones, all in one round trip, and returns its rows.
    // Throws pg_error: the first error of the round trip (a queued statement's included).
    task<rows> async_exec(std::string_view sql, std::vector<param> params = {},
                          bool binary_results = false) {
        // Not itself a coroutine: the text is copied into the coroutine's frame here.
        return exec_owned(std::string(sql), std::move(params), binary_results);
    }
    template <class... A> task<rows> async_run(std::string_view sql, A &&...a) {
        return exec_owned(std::string(sql), std::vector<param>{param(std::forward<A>(a))...},
                          false);
    }
    // Sends the queued statements and waits for their answers (nothing to do when none are
    // queued). Throws pg_error as async_exec does.
    task<void> async_flush();
    // Sends the queued statements without reading their answers, for statements whose outcome
    // the caller does not need (ROLLBACK, the COMMIT of a read-only transaction); waits only
    // until they have left. The next round trip reads those answers first and ignores their
    // errors. No statement may have `into`.
    task<void> async_forget();

    // ---- the same, waiting in poll(2)
    // ------------------------------------------------------------
    rows exec(std::string_view sql, const std::vector<param> &params = {},
              bool binary_results = false);
    template <class... A> rows run(std::string_view sql, A &&...a) {
        return exec(sql, std::vector<param>{param(std::forward<A>(a))...});
    }
    void flush();
    void forget();
    // Several statements without parameters in one simple query (migrations).
    void script(std::string_view sql);

    // Queues a statement for the next round trip (flush, exec or forget). Its rows go to `into`
    // when given; `into` must outlive that round trip, and so must the bytes of bytea parameters.
    void queue(std::string sql, std::vector<param> params = {}, rows *into = nullptr,
               bool binary_results = false);
    // Drops the queued statements unsent.
    void discard() { queued_.clear(); }
    bool has_queued() const { return !queued_.empty(); }

  private:
    struct statement {
        std::string sql;
        std::vector<param> params;
        rows *into = nullptr;
        bool binary_results = false;
    };
    connection() = default;
    // What the connection waits for before it can go on.
    enum class wait_for { nothing, read, write };
    // A round trip whose answers are being read.
    struct in_flight {
        std::vector<statement> sent;
        std::size_t next = 0;      // the statement whose answer comes next
        bool after_result = false; // its result was read; the null that ends it comes next
        bool done = false;         // the round trip's sync was read
        std::optional<pg_error> first;
    };

    task<rows> exec_owned(std::string sql, std::vector<param> params, bool binary_results);
    void send(const statement &s);
    // Sends the queued statements (one round trip) into libpq's output and returns it, to be
    // read; calls the test hook before.
    in_flight start_round_trip();
    // forget() and async_forget(): sends the queued statements as a round trip read later;
    // false when none is queued.
    bool start_forget();
    void sent_hook(const in_flight &rt);
    // Pushes libpq's output buffer out: what to wait for before calling again (nothing: sent).
    wait_for push_output();
    // Reads the answers that have arrived: nothing when `rt` is complete (its first error, if
    // any, then in rt.first), else what to wait for.
    wait_for read_some(in_flight &rt);
    // One step of a whole flush: older forgotten round trips first, then `rt`.
    wait_for step(in_flight &rt);
    // Leaves pipeline mode and throws the round trip's first error, if any.
    void finish_round_trip(in_flight &rt);
    void wait_here(wait_for w);
    // Waits on the socket; with a `deadline`, false once it has passed (the wait is then given
    // up).
    task<bool> wait_async(wait_for w, std::chrono::steady_clock::time_point deadline = {});
    [[noreturn]] void lose(std::string_view what);
    // Ends the kept registration (its duplicate of the socket is closed).
    void unwatch();

    pg_conn *c_ = nullptr;
    std::unique_ptr<socket_watch> watch_; // kept between waits on a long-lived context
    std::vector<statement> queued_;
    std::vector<in_flight> unread_; // round trips sent by forget(), oldest first
};

// The commit outcome of a transaction whose COMMIT was lost with the connection is unknown.
class unknown_outcome : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

} // namespace ifmatch::storage::postgres
