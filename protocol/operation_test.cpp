// Tests for request classification (spec wire.md §4, §6) and the name validators.

#include "protocol/operation.hpp"

#include <doctest/doctest.h>
#include <optional>
#include <set>
#include <string>
#include <utility>

using namespace ifmatch::protocol;

namespace {

constexpr std::string_view domain = "localhost";

struct row {
    std::string_view method;
    std::string_view target;
    std::string_view host;
    op expected;
    std::string_view bucket;
    std::string_view key;
    bool copy_source = false;
};

void check_row(const row &r) {
    CAPTURE(r.method);
    CAPTURE(r.target);
    CAPTURE(r.host);
    const auto got = classify({r.method, r.target, r.host, r.copy_source}, domain);
    REQUIRE(got.has_value());
    CHECK(op_name(got->operation) == op_name(r.expected));
    CHECK(got->bucket == r.bucket);
    CHECK(got->key == r.key);
}

s3_errc error_of(std::string_view method, std::string_view target, std::string_view host) {
    const auto got = classify({method, target, host, false}, domain);
    REQUIRE_FALSE(got.has_value());
    return got.error().code;
}

} // namespace

TEST_CASE("operation: path-style routing table") {
    const std::string_view h = "127.0.0.1:9000";
    const row rows[] = {
        {"GET", "/", h, op::list_buckets, "", ""},
        {"GET", "/?x-id=ListBuckets", h, op::list_buckets, "", ""},
        {"PUT", "/b", h, op::create_bucket, "b", ""},
        {"PUT", "/b/", h, op::create_bucket, "b", ""},
        {"PUT", "/b?versioning", h, op::put_bucket_versioning, "b", ""},
        {"PUT", "/b?policy", h, op::put_bucket_policy, "b", ""},
        {"DELETE", "/b", h, op::delete_bucket, "b", ""},
        {"DELETE", "/b?policy", h, op::delete_bucket_policy, "b", ""},
        {"HEAD", "/b", h, op::head_bucket, "b", ""},
        {"GET", "/b?location", h, op::get_bucket_location, "b", ""},
        {"GET", "/b?versioning", h, op::get_bucket_versioning, "b", ""},
        {"GET", "/b?policy", h, op::get_bucket_policy, "b", ""},
        {"GET", "/b?versions&prefix=a", h, op::list_object_versions, "b", ""},
        {"GET", "/b?uploads", h, op::list_multipart_uploads, "b", ""},
        {"GET", "/b?list-type=2&encoding-type=url", h, op::list_objects_v2, "b", ""},
        {"GET", "/b?list-type=1", h, op::list_objects_v1, "b", ""},
        {"GET", "/b", h, op::list_objects_v1, "b", ""},
        {"GET", "/b/?prefix=x&marker=y", h, op::list_objects_v1, "b", ""},
        {"POST", "/b?delete", h, op::delete_objects, "b", ""},
        {"POST", "/b?delete=&x-id=DeleteObjects", h, op::delete_objects, "b", ""},
        {"GET", "/b/k", h, op::get_object, "b", "k"},
        {"GET", "/b/k?partNumber=2", h, op::get_object, "b", "k"},
        {"GET", "/b/k?versionId=v&response-content-type=x", h, op::get_object, "b", "k"},
        {"GET", "/b/k?uploadId=u", h, op::list_parts, "b", "k"},
        {"HEAD", "/b/k", h, op::head_object, "b", "k"},
        {"PUT", "/b/k", h, op::put_object, "b", "k"},
        {"PUT", "/b/k?x-id=PutObject", h, op::put_object, "b", "k"},
        {"PUT", "/b/k", h, op::copy_object, "b", "k", true},
        {"PUT", "/b/k?partNumber=1&uploadId=u", h, op::upload_part, "b", "k"},
        {"PUT", "/b/k?partNumber=1&uploadId=u&x-id=UploadPart", h, op::upload_part, "b", "k"},
        {"PUT", "/b/k?uploadId=u&partNumber=3", h, op::upload_part_copy, "b", "k", true},
        {"DELETE", "/b/k", h, op::delete_object, "b", "k"},
        {"DELETE", "/b/k?uploadId=u", h, op::abort_multipart_upload, "b", "k"},
        {"POST", "/b/k?uploads", h, op::create_multipart_upload, "b", "k"},
        {"POST", "/b/k?uploads=", h, op::create_multipart_upload, "b", "k"},
        {"POST", "/b/k?uploadId=u", h, op::complete_multipart_upload, "b", "k"},
        // Sub-resources S3 has and ifmatch does not: 501 from the router.
        {"GET", "/b?acl", h, op::get_bucket_acl, "b", ""},
        {"PUT", "/b?tagging", h, op::put_bucket_tagging, "b", ""},
        {"GET", "/b?cors", h, op::get_bucket_cors, "b", ""},
        {"PUT", "/b?replication", h, op::put_bucket_replication, "b", ""},
        {"GET", "/b?encryption", h, op::get_bucket_encryption, "b", ""},
        {"PUT", "/b?object-lock", h, op::put_object_lock_configuration, "b", ""},
        {"GET", "/b?ownershipControls", h, op::get_bucket_ownership_controls, "b", ""},
        {"GET", "/b/k?acl", h, op::get_object_acl, "b", "k"},
        {"PUT", "/b/k?tagging", h, op::put_object_tagging, "b", "k"},
        {"GET", "/b/k?attributes", h, op::get_object_attributes, "b", "k"},
        {"PUT", "/b/k?retention", h, op::put_object_retention, "b", "k"},
        {"GET", "/b/k?legal-hold", h, op::get_object_legal_hold, "b", "k"},
        {"POST", "/b/k?restore", h, op::unsupported, "b", "k"},
        {"POST", "/b/k?select&select-type=2", h, op::unsupported, "b", "k"},
        {"GET", "/b/k?torrent", h, op::unsupported, "b", "k"},
        {"POST", "/b", h, op::post_object, "b", ""},
        {"OPTIONS", "/b/k", h, op::cors_preflight, "b", "k"},
        {"OPTIONS", "/b", h, op::cors_preflight, "b", ""},
        {"DELETE", "/b?cors", h, op::delete_bucket_cors, "b", ""},
        {"DELETE", "/b/k?tagging&versionId=v", h, op::delete_object_tagging, "b", "k"},
        {"DELETE", "/b?acl", h, op::unsupported, "b", ""},
    };
    for (const auto &r : rows) {
        check_row(r);
    }
}

TEST_CASE("operation: bucket configurations (docs/bucket-configuration.md)") {
    const std::string_view h = "localhost:9000";
    const row rows[] = {
        // B-N1..B-N3: the not-configured GETs and DELETEs; B-U2..B-U3: those PUTs stay 501.
        {"GET", "/b?lifecycle", h, op::get_bucket_lifecycle, "b", ""},
        {"DELETE", "/b?lifecycle", h, op::delete_bucket_lifecycle, "b", ""},
        {"PUT", "/b?lifecycle", h, op::put_bucket_lifecycle, "b", ""},
        {"GET", "/b?replication", h, op::get_bucket_replication, "b", ""},
        {"DELETE", "/b?replication", h, op::delete_bucket_replication, "b", ""},
        {"PUT", "/b?replication", h, op::put_bucket_replication, "b", ""},
        {"GET", "/b?object-lock", h, op::get_object_lock_configuration, "b", ""},
        {"DELETE", "/b?object-lock", h, op::unsupported, "b", ""},
        // B-S1..B-S7: stored configurations.
        {"GET", "/b?notification", h, op::get_bucket_notification, "b", ""},
        {"PUT", "/b?notification", h, op::put_bucket_notification, "b", ""},
        {"GET", "/b?logging", h, op::get_bucket_logging, "b", ""},
        {"PUT", "/b?logging", h, op::put_bucket_logging, "b", ""},
        {"GET", "/b?website", h, op::get_bucket_website, "b", ""},
        {"PUT", "/b?website", h, op::put_bucket_website, "b", ""},
        {"DELETE", "/b?website", h, op::delete_bucket_website, "b", ""},
        {"GET", "/b?accelerate", h, op::get_bucket_accelerate, "b", ""},
        {"PUT", "/b?accelerate", h, op::put_bucket_accelerate, "b", ""},
        {"GET", "/b?requestPayment", h, op::get_bucket_request_payment, "b", ""},
        {"PUT", "/b?requestPayment", h, op::put_bucket_request_payment, "b", ""},
        {"GET", "/b?policyStatus", h, op::get_bucket_policy_status, "b", ""},
        {"GET", "/b?policy", h, op::get_bucket_policy, "b", ""},
        {"GET", "/b?publicAccessBlock", h, op::get_public_access_block, "b", ""},
        {"PUT", "/b?publicAccessBlock", h, op::put_public_access_block, "b", ""},
        {"DELETE", "/b?publicAccessBlock", h, op::delete_public_access_block, "b", ""},
        // B-N9 and B-U4: per-id configurations list empty, have no id, and cannot be PUT.
        {"GET", "/b?analytics", h, op::list_bucket_analytics, "b", ""},
        {"GET", "/b?analytics&id=a", h, op::get_bucket_analytics, "b", ""},
        {"DELETE", "/b?analytics&id=a", h, op::delete_bucket_analytics, "b", ""},
        {"PUT", "/b?analytics&id=a", h, op::unsupported, "b", ""},
        {"GET", "/b?intelligent-tiering", h, op::list_bucket_intelligent_tiering, "b", ""},
        {"GET", "/b?intelligent-tiering&id=a", h, op::get_bucket_intelligent_tiering, "b", ""},
        {"DELETE", "/b?intelligent-tiering&id=a", h, op::delete_bucket_intelligent_tiering, "b",
         ""},
        {"GET", "/b?inventory&x-id=ListBucketInventoryConfigurations", h, op::list_bucket_inventory,
         "b", ""},
        {"GET", "/b?inventory&id=a", h, op::get_bucket_inventory, "b", ""},
        {"DELETE", "/b?inventory&id=a", h, op::delete_bucket_inventory, "b", ""},
        {"GET", "/b?metrics", h, op::list_bucket_metrics, "b", ""},
        {"GET", "/b?metrics&id=a", h, op::get_bucket_metrics, "b", ""},
        {"DELETE", "/b?metrics&id=a", h, op::delete_bucket_metrics, "b", ""},
        {"PUT", "/b?metrics&id=a", h, op::unsupported, "b", ""},
        // Virtual-hosted style routes the same way; at an object they stay unsupported.
        {"GET", "/?lifecycle", "b.localhost:9000", op::get_bucket_lifecycle, "b", ""},
        {"GET", "/b/k?website", h, op::unsupported, "b", "k"},
        {"HEAD", "/b?logging", h, op::unsupported, "b", ""},
    };
    for (const auto &r : rows) {
        check_row(r);
    }
    auto q = query_params::parse("lifecycle&x-id=PutBucketLifecycleConfiguration");
    REQUIRE(q.has_value());
    CHECK(unsupported_subresource(*q) == std::optional<std::string_view>("lifecycle"));
    auto plain = query_params::parse("prefix=a");
    REQUIRE(plain.has_value());
    CHECK_FALSE(unsupported_subresource(*plain).has_value());
}

TEST_CASE("operation: keys are decoded once and never normalised") {
    const std::string_view h = "localhost:9000";
    const row rows[] = {
        {"GET", "/b/a%20b", h, op::get_object, "b", "a b"},
        {"GET", "/b/a+b", h, op::get_object, "b", "a+b"},
        {"GET", "/b/a%2Bb", h, op::get_object, "b", "a+b"},
        {"GET", "/b/a%2Fb", h, op::get_object, "b", "a/b"},
        {"GET", "/b/a%252F", h, op::get_object, "b", "a%2F"},
        {"GET", "/b/dir/", h, op::get_object, "b", "dir/"},
        {"GET", "/b//lead", h, op::get_object, "b", "/lead"},
        {"GET", "/b/a//b/./../c", h, op::get_object, "b", "a//b/./../c"},
        {"GET", "/b/caf%C3%A9/%E2%82%AC", h, op::get_object, "b", "caf\xC3\xA9/\xE2\x82\xAC"},
        {"GET", "/b/2024-01-01T00:00:00+00:00/x", h, op::get_object, "b",
         "2024-01-01T00:00:00+00:00/x"},
        {"PUT", "/b/a?b", h, op::put_object, "b", "a"},
        {"GET", "/b/%3Fq%3D1", h, op::get_object, "b", "?q=1"},
    };
    for (const auto &r : rows) {
        check_row(r);
    }
}

TEST_CASE("operation: virtual-hosted style") {
    const row rows[] = {
        {"GET", "/", "bucket.localhost:9000", op::list_objects_v1, "bucket", ""},
        {"GET", "/?list-type=2", "bucket.localhost:9000", op::list_objects_v2, "bucket", ""},
        {"PUT", "/", "bucket.localhost", op::create_bucket, "bucket", ""},
        {"PUT", "/key", "bucket.localhost:9000", op::put_object, "bucket", "key"},
        {"PUT", "/key/with/slash/", "bucket.localhost:9000", op::put_object, "bucket",
         "key/with/slash/"},
        {"GET", "/a%20b+c", "bucket.LOCALHOST:9000", op::get_object, "bucket", "a b+c"},
        {"GET", "/k", "My.Dotted.Bucket.localhost", op::get_object, "my.dotted.bucket", "k"},
        {"GET", "/k", "bucket.localhost.:9000", op::get_object, "bucket", "k"},
        {"GET", "//k", "bucket.localhost", op::get_object, "bucket", "/k"},
        // On a virtual host /_ifmatch/ is an ordinary key.
        {"GET", "/_ifmatch/health", "bucket.localhost", op::get_object, "bucket",
         "_ifmatch/health"},
        {"DELETE", "/?policy", "b1.localhost", op::delete_bucket_policy, "b1", ""},
        {"POST", "/?delete", "b1.localhost", op::delete_objects, "b1", ""},
        {"PUT", "/k", "b1.localhost", op::copy_object, "b1", "k", true},
    };
    for (const auto &r : rows) {
        check_row(r);
    }
    const auto got = classify({"GET", "/k", "bucket.localhost:9000", false}, domain);
    REQUIRE(got.has_value());
    CHECK(got->virtual_host);
}

TEST_CASE("operation: hosts that mean path-style") {
    const row rows[] = {
        {"GET", "/b/k", "localhost:9000", op::get_object, "b", "k"},
        {"GET", "/b/k", "LocalHost", op::get_object, "b", "k"},
        {"GET", "/b/k", "127.0.0.1:9000", op::get_object, "b", "k"},
        {"GET", "/b/k", "127.0.0.1", op::get_object, "b", "k"},
        {"GET", "/b/k", "[::1]:9000", op::get_object, "b", "k"},
        {"GET", "/b/k", "example.com", op::get_object, "b", "k"},
        {"GET", "/b/k", "notlocalhost", op::get_object, "b", "k"},
        {"GET", "/b/k", ".localhost", op::get_object, "b", "k"},
        {"GET", "/b/k", "", op::get_object, "b", "k"},
    };
    for (const auto &r : rows) {
        check_row(r);
    }
    const auto got = classify({"GET", "/b/k", "localhost", false}, domain);
    REQUIRE(got.has_value());
    CHECK_FALSE(got->virtual_host);
    const auto no_domain = classify({"GET", "/b/k", "x.localhost", false}, "");
    REQUIRE(no_domain.has_value());
    CHECK(no_domain->bucket == "b");
}

TEST_CASE("operation: admin endpoints on path-style hosts") {
    for (const std::string_view host : {"localhost:9000", "127.0.0.1:9000"}) {
        const auto got = classify({"GET", "/_ifmatch/health", host, false}, domain);
        REQUIRE(got.has_value());
        CHECK(got->operation == op::admin);
        CHECK(got->admin_path == "health");
        CHECK(got->bucket.empty());
        CHECK(got->key.empty());
    }
    const auto nested =
        classify({"POST", "/_ifmatch/faults/a%20b?x=1", "localhost", false}, domain);
    REQUIRE(nested.has_value());
    CHECK(nested->operation == op::admin);
    CHECK(nested->admin_path == "faults/a b");
    CHECK(nested->query.get("x") == "1");
    const auto root = classify({"GET", "/_ifmatch", "localhost", false}, domain);
    REQUIRE(root.has_value());
    CHECK(root->operation == op::admin);
    CHECK(root->admin_path.empty());
}

TEST_CASE("operation: raw path and query are kept for SigV4") {
    const auto got = classify({"GET", "/b/a%20b+c?prefix=x%2Fy&list-type=2", "h", false}, domain);
    REQUIRE(got.has_value());
    CHECK(got->raw_path == "/b/a%20b+c");
    CHECK(got->raw_query == "prefix=x%2Fy&list-type=2");
    CHECK(got->query.get("prefix") == "x/y");
    const auto absolute = classify({"GET", "http://localhost:9000/b/k?uploads", "", false}, domain);
    REQUIRE(absolute.has_value());
    CHECK(absolute->raw_path == "/b/k");
    CHECK(absolute->operation == op::get_object);
    CHECK(absolute->key == "k");
}

TEST_CASE("operation: versionId, uploadId and partNumber are read once, as sent") {
    const auto part = classify({"PUT", "/b/k?partNumber=7&uploadId=a%2Bb", "h", false}, domain);
    REQUIRE(part.has_value());
    CHECK(part->operation == op::upload_part);
    CHECK(part->upload_id == "a+b");
    REQUIRE(part->part_number.has_value());
    CHECK(part->part_number->raw == "7");
    CHECK(part->part_number->value == 7);
    CHECK_FALSE(part->version_id.has_value());

    const auto plain = classify({"GET", "/b/k", "h", false}, domain);
    REQUIRE(plain.has_value());
    CHECK_FALSE(plain->version_id.has_value());
    CHECK_FALSE(plain->upload_id.has_value());
    CHECK_FALSE(plain->part_number.has_value());

    const auto version = classify({"GET", "/b/k?versionId=null&versionId=x", "h", false}, domain);
    REQUIRE(version.has_value());
    CHECK(version->version_id == "null");
    const auto empty = classify({"DELETE", "/b/k?versionId=&uploadId", "h", false}, domain);
    REQUIRE(empty.has_value());
    CHECK(empty->version_id == "");
    CHECK(empty->upload_id == "");

    // The number is kept only when the whole value is one (std::stoi's syntax), never refused.
    const std::pair<std::string_view, std::optional<int>> numbers[] = {
        {"1", 1},          {"%205", 5},         {"+5", 5},        {"-3", -3},
        {"05", 5},         {"10001", 10001},    {"2147483647", 2147483647},
        {"2147483648", {}}, {"3x", {}},         {"5%20", {}},     {"", {}},
        {"x", {}},          {"0x10", {}},       {"1.0", {}},      {"5%00", {}}};
    for (const auto &entry : numbers) {
        const auto &[value, number] = entry;
        CAPTURE(entry.first);
        const auto target = "/b/k?uploadId=u&partNumber=" + std::string(value);
        const auto got = classify({"PUT", target, "h", false}, domain);
        REQUIRE(got.has_value());
        REQUIRE(got->part_number.has_value());
        CHECK(got->part_number->value == number);
    }
}

TEST_CASE("operation: errors") {
    CHECK(error_of("GET", "/b/a%zz", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "/b/a%", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "/b%2/k", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "/b?prefix=%G0", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "b/k", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "//k", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("PATCH", "/b/k", "localhost") == s3_errc::method_not_allowed);
    CHECK(error_of("TRACE", "/b", "localhost") == s3_errc::method_not_allowed);
    CHECK(error_of("PUT", "/", "localhost") == s3_errc::method_not_allowed);
    CHECK(error_of("DELETE", "/", "localhost") == s3_errc::method_not_allowed);
    CHECK(error_of("POST", "/b/k", "localhost") == s3_errc::method_not_allowed);
    CHECK(error_of("get", "/b/k", "localhost") == s3_errc::method_not_allowed);
}

TEST_CASE("operation: a path that is not UTF-8 is InvalidURI, whatever the method") {
    for (const char *method : {"GET", "HEAD", "PUT", "DELETE", "POST"}) {
        CAPTURE(method);
        CHECK(error_of(method, "/%FF%FE", "localhost") == s3_errc::invalid_uri);
        CHECK(error_of(method, "/bad/%FF%FE", "localhost") == s3_errc::invalid_uri);
        CHECK(error_of(method, "/b/caf%C3", "localhost") == s3_errc::invalid_uri);
        CHECK(error_of(method, "/b/%C0%AF", "localhost") == s3_errc::invalid_uri); // overlong '/'
        CHECK(error_of(method, "/b/%ED%A0%80", "localhost") == s3_errc::invalid_uri); // surrogate
        CHECK(error_of(method, "/b/\xFF", "localhost") == s3_errc::invalid_uri); // raw byte
    }
    // Query parameters are echoed in listings: they must be UTF-8 too.
    CHECK(error_of("GET", "/b?list-type=2&prefix=%FF", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "/b?delimiter=%C3", "localhost") == s3_errc::invalid_uri);
    CHECK(error_of("GET", "/b?%FF=1", "localhost") == s3_errc::invalid_uri);
    CHECK(classify({"GET", "/b?prefix=caf%C3%A9%0A", "localhost", false}, "localhost")
              .has_value());
    // Virtual-hosted style: the whole path is the key.
    CHECK(error_of("GET", "/%FF", "localhost") == s3_errc::invalid_uri);
    CHECK(classify({"GET", "/%FF", "b.localhost", false}, "localhost").error().code ==
          s3_errc::invalid_uri);
    // Well-formed UTF-8 and control characters are keys like any other.
    const auto ok = classify({"GET", "/b/caf%C3%A9%01%00x", "localhost", false}, "localhost");
    REQUIRE(ok.has_value());
    CHECK(ok->key == std::string("caf\xC3\xA9\x01\0x", 8));
    const auto nul_bucket = classify({"GET", "/ab%00cd/key", "localhost", false}, "localhost");
    REQUIRE(nul_bucket.has_value());
    CHECK(nul_bucket->bucket == std::string("ab\0cd", 5));
}

TEST_CASE("operation: op_name") {
    CHECK(op_name(op::put_object) == "PutObject");
    CHECK(op_name(op::list_objects_v2) == "ListObjectsV2");
    CHECK(op_name(op::list_objects_v1) == "ListObjects");
    CHECK(op_name(op::upload_part_copy) == "UploadPartCopy");
    CHECK(op_name(op::complete_multipart_upload) == "CompleteMultipartUpload");
    CHECK(op_name(op::get_bucket_location) == "GetBucketLocation");
    CHECK(op_name(op::list_buckets) == "ListBuckets");
    CHECK(op_name(op::list_parts) == "ListParts");
    CHECK(op_name(op::unsupported) == "Unsupported");
    std::set<std::string_view> names;
    for (int i = 0; i <= static_cast<int>(op::unsupported); ++i) {
        CHECK(names.insert(op_name(static_cast<op>(i))).second);
    }
}

TEST_CASE("operation: bucket names") {
    for (const std::string_view ok :
         {"abc", "my-bucket", "my.bucket.name", "a1b", "123", "b-1.c-2",
          "a23456789012345678901234567890123456789012345678901234567890123", "192.168.5.4x",
          "1.2.3"}) {
        CAPTURE(ok);
        CHECK(is_valid_bucket_name(ok));
    }
    for (const std::string_view bad :
         {"",
          "ab",
          "a234567890123456789012345678901234567890123456789012345678901234",
          "MyBucket",
          "my_bucket",
          "-abc",
          "abc-",
          ".abc",
          "abc.",
          "a..b",
          "192.168.5.4",
          "xn--abc",
          "sthree-abc",
          "amzn-s3-demo-x",
          "abc-s3alias",
          "abc--ol-s3",
          "abc.mrap",
          "abc--x-s3",
          "abc--table-s3",
          "a b",
          "caf\xC3\xA9",
          "_ifmatch"}) {
        CAPTURE(bad);
        CHECK_FALSE(is_valid_bucket_name(bad));
    }
}

TEST_CASE("operation: object keys") {
    CHECK(check_object_key("k").has_value());
    CHECK(check_object_key("dir/").has_value());
    CHECK(check_object_key("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80").has_value());
    CHECK(check_object_key(std::string(1024, 'a')).has_value());
    CHECK(check_object_key(std::string(512, '\0') + std::string(512, 'a')).has_value());
    const auto long_key = check_object_key(std::string(1025, 'a'));
    REQUIRE_FALSE(long_key.has_value());
    CHECK(long_key.error().code == s3_errc::key_too_long);
    std::string multibyte;
    while (multibyte.size() < 1025) {
        multibyte += "\xE2\x82\xAC";
    }
    CHECK(check_object_key(multibyte).error().code == s3_errc::key_too_long);
    CHECK(check_object_key("").error().code == s3_errc::invalid_argument);
    for (const std::string_view bad : {"\xFF", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                                       "\xF4\x90\x80\x80", "a\x80", "\xE2\x82"}) {
        CHECK(check_object_key(bad).error().code == s3_errc::invalid_argument);
    }
}
