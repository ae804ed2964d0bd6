// Unit tests for protocol/policy: parsing and validation of bucket policies (MalformedPolicy) and
// Deny evaluation with the conditional-write keys s3:if-none-match, s3:if-match and
// s3:ObjectCreationOperation (R-B1..R-B3), using the shapes of AWS's documented examples.
#include "protocol/policy.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

namespace {

policy_document parse_ok(const std::string &json) {
    auto r = parse_policy(json, "b1");
    REQUIRE_MESSAGE(r.has_value(), json);
    return *r;
}

std::string malformed_message(const std::string &json) {
    auto r = parse_policy(json, "b1");
    REQUIRE(r.has_error());
    CHECK(r.error().code == s3_errc::malformed_policy);
    return std::string(r.error().text());
}

// Deny unconditional object creation (R-B1): both headers absent on a creating call.
const std::string deny_unconditional = R"({
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "DenyUnconditionalWrites",
    "Effect": "Deny",
    "Principal": {"AWS": "arn:aws:iam::111122223333:user/Alice"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::b1/*",
    "Condition": {
      "Null": {"s3:if-none-match": "true", "s3:if-match": "true"},
      "Bool": {"s3:ObjectCreationOperation": "true"}
    }
  }, {
    "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:Put*"],
    "Resource": ["arn:aws:s3:::b1", "arn:aws:s3:::b1/*"]
  }]
})";

const std::string arn = "arn:aws:s3:::b1/some/key";

} // namespace

TEST_CASE("policy: glob patterns") {
    CHECK(policy_glob("s3:*", "s3:PutObject", true));
    CHECK(policy_glob("s3:put*", "s3:PutObject", true));
    CHECK_FALSE(policy_glob("s3:Get*", "s3:PutObject", true));
    CHECK(policy_glob("arn:aws:s3:::b1/*", "arn:aws:s3:::b1/a/b", false));
    CHECK(policy_glob("arn:aws:s3:::b1/a?c", "arn:aws:s3:::b1/abc", false));
    CHECK_FALSE(policy_glob("arn:aws:s3:::b1/a?c", "arn:aws:s3:::b1/abbc", false));
    CHECK_FALSE(policy_glob("arn:aws:s3:::b1/A*", "arn:aws:s3:::b1/a", false));
    CHECK(policy_glob("*", "", false));
    CHECK(policy_glob("a*b*c", "aXXbYYc", false));
    CHECK_FALSE(policy_glob("a*b*c", "aXXbYY", false));
}

TEST_CASE("policy: R-B1/R-B2 Null on both headers denies only unconditional creation") {
    auto doc = parse_ok(deny_unconditional);
    condition_values create = {{"s3:objectcreationoperation", "true"}};
    CHECK(policy_denies(doc, "s3:PutObject", arn, create));
    auto with_inm = create;
    with_inm["s3:if-none-match"] = "*";
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", arn, with_inm));
    auto with_im = create;
    with_im["s3:if-match"] = "\"abc\"";
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", arn, with_im));
    // CreateMultipartUpload / UploadPart: ObjectCreationOperation false (exempt).
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", arn, {{"s3:objectcreationoperation", "false"}}));
    // Other actions and other buckets are not covered.
    CHECK_FALSE(policy_denies(doc, "s3:DeleteObject", arn, create));
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", "arn:aws:s3:::b2/k", create));
}

TEST_CASE("policy: R-B1 Null false requires the header (If-None-Match only)") {
    auto doc = parse_ok(R"({"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*",
        "Action":"s3:PutObject","Resource":"arn:aws:s3:::b1/*",
        "Condition":{"Null":{"s3:if-none-match":"true"},
                     "StringEquals":{"s3:ObjectCreationOperation":"true"}}}})");
    CHECK(policy_denies(doc, "s3:PutObject", arn, {{"s3:objectcreationoperation", "true"}}));
    CHECK(policy_denies(doc, "s3:PutObject", arn,
                        {{"s3:objectcreationoperation", "true"}, {"s3:if-match", "\"e\""}}));
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", arn,
                              {{"s3:objectcreationoperation", "true"}, {"s3:if-none-match", "*"}}));
}

TEST_CASE("policy: deletes must carry If-Match (s3:DeleteObject, s3:if-match)") {
    auto doc = parse_ok(R"({"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},
        "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b1/*",
        "Condition":{"Null":{"s3:if-match":"true"}}}]})");
    CHECK(policy_denies(doc, "s3:DeleteObject", arn, {}));
    CHECK_FALSE(policy_denies(doc, "s3:DeleteObject", arn, {{"s3:if-match", "*"}}));
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", arn, {}));
}

TEST_CASE("policy: operators StringNotEquals, StringLike, IfExists and absent keys") {
    auto doc = parse_ok(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
        "Resource":"arn:aws:s3:::b1/locks/*",
        "Condition":{"StringNotEquals":{"s3:if-none-match":"*"}}}]})");
    CHECK(policy_denies(doc, "s3:PutObject", "arn:aws:s3:::b1/locks/a", {})); // absent: negated true
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", "arn:aws:s3:::b1/locks/a",
                              {{"s3:if-none-match", "*"}}));
    CHECK_FALSE(policy_denies(doc, "s3:PutObject", "arn:aws:s3:::b1/data/a", {}));

    auto like = parse_ok(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:Put*",
        "Resource":"arn:aws:s3:::b1/*","Condition":{"StringLike":{"s3:if-match":["\"0*","x?"]}}}]})");
    CHECK(policy_denies(like, "s3:PutObject", arn, {{"s3:if-match", "\"0abc\""}}));
    CHECK(policy_denies(like, "s3:PutObject", arn, {{"s3:if-match", "xy"}}));
    CHECK_FALSE(policy_denies(like, "s3:PutObject", arn, {{"s3:if-match", "\"1abc\""}}));
    CHECK_FALSE(policy_denies(like, "s3:PutObject", arn, {})); // positive operator, key absent

    auto if_exists = parse_ok(R"({"Statement":[{"Effect":"Deny","Principal":"*",
        "Action":"s3:PutObject","Resource":"arn:aws:s3:::b1/*",
        "Condition":{"StringEqualsIfExists":{"s3:if-match":"\"bad\""}}}]})");
    CHECK(policy_denies(if_exists, "s3:PutObject", arn, {}));
    CHECK(policy_denies(if_exists, "s3:PutObject", arn, {{"s3:if-match", "\"bad\""}}));
    CHECK_FALSE(policy_denies(if_exists, "s3:PutObject", arn, {{"s3:if-match", "\"good\""}}));
}

TEST_CASE("policy: Allow statements never deny; NotAction / NotResource") {
    auto allow = parse_ok(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*",
        "Resource":"arn:aws:s3:::b1/*"}]})");
    CHECK_FALSE(policy_denies(allow, "s3:PutObject", arn, {}));
    auto not_action = parse_ok(R"({"Statement":[{"Effect":"Deny","Principal":"*",
        "NotAction":"s3:Get*","Resource":"arn:aws:s3:::b1/*"}]})");
    CHECK(policy_denies(not_action, "s3:PutObject", arn, {}));
    CHECK_FALSE(policy_denies(not_action, "s3:GetObject", arn, {}));
    auto not_resource = parse_ok(R"({"Statement":[{"Effect":"Deny","Principal":"*",
        "Action":"s3:PutObject","NotResource":"arn:aws:s3:::b1/public/*"}]})");
    CHECK(policy_denies(not_resource, "s3:PutObject", arn, {}));
    CHECK_FALSE(policy_denies(not_resource, "s3:PutObject", "arn:aws:s3:::b1/public/x", {}));
}

TEST_CASE("policy: malformed documents are MalformedPolicy") {
    CHECK(malformed_message("not json").find("valid JSON") != std::string::npos);
    CHECK(malformed_message("[1]").find("valid JSON") != std::string::npos);
    CHECK(malformed_message(R"({"Version":"2012-10-17"})").find("Statement") != std::string::npos);
    CHECK(malformed_message(R"({"Version":"2001-01-01","Statement":[]})").find("version") !=
          std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*",
        "Resource":"arn:aws:s3:::b1/*"}]})").find("effect") != std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Deny","Action":"s3:*",
        "Resource":"arn:aws:s3:::b1/*"}]})").find("Principal") != std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Deny","Principal":"*",
        "Resource":"arn:aws:s3:::b1/*"}]})").find("Action") != std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"ec2:Run",
        "Resource":"arn:aws:s3:::b1/*"}]})").find("action") != std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
        "Resource":"arn:aws:s3:::other/*"}]})").find("resource") != std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*",
        "Resource":"arn:aws:s3:::b1/*","Condition":{"Maybe":{"s3:if-match":"x"}}}]})")
              .find("Condition") != std::string::npos);
    CHECK(malformed_message(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":[],
        "Resource":"arn:aws:s3:::b1/*"}]})").find("Action") != std::string::npos);
}

TEST_CASE("policy: object_arn") {
    CHECK(object_arn("b1", "a/b") == "arn:aws:s3:::b1/a/b");
}

TEST_CASE("policy: a Resource must be able to name this bucket (Policy has invalid resource)") {
    auto with_resources = [](const std::string &resources) {
        return R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket",
            "Resource":)" + resources + "}]}";
    };
    // Wildcards that cover this bucket among others are valid, as on S3.
    for (const std::string ok : {R"(["arn:aws:s3:::*", "arn:aws:s3:::*/*"])", R"("*")",
                                 R"("arn:aws:s3:::b?")", R"("arn:aws:s3:::b1*")",
                                 R"("arn:aws:s3:::*1/logs/*")", R"("arn:aws:s3:::b1")",
                                 R"("arn:aws:s3:::b1/a?c")"}) {
        CAPTURE(ok);
        CHECK(parse_policy(with_resources(ok), "b1").has_value());
    }
    // A Resource that can only name other buckets is refused.
    for (const std::string bad :
         {R"("arn:aws:s3:::other/*")", R"("arn:aws:s3:::b1-other/*")", R"("arn:aws:s3:::b2*")",
          R"(["arn:aws:s3:::b1/*", "arn:aws:s3:::x"])", R"("arn:aws:s3:::b1x")",
          R"("arn:aws:sqs:::b1")"}) {
        CAPTURE(bad);
        CHECK(malformed_message(with_resources(bad)) == "Policy has invalid resource");
    }
}
