// Explained conditional outcomes (spec D9): every 304 / 412 / 409 / 428, and every 404 an If-Match
// on an absent key caused, becomes an event naming the conditions as sent, the one that decided,
// the key's current version and the write that produced it. Events live in a bounded ring, are
// persisted (newest N) through the writer, stream live to subscribers, and optionally come back
// as x-ifmatch-* response headers when the request asks with `x-ifmatch-explain: 1`.
#pragma once

#include "server/faults.hpp"
#include "server/http.hpp"
#include "storage/object_store.hpp"

#include <nlohmann/json.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::server {

struct context;

// One recorded outcome.
struct outcome_event {
    std::uint64_t id = 0;
    std::int64_t time_ms = 0;
    std::string request_id;
    std::string access_key;
    std::string operation;
    std::string bucket;
    std::string key;
    int status = 0;
    std::string code; // S3 error code; empty for 304
    storage::string_pairs conditions; // conditional headers as sent
    std::string failed_condition;     // the condition that decided
    storage::current_state current;
};

nlohmann::json to_json(const outcome_event &e);
// The same document as to_json(e).dump() (bytes that are not UTF-8 replaced by U+FFFD), written
// directly: the writer persists every event, and building the tree cost a fifth of its time
// under a hot-key compare-and-swap load.
std::string event_json(const outcome_event &e);
outcome_event event_from_json(const nlohmann::json &j);
// "absent", "delete marker" or the ETag.
std::string describe_current(const storage::current_state &c);
// The request log's form: "absent", "delete marker version=V" or
// "etag=E last-modified-ms=N version=V".
std::string log_current(const storage::current_state &c);

// Per-request observations, filled by handlers from what the store answered.
struct request_note {
    bool captured = false;
    storage::current_state current;
    std::string failed_condition;
    std::optional<fault_rule> fault;   // a delay / inject rule matched by this request
    bool fault_applied = false;
};

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

// Fills `note` from a refused write's outcome: the error and the key's state the store decided
// it against (storage::write_outcome::refused_against). Nothing when `err` is no refusal.
void note_refusal(request_note &note, const protocol::s3_error &err,
                  const storage::current_state &against);
// The same for the request's own note and log line.
void note_refusal(context &ctx, const protocol::s3_error &err,
                  const std::optional<storage::current_state> &against);

// Notes the version a read condition was decided against (GET/HEAD 304/412).
void note_read_outcome(context &ctx, const storage::object_version &v, std::string_view cond);

// Applies the request's delay or inject fault (once) just before it submits its commit.
net::awaitable<void> before_commit(context &ctx);
// Whether before_commit has anything to do: callers skip its coroutine frame when not.
bool commit_fault_pending(const context &ctx);

// Runs the routed handler with faults applied and the outcome recorded/explained.
net::awaitable<response> run_observed(context &ctx, net::awaitable<response> (*route)(context &));

// The endpoints /_ifmatch/events and /_ifmatch/events/stream.
net::awaitable<response> handle_events(context &ctx);

} // namespace ifmatch::server
