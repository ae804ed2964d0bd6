// Unit tests for sigv2.hpp against the AWS-documented SigV2 examples (RESTAuthentication:
// johnsmith/photos/puppy.jpg, header and query-string forms). The bucket-level vectors are
// base64 HMAC-SHA1 of the string to sign shown beside them under the example secret, worked out
// by hand from the documented algorithm (the first one is the documented List example's).
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

TEST_CASE("sigv2: bucket-level resource of a virtual-hosted request (List example)") {
    std::vector<header_field> headers = {{"Host", "johnsmith.s3.amazonaws.com"},
                                         {"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}};
    // server/auth.cpp prefixes the bucket of the Host to the request path `/`.
    sigv2_request req{"GET", "/johnsmith/", "prefix=photos&max-keys=50&marker=puppy", headers,
                      true};
    auto auth = must_parse("AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=");
    CHECK(sigv2_string_to_sign(req, auth) ==
          "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/");
    CHECK(sigv2_verify(req, auth, secret).has_value());
}

TEST_CASE("sigv2: a bucket-level path is accepted signed with or without its trailing slash") {
    std::vector<header_field> headers = {{"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}};
    // Resource `/johnsmith/` (botocore's auth_path for `GET /johnsmith`) and `/johnsmith`.
    auto slash = must_parse("AWS AKIAIOSFODNN7EXAMPLE:htDYFYduRNen8P9ZfE/s9SuKy0U=");
    auto bare = must_parse("AWS AKIAIOSFODNN7EXAMPLE:vMb4hbK2FqyE95iL+bl/AkQ6Zvg=");
    for (std::string_view path : {"/johnsmith", "/johnsmith/"}) {
        CAPTURE(path);
        sigv2_request req{"GET", path, "prefix=photos&max-keys=50&marker=puppy", headers, true};
        CHECK(sigv2_verify(req, slash, secret).has_value());
        CHECK(sigv2_verify(req, bare, secret).has_value());
        // Without the bucket-level flag only the form as sent passes.
        req.bucket_level = false;
        CHECK(sigv2_verify(req, path.ends_with('/') ? slash : bare, secret).has_value());
        CHECK(sigv2_verify(req, path.ends_with('/') ? bare : slash, secret).has_error());
    }
    // The error reports the string to sign built from the path as sent.
    sigv2_request req{"GET", "/johnsmith", "", headers, true};
    auto wrong = sigv2_verify(req, slash, "other");
    REQUIRE(wrong.has_error());
    CHECK(wrong.error().code == s3_errc::signature_does_not_match);
    std::string reported;
    for (const auto &[name, value] : wrong.error().fields) {
        if (name == "StringToSign") {
            reported = value;
        }
    }
    CHECK(reported == "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith");
    // An object path is never completed with a slash: `/johnsmith/photos/` does not sign
    // `/johnsmith/photos`.
    sigv2_request object{"GET", "/johnsmith/photos", "", headers, false};
    auto dir = must_parse("AWS AKIAIOSFODNN7EXAMPLE:jU+Bm1/jewNTDXrLPWW6mIYhPXM=");
    CHECK(sigv2_verify(object, dir, secret).has_error());
}

TEST_CASE("sigv2: bucket sub-resources in the resource") {
    struct row {
        std::string_view method, path, query;
        std::vector<header_field> headers;
        std::string_view resource; // the string to sign's last line
        std::string_view signature;
    };
    const std::string date = "Tue, 27 Mar 2007 19:42:41 +0000";
    // clang-format off
    const std::vector<row> rows = {
        {"GET", "/johnsmith", "acl", {{"Date", date}}, "/johnsmith?acl",
         "/dUAUi+fuxkz/MzNKEEbO2tmXwQ="},
        {"PUT", "/johnsmith", "versioning", {{"Date", date}}, "/johnsmith?versioning",
         "ipgPegQag3GvJMa5xpbunLM7vFk="},
        {"POST", "/johnsmith", "delete",
         {{"Date", date}, {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
          {"Content-Type", "application/xml"}},
         "/johnsmith?delete", "E87nA6aRmoAxWgJSaMtRNybYdZc="},
        // Only sub-resources are signed: prefix and encoding-type are left out.
        {"GET", "/johnsmith", "uploads&prefix=a%2Fb&encoding-type=url", {{"Date", date}},
         "/johnsmith?uploads", "IgXK3yXcEwpIsVYK3MTTLrJL1mw="},
        {"GET", "/johnsmith/", "location", {{"Date", date}}, "/johnsmith/?location",
         "KLTUdslLqgcuxmPVXDfcQgTHRo4="},
        // x-amz-date empties the Date slot and becomes an x-amz line.
        {"PUT", "/johnsmith/", "tagging", {{"X-Amz-Date", date}}, "/johnsmith/?tagging",
         "KkoAegj9YLb6c+4WPX7rZ7Nz+2s="},
    };
    // clang-format on
    for (const row &r : rows) {
        CAPTURE(r.method);
        CAPTURE(r.query);
        sigv2_request req{r.method, r.path, r.query, r.headers, true};
        auto auth = must_parse("AWS AKIAIOSFODNN7EXAMPLE:" + std::string(r.signature));
        std::string sts = sigv2_string_to_sign(req, auth);
        CHECK(sts.ends_with("\n" + std::string(r.resource)));
        CHECK(sigv2_verify(req, auth, secret).has_value());
        req.method = r.method == "GET" ? "HEAD" : "GET";
        CHECK(sigv2_verify(req, auth, secret).has_error());
    }
}

TEST_CASE("sigv2: presigned bucket-level sub-resource request") {
    // Resource `/johnsmith/?acl`, Date slot = Expires.
    std::string query = "acl&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                        "&Signature=P1kT8LzzjOyCxDEQ3Qh9BKBITNE%3D";
    auto auth = parse_sigv2_presigned(query);
    REQUIRE(auth.has_value());
    std::vector<header_field> headers = {{"Host", "127.0.0.1"}};
    sigv2_request req{"GET", "/johnsmith", query, headers, true};
    CHECK(sigv2_string_to_sign(req, *auth) == "GET\n\n\n1175139620\n/johnsmith?acl");
    CHECK(sigv2_verify(req, *auth, secret).has_value());
    req.raw_query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                    "&Signature=P1kT8LzzjOyCxDEQ3Qh9BKBITNE%3D";
    CHECK(sigv2_verify(req, *auth, secret).has_error());
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
