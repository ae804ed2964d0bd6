// One access-log line per request (text or JSON) with the conditional fields of spec D9.
// Thread-safe.
#pragma once

#include <chrono>
#include <string_view>

namespace ifmatch::server {

struct config;
struct context;

void log_request(const config &cfg, const context &ctx, int status,
                 std::chrono::steady_clock::duration took);

// Start-up and operational messages at the given level ("info", "warn", "error").
void log_message(const config &cfg, std::string_view level, std::string_view text);

} // namespace ifmatch::server
