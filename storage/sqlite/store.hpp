// The versioned object store: one writer thread that commits queued writes in groups (a write
// that must be undone is rolled back alone, outcomes are delivered after COMMIT), a pool of
// reader threads with their own WAL-snapshot connections, a checkpoint thread, the blob
// directory and the read cache. Callers submit work and get a callback on a storage thread; they
// never see SQLite. All public methods are thread-safe.
#pragma once

#include "protocol/errors.hpp"
#include "storage/sqlite/blob_store.hpp"
#include "storage/sqlite/read_cache.hpp"
#include "storage/sqlite/schema.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage::sqlite {

// The interface's value types (storage/requests.hpp) by their short names, also when qualified
// (sqlite::put_request) in this backend's tests.
using namespace ifmatch::storage;

template <class T> using result = protocol::result<T>;

class connection;

// What a write job sees: the writer's connection inside the group transaction.
class write_txn {
public:
    connection &db;
    blob_store &blobs;
    std::int64_t now_ms;
    // The next commit sequence number (monotonic across restarts).
    std::int64_t next_seq();
    // A staged blob this write will reference: synced before COMMIT (durability full), removed
    // if the write is rolled back.
    // Adopt it before the first statement that may throw, or a failure would orphan it; adopting
    // it again is harmless.
    void adopt_file(const std::string &file) {
        if (std::find(job_files_.begin(), job_files_.end(), file) == job_files_.end()) {
            job_files_.push_back(file);
        }
    }
    // A blob no row refers to any more: unlinked after COMMIT plus a grace period.
    void reclaim_file(const std::string &file) { reclaim_.push_back(file); }
    // What the read cache must forget after COMMIT: a bucket's row or settings, or a key's
    // current version. key_rewritten gives the key's new current version with its whole inline
    // body (`body` must stay valid until the job's outcome is delivered).
    void bucket_changed(const std::string &bucket) {
        changes_.push_back({bucket, {}, {}, {}});
        if (bucket_memo) {
            bucket_memo->clear();
        }
    }
    void key_changed(const std::string &bucket, const std::string &key) {
        changes_.push_back({bucket, key, {}, {}});
    }
    void key_rewritten(const object_version &v, std::string_view body) {
        if (cache && !cache->holds(v.bucket, v.key)) {
            return; // not hot: the key_changed before this one drops it if it becomes hot
        }
        changes_.push_back({v.bucket, v.key, v, body});
    }
    // The store's read cache: key_rewritten records a refresh only for keys it holds (the
    // writer refreshes hot keys only, read_cache RULE 1), sparing a copy of every new version.
    const read_cache *cache = nullptr;

    // The key's key_state row as this job sees it: read once (by gather_context or the first
    // row helper that needs it), changed in memory by install_version / remove_version /
    // promote_latest (latest_seq, `dirty`) and written once by touch_key, which every write
    // that changes a key's versions calls last (rows.hpp).
    struct key_state_row {
        std::string bucket, key;
        bool found = false;
        std::int64_t last_delete = 0;
        std::string history;
        std::int64_t latest_seq = 0; // the current version's seq, 0 when there is none
        bool dirty = false;          // latest_seq changed and touch_key has not written it yet
    };
    std::optional<key_state_row> key_state_seen;
    // The current version gather_context found (or its absence), reused by install_version of
    // the same job to replace a `null` version without looking it up again.
    struct latest_row {
        std::string bucket, key;
        bool found = false;
        std::int64_t seq = 0, body_id = 0;
        std::string version_id;
    };
    std::optional<latest_row> latest_seen;
    // Bucket rows this group has already read (rows::find_bucket on a write_txn), so a group of
    // PUTs to one bucket reads its row once. Forgotten by bucket_changed, which every write of a
    // bucket row calls first, and by the writer after a job that failed; null: no memo.
    std::vector<bucket_info> *bucket_memo = nullptr;

    write_txn(connection &c, blob_store &b, std::int64_t now, std::int64_t &seq)
        : db(c), blobs(b), now_ms(now), seq_(seq) {}

private:
    friend class store;
    std::int64_t &seq_;
    std::vector<std::string> job_files_;
    std::vector<std::string> reclaim_;
    std::vector<cache_change> changes_;
};

// One queued write. run() executes inside the writer's group transaction: true when the write
// stands, false when it was refused (whatever it wrote is then undone); it may run twice (see
// store::write). deliver(committed) runs once, on the writer thread, after the group's COMMIT
// (or its failure); the store destroys the job right after it.
class write_job {
public:
    virtual ~write_job() = default;
    virtual bool run(write_txn &t) = 0;
    virtual void deliver(bool committed) = 0;
};

// Runs a store job function; a thrown exception (a sqlite_error) becomes an InternalError.
template <class T, class F> protocol::result<T> run_guarded(F &&f) {
    try {
        return f();
    } catch (const std::exception &e) {
        return protocol::result<T>(protocol::s3_error(protocol::s3_errc::internal_error, e.what()));
    }
}

// A write job that computes a result<T>: compute()'s result (run_guarded) is kept and handed to
// finish(), or InternalError when the COMMIT failed.
template <class T> class result_job : public write_job {
public:
    bool run(write_txn &t) final {
        slot_ = run_guarded<T>([&] { return compute(t); });
        return !slot_->has_error();
    }
    void deliver(bool committed) final {
        // Not committed: only the job's own InternalError (its cause) is worth more than the
        // generic one; a refusal decided in a group that did not commit may rest on a write of
        // that group that was undone (store.cpp INVARIANT 6).
        if (!slot_ || (!committed && (!slot_->has_error() ||
                                      slot_->error().code != protocol::s3_errc::internal_error))) {
            finish(protocol::result<T>(protocol::s3_error(
                protocol::s3_errc::internal_error, "The store could not commit the write.")));
            return;
        }
        finish(std::move(*slot_));
    }

protected:
    virtual protocol::result<T> compute(write_txn &t) = 0;
    virtual void finish(protocol::result<T> r) = 0;

private:
    std::optional<protocol::result<T>> slot_;
};

// What a read job sees: a reader connection inside a read transaction (one snapshot).
struct read_txn {
    connection &db;
    blob_store &blobs;
};

struct store_options {
    std::string data_dir = "./data";
    bool memory = false; // throw-away store in a private temporary directory
    durability dur = durability::normal;
    int reader_threads = 2;
    std::size_t inline_limit = 64 * 1024;
    std::function<std::int64_t()> clock; // ms since the epoch; default: system clock
    // Write-ahead-log pages between background checkpoints (store.cpp INVARIANT 5); tests lower
    // it so that checkpoints run inside a short workload.
    int checkpoint_pages = 4000;
    // The writer's page cache in pages (0: the default 16 MB); tests make it tiny so that pages
    // spill to the log in the middle of a write, where an I/O error fails a statement.
    int writer_cache_pages = 0;
    // Told once when writes start failing (with SQLite's or the file system's error) and once
    // when they commit again; called on the writer thread.
    std::function<void(const std::string &)> on_error;
};

class store {
public:
    // Opens (creating if needed) the data directory, takes its lock, migrates the schema and
    // reclaims unreferenced blobs. Throws std::runtime_error with a clear message on failure
    // (including "data directory is in use by another ifmatch").
    explicit store(store_options opts);
    ~store();
    store(const store &) = delete;
    store &operator=(const store &) = delete;

    // Stops accepting work, finishes queued writes, checkpoints and closes. Idempotent.
    void close();

    // The highest sequence number whose commit has been delivered; a request that records it as
    // its t_start sees later commits as "since t_start" (spec D3).
    std::int64_t committed_seq() const { return committed_seq_.load(); }
    // Group commit counters since start: transactions committed, write jobs they carried, and
    // write-ahead-log frames appended (pages written by commits).
    struct commit_stats {
        std::uint64_t commits = 0, jobs = 0, wal_frames = 0;
        std::uint64_t reruns = 0; // groups run again with savepoints (INVARIANT 1 of store.cpp)
        std::uint64_t failed_commits = 0;    // groups whose COMMIT (or blob sync) failed
        std::uint64_t lost_transactions = 0; // transactions SQLite ended by itself (INVARIANT 6)
    };
    commit_stats stats() const {
        return {commits_.load(),         jobs_.load(),
                wal_frames_.load(),      reruns_.load(),
                failed_commits_.load(), lost_transactions_.load()};
    }
    // The last write failure's message ("" when none has happened).
    std::string last_error() const;
    blob_store &blobs() { return *blobs_; }
    std::size_t inline_limit() const { return opts_.inline_limit; }
    // The store's clock: "now" for Last-Modified, the future-date rule of If-Modified-Since and
    // every age the store judges. The options' clock plus an offset that tests may move forward
    // (never back), kept in the store so that it survives a restart.
    std::int64_t now_ms() const;
    std::int64_t clock_offset_ms() const { return clock_offset_.load(); }
    // Moves the clock forward by `ms` (> 0) in a commit of its own; `done` gets the new offset.
    void advance_clock(std::int64_t ms, std::function<void(result<std::int64_t>)> done);
    bool healthy() const;
    const std::string &data_dir() const { return dir_; }

    // Bucket configurations and hot objects the request path reads without a storage thread;
    // kept true by the writer (storage/sqlite/read_cache.hpp).
    read_cache &cache() { return cache_; }

    // Runs `fn` on the writer thread in the next group transaction. An error result (or a thrown
    // sqlite_error) undoes whatever `fn` wrote, and nothing else (store.cpp INVARIANT 1); `fn`
    // may run twice when another job of its group must be undone, so it must not act outside
    // the store. `done` runs on the writer thread after the group's COMMIT (InternalError if the
    // COMMIT failed).
    template <class T>
    void write(std::function<result<T>(write_txn &)> fn, std::function<void(result<T>)> done) {
        struct function_job final : result_job<T> {
            std::function<result<T>(write_txn &)> fn;
            std::function<void(result<T>)> done;
            result<T> compute(write_txn &t) override { return fn(t); }
            void finish(result<T> r) override { done(std::move(r)); }
        };
        auto job = std::make_unique<function_job>();
        job->fn = std::move(fn);
        job->done = std::move(done);
        submit(std::move(job));
    }

    // Queues a write job for the writer's next group (the typed form above is built on it;
    // server/store_calls.hpp derives its own jobs to save the std::function layers).
    void submit(std::unique_ptr<write_job> job);

    // Runs `fn` on a reader thread inside one read transaction; `done` runs on that thread.
    template <class T>
    void read(std::function<result<T>(read_txn &)> fn, std::function<void(result<T>)> done) {
        submit_read([fn = std::move(fn), done = std::move(done)](read_txn &t) {
            done(run_guarded<T>([&] { return fn(t); }));
        });
    }

private:
    using job_ptr = std::unique_ptr<write_job>;
    void submit_read(std::function<void(read_txn &)> job);
    void writer_loop();
    void reader_loop(int index);
    void checkpoint_loop();
    void run_group(std::vector<job_ptr> &jobs);
    // delivered: every job has its outcome; rerun: run the group again with savepoints; lost:
    // SQLite ended the transaction during jobs[culprit].
    enum class pass_end { delivered, rerun, lost };
    pass_end run_pass(std::vector<job_ptr> &jobs, const std::vector<char> &dropped,
                      std::vector<std::string> &dropped_files, bool savepoints,
                      std::size_t &culprit);
    void report_error(const std::string &what);
    void report_recovered();
    void reclaim_at_start();

    struct impl;
    std::unique_ptr<impl> impl_;
    store_options opts_;
    std::string dir_;
    std::unique_ptr<blob_store> blobs_;
    read_cache cache_;
    std::atomic<std::int64_t> committed_seq_{0};
    std::atomic<std::int64_t> clock_offset_{0};
    std::atomic<std::uint64_t> commits_{0}, jobs_{0}, wal_frames_{0}, reruns_{0};
    std::atomic<std::uint64_t> failed_commits_{0}, lost_transactions_{0};
};

} // namespace ifmatch::storage::sqlite
