// Object writes: PutObject, CopyObject, DeleteObject.
//
// RULES (each write is one job of the writer's group transaction, store.cpp INVARIANT 1)
// 1. Bucket existence first (NoSuchBucket), then the write context is gathered and handed to
//    protocol::evaluate_write / evaluate_delete; a refusal returns an error before anything is
//    written, so nothing of the refused write remains (R-P15).
// 2. The new version is installed by rows::install_version, which applies the bucket's
//    versioning state; the key's mutation is recorded by rows::touch_key for the 409 model (D3),
//    which also writes the key's current-version pointer (key_state.latest_seq, schema 2).
// 3. Bodies are reference counted: a copy adds a reference to the source's body (no bytes copied).
#include "storage/version_rules.hpp"
#include "storage/sqlite/operations.hpp"

#include "protocol/object_lock.hpp"
#include "storage/codec.hpp"
#include "storage/sqlite/history.hpp"
#include "storage/sqlite/rows.hpp"

namespace ifmatch::storage::sqlite {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

write_result install(write_txn &t, const bucket_info &b, const std::string &key,
                     const version_fields &f, std::int64_t body_id,
                     const std::string *inline_body = nullptr) {
    object_version v;
    v.key = key;
    v.etag = f.etag;
    v.version_id = f.version_id;
    v.size = f.size;
    v.meta = f.meta;
    v.parts_count = f.parts_count;
    v.writer = f.writer;
    v.body_id = body_id;
    v.last_modified_ms = t.now_ms;
    rows::install_version(t, b, v);
    rows::touch_key(t, b.name, key, v.seq, false, true);
    if (inline_body && v.is_latest) {
        v.bucket = b.name;
        t.key_rewritten(v, *inline_body); // after touch_key's key_changed: this one wins
    }
    write_result r;
    r.version_id = v.version_id;
    r.versioned = b.versioning == "Enabled";
    r.etag = v.etag;
    r.last_modified_ms = v.last_modified_ms;
    r.size = v.size;
    r.meta = v.meta;
    return r;
}

// Steps after the bucket lookup shared by every conditional write (D3).
std::optional<s3_error> decide(write_txn &t, const bucket_info &b, const std::string &key,
                               const protocol::write_conditions &c, start_token start,
                               bool server_requires, std::optional<current_state> *refused) {
    auto ctx = rows::gather_context(t, b, key, start.seq, server_requires);
    auto outcome = protocol::evaluate_write(c, ctx);
    if (outcome.verdict == protocol::write_verdict::proceed) {
        return std::nullopt;
    }
    if (refused) {
        *refused = capture_current(t.db, b.name, key);
    }
    return protocol::write_verdict_error(outcome, key);
}

} // namespace

result<write_result> put_object(write_txn &t, const put_request &r,
                                std::optional<current_state> *refused) {
    if (r.body.is_file()) {
        // First, before any statement can throw: kept on commit, removed otherwise.
        t.adopt_file(r.body.file);
    }
    auto b = rows::find_bucket(t, r.bucket);
    if (!b) {
        return rows::no_such_bucket(r.bucket);
    }
    if (auto err = decide(t, *b, r.key, r.conditions, r.start, r.server_requires_conditions,
                          refused)) {
        return *err;
    }
    std::int64_t body_id = rows::insert_body(t, r.body);
    return install(t, *b, r.key, r.fields, body_id,
                   r.body.is_file() ? nullptr : &r.body.inline_data);
}

namespace {

// Source lookup of CopyObject (R-C7): NoSuchBucket of the source, else the version found (none,
// a delete marker or an object), which protocol::decide_copy judges.
result<std::optional<object_version>> copy_source(write_txn &t, const copy_request &r) {
    if (!rows::find_bucket(t, r.src_bucket)) {
        return rows::no_such_bucket(r.src_bucket);
    }
    if (r.src_version_id) {
        return rows::find_version(t.db, r.src_bucket, r.src_key, *r.src_version_id);
    }
    return rows::find_latest(t.db, r.src_bucket, r.src_key);
}


// The content MD5 of a multipart source: stored on the version, or the caller's value for this
// exact version, which is then kept on the source so later copies are free (spec D12).
result<std::string> plain_md5_of_multipart(write_txn &t, const object_version &src,
                                           const std::optional<std::pair<std::int64_t, std::string>> &hint) {
    for (auto &[k, v] : src.meta.extra) {
        if (k == meta_content_md5) return v;
    }
    if (!hint || hint->first != src.seq) {
        return s3_error(s3_errc::internal_error,
                        "The copy source changed while it was being read; retry the request.");
    }
    object_meta m = src.meta;
    m.extra.emplace_back(meta_content_md5, hint->second);
    t.key_changed(src.bucket, src.key);
    query q(t.db, "UPDATE versions SET meta = ? WHERE seq = ?");
    q->bind(1, encode_meta(m)).bind(2, src.seq);
    q->step();
    return hint->second;
}

} // namespace

result<write_result> copy_object(write_txn &t, const copy_request &r,
                                 std::optional<current_state> *refused) {
    auto b = rows::find_bucket(t, r.bucket);
    if (!b) {
        return rows::no_such_bucket(r.bucket);
    }
    auto found = copy_source(t, r);
    if (found.has_error()) {
        return found.error();
    }
    auto &src = *found;
    auto facts = copy_facts_of(
        r, src, rows::gather_context(t, *b, r.key, r.start.seq, r.server_requires_conditions),
        t.now_ms);
    if (auto d = protocol::decide_copy(facts); d.answer != protocol::copy_answer::proceed) {
        if (d.answer == protocol::copy_answer::destination) {
            if (refused) {
                *refused = capture_current(t.db, b->name, r.key);
            }
        }
        return protocol::copy_decision_error(d, r.src_key, r.src_version_id.value_or(""), r.key);
    }
    std::optional<std::string> multipart_md5;
    if (src->etag.find('-') != std::string::npos) {
        auto md5 = plain_md5_of_multipart(t, *src, r.source_md5);
        if (md5.has_error()) {
            return md5.error();
        }
        multipart_md5 = *md5; // D12 / R-E4: the copy gets the plain MD5 ETag
    }
    version_fields f = copy_fields(r, *src, multipart_md5);
    if (src->body_id) {
        rows::add_body_ref(t.db, src->body_id);
    }
    auto res = install(t, *b, r.key, f, src->body_id);
    res.source_version_id = src->version_id;
    return res;
}

namespace {

result<delete_result> delete_specific_version(write_txn &t, const bucket_info &b,
                                              const delete_request &r) {
    delete_result res;
    res.version_id = *r.version_id;
    auto v = rows::find_version(t.db, b.name, r.key, *r.version_id);
    if (!v) {
        return res; // S3 answers 204 for a version that does not exist
    }
    if (r.only_noncurrent && v->is_latest) {
        return s3_error(s3_errc::precondition_failed, "The version is the current one.")
            .with("Condition", "noncurrent");
    }
    // B-L3, B-L4: a locked version is never removed; judged on the store's clock, at commit.
    if (auto locked = protocol::deletion_refusal(protocol::lock_of(v->meta.extra), t.now_ms,
                                                 r.bypass_governance)) {
        return *locked;
    }
    res.delete_marker = v->delete_marker;
    rows::remove_version(t, *v);
    if (v->is_latest) {
        rows::promote_latest(t, b.name, r.key);
    }
    auto cur = rows::find_current(t, b.name, r.key);
    rows::touch_key(t, b.name, r.key, t.next_seq(), true, cur && !cur->delete_marker);
    return res;
}

} // namespace

result<delete_result> delete_object(write_txn &t, const delete_request &r,
                                    std::optional<current_state> *refused) {
    auto b = rows::find_bucket(t, r.bucket);
    if (!b) {
        return rows::no_such_bucket(r.bucket);
    }
    auto ctx = rows::gather_context(t, *b, r.key, r.start.seq, r.server_requires_conditions);
    if (r.by_lifecycle) {
        ctx.conditions_required = false; // D5 binds clients, not the bucket's own rules
    }
    auto outcome = protocol::evaluate_delete(r.conditions, ctx);
    if (outcome.verdict != protocol::write_verdict::proceed) {
        if (refused) {
            *refused = capture_current(t.db, b->name, r.key);
        }
        return protocol::write_verdict_error(outcome, r.key);
    }
    if (r.version_id) {
        return delete_specific_version(t, *b, r);
    }
    delete_result res;
    if (b->versioning.empty()) {
        auto cur = rows::find_current(t, b->name, r.key);
        if (cur) {
            rows::remove_version(t, *cur);
            rows::touch_key(t, b->name, r.key, t.next_seq(), true, false);
        }
        return res;
    }
    object_version marker;
    marker.key = r.key;
    marker.delete_marker = true;
    marker.last_modified_ms = t.now_ms;
    marker.writer = r.writer;
    marker.meta.extra = r.marker_extra;
    marker.version_id = r.marker_version_id;
    rows::install_version(t, *b, marker);
    rows::touch_key(t, b->name, r.key, marker.seq, true, false);
    res.delete_marker = true;
    res.version_id = marker.version_id;
    return res;
}

} // namespace ifmatch::storage::sqlite
