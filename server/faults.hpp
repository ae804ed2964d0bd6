// Deterministic races for client tests (spec D10): rules arranged through /_ifmatch/faults make
// the next N matching requests answer an S3 error (also S3's 200 whose body is an error, on the
// operations S3 may answer that way), wait before their commit, or have a write or delete of
// their key committed just before their own. Rules with the operation "Replicate" act on the
// replication worker instead of a request (B-R4): "hold" keeps matching versions PENDING while the
// rule is arranged, "fail" makes the next N matching replications FAILED. Rule parsing and
// matching are pure; the registry is thread-safe; applying a rule needs the request's context.
#pragma once

#include "protocol/errors.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::server {

enum class fault_kind { status, delay, inject_write, inject_delete, hold, fail };

// The operation name of the replication worker's rules (never an S3 operation's).
inline constexpr std::string_view replicate_operation = "Replicate";

struct fault_rule {
    std::uint64_t id = 0;
    std::string bucket;
    std::optional<std::string> key;
    std::optional<std::string> prefix;
    std::string operation; // empty: any S3 operation
    int count = 1;         // uses left
    fault_kind kind = fault_kind::status;
    int status = 0;
    std::string error; // status 200: the Code of the error in the body
    int delay_ms = 0;
};

// Parses a rule document ({"bucket", "key" | "prefix", "operation", "count", and one of "status"
// (409|412|500|503, or 200 with "error": "PreconditionFailed"|"InternalError" and "operation"
// CompleteMultipartUpload, CopyObject or UploadPartCopy), "delay_ms", "inject"
// ("write"|"delete"), or, with "operation": "Replicate" and only then, "hold": true or
// "fail": true}). Errors: a message.
struct fault_parse {
    std::optional<fault_rule> rule;
    std::string error;
};
fault_parse parse_fault_rule(const nlohmann::json &j);
nlohmann::json to_json(const fault_rule &r);

// Whether `r` applies to a request (operation as protocol::op_name spells it, or
// replicate_operation for the replication worker). A rule without an operation applies to every
// S3 operation, never to the replication worker.
bool fault_matches(const fault_rule &r, std::string_view operation, std::string_view bucket,
                   std::string_view key);

// The S3 error a status rule answers (ConditionalRequestConflict, PreconditionFailed,
// InternalError, SlowDown; for status 200 the rule's error, sent with HTTP 200).
protocol::s3_error fault_error(const fault_rule &r, std::string_view key,
                               std::string_view condition);

class fault_registry {
public:
    std::uint64_t add(fault_rule r);
    std::vector<fault_rule> list() const;
    void clear();
    // Consumes one use of the first matching rule (removed at zero uses) and returns a copy. A
    // hold rule is not consumed: it holds until removed.
    std::optional<fault_rule> take(std::string_view operation, std::string_view bucket,
                                   std::string_view key);
    // Removes the rule with this id; false when there is none.
    bool remove(std::uint64_t id);

private:
    mutable std::mutex mu_;
    std::vector<fault_rule> rules_;
    std::uint64_t next_id_ = 1;
};

fault_registry &faults();

} // namespace ifmatch::server
