// The PostgreSQL backend's connections and its I/O context: jobs (one request's statements) run
// as coroutines on the backend's own Asio I/O context, each on one of the pool's connections
// (--pg-pool of them), in order of submission; while PostgreSQL answers, the connection's socket
// is watched by that I/O context (pg.hpp), so a thread or two serve the whole pool. Spare
// connections serve body streams. The snapshot service hands out start tokens (D3). Nothing here
// blocks a server I/O thread: submit() only queues, and completions run on the pool's threads.
#pragma once

#include "storage/postgres/pg.hpp"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ifmatch::storage::postgres {

class pool {
  public:
    // A job gets a connection of the pool, or null when PostgreSQL cannot be reached (the job
    // then answers 503). A job may keep the connection (a body stream holding its snapshot):
    // the pool then opens another for its next job.
    using job = std::function<task<void>(std::unique_ptr<connection> &)>;

    // `connections` jobs run at once, on `threads` threads running the I/O context. Each job
    // (and each coroutine started through executor() or block_on) runs on a strand of its own:
    // its steps, and the handlers it posts to its own executor, never run concurrently.
    pool(std::string uri, int connections, int threads = 1);
    ~pool();

    void submit(job j);
    // Runs the queued jobs and refuses new ones (they answer unavailable). Idempotent.
    void drain();
    // drain(), then stops the I/O context: the coroutines still waiting are dropped. Idempotent.
    void close();
    bool healthy() const { return healthy_.load(); }
    bool closed() const { return closed_.load(); }
    const std::string &uri() const { return uri_; }
    // A new strand of the I/O context.
    boost::asio::any_io_executor executor() { return boost::asio::make_strand(ioc_); }

    // A spare connection (reused or new) for a body stream or a lookup; throws pg_error.
    task<std::unique_ptr<connection>> take();
    void give(std::unique_ptr<connection> c);

    // Runs the coroutine `f()` on the pool's I/O context and waits for it, rethrowing what it
    // threw: for threads that may block (the server's body threads), never for a thread that
    // runs an I/O context. Throws pg_error (unavailable) once the pool is closed.
    template <class F> auto block_on(F f) -> decltype(f().await_resume()) {
        if (closed_) {
            throw pg_error("PostgreSQL: the store is closed", "08003", true);
        }
        return boost::asio::co_spawn(executor(), std::move(f), boost::asio::use_future).get();
    }

  private:
    task<void> run_jobs(std::size_t slot, job first);

    std::string uri_;
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::vector<std::thread> threads_;
    std::mutex m_;
    std::condition_variable idle_;
    std::deque<job> jobs_;
    std::vector<std::unique_ptr<connection>> conns_; // one per slot
    std::vector<bool> busy_;
    std::size_t running_ = 0;
    bool stopping_ = false;
    std::atomic<bool> healthy_{true};
    std::atomic<bool> closed_{false};
    std::mutex spare_m_;
    std::vector<std::unique_ptr<connection>> spare_;
};

// Runs `t` to its end on the calling thread, on an I/O context of its own: for the offline
// readers (`ifmatch check`, `ifmatch explain --data`), which share the backend's coroutines.
template <class T> T run_here(task<T> t) {
    boost::asio::io_context ioc;
    auto f = boost::asio::co_spawn(ioc, std::move(t), boost::asio::use_future);
    ioc.run();
    return f.get();
}

// A PostgreSQL snapshot (pg_current_snapshot()): which transactions had committed when it was
// taken.
struct snapshot {
    std::uint64_t xmin = 0, xmax = 0;
    std::vector<std::uint64_t> xip;
    // Whether the committed transaction `xid` had committed when the snapshot was taken.
    bool sees(std::uint64_t xid) const;
    static snapshot parse(std::string_view text);
};

// A start token's snapshot, filled by the snapshot service shortly after the request's head.
struct pending_snapshot {
    std::mutex m;
    bool ready = false;
    bool failed = false;
    snapshot snap;
    std::vector<std::function<void()>> wake; // run once ready
    // Waits (at most `ms`) on the pool's I/O context; false when the snapshot could not be taken.
    task<bool> wait(int ms);
    void fill(const snapshot &s, bool ok);
};

// Takes one snapshot for every token requested since the previous one, on its own connection,
// as a coroutine on the pool's I/O context.
class snapshot_service {
  public:
    explicit snapshot_service(pool &p);
    ~snapshot_service();
    // Any thread: queues, never waits.
    std::shared_ptr<pending_snapshot> request();
    // Stops the coroutine and waits for it; tokens still waiting fail. Idempotent.
    void close();

  private:
    task<void> run();
    pool &pool_;
    std::mutex m_;
    std::vector<std::shared_ptr<pending_snapshot>> waiting_;
    bool stopping_ = false;
    boost::asio::steady_timer wake_;
    std::future<void> done_;
};

} // namespace ifmatch::storage::postgres
