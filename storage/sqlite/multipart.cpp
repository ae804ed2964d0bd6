// Multipart writes: Create, UploadPart(Copy), Complete, Abort (see multipart.hpp).
//
// RULES
// 1. t_start of an upload (D3) is a sequence number allocated inside the Create commit: every
//    mutation committed before it has a smaller seq, every later one a larger, so the 409 model
//    sees exactly the writes that happened during the upload.
// 2. A part row owns one reference to its body. Complete moves those references into the new
//    composite body (body_parts rows) and releases the parts not listed; Abort and a 409 refusal
//    release them all. No part bytes are ever copied.
// 3. A refused Complete (412 / 404 / 428) is an error: the savepoint rolls back and the upload
//    stays (D8). A 409 is returned as a successful job carrying the refusal, so the removal of the
//    upload commits with it.
// 4. The version a Complete creates records its upload id (meta.extra meta_upload_id). A Complete
//    repeated with that id while the version is the key's current one answers the same result
//    without writing anything (spec R-M12); once another write made a different version current,
//    the id is unknown again (NoSuchUpload).
// 5. The parts list may name a part number more than once (a part re-sent while its first upload
//    was still running): the numbers must not decrease, and the last entry listed for a number is
//    the one checked against the stored part, which is the upload that committed last.
#include "storage/sqlite/multipart.hpp"
#include "storage/sqlite/multipart_rows.hpp"

#include "protocol/multipart.hpp"
#include "storage/codec.hpp"
#include "storage/sqlite/rows.hpp"
#include "storage/multipart_rules.hpp"
#include "storage/version_rules.hpp"

#include <openssl/rand.h>

#include <algorithm>

namespace ifmatch::storage::sqlite {

using protocol::s3_errc;
using protocol::s3_error;

const char *const upload_columns =
    "upload_id, bucket, key, initiated_ms, start_seq, existed_at_start, meta, checksum_algo, "
    "checksum_type, writer_request_id, writer_access_key";

namespace {

std::string new_upload_id() {
    unsigned char r[24];
    RAND_bytes(r, sizeof r);
    static const char hex[] = "0123456789abcdef";
    std::string s;
    for (unsigned char c : r) {
        s.push_back(hex[c >> 4]);
        s.push_back(hex[c & 15]);
    }
    return s;
}

s3_error no_such_upload(const std::string &id) {
    return s3_error(s3_errc::no_such_upload).with("UploadId", id);
}

} // namespace

upload_info read_upload(statement &st) {
    upload_info u;
    u.upload_id = st.column_text(0);
    u.bucket = st.column_text(1);
    u.key = st.column_text(2);
    u.initiated_ms = st.column_int(3);
    u.start.seq = st.column_int(4);
    u.existed_at_start = st.column_int(5) != 0;
    u.meta = decode_meta(st.column_text(6));
    u.checksum_algo = st.column_text(7);
    u.checksum_type = st.column_text(8);
    u.writer.request_id = st.column_text(9);
    u.writer.access_key = st.column_text(10);
    return u;
}

result<upload_info> lookup_upload(connection &db, const std::string &bucket, const std::string &key,
                                  const std::string &upload_id) {
    if (!rows::find_bucket(db, bucket)) {
        return rows::no_such_bucket(bucket);
    }
    query q(db, std::string("SELECT ") + upload_columns +
                    " FROM uploads WHERE upload_id = ? AND bucket = ? AND key = ?");
    q->bind(1, upload_id).bind(2, bucket).bind(3, key);
    if (!q->step()) {
        return no_such_upload(upload_id);
    }
    return read_upload(q.get());
}

std::vector<part_info> load_parts(connection &db, const std::string &upload_id, int after,
                                  int limit) {
    std::vector<part_info> out;
    query q(db, "SELECT part_number, etag, size, body_id, checksums, last_modified_ms FROM parts "
                "WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?");
    q->bind(1, upload_id).bind(2, after).bind(3, limit);
    while (q->step()) {
        part_info p;
        p.number = static_cast<int>(q->column_int(0));
        p.etag = q->column_text(1);
        p.size = static_cast<std::uint64_t>(q->column_int(2));
        p.body_id = q->column_int(3);
        p.checksums = decode_pairs(q->column_text(4));
        p.last_modified_ms = q->column_int(5);
        out.push_back(std::move(p));
    }
    return out;
}

result<upload_info> create_upload(write_txn &t, const create_upload_request &r) {
    if (!rows::find_bucket(t, r.bucket)) {
        return rows::no_such_bucket(r.bucket);
    }
    upload_info u;
    u.upload_id = new_upload_id();
    u.bucket = r.bucket;
    u.key = r.key;
    u.initiated_ms = t.now_ms;
    u.start.seq = t.next_seq();
    auto cur = rows::find_latest(t.db, r.bucket, r.key);
    u.existed_at_start = cur && !cur->delete_marker;
    u.meta = r.meta;
    u.checksum_algo = r.checksum_algo;
    u.checksum_type = r.checksum_type;
    u.writer = r.writer;
    query q(t.db, std::string("INSERT INTO uploads(") + upload_columns +
                      ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, u.upload_id).bind(2, u.bucket).bind(3, u.key).bind(4, u.initiated_ms);
    q->bind(5, u.start.seq).bind(6, u.existed_at_start ? 1 : 0).bind(7, encode_meta(u.meta));
    q->bind(8, u.checksum_algo).bind(9, u.checksum_type).bind(10, u.writer.request_id);
    q->bind(11, u.writer.access_key);
    q->step();
    return u;
}

result<upload_info> find_upload(read_txn &t, const std::string &bucket, const std::string &key,
                                const std::string &upload_id) {
    return lookup_upload(t.db, bucket, key, upload_id);
}

namespace {

// UploadPartCopy's source at commit (R-C16): the source's conditions are decided against its
// version now, in the order of decide_copy_source; when conditions were sent and the source's
// version is no longer the one whose bytes the part holds, the part would be stale: 409.
std::optional<s3_error> check_copy_source(write_txn &t, const upload_part_request::copy_from &s,
                                          const std::string &key) {
    if (!rows::find_bucket(t, s.bucket)) {
        return rows::no_such_bucket(s.bucket);
    }
    auto v = s.version_id ? rows::find_version(t.db, s.bucket, s.key, *s.version_id)
                          : rows::find_latest(t.db, s.bucket, s.key);
    return part_source_refusal(s, v, t.now_ms, key);
}

} // namespace

result<part_info> put_part(write_txn &t, const upload_part_request &r) {
    if (r.body.is_file()) {
        t.adopt_file(r.body.file); // kept on commit, removed with a rollback
    }
    auto u = lookup_upload(t.db, r.bucket, r.key, r.upload_id);
    if (u.has_error()) {
        return u.error();
    }
    if (r.source) {
        if (auto err = check_copy_source(t, *r.source, r.key)) {
            return *err;
        }
    }
    part_info p = r.part;
    if (r.share_body_id) {
        query q(t.db, "SELECT 1 FROM versions WHERE seq = ? AND body_id = ?");
        q->bind(1, r.share_version_seq).bind(2, r.share_body_id);
        if (!q->step()) {
            return s3_error(s3_errc::no_such_key, "The source object was removed during the "
                                                  "copy.");
        }
        rows::add_body_ref(t.db, r.share_body_id);
        p.body_id = r.share_body_id;
    } else {
        p.body_id = rows::insert_body(t, r.body);
    }
    {
        query q(t.db, "SELECT body_id FROM parts WHERE upload_id = ? AND part_number = ?");
        q->bind(1, r.upload_id).bind(2, p.number);
        if (q->step()) {
            rows::release_body(t, q->column_int(0));
        }
    }
    p.last_modified_ms = t.now_ms;
    query q(t.db, "INSERT OR REPLACE INTO parts(upload_id, part_number, etag, size, body_id, "
                  "checksums, last_modified_ms) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, r.upload_id).bind(2, p.number).bind(3, p.etag);
    q->bind(4, static_cast<std::int64_t>(p.size)).bind(5, p.body_id);
    q->bind(6, encode_pairs(p.checksums)).bind(7, p.last_modified_ms);
    q->step();
    return p;
}

namespace {

// Removes the upload row and its part rows, releasing the bodies of parts not in `kept`.
void drop_upload(write_txn &t, const std::string &upload_id, const std::vector<int> &kept) {
    for (auto &p : load_parts(t.db, upload_id, 0, 1 << 30)) {
        if (std::find(kept.begin(), kept.end(), p.number) == kept.end()) {
            rows::release_body(t, p.body_id);
        }
    }
    query a(t.db, "DELETE FROM parts WHERE upload_id = ?");
    a->bind(1, upload_id);
    a->step();
    query b(t.db, "DELETE FROM uploads WHERE upload_id = ?");
    b->bind(1, upload_id);
    b->step();
}

// The listed parts (RULE 5), each looked up by its number.
result<std::vector<part_info>> listed_parts(write_txn &t, const complete_request &r) {
    return select_parts(r, [&](int n) -> std::optional<part_info> {
        auto found = load_parts(t.db, r.upload_id, n - 1, 1);
        if (found.empty()) return std::nullopt;
        return std::move(found[0]);
    });
}

// The composite body of the new object: one body_parts row per part, taking over its reference.
std::int64_t compose_body(write_txn &t, const std::vector<part_info> &parts, std::uint64_t size) {
    {
        query q(t.db, "INSERT INTO bodies(size, data, file, refs) VALUES(?, NULL, NULL, 1)");
        q->bind(1, static_cast<std::int64_t>(size));
        q->step();
    }
    std::int64_t id = t.db.last_insert_rowid();
    query q(t.db, "INSERT INTO body_parts(body_id, seq, part_body_id) VALUES(?, ?, ?)");
    for (std::size_t i = 0; i < parts.size(); ++i) {
        q->reset();
        q->bind(1, id).bind(2, static_cast<std::int64_t>(i)).bind(3, parts[i].body_id);
        q->step();
    }
    return id;
}

// RULE 4: the result of the Complete that created the key's current version with this upload id.
std::optional<complete_result> replay_completed(write_txn &t, const complete_request &r) {
    auto cur = rows::find_current(t, r.bucket, r.key);
    if (!cur || cur->delete_marker) {
        return std::nullopt;
    }
    auto recorded = std::find_if(cur->meta.extra.begin(), cur->meta.extra.end(),
                                 [](const auto &p) { return p.first == meta_upload_id; });
    if (recorded == cur->meta.extra.end() || recorded->second != r.upload_id) {
        return std::nullopt;
    }
    auto b = rows::find_bucket(t, r.bucket);
    complete_result res;
    res.written.version_id = cur->version_id;
    res.written.versioned = b && b->versioning == "Enabled";
    res.written.etag = cur->etag;
    res.written.last_modified_ms = cur->last_modified_ms;
    res.written.size = cur->size;
    res.written.meta = cur->meta;
    res.checksum_type = cur->meta.checksum_type;
    return res;
}

} // namespace

result<complete_result> complete_upload(write_txn &t, const complete_request &r) {
    auto u = lookup_upload(t.db, r.bucket, r.key, r.upload_id);
    if (u.has_error()) {
        if (u.error().code == s3_errc::no_such_upload) {
            if (auto replay = replay_completed(t, r)) {
                return *replay;
            }
        }
        return u.error();
    }
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
    object_meta meta = u->meta;
    if (auto c = complete_checksum(*u, r, *parts, meta); c.has_error()) {
        return c.error();
    }
    meta.extra.emplace_back(meta_upload_id, r.upload_id); // RULE 4
    auto b = rows::find_bucket(t, r.bucket);
    auto ctx = rows::gather_context(t, *b, r.key, u->start.seq, r.server_requires_conditions);
    ctx.existed_at_start = u->existed_at_start;
    auto outcome = protocol::evaluate_write(r.conditions, ctx);
    complete_result res;
    if (outcome.verdict == protocol::write_verdict::conflict) {
        drop_upload(t, r.upload_id, {}); // D8: the upload id is gone after a 409
        res.refusal = protocol::write_verdict_error(outcome, r.key);
        return res;
    }
    if (outcome.verdict != protocol::write_verdict::proceed) {
        return protocol::write_verdict_error(outcome, r.key);
    }
    object_version v;
    v.key = r.key;
    v.etag = protocol::multipart_etag(etags).value_or("\"\"");
    v.size = size;
    v.meta = meta;
    v.parts_count = static_cast<int>(parts->size());
    v.writer = r.writer;
    v.body_id = compose_body(t, *parts, size);
    v.last_modified_ms = u->initiated_ms; // R-L3
    v.rank_ms = u->initiated_ms;          // R-M11
    drop_upload(t, r.upload_id, kept);
    rows::install_version(t, *b, v);
    auto cur = rows::find_current(t, b->name, r.key);
    rows::touch_key(t, b->name, r.key, v.seq, false, cur && !cur->delete_marker);
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
    auto u = lookup_upload(t.db, bucket, key, upload_id);
    if (u.has_error()) {
        return u.error();
    }
    drop_upload(t, upload_id, {});
    return true;
}

} // namespace ifmatch::storage::sqlite
