// Process-wide metric counters and their Prometheus rendering.
#include "server/metrics.hpp"

#include "protocol/operation.hpp"
#include "server/handlers.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>

namespace ifmatch::server {

namespace {

using protocol::op;
using counter = std::atomic<std::uint64_t>;

constexpr std::size_t op_count = static_cast<std::size_t>(op::unsupported) + 1;
constexpr int status_min = 100, status_max = 599;
constexpr std::size_t status_count = status_max - status_min + 1;
constexpr std::array<double, 14> latency_bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25,  0.5,    1,     2.5,  5,     10,   30};

struct registry {
    std::array<std::array<counter, status_count>, op_count> requests{};
    std::array<counter, latency_bounds.size() + 1> latency{}; // per bucket, not cumulative
    counter latency_sum_us{0};
    counter bytes_in{0}, bytes_out{0};
    counter guarded_overwrite_refused{0}; // If-Match 412 on writes
    counter create_if_absent_conflict{0}; // If-None-Match 412 on writes
    counter copy_source_failed{0};        // x-amz-copy-source-if-* 412
    counter read_not_modified{0};         // 304 on GET/HEAD
    counter read_precondition_failed{0};  // 412 on GET/HEAD
    counter conditional_conflict{0};      // 409 ConditionalRequestConflict
    counter precondition_required{0};     // 428
    std::array<counter, 4> lifecycle{};   // by lifecycle_action
    counter replication_completed{0}, replication_failed{0};
    std::atomic<std::int64_t> replication_pending{0}, replication_lag_ms{0};
};

registry &reg() {
    static registry r;
    return r;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    }
    return true;
}

// Sorts a finished request into the conditional-outcome counters.
void record_conditional(const context &ctx, int status) {
    auto &r = reg();
    const auto o = ctx.target.operation;
    const bool read = o == op::get_object || o == op::head_object;
    const std::string &cond = ctx.log.failed_condition;
    if (status == 428) {
        r.precondition_required++;
    } else if (status == 409 && ctx.log.error_code == "ConditionalRequestConflict") {
        r.conditional_conflict++;
    } else if (read && status == 304) {
        r.read_not_modified++;
    } else if (read && status == 412) {
        r.read_precondition_failed++;
    } else if (status == 412 && starts_with_icase(cond, "x-amz-copy-source")) {
        r.copy_source_failed++;
    } else if (status == 412 && cond == "If-None-Match") {
        r.create_if_absent_conflict++;
    } else if (status == 412 && cond == "If-Match") {
        r.guarded_overwrite_refused++;
    }
}

void header(std::string &out, const char *name, const char *type, const char *help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string &out, const std::string &name, std::uint64_t v) {
    out += name + ' ' + std::to_string(v) + '\n';
}

void scalar(std::string &out, const char *name, const char *type, const char *help,
            std::uint64_t v) {
    header(out, name, type, help);
    sample(out, name, v);
}

std::string fmt_double(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

void render_requests(std::string &out) {
    auto &r = reg();
    header(out, "ifmatch_requests_total", "counter", "Requests by S3 operation and HTTP status.");
    for (std::size_t o = 0; o < op_count; ++o) {
        auto name = protocol::op_name(static_cast<op>(o));
        for (std::size_t s = 0; s < status_count; ++s) {
            if (auto v = r.requests[o][s].load(std::memory_order_relaxed)) {
                sample(out,
                       "ifmatch_requests_total{operation=\"" + std::string(name) +
                           "\",status=\"" + std::to_string(s + status_min) + "\"}",
                       v);
            }
        }
    }
}

void render_latency(std::string &out) {
    auto &r = reg();
    const char *name = "ifmatch_request_duration_seconds";
    header(out, name, "histogram", "Time from the request head to the last response byte.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= latency_bounds.size(); ++i) {
        cumulative += r.latency[i].load(std::memory_order_relaxed);
        std::string le = i < latency_bounds.size() ? fmt_double(latency_bounds[i]) : "+Inf";
        sample(out, std::string(name) + "_bucket{le=\"" + le + "\"}", cumulative);
    }
    out += std::string(name) + "_sum " +
           fmt_double(static_cast<double>(r.latency_sum_us.load()) / 1e6) + '\n';
    sample(out, std::string(name) + "_count", cumulative);
}

} // namespace

void record_request(const context &ctx, int status, std::chrono::steady_clock::duration took) {
    auto &r = reg();
    auto o = static_cast<std::size_t>(ctx.target.operation);
    if (o < op_count && status >= status_min && status <= status_max) {
        r.requests[o][static_cast<std::size_t>(status - status_min)].fetch_add(
            1, std::memory_order_relaxed);
    }
    double secs = std::chrono::duration<double>(took).count();
    std::size_t b = 0;
    while (b < latency_bounds.size() && secs > latency_bounds[b]) ++b;
    r.latency[b].fetch_add(1, std::memory_order_relaxed);
    r.latency_sum_us.fetch_add(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
    r.bytes_in.fetch_add(ctx.log.bytes_in, std::memory_order_relaxed);
    r.bytes_out.fetch_add(ctx.log.bytes_out, std::memory_order_relaxed);
    record_conditional(ctx, status);
}

void count_lifecycle(lifecycle_action a) { reg().lifecycle[static_cast<std::size_t>(a)]++; }

void count_replication(bool completed, std::int64_t lag_ms) {
    (completed ? reg().replication_completed : reg().replication_failed)++;
    if (completed) reg().replication_lag_ms = lag_ms;
}

void set_replication_pending(std::int64_t pending) { reg().replication_pending = pending; }

std::string render_metrics(const store_gauges &g) {
    auto &r = reg();
    std::string out;
    out.reserve(8192);
    render_requests(out);
    render_latency(out);
    scalar(out, "ifmatch_bytes_in_total", "counter", "Request body bytes received.",
           r.bytes_in.load());
    scalar(out, "ifmatch_bytes_out_total", "counter", "Response body bytes sent.",
           r.bytes_out.load());
    scalar(out, "ifmatch_guarded_overwrites_refused_total", "counter",
           "Writes refused with 412 because If-Match did not match the current object.",
           r.guarded_overwrite_refused.load());
    scalar(out, "ifmatch_create_if_absent_conflicts_total", "counter",
           "Writes refused with 412 because If-None-Match: * found an existing object.",
           r.create_if_absent_conflict.load());
    scalar(out, "ifmatch_copy_source_precondition_failures_total", "counter",
           "Copies refused with 412 by an x-amz-copy-source-if-* condition.",
           r.copy_source_failed.load());
    header(out, "ifmatch_read_validator_outcomes_total", "counter",
           "GET/HEAD requests answered by their validators: 304 Not Modified or 412.");
    sample(out, "ifmatch_read_validator_outcomes_total{outcome=\"not_modified\"}",
           r.read_not_modified.load());
    sample(out, "ifmatch_read_validator_outcomes_total{outcome=\"precondition_failed\"}",
           r.read_precondition_failed.load());
    scalar(out, "ifmatch_conditional_request_conflicts_total", "counter",
           "Conditional writes answered 409 ConditionalRequestConflict.",
           r.conditional_conflict.load());
    scalar(out, "ifmatch_precondition_required_total", "counter",
           "Writes answered 428 because the bucket or server requires a condition.",
           r.precondition_required.load());
    header(out, "ifmatch_lifecycle_actions_total", "counter",
           "Writes the lifecycle worker committed, by action (B-C1..B-C4).");
    constexpr std::array<const char *, 4> actions = {"expire_current", "expire_noncurrent",
                                                     "remove_delete_marker", "abort_upload"};
    for (std::size_t i = 0; i < actions.size(); ++i) {
        sample(out, std::string("ifmatch_lifecycle_actions_total{action=\"") + actions[i] + "\"}",
               r.lifecycle[i].load());
    }
    header(out, "ifmatch_replication_total", "counter",
           "Versions the replication worker replicated (completed) or gave up on (failed), B-R2.");
    sample(out, "ifmatch_replication_total{outcome=\"completed\"}", r.replication_completed.load());
    sample(out, "ifmatch_replication_total{outcome=\"failed\"}", r.replication_failed.load());
    scalar(out, "ifmatch_replication_pending", "gauge",
           "Versions marked PENDING that the last replication pass found.",
           static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.replication_pending.load())));
    scalar(out, "ifmatch_replication_lag_ms", "gauge",
           "Milliseconds between the last replicated version's Last-Modified and its replica.",
           static_cast<std::uint64_t>(std::max<std::int64_t>(0, r.replication_lag_ms.load())));
    scalar(out, "ifmatch_store_commits_total", "counter",
           "Store transactions committed (each carries a group of writes).", g.commits);
    scalar(out, "ifmatch_store_write_jobs_total", "counter",
           "Writes carried by those transactions; divided by commits: the mean group size.",
           g.write_jobs);
    scalar(out, "ifmatch_store_wal_frames_total", "counter",
           "Pages the commits appended to SQLite's write-ahead log.", g.wal_frames);
    scalar(out, "ifmatch_store_group_reruns_total", "counter",
           "Groups run again with a savepoint per write because one write failed after writing.",
           g.group_reruns);
    scalar(out, "ifmatch_store_failed_commits_total", "counter",
           "Groups of writes whose commit failed (full disk, I/O error): all answered 500.",
           g.failed_commits);
    scalar(out, "ifmatch_store_lost_transactions_total", "counter",
           "Transactions SQLite rolled back by itself during a write (full disk, I/O error); the "
           "write was answered 500 and the rest of its group ran again.",
           g.lost_transactions);
    scalar(out, "ifmatch_store_statements_total", "counter",
           "Statements sent to the database server (shared mode; 0 for the embedded SQLite "
           "store).",
           g.statements);
    scalar(out, "ifmatch_store_round_trips_total", "counter",
           "Round trips to the database server: each sends one or more statements together and "
           "waits for their answers (shared mode; 0 for the embedded SQLite store).",
           g.round_trips);
    if (g.objects >= 0) {
        scalar(out, "ifmatch_objects_stored", "gauge",
               "Current object versions (not delete markers) in every bucket.",
               static_cast<std::uint64_t>(g.objects));
        scalar(out, "ifmatch_bytes_stored", "gauge", "Sizes of those objects, summed.",
               static_cast<std::uint64_t>(g.bytes));
    }
    return out;
}

} // namespace ifmatch::server
