// Workers, spare connections and the snapshot thread (see pool.hpp).
#include "storage/postgres/pool.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <charconv>
#include <chrono>
#include <optional>

namespace ifmatch::storage::postgres {

pool::pool(std::string uri, int connections, int threads)
    : uri_(std::move(uri)), ioc_(std::max(1, threads)), work_(ioc_.get_executor()),
      conns_(static_cast<std::size_t>(std::max(1, connections))), busy_(conns_.size(), false) {
    mark_long_lived(ioc_); // its connections end before it does (member order, stream below)
    for (int i = 0; i < std::max(1, threads); ++i)
        threads_.emplace_back([this] { ioc_.run(); });
}

pool::~pool() { close(); }

void pool::submit(job j) {
    std::optional<std::size_t> slot;
    {
        std::lock_guard lk(m_);
        if (!stopping_) {
            for (std::size_t i = 0; i < busy_.size() && !slot; ++i) {
                if (!busy_[i]) {
                    busy_[i] = true;
                    ++running_;
                    slot = i;
                }
            }
            if (!slot) {
                jobs_.push_back(std::move(j));
                return;
            }
        }
    }
    if (slot) {
        // Posted, never started inline: submit() may be called on the pool's own thread (a body
        // stream ending inside a job), where co_spawn would run the job at once.
        boost::asio::post(ioc_, [this, i = *slot, j = std::move(j)]() mutable {
            boost::asio::co_spawn(executor(), run_jobs(i, std::move(j)), boost::asio::detached);
        });
        return;
    }
    // Closed: answered as unavailable, on a context of its own (a job without a connection
    // does no I/O).
    boost::asio::io_context once;
    boost::asio::co_spawn(
        once,
        [j = std::move(j)]() -> task<void> {
            std::unique_ptr<connection> none;
            auto j_call = j(none);
            co_await std::move(j_call);
        },
        boost::asio::detached);
    once.run();
}

task<void> pool::run_jobs(std::size_t slot, job j) {
    auto &c = conns_[slot]; // this coroutine's while the slot is busy
    for (;;) {
        if (!c || !c->ok()) {
            c.reset();
            try {
                auto take_call = take();
                c = co_await std::move(take_call);
                healthy_ = true;
            } catch (const pg_error &) {
                healthy_ = false;
            }
        }
        try {
            auto j_call = j(c);
            co_await std::move(j_call);
        } catch (const std::exception &) {
            // A job answers its own errors; one that escapes must not stop the slot.
        }
        j = nullptr;
        if (c && !c->ok()) {
            c.reset();
        }
        if (c) {
            assert(!c->has_queued() && "a job left statements queued on its connection");
            c->discard();
        }
        std::lock_guard lk(m_);
        if (jobs_.empty()) {
            busy_[slot] = false;
            --running_;
            idle_.notify_all();
            co_return;
        }
        j = std::move(jobs_.front());
        jobs_.pop_front();
    }
}

void pool::drain() {
    std::unique_lock lk(m_);
    stopping_ = true;
    idle_.wait(lk, [&] { return running_ == 0 && jobs_.empty(); });
}

void pool::close() {
    drain();
    if (closed_.exchange(true)) {
        return;
    }
    work_.reset();
    ioc_.stop();
    for (auto &t : threads_)
        if (t.joinable())
            t.join();
    std::lock_guard lk(spare_m_);
    spare_.clear();
}

task<std::unique_ptr<connection>> pool::take() {
    {
        std::lock_guard lk(spare_m_);
        while (!spare_.empty()) {
            auto c = std::move(spare_.back());
            spare_.pop_back();
            if (c->ok())
                co_return c;
        }
    }
    auto open_call = connection::open(uri_);
    co_return co_await std::move(open_call);
}

void pool::give(std::unique_ptr<connection> c) {
    if (!c || !c->ok() || closed_) {
        return;
    }
    std::lock_guard lk(spare_m_);
    if (spare_.size() < 8) {
        spare_.push_back(std::move(c));
    }
}

bool snapshot::sees(std::uint64_t xid) const {
    if (xid < xmin)
        return true;
    if (xid >= xmax)
        return false;
    return std::find(xip.begin(), xip.end(), xid) == xip.end();
}

snapshot snapshot::parse(std::string_view text) {
    snapshot s;
    auto num = [&](std::string_view &t) {
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        t.remove_prefix(static_cast<std::size_t>(p - t.data()));
        if (!t.empty() && (t.front() == ':' || t.front() == ','))
            t.remove_prefix(1);
        return v;
    };
    s.xmin = num(text);
    s.xmax = num(text);
    while (!text.empty()) {
        s.xip.push_back(num(text));
    }
    return s;
}

task<bool> pending_snapshot::wait(int ms) {
    auto ex = co_await boost::asio::this_coro::executor;
    auto timer = std::make_shared<boost::asio::steady_timer>(ex, std::chrono::milliseconds(ms));
    {
        std::lock_guard lk(m);
        if (ready)
            co_return !failed;
        // Posted to the job's strand: runs after this coroutine is suspended in the wait below.
        wake.push_back([timer, ex] { boost::asio::post(ex, [timer] { timer->cancel(); }); });
    }
    boost::system::error_code ec;
    auto wait_call = timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_await std::move(wait_call);
    std::lock_guard lk(m);
    co_return ready && !failed;
}

void pending_snapshot::fill(const snapshot &s, bool ok) {
    std::vector<std::function<void()>> woken;
    {
        std::lock_guard lk(m);
        snap = s;
        failed = !ok;
        ready = true;
        woken.swap(wake);
    }
    for (auto &w : woken)
        w();
}

snapshot_service::snapshot_service(pool &p) : pool_(p), wake_(p.executor()) {
    // The coroutine runs on the timer's strand, so the posted cancels below come after it waits.
    done_ = boost::asio::co_spawn(wake_.get_executor(), run(), boost::asio::use_future);
}

snapshot_service::~snapshot_service() { close(); }

std::shared_ptr<pending_snapshot> snapshot_service::request() {
    auto p = std::make_shared<pending_snapshot>();
    std::lock_guard lk(m_);
    if (stopping_) {
        p->ready = p->failed = true;
        return p;
    }
    waiting_.push_back(p);
    boost::asio::post(wake_.get_executor(), [this] { wake_.cancel(); });
    return p;
}

void snapshot_service::close() {
    {
        std::lock_guard lk(m_);
        if (stopping_)
            return;
        stopping_ = true;
    }
    if (pool_.closed())
        return; // the coroutine went with the I/O context
    boost::asio::post(wake_.get_executor(), [this] { wake_.cancel(); });
    done_.wait();
}

task<void> snapshot_service::run() {
    std::unique_ptr<connection> c;
    for (;;) {
        std::vector<std::shared_ptr<pending_snapshot>> batch;
        bool stop = false;
        {
            std::lock_guard lk(m_);
            batch.swap(waiting_);
            stop = stopping_;
        }
        if (batch.empty()) {
            if (stop)
                co_return;
            // request() and close() cancel the wait; both post, so the cancel comes after it.
            wake_.expires_at(boost::asio::steady_timer::time_point::max());
            boost::system::error_code ec;
            auto wait_call =
                wake_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            co_await std::move(wait_call);
            continue;
        }
        // Every token in the batch was requested before this statement is sent.
        bool ok = false;
        snapshot s;
        for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
            try {
                if (!c || !c->ok()) {
                    auto open_call = connection::open(pool_.uri());
                    c = co_await std::move(open_call);
                }
                auto run_call = c->async_run("SELECT pg_current_snapshot()::text");
                auto r = co_await std::move(run_call);
                s = snapshot::parse(r.view(0, 0));
                ok = true;
            } catch (const pg_error &) {
                c.reset();
            }
        }
        for (auto &p : batch)
            p->fill(s, ok);
    }
}

} // namespace ifmatch::storage::postgres
