// The body thread (see body_pool.hpp).
#include "server/body_pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <pthread.h>
#include <utility>

namespace ifmatch::server {

namespace {

std::atomic<std::size_t> pool_threads{1};

// Jobs started and not yet finished on the body threads, for drain_body_pool.
std::mutex in_flight_mu;
std::condition_variable in_flight_cv;
std::size_t in_flight = 0;

net::thread_pool &body_pool() {
    static net::thread_pool pool(pool_threads.load());
    static std::once_flag named;
    std::call_once(named, [] {
        for (std::size_t i = 0; i < pool_threads.load(); ++i) {
            net::post(pool, [] { ::pthread_setname_np(::pthread_self(), "ifm-body"); });
        }
    });
    return pool;
}

} // namespace

void configure_body_pool(std::size_t threads) { pool_threads = std::max<std::size_t>(1, threads); }

void start_body_job(body_job &job, const std::function<void()> &work, net::any_io_executor ex) {
    job.running = true;
    job.done = false;
    {
        std::lock_guard lk(in_flight_mu);
        ++in_flight;
    }
    net::post(body_pool(), [&job, &work, ex] {
        std::exception_ptr failed;
        try {
            work();
        } catch (...) {
            failed = std::current_exception();
        }
        net::post(ex, [&job, failed] {
            job.failed = failed;
            job.done = true;
            job.wake.cancel();
        });
        std::lock_guard lk(in_flight_mu);
        if (--in_flight == 0) {
            in_flight_cv.notify_all();
        }
    });
}

net::awaitable<void> finish_body_job(body_job &job) {
    if (!job.running) {
        co_return;
    }
    while (!job.done) {
        job.wake.expires_at(net::steady_timer::time_point::max());
        auto wait = job.wake.async_wait(net::as_tuple(net::use_awaitable));
        co_await std::move(wait);
    }
    job.running = false;
    if (job.failed) {
        std::rethrow_exception(std::exchange(job.failed, nullptr));
    }
}

net::awaitable<void> on_body_thread(std::function<void()> work) {
    auto ex = co_await net::this_coro::executor;
    body_job job(ex);
    start_body_job(job, work, ex);
    auto wait = finish_body_job(job);
    co_await std::move(wait);
}

void drain_body_pool() {
    std::unique_lock lk(in_flight_mu);
    in_flight_cv.wait(lk, [] { return in_flight == 0; });
}

} // namespace ifmatch::server
