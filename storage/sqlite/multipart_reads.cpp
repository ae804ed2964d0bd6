// Multipart and version listings: ListParts, ListMultipartUploads, ListObjectVersions, and the
// part sizes GET/HEAD ?partNumber= needs (see multipart.hpp).
//
// RULES
// 1. Listings walk an index in batches from a cursor; a delimiter collapses keys into common
//    prefixes and the walk jumps past the whole prefix. A common prefix at or before the key
//    marker was returned by an earlier page and is skipped (as in ListObjects).
// 2. Every listing counts entries and common prefixes together against its maximum; it is
//    truncated when one more entry exists.
#include "storage/sqlite/multipart.hpp"
#include "storage/sqlite/multipart_rows.hpp"
#include "storage/sqlite/rows.hpp"

#include "storage/listing_rules.hpp"

#include <limits>

namespace ifmatch::storage::sqlite {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t i64_min = std::numeric_limits<std::int64_t>::min();

std::string successor(std::string p) {
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

// A position in (key, a DESC/ASC, b) order: rows strictly after it are visited next.
struct cursor {
    std::string key;
    std::int64_t a = i64_max; // i64_max with b = i64_max: the whole of `key` is still ahead
    std::int64_t b = i64_max;
};

} // namespace

result<list_parts_page> list_parts(read_txn &t, const list_parts_request &r) {
    auto u = lookup_upload(t.db, r.bucket, r.key, r.upload_id);
    if (u.has_error()) {
        return u.error();
    }
    list_parts_page page;
    page.upload = std::move(*u);
    page.parts = load_parts(t.db, r.upload_id, r.marker, std::max(0, r.max_parts) + 1);
    if (page.parts.size() > static_cast<std::size_t>(std::max(0, r.max_parts))) {
        page.parts.resize(static_cast<std::size_t>(std::max(0, r.max_parts)));
        page.truncated = true;
    }
    return page;
}

result<list_uploads_page> list_uploads(read_txn &t, const list_uploads_request &r) {
    if (!rows::find_bucket(t.db, r.bucket)) {
        return rows::no_such_bucket(r.bucket);
    }
    list_uploads_page page;
    const std::string upper = successor(r.prefix);
    // Cursor (key, initiated_ms, upload_id): i64_min = the whole key is ahead, i64_max = done.
    cursor c{r.key_marker < r.prefix ? r.prefix : r.key_marker, i64_min, 0};
    std::string cu;
    if (!(r.key_marker < r.prefix)) {
        c.a = i64_max;
        if (!r.upload_id_marker.empty()) {
            query q(t.db, "SELECT initiated_ms FROM uploads WHERE upload_id = ? AND bucket = ? "
                          "AND key = ?");
            q->bind(1, r.upload_id_marker).bind(2, r.bucket).bind(3, r.key_marker);
            if (q->step()) {
                c.a = q->column_int(0);
                cu = r.upload_id_marker;
            }
        }
    }
    const std::size_t limit = static_cast<std::size_t>(std::max(0, r.max_uploads));
    auto full = [&] { return page.uploads.size() + page.common_prefixes.size() >= limit; };
    for (;;) {
        query q(t.db, std::string("SELECT ") + upload_columns +
                          " FROM uploads WHERE bucket = ? AND (key > ? OR (key = ? AND "
                          "(initiated_ms > ? OR (initiated_ms = ? AND upload_id > ?)))) AND "
                          "(? = '' OR key < ?) ORDER BY key, initiated_ms, upload_id LIMIT 1000");
        q->bind(1, r.bucket).bind(2, c.key).bind(3, c.key).bind(4, c.a).bind(5, c.a).bind(6, cu);
        q->bind(7, upper).bind(8, upper);
        bool any = false;
        while (q->step()) {
            any = true;
            auto u = read_upload(q.get());
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
                c = cursor{successor(cp), i64_min, 0}; // the successor key itself included
                cu.clear();
                if (c.key.empty()) return page;
                break;
            }
            if (full()) {
                page.truncated = true;
                return page;
            }
            c = cursor{u.key, u.initiated_ms, 0};
            cu = u.upload_id;
            page.next_key_marker = u.key;
            page.next_upload_id_marker = u.upload_id;
            page.uploads.push_back(std::move(u));
        }
        if (!any) {
            return page;
        }
    }
}

namespace {

// Where ListObjectVersions resumes (listing_rules.hpp).
result<cursor> versions_start(read_txn &t, const list_versions_request &r) {
    auto p = storage::versions_start(r, [&](const std::string &key, const std::string &id) {
        return rows::find_version(t.db, r.bucket, key, id);
    });
    if (p.has_error()) {
        return p.error();
    }
    return cursor{p->key, p->rank, p->seq};
}

} // namespace

result<list_versions_page> list_versions(read_txn &t, const list_versions_request &r) {
    if (!rows::find_bucket(t.db, r.bucket)) {
        return rows::no_such_bucket(r.bucket);
    }
    auto start = versions_start(t, r);
    if (start.has_error()) {
        return start.error();
    }
    cursor c = *start;
    list_versions_page page;
    const std::string upper = successor(r.prefix);
    const std::size_t limit = static_cast<std::size_t>(std::max(0, r.max_keys));
    auto full = [&] { return page.versions.size() + page.common_prefixes.size() >= limit; };
    for (;;) {
        // Schema 3: the rows that are not current come from versions_by_key, each key's current
        // row through key_state; both arms are read in key order and merged.
        static const std::string sql =
            std::string("SELECT * FROM (SELECT ") + rows::version_columns +
            " FROM versions WHERE bucket = ?1 AND is_latest = 0 AND key >= ?2 AND (key > ?2 OR "
            "(key = ?2 AND (rank_ms < ?3 OR (rank_ms = ?3 AND seq < ?4)))) AND "
            "(?5 = '' OR key < ?5) ORDER BY key, rank_ms DESC, seq DESC LIMIT 1000) "
            "UNION ALL SELECT * FROM (SELECT " + rows::qualified_version_columns("v") +
            " FROM key_state k JOIN versions v ON v.seq = k.latest_seq WHERE k.bucket = ?1 AND "
            "k.key >= ?2 AND (k.key > ?2 OR (k.key = ?2 AND (v.rank_ms < ?3 OR "
            "(v.rank_ms = ?3 AND v.seq < ?4)))) AND (?5 = '' OR k.key < ?5) ORDER BY k.key "
            "LIMIT 1000) ORDER BY key, rank_ms DESC, seq DESC LIMIT 1000";
        query q(t.db, sql);
        q->bind(1, r.bucket).bind(2, c.key).bind(3, c.a).bind(4, c.b).bind(5, upper);
        bool any = false;
        while (q->step()) {
            any = true;
            auto v = rows::read_version(q.get());
            if (auto cp = common_prefix(v.key, r.prefix, r.delimiter); !cp.empty()) {
                if (cp > r.key_marker) {
                    if (full()) {
                        page.truncated = true;
                        return page;
                    }
                    page.common_prefixes.push_back(cp);
                    page.next_key_marker = cp;
                    page.next_version_id_marker.clear();
                }
                c = cursor{successor(cp), i64_max, i64_max};
                if (c.key.empty()) return page;
                break;
            }
            if (full()) {
                page.truncated = true;
                return page;
            }
            c = cursor{v.key, v.rank_ms, v.seq};
            page.next_key_marker = v.key;
            page.next_version_id_marker = v.version_id;
            page.versions.push_back(std::move(v));
        }
        if (!any) {
            return page;
        }
    }
}

std::vector<std::uint64_t> body_part_sizes(read_txn &t, std::int64_t body_id) {
    std::vector<std::uint64_t> out;
    query q(t.db, "SELECT b.size FROM body_parts p JOIN bodies b ON b.id = p.part_body_id "
                  "WHERE p.body_id = ? ORDER BY p.seq");
    q->bind(1, body_id);
    while (q->step()) {
        out.push_back(static_cast<std::uint64_t>(q->column_int(0)));
    }
    return out;
}

} // namespace ifmatch::storage::sqlite
