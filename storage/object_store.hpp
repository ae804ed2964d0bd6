// The store as the request path sees it: one asynchronous call per S3 operation (or family),
// taking and returning the plain values of requests.hpp. How a backend keeps versions, bodies,
// caches and its clock, and when it commits, is its own business; docs/architecture.md §2 lists
// what every backend must guarantee and storage/contract_test.cpp checks it.
//
// RULES
// 1. Every call returns at once. `done` runs exactly once, never inside a transaction: on a
//    thread of the store, or before the call returns when the answer needs no I/O (a cache hit);
//    callers hop back to their own executor (server/store_calls.hpp posts every completion).
// 2. A write is acknowledged only when it is durable to the store's configured level; a write
//    answered with an error (or a refusal) left nothing behind.
// 3. Conditional writes are decided by the store, at commit, against the key's state at that
//    moment and the request's start_token (D3); the outcome says what it was decided against.
// 4. The peek_* calls never block and never do I/O: null means "ask with the asynchronous call".
#pragma once

#include "storage/requests.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ifmatch::storage {

template <class T> using done_fn = std::function<void(result<T>)>;
template <class T> using decided_fn = std::function<void(write_outcome<T>)>;

// Counters a backend reports for /_ifmatch/metrics (zero when a counter means nothing to it).
struct store_stats {
    std::uint64_t commits = 0, jobs = 0, wal_frames = 0;
    std::uint64_t reruns = 0;            // groups run again after one of their writes was undone
    std::uint64_t failed_commits = 0;    // commits that failed (the writes were answered 500)
    std::uint64_t lost_transactions = 0; // transactions the database ended by itself
    std::uint64_t statements = 0;        // statements sent to a database server
    std::uint64_t round_trips = 0;       // waits for its answers (several statements may share one)
};

// A test seam that simulates a full disk (the fault suites use it).
struct space_limit {
    std::optional<std::int64_t> body_bytes; // body bytes that may still be written; -1: no limit
    std::optional<std::int64_t> max_pages;  // database pages: 0 freezes the current size, -1 none
};

// A fault rule as a shared store keeps it (object_store::take_fault_rule).
struct fault_rule_row {
    std::uint64_t id = 0;
    std::string bucket;
    std::string rule; // the server's text of the rule
    int count = 1;    // uses left
};
enum class fault_use { no, use, peek };

class object_store {
public:
    virtual ~object_store() = default;

    // ---- the store itself ---------------------------------------------------------------------
    // Finishes queued writes and closes; later calls fail with InternalError. Idempotent.
    virtual void close() = 0;
    virtual bool healthy() const = 0;
    virtual store_stats stats() const = 0;
    // What the store is ("sqlite:/data", ":memory:") for the start-up line.
    virtual std::string describe() const = 0;
    // The size above which a body is not kept in memory (streams stay streams above it).
    virtual std::size_t inline_limit() const = 0;
    // Other processes write to the same store (shared mode): what a process would otherwise
    // keep to itself, like the recent outcome events, must be read back from the store.
    virtual bool shared() const { return false; }

    // ---- time and start tokens ----------------------------------------------------------------
    // The store's clock (ms since the epoch): Last-Modified, the future-date rule of
    // If-Modified-Since and every age the store judges. Moves only forward.
    virtual std::int64_t now_ms() const = 0;
    virtual std::int64_t clock_offset_ms() const = 0;
    // Moves the clock forward by `ms` (> 0), durably; answers the new offset.
    virtual void advance_clock(std::int64_t ms, done_fn<std::int64_t> done) = 0;
    // The token of a request arriving now (D3).
    virtual start_token start() const = 0;

    // ---- bodies -------------------------------------------------------------------------------
    // A new sink for one upload's bytes.
    virtual std::unique_ptr<body_sink> new_body() = 0;

    // ---- buckets ------------------------------------------------------------------------------
    // Creates the bucket with its first settings in one commit. already_owned: it existed (the
    // settings are then left alone).
    virtual void create_bucket(std::string name, std::string region, string_pairs settings,
                               done_fn<create_bucket_result> done) = 0;
    // Errors: NoSuchBucket, BucketNotEmpty.
    virtual void delete_bucket(std::string name, done_fn<bool> done) = 0;
    // Errors: NoSuchBucket.
    virtual void get_bucket(std::string name, done_fn<bucket_info> done) = 0;
    virtual void list_buckets(done_fn<std::vector<bucket_info>> done) = 0;
    // The bucket's row and settings. Errors: NoSuchBucket.
    virtual void get_bucket_config(std::string name,
                                   done_fn<std::shared_ptr<const bucket_config>> done) = 0;
    virtual std::shared_ptr<const bucket_config> peek_bucket_config(const std::string &name) = 0;
    virtual void set_bucket_versioning(std::string name, std::string status,
                                       done_fn<bool> done) = 0;
    virtual void set_bucket_require_conditions(std::string name, bool on, done_fn<bool> done) = 0;
    // An empty policy removes it.
    virtual void set_bucket_policy(std::string name, std::string policy, done_fn<bool> done) = 0;
    // One setting (an empty value removes it). Errors: NoSuchBucket.
    virtual void set_bucket_setting(std::string name, std::string setting, std::string value,
                                    done_fn<bool> done) = 0;

    // ---- objects ------------------------------------------------------------------------------
    virtual void put_object(put_request r, decided_fn<write_result> done) = 0;
    // In D6's order: source 404 -> source conditions -> copy-to-self -> destination conditions.
    virtual void copy_object(copy_request r, decided_fn<write_result> done) = 0;
    virtual void delete_object(delete_request r, decided_fn<delete_result> done) = 0;
    // A current delete marker comes back as a version with delete_marker set. Errors:
    // NoSuchBucket, NoSuchKey, NoSuchVersion, InternalError (a body is missing).
    virtual void get_object(get_request r, done_fn<object_read> done) = 0;
    // The key's current version with its whole body, when the store holds it in memory.
    virtual std::shared_ptr<const cached_object> peek_object(const std::string &bucket,
                                                             const std::string &key) = 0;
    virtual void list_objects(list_request r, done_fn<list_page> done) = 0;
    virtual void list_versions(list_versions_request r, done_fn<list_versions_page> done) = 0;
    // Tags and ACLs of a version change in place (no new version).
    virtual void set_version_extra(version_extra_request r, done_fn<object_version> done) = 0;
    // Sizes of the parts of a stored body (object_version::body_id), in order.
    virtual void body_part_sizes(std::int64_t body_id,
                                 done_fn<std::vector<std::uint64_t>> done) = 0;

    // ---- multipart uploads --------------------------------------------------------------------
    virtual void create_upload(create_upload_request r, done_fn<upload_info> done) = 0;
    // Errors: NoSuchBucket, NoSuchUpload.
    virtual void find_upload(std::string bucket, std::string key, std::string upload_id,
                             done_fn<upload_info> done) = 0;
    virtual void put_part(upload_part_request r, done_fn<part_info> done) = 0;
    virtual void complete_upload(complete_request r, decided_fn<complete_result> done) = 0;
    virtual void abort_upload(std::string bucket, std::string key, std::string upload_id,
                              done_fn<bool> done) = 0;
    virtual void list_parts(list_parts_request r, done_fn<list_parts_page> done) = 0;
    virtual void list_uploads(list_uploads_request r, done_fn<list_uploads_page> done) = 0;

    // ---- history (D9) and totals --------------------------------------------------------------
    // Every version of a key, oldest first. Errors: NoSuchBucket.
    virtual void key_versions(std::string bucket, std::string key,
                              done_fn<std::vector<object_version>> done) = 0;
    // The current version of each key after `after`, at most `limit`. Errors: NoSuchBucket.
    virtual void bucket_keys(std::string bucket, std::string after, std::size_t limit,
                             done_fn<std::vector<object_version>> done) = 0;
    virtual void current_state_of(std::string bucket, std::string key,
                                  done_fn<current_state> done) = 0;
    // Appends outcome events, keeping the newest `keep`.
    virtual void append_events(std::vector<event_row> rows, std::size_t keep,
                               done_fn<bool> done) = 0;
    // The newest `limit` events, oldest first.
    virtual void recent_events(std::size_t limit, done_fn<std::vector<event_row>> done) = 0;
    virtual void stored_totals(done_fn<store_totals> done) = 0;

    // ---- background work ----------------------------------------------------------------------
    // Whether this process may run the background task `task` now: true when no other process
    // sharing the store holds it, or this one holds it already; then it holds it for `ttl_ms`.
    // A store no other process shares always answers true.
    virtual void lead(std::string task, std::int64_t ttl_ms, done_fn<bool> done) {
        (void)task;
        (void)ttl_ms;
        done(true);
    }

    // ---- fault rules of a shared store (D10) ---------------------------------------------------
    // A store shared by several processes keeps the fault rules arranged through any of them, so
    // a rule is used by whichever process meets the matching request, exactly `count` times. The
    // rule's text is the server's; the store keeps it, its bucket and its uses left. A store no
    // other process shares answers NotImplemented: the process keeps its rules itself.
    virtual void add_fault_rule(fault_rule_row r, done_fn<std::uint64_t> done) {
        (void)r;
        done(protocol::s3_error(protocol::s3_errc::not_implemented));
    }
    // Every rule, oldest first.
    virtual void fault_rules(done_fn<std::vector<fault_rule_row>> done) {
        done(protocol::s3_error(protocol::s3_errc::not_implemented));
    }
    // Removes the rule `id`, or every rule; answers how many went.
    virtual void remove_fault_rules(std::optional<std::uint64_t> id,
                                    done_fn<std::uint64_t> done) {
        (void)id;
        done(protocol::s3_error(protocol::s3_errc::not_implemented));
    }
    // The oldest rule of `bucket` that `match` accepts: with fault_use::use one of its uses is
    // consumed (the rule goes at zero, and a use consumed by another process meanwhile is never
    // handed out twice); with fault_use::peek it is answered untouched. nullopt when none.
    // `match` runs on a store thread; it must be pure.
    virtual void take_fault_rule(std::string bucket,
                                 std::function<fault_use(const fault_rule_row &)> match,
                                 done_fn<std::optional<fault_rule_row>> done) {
        (void)bucket;
        (void)match;
        done(protocol::s3_error(protocol::s3_errc::not_implemented));
    }

    // ---- test seams (--enable-test-hooks) -----------------------------------------------------
    // Limits the space writes may use; answers the page limit now in force (0 when only body
    // bytes were limited). Errors: NotImplemented when the backend has no such seam.
    virtual void limit_space(space_limit l, done_fn<std::int64_t> done) = 0;
};

// A key's versions and the store's newest recorded events (`ifmatch explain --data`).
struct key_history {
    std::vector<object_version> versions; // oldest first
    std::vector<event_row> events;        // the newest recorded events, oldest first
};

// What the offline subcommands (`ifmatch check`, `ifmatch explain --data`) read from a store
// location without opening it for writing; main.cpp fills it from storage/backends.hpp. Each
// throws std::runtime_error when the location holds no ifmatch store.
struct offline_reader {
    // `blob_dir`: a PostgreSQL store's --blob-dir, whose files are checked too (may be empty).
    std::function<check_report(const std::string &location, const std::string &blob_dir)> check;
    std::function<key_history(const std::string &location, const std::string &bucket,
                              const std::string &key, std::size_t event_limit)>
        history;
};

} // namespace ifmatch::storage
