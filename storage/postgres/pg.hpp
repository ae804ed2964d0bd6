// A thin RAII layer over libpq for the PostgreSQL backend: one connection, statements with $n
// parameters sent in text format (bytea in binary), results read by row and column, and errors
// carrying PostgreSQL's SQLSTATE. Blocking calls: only the backend's own threads use it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace ifmatch::storage::postgres {

// A failed statement or a lost connection.
class pg_error : public std::runtime_error {
public:
    pg_error(std::string message, std::string sqlstate, bool connection_lost)
        : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)),
          lost_(connection_lost) {}
    const std::string &sqlstate() const { return sqlstate_; }
    bool connection_lost() const { return lost_; }
    // A serialization failure or a deadlock: the transaction may simply run again.
    bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

private:
    std::string sqlstate_;
    bool lost_;
};

// Bytes sent as a binary bytea parameter.
struct bytea {
    std::string_view bytes;
};

// One parameter: text (or NULL), or binary bytes.
struct param {
    std::optional<std::string> text;
    std::string_view binary;
    bool is_binary = false;

    param(std::nullopt_t) {}
    param(std::string s) : text(std::move(s)) {}
    param(const char *s) : text(s) {}
    param(std::string_view s) : text(std::string(s)) {}
    param(std::optional<std::string> s) : text(std::move(s)) {}
    param(bool b) : text(b ? "t" : "f") {}
    param(int v) : text(std::to_string(v)) {}
    param(std::int64_t v) : text(std::to_string(v)) {}
    param(std::uint64_t v) : text(std::to_string(v)) {}
    param(bytea b) : binary(b.bytes), is_binary(true) {}
};

class rows {
public:
    rows() = default;
    explicit rows(pg_result *r);
    rows(rows &&) noexcept;
    rows &operator=(rows &&) noexcept;
    rows(const rows &) = delete;
    rows &operator=(const rows &) = delete;
    ~rows();

    int size() const;
    bool empty() const { return size() == 0; }
    bool null(int row, int col) const;
    std::string text(int row, int col) const;
    std::string_view view(int row, int col) const;
    std::int64_t i64(int row, int col) const; // NULL reads as 0
    bool boolean(int row, int col) const;     // 't'
    // Rows affected by an INSERT / UPDATE / DELETE.
    std::int64_t affected() const;

private:
    pg_result *r_ = nullptr;
};

// Statements sent by every connection of this process (one round trip each).
std::uint64_t statements_sent();

class connection {
public:
    // Connects (blocking). Throws pg_error when the server cannot be reached.
    explicit connection(const std::string &uri);
    ~connection();
    connection(const connection &) = delete;
    connection &operator=(const connection &) = delete;

    bool ok() const;
    // Runs one statement. Throws pg_error.
    rows exec(std::string_view sql, const std::vector<param> &params = {},
              bool binary_results = false);
    template <class... A> rows run(std::string_view sql, A &&...a) {
        return exec(sql, std::vector<param>{param(std::forward<A>(a))...});
    }
    // Several statements without parameters (migrations, BEGIN / COMMIT).
    void script(std::string_view sql);

private:
    pg_conn *c_ = nullptr;
};

// The commit outcome of a transaction whose COMMIT was lost with the connection is unknown.
class unknown_outcome : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

} // namespace ifmatch::storage::postgres
