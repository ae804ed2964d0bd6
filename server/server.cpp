// Acceptor, I/O threads, connection limit, running out of descriptors, and graceful stop.
#include "server/server.hpp"
#include "server/body_pool.hpp"

#include "server/fd_limit.hpp"
#include "server/lifecycle.hpp"
#include "server/replication.hpp"
#include "server/log.hpp"
#include "server/session.hpp"
#include "server/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <sys/resource.h>
#include <thread>
#include <vector>

namespace ifmatch::server {

using tcp = net::ip::tcp;

// One io_context per I/O thread (concurrency hint 1: no locking inside asio); a connection lives
// on one of them for its whole life, so its coroutine needs no strand. The acceptors and the
// stop sequence run on the first.
struct http_server::impl {
    const config &cfg;
    // Declared before the io_contexts, so they outlive them: destroying an io_context destroys
    // the coroutine frames of connections still open, which unregister from `idle`.
    session_shared shared;
    std::mutex idle_mu;
    std::map<std::uint64_t, std::function<void()>> idle;
    std::uint64_t idle_next = 1;
    std::vector<std::unique_ptr<net::io_context>> iocs;
    std::atomic<std::size_t> next_ioc{0};
    net::io_context &ioc;
    tcp::acceptor acceptor{ioc};     // --listen (HTTPS when TLS is on and --tls-listen is not)
    tcp::acceptor tls_acceptor{ioc}; // --tls-listen
    std::shared_ptr<net::ssl::context> tls;
    std::string tls_address;
    std::atomic<int> stop_calls{0};
    // cfg.max_connections lowered to what the descriptor limit allows (set by bind()).
    int max_connections;
    // Touched by the accept loops only, which both run on `ioc`: no lock.
    fd_reserve reserve;
    struct {
        bool active = false;        // accepts are failing for want of descriptors
        std::uint64_t refused = 0;  // connections answered 503 through the reserve
        std::uint64_t deferred = 0; // accept attempts given up for a back-off wait
        std::chrono::steady_clock::time_point reported{};
    } fd_shortage;

    static std::vector<std::unique_ptr<net::io_context>> make_iocs(int n) {
        std::vector<std::unique_ptr<net::io_context>> v;
        for (int i = 0; i < std::max(1, n); ++i) {
            v.push_back(std::make_unique<net::io_context>(1));
        }
        return v;
    }

    impl(const config &c, storage::object_store &db)
        : cfg(c), shared{c, db, {}, {}, {}, {}, {}}, iocs(make_iocs(c.threads)), ioc(*iocs.front()),
          max_connections(c.max_connections) {
        configure_body_pool(iocs.size());
        shared.register_idle = [this](std::function<void()> cancel) {
            std::lock_guard lk(idle_mu);
            auto id = idle_next++;
            idle.emplace(id, std::move(cancel));
            return id;
        };
        shared.unregister_idle = [this](std::uint64_t id) {
            std::lock_guard lk(idle_mu);
            idle.erase(id);
        };
    }

    net::awaitable<void> accept_loop(tcp::acceptor &acc, net::ssl::context *ctx);
    enum class shortage_step { answered, idle, stuck };
    shortage_step refuse_with_reserve(tcp::acceptor &acc);
    void report_fd_shortage(const boost::system::error_code &ec, bool recovered);
    void finish_stop();
    void stop_all() {
        for (auto &c : iocs) c->stop();
    }
};

namespace {

void spawn_session(http_server::impl &s, tcp::socket sock, net::ssl::context *tls) {
    auto &home = *s.iocs[s.next_ioc++ % s.iocs.size()];
    auto ex = home.get_executor();
    tcp::socket moved(ex);
    auto proto = sock.local_endpoint().protocol();
    moved.assign(proto, sock.release());
    s.shared.active++;
    net::co_spawn(ex, run_session(std::move(moved), s.shared, tls),
                  [&s](std::exception_ptr e) {
                      s.shared.active--;
                      if (e) {
                          try {
                              std::rethrow_exception(e);
                          } catch (const std::exception &err) {
                              log_message(s.cfg, "error", std::string("session: ") + err.what());
                          }
                      }
                  });
}

// Writes the 503 SlowDown answer (an S3 error with its request id) to a connection the server
// will not serve.
void write_busy(tcp::socket &sock, session_shared &shared) {
    const std::string busy = slow_down_response(shared);
    boost::system::error_code ignored;
    net::write(sock, net::buffer(busy), ignored);
}

// Answers `sock` 503 SlowDown and closes it. What the client already sent is read and dropped
// first, so that the close is a FIN after the answer rather than a reset that may discard it.
void refuse_connection(tcp::socket &sock, session_shared &shared) {
    write_busy(sock, shared);
    boost::system::error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    sock.non_blocking(true, ec);
    std::array<char, 4096> sink;
    for (int i = 0; i < 16 && !ec; ++i) {
        sock.read_some(net::buffer(sink), ec);
    }
    sock.close(ec);
}

// Accept failures that a retry cannot cure until something is released: out of descriptors
// (EMFILE, ENFILE) or of kernel memory (ENOBUFS, ENOMEM). Other failures concern one connection
// (ECONNABORTED, EPERM from a firewall, ...) and the next accept may succeed at once.
bool out_of_descriptors(const boost::system::error_code &ec) {
    return ec == net::error::no_descriptors ||
           ec == boost::system::errc::too_many_files_open_in_system;
}
bool out_of_memory(const boost::system::error_code &ec) {
    return ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

constexpr auto min_accept_backoff = std::chrono::milliseconds(50);
constexpr auto max_accept_backoff = std::chrono::milliseconds(1000);
constexpr auto fd_report_interval = std::chrono::seconds(10);

} // namespace

// Out of descriptors: gives up the reserve descriptor, accepts one pending connection into the
// freed slot, answers it 503 SlowDown, closes it and takes the reserve back. Linux fails accept
// with EMFILE before it looks at the listen queue, so the caller cannot tell from that error
// whether a connection is waiting: `answered` means one was (try the next at once), `idle` that
// none is (wait until the listen socket is readable), `stuck` that the reserve did not help (no
// reserve to give up, or still out of descriptors: wait a while).
http_server::impl::shortage_step http_server::impl::refuse_with_reserve(tcp::acceptor &acc) {
    if (!reserve.held() && !reserve.acquire()) {
        return shortage_step::stuck;
    }
    reserve.release();
    boost::system::error_code ec;
    acc.non_blocking(true, ec); // an empty queue gives would_block, never a blocked thread
    tcp::socket sock(ioc);
    acc.accept(sock, ec);
    if (!ec) {
        refuse_connection(sock, shared);
        ++fd_shortage.refused;
    }
    reserve.acquire();
    if (ec == net::error::would_block || ec == net::error::try_again) {
        return shortage_step::idle;
    }
    return out_of_descriptors(ec) || out_of_memory(ec) ? shortage_step::stuck
                                                       : shortage_step::answered;
}

// Logs an out-of-descriptor episode when it starts, at most every fd_report_interval while it
// lasts, and once when accepts succeed again, with what it refused and deferred so far.
void http_server::impl::report_fd_shortage(const boost::system::error_code &ec, bool recovered) {
    auto now = std::chrono::steady_clock::now();
    std::string counts = std::to_string(fd_shortage.refused) +
                         " connection(s) answered 503 SlowDown, " +
                         std::to_string(fd_shortage.deferred) + " accept(s) deferred";
    if (recovered) {
        log_message(cfg, "info",
                    "accepting connections again after running out of descriptors (" + counts +
                        ")");
        fd_shortage = {};
        return;
    }
    if (fd_shortage.active && now - fd_shortage.reported < fd_report_interval) {
        return;
    }
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    log_message(cfg, "warn",
                "accept failed: " + ec.message() + " (descriptor limit " +
                    std::to_string(rl.rlim_cur) + ", " + std::to_string(shared.active.load()) +
                    " connections" + (fd_shortage.active ? "; so far " + counts : "") +
                    "): refusing new connections with 503 SlowDown until descriptors are free");
    fd_shortage.active = true;
    fd_shortage.reported = now;
}

net::awaitable<void> http_server::impl::accept_loop(tcp::acceptor &acc, net::ssl::context *ctx) {
    net::steady_timer pause(ioc);
    auto backoff = min_accept_backoff;
    for (;;) {
        auto [ec, sock] = co_await acc.async_accept(net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted || !acc.is_open()) {
            co_return;
        }
        if (out_of_descriptors(ec) || out_of_memory(ec)) {
            report_fd_shortage(ec, false);
            auto step = out_of_descriptors(ec) ? refuse_with_reserve(acc) : shortage_step::stuck;
            if (step == shortage_step::idle) {
                // Waiting for readiness makes no accept call, so it cannot fail: no spinning.
                co_await acc.async_wait(tcp::acceptor::wait_read,
                                        net::as_tuple(net::use_awaitable));
            } else if (step == shortage_step::stuck) {
                ++fd_shortage.deferred;
                pause.expires_after(backoff);
                co_await pause.async_wait(net::as_tuple(net::use_awaitable));
                backoff = std::min(backoff * 2, max_accept_backoff);
            }
            continue;
        }
        if (ec) {
            continue;
        }
        backoff = min_accept_backoff;
        if (fd_shortage.active) {
            report_fd_shortage(ec, true);
        }
        reserve.acquire();
        if (shared.active.load() >= max_connections) {
            refuse_connection(sock, shared);
            continue;
        }
        boost::system::error_code nd;
        sock.set_option(tcp::no_delay(true), nd);
        spawn_session(*this, std::move(sock), ctx);
    }
}

http_server::http_server(const config &cfg, storage::object_store &db)
    : impl_(std::make_unique<impl>(cfg, db)) {}

http_server::~http_server() = default;

namespace {

// Opens, binds and listens `a` on HOST:PORT; returns the bound address. Throws when it cannot.
std::string listen_on(net::io_context &ioc, tcp::acceptor &a, const std::string &where) {
    config probe;
    probe.listen = where;
    boost::system::error_code ec;
    auto addr = net::ip::make_address(probe.listen_host(), ec);
    if (ec) {
        tcp::resolver r(ioc);
        auto res = r.resolve(probe.listen_host(), std::to_string(probe.listen_port()), ec);
        if (ec || res.empty()) {
            throw std::runtime_error("cannot resolve listen address " + where);
        }
        addr = res.begin()->endpoint().address();
    }
    tcp::endpoint ep(addr, probe.listen_port());
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
    }
    auto local = a.local_endpoint();
    std::string host = local.address().to_string();
    if (local.address().is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(local.port());
}

// Raises the soft descriptor limit to the hard one and lowers --max-connections to what the limit
// allows beside the descriptors already open (the store's) and its headroom; says so in the log.
int fit_connections_to_fd_limit(const config &cfg) {
    fd_limits limits = raise_fd_limit();
    if (limits.raise_failed) {
        log_message(cfg, "warn",
                    "could not raise the descriptor limit from " +
                        std::to_string(limits.soft_before) + " to the hard limit " +
                        std::to_string(limits.hard));
    }
    int in_use = open_fd_count();
    int cap = connection_cap(cfg.max_connections, limits.soft, in_use);
    if (cap < cfg.max_connections) {
        log_message(cfg, "warn",
                    "max-connections " + std::to_string(cfg.max_connections) + " capped to " +
                        std::to_string(cap) + ": the descriptor limit is " +
                        std::to_string(limits.soft) + " (hard " + std::to_string(limits.hard) +
                        "), " + std::to_string(in_use) + " are open, " +
                        std::to_string(store_fd_headroom) + " are kept for the store and each "
                        "connection may need " + std::to_string(fds_per_connection));
    }
    return cap;
}

} // namespace

std::string http_server::bind() {
    auto &s = *impl_;
    s.max_connections = fit_connections_to_fd_limit(s.cfg);
    if (s.cfg.tls_enabled()) {
        s.tls = make_tls_context(s.cfg);
    }
    std::string main = listen_on(s.ioc, s.acceptor, s.cfg.listen);
    if (s.tls && !s.cfg.tls_listen.empty()) {
        s.tls_address = listen_on(s.ioc, s.tls_acceptor, s.cfg.tls_listen);
    } else if (s.tls) {
        s.tls_address = main;
    }
    return main;
}

std::string http_server::tls_address() const { return impl_->tls_address; }

void http_server::run() {
    auto &s = *impl_;
    bool main_is_tls = s.tls && s.cfg.tls_listen.empty();
    net::co_spawn(s.ioc, s.accept_loop(s.acceptor, main_is_tls ? s.tls.get() : nullptr),
                  net::detached);
    if (s.tls_acceptor.is_open()) {
        net::co_spawn(s.ioc, s.accept_loop(s.tls_acceptor, s.tls.get()), net::detached);
    }
    start_lifecycle_schedule(s.ioc.get_executor(), s.shared.db, s.cfg.lifecycle_interval,
                             s.shared.stopping);
    start_replication_schedule(s.ioc.get_executor(), s.shared.db, s.cfg.replication_delay_ms,
                               s.shared.stopping);
    std::vector<std::thread> threads;
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (std::size_t i = 1; i < impl_->iocs.size(); ++i) {
        guards.push_back(net::make_work_guard(*impl_->iocs[i]));
        threads.emplace_back([this, i] {
            ::pthread_setname_np(::pthread_self(), "ifm-io");
            impl_->iocs[i]->run();
        });
    }
    impl_->ioc.run();
    for (auto &t : threads) {
        t.join();
    }
    drain_body_pool();
}

void http_server::impl::finish_stop() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(cfg.shutdown_grace);
    auto timer = std::make_shared<net::steady_timer>(ioc);
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, timer, deadline, poll] {
        {
            // Sessions stay registered until they end: an idle one closes when asked, a busy
            // one at the next round after its answer went out.
            std::lock_guard lk(idle_mu);
            for (auto &[id, cancel] : idle) cancel();
        }
        if (shared.active.load() == 0 || std::chrono::steady_clock::now() >= deadline) {
            if (int left = shared.active.load(); left > 0) {
                log_message(cfg, "warn",
                            "shutdown grace period over: dropping " + std::to_string(left) +
                                " connection(s) with requests in flight");
            }
            stop_all();
            *poll = nullptr;
            return;
        }
        timer->expires_after(std::chrono::milliseconds(20));
        timer->async_wait([poll](boost::system::error_code) {
            if (*poll) (*poll)();
        });
    };
    (*poll)();
}

void http_server::stop() {
    if (impl_->stop_calls++ > 0) {
        impl_->stop_all();
        return;
    }
    impl_->shared.stopping = true;
    net::post(impl_->ioc, [this] {
        boost::system::error_code ignored;
        impl_->acceptor.close(ignored);
        impl_->tls_acceptor.close(ignored);
        impl_->finish_stop();
    });
}

} // namespace ifmatch::server
