// The SQLite backend's object_store calls (see backend.hpp).
#include "storage/sqlite/backend.hpp"

#include "storage/sqlite/history.hpp"
#include "storage/sqlite/multipart.hpp"
#include "storage/sqlite/operations.hpp"
#include "storage/sqlite/settings.hpp"
#include "storage/sqlite/sqlite.hpp"
#include "storage/sqlite/stats.hpp"

namespace ifmatch::storage::sqlite {

using protocol::s3_error;

namespace {

// A write whose result goes to `done` as it is (one allocation per write: the job itself).
template <class T, class Fn> class plain_job final : public result_job<T> {
public:
    plain_job(Fn fn, done_fn<T> done) : fn_(std::move(fn)), done_(std::move(done)) {}

private:
    result<T> compute(write_txn &t) override { return fn_(t); }
    void finish(result<T> r) override { done_(std::move(r)); }
    Fn fn_;
    done_fn<T> done_;
};

template <class T, class Fn> void submit_write(store &s, Fn fn, done_fn<T> done) {
    s.submit(std::make_unique<plain_job<T, Fn>>(std::move(fn), std::move(done)));
}

template <class T, class Fn> void submit_read(store &s, Fn fn, done_fn<T> done) {
    s.read<T>(std::move(fn), std::move(done));
}

template <class T> bool refused(const result<T> &r) {
    return r.has_error() && protocol::is_refusal(r.error().code);
}
bool refused(const result<complete_result> &r) {
    return r.has_error() ? protocol::is_refusal(r.error().code) : r->refusal.has_value();
}

// A conditional write: `fn(t, &against)` decides it; a refusal carries the key's state the
// decision was taken against (D9) -- the operation's own when it decided the conditions, else the
// key's current row read in the same transaction (a refusal decided earlier, e.g. a copy's
// source conditions).
template <class T, class Fn> class decided_job final : public result_job<T> {
public:
    decided_job(std::string bucket, std::string key, Fn fn, decided_fn<T> done)
        : bucket_(std::move(bucket)), key_(std::move(key)), fn_(std::move(fn)),
          done_(std::move(done)) {}

private:
    result<T> compute(write_txn &t) override {
        against_.reset();
        auto r = fn_(t, &against_);
        if (!against_ && refused(r)) {
            against_ = capture_current(t.db, bucket_, key_);
        }
        return r;
    }
    void finish(result<T> r) override {
        write_outcome<T> o{std::move(r), {}};
        if (refused(o.value)) {
            o.refused_against = std::move(against_);
        }
        done_(std::move(o));
    }
    std::string bucket_, key_;
    Fn fn_;
    decided_fn<T> done_;
    std::optional<current_state> against_;
};

template <class T, class Fn>
void submit_decided(store &s, std::string bucket, std::string key, Fn fn, decided_fn<T> done) {
    s.submit(std::make_unique<decided_job<T, Fn>>(std::move(bucket), std::move(key),
                                                  std::move(fn), std::move(done)));
}

} // namespace

backend::backend(store_options opts)
    : store_(std::make_unique<store>(opts)), memory_(opts.memory) {}

backend::~backend() { close(); }

void backend::close() { store_->close(); }
bool backend::healthy() const { return store_->healthy(); }

store_stats backend::stats() const {
    auto s = store_->stats();
    return {s.commits, s.jobs, s.wal_frames, s.reruns, s.failed_commits, s.lost_transactions, 0};
}

std::string backend::describe() const { return memory_ ? ":memory:" : store_->data_dir(); }
std::size_t backend::inline_limit() const { return store_->inline_limit(); }
std::int64_t backend::now_ms() const { return store_->now_ms(); }
std::int64_t backend::clock_offset_ms() const { return store_->clock_offset_ms(); }

void backend::advance_clock(std::int64_t ms, done_fn<std::int64_t> done) {
    store_->advance_clock(ms, std::move(done));
}

start_token backend::start() const { return start_token{store_->committed_seq(), nullptr}; }

std::unique_ptr<body_sink> backend::new_body() {
    return std::make_unique<blob_writer>(store_->blobs(), store_->inline_limit());
}

// ---- buckets ----------------------------------------------------------------------------------

void backend::create_bucket(std::string name, std::string region, string_pairs settings,
                            done_fn<create_bucket_result> done) {
    submit_write<create_bucket_result>(
        *store_,
        [name = std::move(name), region = std::move(region),
         settings = std::move(settings)](write_txn &t) {
            auto r = sqlite::create_bucket(t, name, region);
            if (r && !r->already_owned) {
                for (auto &[k, v] : settings) {
                    auto s = sqlite::set_bucket_setting(t, name, k, v);
                    if (s.has_error()) {
                        return result<create_bucket_result>(s.error());
                    }
                }
            }
            return r;
        },
        std::move(done));
}

void backend::delete_bucket(std::string name, done_fn<bool> done) {
    submit_write<bool>(
        *store_, [name = std::move(name)](write_txn &t) { return sqlite::delete_bucket(t, name); },
        std::move(done));
}

void backend::get_bucket(std::string name, done_fn<bucket_info> done) {
    submit_read<bucket_info>(
        *store_, [name = std::move(name)](read_txn &t) { return sqlite::get_bucket(t, name); },
        std::move(done));
}

void backend::list_buckets(done_fn<std::vector<bucket_info>> done) {
    submit_read<std::vector<bucket_info>>(
        *store_, [](read_txn &t) { return sqlite::list_buckets(t); }, std::move(done));
}

void backend::get_bucket_config(std::string name,
                                done_fn<std::shared_ptr<const bucket_config>> done) {
    using config_ptr = std::shared_ptr<const bucket_config>;
    if (auto hit = store_->cache().bucket(name)) {
        done(config_ptr(std::move(hit)));
        return;
    }
    // read_cache RULE 2: the generation is taken before the read's snapshot begins.
    auto generation = store_->cache().generation();
    store_->read<config_ptr>(
        [this, name, generation](read_txn &t) -> result<config_ptr> {
            auto r = read_bucket_config(t, name);
            if (r.has_error()) {
                return r.error();
            }
            auto c = std::make_shared<const bucket_config>(std::move(*r));
            store_->cache().offer_bucket(name, c, generation);
            return config_ptr(std::move(c));
        },
        std::move(done));
}

std::shared_ptr<const bucket_config> backend::peek_bucket_config(const std::string &name) {
    return store_->cache().bucket(name);
}

void backend::set_bucket_versioning(std::string name, std::string status, done_fn<bool> done) {
    submit_write<bool>(
        *store_,
        [name = std::move(name), status = std::move(status)](write_txn &t) {
            return sqlite::set_bucket_versioning(t, name, status);
        },
        std::move(done));
}

void backend::set_bucket_require_conditions(std::string name, bool on, done_fn<bool> done) {
    submit_write<bool>(
        *store_,
        [name = std::move(name), on](write_txn &t) {
            return sqlite::set_bucket_require_conditions(t, name, on);
        },
        std::move(done));
}

void backend::set_bucket_policy(std::string name, std::string policy, done_fn<bool> done) {
    submit_write<bool>(
        *store_,
        [name = std::move(name), policy = std::move(policy)](write_txn &t) {
            return sqlite::set_bucket_policy(t, name, policy);
        },
        std::move(done));
}

void backend::set_bucket_setting(std::string name, std::string setting, std::string value,
                                 done_fn<bool> done) {
    submit_write<bool>(
        *store_,
        [name = std::move(name), setting = std::move(setting),
         value = std::move(value)](write_txn &t) {
            return sqlite::set_bucket_setting(t, name, setting, value);
        },
        std::move(done));
}

// ---- objects ----------------------------------------------------------------------------------

void backend::put_object(put_request r, decided_fn<write_result> done) {
    std::string bucket = r.bucket, key = r.key;
    submit_decided<write_result>(
        *store_, std::move(bucket), std::move(key),
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return sqlite::put_object(t, r, against);
        },
        std::move(done));
}

void backend::copy_object(copy_request r, decided_fn<write_result> done) {
    std::string bucket = r.bucket, key = r.key;
    submit_decided<write_result>(
        *store_, std::move(bucket), std::move(key),
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return sqlite::copy_object(t, r, against);
        },
        std::move(done));
}

void backend::delete_object(delete_request r, decided_fn<delete_result> done) {
    std::string bucket = r.bucket, key = r.key;
    submit_decided<delete_result>(
        *store_, std::move(bucket), std::move(key),
        [r = std::move(r)](write_txn &t, std::optional<current_state> *against) {
            return sqlite::delete_object(t, r, against);
        },
        std::move(done));
}

void backend::get_object(get_request r, done_fn<object_read> done) {
    // read_cache RULE 3: only the current version read whole, by key alone, may be kept.
    const bool cacheable = !r.version_id && !r.part_sizes && r.open_body;
    auto generation = store_->cache().generation(); // RULE 2: before the snapshot begins
    store_->read<object_read>(
        [this, r = std::move(r), cacheable, generation](read_txn &t) -> result<object_read> {
            auto o = sqlite::get_object(t, r);
            if (o.has_error()) {
                return o;
            }
            if (r.part_sizes && o->version.parts_count > 1) {
                o->part_sizes = sqlite::body_part_sizes(t, o->version.body_id);
            }
            const auto &v = o->version;
            const bool inline_whole =
                o->segments.empty() || (o->segments.size() == 1 && !o->segments[0].source);
            if (cacheable && !v.delete_marker && inline_whole) {
                auto c = std::make_shared<cached_object>();
                c->version = v;
                if (!o->segments.empty()) {
                    c->body = o->segments[0].inline_data;
                }
                store_->cache().offer_object(std::move(c), generation);
            }
            return o;
        },
        std::move(done));
}

std::shared_ptr<const cached_object> backend::peek_object(const std::string &bucket,
                                                          const std::string &key) {
    return store_->cache().object(bucket, key);
}

void backend::list_objects(list_request r, done_fn<list_page> done) {
    submit_read<list_page>(
        *store_, [r = std::move(r)](read_txn &t) { return sqlite::list_objects(t, r); },
        std::move(done));
}

void backend::list_versions(list_versions_request r, done_fn<list_versions_page> done) {
    submit_read<list_versions_page>(
        *store_, [r = std::move(r)](read_txn &t) { return sqlite::list_versions(t, r); },
        std::move(done));
}

void backend::set_version_extra(version_extra_request r, done_fn<object_version> done) {
    submit_write<object_version>(
        *store_, [r = std::move(r)](write_txn &t) { return sqlite::set_version_extra(t, r); },
        std::move(done));
}

void backend::body_part_sizes(std::int64_t body_id, done_fn<std::vector<std::uint64_t>> done) {
    submit_read<std::vector<std::uint64_t>>(
        *store_,
        [body_id](read_txn &t) {
            return result<std::vector<std::uint64_t>>(sqlite::body_part_sizes(t, body_id));
        },
        std::move(done));
}

// ---- multipart uploads ------------------------------------------------------------------------

void backend::create_upload(create_upload_request r, done_fn<upload_info> done) {
    submit_write<upload_info>(
        *store_, [r = std::move(r)](write_txn &t) { return sqlite::create_upload(t, r); },
        std::move(done));
}

void backend::find_upload(std::string bucket, std::string key, std::string upload_id,
                          done_fn<upload_info> done) {
    submit_read<upload_info>(
        *store_,
        [bucket = std::move(bucket), key = std::move(key),
         upload_id = std::move(upload_id)](read_txn &t) {
            return sqlite::find_upload(t, bucket, key, upload_id);
        },
        std::move(done));
}

void backend::put_part(upload_part_request r, done_fn<part_info> done) {
    submit_write<part_info>(
        *store_, [r = std::move(r)](write_txn &t) { return sqlite::put_part(t, r); },
        std::move(done));
}

void backend::complete_upload(complete_request r, decided_fn<complete_result> done) {
    std::string bucket = r.bucket, key = r.key;
    submit_decided<complete_result>(
        *store_, std::move(bucket), std::move(key),
        [r = std::move(r)](write_txn &t, std::optional<current_state> *) {
            return sqlite::complete_upload(t, r);
        },
        std::move(done));
}

void backend::abort_upload(std::string bucket, std::string key, std::string upload_id,
                           done_fn<bool> done) {
    submit_write<bool>(
        *store_,
        [bucket = std::move(bucket), key = std::move(key),
         upload_id = std::move(upload_id)](write_txn &t) {
            return sqlite::abort_upload(t, bucket, key, upload_id);
        },
        std::move(done));
}

void backend::list_parts(list_parts_request r, done_fn<list_parts_page> done) {
    submit_read<list_parts_page>(
        *store_, [r = std::move(r)](read_txn &t) { return sqlite::list_parts(t, r); },
        std::move(done));
}

void backend::list_uploads(list_uploads_request r, done_fn<list_uploads_page> done) {
    submit_read<list_uploads_page>(
        *store_, [r = std::move(r)](read_txn &t) { return sqlite::list_uploads(t, r); },
        std::move(done));
}

// ---- history and totals -----------------------------------------------------------------------

void backend::key_versions(std::string bucket, std::string key,
                           done_fn<std::vector<object_version>> done) {
    submit_read<std::vector<object_version>>(
        *store_,
        [bucket = std::move(bucket), key = std::move(key)](read_txn &t) {
            return sqlite::key_versions(t, bucket, key);
        },
        std::move(done));
}

void backend::bucket_keys(std::string bucket, std::string after, std::size_t limit,
                          done_fn<std::vector<object_version>> done) {
    submit_read<std::vector<object_version>>(
        *store_,
        [bucket = std::move(bucket), after = std::move(after), limit](read_txn &t) {
            return sqlite::bucket_keys(t, bucket, after, limit);
        },
        std::move(done));
}

void backend::current_state_of(std::string bucket, std::string key, done_fn<current_state> done) {
    submit_read<current_state>(
        *store_,
        [bucket = std::move(bucket), key = std::move(key)](read_txn &t) {
            return result<current_state>(capture_current(t.db, bucket, key));
        },
        std::move(done));
}

void backend::append_events(std::vector<event_row> rows, std::size_t keep, done_fn<bool> done) {
    submit_write<bool>(
        *store_,
        [rows = std::move(rows), keep](write_txn &t) {
            return sqlite::append_events(t, rows, keep);
        },
        std::move(done));
}

void backend::recent_events(std::size_t limit, done_fn<std::vector<event_row>> done) {
    submit_read<std::vector<event_row>>(
        *store_, [limit](read_txn &t) { return sqlite::recent_events(t, limit); },
        std::move(done));
}

void backend::stored_totals(done_fn<store_totals> done) {
    submit_read<store_totals>(
        *store_, [](read_txn &t) { return sqlite::stored_totals(t); }, std::move(done));
}

// ---- test seams -------------------------------------------------------------------------------

void backend::limit_space(space_limit l, done_fn<std::int64_t> done) {
    if (l.body_bytes) {
        store_->blobs().set_write_budget(*l.body_bytes);
    }
    if (!l.max_pages) {
        done(std::int64_t{0});
        return;
    }
    const std::int64_t want = *l.max_pages;
    submit_write<std::int64_t>(
        *store_,
        [want](write_txn &t) -> result<std::int64_t> {
            std::int64_t n = want < 0 ? 1073741823 : want;
            if (want == 0) {
                query q(t.db, "PRAGMA page_count");
                n = q->step() ? q->column_int(0) : 1;
            }
            t.db.exec("PRAGMA max_page_count = " + std::to_string(n));
            return n;
        },
        std::move(done));
}

key_history read_key_history(const std::string &data_dir, const std::string &bucket,
                             const std::string &key, std::size_t event_limit) {
    auto db = open_read_only(data_dir);
    key_history h;
    h.versions = sqlite::key_versions(*db, bucket, key);
    h.events = sqlite::recent_events(*db, event_limit);
    return h;
}

} // namespace ifmatch::storage::sqlite
