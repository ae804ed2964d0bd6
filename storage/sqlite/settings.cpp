// Bucket settings and in-place version extras (see settings.hpp).
#include "storage/version_rules.hpp"
#include "storage/sqlite/settings.hpp"

#include "storage/codec.hpp"
#include "storage/sqlite/rows.hpp"

namespace ifmatch::storage::sqlite {

using protocol::s3_errc;
using protocol::s3_error;

result<string_pairs> get_bucket_settings(read_txn &t, const std::string &bucket) {
    if (!rows::find_bucket(t.db, bucket)) {
        return rows::no_such_bucket(bucket);
    }
    string_pairs out;
    query q(t.db, "SELECT name, value FROM bucket_settings WHERE bucket = ? ORDER BY name");
    q->bind(1, bucket);
    while (q->step()) {
        out.emplace_back(q->column_text(0), q->column_text(1));
    }
    return out;
}

result<bucket_config> read_bucket_config(read_txn &t, const std::string &bucket) {
    auto b = rows::find_bucket(t.db, bucket);
    if (!b) {
        return rows::no_such_bucket(bucket);
    }
    bucket_config out{std::move(*b), {}};
    query q(t.db, "SELECT name, value FROM bucket_settings WHERE bucket = ? ORDER BY name");
    q->bind(1, bucket);
    while (q->step()) {
        out.settings.emplace_back(q->column_text(0), q->column_text(1));
    }
    return out;
}

result<bool> set_bucket_setting(write_txn &t, const std::string &bucket, const std::string &name,
                                const std::string &value) {
    if (!rows::find_bucket(t, bucket)) {
        return rows::no_such_bucket(bucket);
    }
    t.bucket_changed(bucket);
    if (value.empty()) {
        query q(t.db, "DELETE FROM bucket_settings WHERE bucket = ? AND name = ?");
        q->bind(1, bucket).bind(2, name);
        q->step();
        return true;
    }
    query q(t.db, "INSERT INTO bucket_settings(bucket, name, value) VALUES(?, ?, ?) "
                  "ON CONFLICT(bucket, name) DO UPDATE SET value = excluded.value");
    q->bind(1, bucket).bind(2, name).bind(3, value);
    q->step();
    return true;
}

result<object_version> set_version_extra(write_txn &t, const version_extra_request &r) {
    if (!rows::find_bucket(t, r.bucket)) {
        return rows::no_such_bucket(r.bucket);
    }
    auto v = r.version_id ? rows::find_version(t.db, r.bucket, r.key, *r.version_id)
                          : rows::find_latest(t.db, r.bucket, r.key);
    if (auto refused = extra_target_refusal(r, v)) {
        return *refused;
    }
    if (auto refused = apply_extra_change(r, v->meta)) {
        return *refused;
    }
    t.key_changed(r.bucket, r.key);
    query q(t.db, "UPDATE versions SET meta = ? WHERE seq = ?");
    q->bind(1, encode_meta(v->meta)).bind(2, v->seq);
    q->step();
    return *v;
}

} // namespace ifmatch::storage::sqlite
