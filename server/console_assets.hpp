// The console's files (server/console/*.html|js|css), embedded at build time by
// cmake/embed_console.cmake into a generated source of string constants.
#pragma once

#include <string_view>
#include <vector>

namespace ifmatch::server {

struct console_asset {
    std::string_view name; // file name, e.g. "index.html"
    std::string_view content_type;
    std::string_view data;
};

const std::vector<console_asset> &console_assets();

} // namespace ifmatch::server
