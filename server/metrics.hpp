// Request metrics for GET /_ifmatch/metrics (Prometheus text format 0.0.4): counters by operation
// and status, a latency histogram, bytes in and out, and the conditional-request outcomes
// ifmatch exists for. One process-wide set of lock-free atomic counters; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ifmatch::server {

struct context;

// Records one finished request (called once per request, where the access log is written).
void record_request(const context &ctx, int status, std::chrono::steady_clock::duration took);

// What the lifecycle worker did (server/lifecycle.hpp), by action.
enum class lifecycle_action { expire_current, expire_noncurrent, remove_delete_marker, abort_upload };
void count_lifecycle(lifecycle_action a);
// What the replication worker did (server/replication.hpp): a replica written or a failure, and
// the versions still pending and the lag of the last replica after its source was written.
void count_replication(bool completed, std::int64_t lag_ms);
void set_replication_pending(std::int64_t pending);

// What the store reports at scrape time (gauges).
struct store_gauges {
    std::int64_t objects = -1; // -1: unknown (the store query failed); omitted
    std::int64_t bytes = -1;
    std::uint64_t commits = 0, write_jobs = 0, wal_frames = 0, group_reruns = 0;
    std::uint64_t failed_commits = 0, lost_transactions = 0, statements = 0, round_trips = 0;
};

// The whole exposition, every metric with # HELP and # TYPE lines.
std::string render_metrics(const store_gauges &g);

} // namespace ifmatch::server
