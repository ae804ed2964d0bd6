// Unit tests for sigv2.hpp against the AWS-documented SigV2 examples (RESTAuthentication:
// johnsmith/photos/puppy.jpg, header and query-string forms).
#include "protocol/sigv2.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ifmatch::protocol;

namespace {

constexpr std::string_view secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

sigv2_auth must_parse(std::string_view header) {
    auto r = parse_sigv2_authorization(header);
    REQUIRE(r.has_value());
    return *r;
}

} // namespace

TEST_CASE("sigv2: AWS example GET object (header auth)") {
    std::vector<header_field> headers = {{"Host", "johnsmith.s3.amazonaws.com"},
                                         {"Date", "Tue, 27 Mar 2007 19:36:42 +0000"}};
    auto auth = must_parse("AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    CHECK(auth.access_key == "AKIAIOSFODNN7EXAMPLE");
    sigv2_request req{"GET", "/johnsmith/photos/puppy.jpg", "", headers};
    CHECK(sigv2_string_to_sign(req, auth) ==
          "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg");
    CHECK(sigv2_verify(req, auth, secret).has_value());
    auto bad = sigv2_verify(req, auth, "other");
    REQUIRE(bad.has_error());
    CHECK(bad.error().code == s3_errc::signature_does_not_match);
}

TEST_CASE("sigv2: AWS example PUT object with Content-Type") {
    std::vector<header_field> headers = {{"Content-Type", "image/jpeg"},
                                         {"Content-Length", "94328"},
                                         {"Host", "johnsmith.s3.amazonaws.com"},
                                         {"Date", "Tue, 27 Mar 2007 21:15:45 +0000"}};
    sigv2_request req{"PUT", "/johnsmith/photos/puppy.jpg", "", headers};
    auto auth = must_parse("AWS AKIAIOSFODNN7EXAMPLE:MyyxeRY7whkBe+bq8fHCL/2kKUg=");
    CHECK(sigv2_verify(req, auth, secret).has_value());
}

TEST_CASE("sigv2: AWS example presigned GET (query auth)") {
    std::string query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                        "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    auto parsed = parse_sigv2_presigned(query);
    REQUIRE(parsed.has_value());
    const sigv2_auth &auth = *parsed;
    CHECK(auth.signature == "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
    CHECK(auth.expires == "1175139620");
    std::vector<header_field> headers = {{"Host", "johnsmith.s3.amazonaws.com"}};
    sigv2_request req{"GET", "/johnsmith/photos/puppy.jpg", query, headers};
    CHECK(sigv2_string_to_sign(req, auth) == "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
    CHECK(sigv2_verify(req, auth, secret).has_value());

    using std::chrono::seconds;
    CHECK(check_sigv2_expiry(auth, std::chrono::sys_seconds(seconds(1175139620))).has_value());
    auto expired = check_sigv2_expiry(auth, std::chrono::sys_seconds(seconds(1175139621)));
    REQUIRE(expired.has_error());
    CHECK(expired.error().code == s3_errc::access_denied);
}

TEST_CASE("sigv2: x-amz headers, x-amz-date and sub-resources") {
    std::vector<header_field> headers = {
        {"Date", "ignored"},       {"X-Amz-Date", "Tue, 27 Mar 2007 21:20:26 +0000"},
        {"x-amz-meta-b", " two "}, {"X-Amz-Meta-A", "one"},
        {"x-amz-meta-b", "three"}, {"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="}};
    sigv2_request req{"DELETE", "/bucket/key",
                      "versionId=v%2B1&x-id=DeleteObject&acl&response-content-type=a%20b", headers};
    sigv2_auth auth;
    CHECK(sigv2_string_to_sign(req, auth) ==
          "DELETE\n4gJE4saaMU4BqNR0kLY+lw==\n\n\n"
          "x-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\nx-amz-meta-a:one\n"
          "x-amz-meta-b:two,three\n"
          "/bucket/key?acl&response-content-type=a b&versionId=v+1");
}

TEST_CASE("sigv2: malformed credentials") {
    for (std::string_view bad : {"", "AWS", "AWS AKID", "AWS :sig", "AWS AKID:", "AWS4 a:b"}) {
        auto r = parse_sigv2_authorization(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::authorization_header_malformed);
    }
    for (std::string_view bad : {"AWSAccessKeyId=a&Signature=s", "Expires=1&Signature=s",
                                 "AWSAccessKeyId=a&Expires=soon&Signature=s"}) {
        auto r = parse_sigv2_presigned(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::authorization_query_parameters_error);
    }
}
