// Unit tests of the surface parsers: tags, SSE, ACLs, ownership, CORS.
#include "protocol/bucket_config.hpp"
#include "protocol/cors.hpp"
#include "protocol/tagging.hpp"

#include <doctest/doctest.h>
#include <map>

using namespace ifmatch::protocol;

namespace {

header_lookup headers(std::map<std::string, std::string> h) {
    return [h = std::move(h)](std::string_view n) -> std::optional<std::string_view> {
        auto it = h.find(std::string(n));
        if (it == h.end())
            return std::nullopt;
        return std::string_view(it->second);
    };
}

} // namespace

TEST_CASE("x-amz-tagging header: decoding and S3's limits") {
    auto t = parse_tagging_header("a=1&b%20c=x+y&empty=");
    REQUIRE(t.has_value());
    CHECK(t->size() == 3);
    CHECK((*t)[1] == std::pair<std::string, std::string>("b c", "x y"));
    CHECK((*t)[2].second.empty());
    CHECK(decode_tags(encode_tags(*t)) == *t);
    std::string eleven;
    for (int i = 0; i < 11; ++i)
        eleven += "k" + std::to_string(i) + "=v&";
    CHECK(parse_tagging_header(eleven).error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header(std::string(129, 'k') + "=v").error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header(std::string(128, 'k') + "=" + std::string(256, 'v')).has_value());
    CHECK(parse_tagging_header("k=" + std::string(257, 'v')).error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header("k=1&k=2").error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header("aws:x=1").error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header("k=%zz").error().code == s3_errc::invalid_argument);
    // Tags must be UTF-8 and characters a Tagging document can carry.
    CHECK(parse_tagging_header("k=%FF").error().code == s3_errc::invalid_argument);
    CHECK(parse_tagging_header("%C3=v").error().code == s3_errc::invalid_argument);
    CHECK(parse_tagging_header("k%01=v").error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header("k=v%00").error().code == s3_errc::invalid_tag);
    CHECK(parse_tagging_header("caf%C3%A9=%E2%82%AC").has_value());
}

TEST_CASE("Tagging document") {
    auto t = parse_tagging_xml("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>"
                               "<Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>",
                               max_object_tags);
    REQUIRE(t.has_value());
    CHECK(t->at(0).first == "a");
    CHECK(parse_tagging_xml("<Tagging/>", 10).error().code == s3_errc::malformed_xml);
    CHECK(parse_tagging_xml("<Tagging><TagSet/></Tagging>", 10).value().empty());
    CHECK(render_tagging_xml(*t).find("<Tag><Key>a</Key><Value>1</Value></Tag>") !=
          std::string::npos);
    // A tag the response could not carry as XML 1.0 is refused on the way in.
    CHECK(parse_tagging_xml("<Tagging><TagSet><Tag><Key>\xFF</Key><Value>v</Value></Tag>"
                            "</TagSet></Tagging>",
                            10)
              .error()
              .code == s3_errc::malformed_xml);
    CHECK(parse_tagging_xml("<Tagging><TagSet><Tag><Key>k</Key><Value>&#1;</Value></Tag>"
                            "</TagSet></Tagging>",
                            10)
              .error()
              .code == s3_errc::malformed_xml);
}

TEST_CASE("SSE headers and R-E2 KMS ETag") {
    auto none = parse_sse_headers(headers({}));
    REQUIRE(none.has_value());
    CHECK(!none->has_value());
    auto aes = parse_sse_headers(headers({{"x-amz-server-side-encryption", "AES256"}}));
    REQUIRE(aes.has_value());
    CHECK((*aes)->algorithm == "AES256");
    CHECK(parse_sse_headers(headers({{"x-amz-server-side-encryption", "DES"}})).error().code ==
          s3_errc::invalid_argument);
    CHECK(parse_sse_headers(headers({{"x-amz-server-side-encryption", "AES256"},
                                     {"x-amz-server-side-encryption-aws-kms-key-id", "k"}}))
              .error()
              .code == s3_errc::invalid_argument);
    auto kms = parse_sse_headers(headers({{"x-amz-server-side-encryption", "aws:kms"},
                                          {"x-amz-server-side-encryption-aws-kms-key-id", "k"}}));
    REQUIRE(kms.has_value());
    CHECK((*kms)->is_kms());
    const std::string md5 = "098f6bcd4621d373cade4e832627b4f6";
    auto e = kms_etag(md5, "k");
    CHECK(e.size() == 34);
    CHECK(e != "\"" + md5 + "\"");
    CHECK(e == kms_etag(md5, "k"));
    CHECK(e != kms_etag(md5, "other"));
}

TEST_CASE("Bucket encryption document") {
    auto s = parse_sse_configuration(
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
        "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>key-1</KMSMasterKeyID>"
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"
        "</ServerSideEncryptionConfiguration>");
    REQUIRE(s.has_value());
    CHECK(s->kms_key_id == "key-1");
    CHECK(s->bucket_key);
    auto back = decode_sse(encode_sse(*s));
    CHECK(back.algorithm == "aws:kms");
    CHECK(back.kms_key_id == "key-1");
    CHECK(parse_sse_configuration("<ServerSideEncryptionConfiguration/>").error().code ==
          s3_errc::malformed_xml);
}

TEST_CASE("ACL headers, policy documents and ownership") {
    auto canned = parse_acl_headers(headers({{"x-amz-acl", "public-read"}}));
    REQUIRE(canned.has_value());
    auto xml = render_access_control_policy(*canned, "owner");
    CHECK(xml.find("<Permission>FULL_CONTROL</Permission>") != std::string::npos);
    CHECK(xml.find("global/AllUsers</URI>") != std::string::npos);
    CHECK(parse_acl_headers(headers({{"x-amz-acl", "nope"}})).error().code ==
          s3_errc::invalid_argument);
    auto grants = parse_acl_headers(
        headers({{"x-amz-grant-read", "id=\"abc\", uri=\"http://acs.amazonaws.com/groups/"
                                      "global/AllUsers\""}}));
    REQUIRE(grants.has_value());
    CHECK(grants->grants.size() == 2);
    CHECK(decode_acl(encode_acl(*grants)).grants.size() == 2);
    CHECK(parse_acl_headers(headers({{"x-amz-acl", "private"}, {"x-amz-grant-read", "id=a"}}))
              .error()
              .code == s3_errc::invalid_request);
    auto body = parse_access_control_policy(xml);
    REQUIRE(body.has_value());
    CHECK(body->grants.size() == 2);
    CHECK(parse_access_control_policy("<x/>").error().code == s3_errc::malformed_acl);
    CHECK(*parse_ownership_controls(render_ownership_controls("ObjectWriter")) == "ObjectWriter");
    CHECK(parse_ownership_controls("<OwnershipControls><Rule><ObjectOwnership>x"
                                   "</ObjectOwnership></Rule></OwnershipControls>")
              .has_error());
}

TEST_CASE("CORS rules and matching") {
    auto rules = parse_cors_configuration(
        "<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
        "<AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
        "<MaxAgeSeconds>300</MaxAgeSeconds></CORSRule>"
        "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod>"
        "</CORSRule></CORSConfiguration>");
    REQUIRE(rules.has_value());
    CHECK(rules->size() == 2);
    CHECK(match_cors(*rules, "https://app.example.com", "PUT", "X-Amz-Date, x-amz-meta-a") ==
          &(*rules)[0]);
    CHECK(match_cors(*rules, "https://app.example.com", "PUT", "content-type") == nullptr);
    CHECK(match_cors(*rules, "https://evil.com", "GET", "") == nullptr);
    CHECK(match_cors(*rules, "https://evil.com", "HEAD", "") == &(*rules)[1]);
    auto h = cors_response_headers((*rules)[0], "https://app.example.com", "x-amz-date");
    CHECK(h[0] == std::pair<std::string, std::string>("Access-Control-Allow-Origin",
                                                      "https://app.example.com"));
    // The same set on a preflight and an actual request (S3): methods, requested headers,
    // Expose-Headers, credentials, Max-Age, Vary.
    using header = std::pair<std::string, std::string>;
    const std::string vary =
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
    CHECK(h == std::vector<header>{
                   {"Access-Control-Allow-Origin", "https://app.example.com"},
                   {"Access-Control-Allow-Methods", "GET, PUT"},
                   {"Access-Control-Allow-Headers", "x-amz-date"},
                   {"Access-Control-Expose-Headers", "ETag"},
                   {"Access-Control-Allow-Credentials", "true"},
                   {"Access-Control-Max-Age", "300"},
                   {"Vary", vary}});
    auto any = cors_response_headers((*rules)[1], "https://evil.com", "");
    CHECK(any == std::vector<header>{
                     {"Access-Control-Allow-Origin", "*"},
                     {"Access-Control-Allow-Methods", "HEAD"},
                     {"Vary", vary}});
    CHECK(parse_cors_configuration("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                                   "<AllowedMethod>PATCH</AllowedMethod></CORSRule>"
                                   "</CORSConfiguration>")
              .error()
              .code == s3_errc::invalid_request);
    CHECK(parse_cors_configuration("<CORSConfiguration/>").error().code == s3_errc::malformed_xml);
    CHECK(cors_wildcard_match("*", "anything"));
    CHECK(!cors_wildcard_match("a*b", "ab_"));
}

#include "protocol/crypto.hpp"
#include "protocol/form_data.hpp"
#include "protocol/post_policy.hpp"

TEST_CASE("multipart/form-data: streamed in any chunking") {
    CHECK(*form_boundary("multipart/form-data; boundary=\"abc\"") == "abc");
    CHECK(*form_boundary("Multipart/Form-Data;boundary=xyz; charset=utf-8") == "xyz");
    CHECK(!form_boundary("application/json"));
    const std::string file(100000, 'z');
    const std::string body =
        "preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
        "a/${filename}\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
        file + "\r\n--XX--\r\nepilogue";
    for (std::size_t step : {1u, 3u, 7u, 4096u, 1000000u}) {
        std::vector<form_part_head> heads;
        std::vector<std::string> datas;
        int ends = 0;
        form_data_parser p("XX", {[&](const form_part_head &h) {
                                      heads.push_back(h);
                                      datas.emplace_back();
                                  },
                                  [&](std::string_view d) { datas.back() += d; }, [&] { ++ends; }});
        for (std::size_t i = 0; i < body.size(); i += step) {
            REQUIRE(p.feed(std::string_view(body).substr(i, step)).has_value());
        }
        CHECK(p.done());
        REQUIRE(heads.size() == 2);
        CHECK(heads[0].name == "key");
        CHECK(datas[0] == "a/${filename}");
        CHECK(*heads[1].filename == "f.txt");
        CHECK(heads[1].content_type == "text/plain");
        CHECK(datas[1] == file);
        CHECK(ends == 2);
    }
    form_data_parser bad("XX", {});
    CHECK(bad.feed("--XX\r\nNo-Colon-Here\r\n\r\nx").has_error());
}

TEST_CASE("POST policy: expiration, eq, starts-with, content-length-range, extra fields") {
    const std::string json = R"({"expiration":"2030-01-01T00:00:00.000Z","conditions":[
        {"bucket":"b"},["starts-with","$key","user/"],["eq","$Content-Type","text/plain"],
        ["content-length-range",1,10],{"success_action_status":"201"}]})";
    auto p = parse_post_policy(base64_encode(json));
    REQUIRE(p.has_value());
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    form_fields f{{"bucket", "b"},
                  {"key", "user/x"},
                  {"content-type", "text/plain"},
                  {"success_action_status", "201"},
                  {"policy", "…"}};
    CHECK(check_post_policy(*p, f, now).has_value());
    f[1].second = "other/x";
    CHECK(check_post_policy(*p, f, now).error().code == s3_errc::access_denied);
    f[1].second = "user/x";
    f.emplace_back("x-amz-meta-a", "1");
    CHECK(std::string(check_post_policy(*p, f, now).error().text()).find("Extra input fields") !=
          std::string::npos);
    CHECK(check_post_length(*p, 5).has_value());
    CHECK(check_post_length(*p, 0).error().code == s3_errc::entity_too_small);
    CHECK(check_post_length(*p, 11).error().code == s3_errc::entity_too_large);
    auto old = parse_post_policy(
        base64_encode(R"({"expiration":"2001-01-01T00:00:00Z","conditions":[]})"));
    REQUIRE(old.has_value());
    CHECK(std::string(check_post_policy(*old, {}, now).error().text()).find("expired") !=
          std::string::npos);
    CHECK(parse_post_policy("!!!").error().code == s3_errc::invalid_policy_document);
    CHECK(parse_post_policy(base64_encode("{}")).error().code == s3_errc::invalid_policy_document);
}
