// Bucket operations of the PostgreSQL backend.
#include "storage/postgres/operations.hpp"

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

bucket_info bucket_row(const rows &r, int i) {
    bucket_info b;
    b.name = r.text(i, 0);
    b.created_ms = r.i64(i, 1);
    b.region = r.text(i, 2);
    b.versioning = r.text(i, 3);
    b.require_conditions = r.boolean(i, 4);
    b.policy = r.text(i, 5);
    return b;
}

constexpr const char *bucket_columns =
    "name, created_ms, region, versioning, require_conditions, policy";

} // namespace

task<result<create_bucket_result>> create_bucket(write_txn &t, const std::string &name,
                                                 const std::string &region, const string_pairs &s) {
    auto begin_call = begin(t);
    co_await std::move(begin_call);
    auto run_call =
        t.c.async_run("INSERT INTO buckets(name, created_ms, region) VALUES($1, $2, $3) "
                      "ON CONFLICT (name) DO NOTHING",
                      name, t.now_ms, region);
    auto r = co_await std::move(run_call);
    create_bucket_result out;
    out.already_owned = r.affected() == 0;
    if (!out.already_owned) {
        for (auto &[k, v] : s) {
            auto run_call2 = t.c.async_run(
                "INSERT INTO bucket_settings(bucket, name, value) VALUES($1, $2, $3)", name, k, v);
            co_await std::move(run_call2);
        }
    }
    co_return out;
}

task<result<bool>> delete_bucket(write_txn &t, const std::string &name) {
    auto run_call = t.c.async_run("SELECT 1 FROM buckets WHERE name = $1 FOR UPDATE", name);
    auto b = co_await std::move(run_call);
    if (b.empty()) {
        co_return no_such_bucket(name);
    }
    auto run_call2 = t.c.async_run("SELECT EXISTS(SELECT 1 FROM versions WHERE bucket = $1) OR "
                                   "EXISTS(SELECT 1 FROM uploads WHERE bucket = $1)",
                                   name);
    auto used = co_await std::move(run_call2);
    if (used.boolean(0, 0)) {
        co_return s3_error(s3_errc::bucket_not_empty).with("BucketName", name);
    }
    auto run_call3 = t.c.async_run("DELETE FROM bucket_settings WHERE bucket = $1", name);
    co_await std::move(run_call3);
    auto run_call4 = t.c.async_run("DELETE FROM key_state WHERE bucket = $1", name);
    co_await std::move(run_call4);
    auto run_call5 = t.c.async_run("DELETE FROM buckets WHERE name = $1", name);
    co_await std::move(run_call5);
    co_return true;
}

task<result<bucket_info>> get_bucket(connection &c, const std::string &name) {
    auto find_bucket_call = find_bucket(c, name);
    auto b = co_await std::move(find_bucket_call);
    if (!b)
        co_return no_such_bucket(name);
    co_return *b;
}

task<result<std::vector<bucket_info>>> list_buckets(connection &c) {
    auto run_call =
        c.async_run(std::string("SELECT ") + bucket_columns + " FROM buckets ORDER BY name");
    auto r = co_await std::move(run_call);
    std::vector<bucket_info> out;
    for (int i = 0; i < r.size(); ++i)
        out.push_back(bucket_row(r, i));
    co_return out;
}

void queue_bucket_config(connection &c, const std::string &name, rows *into) {
    c.queue("SELECT b.name, b.created_ms, b.region, b.versioning, b.require_conditions, b.policy, "
            "s.name, s.value FROM buckets b LEFT JOIN bucket_settings s ON s.bucket = b.name "
            "WHERE b.name = $1 ORDER BY s.name",
            {name}, into);
}

task<result<bucket_config>> get_bucket_config(connection &c, const std::string &name) {
    rows r;
    queue_bucket_config(c, name, &r);
    auto flush_call = c.async_flush();
    co_await std::move(flush_call);
    co_return bucket_config_of(r, name);
}

result<bucket_config> bucket_config_of(const rows &r, const std::string &name) {
    if (r.empty())
        return no_such_bucket(name);
    bucket_config cfg;
    cfg.info = bucket_row(r, 0);
    for (int i = 0; i < r.size(); ++i) {
        if (!r.null(i, 6))
            cfg.settings.emplace_back(r.text(i, 6), r.text(i, 7));
    }
    return cfg;
}

task<result<bool>> set_bucket_column(write_txn &t, const std::string &name, std::string column,
                                     std::string value) {
    std::string sql;
    if (column == "versioning") {
        sql = "UPDATE buckets SET versioning = $2 WHERE name = $1";
    } else if (column == "require_conditions") {
        sql = "UPDATE buckets SET require_conditions = $2::boolean WHERE name = $1";
    } else if (column == "policy") {
        sql = "UPDATE buckets SET policy = $2 WHERE name = $1";
    } else {
        co_return s3_error(s3_errc::internal_error, "unknown bucket column " + column);
    }
    auto run_call = t.c.async_run(sql, name, value);
    auto r = co_await std::move(run_call);
    if (r.affected() == 0)
        co_return no_such_bucket(name);
    co_return true;
}

task<result<bool>> set_bucket_setting(write_txn &t, const std::string &name,
                                      const std::string &setting, const std::string &value) {
    auto find_bucket_for_write_call = find_bucket_for_write(t.c, name);
    if (!co_await std::move(find_bucket_for_write_call))
        co_return no_such_bucket(name);
    if (value.empty()) {
        auto run_call = t.c.async_run("DELETE FROM bucket_settings WHERE bucket = $1 AND name = $2",
                                      name, setting);
        co_await std::move(run_call);
    } else {
        auto run_call2 =
            t.c.async_run("INSERT INTO bucket_settings(bucket, name, value) VALUES($1, $2, $3) "
                          "ON CONFLICT (bucket, name) DO UPDATE SET value = excluded.value",
                          name, setting, value);
        co_await std::move(run_call2);
    }
    co_return true;
}

} // namespace ifmatch::storage::postgres
