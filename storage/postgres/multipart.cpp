// Multipart uploads of the PostgreSQL backend: Create, UploadPart(Copy), Complete, Abort as
// writes, ListParts and ListMultipartUploads as reads. The answers are the SQLite backend's
// (storage/sqlite/multipart.hpp); what differs is how concurrent writers are kept apart.
//
// RULES
// 1. t_start of an upload (D3) is the snapshot Create takes after the key's lock: it sees every
//    write to the key committed before Create, and none committed after it. Complete decides its
//    conditions against that snapshot, with existed_at_start as Create recorded it.
// 2. The upload row is the upload's lock: UploadPart, Complete and Abort take it FOR UPDATE
//    before they read or change its parts, so a part either commits before a Complete (which then
//    sees it) or finds the upload gone (NoSuchUpload). Complete takes the key's lock first, then
//    the upload's; nothing takes them in the other order.
// 3. A part row owns one reference to its body. Complete creates the object's body as a list of
//    the listed parts' bodies (body_parts rows), which take over the parts rows' references; the
//    bodies of parts not listed are released. Abort and a 409 refusal release them all. No part
//    bytes are copied.
// 4. A refused Complete (412 / 404 / 428) is an error: the transaction rolls back and the upload
//    stays (D8). A 409 is a successful result carrying the refusal, so the upload's removal
//    commits with it.
// 5. The version a Complete creates records its upload id (meta_upload_id). A Complete repeated
//    while that version is still the key's current one answers the same result and writes
//    nothing (R-M12); after another write the id is unknown again (NoSuchUpload).
// 6. The parts list may name one number more than once (a part re-sent while its first upload
//    was still running): numbers must not decrease, and of entries naming the same number the
//    last one is checked against the stored part (the upload that committed last).
// 7. Listings are in byte order of keys (and upload ids): every comparison and ORDER BY on them
//    uses COLLATE "C", whatever the database's default collation.
#include "storage/postgres/operations.hpp"

#include "protocol/multipart.hpp"
#include "storage/listing_rules.hpp"
#include "storage/multipart_rules.hpp"
#include "storage/version_rules.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <limits>
#include <map>

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

// The columns read_upload reads, in order; start_snapshot (4) is read only by Complete.
constexpr const char *upload_columns =
    "upload_id, bucket, key, initiated_ms, start_snapshot, existed_at_start, meta, "
    "checksum_algo, checksum_type, writer_request_id, writer_access_key";

upload_info read_upload(const rows &r, int row) {
    upload_info u;
    u.upload_id = r.text(row, 0);
    u.bucket = r.text(row, 1);
    u.key = r.text(row, 2);
    u.initiated_ms = r.i64(row, 3);
    u.existed_at_start = r.boolean(row, 5);
    u.meta = decode_meta(r.view(row, 6));
    u.checksum_algo = r.text(row, 7);
    u.checksum_type = r.text(row, 8);
    u.writer.request_id = r.text(row, 9);
    u.writer.access_key = r.text(row, 10);
    return u;
}

std::string new_upload_id() {
    unsigned char bytes[24];
    RAND_bytes(bytes, sizeof bytes);
    static const char digits[] = "0123456789abcdef";
    std::string id;
    for (unsigned char b : bytes) {
        id.push_back(digits[b >> 4]);
        id.push_back(digits[b & 15]);
    }
    return id;
}

s3_error no_such_upload(const std::string &id) {
    return s3_error(s3_errc::no_such_upload).with("UploadId", id);
}

// The upload row (bucket, key, id), locked FOR UPDATE when `lock` (RULE 2). Empty when absent.
rows upload_row(connection &c, const std::string &bucket, const std::string &key,
                const std::string &upload_id, bool lock) {
    return c.run(std::string("SELECT ") + upload_columns +
                     " FROM uploads WHERE upload_id = $1 AND bucket = $2 AND key = $3" +
                     (lock ? " FOR UPDATE" : ""),
                 upload_id, bucket, key);
}

// The upload, read without a lock. Errors: NoSuchBucket, NoSuchUpload.
result<upload_info> lookup_upload(connection &c, const std::string &bucket,
                                  const std::string &key, const std::string &upload_id) {
    if (!find_bucket(c, bucket)) {
        return no_such_bucket(bucket);
    }
    auto r = upload_row(c, bucket, key, upload_id, false);
    if (r.empty()) {
        return no_such_upload(upload_id);
    }
    return read_upload(r, 0);
}

part_info read_part(const rows &r, int row) {
    part_info p;
    p.number = static_cast<int>(r.i64(row, 0));
    p.etag = r.text(row, 1);
    p.size = static_cast<std::uint64_t>(r.i64(row, 2));
    p.body_id = r.i64(row, 3);
    p.checksums = decode_pairs(r.view(row, 4));
    p.last_modified_ms = r.i64(row, 5);
    return p;
}

// Up to `limit` parts numbered above `after`, ascending.
std::vector<part_info> load_parts(connection &c, const std::string &upload_id, int after,
                                  std::int64_t limit) {
    auto r = c.run("SELECT part_number, etag, size, body_id, checksums, last_modified_ms FROM "
                   "parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3",
                   upload_id, after, limit);
    std::vector<part_info> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(read_part(r, i));
    return out;
}

} // namespace

result<upload_info> create_upload(write_txn &t, const create_upload_request &r) {
    auto b = find_bucket_for_write(t.c, r.bucket);
    if (!b) {
        return no_such_bucket(r.bucket);
    }
    auto k = lock_key(t, r.bucket, r.key);
    // RULE 1: taken after the lock was granted, so it sees every write to the key before it.
    auto snap = t.c.run("SELECT pg_current_snapshot()::text");
    upload_info u;
    u.upload_id = new_upload_id();
    u.bucket = r.bucket;
    u.key = r.key;
    u.initiated_ms = t.now_ms;
    u.existed_at_start = k.current && !k.current->delete_marker;
    u.meta = r.meta;
    u.checksum_algo = r.checksum_algo;
    u.checksum_type = r.checksum_type;
    u.writer = r.writer;
    t.c.exec(std::string("INSERT INTO uploads(") + upload_columns +
                 ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
             {u.upload_id, u.bucket, u.key, u.initiated_ms, snap.text(0, 0), u.existed_at_start,
              encode_meta(u.meta), u.checksum_algo, u.checksum_type, as_text(u.writer.request_id),
              as_text(u.writer.access_key)});
    return u;
}

result<upload_info> find_upload(connection &c, const std::string &bucket, const std::string &key,
                                const std::string &upload_id) {
    return lookup_upload(c, bucket, key, upload_id);
}

namespace {

// UploadPartCopy's source at commit (R-C16): its conditions are decided against the source's
// version as it is now, in decide_copy_source's order; when conditions were sent and that version
// is no longer the one whose bytes the part holds, the part would be stale: 409.
std::optional<s3_error> check_copy_source(write_txn &t, const upload_part_request::copy_from &s,
                                          const std::string &key) {
    if (!find_bucket(t.c, s.bucket)) {
        return no_such_bucket(s.bucket);
    }
    auto v = s.version_id ? find_version(t.c, s.bucket, s.key, *s.version_id)
                          : find_latest(t.c, s.bucket, s.key);
    return part_source_refusal(s, v, t.now_ms, key);
}

// A reference to the body of the version UploadPartCopy read. The version row is held FOR KEY
// SHARE, so it cannot be removed (and its body released) before this write commits; a version
// already gone answers NoSuchKey.
result<std::int64_t> share_body(write_txn &t, const upload_part_request &r) {
    auto v = t.c.run("SELECT 1 FROM versions WHERE seq = $1 AND body_id = $2 FOR KEY SHARE",
                     r.share_version_seq, r.share_body_id);
    if (v.empty()) {
        return s3_error(s3_errc::no_such_key, "The source object was removed during the copy.");
    }
    add_body_ref(t.c, r.share_body_id);
    return r.share_body_id;
}

} // namespace

result<part_info> put_part(write_txn &t, const upload_part_request &r) {
    if (!r.share_body_id && r.body.is_file()) {
        t.staged.push_back(staged_id(r.body.file)); // dropped unless this write commits
    }
    begin(t);
    if (!find_bucket(t.c, r.bucket)) {
        return no_such_bucket(r.bucket);
    }
    if (upload_row(t.c, r.bucket, r.key, r.upload_id, true).empty()) { // RULE 2
        return no_such_upload(r.upload_id);
    }
    if (r.source) {
        if (auto err = check_copy_source(t, *r.source, r.key)) {
            return *err;
        }
    }
    part_info p = r.part;
    if (r.share_body_id) {
        auto shared = share_body(t, r);
        if (shared.has_error()) {
            return shared.error();
        }
        p.body_id = *shared;
    } else {
        p.body_id = insert_body(t, r.body);
    }
    p.last_modified_ms = t.now_ms;
    // A part sent again replaces the stored one, whose body loses the reference the row held.
    auto old = t.c.run("DELETE FROM parts WHERE upload_id = $1 AND part_number = $2 RETURNING "
                       "body_id",
                       r.upload_id, p.number);
    t.c.exec("INSERT INTO parts(upload_id, part_number, etag, size, body_id, checksums, "
             "last_modified_ms) VALUES($1, $2, $3, $4, $5, $6, $7)",
             {r.upload_id, p.number, p.etag, static_cast<std::int64_t>(p.size), p.body_id,
              encode_pairs(p.checksums), p.last_modified_ms});
    if (!old.empty()) {
        release_body(t.c, old.i64(0, 0));
    }
    return p;
}

namespace {

// Removes the upload and its parts, releasing the bodies of the parts not in `kept` (whose
// references the new object's body took over, RULE 3).
void drop_upload(write_txn &t, const std::string &upload_id, const std::vector<int> &kept) {
    auto gone = t.c.run("DELETE FROM parts WHERE upload_id = $1 RETURNING part_number, body_id",
                        upload_id);
    t.c.run("DELETE FROM uploads WHERE upload_id = $1", upload_id);
    for (int i = 0; i < gone.size(); ++i) {
        if (std::find(kept.begin(), kept.end(), static_cast<int>(gone.i64(i, 0))) == kept.end()) {
            release_body(t.c, gone.i64(i, 1));
        }
    }
}

std::optional<std::string> value_of(const string_pairs &pairs, const std::string &name) {
    auto it = std::find_if(pairs.begin(), pairs.end(), [&](auto &p) { return p.first == name; });
    if (it == pairs.end()) return std::nullopt;
    return it->second;
}

// The listed parts (RULE 6), from the upload's parts in one query.
result<std::vector<part_info>> listed_parts(write_txn &t, const complete_request &r) {
    std::map<int, part_info> stored;
    for (auto &p : load_parts(t.c, r.upload_id, 0, std::numeric_limits<std::int32_t>::max())) {
        stored.emplace(p.number, std::move(p));
    }
    return select_parts(r, [&stored](int n) -> std::optional<part_info> {
        auto it = stored.find(n);
        if (it == stored.end()) return std::nullopt;
        return it->second;
    });
}

// The object's body: a bodies row with one reference (the new version's) listing the parts'
// bodies in order, each body_parts row taking over its part row's reference (RULE 3).
std::int64_t compose_body(write_txn &t, const std::vector<part_info> &parts, std::uint64_t size) {
    auto body = t.c.run("INSERT INTO bodies(size, data, chunked, refs) VALUES($1, NULL, false, "
                        "1) RETURNING id",
                        static_cast<std::int64_t>(size));
    std::int64_t id = body.i64(0, 0);
    std::string ids = "{";
    for (auto &p : parts) {
        ids += (ids.size() > 1 ? "," : "") + std::to_string(p.body_id);
    }
    ids += "}";
    t.c.run("INSERT INTO body_parts(body_id, n, part_body_id) SELECT $1, n - 1, part FROM "
            "unnest($2::bigint[]) WITH ORDINALITY AS listed(part, n)",
            id, ids);
    return id;
}

// RULE 5: the result of the Complete whose version, made with this upload id, is current.
std::optional<complete_result> replay_completed(const key_lock &k, const bucket_info &b,
                                                const std::string &upload_id) {
    if (!k.current || k.current->delete_marker) {
        return std::nullopt;
    }
    const auto &v = *k.current;
    if (value_of(v.meta.extra, meta_upload_id) != upload_id) {
        return std::nullopt;
    }
    complete_result res;
    res.written.version_id = v.version_id;
    res.written.versioned = b.versioning == "Enabled";
    res.written.etag = v.etag;
    res.written.last_modified_ms = v.last_modified_ms;
    res.written.size = v.size;
    res.written.meta = v.meta;
    res.checksum_type = v.meta.checksum_type;
    return res;
}

} // namespace

result<complete_result> complete_upload(write_txn &t, const complete_request &r,
                                        against_fn against) {
    auto b = find_bucket_for_write(t.c, r.bucket);
    if (!b) {
        return no_such_bucket(r.bucket);
    }
    auto k = lock_key(t, r.bucket, r.key);
    auto row = upload_row(t.c, r.bucket, r.key, r.upload_id, true); // RULE 2
    if (row.empty()) {
        if (auto replay = replay_completed(k, *b, r.upload_id)) {
            return *replay;
        }
        return no_such_upload(r.upload_id);
    }
    auto u = read_upload(row, 0);
    const std::string start_snapshot = row.text(0, 4);
    auto parts = listed_parts(t, r);
    if (parts.has_error()) {
        return parts.error();
    }
    std::uint64_t size = 0;
    std::vector<std::string> etags;
    std::vector<int> kept;
    for (auto &p : *parts) {
        size += p.size;
        etags.push_back(p.etag);
        kept.push_back(p.number);
    }
    if (r.mp_object_size && *r.mp_object_size != size) {
        return s3_error(s3_errc::invalid_request, "The provided 'x-amz-mp-object-size' header "
                                                  "value does not match what was computed.");
    }
    object_meta meta = u.meta;
    if (auto c = complete_checksum(u, r, *parts, meta); c.has_error()) {
        return c.error();
    }
    meta.extra.emplace_back(meta_upload_id, r.upload_id); // RULE 5
    auto ctx = gather_context(k, *b, start_snapshot, r.server_requires_conditions); // RULE 1
    if (ctx.has_error()) {
        return ctx.error();
    }
    ctx->existed_at_start = u.existed_at_start;
    auto outcome = protocol::evaluate_write(r.conditions, *ctx);
    if (outcome.verdict != protocol::write_verdict::proceed) {
        *against = state_of_lock(k);
    }
    complete_result res;
    if (outcome.verdict == protocol::write_verdict::conflict) {
        drop_upload(t, r.upload_id, {}); // RULE 4: the upload id is gone after a 409
        res.refusal = protocol::write_verdict_error(outcome, r.key);
        return res;
    }
    if (outcome.verdict != protocol::write_verdict::proceed) {
        return protocol::write_verdict_error(outcome, r.key);
    }
    object_version v;
    v.etag = protocol::multipart_etag(etags).value_or("\"\"");
    v.size = size;
    v.meta = meta;
    v.parts_count = static_cast<int>(parts->size());
    v.writer = r.writer;
    v.body_id = compose_body(t, *parts, size);
    v.last_modified_ms = u.initiated_ms; // R-L3
    v.rank_ms = u.initiated_ms;          // R-M11: ranks by initiation time
    drop_upload(t, r.upload_id, kept);
    install_version(t, *b, k, v);
    touch_key(t, k, false, k.current && !k.current->delete_marker);
    res.written.version_id = v.version_id;
    res.written.versioned = b->versioning == "Enabled";
    res.written.etag = v.etag;
    res.written.last_modified_ms = v.last_modified_ms;
    res.written.size = v.size;
    res.written.meta = v.meta;
    res.checksum_type = meta.checksum_type;
    return res;
}

result<bool> abort_upload(write_txn &t, const std::string &bucket, const std::string &key,
                          const std::string &upload_id) {
    if (!find_bucket(t.c, bucket)) {
        return no_such_bucket(bucket);
    }
    if (upload_row(t.c, bucket, key, upload_id, true).empty()) { // RULE 2
        return no_such_upload(upload_id);
    }
    drop_upload(t, upload_id, {});
    return true;
}

result<list_parts_page> list_parts(connection &c, const list_parts_request &r) {
    auto u = lookup_upload(c, r.bucket, r.key, r.upload_id);
    if (u.has_error()) {
        return u.error();
    }
    const int max_parts = std::max(0, r.max_parts);
    list_parts_page page;
    page.upload = std::move(*u);
    page.parts = load_parts(c, r.upload_id, r.marker, std::int64_t(max_parts) + 1);
    if (page.parts.size() > static_cast<std::size_t>(max_parts)) {
        page.parts.resize(static_cast<std::size_t>(max_parts));
        page.truncated = true;
    }
    return page;
}

// Keys ascending in byte order, then initiation order, then upload id. The walk reads batches
// after a cursor (key, initiated_ms, upload_id); a delimiter collapses keys into common prefixes
// and the walk then skips every key starting with that prefix. A common prefix at or before the
// key marker was returned by an earlier page and is skipped. Uploads and common prefixes count
// together against max-uploads; the page is truncated when one more entry exists.
result<list_uploads_page> list_uploads(connection &c, const list_uploads_request &r) {
    if (!find_bucket(c, r.bucket)) {
        return no_such_bucket(r.bucket);
    }
    constexpr std::int64_t before_all = std::numeric_limits<std::int64_t>::min();
    constexpr std::int64_t after_all = std::numeric_limits<std::int64_t>::max();
    list_uploads_page page;
    // The cursor: rows strictly after (key, at, id) are next; rows whose key starts with `skip`
    // (a common prefix already answered) are passed over.
    std::string key = r.key_marker < r.prefix ? r.prefix : r.key_marker;
    std::int64_t at = before_all;
    std::string id, skip;
    if (!(r.key_marker < r.prefix)) {
        at = after_all; // the marker's key is done, unless the upload id marker names one of its
        if (!r.upload_id_marker.empty()) {
            auto m = c.run("SELECT initiated_ms FROM uploads WHERE upload_id = $1 AND bucket = $2 "
                           "AND key = $3",
                           r.upload_id_marker, r.bucket, r.key_marker);
            if (!m.empty()) {
                at = m.i64(0, 0);
                id = r.upload_id_marker;
            }
        }
    }
    const std::size_t limit = static_cast<std::size_t>(std::max(0, r.max_uploads));
    auto full = [&] { return page.uploads.size() + page.common_prefixes.size() >= limit; };
    for (;;) {
        auto batch = c.exec(
            std::string("SELECT ") + upload_columns +
                " FROM uploads WHERE bucket = $1 AND starts_with(key, $2) AND (key COLLATE \"C\" "
                "> $3 OR (key = $3 AND (initiated_ms > $4 OR (initiated_ms = $4 AND upload_id "
                "COLLATE \"C\" > $5)))) AND NOT ($6::text <> '' AND starts_with(key, $6::text)) "
                "ORDER BY key COLLATE \"C\", initiated_ms, upload_id COLLATE \"C\" LIMIT 1000",
            {r.bucket, r.prefix, key, at, id, skip});
        if (batch.empty()) {
            return page;
        }
        for (int i = 0; i < batch.size(); ++i) {
            auto u = read_upload(batch, i);
            if (auto cp = common_prefix(u.key, r.prefix, r.delimiter); !cp.empty()) {
                if (cp > r.key_marker) {
                    if (full()) {
                        page.truncated = true;
                        return page;
                    }
                    page.common_prefixes.push_back(cp);
                    page.next_key_marker = cp;
                    page.next_upload_id_marker.clear();
                }
                key = cp;
                at = after_all;
                id.clear();
                skip = cp;
                break;
            }
            if (full()) {
                page.truncated = true;
                return page;
            }
            key = u.key;
            at = u.initiated_ms;
            id = u.upload_id;
            page.next_key_marker = u.key;
            page.next_upload_id_marker = u.upload_id;
            page.uploads.push_back(std::move(u));
        }
    }
}

} // namespace ifmatch::storage::postgres
