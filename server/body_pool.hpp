// The body thread ("ifm-body"): hashing and file I/O of large bodies run here instead of on a
// connection's thread, so a slow disk or a long hash stalls one request, not every connection
// that shares the thread.
//
// RULES
// 1. A coroutine that started a job awaits it (finish_body_job) on every path out, exceptions
//    included: the job works on the coroutine's buffers.
// 2. Completion is posted back to the coroutine's executor; only that thread touches the
//    job's state. There are as many body threads as I/O threads (configure_body_pool).
// 3. The server drains the thread (drain_body_pool) after its I/O threads stopped and before
//    their io_contexts are destroyed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <exception>
#include <functional>

namespace ifmatch::server {

namespace net = boost::asio;

struct body_job {
    net::steady_timer wake;
    bool running = false;
    bool done = false;
    std::exception_ptr failed;
    explicit body_job(const net::any_io_executor &ex) : wake(ex) {}
};

// Starts `work` on the body thread; `work` must stay valid until the job is finished.
void start_body_job(body_job &job, const std::function<void()> &work, net::any_io_executor ex);

// Waits for the job if one is running; rethrows what its work threw.
net::awaitable<void> finish_body_job(body_job &job);

// Runs `work` on the body thread and waits for it.
net::awaitable<void> on_body_thread(std::function<void()> work);

// Sets the number of body threads; called by the server before any job starts.
void configure_body_pool(std::size_t threads);

// Waits until every started job has run (RULE 3).
void drain_body_pool();

} // namespace ifmatch::server
