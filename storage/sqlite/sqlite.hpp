// RAII over the SQLite C API: connections, prepared statements (cached per connection) and
// savepoints. The only <sqlite3.h> includer. A connection is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace ifmatch::storage::sqlite {

// Thrown for SQLite failures. The writer and the readers catch it at the job boundary and turn it
// into an InternalError for the client; it never crosses into server/.
class sqlite_error : public std::runtime_error {
public:
    sqlite_error(int code, const std::string &what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

private:
    int code_;
};

class statement {
public:
    statement(sqlite3 *db, std::string_view sql);
    ~statement();
    statement(const statement &) = delete;
    statement &operator=(const statement &) = delete;

    // Binding is 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
    statement &bind(int i, std::int64_t v);
    statement &bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    statement &bind(int i, std::string_view text);
    statement &bind(int i, const char *text) { return bind(i, std::string_view(text)); }
    statement &bind(int i, const std::string &text) { return bind(i, std::string_view(text)); }
    // Binds a string without copying it (SQLITE_STATIC), for the writer's hot statements:
    // `text` must stay alive and unchanged until the statement is reset (the query's scope).
    statement &bind_ref(int i, const std::string &text);
    statement &bind_ref(int i, std::string &&text) = delete; // a temporary would dangle
    statement &bind_blob(int i, std::string_view data);
    // Binds without copying: `data` must stay valid until the statement is reset.
    statement &bind_blob_static(int i, std::string_view data);
    statement &bind_null(int i);

    // Steps once: true when a row is available, false when done. Throws sqlite_error.
    bool step();
    // Resets and clears bindings so the cached statement can be reused.
    void reset();

    std::int64_t column_int(int i) const;
    std::string column_text(int i) const;
    std::string column_blob(int i) const;
    bool column_is_null(int i) const;

private:
    sqlite3 *db_;
    sqlite3_stmt *stmt_ = nullptr;
};

class connection {
public:
    // Opens `path` (a file name). `read_only` opens with SQLITE_OPEN_READONLY. Throws sqlite_error.
    connection(const std::string &path, bool read_only);
    ~connection();
    connection(const connection &) = delete;
    connection &operator=(const connection &) = delete;

    // Executes one or more statements without results (parsed on every call).
    void exec(std::string_view sql);
    // Executes one statement without results through the statement cache: for the statements a
    // hot path repeats (BEGIN, SAVEPOINT, RELEASE, COMMIT).
    void run(std::string_view sql);
    // Calls `fn(pages)` after each commit with the number of frames in the write-ahead log.
    void on_wal_commit(std::function<void(int)> fn);
    // A checkpoint of the write-ahead log: PASSIVE (never waits for the writer or readers) or
    // TRUNCATE. Returns {frames in the log, frames checkpointed}. Throws sqlite_error.
    std::pair<int, int> checkpoint(bool truncate);
    // Returns a cached prepared statement, reset and ready to bind. Valid until the connection
    // closes; do not hold two uses of the same SQL text at once.
    statement &prepare(std::string_view sql);
    std::int64_t last_insert_rowid() const;
    int changes() const;
    // Rows inserted, updated or deleted on this connection since it opened.
    std::int64_t total_changes() const;
    // False in autocommit mode: no transaction is open (SQLite may end one by itself when a
    // statement fails with FULL, IOERR, NOMEM or BUSY).
    bool in_transaction() const;
    sqlite3 *handle() const { return db_; }

private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    sqlite3 *db_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<statement>, text_hash, std::equal_to<>> cache_;
    std::function<void(int)> wal_hook_;
};

// A statement use that always resets the cached statement when it goes out of scope.
class query {
public:
    query(connection &c, std::string_view sql) : st_(c.prepare(sql)) {}
    ~query() { st_.reset(); }
    query(const query &) = delete;
    query &operator=(const query &) = delete;
    statement *operator->() { return &st_; }
    statement &get() { return st_; }

private:
    statement &st_;
};

} // namespace ifmatch::storage::sqlite
