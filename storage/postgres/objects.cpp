// Object writes and reads of the PostgreSQL backend: PutObject, DeleteObject, the GET lookup,
// tags/ACL changes in place, events and totals.
//
// RULES
// 1. Bucket first (NoSuchBucket, holding the bucket row), then the key's lock (rows.hpp RULE 1),
//    then protocol's evaluator decides against the locked state and the request's snapshot; a
//    refusal answers before anything is written and the transaction is rolled back. The bucket's
//    row, the lock and the key's read are sent in one round trip with the transaction's BEGIN
//    (in that order, so each statement runs after the one before it has finished); a missing
//    bucket is noticed once they have run, and the lock then goes with the rollback.
// 2. The new version is installed by install_version, then touch_key records the mutation with
//    this transaction's id for the 409 model. These writes stay queued: the COMMIT carries them
//    (rows.hpp RULE 4).
#include "protocol/object_lock.hpp"
#include "storage/postgres/operations.hpp"
#include "storage/version_rules.hpp"

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

task<write_result> install_new_version(write_txn &t, const bucket_info &b, key_lock &k,
                                       const version_fields &f, std::int64_t body_id) {
    object_version v;
    v.etag = f.etag;
    v.version_id = f.version_id;
    v.size = f.size;
    v.meta = f.meta;
    v.parts_count = f.parts_count;
    v.writer = f.writer;
    v.body_id = body_id;
    v.last_modified_ms = t.now_ms;
    auto install_version_call = install_version(t, b, k, v);
    co_await std::move(install_version_call);
    touch_key(t, k, false, true);
    write_result r;
    r.version_id = v.version_id;
    r.versioned = b.versioning == "Enabled";
    r.etag = v.etag;
    r.last_modified_ms = v.last_modified_ms;
    r.size = v.size;
    r.meta = v.meta;
    co_return r;
}

task<result<write_result>> put_object(write_txn &t, const put_request &r, against_fn against) {
    if (r.body.is_file()) {
        t.staged.push_back(staged_id(r.body.file)); // dropped unless this write commits
    }
    rows bucket_row, slot;
    key_rows locked;
    queue_bucket_for_write(t.c, r.bucket, &bucket_row);
    queue_lock_key(t, r.bucket, r.key, locked);
    queue_body_slot(t, r.body, &slot);
    auto flush_call = t.c.async_flush();
    co_await std::move(flush_call); // RULE 1: one round trip
    auto b = bucket_of(bucket_row);
    if (!b) {
        co_return no_such_bucket(r.bucket);
    }
    auto k = locked_key(t, r.bucket, r.key, locked);
    auto gather_context_call = gather_context(k, *b, r.start, r.server_requires_conditions);
    auto ctx = co_await std::move(gather_context_call);
    if (ctx.has_error()) {
        co_return ctx.error();
    }
    auto outcome = protocol::evaluate_write(r.conditions, *ctx);
    if (outcome.verdict != protocol::write_verdict::proceed) {
        *against = state_of_lock(k);
        co_return protocol::write_verdict_error(outcome, r.key);
    }
    std::int64_t body_id = insert_body(t, r.body, slot);
    auto install_new_version_call = install_new_version(t, *b, k, r.fields, body_id);
    co_return co_await std::move(install_new_version_call);
}

namespace {

// `v`: the version r names, read after the lock.
task<result<delete_result>> delete_specific_version(write_txn &t, key_lock &k,
                                                    const delete_request &r,
                                                    std::optional<object_version> v) {
    delete_result res;
    res.version_id = *r.version_id;
    if (!v) {
        co_return res; // S3 answers 204 for a version that does not exist
    }
    if (r.only_noncurrent && v->is_latest) {
        co_return s3_error(s3_errc::precondition_failed, "The version is the current one.")
            .with("Condition", "noncurrent");
    }
    // B-L3, B-L4: a locked version is never removed; judged on the store's clock, at commit.
    if (auto locked = protocol::deletion_refusal(protocol::lock_of(v->meta.extra), t.now_ms,
                                                 r.bypass_governance)) {
        co_return *locked;
    }
    res.delete_marker = v->delete_marker;
    auto remove_version_call = remove_version(t, k, *v);
    co_await std::move(remove_version_call);
    if (v->is_latest) {
        auto promote_latest_call = promote_latest(t, k);
        co_await std::move(promote_latest_call);
    }
    touch_key(t, k, true, k.current && !k.current->delete_marker);
    co_return res;
}

} // namespace

task<result<delete_result>> delete_object(write_txn &t, const delete_request &r,
                                          against_fn against) {
    rows bucket_row, named;
    key_rows locked;
    queue_bucket_for_write(t.c, r.bucket, &bucket_row);
    queue_lock_key(t, r.bucket, r.key, locked);
    if (r.version_id) {
        queue_version(t.c, r.bucket, r.key, r.version_id, &named); // after the lock
    }
    auto flush_call = t.c.async_flush();
    co_await std::move(flush_call); // RULE 1: one round trip
    auto b = bucket_of(bucket_row);
    if (!b) {
        co_return no_such_bucket(r.bucket);
    }
    auto k = locked_key(t, r.bucket, r.key, locked);
    auto gather_context_call = gather_context(k, *b, r.start, r.server_requires_conditions);
    auto ctx = co_await std::move(gather_context_call);
    if (ctx.has_error()) {
        co_return ctx.error();
    }
    if (r.by_lifecycle) {
        ctx->conditions_required = false; // D5 binds clients, not the bucket's own rules
    }
    auto outcome = protocol::evaluate_delete(r.conditions, *ctx);
    if (outcome.verdict != protocol::write_verdict::proceed) {
        *against = state_of_lock(k);
        co_return protocol::write_verdict_error(outcome, r.key);
    }
    if (r.version_id) {
        auto delete_specific_version_call = delete_specific_version(t, k, r, version_of(named));
        co_return co_await std::move(delete_specific_version_call);
    }
    delete_result res;
    if (b->versioning.empty()) {
        if (k.current) {
            auto remove_version_call = remove_version(t, k, *k.current);
            co_await std::move(remove_version_call);
            touch_key(t, k, true, false);
        }
        co_return res;
    }
    object_version marker;
    marker.delete_marker = true;
    marker.last_modified_ms = t.now_ms;
    marker.writer = r.writer;
    marker.meta.extra = r.marker_extra;
    marker.version_id = r.marker_version_id;
    auto install_version_call = install_version(t, *b, k, marker);
    co_await std::move(install_version_call);
    touch_key(t, k, true, false);
    res.delete_marker = true;
    res.version_id = marker.version_id;
    co_return res;
}

task<result<object_version>> set_version_extra(write_txn &t, const version_extra_request &r) {
    rows bucket_row, found;
    key_rows locked;
    queue_bucket_for_write(t.c, r.bucket, &bucket_row);
    queue_lock_key(t, r.bucket, r.key, locked);
    queue_version(t.c, r.bucket, r.key, r.version_id, &found); // after the lock
    auto flush_call = t.c.async_flush();
    co_await std::move(flush_call);
    if (!bucket_of(bucket_row)) {
        co_return no_such_bucket(r.bucket);
    }
    locked_key(t, r.bucket, r.key, locked);
    auto v = version_of(found);
    if (auto refused = extra_target_refusal(r, v)) {
        co_return *refused;
    }
    if (auto refused = apply_extra_change(r, v->meta)) {
        co_return *refused;
    }
    t.c.queue("UPDATE versions SET meta = $1 WHERE seq = $2", {encode_meta(v->meta), v->seq});
    co_return *v;
}

task<result<got_object>> read_for_get(connection &c, const get_request &r) {
    // Every query names the version by bucket and key (and version id), so none waits for
    // another's answer: all of them travel in one round trip.
    std::vector<param> names{r.bucket, r.key};
    std::string which = "bucket = $1 AND key = $2 AND is_latest";
    if (r.version_id) {
        names.emplace_back(*r.version_id);
        which = "bucket = $1 AND key = $2 AND version_id = $3";
    }
    const std::string body_id = "SELECT body_id FROM versions WHERE " + which;
    rows config, version, parts, whole, sizes;
    queue_bucket_config(c, r.bucket, &config);
    c.queue(std::string("SELECT ") + version_columns + " FROM versions WHERE " + which, names,
            &version);
    if (r.open_body) {
        queue_body_pieces(c, body_id, names, &parts, &whole);
    }
    if (r.part_sizes) {
        queue_part_sizes(c, body_id, names, &sizes);
    }
    auto flush_call = c.async_flush();
    co_await std::move(flush_call);
    auto cfg = bucket_config_of(config, r.bucket);
    if (cfg.has_error()) {
        co_return cfg.error();
    }
    if (version.empty()) {
        if (r.version_id) {
            co_return s3_error(s3_errc::no_such_version)
                .with("Key", r.key)
                .with("VersionId", *r.version_id);
        }
        co_return no_such_key(r.key);
    }
    got_object got;
    got.bucket = std::move(*cfg);
    got.version = read_version(version, 0);
    if (!got.version.delete_marker) {
        got.pieces = pieces_of(parts, whole);
    }
    got.part_sizes = sizes_of(sizes);
    co_return got;
}

task<result<bool>> append_events(write_txn &t, const std::vector<event_row> &rows,
                                 std::size_t keep) {
    // Nothing here needs an answer: the batch travels with the commit.
    for (auto &e : rows) {
        t.c.queue("INSERT INTO events(time_ms, bucket, key, body) VALUES($1, $2, $3, $4)",
                  {e.time_ms, e.bucket, e.key, e.json});
    }
    t.c.queue("DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - $1",
              {static_cast<std::int64_t>(keep)});
    co_return true;
}

task<result<std::vector<event_row>>> recent_events(connection &c, std::size_t limit) {
    auto run_call =
        c.async_run("SELECT time_ms, bucket, key, body FROM (SELECT * FROM events ORDER BY id "
                    "DESC LIMIT $1) e ORDER BY id",
                    static_cast<std::int64_t>(limit));
    auto r = co_await std::move(run_call);
    std::vector<event_row> out;
    for (int i = 0; i < r.size(); ++i) {
        out.push_back(event_row{r.i64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3)});
    }
    co_return out;
}

task<result<store_totals>> stored_totals(connection &c) {
    auto run_call =
        c.async_run("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM versions WHERE is_latest AND "
                    "NOT delete_marker");
    auto r = co_await std::move(run_call);
    co_return store_totals{r.i64(0, 0), r.i64(0, 1)};
}

} // namespace ifmatch::storage::postgres
