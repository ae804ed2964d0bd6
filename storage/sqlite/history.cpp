// Version history, current-state capture and the persisted event tail (see history.hpp).
#include "storage/sqlite/history.hpp"

#include "storage/sqlite/rows.hpp"
#include "storage/sqlite/sqlite.hpp"

#include <filesystem>
#include <stdexcept>

namespace ifmatch::storage::sqlite {

current_state capture_current(connection &db, const std::string &bucket, const std::string &key) {
    auto v = rows::find_latest(db, bucket, key);
    return v ? state_of(*v) : current_state{};
}

result<bool> append_events(write_txn &t, const std::vector<event_row> &rows, std::size_t keep) {
    for (auto &e : rows) {
        query q(t.db, "INSERT INTO events(time_ms, bucket, key, body) VALUES(?, ?, ?, ?)");
        q->bind(1, e.time_ms).bind(2, e.bucket).bind(3, e.key).bind(4, e.json);
        q->step();
    }
    query q(t.db, "DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?");
    q->bind(1, static_cast<std::int64_t>(keep));
    q->step();
    return true;
}

std::vector<event_row> recent_events(connection &db, std::size_t limit) {
    std::vector<event_row> out;
    query q(db, "SELECT time_ms, bucket, key, body FROM events ORDER BY id DESC LIMIT ?");
    q->bind(1, static_cast<std::int64_t>(limit));
    while (q->step()) {
        out.push_back(event_row{q->column_int(0), q->column_text(1), q->column_text(2),
                                q->column_text(3)});
    }
    return {out.rbegin(), out.rend()};
}

result<std::vector<event_row>> recent_events(read_txn &t, std::size_t limit) {
    return recent_events(t.db, limit);
}

std::vector<object_version> key_versions(connection &db, const std::string &bucket,
                                         const std::string &key) {
    std::vector<object_version> out;
    query q(db, std::string("SELECT ") + rows::version_columns +
                    " FROM versions WHERE bucket = ?1 AND key = ?2 AND is_latest = 0 "
                    "UNION ALL SELECT " + rows::version_columns +
                    " FROM versions WHERE seq = (SELECT latest_seq FROM key_state "
                    "WHERE bucket = ?1 AND key = ?2) ORDER BY seq");
    q->bind(1, bucket).bind(2, key);
    while (q->step()) {
        out.push_back(rows::read_version(q.get()));
    }
    return out;
}

result<std::vector<object_version>> key_versions(read_txn &t, const std::string &bucket,
                                                 const std::string &key) {
    if (!rows::find_bucket(t.db, bucket)) {
        return rows::no_such_bucket(bucket);
    }
    return key_versions(t.db, bucket, key);
}

result<std::vector<object_version>> bucket_keys(read_txn &t, const std::string &bucket,
                                                const std::string &after, std::size_t limit) {
    if (!rows::find_bucket(t.db, bucket)) {
        return rows::no_such_bucket(bucket);
    }
    std::vector<object_version> out;
    query q(t.db, std::string("SELECT ") + rows::version_columns +
                      " FROM versions WHERE seq IN (SELECT latest_seq FROM key_state "
                      "WHERE bucket = ? AND key > ? AND latest_seq != 0 ORDER BY key LIMIT ?) "
                      "ORDER BY key");
    q->bind(1, bucket).bind(2, after).bind(3, static_cast<std::int64_t>(limit));
    while (q->step()) {
        out.push_back(rows::read_version(q.get()));
    }
    return out;
}

std::unique_ptr<connection> open_read_only(const std::string &data_dir) {
    std::string path = data_dir + "/ifmatch.db";
    if (!std::filesystem::exists(path)) {
        throw std::runtime_error("no ifmatch database at " + path);
    }
    return std::make_unique<connection>(path, true);
}

} // namespace ifmatch::storage::sqlite
