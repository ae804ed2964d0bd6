// Recording a request's conditional outcome (spec D9): handlers note what the store decided a
// refusal or a read condition against (request_note); run_observed runs the routed handler,
// answers an arranged status fault (D10), and turns every 304 / 412 / 409 / 428, and every 404 an
// If-Match on an absent key caused, into an event (server/event_hub.hpp) and, when the request
// asks with `x-ifmatch-explain: 1`, into x-ifmatch-* response headers. Connection's strand only.
#pragma once

#include "server/faults.hpp"
#include "server/http.hpp"
#include "storage/requests.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::server {

struct context;

// Per-request observations, filled by handlers from what the store answered.
struct request_note {
    bool captured = false;
    storage::current_state current;
    std::string failed_condition;
    std::optional<fault_rule> fault;   // a delay / inject rule matched by this request
    bool fault_applied = false;
};

// Fills `note` from a refused write's outcome: the error and the key's state the store decided
// it against (storage::write_outcome::refused_against). Nothing when `err` is no refusal.
void note_refusal(request_note &note, const protocol::s3_error &err,
                  const storage::current_state &against);
// The same for the request's own note and log line.
void note_refusal(context &ctx, const protocol::s3_error &err,
                  const std::optional<storage::current_state> &against);

// Notes the version a read condition was decided against (GET/HEAD 304/412).
void note_read_outcome(context &ctx, const storage::object_version &v, std::string_view cond);

// Runs the routed handler with faults applied and the outcome recorded/explained.
net::awaitable<response> run_observed(context &ctx, net::awaitable<response> (*route)(context &));

} // namespace ifmatch::server
