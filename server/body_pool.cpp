// The body thread (see body_pool.hpp).
#include "server/body_pool.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <future>
#include <mutex>
#include <pthread.h>
#include <utility>

namespace ifmatch::server {

namespace {

net::thread_pool &body_pool() {
    static net::thread_pool pool(1);
    static std::once_flag named;
    std::call_once(named, [] {
        net::post(pool, [] { ::pthread_setname_np(::pthread_self(), "ifm-body"); });
    });
    return pool;
}

} // namespace

void start_body_job(body_job &job, const std::function<void()> &work, net::any_io_executor ex) {
    job.running = true;
    job.done = false;
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
    std::promise<void> done;
    net::post(body_pool(), [&done] { done.set_value(); }); // one thread: after all queued work
    done.get_future().wait();
}

} // namespace ifmatch::server
