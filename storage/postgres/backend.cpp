// The PostgreSQL backend's object_store calls (see backend.hpp).
#include "storage/postgres/backend.hpp"

#include "storage/postgres/blob_dir.hpp"
#include "storage/postgres/bodies.hpp"
#include "storage/postgres/operations.hpp"
#include "storage/postgres/schema.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>
#include <unistd.h>

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

// Threads running the backend's I/O context: two where there are two cores or more. With one,
// every job's own work (building statements, reading rows, deciding) waited its turn, and a
// transaction holding a key's lock waited for it before its next statement (bench/RESULTS.md).
int pool_threads(int asked) {
    if (asked > 0)
        return asked;
    return std::thread::hardware_concurrency() >= 2 ? 2 : 1;
}

s3_error internal(const std::exception &e) {
    return s3_error(s3_errc::internal_error, std::string("The store failed: ") + e.what());
}

s3_error error_of(const pg_error &e) { return e.connection_lost() ? unavailable() : internal(e); }

template <class T> bool refused(const result<T> &r) {
    return r.has_error() && protocol::is_refusal(r.error().code);
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Rolls back what a failed or refused transaction began and, unless it runs again
// (`keep_bodies`), drops the staged bodies it adopted. The statements still queued are dropped
// unsent, and nothing waits for the ROLLBACK: the next round trip on the connection (a rerun's
// BEGIN, another job's first statement) reaches PostgreSQL after it.
task<void> abandon(write_txn &t, bool keep_bodies = false) {
    try {
        t.c.discard();
        if (t.c.ok()) {
            t.c.queue("ROLLBACK");
            if (!keep_bodies) {
                for (auto id : t.staged)
                    queue_drop_staged(t.c, id);
            }
            auto forget_call = t.c.async_forget();
            co_await std::move(forget_call);
        }
    } catch (const pg_error &) {
        // A lost connection: PostgreSQL rolls the transaction back; the janitor (below) removes
        // staged bodies left behind.
    }
}

// Ends a read-only transaction whose reads are done. Nothing waits for the COMMIT: it cannot
// change what was read, and the next round trip on the connection reads its answer.
task<void> end_read(connection &c) {
    c.queue("COMMIT");
    auto forget_call = c.async_forget();
    co_await std::move(forget_call);
}

// Replaces a job's connection that was found lost by a newly opened one (never a spare: after a
// restart of PostgreSQL the spares are lost too). False when none can be opened.
task<bool> reconnect(const std::string &uri, std::unique_ptr<connection> &c) {
    c.reset();
    try {
        auto open_call = connection::open(uri);
        c = co_await std::move(open_call);
    } catch (const pg_error &) {
    }
    co_return c != nullptr;
}

// Waits `ms` on the coroutine's I/O context.
task<void> pause(int ms) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                std::chrono::milliseconds(ms));
    boost::system::error_code ec;
    auto wait_call = t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    co_await std::move(wait_call);
}

// The janitor's advisory lock: one replica at a time does the background work.
constexpr const char *janitor_lock = "7238451197";

} // namespace

backend::backend(options o) : opts_(std::move(o)) {
    // libpq waits forever for an unreachable host unless told otherwise; a URI may still set it.
    ::setenv("PGCONNECT_TIMEOUT", "5", 0);
    {
        connection c(opts_.uri); // throws pg_error (a runtime_error) with libpq's reason
        migrate(c);
        auto r = c.run("SELECT v::bigint FROM ifmatch_meta WHERE k = 'clock_offset_ms'");
        offset_ = r.i64(0, 0);
    }
    if (!opts_.blob_dir.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(opts_.blob_dir, ec);
        if (!std::filesystem::is_directory(opts_.blob_dir)) {
            throw std::runtime_error("--blob-dir " + opts_.blob_dir + " is not a directory");
        }
    }
    holder_ = new_version_id(wall_ms(), ::getpid()); // unique enough to name this process
    pool_ = std::make_shared<pool>(opts_.uri, opts_.pool_size, pool_threads(opts_.pool_threads));
    snaps_ = std::make_unique<snapshot_service>(*pool_);
    janitor_ = boost::asio::co_spawn(pool_->executor(), janitor(), boost::asio::use_future);
}

backend::~backend() { close(); }

void backend::close() {
    if (closing_.exchange(true)) {
        return;
    }
    pool_->drain(); // the jobs still queued run (their writes may wait for snapshots)
    if (janitor_.valid())
        janitor_.wait();
    snaps_->close();
    pool_->close();
}

bool backend::healthy() const { return !closing_ && pool_->healthy(); }

store_stats backend::stats() const {
    store_stats s;
    s.commits = commits_;
    s.jobs = jobs_;
    s.reruns = reruns_;
    s.failed_commits = failed_;
    s.lost_transactions = lost_;
    s.statements = statements_sent();
    s.round_trips = round_trips();
    return s;
}

std::string backend::describe() const {
    // Never a password in a log line.
    return std::regex_replace(opts_.uri, std::regex(":[^:@/]*@"), ":***@");
}

std::size_t backend::inline_limit() const { return opts_.inline_limit; }
std::int64_t backend::now_ms() const { return wall_ms() + offset_.load(); }
std::int64_t backend::clock_offset_ms() const { return offset_.load(); }

start_token backend::start() const {
    // The snapshot is taken by the snapshot thread right after this call (pool.hpp); the write
    // waits for it only when it decides.
    return start_token{0, snaps_->request()};
}

std::unique_ptr<body_sink> backend::new_body() {
    return new_sink(pool_, opts_.inline_limit, opts_.blob_dir);
}

// ---- running jobs -----------------------------------------------------------------------------

template <class T>
void backend::read(std::function<task<result<T>>(connection &)> fn, done_fn<T> done) {
    ++jobs_;
    pool_->submit([this, fn = std::move(fn),
                   done = std::move(done)](std::unique_ptr<connection> &c) -> task<void> {
        if (!c) {
            done(unavailable());
            co_return;
        }
        std::optional<result<T>> r;
        for (int attempt = 0;; ++attempt) {
            bool lost = false;
            try {
                auto fn_call = fn(*c);
                r.emplace(co_await std::move(fn_call));
            } catch (const pg_error &e) {
                lost = e.connection_lost();
                r.emplace(error_of(e));
            } catch (const std::exception &e) {
                r.emplace(internal(e));
            }
            // A connection that died while idle (PostgreSQL restarted): a read runs again
            // once on a new one.
            if (lost && attempt == 0) {
                auto reconnect_call = reconnect(pool_->uri(), c);
                if (co_await std::move(reconnect_call)) {
                    ++reruns_;
                    continue;
                }
            }
            break;
        }
        done(std::move(*r));
    });
}

template <class T>
void backend::write(std::function<task<result<T>>(write_txn &, std::optional<current_state> *)> fn,
                    std::function<void(result<T>, std::optional<current_state>)> finish,
                    std::string bucket, std::string key) {
    ++jobs_;
    pool_->submit([this, fn = std::move(fn), finish = std::move(finish), bucket = std::move(bucket),
                   key = std::move(key)](std::unique_ptr<connection> &c) -> task<void> {
        if (!c) {
            finish(unavailable(), std::nullopt);
            co_return;
        }
        for (int attempt = 0;; ++attempt) {
            write_txn t{*c, 0, 0, 0, {}};
            std::optional<current_state> against;
            std::optional<result<T>> r;
            std::optional<pg_error> failed;
            std::string broke; // another exception's text
            try {
                // BEGIN travels with the transaction's first statements (pg.hpp).
                c->queue("BEGIN");
                auto fn_call = fn(t, &against);
                r.emplace(co_await std::move(fn_call));
                if (r->has_error()) {
                    c->discard(); // writes queued before the refusal are not sent
                    if (refused(*r) && !against && !key.empty()) {
                        auto capture_current_call = capture_current(*c, bucket, key);
                        against = co_await std::move(capture_current_call);
                    }
                }
            } catch (const pg_error &e) {
                failed.emplace(e);
            } catch (const std::exception &e) {
                broke = e.what();
            }
            if (failed) {
                // A serialization failure or deadlock runs the write again; so does a connection
                // lost before the COMMIT was sent (nothing can have committed), on a new one.
                const bool lost = failed->connection_lost();
                bool again = (failed->retryable() || lost) && attempt < 8;
                auto abandon_call = abandon(t, again);
                co_await std::move(abandon_call);
                if (again && lost) {
                    auto reconnect_call = reconnect(pool_->uri(), c);
                    again = co_await std::move(reconnect_call);
                }
                if (again) {
                    ++reruns_;
                    continue;
                }
                ++failed_;
                finish(error_of(*failed), std::nullopt);
                co_return;
            }
            if (!broke.empty()) {
                auto abandon_call2 = abandon(t);
                co_await std::move(abandon_call2);
                ++failed_;
                finish(internal(std::runtime_error(broke)), std::nullopt);
                co_return;
            }
            if (r->has_error()) {
                auto abandon_call3 = abandon(t);
                co_await std::move(abandon_call3);
                finish(std::move(*r), std::move(against));
                co_return;
            }
            bool commit_sent = false;
            try {
                // The writes still queued travel with the COMMIT: one round trip. The
                // transaction's id is known before it is sent, for the lookup below.
                if (t.xid == 0) {
                    auto run_call = c->async_run("SELECT pg_current_xact_id()::text::bigint");
                    auto x = co_await std::move(run_call);
                    t.xid = x.i64(0, 0);
                }
                commit_sent = true;
                auto exec_call = c->async_exec("COMMIT");
                co_await std::move(exec_call);
            } catch (const pg_error &e) {
                failed.emplace(e);
            }
            if (failed && failed->connection_lost()) {
                // A COMMIT lost with its connection: look the transaction up on a new one.
                // Lost before the COMMIT was sent, it cannot have committed.
                ++lost_;
                c.reset();
                std::string status = "aborted";
                if (commit_sent) {
                    auto status_call = commit_status(t.xid);
                    status = co_await std::move(status_call);
                }
                if (status == "committed") {
                    ++commits_;
                    finish(std::move(*r), std::move(against));
                    co_return;
                }
                if (status == "aborted" && attempt < 8) {
                    try {
                        auto take_call = pool_->take();
                        c = co_await std::move(take_call); // nothing happened: run it again
                    } catch (const pg_error &) {
                    }
                    if (c) {
                        ++reruns_;
                        continue;
                    }
                }
                // Never guessed: the client reads the key before it retries.
                finish(s3_error(s3_errc::service_unavailable,
                                "The store's database went away while this write "
                                "committed and its outcome could not be looked up; read "
                                "the key before retrying."),
                       std::nullopt);
                co_return;
            }
            if (failed) {
                // A write that failed in the COMMIT's round trip (or the COMMIT itself): nothing
                // committed. A serialization failure or deadlock runs the write again.
                const bool again = failed->retryable() && attempt < 8;
                auto abandon_call4 = abandon(t, again);
                co_await std::move(abandon_call4);
                if (again) {
                    ++reruns_;
                    continue;
                }
                ++failed_;
                finish(internal(*failed), std::nullopt);
                co_return;
            }
            ++commits_;
            if (t.clock_offset_ms > offset_.load())
                offset_ = t.clock_offset_ms;
            // A committed refusal (Complete's 409, D8) carries the state it was decided against.
            finish(std::move(*r), std::move(against));
            co_return;
        }
    });
}

template <class T>
void backend::write_plain(std::function<task<result<T>>(write_txn &)> fn, done_fn<T> done) {
    write<T>([fn = std::move(fn)](write_txn &t, std::optional<current_state> *) { return fn(t); },
             [done = std::move(done)](result<T> r, std::optional<current_state>) {
                 done(std::move(r));
             });
}

namespace {

template <class T> auto decided(decided_fn<T> done) {
    return [done = std::move(done)](result<T> r, std::optional<current_state> against) {
        write_outcome<T> o{std::move(r), {}};
        bool refusal = o.value.has_error() && protocol::is_refusal(o.value.error().code);
        if constexpr (std::is_same_v<T, complete_result>) {
            refusal = refusal || (o.value.has_value() && o.value->refusal.has_value());
        }
        if (refusal)
            o.refused_against = std::move(against);
        done(std::move(o));
    };
}

} // namespace

task<std::string> backend::commit_status(std::int64_t xid) {
    // 'in progress' until the server notices the lost session and aborts it.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until && !closing_) {
        try {
            auto take_call = pool_->take();
            auto c = co_await std::move(take_call);
            auto run_call = c->async_run("SELECT pg_xact_status($1::text::xid8)", xid);
            auto r = co_await std::move(run_call);
            std::string status = r.null(0, 0) ? "" : r.text(0, 0);
            pool_->give(std::move(c));
            if (status == "committed" || status == "aborted")
                co_return status;
        } catch (const pg_error &) {
        }
        auto pause_call = pause(200);
        co_await std::move(pause_call);
    }
    co_return "";
}

// ---- clock ------------------------------------------------------------------------------------

void backend::advance_clock(std::int64_t ms, done_fn<std::int64_t> done) {
    write_plain<std::int64_t>(
        [this, ms](write_txn &t) -> task<result<std::int64_t>> {
            auto run_call = t.c.async_run("UPDATE ifmatch_meta SET v = (v::bigint + $1)::text "
                                          "WHERE k = 'clock_offset_ms' RETURNING v::bigint",
                                          ms);
            auto r = co_await std::move(run_call);
            t.clock_offset_ms = r.i64(0, 0);
            offset_ = std::max(offset_.load(), t.clock_offset_ms);
            co_return t.clock_offset_ms;
        },
        std::move(done));
}

// ---- buckets ----------------------------------------------------------------------------------

void backend::create_bucket(std::string name, std::string region, string_pairs settings,
                            done_fn<create_bucket_result> done) {
    write_plain<create_bucket_result>(
        [name = std::move(name), region = std::move(region), settings = std::move(settings)](
            write_txn &t) { return postgres::create_bucket(t, name, region, settings); },
        std::move(done));
}

void backend::delete_bucket(std::string name, done_fn<bool> done) {
    write_plain<bool>(
        [name = std::move(name)](write_txn &t) { return postgres::delete_bucket(t, name); },
        std::move(done));
}

void backend::get_bucket(std::string name, done_fn<bucket_info> done) {
    read<bucket_info>(
        [name = std::move(name)](connection &c) { return postgres::get_bucket(c, name); },
        std::move(done));
}

void backend::list_buckets(done_fn<std::vector<bucket_info>> done) {
    read<std::vector<bucket_info>>([](connection &c) { return postgres::list_buckets(c); },
                                   std::move(done));
}

void backend::get_bucket_config(std::string name,
                                done_fn<std::shared_ptr<const bucket_config>> done) {
    using config_ptr = std::shared_ptr<const bucket_config>;
    // Read fresh on every request: another replica may have changed it.
    read<config_ptr>(
        [name = std::move(name)](connection &c) -> task<result<config_ptr>> {
            auto get_bucket_config_call = postgres::get_bucket_config(c, name);
            auto r = co_await std::move(get_bucket_config_call);
            if (r.has_error())
                co_return r.error();
            co_return config_ptr(std::make_shared<const bucket_config>(std::move(*r)));
        },
        std::move(done));
}

std::shared_ptr<const bucket_config> backend::peek_bucket_config(const std::string &) {
    return nullptr; // no replica-local cache
}

void backend::set_bucket_versioning(std::string name, std::string status, done_fn<bool> done) {
    write_plain<bool>(
        [name = std::move(name), status = std::move(status)](write_txn &t) {
            return set_bucket_column(t, name, "versioning", status);
        },
        std::move(done));
}

void backend::set_bucket_require_conditions(std::string name, bool on, done_fn<bool> done) {
    write_plain<bool>(
        [name = std::move(name), on](write_txn &t) {
            return set_bucket_column(t, name, "require_conditions", on ? "true" : "false");
        },
        std::move(done));
}

void backend::set_bucket_policy(std::string name, std::string policy, done_fn<bool> done) {
    write_plain<bool>([name = std::move(name), policy = std::move(policy)](
                          write_txn &t) { return set_bucket_column(t, name, "policy", policy); },
                      std::move(done));
}

void backend::set_bucket_setting(std::string name, std::string setting, std::string value,
                                 done_fn<bool> done) {
    write_plain<bool>(
        [name = std::move(name), setting = std::move(setting), value = std::move(value)](
            write_txn &t) { return postgres::set_bucket_setting(t, name, setting, value); },
        std::move(done));
}

// ---- objects ----------------------------------------------------------------------------------

void backend::put_object(put_request r, decided_fn<write_result> done) {
    std::string bucket = r.bucket, key = r.key;
    write<write_result>(
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return postgres::put_object(t, r, against);
        },
        decided(std::move(done)), std::move(bucket), std::move(key));
}

void backend::copy_object(copy_request r, decided_fn<write_result> done) {
    std::string bucket = r.bucket, key = r.key;
    write<write_result>(
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return postgres::copy_object(t, r, against);
        },
        decided(std::move(done)), std::move(bucket), std::move(key));
}

void backend::delete_object(delete_request r, decided_fn<delete_result> done) {
    std::string bucket = r.bucket, key = r.key;
    write<delete_result>(
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return postgres::delete_object(t, r, against);
        },
        decided(std::move(done)), std::move(bucket), std::move(key));
}

void backend::get_object(get_request r, done_fn<object_read> done) {
    ++jobs_;
    std::weak_ptr<pool> weak = pool_;
    pool_->submit([this, r = std::move(r), done = std::move(done), weak, uri = pool_->uri(),
                   blob_dir = opts_.blob_dir](std::unique_ptr<connection> &c) -> task<void> {
        if (!c) {
            done(unavailable());
            co_return;
        }
        std::optional<result<object_read>> out;
        bool rollback = false;
        for (int attempt = 0;; ++attempt) {
            bool lost = false;
            out.reset();
            try {
                // The body is read in this snapshot, which keeps seeing it even if a commit on any
                // replica releases it meanwhile (bodies.hpp). BEGIN travels with the reads.
                c->queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
                auto read_for_get_call = read_for_get(*c, r);
                auto got = co_await std::move(read_for_get_call);
                if (got.has_error()) {
                    out.emplace(got.error());
                } else if (r.open_body && got->version.body_id != 0 &&
                           !got->version.delete_marker && got->pieces.empty()) {
                    out.emplace(
                        s3_error(s3_errc::internal_error, "The object's stored body is missing."));
                } else {
                    object_read o;
                    o.version = std::move(got->version);
                    o.bucket = std::make_shared<const bucket_config>(std::move(got->bucket));
                    if (r.part_sizes && o.version.parts_count > 1) {
                        o.part_sizes = std::move(got->part_sizes);
                    }
                    const bool stream = needs_stream(got->pieces);
                    o.segments = segments_of(std::move(got->pieces), c, weak, blob_dir);
                    if (!stream) {
                        auto end_call = end_read(*c);
                        co_await std::move(end_call);
                    }
                    out.emplace(std::move(o));
                }
                if (c && out->has_error()) {
                    auto end_call = end_read(*c);
                    co_await std::move(end_call);
                }
            } catch (const pg_error &e) {
                rollback = true;
                lost = e.connection_lost();
                out.emplace(error_of(e));
            } catch (const std::exception &e) {
                if (c)
                    c->discard();
                out.emplace(internal(e));
            }
            // A connection that died while idle: the GET runs again once on a new one.
            if (lost && attempt == 0) {
                auto reconnect_call = reconnect(uri, c);
                if (co_await std::move(reconnect_call)) {
                    rollback = false;
                    ++reruns_;
                    continue;
                }
            }
            break;
        }
        if (rollback && c && c->ok()) {
            try {
                c->discard();
                c->queue("ROLLBACK");
                auto forget_call = c->async_forget();
                co_await std::move(forget_call);
            } catch (const pg_error &) {
            }
        }
        done(std::move(*out));
    });
}

std::shared_ptr<const cached_object> backend::peek_object(const std::string &,
                                                          const std::string &) {
    return nullptr; // no replica-local cache: read-after-write holds on every replica
}

void backend::list_objects(list_request r, done_fn<list_page> done) {
    read<list_page>([r = std::move(r)](connection &c) { return postgres::list_objects(c, r); },
                    std::move(done));
}

void backend::list_versions(list_versions_request r, done_fn<list_versions_page> done) {
    read<list_versions_page>(
        [r = std::move(r)](connection &c) { return postgres::list_versions(c, r); },
        std::move(done));
}

void backend::set_version_extra(version_extra_request r, done_fn<object_version> done) {
    write_plain<object_version>(
        [r = std::move(r)](write_txn &t) { return postgres::set_version_extra(t, r); },
        std::move(done));
}

void backend::body_part_sizes(std::int64_t body_id, done_fn<std::vector<std::uint64_t>> done) {
    read<std::vector<std::uint64_t>>(
        [body_id](connection &c) -> task<result<std::vector<std::uint64_t>>> {
            auto part_sizes_call = part_sizes(c, body_id);
            co_return co_await std::move(part_sizes_call);
        },
        std::move(done));
}

// ---- multipart uploads ------------------------------------------------------------------------

void backend::create_upload(create_upload_request r, done_fn<upload_info> done) {
    write_plain<upload_info>(
        [r = std::move(r)](write_txn &t) { return postgres::create_upload(t, r); },
        std::move(done));
}

void backend::find_upload(std::string bucket, std::string key, std::string upload_id,
                          done_fn<upload_info> done) {
    read<upload_info>(
        [bucket = std::move(bucket), key = std::move(key), upload_id = std::move(upload_id)](
            connection &c) { return postgres::find_upload(c, bucket, key, upload_id); },
        std::move(done));
}

void backend::put_part(upload_part_request r, done_fn<part_info> done) {
    write_plain<part_info>([r = std::move(r)](write_txn &t) { return postgres::put_part(t, r); },
                           std::move(done));
}

void backend::complete_upload(complete_request r, decided_fn<complete_result> done) {
    std::string bucket = r.bucket, key = r.key;
    write<complete_result>(
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return postgres::complete_upload(t, r, against);
        },
        decided(std::move(done)), std::move(bucket), std::move(key));
}

void backend::abort_upload(std::string bucket, std::string key, std::string upload_id,
                           done_fn<bool> done) {
    write_plain<bool>(
        [bucket = std::move(bucket), key = std::move(key), upload_id = std::move(upload_id)](
            write_txn &t) { return postgres::abort_upload(t, bucket, key, upload_id); },
        std::move(done));
}

void backend::list_parts(list_parts_request r, done_fn<list_parts_page> done) {
    read<list_parts_page>([r = std::move(r)](connection &c) { return postgres::list_parts(c, r); },
                          std::move(done));
}

void backend::list_uploads(list_uploads_request r, done_fn<list_uploads_page> done) {
    read<list_uploads_page>(
        [r = std::move(r)](connection &c) { return postgres::list_uploads(c, r); },
        std::move(done));
}

// ---- history and totals -----------------------------------------------------------------------

void backend::key_versions(std::string bucket, std::string key,
                           done_fn<std::vector<object_version>> done) {
    read<std::vector<object_version>>(
        [bucket = std::move(bucket), key = std::move(key)](connection &c) {
            return postgres::key_versions(c, bucket, key);
        },
        std::move(done));
}

void backend::bucket_keys(std::string bucket, std::string after, std::size_t limit,
                          done_fn<std::vector<object_version>> done) {
    read<std::vector<object_version>>(
        [bucket = std::move(bucket), after = std::move(after), limit](connection &c) {
            return postgres::bucket_keys(c, bucket, after, limit);
        },
        std::move(done));
}

void backend::current_state_of(std::string bucket, std::string key, done_fn<current_state> done) {
    read<current_state>(
        [bucket = std::move(bucket),
         key = std::move(key)](connection &c) -> task<result<current_state>> {
            auto capture_current_call = capture_current(c, bucket, key);
            co_return co_await std::move(capture_current_call);
        },
        std::move(done));
}

void backend::append_events(std::vector<event_row> rows, std::size_t keep, done_fn<bool> done) {
    write_plain<bool>([rows = std::move(rows),
                       keep](write_txn &t) { return postgres::append_events(t, rows, keep); },
                      std::move(done));
}

void backend::recent_events(std::size_t limit, done_fn<std::vector<event_row>> done) {
    read<std::vector<event_row>>(
        [limit](connection &c) { return postgres::recent_events(c, limit); }, std::move(done));
}

void backend::stored_totals(done_fn<store_totals> done) {
    read<store_totals>([](connection &c) { return postgres::stored_totals(c); }, std::move(done));
}

void backend::lead(std::string task, std::int64_t ttl_ms, done_fn<bool> done) {
    write_plain<bool>(
        [this, name = std::move(task), ttl_ms](write_txn &t) -> postgres::task<result<bool>> {
            auto begin_call = begin(t);
            co_await std::move(begin_call);
            // Taken when free or expired, renewed by its holder; the database's clock judges.
            auto run_call = t.c.async_run(
                "INSERT INTO leases(task, holder, until_ms) VALUES($1, $2, $3) ON CONFLICT "
                "(task) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms "
                "WHERE leases.holder = excluded.holder OR leases.until_ms < $4 RETURNING holder",
                name, holder_, t.now_ms - t.clock_offset_ms + ttl_ms, t.now_ms - t.clock_offset_ms);
            auto r = co_await std::move(run_call);
            co_return !r.empty();
        },
        std::move(done));
}

// ---- fault rules (D10): rows every replica reads
// -------------------------------------------------

namespace {

std::vector<fault_rule_row> fault_rows(const rows &r) {
    std::vector<fault_rule_row> out;
    for (int i = 0; i < r.size(); ++i) {
        out.push_back({static_cast<std::uint64_t>(r.i64(i, 0)), r.text(i, 1), r.text(i, 2),
                       static_cast<int>(r.i64(i, 3))});
    }
    return out;
}

} // namespace

void backend::add_fault_rule(fault_rule_row r, done_fn<std::uint64_t> done) {
    read<std::uint64_t>(
        [r = std::move(r)](connection &c) -> task<result<std::uint64_t>> {
            auto run_call = c.async_run("INSERT INTO fault_rules(bucket, rule, count) "
                                        "VALUES($1, $2, $3) RETURNING id",
                                        r.bucket, r.rule, r.count);
            auto got = co_await std::move(run_call);
            co_return static_cast<std::uint64_t>(got.i64(0, 0));
        },
        std::move(done));
}

void backend::fault_rules(done_fn<std::vector<fault_rule_row>> done) {
    read<std::vector<fault_rule_row>>(
        [](connection &c) -> task<result<std::vector<fault_rule_row>>> {
            auto run_call =
                c.async_run("SELECT id, bucket, rule, count FROM fault_rules ORDER BY id");
            co_return fault_rows(co_await std::move(run_call));
        },
        std::move(done));
}

void backend::remove_fault_rules(std::optional<std::uint64_t> id, done_fn<std::uint64_t> done) {
    read<std::uint64_t>(
        [id](connection &c) -> task<result<std::uint64_t>> {
            rows gone;
            if (id) {
                auto run_call =
                    c.async_run("DELETE FROM fault_rules WHERE id = $1 RETURNING id", *id);
                gone = co_await std::move(run_call);
            } else {
                auto run_call2 = c.async_run("DELETE FROM fault_rules RETURNING id");
                gone = co_await std::move(run_call2);
            }
            co_return static_cast<std::uint64_t>(gone.size());
        },
        std::move(done));
}

void backend::take_fault_rule(std::string bucket,
                              std::function<fault_use(const fault_rule_row &)> match,
                              done_fn<std::optional<fault_rule_row>> done) {
    // Single statements in autocommit: a conditional write needs no transaction.
    read<std::optional<fault_rule_row>>(
        [bucket = std::move(bucket),
         match = std::move(match)](connection &c) -> task<result<std::optional<fault_rule_row>>> {
            // One statement when the bucket has no rule (the usual case). A use is taken by a
            // conditional decrement, so two replicas never both take a rule's last use.
            auto run_call = c.async_run(
                "SELECT id, bucket, rule, count FROM fault_rules WHERE bucket = $1 ORDER BY id",
                bucket);
            auto all = fault_rows(co_await std::move(run_call));
            for (auto &row : all) {
                auto how = match(row);
                if (how == fault_use::no)
                    continue;
                if (how == fault_use::peek)
                    co_return std::optional<fault_rule_row>(row);
                auto run_call2 = c.async_run("UPDATE fault_rules SET count = count - 1 WHERE "
                                             "id = $1 AND count > 0 RETURNING count",
                                             row.id);
                auto left = co_await std::move(run_call2);
                if (left.empty())
                    continue; // its last use went to another replica meanwhile
                if (left.i64(0, 0) <= 0) {
                    auto run_call3 =
                        c.async_run("DELETE FROM fault_rules WHERE id = $1 AND count <= 0", row.id);
                    co_await std::move(run_call3);
                }
                co_return std::optional<fault_rule_row>(row);
            }
            co_return std::optional<fault_rule_row>();
        },
        std::move(done));
}

void backend::limit_space(space_limit, done_fn<std::int64_t> done) {
    done(s3_error(s3_errc::not_implemented,
                  "The PostgreSQL backend has no simulated full disk; fill the database's "
                  "volume instead."));
}

// ---- background work --------------------------------------------------------------------------

task<void> backend::janitor() {
    // Staged bodies of uploads that never committed (a replica killed mid-upload) are removed
    // once they are old enough that no upload can still be writing them, and released body files
    // once no snapshot can read them (blob_dir.hpp); one replica at a time.
    std::unique_ptr<connection> c;
    const auto start = std::chrono::steady_clock::now();
    auto next_staged = start + std::chrono::seconds(5);
    auto next_files = start;
    while (!closing_) {
        auto pause_call = pause(200);
        co_await std::move(pause_call);
        const auto now = std::chrono::steady_clock::now();
        const bool staged = now >= next_staged;
        const bool files = !opts_.blob_dir.empty() && now >= next_files;
        if (!staged && !files)
            continue;
        if (staged)
            next_staged = now + std::chrono::milliseconds(opts_.janitor_ms);
        if (files)
            next_files = now + std::chrono::seconds(1);
        try {
            if (!c || !c->ok()) {
                auto open_call = connection::open(opts_.uri);
                c = co_await std::move(open_call);
            }
            auto run_call =
                c->async_run(std::string("SELECT pg_try_advisory_lock(") + janitor_lock + ")");
            auto got = co_await std::move(run_call);
            if (!got.boolean(0, 0))
                continue;
            if (staged) {
                auto run_call2 = c->async_run(
                    "WITH gone AS (DELETE FROM bodies WHERE staged AND created < now() - "
                    "interval '1 hour' RETURNING id, file), chunks AS (DELETE FROM body_chunks "
                    "WHERE body_id IN (SELECT id FROM gone)) INSERT INTO released_files(name, "
                    "xid) SELECT file, 0 FROM gone WHERE file IS NOT NULL");
                co_await std::move(run_call2);
            }
            if (files) {
                auto reclaim_call = reclaim_released(*c, opts_.blob_dir);
                co_await std::move(reclaim_call);
            }
            auto run_call3 =
                c->async_run(std::string("SELECT pg_advisory_unlock(") + janitor_lock + ")");
            co_await std::move(run_call3);
        } catch (const pg_error &) {
            c.reset();
        }
    }
}

// ---- offline readers ----

namespace {

// The files of --blob-dir bodies (blob_dir.hpp): each committed body's file is there with its
// size; a file no row names (neither a body, staged or not, nor a released file waiting for
// reclamation) is an orphan once it is an hour old, younger ones may be an upload's first bytes.
void check_blob_files(connection &c, const std::string &dir, check_report &rep) {
    auto files = c.run("SELECT file, size, staged FROM bodies WHERE file IS NOT NULL");
    if (dir.empty()) {
        if (!files.empty()) {
            rep.notes.push_back(std::to_string(files.size()) +
                                " bodies are files of a --blob-dir; give --blob-dir to check "
                                "them");
        }
        return;
    }
    std::set<std::string> named;
    std::int64_t missing = 0, wrong_size = 0;
    for (int i = 0; i < files.size(); ++i) {
        const std::string name = files.text(i, 0);
        named.insert(name);
        if (files.boolean(i, 2))
            continue; // still being written
        std::error_code ec;
        auto size = std::filesystem::file_size(std::filesystem::path(dir) / name, ec);
        if (ec) {
            ++missing;
        } else if (static_cast<std::int64_t>(size) != files.i64(i, 1)) {
            ++wrong_size;
        }
    }
    auto released = c.run("SELECT name FROM released_files");
    for (int i = 0; i < released.size(); ++i)
        named.insert(released.text(i, 0));
    if (missing)
        rep.problems.push_back(std::to_string(missing) + " bodies whose file is missing");
    if (wrong_size) {
        rep.problems.push_back(std::to_string(wrong_size) +
                               " bodies whose file is not of the body's size");
    }
    std::int64_t orphans = 0, young = 0;
    std::error_code ec;
    const auto hour_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(1);
    for (const auto &e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().extension() != ".body")
            continue;
        ++rep.blob_files;
        if (named.contains(e.path().filename().string()))
            continue;
        std::error_code tec;
        (e.last_write_time(tec) < hour_ago ? orphans : young) += 1;
    }
    if (ec)
        rep.problems.push_back("--blob-dir " + dir + " cannot be read: " + ec.message());
    if (orphans)
        rep.problems.push_back(std::to_string(orphans) + " files no body names");
    if (young) {
        rep.notes.push_back(std::to_string(young) +
                            " recent files no body names yet (uploads starting)");
    }
}

} // namespace

key_history read_key_history(const std::string &uri, const std::string &bucket,
                             const std::string &key, std::size_t event_limit) {
    connection c(uri);
    if (schema_version(c) == 0) {
        throw std::runtime_error("the database holds no ifmatch store");
    }
    key_history h;
    auto v = run_here(postgres::key_versions(c, bucket, key));
    if (v.has_value())
        h.versions = std::move(*v);
    auto e = run_here(postgres::recent_events(c, event_limit));
    if (e.has_value())
        h.events = std::move(*e);
    return h;
}

check_report check_database(const std::string &uri, const std::string &blob_dir) {
    connection c(uri);
    check_report rep;
    rep.schema_version = schema_version(c);
    if (rep.schema_version == 0) {
        throw std::runtime_error("the database holds no ifmatch store");
    }
    c.script("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    auto count = [&](const char *sql) { return c.run(sql).i64(0, 0); };
    rep.versions = count("SELECT COUNT(*) FROM versions");
    rep.bodies = count("SELECT COUNT(*) FROM bodies WHERE NOT staged");
    rep.stored_bytes = count("SELECT COALESCE(SUM(size), 0) FROM bodies WHERE NOT staged");
    auto problem = [&](const char *sql, const std::string &what) {
        auto n = count(sql);
        if (n)
            rep.problems.push_back(std::to_string(n) + " " + what);
    };
    problem("SELECT COUNT(*) FROM (SELECT bucket, key FROM versions GROUP BY bucket, key "
            "HAVING COUNT(*) FILTER (WHERE is_latest) <> 1) k",
            "keys without exactly one current version");
    problem("SELECT COUNT(*) FROM versions v WHERE v.body_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM bodies b WHERE b.id = v.body_id AND NOT b.staged)",
            "versions whose body is missing");
    problem("SELECT COUNT(*) FROM bodies b WHERE NOT staged AND refs <> (SELECT COUNT(*) FROM "
            "versions v WHERE v.body_id = b.id) + (SELECT COUNT(*) FROM parts p WHERE "
            "p.body_id = b.id) + (SELECT COUNT(*) FROM body_parts q WHERE q.part_body_id = b.id)",
            "bodies whose reference count is wrong");
    problem("SELECT COUNT(*) FROM bodies b WHERE chunked AND NOT staged AND size <> "
            "COALESCE((SELECT SUM(length(data)) FROM body_chunks c WHERE c.body_id = b.id), 0)",
            "chunked bodies whose chunks do not add up to their size");
    problem("SELECT COUNT(*) FROM versions v WHERE NOT EXISTS (SELECT 1 FROM buckets b WHERE "
            "b.name = v.bucket)",
            "versions in a bucket that does not exist");
    check_blob_files(c, blob_dir, rep);
    auto staged = count("SELECT COUNT(*) FROM bodies WHERE staged");
    if (staged) {
        rep.notes.push_back(std::to_string(staged) +
                            " staged bodies (uploads in flight, or left by a stopped replica "
                            "and removed after an hour)");
    }
    c.script("COMMIT");
    return rep;
}

} // namespace ifmatch::storage::postgres
