// Unit tests for checksum.hpp: CRC check values, base64 encodings and incremental updates.
#include "protocol/checksum.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ifmatch::protocol;

TEST_CASE("checksum: CRC check values of \"123456789\"") {
    CHECK(crc32_update(0, "123456789") == 0xCBF43926u);
    CHECK(crc32c_update(0, "123456789") == 0xE3069283u);
    CHECK(crc64nvme_update(0, "123456789") == 0xAE8B14860A799888ull);
    CHECK(crc32c_update(0, "") == 0u);
    CHECK(crc64nvme_update(0, "") == 0u);
}

TEST_CASE("checksum: base64 of big-endian digests") {
    CHECK(checksum_base64(checksum_algo::crc32, "") == "AAAAAA==");
    CHECK(checksum_base64(checksum_algo::crc32c, std::string(66560, 'a')) == "sOO8/Q==");
    // 0xAE8B14860A799888 big-endian.
    CHECK(checksum_base64(checksum_algo::crc64nvme, "123456789") == "rosUhgp5mIg=");
    CHECK(checksum_base64(checksum_algo::crc32, "123456789") == "y/Q5Jg==");
    CHECK(checksum_base64(checksum_algo::sha1, "") == "2jmj7l5rSw0yVb/vlWAYkK/YBwk=");
    CHECK(checksum_base64(checksum_algo::sha256, "") ==
          "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

TEST_CASE("checksum: incremental updates split anywhere equal one-shot") {
    std::string data;
    for (int i = 0; i < 1000; ++i) {
        data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
    }
    for (auto a : {checksum_algo::crc32, checksum_algo::crc32c, checksum_algo::crc64nvme,
                   checksum_algo::sha1, checksum_algo::sha256}) {
        std::string whole = checksum_base64(a, data);
        for (std::size_t split : {0u, 1u, 7u, 8u, 9u, 63u, 500u, 999u, 1000u}) {
            checksum c(a);
            c.update(std::string_view(data).substr(0, split));
            c.update(std::string_view(data).substr(split));
            CHECK(c.finish_base64() == whole);
        }
        checksum bytewise(a);
        for (char ch : data) {
            bytewise.update(std::string_view(&ch, 1));
        }
        CHECK(bytewise.finish_base64() == whole);
        CHECK(bytewise.algo() == a);
    }
}

TEST_CASE("checksum: raw updates compose") {
    std::string_view s = "The quick brown fox jumps over the lazy dog";
    for (std::size_t i = 0; i <= s.size(); ++i) {
        CHECK(crc32c_update(crc32c_update(0, s.substr(0, i)), s.substr(i)) == crc32c_update(0, s));
        CHECK(crc64nvme_update(crc64nvme_update(0, s.substr(0, i)), s.substr(i)) ==
              crc64nvme_update(0, s));
        CHECK(crc32_update(crc32_update(0, s.substr(0, i)), s.substr(i)) == 0x414FA339u);
    }
}

TEST_CASE("checksum: names and headers") {
    CHECK(checksum_algo_from_name("crc32c") == checksum_algo::crc32c);
    CHECK(checksum_algo_from_name("CRC64NVME") == checksum_algo::crc64nvme);
    CHECK_FALSE(checksum_algo_from_name("MD5").has_value());
    CHECK(checksum_algo_from_header("X-Amz-Checksum-SHA256") == checksum_algo::sha256);
    CHECK_FALSE(checksum_algo_from_header("x-amz-checksum-").has_value());
    CHECK(checksum_header(checksum_algo::crc32) == "x-amz-checksum-crc32");
    CHECK(checksum_name(checksum_algo::sha1) == "SHA1");
}
