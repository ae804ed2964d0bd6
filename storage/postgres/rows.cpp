// Row helpers of the PostgreSQL backend (see rows.hpp).
#include "storage/postgres/rows.hpp"

#include "protocol/utf8.hpp"

#include <cassert>
#include <chrono>
#include <cstdio>
#include <openssl/rand.h>
#include <stdexcept>

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

const char *const version_columns =
    "seq, bucket, key, version_id, is_latest, delete_marker, etag, size, last_modified_ms, "
    "body_id, meta, parts_count, writer_request_id, writer_access_key, writer_remote, "
    "writer_agent, rank_ms";

namespace {

// The clock of a write: the database's, plus the store's offset (RULE 3).
constexpr const char *clock_sql =
    "(extract(epoch from clock_timestamp()) * 1000)::bigint, "
    "(SELECT v::bigint FROM ifmatch_meta WHERE k = 'clock_offset_ms')";

std::string prefixed(const char *alias) {
    std::string out;
    std::string_view rest = version_columns;
    while (!rest.empty()) {
        auto comma = rest.find(", ");
        out += (out.empty() ? "" : ", ") + std::string(alias) + "." +
               std::string(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    return out;
}

} // namespace

task<void> begin(write_txn &t) {
    auto run_call =
        t.c.async_run(std::string("SELECT pg_current_xact_id()::text::bigint, ") + clock_sql);
    auto r = co_await std::move(run_call);
    t.xid = r.i64(0, 0);
    t.clock_offset_ms = r.i64(0, 2);
    t.now_ms = r.i64(0, 1) + t.clock_offset_ms;
}

object_version read_version(const rows &r, int row, int c) {
    object_version v;
    v.seq = r.i64(row, c + 0);
    v.bucket = r.text(row, c + 1);
    v.key = r.text(row, c + 2);
    v.version_id = r.text(row, c + 3);
    v.is_latest = r.boolean(row, c + 4);
    v.delete_marker = r.boolean(row, c + 5);
    v.etag = r.text(row, c + 6);
    v.size = static_cast<std::uint64_t>(r.i64(row, c + 7));
    v.last_modified_ms = r.i64(row, c + 8);
    v.body_id = r.i64(row, c + 9);
    v.meta = decode_meta(r.view(row, c + 10));
    v.parts_count = static_cast<int>(r.i64(row, c + 11));
    v.writer.request_id = r.text(row, c + 12);
    v.writer.access_key = r.text(row, c + 13);
    v.writer.remote = r.text(row, c + 14);
    v.writer.user_agent = r.text(row, c + 15);
    v.rank_ms = r.i64(row, c + 16);
    return v;
}

namespace {

void queue_bucket(connection &c, const std::string &name, bool lock, rows *into) {
    c.queue(std::string("SELECT name, created_ms, region, versioning, require_conditions, "
                        "policy FROM buckets WHERE name = $1") +
                (lock ? " FOR KEY SHARE" : ""),
            {name}, into);
}

task<std::optional<bucket_info>> bucket_query(connection &c, const std::string &name, bool lock) {
    rows r;
    queue_bucket(c, name, lock, &r);
    auto flush_call = c.async_flush();
    co_await std::move(flush_call);
    co_return bucket_of(r);
}

} // namespace

std::optional<bucket_info> bucket_of(const rows &r) {
    if (r.empty()) {
        return std::nullopt;
    }
    bucket_info b;
    b.name = r.text(0, 0);
    b.created_ms = r.i64(0, 1);
    b.region = r.text(0, 2);
    b.versioning = r.text(0, 3);
    b.require_conditions = r.boolean(0, 4);
    b.policy = r.text(0, 5);
    return b;
}

task<std::optional<bucket_info>> find_bucket(connection &c, const std::string &name) {
    auto bucket_query_call = bucket_query(c, name, false);
    co_return co_await std::move(bucket_query_call);
}

task<std::optional<bucket_info>> find_bucket_for_write(connection &c, const std::string &name) {
    auto bucket_query_call = bucket_query(c, name, true);
    co_return co_await std::move(bucket_query_call);
}

void queue_bucket_for_write(connection &c, const std::string &name, rows *into) {
    queue_bucket(c, name, true, into);
}

void queue_version(connection &c, const std::string &bucket, const std::string &key,
                   const std::optional<std::string> &vid, rows *into) {
    if (vid) {
        c.queue(std::string("SELECT ") + version_columns +
                    " FROM versions WHERE bucket = $1 AND key = $2 AND version_id = $3",
                {bucket, key, *vid}, into);
    } else {
        c.queue(std::string("SELECT ") + version_columns +
                    " FROM versions WHERE bucket = $1 AND key = $2 AND is_latest",
                {bucket, key}, into);
    }
}

std::optional<object_version> version_of(const rows &r) {
    if (r.empty())
        return std::nullopt;
    return read_version(r, 0);
}

task<std::optional<object_version>> find_latest(connection &c, const std::string &bucket,
                                                const std::string &key) {
    rows r;
    queue_version(c, bucket, key, std::nullopt, &r);
    auto flush_call = c.async_flush();
    co_await std::move(flush_call);
    co_return version_of(r);
}

task<std::optional<object_version>> find_version(connection &c, const std::string &bucket,
                                                 const std::string &key, const std::string &vid) {
    rows r;
    queue_version(c, bucket, key, vid, &r);
    auto flush_call = c.async_flush();
    co_await std::move(flush_call);
    co_return version_of(r);
}

void queue_lock_key(write_txn &t, const std::string &bucket, const std::string &key,
                    key_rows &into) {
    t.c.queue(std::string("SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), "
                          "pg_current_xact_id()::text::bigint, ") +
                  clock_sql,
              {bucket + "/" + key}, &into.lock);
    // RULE 1: this statement runs once the lock is granted, and sees every write committed
    // before: the key's state, its current version and its 'null' version (RULE 4).
    t.c.queue(std::string("SELECT k.last_mutation_xid, k.last_delete_xid, k.history, "
                          "k.key IS NOT NULL, n.seq, n.body_id, ") +
                  prefixed("v") +
                  " FROM (SELECT 1) one LEFT JOIN key_state k ON k.bucket = $1 AND k.key = $2 "
                  "LEFT JOIN versions v ON v.bucket = $1 AND v.key = $2 AND v.is_latest "
                  "LEFT JOIN versions n ON n.bucket = $1 AND n.key = $2 AND "
                  "n.version_id = 'null'",
              {bucket, key}, &into.state);
}

key_lock locked_key(write_txn &t, const std::string &bucket, const std::string &key,
                    const key_rows &r) {
    const rows &l = r.lock;
    t.xid = l.i64(0, 1);
    t.clock_offset_ms = l.i64(0, 3);
    t.now_ms = l.i64(0, 2) + t.clock_offset_ms;
    const rows &s = r.state;
    key_lock k;
    k.bucket = bucket;
    k.key = key;
    k.found = s.boolean(0, 3);
    k.last_mutation_xid = s.i64(0, 0);
    k.last_delete_xid = s.i64(0, 1);
    k.history = decode_history(s.view(0, 2));
    if (!s.null(0, 4)) {
        k.null = null_version{s.i64(0, 4), s.i64(0, 5)};
    }
    if (!s.null(0, 6)) {
        k.current = read_version(s, 0, 6);
    }
    return k;
}

task<key_lock> lock_key(write_txn &t, const std::string &bucket, const std::string &key) {
    key_rows r;
    queue_lock_key(t, bucket, key, r);
    auto flush_call = t.c.async_flush();
    co_await std::move(flush_call);
    co_return locked_key(t, bucket, key, r);
}

namespace {

protocol::write_context context_against(const key_lock &k, const bucket_info &b,
                                        const snapshot *snap, bool server_requires) {
    protocol::write_context ctx;
    if (k.current && !k.current->delete_marker) {
        ctx.exists = true;
        ctx.current_etag = k.current->etag;
    }
    if (k.found && snap) {
        auto since = [&](std::int64_t xid) {
            return xid != 0 && !snap->sees(static_cast<std::uint64_t>(xid));
        };
        ctx.written_since_start = since(k.last_mutation_xid);
        ctx.deleted_since_start = since(k.last_delete_xid);
        // Writes to one key commit in history order, so the ones the snapshot sees are a prefix.
        bool state = k.history.base_exists;
        for (auto &[xid, exists] : k.history.entries) {
            if (!snap->sees(static_cast<std::uint64_t>(xid)))
                break;
            state = exists;
        }
        ctx.existed_at_start = state;
    } else if (k.found) {
        ctx.existed_at_start = ctx.exists;
    }
    ctx.conditions_required = server_requires || b.require_conditions;
    return ctx;
}

} // namespace

task<result<protocol::write_context>> gather_context(const key_lock &k, const bucket_info &b,
                                                     const start_token &start,
                                                     bool server_requires) {
    auto pending =
        std::static_pointer_cast<pending_snapshot>(std::const_pointer_cast<void>(start.state));
    if (!pending) {
        co_return context_against(k, b, nullptr, server_requires);
    }
    auto wait_call = pending->wait(10000);
    if (!co_await std::move(wait_call)) {
        co_return unavailable();
    }
    co_return context_against(k, b, &pending->snap, server_requires);
}

result<protocol::write_context> gather_context_at(const key_lock &k, const bucket_info &b,
                                                  const std::string &snapshot_text,
                                                  bool server_requires) {
    auto snap = snapshot::parse(snapshot_text);
    return context_against(k, b, &snap, server_requires);
}

current_state state_of_lock(const key_lock &k) {
    return k.current ? state_of(*k.current) : current_state{};
}

void queue_body_slot(write_txn &t, const staged_body &b, rows *into) {
    if (b.is_file()) {
        // Locked until the transaction ends: nothing can remove it before the commit adopts it.
        t.c.queue("SELECT id FROM bodies WHERE id = $1 AND staged FOR UPDATE", {staged_id(b.file)},
                  into);
    } else {
        t.c.queue("SELECT nextval(pg_get_serial_sequence('bodies', 'id'))", {}, into);
    }
}

std::int64_t insert_body(write_txn &t, const staged_body &b, const rows &slot) {
    if (b.is_file()) {
        std::int64_t id = staged_id(b.file);
        t.staged.push_back(id); // dropped if this write fails
        if (slot.empty()) {
            throw std::runtime_error("the staged body " + b.file + " is gone");
        }
        t.c.queue("UPDATE bodies SET staged = false, refs = 1 WHERE id = $1", {id});
        return id;
    }
    const std::int64_t id = slot.i64(0, 0);
    t.c.queue("INSERT INTO bodies(id, size, data, refs) VALUES($1, $2, $3, 1)",
              {id, static_cast<std::int64_t>(b.size), bytea{b.inline_data}});
    return id;
}

task<std::int64_t> store_body(write_txn &t, const staged_body &b) {
    rows slot;
    queue_body_slot(t, b, &slot);
    auto flush_call = t.c.async_flush();
    co_await std::move(flush_call);
    co_return insert_body(t, b, slot);
}

void add_body_ref(connection &c, std::int64_t body_id) {
    c.queue("UPDATE bodies SET refs = refs + 1 WHERE id = $1", {body_id});
}

task<void> release_body(connection &c, std::int64_t body_id) {
    if (body_id == 0)
        co_return;
    // The UPDATE locks the row until the transaction ends: the count it answers stays true.
    auto run_call = c.async_run("UPDATE bodies SET refs = refs - 1 WHERE id = $1 RETURNING refs, "
                                "EXISTS(SELECT 1 FROM body_parts WHERE body_id = $1)",
                                body_id);
    auto r = co_await std::move(run_call);
    if (r.empty() || r.i64(0, 0) > 0)
        co_return;
    // A GET streaming these bytes reads them in its own REPEATABLE READ snapshot, which still
    // sees the rows deleted here (bodies.cpp).
    rows parts;
    if (r.boolean(0, 1)) {
        auto run_call2 = c.async_run(
            "DELETE FROM body_parts WHERE body_id = $1 RETURNING part_body_id", body_id);
        parts = co_await std::move(run_call2);
    }
    c.queue("DELETE FROM body_chunks WHERE body_id = $1", {body_id});
    // A body's file is unlinked once no snapshot can still read it (blob_dir.hpp RULE 2).
    c.queue("WITH gone AS (DELETE FROM bodies WHERE id = $1 RETURNING file) INSERT INTO "
            "released_files(name, xid) SELECT file, pg_current_xact_id()::text::bigint FROM "
            "gone WHERE file IS NOT NULL",
            {body_id});
    for (int i = 0; i < parts.size(); ++i) {
        auto release_body_call = release_body(c, parts.i64(i, 0));
        co_await std::move(release_body_call);
    }
}

namespace {

// A staged body was never visible to a reader: its file may go at once (xid 0).
constexpr const char *drop_staged_sql =
    "WITH gone AS (DELETE FROM bodies WHERE id = $1 AND staged RETURNING id, file), "
    "chunks AS (DELETE FROM body_chunks WHERE body_id IN (SELECT id FROM gone)) "
    "INSERT INTO released_files(name, xid) SELECT file, 0 FROM gone WHERE file IS NOT NULL";

} // namespace

task<void> drop_staged(connection &c, std::int64_t body_id) {
    try {
        auto run_call = c.async_run(drop_staged_sql, body_id);
        co_await std::move(run_call);
    } catch (const pg_error &) {
        // Left for the janitor (backend.cpp), which removes old staged bodies.
    }
}

void queue_drop_staged(connection &c, std::int64_t body_id) { c.queue(drop_staged_sql, {body_id}); }

std::string as_text(const std::string &s) {
    if (protocol::is_utf8(s))
        return s;
    std::string out;
    for (unsigned char ch : s) {
        if (ch < 0x80) {
            out += static_cast<char>(ch);
        } else {
            out += static_cast<char>(0xc0 | (ch >> 6));
            out += static_cast<char>(0x80 | (ch & 0x3f));
        }
    }
    return out;
}

std::string new_version_id(std::int64_t now_ms, std::int64_t xid) {
    unsigned char r[4];
    RAND_bytes(r, sizeof r);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%012llx%012llx%02x%02x%02x%02x",
                  static_cast<unsigned long long>(now_ms) & 0xffffffffffffULL,
                  static_cast<unsigned long long>(xid) & 0xffffffffffffULL, r[0], r[1], r[2], r[3]);
    return buf;
}

task<void> install_version(write_txn &t, const bucket_info &b, key_lock &k, object_version &v) {
    if (v.rank_ms == 0) {
        v.rank_ms = v.last_modified_ms;
    }
    v.bucket = b.name;
    v.key = k.key;
    v.is_latest = true;
    if (b.versioning == "Enabled") {
        if (v.version_id.empty()) { // a replica arrives with its source's (B-R2)
            v.version_id = new_version_id(t.now_ms, t.xid);
        }
        // A version whose write started earlier stays below (D11).
        v.is_latest = !(k.current && k.current->rank_ms > v.rank_ms);
    } else {
        v.version_id = "null";
        // RULE 4: the lock's read found the 'null' version this replaces, if there is one.
        if (k.null) {
            assert(k.null->seq != 0 && "a key gets one unversioned write per transaction");
            t.c.queue("DELETE FROM versions WHERE seq = $1", {k.null->seq});
            if (k.current && k.current->seq == k.null->seq)
                k.current.reset();
            const auto old_body = k.null->body_id;
            k.null.reset();
            auto release_body_call = release_body(t.c, old_body);
            co_await std::move(release_body_call);
        }
    }
    if (v.is_latest && k.current) {
        assert(k.current->seq != 0 && "a version installed by this transaction is current");
        t.c.queue("UPDATE versions SET is_latest = false WHERE seq = $1", {k.current->seq});
    }
    const std::string meta = encode_meta(v.meta);
    t.c.queue(
        "INSERT INTO versions(bucket, key, version_id, is_latest, delete_marker, etag, size, "
        "last_modified_ms, body_id, meta, parts_count, writer_request_id, writer_access_key, "
        "writer_remote, writer_agent, rank_ms, writer_xid) VALUES($1, $2, $3, $4, $5, $6, $7, $8, "
        "$9, $10, $11, $12, $13, $14, $15, $16, $17)",
        {b.name, k.key, v.version_id, v.is_latest, v.delete_marker, v.etag,
         static_cast<std::int64_t>(v.size), v.last_modified_ms,
         v.body_id ? param(v.body_id) : param(std::nullopt), meta, v.parts_count,
         as_text(v.writer.request_id), as_text(v.writer.access_key), as_text(v.writer.remote),
         as_text(v.writer.user_agent), v.rank_ms, t.xid});
    v.seq = 0; // not read back (rows.hpp)
    if (v.version_id == "null") {
        k.null = null_version{0, v.body_id};
    }
    if (v.is_latest) {
        k.current = v;
    }
}

task<void> remove_version(write_txn &t, key_lock &k, const object_version &v) {
    assert(v.seq != 0 && "a version installed by this transaction is not removed by it");
    t.c.queue("DELETE FROM versions WHERE seq = $1", {v.seq});
    if (k.current && k.current->seq == v.seq) {
        k.current.reset();
    }
    if (k.null && k.null->seq == v.seq) {
        k.null.reset();
    }
    auto release_body_call = release_body(t.c, v.body_id);
    co_await std::move(release_body_call);
}

task<void> promote_latest(write_txn &t, key_lock &k) {
    auto run_call =
        t.c.async_run(std::string("UPDATE versions SET is_latest = true WHERE seq = (SELECT seq "
                                  "FROM versions WHERE bucket = $1 AND key = $2 AND NOT "
                                  "is_latest ORDER BY rank_ms DESC, seq DESC LIMIT 1) "
                                  "RETURNING ") +
                          version_columns,
                      k.bucket, k.key);
    auto r = co_await std::move(run_call);
    if (r.empty()) {
        k.current.reset();
    } else {
        k.current = read_version(r, 0);
    }
}

void touch_key(write_txn &t, key_lock &k, bool is_delete, bool exists_after) {
    k.history.append(t.xid, exists_after);
    k.last_mutation_xid = t.xid;
    if (is_delete) {
        k.last_delete_xid = t.xid;
    }
    t.c.queue("INSERT INTO key_state(bucket, key, last_mutation_xid, last_delete_xid, history) "
              "VALUES($1, $2, $3, $4, $5) ON CONFLICT (bucket, key) DO UPDATE SET "
              "last_mutation_xid = excluded.last_mutation_xid, last_delete_xid = "
              "excluded.last_delete_xid, history = excluded.history",
              {k.bucket, k.key, k.last_mutation_xid, k.last_delete_xid, encode_history(k.history)});
    k.found = true;
}

task<current_state> capture_current(connection &c, const std::string &bucket,
                                    const std::string &key) {
    auto find_latest_call = find_latest(c, bucket, key);
    auto v = co_await std::move(find_latest_call);
    co_return v ? state_of(*v) : current_state{};
}

s3_error no_such_bucket(const std::string &name) {
    return s3_error(s3_errc::no_such_bucket).with("BucketName", name);
}

s3_error no_such_key(const std::string &key) {
    return s3_error(s3_errc::no_such_key).with("Key", key);
}

s3_error unavailable() {
    return s3_error(s3_errc::slow_down, "The store's database cannot be reached; retry the "
                                        "request.");
}

std::string staged_token(std::int64_t id) { return "pg:" + std::to_string(id); }

std::int64_t staged_id(const std::string &token) {
    if (token.rfind("pg:", 0) != 0) {
        throw std::runtime_error("not a staged body of this store: " + token);
    }
    return std::stoll(token.substr(3));
}

} // namespace ifmatch::storage::postgres
