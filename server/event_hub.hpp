// The process-wide event hub (spec D9): the newest recorded outcomes in a bounded ring, the live
// subscribers of /_ifmatch/events/stream, and the persistence of every event (newest N) through
// the store's writer, one batch at a time. Thread-safe: publish, query and subscribe may be
// called from any thread.
#pragma once

#include "server/outcome_event.hpp"
#include "storage/object_store.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ifmatch::server {

// The process-wide event hub: ring, live subscribers, persistence batching.
class event_hub {
public:
    static constexpr std::size_t ring_capacity = 10000;

    // Adds an event (assigning id), wakes subscribers and queues it for persistence on `db`.
    void publish(outcome_event e, storage::object_store &db);
    // Events matching the filters (empty = any; since = time_ms lower bound), oldest first.
    std::vector<outcome_event> query(const std::string &bucket, const std::string &key,
                                     int outcome, std::int64_t since) const;
    // Merges persisted events read at start-up (once) ahead of the ring.
    bool needs_load() const;
    void load(std::vector<outcome_event> older);

    // A live subscriber: `wake` is called (any thread) after events were queued for it.
    struct subscriber {
        std::mutex mu;
        std::deque<outcome_event> queue;
        std::function<void()> wake;
    };
    std::shared_ptr<subscriber> subscribe(std::function<void()> wake);
    void unsubscribe(const std::shared_ptr<subscriber> &s);

private:
    void flush(storage::object_store &db);
    mutable std::mutex mu_;
    std::deque<outcome_event> ring_;
    std::uint64_t next_id_ = 1;
    bool loaded_ = false;
    std::vector<std::shared_ptr<subscriber>> subs_;
    std::vector<outcome_event> pending_; // serialised by the persistence job, off the I/O thread
    bool flushing_ = false;
};

event_hub &events();

} // namespace ifmatch::server
