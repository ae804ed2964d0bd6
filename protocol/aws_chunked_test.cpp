// Unit tests for aws_chunked.hpp: the AWS sigv4-streaming examples of wire.md §10 (signed, with and
// without a signed trailer), botocore's unsigned-trailer bodies, byte-at-a-time feeding,
// truncation and malformed input.
#include "protocol/aws_chunked.hpp"
#include "protocol/checksum.hpp"
#include "protocol/sigv4.hpp"

#include <cstdint>
#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace ifmatch::protocol;

namespace {

constexpr std::string_view secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view trailer_sig =
    "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";

// The body of wire.md §10: 65536 + 1024 + 0 bytes of 'a' with the given chunk signatures.
std::string example_body(const std::vector<std::string> &sigs, std::string_view tail) {
    std::string body = "10000;chunk-signature=" + sigs[0] + "\r\n" + std::string(65536, 'a') +
                       "\r\n400;chunk-signature=" + sigs[1] + "\r\n" + std::string(1024, 'a') +
                       "\r\n0;chunk-signature=" + sigs[2] + "\r\n";
    return body + std::string(tail);
}

std::string payload_body() {
    return example_body({"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                         "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                         "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
                        "\r\n");
}

std::string trailer_body(std::string_view trailer_value = "sOO8/Q==") {
    return example_body({"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                         "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                         "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"},
                        "x-amz-checksum-crc32c:" + std::string(trailer_value) +
                            "\r\nx-amz-trailer-signature:" + std::string(trailer_sig) + "\r\n\r\n");
}

chunk_signer example_signer(std::string_view seed) {
    credential_scope scope{"AKIAIOSFODNN7EXAMPLE", "20130524", "us-east-1", "s3"};
    return chunk_signer(sigv4_signing_key(secret, scope), "20130524T000000Z", scope.scope(),
                        std::string(seed));
}

aws_chunked_decoder signed_decoder(bool trailer) {
    aws_chunked_decoder d({.signed_chunks = true, .expect_trailer = trailer});
    example_signer(trailer ? "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
                           : "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
        .attach(d);
    return d;
}

// Feeds `body` in pieces of `step` bytes; returns the first error code, if any.
struct run_result {
    bool ok = true;
    s3_errc code = s3_errc::internal_error;
    std::string decoded;
};

run_result run(aws_chunked_decoder &d, std::string_view body, std::size_t step) {
    run_result out;
    auto sink = [&](std::string_view piece) { out.decoded.append(piece); };
    for (std::size_t i = 0; i < body.size(); i += step) {
        auto r = d.feed(body.substr(i, step), sink);
        if (r.has_error()) {
            out.ok = false;
            out.code = r.error().code;
            return out;
        }
    }
    return out;
}

aws_chunked_options unsigned_trailer() { return {.signed_chunks = false, .expect_trailer = true}; }

} // namespace

TEST_CASE("aws_chunked: AWS signed example, whole and byte at a time") {
    std::string body = payload_body();
    CHECK(body.size() == 66824);
    for (std::size_t step : {body.size(), std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
        auto d = signed_decoder(false);
        auto r = run(d, body, step);
        CHECK(r.ok);
        CHECK(d.done());
        CHECK(d.decoded_bytes() == 66560);
        CHECK(r.decoded == std::string(66560, 'a'));
        CHECK(d.trailers().empty());
    }
}

TEST_CASE("aws_chunked: AWS signed example with signed trailer") {
    for (std::size_t step : {std::size_t{100000}, std::size_t{1}}) {
        auto d = signed_decoder(true);
        auto r = run(d, trailer_body(), step);
        CHECK(r.ok);
        CHECK(d.done());
        CHECK(d.decoded_bytes() == 66560);
        REQUIRE(d.trailers().size() == 1);
        CHECK(d.trailers()[0].first == "x-amz-checksum-crc32c");
        CHECK(d.trailers()[0].second == "sOO8/Q==");
        CHECK(checksum_base64(checksum_algo::crc32c, r.decoded) == d.trailers()[0].second);
    }
}

TEST_CASE("aws_chunked: tampering is SignatureDoesNotMatch") {
    std::string body = payload_body();
    body[200] = 'b'; // a data byte of the first chunk
    auto d = signed_decoder(false);
    auto r = run(d, body, body.size());
    CHECK_FALSE(r.ok);
    CHECK(r.code == s3_errc::signature_does_not_match);
    CHECK_FALSE(d.done());

    std::string last = payload_body();
    last[last.size() - 5] = last[last.size() - 5] == '0' ? '1' : '0'; // final chunk signature
    auto d2 = signed_decoder(false);
    auto r2 = run(d2, last, 1);
    CHECK(r2.code == s3_errc::signature_does_not_match);

    auto d3 = signed_decoder(true);
    auto r3 = run(d3, trailer_body("AAAAAA=="), 3);
    CHECK(r3.code == s3_errc::signature_does_not_match);
    CHECK_FALSE(d3.done());

    // Sticky: once failed, every later feed reports the same error.
    auto again = d3.feed("x", {});
    REQUIRE(again.has_error());
    CHECK(again.error().code == s3_errc::signature_does_not_match);
}

TEST_CASE("aws_chunked: signed chunk checks see each chunk hash including the final one") {
    aws_chunked_decoder d({.signed_chunks = true, .expect_trailer = false});
    std::vector<std::string> seen;
    d.on_chunk_signature([&](std::string_view sig, std::string_view hash) {
        seen.push_back(std::string(sig) + "/" + std::string(hash.substr(0, 8)));
        return true;
    });
    std::string sig(64, 'c');
    auto r =
        run(d, "3;chunk-signature=" + sig + "\r\nabc\r\n0;chunk-signature=" + sig + "\r\n\r\n", 2);
    CHECK(r.ok);
    CHECK(d.done());
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == sig + "/ba7816bf");
    CHECK(seen[1] == sig + "/e3b0c442");
}

TEST_CASE("aws_chunked: botocore unsigned trailer body") {
    std::string crc = checksum_base64(checksum_algo::crc32, "hello world");
    std::string body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n";
    for (std::size_t step : {body.size(), std::size_t{1}}) {
        aws_chunked_decoder d(unsigned_trailer());
        std::string canonical;
        std::string sig = "unset";
        d.on_trailer_signature([&](std::string_view c, std::string_view s) {
            canonical = c;
            sig = s;
            return true;
        });
        auto r = run(d, body, step);
        CHECK(r.ok);
        CHECK(d.done());
        CHECK(r.decoded == "hello world");
        REQUIRE(d.trailers().size() == 1);
        CHECK(d.trailers()[0].second == crc);
        CHECK(canonical == "x-amz-checksum-crc32:" + crc + "\n");
        CHECK(sig.empty());
    }
}

TEST_CASE("aws_chunked: every strict prefix is not done and not an error") {
    std::string body = "A\r\n0123456789\r\n1;ext=1\r\nx\r\n0\r\nX-Amz-Checksum-CRC32 : AAAAAA== "
                       "\r\nx-amz-meta-z:1\r\n\r\n";
    for (std::size_t n = 0; n < body.size(); ++n) {
        aws_chunked_decoder d(unsigned_trailer());
        auto r = run(d, std::string_view(body).substr(0, n), 1);
        CHECK(r.ok);
        CHECK_FALSE(d.done());
    }
    aws_chunked_decoder d(unsigned_trailer());
    std::string canonical;
    d.on_trailer_signature([&](std::string_view c, std::string_view) {
        canonical = c;
        return true;
    });
    auto r = run(d, body, 5);
    CHECK(r.ok);
    CHECK(d.done());
    CHECK(r.decoded == "0123456789x");
    CHECK(d.decoded_bytes() == 11);
    REQUIRE(d.trailers().size() == 2);
    CHECK(d.trailers()[0] ==
          std::pair<std::string, std::string>("x-amz-checksum-crc32", "AAAAAA=="));
    CHECK(canonical == "x-amz-checksum-crc32:AAAAAA==\nx-amz-meta-z:1\n");

    auto signed_d = signed_decoder(false);
    std::string signed_body = payload_body();
    CHECK(run(signed_d, std::string_view(signed_body).substr(0, signed_body.size() - 1), 1000).ok);
    CHECK_FALSE(signed_d.done());
}

TEST_CASE("aws_chunked: tolerated blank line before trailers") {
    aws_chunked_decoder d(unsigned_trailer());
    CHECK(run(d, "3\r\nabc\r\n0\r\n\r\n", 1).ok);
    CHECK(d.done()); // an unsigned body may legitimately end here
    CHECK(run(d, "x-amz-checksum-crc32:AAAAAA==\r\n", 1).ok);
    CHECK_FALSE(d.done());
    CHECK(run(d, "\r\n", 1).ok);
    CHECK(d.done());
    CHECK(d.trailers().size() == 1);

    // Signed trailer mode still owes the trailer signature after the blank line.
    auto s = signed_decoder(true);
    std::string body = trailer_body();
    auto cut = body.find("x-amz-checksum-crc32c");
    body.insert(cut, "\r\n");
    CHECK(run(s, std::string_view(body).substr(0, cut + 2), 1).ok);
    CHECK_FALSE(s.done());
    CHECK(run(s, std::string_view(body).substr(cut + 2), 1).ok);
    CHECK(s.done());
}

TEST_CASE("aws_chunked: no-trailer mode ends with CRLF and rejects trailers or extra data") {
    aws_chunked_decoder d;
    CHECK(run(d, "5;foo=bar\r\nhello\r\n0\r\n\r\n", 1).ok);
    CHECK(d.done());
    auto extra = run(d, "x", 1);
    CHECK_FALSE(extra.ok);
    CHECK(extra.code == s3_errc::invalid_request);

    aws_chunked_decoder t;
    auto r = run(t, "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", 1);
    CHECK_FALSE(r.ok);
    CHECK(r.code == s3_errc::invalid_request);
}

TEST_CASE("aws_chunked: malformed framing is an error, never a crash") {
    struct bad_case {
        std::string body;
        aws_chunked_options opts;
        s3_errc code;
    };
    aws_chunked_options plain{};
    aws_chunked_options small_limits{.max_chunk_size = 16, .max_line = 32};
    aws_chunked_options signed_opts{.signed_chunks = true};
    std::vector<bad_case> cases = {
        {"zz\r\n", plain, s3_errc::incomplete_body},
        {"\r\n", plain, s3_errc::incomplete_body},
        {"5 \r\nhello\r\n", plain, s3_errc::incomplete_body},
        {"5\nhello", plain, s3_errc::incomplete_body},
        {"5\r\nhelloXX", plain, s3_errc::incomplete_body},
        {"5\r\nhello\rX", plain, s3_errc::incomplete_body},
        {"11111111111111111\r\n", plain, s3_errc::invalid_request},
        {"11\r\n", small_limits, s3_errc::invalid_request},
        {std::string(40, '0'), small_limits, s3_errc::invalid_request},
        {"3\r\nabc\r\n", signed_opts, s3_errc::invalid_request},
        {"0\r\n:novalue\r\n", unsigned_trailer(), s3_errc::invalid_request},
        {"0\r\nno colon\r\n", unsigned_trailer(), s3_errc::invalid_request},
        {"0\r\nbad name:1\r\n", unsigned_trailer(), s3_errc::invalid_request},
        {"0\r\nx-amz-trailer-signature:a\r\nx-amz-trailer-signature:a\r\n", unsigned_trailer(),
         s3_errc::invalid_request},
    };
    for (const auto &c : cases) {
        CAPTURE(c.body);
        for (std::size_t step : {c.body.size(), std::size_t{1}}) {
            aws_chunked_decoder d(c.opts);
            auto r = run(d, c.body, step);
            CHECK_FALSE(r.ok);
            CHECK(r.code == c.code);
            CHECK_FALSE(d.done());
        }
    }
}

TEST_CASE("aws_chunked: pseudo-random garbage never crashes") {
    constexpr std::string_view alphabet = "0123456789abcdefABCDEF;=\r\n:x- ";
    std::uint32_t seed = 12345;
    auto next = [&] {
        seed = seed * 1664525u + 1013904223u;
        return seed >> 8;
    };
    for (int iter = 0; iter < 3000; ++iter) {
        std::string body;
        auto len = next() % 64;
        for (std::uint32_t i = 0; i < len; ++i) {
            body.push_back(alphabet[next() % alphabet.size()]);
        }
        aws_chunked_options opts{.signed_chunks = (iter % 3) == 0,
                                 .expect_trailer = (iter % 2) == 0,
                                 .max_chunk_size = 64,
                                 .max_line = 48};
        aws_chunked_decoder d(opts);
        d.on_chunk_signature([](std::string_view, std::string_view) { return true; });
        auto r = run(d, body, 1 + next() % 5);
        CHECK(d.decoded_bytes() <= body.size());
        if (!r.ok) {
            CHECK_FALSE(d.done());
        }
    }
}
