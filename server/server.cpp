// Acceptor, I/O threads, connection limit and graceful stop.
#include "server/server.hpp"
#include "server/body_pool.hpp"

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

#include <map>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
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

    static std::vector<std::unique_ptr<net::io_context>> make_iocs(int n) {
        std::vector<std::unique_ptr<net::io_context>> v;
        for (int i = 0; i < std::max(1, n); ++i) {
            v.push_back(std::make_unique<net::io_context>(1));
        }
        return v;
    }

    impl(const config &c, storage::store &db)
        : cfg(c), shared{c, db, {}, {}, {}, {}, {}}, iocs(make_iocs(c.threads)),
          ioc(*iocs.front()) {
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

} // namespace

net::awaitable<void> http_server::impl::accept_loop(tcp::acceptor &acc, net::ssl::context *ctx) {
    for (;;) {
        auto [ec, sock] = co_await acc.async_accept(net::as_tuple(net::use_awaitable));
        if (ec == net::error::operation_aborted || !acc.is_open()) {
            co_return;
        }
        if (ec) {
            continue;
        }
        if (shared.active.load() >= cfg.max_connections) {
            const std::string busy = slow_down_response(shared);
            boost::system::error_code ignored;
            net::write(sock, net::buffer(busy), ignored);
            sock.close(ignored);
            continue;
        }
        boost::system::error_code nd;
        sock.set_option(tcp::no_delay(true), nd);
        spawn_session(*this, std::move(sock), ctx);
    }
}

http_server::http_server(const config &cfg, storage::store &db)
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

} // namespace

std::string http_server::bind() {
    auto &s = *impl_;
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
