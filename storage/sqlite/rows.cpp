// Row helpers: version rows, body reference counts, key state (see rows.hpp).
#include "storage/sqlite/rows.hpp"

#include "storage/codec.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>
#include <string_view>

namespace ifmatch::storage::sqlite::rows {

using protocol::s3_errc;
using protocol::s3_error;

const char *const version_columns =
    "seq, bucket, key, version_id, is_latest, delete_marker, etag, size, last_modified_ms, "
    "body_id, meta, parts_count, writer_request_id, writer_access_key, writer_remote, "
    "writer_agent, rank_ms";

std::string qualified_version_columns(const std::string &alias) {
    std::string out;
    std::string_view rest = version_columns;
    while (!rest.empty()) {
        auto comma = rest.find(", ");
        auto name = rest.substr(0, comma);
        out += (out.empty() ? "" : ", ") + alias + "." + std::string(name);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    return out;
}

object_version read_version(statement &st) {
    object_version v;
    v.seq = st.column_int(0);
    v.bucket = st.column_text(1);
    v.key = st.column_text(2);
    v.version_id = st.column_text(3);
    v.is_latest = st.column_int(4) != 0;
    v.delete_marker = st.column_int(5) != 0;
    v.etag = st.column_text(6);
    v.size = static_cast<std::uint64_t>(st.column_int(7));
    v.last_modified_ms = st.column_int(8);
    v.body_id = st.column_int(9);
    v.meta = decode_meta(st.column_text(10));
    v.parts_count = static_cast<int>(st.column_int(11));
    v.writer.request_id = st.column_text(12);
    v.writer.access_key = st.column_text(13);
    v.writer.remote = st.column_text(14);
    v.writer.user_agent = st.column_text(15);
    v.rank_ms = st.column_int(16);
    return v;
}

std::optional<bucket_info> find_bucket(connection &db, const std::string &name) {
    query q(db, "SELECT name, created_ms, region, versioning, require_conditions, policy "
                "FROM buckets WHERE name = ?");
    q->bind_ref(1, name);
    if (!q->step()) {
        return std::nullopt;
    }
    bucket_info b;
    b.name = q->column_text(0);
    b.created_ms = q->column_int(1);
    b.region = q->column_text(2);
    b.versioning = q->column_text(3);
    b.require_conditions = q->column_int(4) != 0;
    b.policy = q->column_text(5);
    return b;
}

std::optional<bucket_info> find_bucket(write_txn &t, const std::string &name) {
    if (t.bucket_memo) {
        for (const auto &b : *t.bucket_memo) {
            if (b.name == name) {
                return b;
            }
        }
    }
    auto b = find_bucket(t.db, name);
    if (b && t.bucket_memo) {
        t.bucket_memo->push_back(*b);
    }
    return b;
}

std::optional<object_version> find_latest(connection &db, const std::string &bucket,
                                          const std::string &key) {
    query q(db, std::string("SELECT ") + version_columns +
                    " FROM versions WHERE seq = (SELECT latest_seq FROM key_state "
                    "WHERE bucket = ? AND key = ?)");
    q->bind(1, bucket).bind(2, key);
    if (!q->step()) {
        return std::nullopt;
    }
    return read_version(q.get());
}

std::optional<object_version> find_seq(connection &db, std::int64_t seq) {
    query q(db, std::string("SELECT ") + version_columns + " FROM versions WHERE seq = ?");
    q->bind(1, seq);
    if (!q->step()) {
        return std::nullopt;
    }
    return read_version(q.get());
}

std::optional<object_version> find_version(connection &db, const std::string &bucket,
                                           const std::string &key, const std::string &vid) {
    // Schema 3: versions_by_key holds every row but a key's current one, which key_state names.
    query q(db, std::string("SELECT ") + version_columns +
                    " FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 AND "
                    "is_latest = 0 UNION ALL SELECT " + version_columns +
                    " FROM versions WHERE seq = (SELECT latest_seq FROM key_state WHERE "
                    "bucket = ?1 AND key = ?2) AND version_id = ?3");
    q->bind(1, bucket).bind(2, key).bind(3, vid);
    if (!q->step()) {
        return std::nullopt;
    }
    return read_version(q.get());
}

std::int64_t insert_body(write_txn &t, const staged_body &b) {
    query q(t.db, "INSERT INTO bodies(size, data, file, refs) VALUES(?, ?, ?, 1)");
    q->bind(1, static_cast<std::int64_t>(b.size));
    if (b.is_file()) {
        t.adopt_file(b.file); // before the step that may throw
        q->bind_null(2).bind(3, b.file);
    } else {
        q->bind_blob_static(2, b.inline_data).bind_null(3); // outlives the step
    }
    q->step();
    return t.db.last_insert_rowid();
}

void add_body_ref(connection &db, std::int64_t body_id) {
    query q(db, "UPDATE bodies SET refs = refs + 1 WHERE id = ?");
    q->bind(1, body_id);
    q->step();
}

void release_body(write_txn &t, std::int64_t body_id) {
    if (body_id == 0) {
        return;
    }
    std::int64_t refs = 0;
    std::string file;
    {
        query q(t.db, "UPDATE bodies SET refs = refs - 1 WHERE id = ? RETURNING refs, file");
        q->bind(1, body_id);
        if (!q->step()) {
            return;
        }
        refs = q->column_int(0);
        file = q->column_text(1);
    }
    if (refs > 0) {
        return;
    }
    std::vector<std::int64_t> parts;
    {
        query q(t.db, "SELECT part_body_id FROM body_parts WHERE body_id = ?");
        q->bind(1, body_id);
        while (q->step()) {
            parts.push_back(q->column_int(0));
        }
    }
    {
        query q(t.db, "DELETE FROM body_parts WHERE body_id = ?");
        q->bind(1, body_id);
        q->step();
    }
    {
        query q(t.db, "DELETE FROM bodies WHERE id = ?");
        q->bind(1, body_id);
        q->step();
    }
    if (!file.empty()) {
        t.reclaim_file(file);
    }
    for (auto p : parts) {
        release_body(t, p);
    }
}

void remove_version(write_txn &t, const object_version &v) {
    t.latest_seen.reset();
    auto &ks = key_state_of(t, v.bucket, v.key);
    if (ks.latest_seq == v.seq) {
        ks.latest_seq = 0;
        ks.dirty = true;
    }
    query q(t.db, "DELETE FROM versions WHERE seq = ?");
    q->bind(1, v.seq);
    q->step();
    release_body(t, v.body_id);
}

std::string new_version_id(std::int64_t now_ms, std::int64_t seq) {
    unsigned char r[4];
    RAND_bytes(r, sizeof r);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%012llx%012llx%02x%02x%02x%02x",
                  static_cast<unsigned long long>(now_ms) & 0xffffffffffffULL,
                  static_cast<unsigned long long>(seq) & 0xffffffffffffULL, r[0], r[1], r[2],
                  r[3]);
    return buf;
}

void install_version(write_txn &t, const bucket_info &b, object_version &v) {
    v.seq = t.next_seq();
    if (v.rank_ms == 0) {
        v.rank_ms = v.last_modified_ms;
    }
    auto &ks = key_state_of(t, b.name, v.key);
    std::int64_t old_latest = ks.latest_seq;
    v.is_latest = true;
    if (b.versioning == "Enabled") {
        if (v.version_id.empty()) { // a replica arrives with its source's (B-R2)
            v.version_id = new_version_id(t.now_ms, v.seq);
        }
        // In a versioned bucket a version whose write started earlier stays below (D11). The
        // current version is the highest-ranked one, so it alone decides.
        if (old_latest) {
            query q(t.db, "SELECT rank_ms FROM versions WHERE seq = ?");
            q->bind(1, old_latest);
            v.is_latest = !(q->step() && q->column_int(0) > v.rank_ms);
        }
    } else {
        v.version_id = "null";
        std::int64_t old_seq = 0, old_body = 0;
        auto &seen = t.latest_seen;
        if (b.versioning.empty() && seen && seen->bucket == b.name && seen->key == v.key) {
            // Never versioned: the current version, if any, is the `null` one.
            if (seen->found && seen->version_id == "null") {
                old_seq = seen->seq;
                old_body = seen->body_id;
            }
        } else {
            // The current row is the one ks names (this job's view, which may be ahead of the
            // key_state row); every other row of the key is in versions_by_key (schema 3).
            query q(t.db, "SELECT seq, body_id FROM versions WHERE seq = ?1 AND "
                          "version_id = 'null' UNION ALL SELECT seq, body_id FROM versions "
                          "WHERE bucket = ?2 AND key = ?3 AND version_id = 'null' AND "
                          "is_latest = 0 LIMIT 1");
            q->bind(1, old_latest).bind_ref(2, b.name).bind_ref(3, v.key);
            if (q->step()) {
                old_seq = q->column_int(0);
                old_body = q->column_int(1);
            }
        }
        seen.reset();
        if (old_seq) {
            query q(t.db, "DELETE FROM versions WHERE seq = ?");
            q->bind(1, old_seq);
            q->step();
            if (old_latest == old_seq) {
                old_latest = 0; // gone with its row
            }
        }
        release_body(t, old_body);
    }
    if (v.is_latest) {
        if (old_latest) {
            query q(t.db, "UPDATE versions SET is_latest = 0 WHERE seq = ?");
            q->bind(1, old_latest);
            q->step();
        }
        ks.latest_seq = v.seq;
        ks.dirty = true;
    }
    query q(t.db, "INSERT INTO versions(seq, bucket, key, version_id, is_latest, delete_marker, "
                  "etag, size, last_modified_ms, body_id, meta, parts_count, writer_request_id, "
                  "writer_access_key, writer_remote, writer_agent, rank_ms) "
                  "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, v.seq).bind_ref(2, b.name).bind_ref(3, v.key).bind_ref(4, v.version_id);
    q->bind(5, v.is_latest ? 1 : 0).bind(6, v.delete_marker ? 1 : 0).bind_ref(7, v.etag);
    q->bind(8, static_cast<std::int64_t>(v.size)).bind(9, v.last_modified_ms);
    if (v.body_id) {
        q->bind(10, v.body_id);
    } else {
        q->bind_null(10);
    }
    const std::string meta = encode_meta(v.meta); // bound by reference: lives past the step
    q->bind_ref(11, meta).bind(12, v.parts_count);
    q->bind_ref(13, v.writer.request_id).bind_ref(14, v.writer.access_key);
    q->bind_ref(15, v.writer.remote).bind_ref(16, v.writer.user_agent).bind(17, v.rank_ms);
    q->step();
    t.latest_seen.reset();
}

void promote_latest(write_txn &t, const std::string &bucket, const std::string &key) {
    t.latest_seen.reset();
    auto &ks = key_state_of(t, bucket, key);
    std::int64_t seq = 0;
    {
        // Called once the current row is gone: every remaining row has is_latest = 0.
        query q(t.db, "SELECT seq FROM versions WHERE bucket = ? AND key = ? AND is_latest = 0 "
                      "ORDER BY rank_ms DESC, seq DESC LIMIT 1");
        q->bind(1, bucket).bind(2, key);
        if (q->step()) {
            seq = q->column_int(0);
        }
    }
    if (seq) {
        query q(t.db, "UPDATE versions SET is_latest = 1 WHERE seq = ?");
        q->bind(1, seq);
        q->step();
    }
    ks.latest_seq = seq;
    ks.dirty = true;
}

std::optional<object_version> find_current(write_txn &t, const std::string &bucket,
                                           const std::string &key) {
    auto seq = key_state_of(t, bucket, key).latest_seq;
    if (!seq) {
        return std::nullopt;
    }
    return find_seq(t.db, seq);
}

write_txn::key_state_row &key_state_of(write_txn &t, const std::string &bucket,
                                       const std::string &key) {
    auto &memo = t.key_state_seen;
    if (memo && memo->bucket == bucket && memo->key == key) {
        return *memo;
    }
    if (memo && memo->dirty) {
        // A job finishes one key (touch_key) before it changes another (rows.hpp).
        throw std::logic_error("key_state of " + memo->bucket + "/" + memo->key +
                               " changed but not written");
    }
    write_txn::key_state_row row;
    row.bucket = bucket;
    row.key = key;
    query q(t.db, "SELECT last_delete_seq, history, latest_seq FROM key_state "
                  "WHERE bucket = ? AND key = ?");
    q->bind_ref(1, bucket).bind_ref(2, key);
    if (q->step()) {
        row.found = true;
        row.last_delete = q->column_int(0);
        row.history = q->column_text(1);
        row.latest_seq = q->column_int(2);
    }
    memo = std::move(row);
    return *memo;
}

void touch_key(write_txn &t, const std::string &bucket, const std::string &key, std::int64_t seq,
               bool is_delete, bool exists_after) {
    auto &row = key_state_of(t, bucket, key);
    t.key_changed(bucket, key);
    mutation_history h = decode_history(row.history);
    h.append(seq, exists_after);
    row.history = encode_history(h);
    if (is_delete) {
        row.last_delete = seq;
    }
    query q(t.db, "INSERT OR REPLACE INTO key_state(bucket, key, last_mutation_seq, "
                  "last_delete_seq, history, latest_seq) VALUES(?, ?, ?, ?, ?, ?)");
    q->bind_ref(1, bucket).bind_ref(2, key).bind(3, seq).bind(4, row.last_delete);
    q->bind_ref(5, row.history).bind(6, row.latest_seq);
    q->step();
    row.found = true;
    row.dirty = false;
}

protocol::write_context gather_context(write_txn &t, const bucket_info &b,
                                       const std::string &key, std::int64_t start_seq,
                                       bool server_requires) {
    protocol::write_context ctx;
    if (t.key_state_seen && t.key_state_seen->dirty) {
        throw std::logic_error("gather_context after an unwritten key_state change");
    }
    query q(t.db, "SELECT k.last_mutation_seq, k.last_delete_seq, k.history, k.latest_seq, "
                  "v.etag, v.delete_marker, v.body_id, v.version_id FROM key_state k "
                  "LEFT JOIN versions v ON v.seq = k.latest_seq "
                  "WHERE k.bucket = ? AND k.key = ?");
    q->bind_ref(1, b.name).bind_ref(2, key);
    write_txn::key_state_row row;
    row.bucket = b.name;
    row.key = key;
    write_txn::latest_row seen{b.name, key, false, 0, 0, {}};
    std::int64_t last_mutation = 0;
    if (q->step()) {
        row.found = true;
        last_mutation = q->column_int(0);
        row.last_delete = q->column_int(1);
        row.history = q->column_text(2);
        row.latest_seq = q->column_int(3);
        if (row.latest_seq && !q->column_is_null(5)) {
            seen.found = true;
            seen.seq = row.latest_seq;
            seen.body_id = q->column_int(6);
            seen.version_id = q->column_text(7);
            if (q->column_int(5) == 0) {
                ctx.exists = true;
                ctx.current_etag = q->column_text(4);
            }
        }
        ctx.written_since_start = last_mutation > start_seq;
        ctx.deleted_since_start = row.last_delete > start_seq;
        ctx.existed_at_start = decode_history(row.history).existed_at(start_seq);
    }
    t.latest_seen = std::move(seen);
    t.key_state_seen = std::move(row);
    ctx.conditions_required = server_requires || b.require_conditions;
    return ctx;
}

s3_error no_such_bucket(const std::string &name) {
    return s3_error(s3_errc::no_such_bucket).with("BucketName", name);
}

s3_error no_such_key(const std::string &key) {
    return s3_error(s3_errc::no_such_key).with("Key", key);
}

} // namespace ifmatch::storage::sqlite::rows
