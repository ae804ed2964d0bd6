// The PostgreSQL backend behind storage::object_store ("shared mode"): several ifmatch replicas
// on one database. Every call is a job on a connection of the pool (pool.hpp), a coroutine on the
// backend's I/O context; a write is one
// transaction that locks its key, decides with protocol's evaluators and commits or rolls back
// (operations.hpp). No replica-local cache: every replica reads what any replica committed.
#pragma once

#include "storage/object_store.hpp"
#include "storage/postgres/pg.hpp"

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <string>

namespace ifmatch::storage::postgres {

class pool;
class snapshot_service;
class connection;
struct write_txn;

struct options {
    std::string uri;                      // a libpq URI (postgresql://...)
    int pool_size = 4;                    // pool connections (--pg-pool)
    int pool_threads = 0;                 // threads of the pool's I/O context (0: automatic)
    std::size_t inline_limit = 64 * 1024; // bodies above it are stored as chunks
    std::string blob_dir;   // non-empty: bodies above the limit are files there (blob_dir.hpp)
    int janitor_ms = 60000; // how often the janitor looks for old staged bodies
    std::function<void(const std::string &)> on_error;
};

class backend final : public object_store {
  public:
    // Connects, migrates the schema (under an advisory lock). Throws std::runtime_error.
    explicit backend(options o);
    ~backend() override;

    void close() override;
    bool healthy() const override;
    store_stats stats() const override;
    std::string describe() const override;
    std::size_t inline_limit() const override;
    bool shared() const override { return true; }

    std::int64_t now_ms() const override;
    std::int64_t clock_offset_ms() const override;
    void advance_clock(std::int64_t ms, done_fn<std::int64_t> done) override;
    start_token start() const override;

    std::unique_ptr<body_sink> new_body() override;

    void create_bucket(std::string name, std::string region, string_pairs settings,
                       done_fn<create_bucket_result> done) override;
    void delete_bucket(std::string name, done_fn<bool> done) override;
    void get_bucket(std::string name, done_fn<bucket_info> done) override;
    void list_buckets(done_fn<std::vector<bucket_info>> done) override;
    void get_bucket_config(std::string name,
                           done_fn<std::shared_ptr<const bucket_config>> done) override;
    std::shared_ptr<const bucket_config> peek_bucket_config(const std::string &name) override;
    void set_bucket_versioning(std::string name, std::string status, done_fn<bool> done) override;
    void set_bucket_require_conditions(std::string name, bool on, done_fn<bool> done) override;
    void set_bucket_policy(std::string name, std::string policy, done_fn<bool> done) override;
    void set_bucket_setting(std::string name, std::string setting, std::string value,
                            done_fn<bool> done) override;

    void put_object(put_request r, decided_fn<write_result> done) override;
    void copy_object(copy_request r, decided_fn<write_result> done) override;
    void delete_object(delete_request r, decided_fn<delete_result> done) override;
    void get_object(get_request r, done_fn<object_read> done) override;
    std::shared_ptr<const cached_object> peek_object(const std::string &bucket,
                                                     const std::string &key) override;
    void list_objects(list_request r, done_fn<list_page> done) override;
    void list_versions(list_versions_request r, done_fn<list_versions_page> done) override;
    void set_version_extra(version_extra_request r, done_fn<object_version> done) override;
    void body_part_sizes(std::int64_t body_id, done_fn<std::vector<std::uint64_t>> done) override;

    void create_upload(create_upload_request r, done_fn<upload_info> done) override;
    void find_upload(std::string bucket, std::string key, std::string upload_id,
                     done_fn<upload_info> done) override;
    void put_part(upload_part_request r, done_fn<part_info> done) override;
    void complete_upload(complete_request r, decided_fn<complete_result> done) override;
    void abort_upload(std::string bucket, std::string key, std::string upload_id,
                      done_fn<bool> done) override;
    void list_parts(list_parts_request r, done_fn<list_parts_page> done) override;
    void list_uploads(list_uploads_request r, done_fn<list_uploads_page> done) override;

    void key_versions(std::string bucket, std::string key,
                      done_fn<std::vector<object_version>> done) override;
    void bucket_keys(std::string bucket, std::string after, std::size_t limit,
                     done_fn<std::vector<object_version>> done) override;
    void current_state_of(std::string bucket, std::string key,
                          done_fn<current_state> done) override;
    void append_events(std::vector<event_row> rows, std::size_t keep, done_fn<bool> done) override;
    void recent_events(std::size_t limit, done_fn<std::vector<event_row>> done) override;
    void stored_totals(done_fn<store_totals> done) override;
    void lead(std::string task, std::int64_t ttl_ms, done_fn<bool> done) override;
    void add_fault_rule(fault_rule_row r, done_fn<std::uint64_t> done) override;
    void fault_rules(done_fn<std::vector<fault_rule_row>> done) override;
    void remove_fault_rules(std::optional<std::uint64_t> id, done_fn<std::uint64_t> done) override;
    void take_fault_rule(std::string bucket, std::function<fault_use(const fault_rule_row &)> match,
                         done_fn<std::optional<fault_rule_row>> done) override;

    void limit_space(space_limit l, done_fn<std::int64_t> done) override;

  private:
    template <class T> void read(std::function<task<result<T>>(connection &)> fn, done_fn<T> done);
    template <class T>
    void write(std::function<task<result<T>>(write_txn &, std::optional<current_state> *)> fn,
               std::function<void(result<T>, std::optional<current_state>)> finish,
               std::string bucket = {}, std::string key = {});
    template <class T>
    void write_plain(std::function<task<result<T>>(write_txn &)> fn, done_fn<T> done);
    task<void> janitor();
    // "committed" / "aborted" for a transaction whose COMMIT lost its connection; "" unknown.
    task<std::string> commit_status(std::int64_t xid);

    options opts_;
    std::shared_ptr<pool> pool_;
    std::unique_ptr<snapshot_service> snaps_;
    std::atomic<std::int64_t> offset_{0};
    std::atomic<std::uint64_t> commits_{0}, jobs_{0}, reruns_{0}, failed_{0}, lost_{0};
    std::atomic<bool> closing_{false};
    std::future<void> janitor_; // the janitor coroutine's end
    std::string holder_;        // this process's name in the leases table
};

// `ifmatch check` and `ifmatch explain --data` on a PostgreSQL location.
// With `blob_dir`, the files of file bodies are checked too (present, of their size) and files
// nothing names are reported.
check_report check_database(const std::string &uri, const std::string &blob_dir = {});
key_history read_key_history(const std::string &uri, const std::string &bucket,
                             const std::string &key, std::size_t event_limit);

} // namespace ifmatch::storage::postgres
