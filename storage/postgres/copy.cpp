// CopyObject of the PostgreSQL backend.
//
// RULES
// 1. D6's order, as the SQLite backend: the destination bucket, then the source bucket
//    (NoSuchBucket of either, both rows held so neither can be deleted before commit), then the
//    destination key's lock (rows.hpp RULE 1), then the source version, then protocol::decide_copy
//    against the source and the locked destination.
// 2. The source is read after the destination's lock: a copy onto itself then sees the key as the
//    lock found it. Another source key is read unlocked; the statement sees a committed state,
//    which is all a copy promises.
// 3. No bytes are copied: the destination takes a reference to the source's body.
// 4. A multipart source becomes a single-part copy whose ETag is the plain content MD5 (D12); the
//    MD5 is the one stored on the source or the caller's for that exact version, then kept on the
//    source so later copies are free.
#include "storage/postgres/operations.hpp"
#include "storage/version_rules.hpp"

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

// RULE 4. Errors: InternalError when the caller's MD5 is for another version than `src`.
result<std::string>
plain_md5_of_multipart(write_txn &t, const object_version &src,
                       const std::optional<std::pair<std::int64_t, std::string>> &hint) {
    for (auto &[k, v] : src.meta.extra) {
        if (k == meta_content_md5)
            return v;
    }
    if (!hint || hint->first != src.seq) {
        return s3_error(s3_errc::internal_error,
                        "The copy source changed while it was being read; retry the request.");
    }
    object_meta m = src.meta;
    m.extra.emplace_back(meta_content_md5, hint->second);
    // Only onto the meta this copy read: a concurrent tag or ACL change of the source (whose key
    // this copy may not hold) wins, and the MD5 is simply stored by a later copy.
    t.c.queue("UPDATE versions SET meta = $1 WHERE seq = $2 AND meta = $3",
              {encode_meta(m), src.seq, encode_meta(src.meta)});
    return hint->second;
}

} // namespace

task<result<write_result>> copy_object(write_txn &t, const copy_request &r, against_fn against) {
    // RULES 1 and 2 in one round trip: the statements run in this order, each once the one
    // before it has finished.
    rows dest_row, src_row, source;
    key_rows locked;
    queue_bucket_for_write(t.c, r.bucket, &dest_row);
    queue_bucket_for_write(t.c, r.src_bucket, &src_row);
    queue_lock_key(t, r.bucket, r.key, locked);
    queue_version(t.c, r.src_bucket, r.src_key, r.src_version_id, &source);
    auto flush_call = t.c.async_flush();
    co_await std::move(flush_call);
    auto b = bucket_of(dest_row);
    if (!b) {
        co_return no_such_bucket(r.bucket);
    }
    if (!bucket_of(src_row)) {
        co_return no_such_bucket(r.src_bucket);
    }
    auto k = locked_key(t, r.bucket, r.key, locked);
    auto src = version_of(source);
    auto gather_context_call = gather_context(k, *b, r.start, r.server_requires_conditions);
    auto ctx = co_await std::move(gather_context_call);
    if (ctx.has_error()) {
        co_return ctx.error();
    }
    auto facts = copy_facts_of(r, src, *ctx, t.now_ms);
    if (auto d = protocol::decide_copy(facts); d.answer != protocol::copy_answer::proceed) {
        if (d.answer == protocol::copy_answer::destination && against) {
            *against = state_of_lock(k);
        }
        co_return protocol::copy_decision_error(d, r.src_key, r.src_version_id.value_or(""), r.key);
    }
    std::optional<std::string> multipart_md5;
    if (src->etag.find('-') != std::string::npos) {
        auto md5 = plain_md5_of_multipart(t, *src, r.source_md5);
        if (md5.has_error()) {
            co_return md5.error();
        }
        multipart_md5 = *md5; // D12 / R-E4: the copy gets the plain MD5 ETag
    }
    version_fields f = copy_fields(r, *src, multipart_md5);
    if (src->body_id) {
        add_body_ref(t.c, src->body_id); // RULE 3
    }
    auto install_new_version_call = install_new_version(t, *b, k, f, src->body_id);
    auto res = co_await std::move(install_new_version_call);
    res.source_version_id = src->version_id;
    co_return res;
}

} // namespace ifmatch::storage::postgres
