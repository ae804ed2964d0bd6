// Object reads: GetObject/HeadObject lookups with their bodies, and listings.
#include "storage/sqlite/operations.hpp"
#include "storage/sqlite/rows.hpp"

namespace ifmatch::storage::sqlite {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

// Resolves a body into open segments; composite (multipart) bodies expand to their parts.
bool open_body(read_txn &t, std::int64_t body_id, std::vector<body_segment> &out, int depth = 0) {
    if (body_id == 0 || depth > 16) {
        return depth <= 16;
    }
    std::string file, data;
    std::uint64_t size = 0;
    bool inline_null = true;
    {
        query q(t.db, "SELECT size, data, file FROM bodies WHERE id = ?");
        q->bind(1, body_id);
        if (!q->step()) {
            return false;
        }
        size = static_cast<std::uint64_t>(q->column_int(0));
        inline_null = q->column_is_null(1);
        data = q->column_blob(1);
        file = q->column_text(2);
    }
    if (!file.empty()) {
        body_segment s;
        s.source = t.blobs.open(file);
        s.size = size;
        if (!s.source) {
            return false;
        }
        out.push_back(std::move(s));
        return true;
    }
    if (!inline_null) {
        if (size > 0) {
            out.push_back(body_segment{std::move(data), nullptr, size});
        }
        return true;
    }
    std::vector<std::int64_t> parts;
    {
        query q(t.db, "SELECT part_body_id FROM body_parts WHERE body_id = ? ORDER BY seq");
        q->bind(1, body_id);
        while (q->step()) {
            parts.push_back(q->column_int(0));
        }
    }
    for (auto p : parts) {
        if (!open_body(t, p, out, depth + 1)) {
            return false;
        }
    }
    return true;
}

} // namespace

result<object_read> get_object(read_txn &t, const get_request &r) {
    if (!rows::find_bucket(t.db, r.bucket)) {
        return rows::no_such_bucket(r.bucket);
    }
    std::optional<object_version> v;
    if (r.version_id) {
        v = rows::find_version(t.db, r.bucket, r.key, *r.version_id);
        if (!v) {
            return s3_error(s3_errc::no_such_version)
                .with("Key", r.key)
                .with("VersionId", *r.version_id);
        }
    } else {
        v = rows::find_latest(t.db, r.bucket, r.key);
        if (!v) {
            return rows::no_such_key(r.key);
        }
    }
    object_read out;
    out.version = std::move(*v);
    if (r.open_body && !out.version.delete_marker &&
        !open_body(t, out.version.body_id, out.segments)) {
        return s3_error(s3_errc::internal_error, "The object's stored body is missing.");
    }
    return out;
}

namespace {

// The smallest string greater than every string that starts with `p` (byte order), or empty when
// there is none (all 0xff).
std::string prefix_successor(std::string p) {
    while (!p.empty()) {
        auto c = static_cast<unsigned char>(p.back());
        if (c < 0xff) {
            p.back() = static_cast<char>(c + 1);
            return p;
        }
        p.pop_back();
    }
    return p;
}

} // namespace

result<list_page> list_objects(read_txn &t, const list_request &r) {
    if (!rows::find_bucket(t.db, r.bucket)) {
        return rows::no_such_bucket(r.bucket);
    }
    list_page page;
    if (r.max_keys <= 0) {
        // max-keys=0 asks for nothing: an empty page that is not truncated, as on S3.
        return page;
    }
    const std::string upper = prefix_successor(r.prefix);
    std::string cursor = r.after < r.prefix ? r.prefix : r.after;
    bool inclusive = r.after < r.prefix;
    const std::size_t limit = static_cast<std::size_t>(std::max(0, r.max_keys));
    for (;;) {
        query q(t.db, "SELECT k.key, v.etag, v.size, v.last_modified_ms FROM key_state k "
                      "JOIN versions v ON v.seq = k.latest_seq WHERE k.bucket = ? "
                      "AND v.delete_marker = 0 AND k.key >= ? AND (? OR k.key > ?) "
                      "AND (? = '' OR k.key < ?) ORDER BY k.key LIMIT 1001");
        q->bind(1, r.bucket).bind(2, cursor).bind(3, inclusive ? 1 : 0).bind(4, cursor);
        q->bind(5, upper).bind(6, upper);
        bool any = false, jumped = false;
        while (q->step()) {
            any = true;
            std::string key = q->column_text(0);
            if (!r.delimiter.empty()) {
                auto pos = key.find(r.delimiter, r.prefix.size());
                if (pos != std::string::npos) {
                    std::string cp = key.substr(0, pos + r.delimiter.size());
                    // A common prefix at or before the marker was returned by an earlier page.
                    if (cp > r.after) {
                        if (page.contents.size() + page.common_prefixes.size() >= limit) {
                            page.truncated = true;
                            return page;
                        }
                        page.common_prefixes.push_back(cp);
                        page.last = cp;
                    }
                    cursor = prefix_successor(cp);
                    inclusive = true;
                    jumped = true;
                    break;
                }
            }
            if (page.contents.size() + page.common_prefixes.size() >= limit) {
                page.truncated = true;
                return page;
            }
            page.contents.push_back(list_entry{key, q->column_text(1),
                                               static_cast<std::uint64_t>(q->column_int(2)),
                                               q->column_int(3)});
            page.last = key;
            cursor = key;
            inclusive = false;
        }
        if (!any || (!jumped && !any)) {
            return page;
        }
        if (!jumped) {
            // The batch ended without a jump: continue after the last key unless it was short.
            query more(t.db, "SELECT 1 FROM key_state k JOIN versions v ON v.seq = k.latest_seq "
                             "WHERE k.bucket = ? AND v.delete_marker = 0 AND k.key > ? AND "
                             "(? = '' OR k.key < ?) LIMIT 1");
            more->bind(1, r.bucket).bind(2, cursor).bind(3, upper).bind(4, upper);
            if (!more->step()) {
                return page;
            }
        }
        if (cursor.empty()) {
            return page;
        }
    }
}

} // namespace ifmatch::storage::sqlite
