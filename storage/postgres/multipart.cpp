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
#include "protocol/multipart.hpp"

#include "storage/listing_rules.hpp"
#include "storage/multipart_rules.hpp"
#include "storage/postgres/operations.hpp"
#include "storage/version_rules.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <openssl/rand.h>

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
task<rows> upload_row(connection &c, const std::string &bucket, const std::string &key,
                      const std::string &upload_id, bool lock) {
    auto run_call =
        c.async_run(std::string("SELECT ") + upload_columns +
                        " FROM uploads WHERE upload_id = $1 AND bucket = $2 AND key = $3" +
                        (lock ? " FOR UPDATE" : ""),
                    upload_id, bucket, key);
    co_return co_await std::move(run_call);
}

// The upload, read without a lock. Errors: NoSuchBucket, NoSuchUpload.
task<result<upload_info>> lookup_upload(connection &c, const std::string &bucket,
                                        const std::string &key, const std::string &upload_id) {
    auto find_bucket_call = find_bucket(c, bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(bucket);
    }
    auto upload_row_call = upload_row(c, bucket, key, upload_id, false);
    auto r = co_await std::move(upload_row_call);
    if (r.empty()) {
        co_return no_such_upload(upload_id);
    }
    co_return read_upload(r, 0);
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
task<std::vector<part_info>> load_parts(connection &c, const std::string &upload_id, int after,
                                        std::int64_t limit) {
    auto run_call =
        c.async_run("SELECT part_number, etag, size, body_id, checksums, last_modified_ms FROM "
                    "parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3",
                    upload_id, after, limit);
    auto r = co_await std::move(run_call);
    std::vector<part_info> out;
    for (int i = 0; i < r.size(); ++i)
        out.push_back(read_part(r, i));
    co_return out;
}

} // namespace

task<result<upload_info>> create_upload(write_txn &t, const create_upload_request &r) {
    auto find_bucket_for_write_call = find_bucket_for_write(t.c, r.bucket);
    auto b = co_await std::move(find_bucket_for_write_call);
    if (!b) {
        co_return no_such_bucket(r.bucket);
    }
    auto lock_key_call = lock_key(t, r.bucket, r.key);
    auto k = co_await std::move(lock_key_call);
    // RULE 1: taken after the lock was granted, so it sees every write to the key before it.
    auto run_call = t.c.async_run("SELECT pg_current_snapshot()::text");
    auto snap = co_await std::move(run_call);
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
    std::vector<param> values{u.upload_id,
                              u.bucket,
                              u.key,
                              u.initiated_ms,
                              snap.text(0, 0),
                              u.existed_at_start,
                              encode_meta(u.meta),
                              u.checksum_algo,
                              u.checksum_type,
                              as_text(u.writer.request_id),
                              as_text(u.writer.access_key)};
    auto exec_call = t.c.async_exec(std::string("INSERT INTO uploads(") + upload_columns +
                                        ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                                    std::move(values));
    co_await std::move(exec_call);
    co_return u;
}

task<result<upload_info>> find_upload(connection &c, const std::string &bucket,
                                      const std::string &key, const std::string &upload_id) {
    auto lookup_upload_call = lookup_upload(c, bucket, key, upload_id);
    co_return co_await std::move(lookup_upload_call);
}

namespace {

// UploadPartCopy's source at commit (R-C16): its conditions are decided against the source's
// version as it is now, in decide_copy_source's order; when conditions were sent and that version
// is no longer the one whose bytes the part holds, the part would be stale: 409.
task<std::optional<s3_error>>
check_copy_source(write_txn &t, const upload_part_request::copy_from &s, const std::string &key) {
    auto find_bucket_call = find_bucket(t.c, s.bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(s.bucket);
    }
    // No co_await inside a conditional expression (docs/architecture.md §4).
    std::optional<object_version> v;
    if (s.version_id) {
        auto find_version_call = find_version(t.c, s.bucket, s.key, *s.version_id);
        v = co_await std::move(find_version_call);
    } else {
        auto find_latest_call = find_latest(t.c, s.bucket, s.key);
        v = co_await std::move(find_latest_call);
    }
    co_return part_source_refusal(s, v, t.now_ms, key);
}

// A reference to the body of the version UploadPartCopy read. The version row is held FOR KEY
// SHARE, so it cannot be removed (and its body released) before this write commits; a version
// already gone answers NoSuchKey.
task<result<std::int64_t>> share_body(write_txn &t, const upload_part_request &r) {
    auto run_call =
        t.c.async_run("SELECT 1 FROM versions WHERE seq = $1 AND body_id = $2 FOR KEY SHARE",
                      r.share_version_seq, r.share_body_id);
    auto v = co_await std::move(run_call);
    if (v.empty()) {
        co_return s3_error(s3_errc::no_such_key, "The source object was removed during the copy.");
    }
    add_body_ref(t.c, r.share_body_id);
    co_return r.share_body_id;
}

} // namespace

task<result<part_info>> put_part(write_txn &t, const upload_part_request &r) {
    if (!r.share_body_id && r.body.is_file()) {
        t.staged.push_back(staged_id(r.body.file)); // dropped unless this write commits
    }
    auto begin_call = begin(t);
    co_await std::move(begin_call);
    auto find_bucket_call = find_bucket(t.c, r.bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(r.bucket);
    }
    auto upload_row_call = upload_row(t.c, r.bucket, r.key, r.upload_id, true);
    if ((co_await std::move(upload_row_call)).empty()) { // RULE 2
        co_return no_such_upload(r.upload_id);
    }
    if (r.source) {
        auto check_copy_source_call = check_copy_source(t, *r.source, r.key);
        if (auto err = co_await std::move(check_copy_source_call)) {
            co_return *err;
        }
    }
    part_info p = r.part;
    if (r.share_body_id) {
        auto share_body_call = share_body(t, r);
        auto shared = co_await std::move(share_body_call);
        if (shared.has_error()) {
            co_return shared.error();
        }
        p.body_id = *shared;
    } else {
        auto store_body_call = store_body(t, r.body);
        p.body_id = co_await std::move(store_body_call);
    }
    p.last_modified_ms = t.now_ms;
    // A part sent again replaces the stored one, whose body loses the reference the row held.
    auto run_call =
        t.c.async_run("DELETE FROM parts WHERE upload_id = $1 AND part_number = $2 RETURNING "
                      "body_id",
                      r.upload_id, p.number);
    auto old = co_await std::move(run_call);
    std::vector<param> values{r.upload_id,
                              p.number,
                              p.etag,
                              static_cast<std::int64_t>(p.size),
                              p.body_id,
                              encode_pairs(p.checksums),
                              p.last_modified_ms};
    auto exec_call =
        t.c.async_exec("INSERT INTO parts(upload_id, part_number, etag, size, body_id, "
                       "checksums, last_modified_ms) VALUES($1, $2, $3, $4, $5, $6, $7)",
                       std::move(values));
    co_await std::move(exec_call);
    if (!old.empty()) {
        auto release_body_call = release_body(t.c, old.i64(0, 0));
        co_await std::move(release_body_call);
    }
    co_return p;
}

namespace {

// Removes the upload and its parts, releasing the bodies of the parts not in `kept` (whose
// references the new object's body took over, RULE 3).
task<void> drop_upload(write_txn &t, const std::string &upload_id, const std::vector<int> &kept) {
    auto run_call = t.c.async_run(
        "DELETE FROM parts WHERE upload_id = $1 RETURNING part_number, body_id", upload_id);
    auto gone = co_await std::move(run_call);
    auto run_call2 = t.c.async_run("DELETE FROM uploads WHERE upload_id = $1", upload_id);
    co_await std::move(run_call2);
    for (int i = 0; i < gone.size(); ++i) {
        if (std::find(kept.begin(), kept.end(), static_cast<int>(gone.i64(i, 0))) == kept.end()) {
            auto release_body_call = release_body(t.c, gone.i64(i, 1));
            co_await std::move(release_body_call);
        }
    }
}

std::optional<std::string> value_of(const string_pairs &pairs, const std::string &name) {
    auto it = std::find_if(pairs.begin(), pairs.end(), [&](auto &p) { return p.first == name; });
    if (it == pairs.end())
        return std::nullopt;
    return it->second;
}

// The listed parts (RULE 6), from the upload's parts in one query.
task<result<std::vector<part_info>>> listed_parts(write_txn &t, const complete_request &r) {
    std::map<int, part_info> stored;
    auto load_parts_call =
        load_parts(t.c, r.upload_id, 0, std::numeric_limits<std::int32_t>::max());
    auto loaded = co_await std::move(load_parts_call);
    for (auto &p : loaded) {
        stored.emplace(p.number, std::move(p));
    }
    co_return select_parts(r, [&stored](int n) -> std::optional<part_info> {
        auto it = stored.find(n);
        if (it == stored.end())
            return std::nullopt;
        return it->second;
    });
}

// The object's body: a bodies row with one reference (the new version's) listing the parts'
// bodies in order, each body_parts row taking over its part row's reference (RULE 3).
task<std::int64_t> compose_body(write_txn &t, const std::vector<part_info> &parts,
                                std::uint64_t size) {
    auto run_call =
        t.c.async_run("INSERT INTO bodies(size, data, chunked, refs) VALUES($1, NULL, false, "
                      "1) RETURNING id",
                      static_cast<std::int64_t>(size));
    auto body = co_await std::move(run_call);
    std::int64_t id = body.i64(0, 0);
    std::string ids = "{";
    for (auto &p : parts) {
        ids += (ids.size() > 1 ? "," : "") + std::to_string(p.body_id);
    }
    ids += "}";
    auto run_call2 = t.c.async_run(
        "INSERT INTO body_parts(body_id, n, part_body_id) SELECT $1, n - 1, part FROM "
        "unnest($2::bigint[]) WITH ORDINALITY AS listed(part, n)",
        id, ids);
    co_await std::move(run_call2);
    co_return id;
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

task<result<complete_result>> complete_upload(write_txn &t, const complete_request &r,
                                              against_fn against) {
    auto find_bucket_for_write_call = find_bucket_for_write(t.c, r.bucket);
    auto b = co_await std::move(find_bucket_for_write_call);
    if (!b) {
        co_return no_such_bucket(r.bucket);
    }
    auto lock_key_call = lock_key(t, r.bucket, r.key);
    auto k = co_await std::move(lock_key_call);
    auto upload_row_call = upload_row(t.c, r.bucket, r.key, r.upload_id, true);
    auto row = co_await std::move(upload_row_call); // RULE 2
    if (row.empty()) {
        if (auto replay = replay_completed(k, *b, r.upload_id)) {
            co_return *replay;
        }
        co_return no_such_upload(r.upload_id);
    }
    auto u = read_upload(row, 0);
    const std::string start_snapshot = row.text(0, 4);
    auto listed_parts_call = listed_parts(t, r);
    auto parts = co_await std::move(listed_parts_call);
    if (parts.has_error()) {
        co_return parts.error();
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
        co_return s3_error(s3_errc::invalid_request, "The provided 'x-amz-mp-object-size' header "
                                                     "value does not match what was computed.");
    }
    object_meta meta = u.meta;
    if (auto c = complete_checksum(u, r, *parts, meta); c.has_error()) {
        co_return c.error();
    }
    meta.extra.emplace_back(meta_upload_id, r.upload_id);                              // RULE 5
    auto ctx = gather_context_at(k, *b, start_snapshot, r.server_requires_conditions); // RULE 1
    if (ctx.has_error()) {
        co_return ctx.error();
    }
    ctx->existed_at_start = u.existed_at_start;
    auto outcome = protocol::evaluate_write(r.conditions, *ctx);
    if (outcome.verdict != protocol::write_verdict::proceed) {
        *against = state_of_lock(k);
    }
    complete_result res;
    if (outcome.verdict == protocol::write_verdict::conflict) {
        const std::vector<int> none;
        auto drop_upload_call = drop_upload(t, r.upload_id, none);
        co_await std::move(drop_upload_call); // RULE 4: the upload id is gone after a 409
        res.refusal = protocol::write_verdict_error(outcome, r.key);
        co_return res;
    }
    if (outcome.verdict != protocol::write_verdict::proceed) {
        co_return protocol::write_verdict_error(outcome, r.key);
    }
    object_version v;
    v.etag = protocol::multipart_etag(etags).value_or("\"\"");
    v.size = size;
    v.meta = meta;
    v.parts_count = static_cast<int>(parts->size());
    v.writer = r.writer;
    auto compose_body_call = compose_body(t, *parts, size);
    v.body_id = co_await std::move(compose_body_call);
    v.last_modified_ms = u.initiated_ms; // R-L3
    v.rank_ms = u.initiated_ms;          // R-M11: ranks by initiation time
    auto drop_upload_call2 = drop_upload(t, r.upload_id, kept);
    co_await std::move(drop_upload_call2);
    auto install_version_call = install_version(t, *b, k, v);
    co_await std::move(install_version_call);
    touch_key(t, k, false, k.current && !k.current->delete_marker);
    res.written.version_id = v.version_id;
    res.written.versioned = b->versioning == "Enabled";
    res.written.etag = v.etag;
    res.written.last_modified_ms = v.last_modified_ms;
    res.written.size = v.size;
    res.written.meta = v.meta;
    res.checksum_type = meta.checksum_type;
    co_return res;
}

task<result<bool>> abort_upload(write_txn &t, const std::string &bucket, const std::string &key,
                                const std::string &upload_id) {
    auto find_bucket_call = find_bucket(t.c, bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(bucket);
    }
    auto upload_row_call = upload_row(t.c, bucket, key, upload_id, true);
    if ((co_await std::move(upload_row_call)).empty()) { // RULE 2
        co_return no_such_upload(upload_id);
    }
    const std::vector<int> none;
    auto drop_upload_call = drop_upload(t, upload_id, none);
    co_await std::move(drop_upload_call);
    co_return true;
}

task<result<list_parts_page>> list_parts(connection &c, const list_parts_request &r) {
    auto lookup_upload_call = lookup_upload(c, r.bucket, r.key, r.upload_id);
    auto u = co_await std::move(lookup_upload_call);
    if (u.has_error()) {
        co_return u.error();
    }
    const int max_parts = std::max(0, r.max_parts);
    list_parts_page page;
    page.upload = std::move(*u);
    auto load_parts_call = load_parts(c, r.upload_id, r.marker, std::int64_t(max_parts) + 1);
    page.parts = co_await std::move(load_parts_call);
    if (page.parts.size() > static_cast<std::size_t>(max_parts)) {
        page.parts.resize(static_cast<std::size_t>(max_parts));
        page.truncated = true;
    }
    co_return page;
}

// Keys ascending in byte order, then initiation order, then upload id. The walk reads batches
// after a cursor (key, initiated_ms, upload_id); a delimiter collapses keys into common prefixes
// and the walk then skips every key starting with that prefix. A common prefix at or before the
// key marker was returned by an earlier page and is skipped. Uploads and common prefixes count
// together against max-uploads; the page is truncated when one more entry exists.
task<result<list_uploads_page>> list_uploads(connection &c, const list_uploads_request &r) {
    auto find_bucket_call = find_bucket(c, r.bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(r.bucket);
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
            auto run_call =
                c.async_run("SELECT initiated_ms FROM uploads WHERE upload_id = $1 AND bucket = $2 "
                            "AND key = $3",
                            r.upload_id_marker, r.bucket, r.key_marker);
            auto m = co_await std::move(run_call);
            if (!m.empty()) {
                at = m.i64(0, 0);
                id = r.upload_id_marker;
            }
        }
    }
    const std::size_t limit = static_cast<std::size_t>(std::max(0, r.max_uploads));
    auto full = [&] { return page.uploads.size() + page.common_prefixes.size() >= limit; };
    for (;;) {
        std::vector<param> values{r.bucket, r.prefix, key, at, id, skip};
        auto exec_call = c.async_exec(
            std::string("SELECT ") + upload_columns +
                " FROM uploads WHERE bucket = $1 AND starts_with(key, $2) AND (key COLLATE \"C\" "
                "> $3 OR (key = $3 AND (initiated_ms > $4 OR (initiated_ms = $4 AND upload_id "
                "COLLATE \"C\" > $5)))) AND NOT ($6::text <> '' AND starts_with(key, $6::text)) "
                "ORDER BY key COLLATE \"C\", initiated_ms, upload_id COLLATE \"C\" LIMIT 1000",
            std::move(values));
        auto batch = co_await std::move(exec_call);
        if (batch.empty()) {
            co_return page;
        }
        for (int i = 0; i < batch.size(); ++i) {
            auto u = read_upload(batch, i);
            if (auto cp = common_prefix(u.key, r.prefix, r.delimiter); !cp.empty()) {
                if (cp > r.key_marker) {
                    if (full()) {
                        page.truncated = true;
                        co_return page;
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
                co_return page;
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
