// One recorded conditional outcome (spec D9): the request, each conditional header as sent, the
// condition that decided, and the key's current version with the write that produced it; and
// the event's JSON forms (GET /_ifmatch/events, the persisted rows, `ifmatch explain`). Plain
// values and pure functions: safe from any thread.
#pragma once

#include "storage/requests.hpp"
#include "storage/types.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace ifmatch::server {

// One recorded outcome.
struct outcome_event {
    std::uint64_t id = 0;
    std::int64_t time_ms = 0;
    std::string request_id;
    std::string access_key;
    std::string operation;
    std::string bucket;
    std::string key;
    int status = 0;
    std::string code; // S3 error code; empty for 304
    std::string replica; // the ifmatch process that answered (--replica-name)
    storage::string_pairs conditions; // conditional headers as sent
    std::string failed_condition;     // the condition that decided
    storage::current_state current;
};

nlohmann::json to_json(const outcome_event &e);
// The same document as to_json(e).dump() (bytes that are not UTF-8 replaced by U+FFFD), written
// directly: the writer persists every event, and building the tree cost a fifth of its time
// under a hot-key compare-and-swap load.
std::string event_json(const outcome_event &e);
outcome_event event_from_json(const nlohmann::json &j);
// "absent", "delete marker" or the ETag.
std::string describe_current(const storage::current_state &c);
// The request log's form: "absent", "delete marker version=V" or
// "etag=E last-modified-ms=N version=V".
std::string log_current(const storage::current_state &c);

} // namespace ifmatch::server
