// Unit tests for multipart.hpp: R-E3 golden ETags, COMPOSITE checksums and CRC combination.
#include "protocol/multipart.hpp"

#include "protocol/crypto.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ifmatch::protocol;

TEST_CASE("multipart: R-E3/R-E7 golden ETags") {
    CHECK(multipart_etag({to_hex(md5_raw("test"))}) == "\"60cd54a928cbbcbb6e7b5595bab46a9e-1\"");
    CHECK(multipart_etag({"\"" + to_hex(md5_raw("test content 123")) + "\""}) ==
          "\"b972025bc34adf8d76d6d51e93c035cc-1\"");
    CHECK(!multipart_etag({"nothex"}));
    auto two = multipart_etag({to_hex(md5_raw("a")), to_hex(md5_raw("b"))});
    REQUIRE(two);
    CHECK(two->substr(two->size() - 3) == "-2\"");
    CHECK(*two == "\"" + to_hex(md5_raw(md5_raw("a") + md5_raw("b"))) + "-2\"");
}

TEST_CASE("multipart: COMPOSITE checksum is the checksum of the raw part checksums") {
    auto c1 = checksum_base64(checksum_algo::crc32, "hello ");
    auto c2 = checksum_base64(checksum_algo::crc32, "world");
    auto raw = *base64_decode(c1) + *base64_decode(c2);
    CHECK(composite_checksum(checksum_algo::crc32, {c1, c2}) ==
          checksum_base64(checksum_algo::crc32, raw) + "-2");
    auto s = checksum_base64(checksum_algo::sha256, "x");
    CHECK(composite_checksum(checksum_algo::sha256, {s}) ==
          checksum_base64(checksum_algo::sha256, *base64_decode(s)) + "-1");
    CHECK(!composite_checksum(checksum_algo::crc32, {"!!"}));
}

TEST_CASE("multipart: FULL_OBJECT CRCs combine to the CRC of the concatenation") {
    std::string a(100000, 'a'), b = "123456789", c;
    for (int i = 0; i < 7777; ++i) c.push_back(static_cast<char>(i * 31));
    for (auto algo : {checksum_algo::crc32, checksum_algo::crc32c, checksum_algo::crc64nvme}) {
        CHECK(combinable(algo));
        auto got = combine_crc(algo, {{checksum_base64(algo, a), a.size()},
                                      {checksum_base64(algo, b), b.size()},
                                      {checksum_base64(algo, ""), 0},
                                      {checksum_base64(algo, c), c.size()}});
        CHECK(got == checksum_base64(algo, a + b + c));
    }
    CHECK(!combinable(checksum_algo::sha1));
    CHECK(!combine_crc(checksum_algo::sha256, {{"AAAA", 1}}));
}
