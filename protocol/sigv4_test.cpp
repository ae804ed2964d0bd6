// Unit tests for sigv4.hpp against the AWS-documented SigV4 examples (sig-v4-header-based-auth,
// sigv4-query-string-auth, sigv4-streaming) and the seed signatures of wire.md §10.
#include "protocol/crypto.hpp"
#include "protocol/sigv4.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ifmatch::protocol;

namespace {

constexpr std::string_view secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view empty_sha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::string_view date = "20130524T000000Z";
constexpr std::string_view vhost = "examplebucket.s3.amazonaws.com";

sigv4_auth must_parse(std::string_view header) {
    auto r = parse_sigv4_authorization(header);
    REQUIRE(r.has_value());
    return *r;
}

std::string auth_header(std::string_view signed_headers, std::string_view signature) {
    return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
           "aws4_request,SignedHeaders=" +
           std::string(signed_headers) + ",Signature=" + std::string(signature);
}

std::string sha256_hex_of_a(std::size_t n) { return sha256_hex(std::string(n, 'a')); }

std::chrono::sys_seconds at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    using namespace std::chrono;
    return sys_days(year_month_day{year(y), month(mo), day(d)}) + hours(h) + minutes(mi) +
           seconds(s);
}

} // namespace

TEST_CASE("sigv4: Authorization header parsing") {
    auto a = must_parse("AWS4-HMAC-SHA256 Credential=AKID/20130524/eu-west-1/s3/aws4_request, "
                        "SignedHeaders=Host;x-amz-date, Signature=" +
                        std::string(64, 'a'));
    CHECK(a.credential.access_key == "AKID");
    CHECK(a.credential.date == "20130524");
    CHECK(a.credential.region == "eu-west-1");
    CHECK(a.credential.service == "s3");
    CHECK(a.credential.scope() == "20130524/eu-west-1/s3/aws4_request");
    CHECK(a.signed_headers == std::vector<std::string>{"host", "x-amz-date"});
    CHECK(a.signature == std::string(64, 'a'));
    CHECK_FALSE(a.presigned);

    // s3cmd style: commas without spaces.
    auto b = must_parse(auth_header("host", std::string(64, '0')));
    CHECK(b.credential.access_key == "AKIAIOSFODNN7EXAMPLE");

    for (std::string bad :
         {std::string(""), std::string("AWS4-HMAC-SHA256"), std::string("AWS AKID:sig"),
          auth_header("host", "abc"), auth_header("", std::string(64, '0')),
          auth_header("a;;b", std::string(64, '0')),
          std::string("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/"
                      "aws4_request,Signature=") +
              std::string(64, '0'),
          std::string("AWS4-HMAC-SHA256 Credential=AKID/2013/us-east-1/s3/"
                      "aws4_request,SignedHeaders=host,Signature=") +
              std::string(64, '0'),
          std::string("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/"
                      "aws4,SignedHeaders=host,Signature=") +
              std::string(64, '0')}) {
        auto r = parse_sigv4_authorization(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::authorization_header_malformed);
    }
}

TEST_CASE("sigv4: AWS example GET object with Range (header auth)") {
    std::vector<header_field> headers = {{"Host", vhost},
                                         {"Range", "bytes=0-9"},
                                         {"x-amz-content-sha256", empty_sha},
                                         {"x-amz-date", date}};
    auto auth =
        must_parse(auth_header("host;range;x-amz-content-sha256;x-amz-date",
                               "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
    sigv4_request req{"GET", "/test.txt", "", headers, empty_sha};
    auto c = sigv4_compute(req, auth, secret, date);
    CHECK(c.canonical_request == "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
                                 "range:bytes=0-9\nx-amz-content-sha256:" +
                                     std::string(empty_sha) +
                                     "\nx-amz-date:20130524T000000Z\n\n"
                                     "host;range;x-amz-content-sha256;x-amz-date\n" +
                                     std::string(empty_sha));
    CHECK(c.string_to_sign ==
          "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK(c.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK(sigv4_verify(req, auth, secret, date).has_value());
    CHECK(check_sigv4_scope(auth, date).has_value());

    auto wrong = sigv4_verify(req, auth, "not-the-secret", date);
    REQUIRE(wrong.has_error());
    CHECK(wrong.error().code == s3_errc::signature_does_not_match);
    CHECK(wrong.error().fields.size() == 4);
}

TEST_CASE("sigv4: AWS example PUT object (path needing encoding, Date header signed)") {
    std::string payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    std::vector<header_field> headers = {{"Host", vhost},
                                         {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                         {"x-amz-date", date},
                                         {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                                         {"x-amz-content-sha256", payload}};
    auto auth =
        must_parse(auth_header("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                               "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"));
    // Whether the client escaped '$' on the wire or not, the canonical URI is the same.
    for (std::string_view path : {"/test$file.text", "/test%24file.text"}) {
        sigv4_request req{"PUT", path, "", headers, payload};
        CHECK(sigv4_verify(req, auth, secret, date).has_value());
    }
}

TEST_CASE("sigv4: AWS examples with query strings (lifecycle, list objects)") {
    std::vector<header_field> headers = {
        {"Host", vhost}, {"x-amz-content-sha256", empty_sha}, {"x-amz-date", date}};
    auto lifecycle =
        must_parse(auth_header("host;x-amz-content-sha256;x-amz-date",
                               "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"));
    CHECK(sigv4_verify({"GET", "/", "lifecycle", headers, empty_sha}, lifecycle, secret, date)
              .has_value());
    auto list =
        must_parse(auth_header("host;x-amz-content-sha256;x-amz-date",
                               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"));
    CHECK(sigv4_verify({"GET", "/", "max-keys=2&prefix=J", headers, empty_sha}, list, secret, date)
              .has_value());
    CHECK(sigv4_verify({"GET", "/", "prefix=J&max-keys=2", headers, empty_sha}, list, secret, date)
              .has_value());
}

TEST_CASE("sigv4: AWS example presigned GET") {
    std::string query = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
                        "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                        "&X-Amz-SignedHeaders=host&X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    CHECK(detect_auth_scheme("", query) == auth_scheme::sigv4_query);
    auto parsed = parse_sigv4_presigned(query);
    REQUIRE(parsed.has_value());
    const sigv4_auth &auth = *parsed;
    CHECK(auth.presigned);
    CHECK(auth.expires == 86400);
    CHECK(auth.credential.access_key == "AKIAIOSFODNN7EXAMPLE");
    std::vector<header_field> headers = {{"host", vhost}};
    sigv4_request req{"GET", "/test.txt", query, headers, ""};
    auto c = sigv4_compute(req, auth, secret, "");
    CHECK(c.canonical_request.ends_with("\nhost\nUNSIGNED-PAYLOAD"));
    CHECK(c.canonical_request.find("X-Amz-Signature") == std::string::npos);
    CHECK(sigv4_verify(req, auth, secret, "").has_value());

    CHECK(check_presigned_time(auth, at(2013, 5, 24, 12, 0, 0)).has_value());
    auto expired = check_presigned_time(auth, at(2013, 5, 25, 0, 0, 1));
    REQUIRE(expired.has_error());
    CHECK(expired.error().code == s3_errc::access_denied);
    auto early = check_presigned_time(auth, at(2013, 5, 23, 23, 0, 0));
    REQUIRE(early.has_error());
    CHECK(early.error().code == s3_errc::access_denied);
}

TEST_CASE("sigv4: presigned parameter errors") {
    std::string base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20130524%2F"
                       "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                       "&X-Amz-SignedHeaders=host&X-Amz-Signature=" +
                       std::string(64, 'a');
    CHECK(parse_sigv4_presigned(base + "&X-Amz-Expires=604800").has_value());
    for (std::string tail : {"&X-Amz-Expires=604801", "&X-Amz-Expires=0", "&X-Amz-Expires=-5",
                             "&X-Amz-Expires=abc", ""}) {
        auto r = parse_sigv4_presigned(base + tail);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::authorization_query_parameters_error);
    }
    auto no_algo = parse_sigv4_presigned("X-Amz-Expires=10");
    REQUIRE(no_algo.has_error());
    CHECK(no_algo.error().code == s3_errc::authorization_query_parameters_error);
}

TEST_CASE("sigv4: canonical URI, query and headers") {
    CHECK(sigv4_canonical_uri("") == "/");
    CHECK(sigv4_canonical_uri("/b/a b+c") == "/b/a%20b%2Bc");
    CHECK(sigv4_canonical_uri("/b//x/../y") == "/b//x/../y");
    CHECK(sigv4_canonical_uri("/b/%7Ekey%2a:!") == "/b/~key%2A%3A%21");
    CHECK(sigv4_canonical_uri("/b/%zz") == "/b/%25zz");
    CHECK(sigv4_canonical_uri("/b/\xe2\x82\xac") == "/b/%E2%82%AC");

    CHECK(sigv4_canonical_query("", false) == "");
    CHECK(sigv4_canonical_query("uploads", false) == "uploads=");
    CHECK(sigv4_canonical_query("x-id=PutObject&delete&a=1", false) ==
          "a=1&delete=&x-id=PutObject");
    CHECK(sigv4_canonical_query("prefix=a+b&p2=a%2Fb&p3=~", false) == "p2=a%2Fb&p3=~&prefix=a%20b");
    CHECK(sigv4_canonical_query("a=2&a=1", false) == "a=1&a=2");
    CHECK(sigv4_canonical_query("X-Amz-Signature=x&b=1", true) == "b=1");
    CHECK(sigv4_canonical_query("X-Amz-Signature=x&b=1", false) == "X-Amz-Signature=x&b=1");

    std::vector<header_field> headers = {{"X-Amz-Meta-A", "  one   two \t three  "},
                                         {"x-amz-meta-a", "four"},
                                         {"Host", "127.0.0.1:9000"}};
    std::vector<std::string> signed_headers = {"host", "range", "x-amz-meta-a"};
    CHECK(sigv4_canonical_headers(headers, signed_headers) ==
          "host:127.0.0.1:9000\nrange:\nx-amz-meta-a:one two three,four\n");
}

TEST_CASE("sigv4: time checks") {
    auto t = parse_amz_date("20130524T000000Z");
    REQUIRE(t.has_value());
    CHECK(*t == at(2013, 5, 24, 0, 0, 0));
    CHECK_FALSE(parse_amz_date("20130524T000000").has_value());
    CHECK_FALSE(parse_amz_date("20131324T000000Z").has_value());
    CHECK_FALSE(parse_amz_date("2013052aT000000Z").has_value());
    CHECK_FALSE(parse_amz_date("20130524T250000Z").has_value());

    CHECK(check_request_time(*t, *t + std::chrono::minutes(15)).has_value());
    auto skew = check_request_time(*t, *t + std::chrono::minutes(16));
    REQUIRE(skew.has_error());
    CHECK(skew.error().code == s3_errc::request_time_too_skewed);
    REQUIRE(skew.error().fields.size() == 3);
    CHECK(skew.error().fields[0].first == "RequestTime");
    CHECK(skew.error().fields[1].first == "ServerTime");
    CHECK(skew.error().fields[1].second.size() == 20);
    CHECK(skew.error().fields[2] == std::pair<std::string, std::string>(
                                        "MaxAllowedSkewMilliseconds", "900000"));
    CHECK(check_request_time(*t, *t - std::chrono::minutes(16)).has_error());

    auto a = must_parse(auth_header("host", std::string(64, '0')));
    CHECK(check_sigv4_scope(a, "20130524T120000Z").has_value());
    CHECK(check_sigv4_scope(a, "20130525T000000Z").has_error());
    a.credential.service = "iam";
    CHECK(check_sigv4_scope(a, "20130524T000000Z").has_error());
}

TEST_CASE("sigv4: auth scheme detection") {
    CHECK(detect_auth_scheme("", "") == auth_scheme::none);
    CHECK(detect_auth_scheme("", "uploads&x-id=Foo") == auth_scheme::none);
    CHECK(detect_auth_scheme("AWS4-HMAC-SHA256 Credential=x", "") == auth_scheme::sigv4_header);
    CHECK(detect_auth_scheme("AWS AKID:sig", "") == auth_scheme::sigv2_header);
    CHECK(detect_auth_scheme("Bearer x", "") == auth_scheme::unknown);
    CHECK(detect_auth_scheme("", "AWSAccessKeyId=a&Expires=1&Signature=x") ==
          auth_scheme::sigv2_query);
}

TEST_CASE("sigv4: only presigned requests carry headers in the query (R-G16)") {
    const std::string_view v4 = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20130524%2F"
                                "us-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x&If-None-Match=%2A";
    CHECK(is_presigned("", v4));
    CHECK(is_presigned("", "AWSAccessKeyId=a&Expires=1&Signature=x&If-Match=%22e%22"));
    // Header-signed (either version) and anonymous requests: a query If-Match is a parameter.
    CHECK_FALSE(is_presigned("AWS4-HMAC-SHA256 Credential=x", v4));
    CHECK_FALSE(is_presigned("AWS AKID:sig", "If-Match=%22e%22"));
    CHECK_FALSE(is_presigned("", "If-None-Match=%2A"));
    CHECK_FALSE(is_presigned("", ""));
}

// wire.md §10: PUT /examplebucket/chunkObject.txt, 66560 x 'a' in chunks of 65536, 1024 and 0.
TEST_CASE("sigv4: streaming seed signatures and chunk chain") {
    std::vector<header_field> headers = {
        {"Host", "s3.amazonaws.com"},
        {"x-amz-date", date},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"Content-Encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", "66560"},
        {"Content-Length", "66824"},
        {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}};
    auto auth = must_parse(
        auth_header("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                    "x-amz-decoded-content-length;x-amz-storage-class",
                    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"));
    sigv4_request req{"PUT", "/examplebucket/chunkObject.txt", "", headers,
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"};
    CHECK(sigv4_verify(req, auth, secret, date).has_value());

    chunk_signer signer(sigv4_signing_key(secret, auth.credential), std::string(date),
                        auth.credential.scope(), auth.signature);
    CHECK(signer.sign_chunk(sha256_hex_of_a(65536)) ==
          "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
    CHECK(signer.verify_chunk("0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                              sha256_hex_of_a(1024)));
    CHECK_FALSE(signer.verify_chunk(std::string(64, '0'), empty_sha));
    CHECK(signer.verify_chunk("b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
                              empty_sha));
}

TEST_CASE("sigv4: streaming with signed trailer: seed, chunks and trailer signature") {
    std::vector<header_field> headers = {
        {"Host", "s3.amazonaws.com"},
        {"x-amz-date", date},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"Content-Encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", "66560"},
        {"x-amz-trailer", "x-amz-checksum-crc32c"},
        {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"}};
    auto auth = must_parse(auth_header(
        "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
        "x-amz-storage-class;x-amz-trailer",
        "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"));
    sigv4_request req{"PUT", "/examplebucket/chunkObject.txt", "", headers,
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"};
    CHECK(sigv4_verify(req, auth, secret, date).has_value());

    chunk_signer signer(sigv4_signing_key(secret, auth.credential), std::string(date),
                        auth.credential.scope(), auth.signature);
    CHECK(signer.sign_chunk(sha256_hex_of_a(65536)) ==
          "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2");
    CHECK(signer.sign_chunk(sha256_hex_of_a(1024)) ==
          "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7");
    CHECK(signer.sign_chunk(empty_sha) ==
          "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992");
    CHECK(signer.previous_signature() ==
          "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992");
    std::string canonical = "x-amz-checksum-crc32c:sOO8/Q==\n";
    CHECK(signer.sign_trailer(canonical) ==
          "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435");
    CHECK(signer.verify_trailer(
        canonical, "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"));
    CHECK_FALSE(
        signer.verify_trailer("x-amz-checksum-crc32c:AAAAAA==\n",
                              "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"));
    CHECK(sigv4_chunk_string_to_sign("D", "S", "P", "H") ==
          "AWS4-HMAC-SHA256-PAYLOAD\nD\nS\nP\n" + std::string(empty_sha) + "\nH");
    CHECK(sigv4_trailer_string_to_sign("D", "S", "P", "") ==
          "AWS4-HMAC-SHA256-TRAILER\nD\nS\nP\n" + std::string(empty_sha));
}
