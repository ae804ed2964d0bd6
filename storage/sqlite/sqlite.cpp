// RAII over the SQLite C API.
#include "storage/sqlite/sqlite.hpp"

#include "storage/sqlite/wal_vfs.hpp"

#include <sqlite3.h>

#include <mutex>

namespace ifmatch::storage::sqlite {

namespace {

[[noreturn]] void fail(sqlite3 *db, int rc, std::string_view what) {
    std::string msg(what);
    msg += ": ";
    msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw sqlite_error(rc, msg);
}

} // namespace

statement::statement(sqlite3 *db, std::string_view sql) : db_(db) {
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
        fail(db, rc, "prepare");
    }
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement &statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
}

statement &statement::bind(int i, std::string_view text) {
    sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

statement &statement::bind_ref(int i, const std::string &text) {
    sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
    return *this;
}

statement &statement::bind_blob(int i, std::string_view data) {
    sqlite3_bind_blob64(stmt_, i, data.data(), data.size(), SQLITE_TRANSIENT);
    return *this;
}

statement &statement::bind_blob_static(int i, std::string_view data) {
    sqlite3_bind_blob64(stmt_, i, data.data(), data.size(), SQLITE_STATIC);
    return *this;
}

statement &statement::bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
}

bool statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    fail(db_, rc, "step");
}

void statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

std::string statement::column_text(int i) const {
    auto p = sqlite3_column_text(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string(reinterpret_cast<const char *>(p), static_cast<std::size_t>(n))
             : std::string();
}

std::string statement::column_blob(int i) const {
    auto p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string(static_cast<const char *>(p), static_cast<std::size_t>(n))
             : std::string();
}

bool statement::column_is_null(int i) const {
    return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}

connection::connection(const std::string &path, bool read_only) {
    // SQLite keeps allocation statistics under one process-wide mutex unless told not to; the
    // store never reads them, and every allocation of every connection would take that lock.
    // Must run before SQLite initialises (the VFS registration below does); if something else
    // initialised it first, the call fails harmlessly and the statistics stay on.
    static std::once_flag no_memstatus;
    std::call_once(no_memstatus, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
                (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, wal_vfs_name());
    if (rc != SQLITE_OK) {
        std::string msg = "open " + path;
        sqlite3 *db = db_;
        db_ = nullptr;
        std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        throw sqlite_error(rc, msg + ": " + detail);
    }
    sqlite3_busy_timeout(db_, 10000);
    sqlite3_extended_result_codes(db_, 1);
}

connection::~connection() {
    cache_.clear();
    sqlite3_close(db_);
}

void connection::exec(std::string_view sql) {
    std::string s(sql);
    char *err = nullptr;
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw sqlite_error(rc, "exec: " + msg);
    }
}

void connection::run(std::string_view sql) {
    statement &st = prepare(sql);
    try {
        while (st.step()) {
        }
    } catch (...) {
        st.reset();
        throw;
    }
    st.reset();
}

void connection::on_wal_commit(std::function<void(int)> fn) {
    wal_hook_ = std::move(fn);
    sqlite3_wal_hook(
        db_,
        [](void *self, sqlite3 *, const char *, int pages) {
            auto &hook = static_cast<connection *>(self)->wal_hook_;
            if (hook) hook(pages);
            return SQLITE_OK;
        },
        this);
}

std::pair<int, int> connection::checkpoint(bool truncate) {
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr,
                                       truncate ? SQLITE_CHECKPOINT_TRUNCATE
                                                : SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        fail(db_, rc, "checkpoint");
    }
    return {log, done};
}

statement &connection::prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        it = cache_.emplace(std::string(sql), std::make_unique<statement>(db_, sql)).first;
    }
    return *it->second;
}

std::int64_t connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int connection::changes() const { return sqlite3_changes(db_); }

std::int64_t connection::total_changes() const { return sqlite3_total_changes64(db_); }

bool connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

} // namespace ifmatch::storage::sqlite
