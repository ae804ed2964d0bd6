// Bucket operations: create, delete, settings, lookups.
#include "storage/sqlite/operations.hpp"
#include "storage/sqlite/rows.hpp"

namespace ifmatch::storage::sqlite {

using protocol::s3_errc;
using protocol::s3_error;

result<create_bucket_result> create_bucket(write_txn &t, const std::string &name,
                                           const std::string &region) {
    if (rows::find_bucket(t, name)) {
        return create_bucket_result{true};
    }
    t.bucket_changed(name);
    query q(t.db, "INSERT INTO buckets(name, created_ms, region) VALUES(?, ?, ?)");
    q->bind(1, name).bind(2, t.now_ms).bind(3, region);
    q->step();
    return create_bucket_result{false};
}

result<bool> delete_bucket(write_txn &t, const std::string &name) {
    if (!rows::find_bucket(t, name)) {
        return rows::no_such_bucket(name);
    }
    {
        // A current version is named by key_state; every other version is in versions_by_key.
        query q(t.db, "SELECT 1 FROM key_state WHERE bucket = ?1 AND latest_seq != 0 "
                      "UNION ALL SELECT 1 FROM versions WHERE bucket = ?1 AND is_latest = 0 "
                      "LIMIT 1");
        q->bind(1, name);
        if (q->step()) {
            return s3_error(s3_errc::bucket_not_empty).with("BucketName", name);
        }
    }
    {
        query q(t.db, "SELECT 1 FROM uploads WHERE bucket = ? LIMIT 1");
        q->bind(1, name);
        if (q->step()) {
            return s3_error(s3_errc::bucket_not_empty).with("BucketName", name);
        }
    }
    t.bucket_changed(name);
    for (const char *sql : {"DELETE FROM key_state WHERE bucket = ?",
                            "DELETE FROM bucket_settings WHERE bucket = ?",
                            "DELETE FROM buckets WHERE name = ?"}) {
        query q(t.db, sql);
        q->bind(1, name);
        q->step();
    }
    return true;
}

namespace {

template <class Bind>
result<bool> update_bucket(write_txn &t, const std::string &name, const char *sql, Bind bind) {
    t.bucket_changed(name);
    query q(t.db, sql);
    bind(q.get());
    q->bind(2, name);
    q->step();
    if (t.db.changes() == 0) {
        return rows::no_such_bucket(name);
    }
    return true;
}

} // namespace

result<bool> set_bucket_versioning(write_txn &t, const std::string &name,
                                   const std::string &status) {
    return update_bucket(t, name, "UPDATE buckets SET versioning = ? WHERE name = ?",
                         [&](statement &s) { s.bind(1, status); });
}

result<bool> set_bucket_require_conditions(write_txn &t, const std::string &name, bool on) {
    return update_bucket(t, name, "UPDATE buckets SET require_conditions = ? WHERE name = ?",
                         [&](statement &s) { s.bind(1, on ? 1 : 0); });
}

result<bool> set_bucket_policy(write_txn &t, const std::string &name, const std::string &policy) {
    return update_bucket(t, name, "UPDATE buckets SET policy = ? WHERE name = ?",
                         [&](statement &s) { s.bind(1, policy); });
}

result<bucket_info> get_bucket(read_txn &t, const std::string &name) {
    if (auto b = rows::find_bucket(t.db, name)) {
        return *b;
    }
    return rows::no_such_bucket(name);
}

result<std::vector<bucket_info>> list_buckets(read_txn &t) {
    std::vector<bucket_info> out;
    query q(t.db, "SELECT name, created_ms, region, versioning FROM buckets ORDER BY name");
    while (q->step()) {
        bucket_info b;
        b.name = q->column_text(0);
        b.created_ms = q->column_int(1);
        b.region = q->column_text(2);
        b.versioning = q->column_text(3);
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace ifmatch::storage::sqlite
