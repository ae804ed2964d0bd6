// Unit tests of the pure pieces of spec D9/D10: fault rule parsing and matching, timeline building.
#include "server/faults.hpp"
#include "server/timeline.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::server;

TEST_CASE("D10 fault rules: parse and validate") {
    auto ok = parse_fault_rule(nlohmann::json::parse(
        R"({"bucket":"b","key":"k","operation":"PutObject","count":3,"status":503})"));
    REQUIRE(ok.rule);
    CHECK(ok.rule->count == 3);
    CHECK(ok.rule->kind == fault_kind::status);
    CHECK(parse_fault_rule(nlohmann::json::parse(R"({"bucket":"b","inject":"delete"})"))
              .rule->kind == fault_kind::inject_delete);
    CHECK(parse_fault_rule(nlohmann::json::parse(R"({"bucket":"b","delay_ms":250})"))
              .rule->delay_ms == 250);
    CHECK_FALSE(parse_fault_rule(nlohmann::json::parse(R"({"bucket":"b","status":404})")).rule);
    CHECK_FALSE(parse_fault_rule(nlohmann::json::parse(R"({"key":"k","status":503})")).rule);
    CHECK_FALSE(
        parse_fault_rule(nlohmann::json::parse(R"({"bucket":"b","status":503,"delay_ms":1})")).rule);
    CHECK_FALSE(
        parse_fault_rule(nlohmann::json::parse(R"({"bucket":"b","key":"k","prefix":"p","status":503})"))
            .rule);
    CHECK_FALSE(parse_fault_rule(nlohmann::json::parse(R"({"bucket":"b","inject":"both"})")).rule);
}

TEST_CASE("D10 fault rules: status 200 with an error in the body") {
    auto parse = [](const char *text) { return parse_fault_rule(nlohmann::json::parse(text)); };
    auto ok = parse(R"({"bucket":"b","operation":"CompleteMultipartUpload","status":200,
                        "error":"PreconditionFailed"})");
    REQUIRE(ok.rule);
    CHECK(ok.rule->status == 200);
    CHECK(ok.rule->error == "PreconditionFailed");
    CHECK(to_json(*ok.rule)["error"] == "PreconditionFailed");
    CHECK(parse(R"({"bucket":"b","operation":"CopyObject","status":200,"error":"InternalError"})")
              .rule);
    // The error is required and must be one S3 sends that way; so is one of those operations.
    CHECK_FALSE(parse(R"({"bucket":"b","operation":"CopyObject","status":200})").rule);
    CHECK_FALSE(
        parse(R"({"bucket":"b","operation":"CopyObject","status":200,"error":"SlowDown"})").rule);
    CHECK_FALSE(parse(R"({"bucket":"b","status":200,"error":"InternalError"})").rule);
    CHECK_FALSE(
        parse(R"({"bucket":"b","operation":"PutObject","status":200,"error":"InternalError"})")
            .rule);
    CHECK_FALSE(parse(R"({"bucket":"b","status":500,"error":"InternalError"})").rule);
    CHECK_FALSE(parse(R"({"bucket":"b","delay_ms":5,"error":"InternalError"})").rule);
    CHECK(parse(R"({"bucket":"b","operation":"CopyObject","status":200,"error":"SlowDown"})")
              .error.find("PreconditionFailed") != std::string::npos);
}

TEST_CASE("D10 fault rules: matching by bucket, key or prefix, operation") {
    fault_rule r;
    r.bucket = "b";
    r.key = "k";
    r.operation = "PutObject";
    CHECK(fault_matches(r, "PutObject", "b", "k"));
    CHECK_FALSE(fault_matches(r, "GetObject", "b", "k"));
    CHECK_FALSE(fault_matches(r, "PutObject", "b", "k2"));
    CHECK_FALSE(fault_matches(r, "PutObject", "c", "k"));
    r.key.reset();
    r.prefix = "logs/";
    r.operation.clear();
    CHECK(fault_matches(r, "DeleteObject", "b", "logs/1"));
    CHECK_FALSE(fault_matches(r, "DeleteObject", "b", "log"));
}

TEST_CASE("D10 fault registry: a rule expires after its uses") {
    fault_registry reg;
    fault_rule r;
    r.bucket = "b";
    r.count = 2;
    reg.add(r);
    CHECK(reg.take("GetObject", "b", "x"));
    CHECK(reg.take("PutObject", "b", "y"));
    CHECK_FALSE(reg.take("PutObject", "b", "y"));
    CHECK(reg.list().empty());
}

TEST_CASE("B-R4 replication fault rules: hold until removed, fail N times") {
    auto parse = [](const char *text) { return parse_fault_rule(nlohmann::json::parse(text)); };
    auto hold = parse(R"({"bucket":"src","key":"k","operation":"Replicate","hold":true})");
    REQUIRE(hold.rule);
    CHECK(hold.rule->kind == fault_kind::hold);
    CHECK(to_json(*hold.rule)["hold"] == true);
    // A rule's JSON (without its id) parses back into the same rule.
    auto again_json = to_json(*hold.rule);
    again_json.erase("id");
    auto again = parse_fault_rule(again_json);
    REQUIRE(again.rule);
    CHECK(again.rule->kind == fault_kind::hold);
    CHECK(again.rule->key == hold.rule->key);
    auto fail = parse(R"({"bucket":"src","prefix":"p/","operation":"Replicate","fail":true,
                         "count":2})");
    REQUIRE(fail.rule);
    CHECK(fail.rule->kind == fault_kind::fail);
    // Replicate takes hold or fail, and they go with Replicate only.
    CHECK_FALSE(parse(R"({"bucket":"src","operation":"Replicate","status":500})").rule);
    CHECK_FALSE(parse(R"({"bucket":"src","operation":"Replicate","hold":true,"fail":true})").rule);
    CHECK_FALSE(parse(R"({"bucket":"src","operation":"Replicate","hold":false})").rule);
    CHECK_FALSE(parse(R"({"bucket":"src","operation":"PutObject","hold":true})").rule);
    CHECK_FALSE(parse(R"({"bucket":"src","hold":true})").rule);

    fault_registry reg;
    auto held = reg.add(*hold.rule);
    reg.add(*fail.rule);
    fault_rule any; // an S3 rule without an operation never meets the worker
    any.bucket = "src";
    reg.add(any);
    for (int i = 0; i < 3; ++i) {
        auto t = reg.take("Replicate", "src", "k");
        REQUIRE(t);
        CHECK(t->kind == fault_kind::hold); // not consumed
    }
    CHECK(reg.take("Replicate", "src", "p/1")->kind == fault_kind::fail);
    CHECK(reg.take("Replicate", "src", "p/2")->kind == fault_kind::fail);
    CHECK_FALSE(reg.take("Replicate", "src", "p/3"));
    CHECK(reg.remove(held));
    CHECK_FALSE(reg.remove(held));
    CHECK_FALSE(reg.take("Replicate", "src", "k"));
    CHECK(reg.take("PutObject", "src", "k")); // the operation-less rule
}

TEST_CASE("D10 fault errors carry the right S3 codes") {
    fault_rule r;
    r.status = 503;
    CHECK(fault_error(r, "k", "").aws_code() == "SlowDown");
    r.status = 409;
    CHECK(fault_error(r, "k", "If-None-Match").aws_code() == "ConditionalRequestConflict");
    r.status = 412;
    CHECK(fault_error(r, "k", "If-Match").status() == 412);
    r.status = 500;
    CHECK(fault_error(r, "k", "").aws_code() == "InternalError");
    r.status = 200;
    r.error = "PreconditionFailed";
    CHECK(fault_error(r, "k", "If-None-Match").aws_code() == "PreconditionFailed");
    r.error = "InternalError";
    CHECK(fault_error(r, "k", "").aws_code() == "InternalError");
}

TEST_CASE("D9 timeline: writes then the refused If-Match, with both ETags and the writer") {
    ifmatch::storage::object_version a;
    a.etag = "\"aaa\"";
    a.version_id = "v1";
    a.last_modified_ms = 1000;
    a.writer.request_id = "REQ-A";
    a.writer.access_key = "alice";
    auto b = a;
    b.etag = "\"bbb\"";
    b.version_id = "v2";
    b.last_modified_ms = 2000;
    b.writer.request_id = "REQ-B";
    b.writer.access_key = "bob";
    outcome_event e;
    e.time_ms = 3000;
    e.request_id = "REQ-C";
    e.access_key = "alice";
    e.operation = "PutObject";
    e.status = 412;
    e.code = "PreconditionFailed";
    e.conditions = {{"If-Match", "\"aaa\""}};
    e.failed_condition = "If-Match";
    e.current = ifmatch::storage::state_of(b);
    auto t = build_timeline({b, a}, {e});
    REQUIRE(t.size() == 3);
    CHECK(t[0].kind == "write");
    CHECK(t[0].text.find("REQ-A") != std::string::npos);
    CHECK(t[1].text.find("\"bbb\"") != std::string::npos);
    CHECK(t[2].kind == "refused");
    CHECK(t[2].text.find("If-Match: \"aaa\"") != std::string::npos);
    CHECK(t[2].text.find("written by request REQ-A") != std::string::npos);
    CHECK(t[2].text.find("current ETag \"bbb\" written by request REQ-B") != std::string::npos);
    CHECK(render_timeline(t).find("412 PreconditionFailed") != std::string::npos);
}

TEST_CASE("D9 timeline: a replaced version known only from an event is shown once") {
    outcome_event e;
    e.time_ms = 5000;
    e.status = 412;
    e.current.exists = true;
    e.current.etag = "\"old\"";
    e.current.version_id = "null";
    e.current.last_modified_ms = 4000;
    e.current.writer.request_id = "W1";
    auto e2 = e;
    e2.time_ms = 6000;
    auto t = build_timeline({}, {e, e2});
    REQUIRE(t.size() == 3);
    CHECK(t[0].kind == "write");
    CHECK(t[0].text.find("since replaced") != std::string::npos);
}
