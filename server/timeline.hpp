// The conflict timeline of one key, built from its version history and its recorded outcomes:
// who wrote which ETag when, and which conditional request was refused or answered 304 against
// which state. Pure: used by the console API and `ifmatch explain`.
#pragma once

#include "server/outcome_event.hpp"
#include "storage/types.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ifmatch::server {

struct timeline_entry {
    std::int64_t time_ms = 0;
    std::string kind; // "write", "delete", "refused", "not-modified"
    std::string text; // one line, times as ISO-8601
};

// Merges versions (any order) and events (any order) into entries ordered by time (writes
// before outcomes at equal times). Writes known only from an event's "current" (their version
// was since replaced in an unversioned bucket) are included once.
std::vector<timeline_entry> build_timeline(const std::vector<storage::object_version> &versions,
                                           const std::vector<outcome_event> &events);

nlohmann::json to_json(const timeline_entry &e);
// "TIME  KIND  TEXT" lines.
std::string render_timeline(const std::vector<timeline_entry> &entries);

} // namespace ifmatch::server
