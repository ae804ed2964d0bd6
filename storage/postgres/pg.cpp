// libpq RAII layer (see pg.hpp).
#include "storage/postgres/pg.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>

namespace ifmatch::storage::postgres {

namespace {

std::atomic<std::uint64_t> g_statements{0};

[[noreturn]] void fail(PGconn *c, PGresult *r, std::string_view what) {
    std::string state;
    std::string msg;
    if (r) {
        if (const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
        msg = PQresultErrorMessage(r);
    }
    if (msg.empty() && c) msg = PQerrorMessage(c);
    const bool lost = !c || PQstatus(c) != CONNECTION_OK;
    if (r) PQclear(r);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw pg_error(std::string(what) + ": " + msg, state, lost);
}

} // namespace

std::uint64_t statements_sent() { return g_statements.load(std::memory_order_relaxed); }

rows::rows(pg_result *r) : r_(r) {}
rows::rows(rows &&o) noexcept : r_(o.r_) { o.r_ = nullptr; }
rows &rows::operator=(rows &&o) noexcept {
    if (this != &o) {
        if (r_) PQclear(r_);
        r_ = o.r_;
        o.r_ = nullptr;
    }
    return *this;
}
rows::~rows() {
    if (r_) PQclear(r_);
}

int rows::size() const { return r_ ? PQntuples(r_) : 0; }
bool rows::null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string rows::text(int row, int col) const { return std::string(view(row, col)); }
std::string_view rows::view(int row, int col) const {
    return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
}
std::int64_t rows::i64(int row, int col) const {
    if (null(row, col)) return 0;
    return std::strtoll(PQgetvalue(r_, row, col), nullptr, 10);
}
bool rows::boolean(int row, int col) const {
    return !null(row, col) && PQgetvalue(r_, row, col)[0] == 't';
}
std::int64_t rows::affected() const {
    const char *n = r_ ? PQcmdTuples(r_) : "";
    return *n ? std::strtoll(n, nullptr, 10) : 0;
}

connection::connection(const std::string &uri) {
    c_ = PQconnectdb(uri.c_str());
    if (!c_ || PQstatus(c_) != CONNECTION_OK) {
        std::string msg = c_ ? PQerrorMessage(c_) : "out of memory";
        if (c_) PQfinish(c_);
        c_ = nullptr;
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        throw pg_error("cannot connect to PostgreSQL: " + msg, "08001", true);
    }
    PQsetNoticeProcessor(c_, [](void *, const char *) {}, nullptr);
}

connection::~connection() {
    if (c_) PQfinish(c_);
}

bool connection::ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

rows connection::exec(std::string_view sql, const std::vector<param> &params,
                      bool binary_results) {
    std::vector<const char *> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto &p = params[i];
        if (p.is_binary) {
            values[i] = p.binary.data() ? p.binary.data() : "";
            lengths[i] = static_cast<int>(p.binary.size());
            formats[i] = 1;
        } else {
            values[i] = p.text ? p.text->c_str() : nullptr;
        }
    }
    std::string q(sql);
    g_statements.fetch_add(1, std::memory_order_relaxed);
    PGresult *r = PQexecParams(c_, q.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), lengths.data(), formats.data(),
                               binary_results ? 1 : 0);
    auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail(c_, r, "PostgreSQL");
    }
    return rows(r);
}

void connection::script(std::string_view sql) {
    std::string q(sql);
    g_statements.fetch_add(1, std::memory_order_relaxed);
    PGresult *r = PQexec(c_, q.c_str());
    auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail(c_, r, "PostgreSQL");
    }
    PQclear(r);
}

} // namespace ifmatch::storage::postgres
