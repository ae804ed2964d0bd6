// Listings and key histories of the PostgreSQL backend: ListObjects, ListObjectVersions, a key's
// versions and a bucket's current versions, with the SQLite backend's semantics.
//
// RULES
// 1. Keys are ordered and compared bytewise, as S3 and SQLite do: every ORDER BY and every
//    comparison of key text is COLLATE "C" (the database's default collation may not be).
// 2. Listings walk the versions in batches from a cursor. A delimiter collapses keys into common
//    prefixes: the rest of a batch skips the prefix's keys and the next batch starts past the
//    whole prefix. A common prefix at or before the marker was returned by an earlier page and is
//    skipped.
// 3. Entries and common prefixes count together against the maximum; a page is truncated only
//    when one more entry or new common prefix exists.
// 4. Bounds sent to the database are valid UTF-8 (parameters are text in a UTF-8 database): the
//    bound past every string that starts with p increments p's last code point, not its last byte.
//    For UTF-8 keys the two bounds select the same keys, since UTF-8's byte order is code point
//    order.
// 5. A key's current row is its is_latest row; versions are in S3's order, by key then newest
//    first (rank_ms DESC, seq DESC, the order promote_latest uses).
#include "storage/listing_rules.hpp"
#include "storage/postgres/operations.hpp"

#include <limits>

namespace ifmatch::storage::postgres {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

constexpr int batch = 1000;

void append_utf8(std::string &s, std::uint32_t cp) {
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xc0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        s += static_cast<char>(0xe0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        s += static_cast<char>(0xf0 | (cp >> 18));
        s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        s += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

// Removes and returns the last code point of well-formed UTF-8 `s` (not empty).
std::uint32_t pop_code_point(std::string &s) {
    std::size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80)
        --start;
    auto lead = static_cast<unsigned char>(s[start]);
    const std::size_t n = s.size() - start;
    std::uint32_t cp = n == 1 ? lead : lead & (0x7f >> n);
    for (std::size_t i = start + 1; i < s.size(); ++i) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3f);
    }
    s.resize(start);
    return cp;
}

// The smallest UTF-8 string greater than every string that starts with `p` (RULE 4), or empty
// when there is none (p is all U+10FFFF, or empty).
std::string successor(std::string p) {
    while (!p.empty()) {
        std::uint32_t cp = pop_code_point(p);
        if (cp < 0x10ffff) {
            append_utf8(p, cp + 1 == 0xd800 ? 0xe000 : cp + 1); // surrogates are not characters
            return p;
        }
    }
    return p;
}

} // namespace

task<result<list_page>> list_objects(connection &c, const list_request &r) {
    auto find_bucket_call = find_bucket(c, r.bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(r.bucket);
    }
    list_page page;
    if (r.max_keys <= 0) {
        // max-keys=0 asks for nothing: an empty page that is not truncated, as on S3.
        co_return page;
    }
    const std::string upper = successor(r.prefix);
    const bool from_prefix = r.after < r.prefix;
    std::string cursor = from_prefix ? r.prefix : r.after;
    bool inclusive = from_prefix;
    const std::size_t limit = static_cast<std::size_t>(r.max_keys);
    auto full = [&] { return page.contents.size() + page.common_prefixes.size() >= limit; };
    for (;;) {
        auto run_call =
            c.async_run("SELECT key, etag, size, last_modified_ms FROM versions WHERE "
                        "bucket = $1 AND is_latest AND NOT delete_marker AND "
                        "key COLLATE \"C\" >= $2 AND ($3 OR key COLLATE \"C\" > $2) AND "
                        "($4 = '' OR key COLLATE \"C\" < $4) ORDER BY key COLLATE \"C\" "
                        "LIMIT $5",
                        r.bucket, cursor, inclusive, upper, batch);
        auto rows = co_await std::move(run_call);
        std::string skipping; // the common prefix whose keys the rest of the batch passes over
        for (int i = 0; i < rows.size(); ++i) {
            std::string key = rows.text(i, 0);
            if (!skipping.empty() && key.starts_with(skipping)) {
                continue;
            }
            skipping.clear();
            if (auto cp = common_prefix(key, r.prefix, r.delimiter); !cp.empty()) {
                if (cp > r.after) {
                    if (full()) {
                        page.truncated = true;
                        co_return page;
                    }
                    page.common_prefixes.push_back(cp);
                    page.last = cp;
                }
                skipping = std::move(cp);
                continue;
            }
            if (full()) {
                page.truncated = true;
                co_return page;
            }
            page.contents.push_back(list_entry{
                key, rows.text(i, 1), static_cast<std::uint64_t>(rows.i64(i, 2)), rows.i64(i, 3)});
            page.last = key;
            cursor = std::move(key);
            inclusive = false;
        }
        if (rows.size() < batch) {
            co_return page; // the range held no more keys
        }
        if (!skipping.empty()) {
            cursor = successor(skipping);
            inclusive = true;
            if (cursor.empty())
                co_return page;
        }
    }
}

namespace {

// Where ListObjectVersions resumes (listing_rules.hpp).
task<result<version_position>> versions_start(connection &c, const list_versions_request &r) {
    // The marker's version is the one lookup storage::versions_start may ask for: read first.
    std::optional<object_version> marker;
    if (!r.version_id_marker.empty() && !r.key_marker.empty() && !(r.key_marker < r.prefix)) {
        auto find_version_call = find_version(c, r.bucket, r.key_marker, r.version_id_marker);
        marker = co_await std::move(find_version_call);
    }
    co_return storage::versions_start(
        r, [&](const std::string &, const std::string &) { return marker; });
}

} // namespace

task<result<list_versions_page>> list_versions(connection &c, const list_versions_request &r) {
    auto find_bucket_call = find_bucket(c, r.bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(r.bucket);
    }
    auto versions_start_call = versions_start(c, r);
    auto start = co_await std::move(versions_start_call);
    if (start.has_error()) {
        co_return start.error();
    }
    version_position at = *start;
    list_versions_page page;
    const std::string upper = successor(r.prefix);
    const std::size_t limit = static_cast<std::size_t>(std::max(0, r.max_keys));
    auto full = [&] { return page.versions.size() + page.common_prefixes.size() >= limit; };
    const std::string sql =
        std::string("SELECT ") + version_columns +
        " FROM versions WHERE bucket = $1 AND key COLLATE \"C\" >= $2 AND "
        "(key COLLATE \"C\" > $2 OR rank_ms < $3 OR (rank_ms = $3 AND seq < $4)) AND "
        "($5 = '' OR key COLLATE \"C\" < $5) ORDER BY key COLLATE \"C\", rank_ms DESC, "
        "seq DESC LIMIT $6";
    for (;;) {
        auto run_call = c.async_run(sql, r.bucket, at.key, at.rank, at.seq, upper, batch);
        auto rows = co_await std::move(run_call);
        std::string skipping; // as in list_objects
        for (int i = 0; i < rows.size(); ++i) {
            auto v = read_version(rows, i);
            if (!skipping.empty() && v.key.starts_with(skipping)) {
                continue;
            }
            skipping.clear();
            if (auto cp = common_prefix(v.key, r.prefix, r.delimiter); !cp.empty()) {
                if (cp > r.key_marker) {
                    if (full()) {
                        page.truncated = true;
                        co_return page;
                    }
                    page.common_prefixes.push_back(cp);
                    page.next_key_marker = cp;
                    page.next_version_id_marker.clear();
                }
                skipping = std::move(cp);
                continue;
            }
            if (full()) {
                page.truncated = true;
                co_return page;
            }
            at = version_position{v.key, v.rank_ms, v.seq};
            page.next_key_marker = v.key;
            page.next_version_id_marker = v.version_id;
            page.versions.push_back(std::move(v));
        }
        if (rows.size() < batch) {
            co_return page;
        }
        if (!skipping.empty()) {
            at = version_position{successor(skipping)};
            if (at.key.empty())
                co_return page;
        }
    }
}

task<result<std::vector<object_version>>> key_versions(connection &c, const std::string &bucket,
                                                       const std::string &key) {
    auto find_bucket_call = find_bucket(c, bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(bucket);
    }
    auto run_call = c.async_run(std::string("SELECT ") + version_columns +
                                    " FROM versions WHERE bucket = $1 AND key = $2 ORDER BY seq",
                                bucket, key);
    auto rows = co_await std::move(run_call);
    std::vector<object_version> out;
    for (int i = 0; i < rows.size(); ++i) {
        out.push_back(read_version(rows, i));
    }
    co_return out;
}

task<result<std::vector<object_version>>> bucket_keys(connection &c, const std::string &bucket,
                                                      const std::string &after, std::size_t limit) {
    auto find_bucket_call = find_bucket(c, bucket);
    if (!co_await std::move(find_bucket_call)) {
        co_return no_such_bucket(bucket);
    }
    // Every key with a current row, a delete marker included.
    auto run_call = c.async_run(std::string("SELECT ") + version_columns +
                                    " FROM versions WHERE bucket = $1 AND is_latest AND "
                                    "key COLLATE \"C\" > $2 ORDER BY key COLLATE \"C\" LIMIT $3",
                                bucket, after, static_cast<std::int64_t>(limit));
    auto rows = co_await std::move(run_call);
    std::vector<object_version> out;
    for (int i = 0; i < rows.size(); ++i) {
        out.push_back(read_version(rows, i));
    }
    co_return out;
}

} // namespace ifmatch::storage::postgres
