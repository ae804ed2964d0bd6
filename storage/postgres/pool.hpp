// The PostgreSQL backend's threads and connections: a fixed number of workers, each owning one
// connection, running jobs in order of submission; spare connections for body streams; and the
// snapshot thread that hands out start tokens (D3). Nothing here blocks an I/O thread: submit()
// only queues, and completions run on the workers.
#pragma once

#include "storage/postgres/pg.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ifmatch::storage::postgres {

class pool {
public:
    // A job gets the worker's connection, or null when PostgreSQL cannot be reached (the job
    // then answers 503). A job may keep the connection (a body stream holding its snapshot):
    // the worker then takes a spare one for its next job.
    using job = std::function<void(std::unique_ptr<connection> &)>;

    pool(std::string uri, int workers);
    ~pool();

    void submit(job j);
    // Stops the workers after the queued jobs ran. Idempotent.
    void close();
    bool healthy() const { return healthy_.load(); }
    bool closed() const { return closed_.load(); }
    const std::string &uri() const { return uri_; }

    // A spare connection (new or reused) for a body stream; throws pg_error.
    std::unique_ptr<connection> take();
    void give(std::unique_ptr<connection> c);

private:
    void work();

    std::string uri_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<job> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
    std::atomic<bool> healthy_{true};
    std::atomic<bool> closed_{false};
    std::mutex spare_m_;
    std::vector<std::unique_ptr<connection>> spare_;
};

// A PostgreSQL snapshot (pg_current_snapshot()): which transactions had committed when it was
// taken.
struct snapshot {
    std::uint64_t xmin = 0, xmax = 0;
    std::vector<std::uint64_t> xip;
    // Whether the committed transaction `xid` had committed when the snapshot was taken.
    bool sees(std::uint64_t xid) const;
    static snapshot parse(std::string_view text);
};

// A start token's snapshot, filled by the snapshot thread shortly after the request's head.
struct pending_snapshot {
    std::mutex m;
    std::condition_variable cv;
    bool ready = false;
    bool failed = false;
    snapshot snap;
    // Waits (at most `ms`); false when the snapshot could not be taken.
    bool wait(int ms);
};

// Takes one snapshot for every token requested since the previous one, on its own connection.
class snapshot_service {
public:
    explicit snapshot_service(std::string uri);
    ~snapshot_service();
    std::shared_ptr<pending_snapshot> request();
    void close();

private:
    void run();
    std::string uri_;
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::shared_ptr<pending_snapshot>> waiting_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace ifmatch::storage::postgres
