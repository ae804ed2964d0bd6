// Unit tests of the stored bucket configurations (docs/bucket-configuration.md B-N7..B-N9,
// B-S2, B-S4..B-S7).
#include "protocol/bucket_subresources.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

namespace {

bool contains(const std::string &s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

s3_errc code_of(const result<std::string> &r) {
    REQUIRE(r.has_error());
    return r.error().code;
}

} // namespace

TEST_CASE("B-N9 empty configuration lists and B-N7 empty documents") {
    auto list = render_empty_configuration_list("ListMetricsConfigurationsResult");
    CHECK(contains(list, "<ListMetricsConfigurationsResult "
                         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false"
                         "</IsTruncated></ListMetricsConfigurationsResult>"));
    auto empty = render_empty_document("BucketLoggingStatus");
    CHECK(contains(empty, "<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                          "</BucketLoggingStatus>"));
}

TEST_CASE("B-S4 AccelerateConfiguration") {
    auto ok = parse_accelerate_configuration(
        "<AccelerateConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Status>Suspended</Status></AccelerateConfiguration>",
        "bucket");
    REQUIRE(ok.has_value());
    CHECK(*ok == "Suspended");
    CHECK(parse_accelerate_configuration("<AccelerateConfiguration><Status>Enabled</Status>"
                                         "</AccelerateConfiguration>",
                                         "b")
              .value() == "Enabled");
    CHECK(code_of(parse_accelerate_configuration(
              "<AccelerateConfiguration><Status>On</Status></AccelerateConfiguration>", "b")) ==
          s3_errc::malformed_xml);
    CHECK(code_of(parse_accelerate_configuration("<AccelerateConfiguration/>", "b")) ==
          s3_errc::malformed_xml);
    CHECK(code_of(parse_accelerate_configuration("<Other><Status>Enabled</Status></Other>", "b")) ==
          s3_errc::malformed_xml);
    CHECK(code_of(parse_accelerate_configuration(
              "<AccelerateConfiguration><Status>Enabled</Status></AccelerateConfiguration>",
              "my.bucket")) == s3_errc::invalid_request);
    CHECK(contains(render_accelerate_configuration("Enabled"), "<Status>Enabled</Status>"));
    CHECK_FALSE(contains(render_accelerate_configuration(""), "<Status>"));
}

TEST_CASE("B-S5 RequestPaymentConfiguration and B-N8") {
    CHECK(parse_request_payment("<RequestPaymentConfiguration><Payer>Requester</Payer>"
                                "</RequestPaymentConfiguration>")
              .value() == "Requester");
    CHECK(parse_request_payment("<RequestPaymentConfiguration><Payer> BucketOwner </Payer>"
                                "</RequestPaymentConfiguration>")
              .value() == "BucketOwner");
    CHECK(code_of(parse_request_payment("<RequestPaymentConfiguration><Payer>Me</Payer>"
                                        "</RequestPaymentConfiguration>")) ==
          s3_errc::malformed_xml);
    CHECK(code_of(parse_request_payment("not xml")) == s3_errc::malformed_xml);
    CHECK(contains(render_request_payment(""), "<Payer>BucketOwner</Payer>"));
    CHECK(contains(render_request_payment("Requester"), "<Payer>Requester</Payer>"));
}

TEST_CASE("B-S6 PublicAccessBlockConfiguration") {
    auto b = parse_public_access_block(
        "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<BlockPublicAcls>true</BlockPublicAcls><BlockPublicPolicy>TRUE</BlockPublicPolicy>"
        "<RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>");
    REQUIRE(b.has_value());
    CHECK(b->block_public_acls);
    CHECK_FALSE(b->ignore_public_acls);
    CHECK(b->block_public_policy);
    CHECK_FALSE(b->restrict_public_buckets);
    CHECK(encode_public_access_block(*b) == "1010");
    CHECK(decode_public_access_block("1010") == *b);
    CHECK(decode_public_access_block("") == public_access_block{});
    auto xml = render_public_access_block(*b);
    CHECK(contains(xml, "<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false"
                        "</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>"
                        "<RestrictPublicBuckets>false</RestrictPublicBuckets>"));
    CHECK(parse_public_access_block(xml).value() == *b);
    auto bad = parse_public_access_block("<PublicAccessBlockConfiguration><BlockPublicAcls>yes"
                                         "</BlockPublicAcls></PublicAccessBlockConfiguration>");
    REQUIRE(bad.has_error());
    CHECK(bad.error().code == s3_errc::malformed_xml);
    CHECK(parse_public_access_block("<PublicAccessBlockConfiguration/>").value() ==
          public_access_block{});
}

TEST_CASE("B-S6 public ACLs") {
    CHECK(acl_is_public({"public-read", {}}));
    CHECK(acl_is_public({"public-read-write", {}}));
    CHECK(acl_is_public({"authenticated-read", {}}));
    CHECK_FALSE(acl_is_public({"private", {}}));
    CHECK_FALSE(acl_is_public({"bucket-owner-full-control", {}}));
    CHECK(acl_is_public(
        {"", {{"Group", "http://acs.amazonaws.com/groups/global/AllUsers", "READ"}}}));
    CHECK_FALSE(acl_is_public(
        {"", {{"Group", "http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"}}}));
    CHECK_FALSE(acl_is_public({"", {{"CanonicalUser", "abc", "FULL_CONTROL"}}}));
}

TEST_CASE("B-S2 BucketLoggingStatus") {
    auto off = parse_logging_status("<BucketLoggingStatus xmlns=\"http://s3.amazonaws.com/doc/"
                                    "2006-03-01/\"/>");
    REQUIRE(off.has_value());
    CHECK_FALSE(off->enabled);
    const std::string on_xml =
        "<BucketLoggingStatus><LoggingEnabled><TargetBucket>logs</TargetBucket>"
        "<TargetPrefix>p/</TargetPrefix><TargetGrants><Grant><Grantee "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">"
        "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>"
        "<Permission>READ</Permission></Grant></TargetGrants><TargetObjectKeyFormat>"
        "<PartitionedPrefix><PartitionDateSource>EventTime</PartitionDateSource>"
        "</PartitionedPrefix></TargetObjectKeyFormat></LoggingEnabled></BucketLoggingStatus>";
    auto on = parse_logging_status(on_xml);
    REQUIRE(on.has_value());
    CHECK(on->enabled);
    CHECK(on->target_bucket == "logs");
    CHECK(on->target_prefix == "p/");
    REQUIRE(on->grants.size() == 1);
    CHECK(on->grants[0].permission == "READ");
    CHECK(on->key_format == "PartitionedPrefix");
    CHECK(on->partition_source == "EventTime");
    // The rendered document parses back to the same status.
    auto again = parse_logging_status(render_logging_status(*on));
    REQUIRE(again.has_value());
    CHECK(again->target_bucket == "logs");
    CHECK(again->grants.size() == 1);
    CHECK(again->grants[0].value == on->grants[0].value);
    CHECK(again->partition_source == "EventTime");
    CHECK(contains(render_logging_status(*off), "<BucketLoggingStatus "));
    // TargetBucket and TargetPrefix are required; an empty prefix is allowed.
    for (const std::string_view bad :
         {"<BucketLoggingStatus><LoggingEnabled><TargetPrefix>p</TargetPrefix></LoggingEnabled>"
          "</BucketLoggingStatus>",
          "<BucketLoggingStatus><LoggingEnabled><TargetBucket>l</TargetBucket></LoggingEnabled>"
          "</BucketLoggingStatus>",
          "<BucketLoggingStatus><LoggingEnabled><TargetBucket>l</TargetBucket><TargetPrefix/>"
          "<TargetGrants><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
          "xsi:type=\"CanonicalUser\"><ID>x</ID></Grantee><Permission>READ_ACP</Permission>"
          "</Grant></TargetGrants></LoggingEnabled></BucketLoggingStatus>",
          "<BucketLoggingStatus><LoggingEnabled><TargetBucket>l</TargetBucket><TargetPrefix/>"
          "<TargetObjectKeyFormat><SimplePrefix/><PartitionedPrefix/></TargetObjectKeyFormat>"
          "</LoggingEnabled></BucketLoggingStatus>",
          "<LoggingStatus/>"}) {
        CAPTURE(bad);
        auto r = parse_logging_status(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::malformed_xml);
    }
    auto empty_prefix = parse_logging_status("<BucketLoggingStatus><LoggingEnabled><TargetBucket>"
                                             "l</TargetBucket><TargetPrefix></TargetPrefix>"
                                             "<TargetObjectKeyFormat><SimplePrefix/>"
                                             "</TargetObjectKeyFormat></LoggingEnabled>"
                                             "</BucketLoggingStatus>");
    REQUIRE(empty_prefix.has_value());
    CHECK(empty_prefix->target_prefix.empty());
    CHECK(contains(render_logging_status(*empty_prefix),
                   "<TargetPrefix></TargetPrefix><TargetObjectKeyFormat><SimplePrefix/>"));
}

TEST_CASE("B-S7 policy status: S3's meaning of public") {
    auto doc = [](std::string statement) {
        return "{\"Version\":\"2012-10-17\",\"Statement\":[" + statement + "]}";
    };
    const std::string resource = "\"Resource\":\"arn:aws:s3:::b/*\"";
    const std::string get = "\"Action\":\"s3:GetObject\"," + resource;
    // Public: Allow to everyone, unconditioned.
    CHECK(policy_is_public(doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get + "}")));
    CHECK(
        policy_is_public(doc("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"}," + get + "}")));
    CHECK(policy_is_public(
        doc("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::1:root\",\"*\"]}," + get +
            "}")));
    CHECK(policy_is_public(doc(
        "{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::1:root\"}," + get + "}")));
    // A single statement object counts like a list.
    CHECK(
        policy_is_public("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get + "}}"));
    // Not public: a fixed principal, a Deny, or a condition that fixes the caller.
    CHECK_FALSE(policy_is_public(
        doc("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"}," +
            get + "}")));
    CHECK_FALSE(policy_is_public(doc("{\"Effect\":\"Deny\",\"Principal\":\"*\"," + get + "}")));
    CHECK_FALSE(policy_is_public(
        doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get +
            ",\"Condition\":{\"StringEquals\":{\"aws:SourceAccount\":\"123456789012\"}}}")));
    CHECK_FALSE(policy_is_public(
        doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get +
            ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"192.0.2.0/24\"]}}}")));
    // Conditions that do not fix the caller keep it public.
    CHECK(
        policy_is_public(doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get +
                             ",\"Condition\":{\"StringLike\":{\"aws:SourceAccount\":\"12*\"}}}")));
    CHECK(policy_is_public(doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get +
                               ",\"Condition\":{\"StringEquals\":{\"s3:prefix\":\"public/\"}}}")));
    CHECK(policy_is_public(
        doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get +
            ",\"Condition\":{\"StringNotEquals\":{\"aws:SourceAccount\":\"1\"}}}")));
    CHECK(
        policy_is_public(doc("{\"Effect\":\"Allow\",\"Principal\":\"*\"," + get +
                             ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}}")));
    // One public statement among others makes the policy public.
    CHECK(policy_is_public(doc("{\"Effect\":\"Deny\",\"Principal\":\"*\"," + get +
                               "},{\"Effect\":\"Allow\","
                               "\"Principal\":\"*\"," +
                               get + "}")));
    CHECK_FALSE(policy_is_public("not json"));
    CHECK(contains(render_policy_status(true), "<PolicyStatus xmlns=\"http://s3.amazonaws.com/"
                                               "doc/2006-03-01/\"><IsPublic>true</IsPublic>"));
    CHECK(contains(render_policy_status(false), "<IsPublic>false</IsPublic>"));
}
