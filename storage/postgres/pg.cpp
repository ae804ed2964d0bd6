// libpq RAII layer (see pg.hpp).
#include "storage/postgres/pg.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

namespace ifmatch::storage::postgres {

namespace {

std::atomic<std::uint64_t> g_statements{0};
std::atomic<std::uint64_t> g_round_trips{0};
std::atomic<round_trip_hook> g_hook{nullptr};

std::string trimmed(std::string msg) {
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
        msg.pop_back();
    return msg;
}

// The error a failed result (or, without one, the connection) reports; takes `r`.
pg_error error_of(PGconn *c, PGresult *r, std::string_view what) {
    std::string state;
    std::string msg;
    if (r) {
        if (const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE))
            state = s;
        msg = PQresultErrorMessage(r);
        PQclear(r);
    }
    if (msg.empty() && c)
        msg = PQerrorMessage(c);
    const bool lost = !c || PQstatus(c) != CONNECTION_OK;
    return pg_error(std::string(what) + ": " + trimmed(std::move(msg)), state, lost);
}

} // namespace

std::uint64_t statements_sent() { return g_statements.load(std::memory_order_relaxed); }
std::uint64_t round_trips() { return g_round_trips.load(std::memory_order_relaxed); }
void set_round_trip_hook(round_trip_hook h) { g_hook.store(h); }

rows::rows(pg_result *r) : r_(r) {}
rows::rows(rows &&o) noexcept : r_(o.r_) { o.r_ = nullptr; }
rows &rows::operator=(rows &&o) noexcept {
    if (this != &o) {
        if (r_)
            PQclear(r_);
        r_ = o.r_;
        o.r_ = nullptr;
    }
    return *this;
}
rows::~rows() {
    if (r_)
        PQclear(r_);
}

int rows::size() const { return r_ ? PQntuples(r_) : 0; }
bool rows::null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string rows::text(int row, int col) const { return std::string(view(row, col)); }
std::string_view rows::view(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
}
std::int64_t rows::i64(int row, int col) const {
    if (null(row, col))
        return 0;
    return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
bool rows::boolean(int row, int col) const {
    return !null(row, col) && PQgetvalue(r_, row, col)[0] == 't';
}
std::int64_t rows::affected() const {
    const char *n = r_ ? PQcmdTuples(r_) : "";
    return *n ? std::strtoll(n, nullptr, 10) : 0;
}

connection::connection(const std::string &uri) {
    c_ = PQconnectdb(uri.c_str());
    if (!c_ || PQstatus(c_) != CONNECTION_OK || PQsetnonblocking(c_, 1) != 0) {
        std::string msg = c_ ? PQerrorMessage(c_) : "out of memory";
        if (c_)
            PQfinish(c_);
        c_ = nullptr;
        throw pg_error("cannot connect to PostgreSQL: " + trimmed(std::move(msg)), "08001", true);
    }
    PQsetNoticeProcessor(
        c_, [](void *, const char *) {}, nullptr);
}

task<std::unique_ptr<connection>> connection::open(std::string uri,
                                                   std::chrono::milliseconds timeout) {
    // libpq's connection state machine (PQconnectStart / PQconnectPoll), each wait on the socket
    // of the moment (it changes when libpq tries the next address).
    std::unique_ptr<connection> out(new connection());
    out->c_ = PQconnectStart(uri.c_str());
    auto fail = [&] {
        std::string msg = out->c_ ? PQerrorMessage(out->c_) : "out of memory";
        return pg_error("cannot connect to PostgreSQL: " + trimmed(std::move(msg)), "08001", true);
    };
    if (!out->c_ || PQstatus(out->c_) == CONNECTION_BAD) {
        throw fail();
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto polling = PGRES_POLLING_WRITING;
    for (;;) {
        if (polling == PGRES_POLLING_FAILED)
            throw fail();
        if (polling == PGRES_POLLING_OK)
            break;
        auto wait_async_call = out->wait_async(
            polling == PGRES_POLLING_READING ? wait_for::read : wait_for::write, deadline);
        if (!co_await std::move(wait_async_call)) {
            throw pg_error("cannot connect to PostgreSQL: no answer within " +
                               std::to_string(timeout.count()) + " ms",
                           "08001", true);
        }
        polling = PQconnectPoll(out->c_);
    }
    if (PQsetnonblocking(out->c_, 1) != 0)
        throw fail();
    PQsetNoticeProcessor(
        out->c_, [](void *, const char *) {}, nullptr);
    co_return out;
}

namespace {

// The mark of a long-lived I/O context (mark_long_lived): a service that does nothing.
struct long_lived final : boost::asio::execution_context::service {
    static inline boost::asio::execution_context::id id;
    explicit long_lived(boost::asio::execution_context &c) : service(c) {}
    void shutdown() override {}
};

} // namespace

void mark_long_lived(boost::asio::io_context &ctx) {
    if (!boost::asio::has_service<long_lived>(ctx))
        boost::asio::make_service<long_lived>(ctx);
}

// A socket kept registered with a long-lived I/O context. It registers a duplicate of libpq's
// socket, not the socket itself: libpq closes its descriptor when it finds the connection lost,
// and the number may then name another connection's new socket before this registration ends.
struct socket_watch {
    boost::asio::posix::stream_descriptor sd;
    boost::asio::execution_context *ctx;
    int fd; // libpq's
    socket_watch(boost::asio::io_context &io, int s) : sd(io), ctx(&io), fd(s) {
        const int copy = ::fcntl(s, F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
            throw pg_error("cannot watch the PostgreSQL socket", "08006", true);
        boost::system::error_code ec;
        sd.assign(copy, ec);
        if (ec) {
            ::close(copy);
            throw pg_error("cannot watch the PostgreSQL socket: " + ec.message(), "08006", true);
        }
    }
    socket_watch(const socket_watch &) = delete;
};

void connection::unwatch() { watch_.reset(); }

void connection::abandon_watch() {
    if (watch_) {
        // Its context is gone: nothing may call into it (release() and the destructor would).
        ::close(watch_->sd.native_handle());
        (void)watch_.release();
    }
}

connection::~connection() {
    unwatch();
    if (c_)
        PQfinish(c_);
}

bool connection::ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

void connection::lose(std::string_view what) {
    // The pipeline's state is unknown: the connection is closed, and reported lost, so that no
    // caller goes on using it (a worker reconnects; a COMMIT's outcome is looked up).
    std::string msg = c_ ? trimmed(PQerrorMessage(c_)) : std::string();
    unwatch();
    if (c_)
        PQfinish(c_);
    c_ = nullptr;
    queued_.clear();
    unread_.clear();
    throw pg_error(std::string(what) + ": " + msg, "08006", true);
}

void connection::queue(std::string sql, std::vector<param> params, rows *into,
                       bool binary_results) {
    queued_.push_back(statement{std::move(sql), std::move(params), into, binary_results});
}

void connection::send(const statement &s) {
    const auto n = s.params.size();
    std::vector<const char *> values(n);
    std::vector<int> lengths(n), formats(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto &p = s.params[i];
        if (p.is_binary) {
            values[i] = p.binary.data() ? p.binary.data() : "";
            lengths[i] = static_cast<int>(p.binary.size());
            formats[i] = 1;
        } else {
            values[i] = p.text ? p.text->c_str() : nullptr;
        }
    }
    g_statements.fetch_add(1, std::memory_order_relaxed);
    if (PQsendQueryParams(c_, s.sql.c_str(), static_cast<int>(n), nullptr, values.data(),
                          lengths.data(), formats.data(), s.binary_results ? 1 : 0) != 1) {
        lose("PostgreSQL: cannot send a statement");
    }
}

connection::in_flight connection::start_round_trip() {
    in_flight rt;
    rt.sent.swap(queued_);
    if (!c_) {
        throw pg_error("PostgreSQL: the connection is closed", "08003", true);
    }
    if (const auto hook = g_hook.load())
        hook(rt.sent.back().sql, PQsocket(c_), false);
    if (PQpipelineStatus(c_) == PQ_PIPELINE_OFF && PQenterPipelineMode(c_) != 1) {
        lose("PostgreSQL: cannot enter pipeline mode");
    }
    for (const auto &s : rt.sent) {
        send(s);
    }
    // One synchronisation point for the round trip.
    if (PQpipelineSync(c_) != 1) {
        lose("PostgreSQL: cannot send");
    }
    return rt;
}

void connection::sent_hook(const in_flight &rt) {
    if (const auto hook = g_hook.load(); hook && c_)
        hook(rt.sent.back().sql, PQsocket(c_), true);
}

connection::wait_for connection::push_output() {
    const int left = c_ ? PQflush(c_) : -1;
    if (left < 0) {
        lose("PostgreSQL: cannot send");
    }
    // While the socket is full libpq reads what the server sent meanwhile, so neither side
    // waits for the other.
    return left == 0 ? wait_for::nothing : wait_for::write;
}

connection::wait_for connection::read_some(in_flight &rt) {
    // Each statement answers one result then a null; the round trip ends with its sync. The first
    // error is kept and thrown once the sync has been read, so the connection stays usable.
    while (!rt.done) {
        if (PQisBusy(c_)) {
            if (PQconsumeInput(c_) != 1) {
                lose("PostgreSQL: the connection ended");
            }
            if (PQisBusy(c_))
                return wait_for::read;
        }
        PGresult *r = PQgetResult(c_);
        if (rt.next == rt.sent.size()) {
            const bool synced = r && PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            if (r)
                PQclear(r);
            if (!synced) {
                lose("PostgreSQL: a pipeline did not end with its sync");
            }
            rt.done = true;
        } else if (rt.after_result) {
            if (r) {
                PQclear(r);
                lose("PostgreSQL: an unexpected answer in a pipeline");
            }
            rt.after_result = false;
            ++rt.next;
        } else {
            if (!r) {
                lose("PostgreSQL: the connection ended");
            }
            rt.after_result = true;
            const auto st = PQresultStatus(r);
            auto &s = rt.sent[rt.next];
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                if (s.into) {
                    *s.into = rows(r);
                } else {
                    PQclear(r);
                }
            } else if (st == PGRES_PIPELINE_ABORTED) {
                PQclear(r); // skipped after an earlier error
            } else {
                auto e = error_of(c_, r, "PostgreSQL");
                if (e.connection_lost()) {
                    lose(e.what());
                }
                if (!rt.first)
                    rt.first.emplace(std::move(e));
            }
        }
    }
    return wait_for::nothing;
}

connection::wait_for connection::step(in_flight &rt) {
    if (auto w = push_output(); w != wait_for::nothing)
        return w;
    // Answers of round trips sent by forget() come first; they are already on their way. Their
    // errors do not matter (a lost connection does).
    while (!unread_.empty()) {
        if (auto w = read_some(unread_.front()); w != wait_for::nothing)
            return w;
        unread_.erase(unread_.begin());
    }
    return read_some(rt);
}

void connection::finish_round_trip(in_flight &rt) {
    const bool left = PQexitPipelineMode(c_) == 1;
    if (rt.first) {
        throw std::move(*rt.first);
    }
    if (!left) {
        lose("PostgreSQL: cannot leave pipeline mode");
    }
}

void connection::wait_here(wait_for w) {
    pollfd p{PQsocket(c_), static_cast<short>(w == wait_for::read ? POLLIN : POLLOUT), 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

task<bool> connection::wait_async(wait_for w, std::chrono::steady_clock::time_point deadline) {
    const auto ex = co_await boost::asio::this_coro::executor;
    if (deadline == std::chrono::steady_clock::time_point{} && w == wait_for::read) {
        // On a long-lived context the socket stays registered between read waits.
        auto &ctx = boost::asio::query(ex, boost::asio::execution::context);
        if (watch_ && (watch_->ctx != &ctx || watch_->fd != PQsocket(c_)))
            unwatch();
        if (!watch_ && boost::asio::has_service<long_lived>(ctx))
            watch_ = std::make_unique<socket_watch>(static_cast<boost::asio::io_context &>(ctx),
                                                    PQsocket(c_));
        if (watch_) {
            // The registration is edge-triggered, but Asio re-arms it (EPOLL_CTL_MOD) when a
            // wait starts, and the kernel then reports an answer that is already there: one
            // system call a wait instead of a registration and a removal.
            boost::system::error_code ec;
            auto wait_call =
                watch_->sd.async_wait(boost::asio::posix::descriptor_base::wait_read,
                                      boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            co_await std::move(wait_call);
            co_return true;
        }
    }
    // Else the socket is registered for this one wait, and released (not closed: it is libpq's)
    // however the wait ends. A kept registration is ended first: one socket, one registration.
    unwatch();
    struct watch {
        boost::asio::posix::stream_descriptor sd;
        watch(const boost::asio::any_io_executor &ex, int fd) : sd(ex, fd) {}
        watch(const watch &) = delete;
        ~watch() { sd.release(); }
    };
    watch on(ex, PQsocket(c_));
    // A deadline cancels the wait. The timer's handler may run after this frame is gone (on the
    // coroutine's strand: in order, never at once), so it reaches the wait only through `gate`,
    // cleared before returning.
    struct gate_state {
        boost::asio::posix::stream_descriptor *sd = nullptr;
        bool expired = false;
    };
    auto gate = std::make_shared<gate_state>();
    gate->sd = &on.sd;
    std::optional<boost::asio::steady_timer> timer;
    if (deadline != std::chrono::steady_clock::time_point{}) {
        timer.emplace(ex, deadline);
        timer->async_wait([gate](boost::system::error_code ec) {
            if (ec || !gate->sd)
                return;
            gate->expired = true;
            gate->sd->cancel();
        });
    }
    boost::system::error_code ec; // an error shows in libpq's next call
    auto wait_call =
        on.sd.async_wait(w == wait_for::read ? boost::asio::posix::descriptor_base::wait_read
                                             : boost::asio::posix::descriptor_base::wait_write,
                         boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_await std::move(wait_call);
    gate->sd = nullptr;
    if (timer)
        timer->cancel();
    co_return !gate->expired;
}

task<rows> connection::exec_owned(std::string sql, std::vector<param> params, bool binary_results) {
    rows out;
    queue(std::move(sql), std::move(params), &out, binary_results);
    auto flush_call = async_flush();
    co_await std::move(flush_call);
    co_return out;
}

task<void> connection::async_flush() {
    if (queued_.empty()) {
        co_return;
    }
    auto rt = start_round_trip();
    g_round_trips.fetch_add(1, std::memory_order_relaxed); // a forgotten one waits for nothing
    for (auto w = push_output(); w != wait_for::nothing; w = push_output()) {
        auto wait_async_call = wait_async(w);
        co_await std::move(wait_async_call);
    }
    sent_hook(rt);
    for (auto w = step(rt); w != wait_for::nothing; w = step(rt)) {
        auto wait_async_call2 = wait_async(w);
        co_await std::move(wait_async_call2);
    }
    finish_round_trip(rt);
}

bool connection::start_forget() {
    for (const auto &s : queued_) {
        if (s.into) {
            throw std::logic_error("a forgotten statement cannot deliver rows");
        }
    }
    if (queued_.empty()) {
        return false;
    }
    unread_.push_back(start_round_trip());
    return true;
}

task<void> connection::async_forget() {
    if (!start_forget()) {
        co_return;
    }
    for (auto w = push_output(); w != wait_for::nothing; w = push_output()) {
        auto wait_async_call = wait_async(w);
        co_await std::move(wait_async_call);
    }
}

rows connection::exec(std::string_view sql, const std::vector<param> &params, bool binary_results) {
    rows out;
    queue(std::string(sql), params, &out, binary_results);
    flush();
    return out;
}

void connection::flush() {
    if (queued_.empty()) {
        return;
    }
    auto rt = start_round_trip();
    g_round_trips.fetch_add(1, std::memory_order_relaxed);
    for (auto w = push_output(); w != wait_for::nothing; w = push_output())
        wait_here(w);
    sent_hook(rt);
    for (auto w = step(rt); w != wait_for::nothing; w = step(rt))
        wait_here(w);
    finish_round_trip(rt);
}

void connection::forget() {
    if (!start_forget()) {
        return;
    }
    for (auto w = push_output(); w != wait_for::nothing; w = push_output())
        wait_here(w);
}

void connection::script(std::string_view sql) {
    flush();
    // The simple query protocol is not allowed in pipeline mode: read what forget() left first.
    in_flight none;
    none.done = true;
    for (auto w = step(none); w != wait_for::nothing; w = step(none))
        wait_here(w);
    if (c_ && PQpipelineStatus(c_) != PQ_PIPELINE_OFF && PQexitPipelineMode(c_) != 1) {
        lose("PostgreSQL: cannot leave pipeline mode");
    }
    if (!c_) {
        throw pg_error("PostgreSQL: the connection is closed", "08003", true);
    }
    std::string q(sql);
    g_statements.fetch_add(1, std::memory_order_relaxed);
    g_round_trips.fetch_add(1, std::memory_order_relaxed);
    PGresult *r = PQexec(c_, q.c_str()); // blocking whatever the connection's mode
    auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        throw error_of(c_, r, "PostgreSQL");
    }
    PQclear(r);
}

} // namespace ifmatch::storage::postgres
