// The store's threads: one writer with group commit, a reader pool, and start-up recovery.
//
// INVARIANTS
// 1. Only the writer thread writes to SQLite. A group runs its jobs one after another in one
//    transaction; a job that fails leaves nothing behind. Most failures (refused conditions,
//    missing buckets) fail before writing a row, so a group first runs without savepoints; when
//    a job fails AFTER writing, the pass is rolled back and the group runs again with each job in
//    its own SAVEPOINT w, released on success and rolled back to on failure. (A savepoint per
//    job cost about a quarter of the writer's time per PutObject.)
// 2. Outcomes are delivered only after the group's COMMIT returned: an acknowledged write is in
//    the WAL (synchronous=NORMAL: survives a process crash; FULL: survives power loss).
// 3. A blob file is written and (durability full) synced before the COMMIT of the row naming it;
//    files of rolled-back writes are removed; reclaimed files are unlinked after a grace period,
//    so a reader that picked a row from an older snapshot can still open the file.
//    A blob unlink that fails is tried again (blob_store::retry_removals), at the latest at close.
// 4. Readers never write; each owns one connection and runs each job in one read transaction.
// 5. Checkpoints run on their own thread and connection (PASSIVE: they never block the writer),
//    woken each time commits have added checkpoint_pages to the write-ahead log. A checkpoint
//    that runs beside the writer rarely catches up with it, so the log is not restarted; when it
//    reaches checkpoint_pages * 8 the writer checkpoints itself, which does catch up: the log
//    stays bounded (128 MiB of 4 KiB pages). And when a background pass ends within
//    catch_up_pages of the log's end, the writer copies that remainder at its next commit
//    (a few milliseconds), so the log restarts small and no commit waits for a large one.
// 6. SQLite may end a transaction by itself when a statement fails with FULL, IOERR, NOMEM or
//    BUSY. After every job the writer checks that its transaction still exists: if not, nothing
//    of the pass is left, the job during which it vanished is answered with its error and the
//    rest of the group runs again in a new transaction (with savepoints). No job ever runs
//    outside a transaction. A group whose COMMIT fails is answered InternalError as a whole
//    (a refusal decided inside it is not delivered: it may rest on a write that was undone).
//    Each failure episode is reported once through store_options::on_error.
#include "storage/sqlite/store.hpp"

#include "storage/sqlite/sqlite.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <sys/file.h>
#include <thread>
#include <unistd.h>
#include <iterator>
#include <unordered_set>

namespace ifmatch::storage::sqlite {

namespace fs = std::filesystem;


std::int64_t write_txn::next_seq() { return ++seq_; }

struct store::impl {
    std::unique_ptr<connection> writer_db;
    std::mutex wmu;
    std::condition_variable wcv;
    std::deque<std::unique_ptr<write_job>> wqueue;
    bool stopping = false;
    std::thread writer;
    std::int64_t seq = 0;
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::string>> pending_unlinks;

    std::mutex rmu;
    std::condition_variable rcv;
    std::deque<std::function<void(read_txn &)>> rqueue;
    bool rstopping = false;
    std::vector<std::thread> readers;

    std::mutex cmu;
    std::condition_variable ccv;
    bool checkpoint_wanted = false;
    bool checkpoint_stop = false;
    int next_checkpoint_at = 0; // writer thread only
    std::atomic<int> backfilled{-1}; // frames the last background pass checkpointed
    int last_wal_pages = 0;
    std::thread checkpointer;

    // Write failures (store::report_error): logged once per episode, not once per write.
    bool failing = false; // writer thread only
    mutable std::mutex emu;
    std::string last_error;

    int lock_fd = -1;
    bool closed = false;
    std::string temp_dir; // memory mode: removed at close
};

namespace {

std::string make_temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "ifmatch-mem-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        throw std::runtime_error("cannot create a temporary directory for --data :memory:");
    }
    return tmpl;
}

int take_lock(const std::string &dir) {
    std::string p = dir + "/LOCK";
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw std::runtime_error("cannot open " + p);
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw std::runtime_error("data directory " + dir +
                                 " is in use by another ifmatch process (lock held on " + p + ")");
    }
    return fd;
}

} // namespace

store::store(store_options opts) : impl_(std::make_unique<impl>()), opts_(std::move(opts)) {
    if (!opts_.clock) {
        opts_.clock = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
    if (opts_.memory) {
        impl_->temp_dir = make_temp_dir();
        dir_ = impl_->temp_dir;
        opts_.dur = durability::none;
    } else {
        dir_ = opts_.data_dir;
        std::error_code ec;
        fs::create_directories(dir_, ec);
        if (ec) {
            throw std::runtime_error("cannot create data directory " + dir_ + ": " + ec.message());
        }
    }
    opts_.checkpoint_pages = std::max(2, opts_.checkpoint_pages);
    impl_->next_checkpoint_at = opts_.checkpoint_pages;
    impl_->lock_fd = take_lock(dir_);
    blobs_ = std::make_unique<blob_store>(dir_);
    impl_->writer_db = std::make_unique<connection>(dir_ + "/ifmatch.db", false);
    require_known_schema(*impl_->writer_db, "data directory " + dir_);
    configure(*impl_->writer_db, opts_.dur, true);
    if (opts_.writer_cache_pages > 0) {
        impl_->writer_db->exec("PRAGMA cache_size = " + std::to_string(opts_.writer_cache_pages));
    }
    migrate(*impl_->writer_db);
    {
        query q(*impl_->writer_db, "SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'seq'");
        impl_->seq = q->step() ? q->column_int(0) : 0;
    }
    {
        query q(*impl_->writer_db, "SELECT CAST(v AS INTEGER) FROM meta WHERE k = 'clock_offset_ms'");
        clock_offset_ = q->step() ? q->column_int(0) : 0;
    }
    committed_seq_ = impl_->seq;
    reclaim_at_start();
    impl_->writer_db->on_wal_commit([this](int pages) {
        const int checkpoint_pages = opts_.checkpoint_pages;
        const int catch_up_pages = checkpoint_pages / 2;
        auto &next = impl_->next_checkpoint_at;
        if (pages < impl_->last_wal_pages) {
            next = checkpoint_pages; // the log was restarted after a complete checkpoint
            wal_frames_ += static_cast<std::uint64_t>(pages);
        } else {
            wal_frames_ += static_cast<std::uint64_t>(pages - impl_->last_wal_pages);
        }
        impl_->last_wal_pages = pages;
        // Frames the last background pass left behind: when few, the writer copies them now, so
        // the log restarts small instead of growing to the bound (INVARIANT 5).
        int done = impl_->backfilled.exchange(-1);
        bool catch_up = done >= 0 && pages >= checkpoint_pages && pages - done <= catch_up_pages;
        if (catch_up || pages >= checkpoint_pages * 8) {
            try {
                impl_->writer_db->checkpoint(false);
            } catch (const std::exception &) {
                // Nothing is lost: the frames stay in the log for the next checkpoint. (This
                // runs inside SQLite's COMMIT: no exception may cross it.)
            }
            next = checkpoint_pages;
        } else if (pages >= next) {
            next = pages + checkpoint_pages;
            std::lock_guard lk(impl_->cmu);
            impl_->checkpoint_wanted = true;
            impl_->ccv.notify_one();
        }
    });
    impl_->checkpointer = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "ifm-checkpoint");
        checkpoint_loop();
    });
    impl_->writer = std::thread([this] {
        ::pthread_setname_np(::pthread_self(), "ifm-writer");
        writer_loop();
    });
    for (int i = 0; i < std::max(1, opts_.reader_threads); ++i) {
        impl_->readers.emplace_back([this, i] {
            ::pthread_setname_np(::pthread_self(), "ifm-reader");
            reader_loop(i);
        });
    }
}

store::~store() { close(); }

std::int64_t store::now_ms() const { return opts_.clock() + clock_offset_.load(); }

void store::advance_clock(std::int64_t ms, std::function<void(result<std::int64_t>)> done) {
    write<std::int64_t>(
        [this, ms](write_txn &t) -> result<std::int64_t> {
            if (ms <= 0) {
                return protocol::s3_error(protocol::s3_errc::invalid_argument,
                                          "The clock only moves forward.");
            }
            std::int64_t offset = clock_offset_.load() + ms;
            query q(t.db, "INSERT OR REPLACE INTO meta(k, v) VALUES('clock_offset_ms', ?)");
            q->bind(1, std::to_string(offset));
            q->step();
            return offset;
        },
        [this, done = std::move(done)](result<std::int64_t> r) {
            if (r) {
                clock_offset_.store(*r); // after COMMIT: no write sees it before it is durable
            }
            done(std::move(r));
        });
}

bool store::healthy() const {
    std::lock_guard lk(impl_->wmu);
    return !impl_->stopping && ::access(dir_.c_str(), W_OK) == 0;
}

void store::close() {
    if (impl_->closed) {
        return;
    }
    impl_->closed = true;
    {
        std::lock_guard lk(impl_->rmu);
        impl_->rstopping = true;
    }
    impl_->rcv.notify_all();
    for (auto &t : impl_->readers) {
        t.join();
    }
    {
        std::lock_guard lk(impl_->wmu);
        impl_->stopping = true;
    }
    impl_->wcv.notify_all();
    impl_->writer.join();
    {
        std::lock_guard lk(impl_->cmu);
        impl_->checkpoint_stop = true;
    }
    impl_->ccv.notify_all();
    impl_->checkpointer.join();
    for (auto &[when, file] : impl_->pending_unlinks) {
        blobs_->remove(file);
    }
    blobs_->retry_removals();
    try {
        impl_->writer_db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const sqlite_error &) {
        // A failed checkpoint loses nothing: the WAL is replayed at the next open.
    }
    impl_->writer_db.reset();
    ::close(impl_->lock_fd);
    if (!impl_->temp_dir.empty()) {
        std::error_code ec;
        fs::remove_all(impl_->temp_dir, ec);
    }
}

void store::submit(std::unique_ptr<write_job> job) {
    {
        std::lock_guard lk(impl_->wmu);
        if (!impl_->stopping) {
            impl_->wqueue.push_back(std::move(job));
            impl_->wcv.notify_one();
            return;
        }
    }
    // The store is closing: refuse instead of queueing work nobody will run.
    job->deliver(false);
}

void store::submit_read(std::function<void(read_txn &)> job) {
    {
        std::lock_guard lk(impl_->rmu);
        impl_->rqueue.push_back(std::move(job));
    }
    impl_->rcv.notify_one();
}

void store::writer_loop() {
    std::vector<job_ptr> batch;
    auto last_retry = std::chrono::steady_clock::now();
    for (;;) {
        {
            std::unique_lock lk(impl_->wmu);
            impl_->wcv.wait_for(lk, std::chrono::seconds(1),
                                [&] { return impl_->stopping || !impl_->wqueue.empty(); });
            if (impl_->wqueue.empty() && impl_->stopping) {
                return;
            }
            while (!impl_->wqueue.empty() && batch.size() < 512) {
                batch.push_back(std::move(impl_->wqueue.front()));
                impl_->wqueue.pop_front();
            }
        }
        if (!batch.empty()) {
            run_group(batch);
            batch.clear();
        }
        auto now = std::chrono::steady_clock::now();
        while (!impl_->pending_unlinks.empty() &&
               now - impl_->pending_unlinks.front().first > std::chrono::seconds(5)) {
            blobs_->remove(impl_->pending_unlinks.front().second);
            impl_->pending_unlinks.pop_front();
        }
        if (now - last_retry > std::chrono::seconds(1)) {
            blobs_->retry_removals(); // unlinks that failed (INVARIANT 3)
            last_retry = now;
        }
    }
}

void store::run_group(std::vector<job_ptr> &jobs) {
    std::vector<char> dropped(jobs.size(), 0);
    std::vector<std::string> dropped_files;
    bool savepoints = false;
    for (;;) {
        std::size_t culprit = 0;
        switch (run_pass(jobs, dropped, dropped_files, savepoints, culprit)) {
        case pass_end::delivered:
            for (auto &f : dropped_files) {
                blobs_->remove(f);
            }
            return;
        case pass_end::lost:
            // SQLite ended the transaction by itself during this job (INVARIANT 6): the job is
            // answered with its error, the others run again in a new transaction.
            dropped[culprit] = 1;
            ++lost_transactions_;
            [[fallthrough]];
        case pass_end::rerun:
            ++reruns_;
            savepoints = true;
            break;
        }
    }
}

store::pass_end store::run_pass(std::vector<job_ptr> &jobs, const std::vector<char> &dropped,
                                std::vector<std::string> &dropped_files, bool savepoints,
                                std::size_t &culprit) {
    connection &db = *impl_->writer_db;
    std::vector<std::string> files, reclaim, refused_files;
    std::vector<cache_change> changed;
    std::vector<bucket_info> bucket_memo; // write_txn::bucket_memo, for this pass only
    std::int64_t seq_before = impl_->seq;
    bool committed = false;
    std::string error;
    // Undoes the pass without delivering anything: its jobs run again.
    auto abandon = [&] {
        try {
            db.exec("ROLLBACK");
        } catch (const std::exception &) {
            // SQLite rolled the transaction back already.
        }
        impl_->seq = seq_before;
    };
    try {
        db.run("BEGIN IMMEDIATE");
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            if (dropped[i]) {
                continue;
            }
            auto &job = jobs[i];
            write_txn t(db, *blobs_, now_ms(), impl_->seq);
            t.bucket_memo = &bucket_memo;
            t.cache = &cache_;
            if (savepoints) {
                db.run("SAVEPOINT w");
            }
            auto changes_before = db.total_changes();
            bool stands = job->run(t);
            if (!db.in_transaction()) {
                // SQLite rolled the whole transaction back (FULL, IOERR, NOMEM, ...): nothing of
                // this pass is left, and no later job may run outside a transaction.
                error = "the store's transaction was rolled back by SQLite";
                impl_->seq = seq_before;
                culprit = i;
                dropped_files.insert(dropped_files.end(), t.job_files_.begin(),
                                     t.job_files_.end());
                report_error(error);
                return pass_end::lost;
            }
            // The job's files are accounted for before any statement that may throw.
            auto &job_files = stands ? files : refused_files;
            job_files.insert(job_files.end(), t.job_files_.begin(), t.job_files_.end());
            if (stands) {
                if (savepoints) {
                    db.run("RELEASE w");
                }
                std::move(t.changes_.begin(), t.changes_.end(), std::back_inserter(changed));
                reclaim.insert(reclaim.end(), t.reclaim_.begin(), t.reclaim_.end());
                continue;
            }
            bucket_memo.clear(); // it may hold rows this job read after changing them
            if (savepoints) {
                db.run("ROLLBACK TO w");
                db.run("RELEASE w");
            } else if (db.total_changes() != changes_before) {
                // A failure that wrote rows can only be undone with a savepoint: undo the whole
                // pass and run the group again with one per job (INVARIANT 1).
                abandon();
                return pass_end::rerun; // nothing removed: every job runs again
            }
        }
        if (opts_.dur == durability::full) {
            for (auto &f : files) {
                if (!blobs_->sync(f)) {
                    throw std::runtime_error("a blob file could not be synced");
                }
            }
        }
        query q(db, "UPDATE meta SET v = ? WHERE k = 'seq'");
        q->bind(1, std::to_string(impl_->seq));
        q->step();
        db.run("COMMIT");
        committed = true;
    } catch (const std::exception &e) {
        error = e.what();
        abandon();
        ++failed_commits_;
        report_error(error);
        for (auto &f : files) {
            blobs_->remove(f);
        }
        reclaim.clear();
    }
    for (auto &f : refused_files) {
        blobs_->remove(f);
    }
    if (committed) {
        cache_.apply(changed); // before any outcome is delivered (read_cache.hpp RULE 1)
        committed_seq_ = impl_->seq;
        ++commits_;
        jobs_ += jobs.size();
        auto now = std::chrono::steady_clock::now();
        for (auto &f : reclaim) {
            impl_->pending_unlinks.emplace_back(now, std::move(f));
        }
        report_recovered();
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        jobs[i]->deliver(committed && !dropped[i]);
    }
    return pass_end::delivered;
}

void store::report_error(const std::string &what) {
    {
        std::lock_guard lk(impl_->emu);
        impl_->last_error = what;
    }
    if (!impl_->failing) {
        impl_->failing = true;
        if (opts_.on_error) {
            opts_.on_error("store: a write could not be committed: " + what);
        }
    }
}

void store::report_recovered() {
    if (impl_->failing) {
        impl_->failing = false;
        if (opts_.on_error) {
            opts_.on_error("store: writes commit again");
        }
    }
}

std::string store::last_error() const {
    std::lock_guard lk(impl_->emu);
    return impl_->last_error;
}

void store::reader_loop(int) {
    connection db(dir_ + "/ifmatch.db", true);
    configure(db, opts_.dur, false);
    for (;;) {
        std::function<void(read_txn &)> job;
        {
            std::unique_lock lk(impl_->rmu);
            impl_->rcv.wait(lk, [&] { return impl_->rstopping || !impl_->rqueue.empty(); });
            if (impl_->rqueue.empty()) {
                return;
            }
            job = std::move(impl_->rqueue.front());
            impl_->rqueue.pop_front();
        }
        read_txn t{db, *blobs_};
        bool in_txn = false;
        try {
            db.run("BEGIN");
            in_txn = true;
        } catch (const std::exception &) {
            in_txn = false;
        }
        job(t);
        if (in_txn) {
            try {
                db.run("COMMIT");
            } catch (const std::exception &) {
                // A read transaction has nothing to lose; the next BEGIN starts afresh.
            }
        }
    }
}

void store::checkpoint_loop() {
    std::unique_ptr<connection> db;
    try {
        db = std::make_unique<connection>(dir_ + "/ifmatch.db", false);
        configure(*db, opts_.dur, false);
    } catch (const std::exception &) {
        db.reset(); // the writer's own bound checkpoint (INVARIANT 5) still holds the log
    }
    for (;;) {
        {
            std::unique_lock lk(impl_->cmu);
            impl_->ccv.wait(lk, [&] { return impl_->checkpoint_stop || impl_->checkpoint_wanted; });
            if (impl_->checkpoint_stop) {
                return;
            }
            impl_->checkpoint_wanted = false;
        }
        if (db) {
            try {
                impl_->backfilled.store(db->checkpoint(false).second);
            } catch (const std::exception &) {
                // Nothing is lost: the frames stay in the log for the next checkpoint.
            }
        }
    }
}

void store::reclaim_at_start() {
    connection &db = *impl_->writer_db;
    db.exec("BEGIN IMMEDIATE");
    // Bodies whose reference count dropped to zero but whose row survived (never expected; kept
    // as a safety net), then blob files that no body row names.
    db.exec("DELETE FROM bodies WHERE refs <= 0");
    std::unordered_set<std::string> known;
    {
        query q(db, "SELECT file FROM bodies WHERE file IS NOT NULL");
        while (q->step()) {
            known.insert(q->column_text(0));
        }
    }
    db.exec("COMMIT");
    for (auto &f : blobs_->list()) {
        if (!known.count(f)) {
            blobs_->remove(f);
        }
    }
}

} // namespace ifmatch::storage::sqlite
