// One access-log line per request (text or JSON) with the conditional fields of spec D9.
// Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ifmatch::server {

struct config;
struct context;

void log_request(const config &cfg, const context &ctx, int status,
                 std::chrono::steady_clock::duration took);

// What the start-up line reports.
struct startup_info {
    std::string version;
    std::string listen; // the bound HOST:PORT
    std::string data;   // data directory (":memory:" for a throw-away store)
    std::string auth;   // "open" (no signature check) or the credential mode
    std::string durability;
    std::string scheme = "http"; // of `listen`
    std::string tls_listen;      // a second HTTPS listener, empty when none
};

// The start-up line at level info: text, or JSON with one field per startup_info member.
void log_startup(const config &cfg, const startup_info &info);

// Start-up and operational messages at the given level ("info", "warn", "error").
void log_message(const config &cfg, std::string_view level, std::string_view text);

} // namespace ifmatch::server
