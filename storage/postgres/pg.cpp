// libpq RAII layer (see pg.hpp).
#include "storage/postgres/pg.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>

namespace ifmatch::storage::postgres {

namespace {

std::atomic<std::uint64_t> g_statements{0};
std::atomic<std::uint64_t> g_round_trips{0};
std::atomic<round_trip_hook> g_hook{nullptr};

std::string trimmed(std::string msg) {
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return msg;
}

// The error a failed result (or, without one, the connection) reports; takes `r`.
pg_error error_of(PGconn *c, PGresult *r, std::string_view what) {
    std::string state;
    std::string msg;
    if (r) {
        if (const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
        msg = PQresultErrorMessage(r);
        PQclear(r);
    }
    if (msg.empty() && c) msg = PQerrorMessage(c);
    const bool lost = !c || PQstatus(c) != CONNECTION_OK;
    return pg_error(std::string(what) + ": " + trimmed(std::move(msg)), state, lost);
}

} // namespace

std::uint64_t statements_sent() { return g_statements.load(std::memory_order_relaxed); }
std::uint64_t round_trips() { return g_round_trips.load(std::memory_order_relaxed); }
void set_round_trip_hook(round_trip_hook h) { g_hook.store(h); }

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
        throw pg_error("cannot connect to PostgreSQL: " + trimmed(std::move(msg)), "08001", true);
    }
    PQsetNoticeProcessor(c_, [](void *, const char *) {}, nullptr);
}

connection::~connection() {
    if (c_) PQfinish(c_);
}

bool connection::ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

void connection::lose(std::string_view what) {
    // The pipeline's state is unknown: the connection is closed, and reported lost, so that no
    // caller goes on using it (a worker reconnects; a COMMIT's outcome is looked up).
    std::string msg = c_ ? trimmed(PQerrorMessage(c_)) : std::string();
    if (c_) PQfinish(c_);
    c_ = nullptr;
    queued_.clear();
    unread_.clear();
    throw pg_error(std::string(what) + ": " + msg, "08006", true);
}

void connection::queue(std::string sql, std::vector<param> params, rows *into,
                       bool binary_results) {
    queued_.push_back(statement{std::move(sql), std::move(params), into, binary_results});
}

rows connection::exec(std::string_view sql, const std::vector<param> &params,
                      bool binary_results) {
    rows out;
    queue(std::string(sql), params, &out, binary_results);
    flush();
    return out;
}

void connection::send(const statement &s) {
    const auto n = s.params.size();
    std::vector<const char *> values(n);
    std::vector<int> lengths(n), formats(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto &p = s.params[i];
        if (p.is_binary) {
            values[i] = p.binary.data() ? p.binary.data() : "";
            lengths[i] = static_cast<int>(p.binary.size());
            formats[i] = 1;
        } else {
            values[i] = p.text ? p.text->c_str() : nullptr;
        }
    }
    g_statements.fetch_add(1, std::memory_order_relaxed);
    if (PQsendQueryParams(c_, s.sql.c_str(), static_cast<int>(n), nullptr, values.data(),
                          lengths.data(), formats.data(), s.binary_results ? 1 : 0) != 1) {
        lose("PostgreSQL: cannot send a statement");
    }
}

std::vector<connection::statement> connection::send_queued() {
    std::vector<statement> sent;
    sent.swap(queued_);
    if (sent.empty()) {
        return sent;
    }
    if (!c_) {
        throw pg_error("PostgreSQL: the connection is closed", "08003", true);
    }
    if (PQpipelineStatus(c_) == PQ_PIPELINE_OFF && PQenterPipelineMode(c_) != 1) {
        lose("PostgreSQL: cannot enter pipeline mode");
    }
    for (const auto &s : sent) {
        send(s);
    }
    // One synchronisation point for the round trip; libpq sends (flushes) everything now.
    if (PQpipelineSync(c_) != 1) {
        lose("PostgreSQL: cannot send");
    }
    return sent;
}

void connection::read_answers(std::vector<statement> *sent, std::size_t count) {
    // Each statement answers one result then a null; the round trip ends with its sync. The first
    // error is kept and thrown once the sync has been read, so the connection stays usable.
    std::optional<pg_error> first;
    for (std::size_t i = 0; i < count; ++i) {
        PGresult *r = PQgetResult(c_);
        if (!r) {
            lose("PostgreSQL: the connection ended");
        }
        const auto st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (sent && (*sent)[i].into) {
                *(*sent)[i].into = rows(r);
            } else {
                PQclear(r);
            }
        } else if (st == PGRES_PIPELINE_ABORTED) {
            PQclear(r); // skipped after an earlier error
        } else {
            auto e = error_of(c_, r, "PostgreSQL");
            if (e.connection_lost()) {
                lose(e.what());
            }
            if (!first) first.emplace(std::move(e));
        }
        if (PGresult *end = PQgetResult(c_)) {
            PQclear(end);
            lose("PostgreSQL: an unexpected answer in a pipeline");
        }
    }
    PGresult *s = PQgetResult(c_);
    const bool synced = s && PQresultStatus(s) == PGRES_PIPELINE_SYNC;
    if (s) PQclear(s);
    if (!synced) {
        lose("PostgreSQL: a pipeline did not end with its sync");
    }
    if (first) {
        throw std::move(*first);
    }
}

void connection::flush() {
    if (queued_.empty()) {
        return;
    }
    const auto hook = g_hook.load();
    if (hook && c_) hook(queued_.back().sql, PQsocket(c_), false);
    auto sent = send_queued();
    g_round_trips.fetch_add(1, std::memory_order_relaxed);
    if (hook && c_) hook(sent.back().sql, PQsocket(c_), true);
    // Answers of round trips sent by forget() come first; they are already on their way.
    while (!unread_.empty()) {
        const auto n = unread_.front();
        unread_.erase(unread_.begin());
        try {
            read_answers(nullptr, n);
        } catch (const pg_error &e) {
            if (e.connection_lost()) throw;
        }
    }
    try {
        read_answers(&sent, sent.size());
    } catch (const pg_error &e) {
        if (!e.connection_lost()) PQexitPipelineMode(c_);
        throw;
    }
    if (PQexitPipelineMode(c_) != 1) {
        lose("PostgreSQL: cannot leave pipeline mode");
    }
}

void connection::forget() {
    for (const auto &s : queued_) {
        if (s.into) {
            throw std::logic_error("a forgotten statement cannot deliver rows");
        }
    }
    auto sent = send_queued();
    if (!sent.empty()) {
        unread_.push_back(sent.size());
    }
}

void connection::drain() {
    while (!unread_.empty()) {
        const auto n = unread_.front();
        unread_.erase(unread_.begin());
        try {
            read_answers(nullptr, n);
        } catch (const pg_error &e) {
            if (e.connection_lost()) throw;
        }
    }
    if (c_ && PQpipelineStatus(c_) != PQ_PIPELINE_OFF && PQexitPipelineMode(c_) != 1) {
        lose("PostgreSQL: cannot leave pipeline mode");
    }
}

void connection::script(std::string_view sql) {
    flush();
    drain(); // the simple query protocol is not allowed in pipeline mode
    if (!c_) {
        throw pg_error("PostgreSQL: the connection is closed", "08003", true);
    }
    std::string q(sql);
    g_statements.fetch_add(1, std::memory_order_relaxed);
    g_round_trips.fetch_add(1, std::memory_order_relaxed);
    PGresult *r = PQexec(c_, q.c_str());
    auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        throw error_of(c_, r, "PostgreSQL");
    }
    PQclear(r);
}

} // namespace ifmatch::storage::postgres
