// Access log and messages.
#include "server/log.hpp"

#include "protocol/operation.hpp"
#include "server/handlers.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>

namespace ifmatch::server {

namespace {

int level_rank(std::string_view l) {
    return l == "debug" ? 0 : l == "info" ? 1 : l == "warn" ? 2 : 3;
}

std::string now_iso() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    return iso_date_ms(ms.count());
}

void emit(const std::string &line) {
    std::string l = line + "\n";
    std::fwrite(l.data(), 1, l.size(), stdout);
    std::fflush(stdout);
}

// A request's own bytes as one text-log field: control characters (a key may hold a newline,
// sent as %0A) and backslashes become \xNN escapes, so one request stays one line and a key
// cannot forge another line.
std::string log_safe(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || c == '\\') {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

} // namespace

void log_request(const config &cfg, const context &ctx, int status,
                 std::chrono::steady_clock::duration took) {
    int rank = level_rank(cfg.log_level);
    if ((rank == 2 && status < 400) || (rank >= 3 && status < 500)) {
        return;
    }
    double ms = std::chrono::duration<double, std::milli>(took).count();
    std::string op(protocol::op_name(ctx.target.operation));
    if (cfg.log_format == "json") {
        nlohmann::json j = {{"time", now_iso()},       {"request_id", ctx.req.request_id},
                            {"remote", ctx.req.remote}, {"access_key", ctx.access_key()},
                            {"operation", op},         {"bucket", ctx.target.bucket},
                            {"key", ctx.target.key},    {"method", ctx.req.method},
                            {"status", status},        {"error_code", ctx.log.error_code},
                            {"bytes_in", ctx.log.bytes_in}, {"bytes_out", ctx.log.bytes_out},
                            {"duration_ms", ms}};
        // The conditional fields are always present (empty when the request had none), so that
        // every line has the same shape.
        j["conditions"] = ctx.log.conditions;
        j["failed_condition"] = ctx.log.failed_condition;
        j["current"] = ctx.log.current;
        emit(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return;
    }
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.2fms", ms);
    std::string path = ctx.target.operation == protocol::op::admin
                           ? "/_ifmatch/" + ctx.target.admin_path
                           : "/" + ctx.target.bucket +
                                 (ctx.target.key.empty() ? "" : "/" + ctx.target.key);
    std::string line = now_iso() + " " + ctx.req.request_id + " " + ctx.req.remote + " " + op +
                       " " + log_safe(ctx.req.method) + " " + log_safe(path) + " " +
                       std::to_string(status) + " " + dur;
    if (!ctx.log.error_code.empty()) line += " error=" + ctx.log.error_code;
    if (!ctx.log.conditions.empty()) line += " conditions=[" + log_safe(ctx.log.conditions) + "]";
    if (!ctx.log.failed_condition.empty()) line += " failed=" + log_safe(ctx.log.failed_condition);
    if (!ctx.log.current.empty()) line += " current=[" + log_safe(ctx.log.current) + "]";
    emit(line);
}

void log_startup(const config &cfg, const startup_info &info) {
    if (level_rank("info") < level_rank(cfg.log_level)) {
        return;
    }
    if (cfg.log_format == "json") {
        emit(nlohmann::json{{"time", now_iso()},
                            {"level", "info"},
                            {"message", "ifmatch " + info.version + " listening"},
                            {"version", info.version},
                            {"listen", info.listen},
                            {"data", info.data},
                            {"auth", info.auth},
                            {"durability", info.durability},
                            {"scheme", info.scheme},
                            {"tls_listen", info.tls_listen}}
                 .dump());
        return;
    }
    emit(now_iso() + " info ifmatch " + info.version + " listening on " + info.scheme + "://" + info.listen +
         (info.tls_listen.empty() ? "" : " https://" + info.tls_listen) +
         " data=" + info.data + " durability=" + info.durability + " auth=" + info.auth);
}

void log_message(const config &cfg, std::string_view level, std::string_view text) {
    if (level_rank(level) < level_rank(cfg.log_level)) {
        return;
    }
    if (cfg.log_format == "json") {
        emit(nlohmann::json{{"time", now_iso()}, {"level", level}, {"message", text}}.dump());
        return;
    }
    emit(now_iso() + " " + std::string(level) + " " + std::string(text));
}

} // namespace ifmatch::server
