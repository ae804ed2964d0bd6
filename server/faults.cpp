// Fault rules (spec D10): parsing, matching and the registry. Applying them is run_observed's
// (server/outcomes.cpp: status rules) and before_commit's (server/commit_faults.cpp: delays and
// injected writes or deletes).
#include "server/faults.hpp"

#include <algorithm>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

std::optional<std::string> opt_string(const nlohmann::json &j, const char *name) {
    if (j.contains(name) && j[name].is_string()) {
        return j[name].get<std::string>();
    }
    return std::nullopt;
}

// A status 200 rule: the error its body carries, on an operation S3 may answer that way (a
// CompleteMultipartUpload or a copy that fails after S3 sent 200; [API-CMU], [API-COPY]).
std::string parse_error_in_200(const nlohmann::json &j, fault_rule &r) {
    r.error = opt_string(j, "error").value_or("");
    if (r.error != "PreconditionFailed" && r.error != "InternalError") {
        return "status 200 needs \"error\": \"PreconditionFailed\" or \"InternalError\"";
    }
    if (r.operation != "CompleteMultipartUpload" && r.operation != "CopyObject" &&
        r.operation != "UploadPartCopy") {
        return "status 200 needs \"operation\": CompleteMultipartUpload, CopyObject or "
               "UploadPartCopy";
    }
    return "";
}

// Fills the action of `r` from the document; returns an error message or "".
// A replication rule's action: "hold": true or "fail": true.
std::string parse_replicate_action(const nlohmann::json &j, fault_rule &r) {
    static constexpr std::string_view allowed[] = {"bucket", "key",  "prefix", "operation",
                                                    "count",  "hold", "fail"};
    bool others = false;
    for (const auto &item : j.items()) {
        others = others || std::find(std::begin(allowed), std::end(allowed), item.key()) ==
                               std::end(allowed);
    }
    if (others || int(j.contains("hold")) + int(j.contains("fail")) != 1) {
        return "operation Replicate takes exactly one of \"hold\": true, \"fail\": true";
    }
    const char *name = j.contains("hold") ? "hold" : "fail";
    if (!j[name].is_boolean() || !j[name].get<bool>()) {
        return std::string(name) + " must be true";
    }
    r.kind = j.contains("hold") ? fault_kind::hold : fault_kind::fail;
    return "";
}

std::string parse_action(const nlohmann::json &j, fault_rule &r) {
    if (r.operation == replicate_operation) {
        return parse_replicate_action(j, r);
    }
    if (j.contains("hold") || j.contains("fail")) {
        return "hold and fail go with \"operation\": \"Replicate\" only";
    }
    int actions = int(j.contains("status")) + int(j.contains("delay_ms")) +
                  int(j.contains("inject"));
    if (actions != 1) {
        return "exactly one of status, delay_ms, inject is required";
    }
    if (j.contains("error") && !j.contains("status")) {
        return "error goes with status 200 only";
    }
    if (j.contains("status")) {
        r.kind = fault_kind::status;
        r.status = j["status"].is_number_integer() ? j["status"].get<int>() : 0;
        if (r.status == 200) {
            return parse_error_in_200(j, r);
        }
        if (r.status != 409 && r.status != 412 && r.status != 500 && r.status != 503) {
            return "status must be 200, 409, 412, 500 or 503";
        }
        if (j.contains("error")) {
            return "error goes with status 200 only";
        }
    } else if (j.contains("delay_ms")) {
        r.kind = fault_kind::delay;
        r.delay_ms = j["delay_ms"].is_number_integer() ? j["delay_ms"].get<int>() : -1;
        if (r.delay_ms < 0 || r.delay_ms > 600000) {
            return "delay_ms must be an integer from 0 to 600000";
        }
    } else {
        auto what = opt_string(j, "inject").value_or("");
        if (what != "write" && what != "delete") {
            return "inject must be \"write\" or \"delete\"";
        }
        r.kind = what == "write" ? fault_kind::inject_write : fault_kind::inject_delete;
    }
    return "";
}

} // namespace

fault_parse parse_fault_rule(const nlohmann::json &j) {
    if (!j.is_object()) {
        return {std::nullopt, "the rule must be a JSON object"};
    }
    fault_rule r;
    auto bucket = opt_string(j, "bucket");
    if (!bucket || bucket->empty()) {
        return {std::nullopt, "bucket is required"};
    }
    r.bucket = *bucket;
    r.key = opt_string(j, "key");
    r.prefix = opt_string(j, "prefix");
    if (r.key && r.prefix) {
        return {std::nullopt, "give key or prefix, not both"};
    }
    r.operation = opt_string(j, "operation").value_or("");
    if (j.contains("count")) {
        if (!j["count"].is_number_integer() || j["count"].get<int>() < 1) {
            return {std::nullopt, "count must be a positive integer"};
        }
        r.count = j["count"].get<int>();
    }
    if (auto err = parse_action(j, r); !err.empty()) {
        return {std::nullopt, err};
    }
    return {r, ""};
}

nlohmann::json to_json(const fault_rule &r) {
    nlohmann::json j = {{"id", r.id}, {"bucket", r.bucket}, {"count", r.count}};
    if (r.key) j["key"] = *r.key;
    if (r.prefix) j["prefix"] = *r.prefix;
    if (!r.operation.empty()) j["operation"] = r.operation;
    switch (r.kind) {
    case fault_kind::status:
        j["status"] = r.status;
        if (!r.error.empty()) j["error"] = r.error;
        break;
    case fault_kind::delay: j["delay_ms"] = r.delay_ms; break;
    case fault_kind::inject_write: j["inject"] = "write"; break;
    case fault_kind::inject_delete: j["inject"] = "delete"; break;
    case fault_kind::hold: j["hold"] = true; break;
    case fault_kind::fail: j["fail"] = true; break;
    }
    return j;
}

bool fault_matches(const fault_rule &r, std::string_view operation, std::string_view bucket,
                   std::string_view key) {
    if (r.bucket != bucket) {
        return false;
    }
    if (r.operation.empty() ? operation == replicate_operation : r.operation != operation) {
        return false;
    }
    if (r.key) {
        return *r.key == key;
    }
    if (r.prefix) {
        return key.substr(0, r.prefix->size()) == *r.prefix;
    }
    return true;
}

s3_error fault_error(const fault_rule &r, std::string_view key, std::string_view condition) {
    if (r.status == 200) {
        if (r.error == "PreconditionFailed") {
            return s3_error(s3_errc::precondition_failed)
                .with("Condition", std::string(condition.empty() ? "If-Match" : condition));
        }
        return s3_error(s3_errc::internal_error);
    }
    switch (r.status) {
    case 409: {
        s3_error e(s3_errc::conditional_request_conflict);
        if (!condition.empty()) e.with("Condition", std::string(condition));
        return e.with("Key", std::string(key));
    }
    case 412:
        return s3_error(s3_errc::precondition_failed)
            .with("Condition", std::string(condition.empty() ? "If-Match" : condition));
    case 503:
        return s3_error(s3_errc::slow_down);
    default:
        return s3_error(s3_errc::internal_error);
    }
}

std::uint64_t fault_registry::add(fault_rule r) {
    std::lock_guard lk(mu_);
    r.id = next_id_++;
    rules_.push_back(std::move(r));
    return rules_.back().id;
}

std::vector<fault_rule> fault_registry::list() const {
    std::lock_guard lk(mu_);
    return rules_;
}

void fault_registry::clear() {
    std::lock_guard lk(mu_);
    rules_.clear();
}

std::optional<fault_rule> fault_registry::take(std::string_view operation,
                                               std::string_view bucket, std::string_view key) {
    std::lock_guard lk(mu_);
    for (auto it = rules_.begin(); it != rules_.end(); ++it) {
        if (fault_matches(*it, operation, bucket, key)) {
            fault_rule copy = *it;
            if (it->kind != fault_kind::hold && --it->count <= 0) {
                rules_.erase(it);
            }
            return copy;
        }
    }
    return std::nullopt;
}

bool fault_registry::remove(std::uint64_t id) {
    std::lock_guard lk(mu_);
    return std::erase_if(rules_, [id](const fault_rule &r) { return r.id == id; }) > 0;
}

fault_registry &faults() {
    static fault_registry r;
    return r;
}

} // namespace ifmatch::server
