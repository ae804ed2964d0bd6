// Unit tests for crypto.hpp: digest, HMAC and base64 known-answer vectors.
#include "protocol/crypto.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ifmatch::protocol;

TEST_CASE("crypto: md5 known answers") {
    CHECK(to_hex(md5_raw("")) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(to_hex(md5_raw("abc")) == "900150983cd24fb0d6963f7d28e17f72");
}

TEST_CASE("crypto: sha256 known answers") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("crypto: incremental digest equals one-shot and resets after finish") {
    digest d(digest_kind::sha256);
    d.update("a");
    d.update("");
    d.update("bc");
    CHECK(to_hex(d.finish()) == sha256_hex("abc"));
    CHECK(to_hex(d.finish()) == sha256_hex(""));

    digest s(digest_kind::sha1);
    s.update("abc");
    CHECK(to_hex(s.finish()) == "a9993e364706816aba3e25717850c26c9cd0d89d");

    digest m(digest_kind::md5);
    digest moved(std::move(m));
    moved.update("abc");
    CHECK(to_hex(moved.finish()) == "900150983cd24fb0d6963f7d28e17f72");
}

TEST_CASE("crypto: hmac RFC 4231 test case 2 and RFC 2202 sha1") {
    CHECK(to_hex(hmac_sha256_raw("Jefe", "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(to_hex(hmac_sha1_raw("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    // An empty key is legal and must not crash.
    CHECK(hmac_sha256_raw("", "x").size() == 32);
}

TEST_CASE("crypto: base64 round trips with all padding lengths") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto d = base64_decode(base64_encode(s));
        REQUIRE(d.has_value());
        CHECK(*d == s);
    }
    std::string binary;
    for (int i = 0; i < 256; ++i) {
        binary.push_back(static_cast<char>(i));
    }
    auto d = base64_decode(base64_encode(binary));
    REQUIRE(d.has_value());
    CHECK(*d == binary);
}

TEST_CASE("crypto: base64 rejects malformed input") {
    CHECK_FALSE(base64_decode("Zg").has_value());     // missing padding
    CHECK_FALSE(base64_decode("Zg=").has_value());    // wrong length
    CHECK_FALSE(base64_decode("Z===").has_value());   // too much padding
    CHECK_FALSE(base64_decode("Zg=a").has_value());   // padding in the middle
    CHECK_FALSE(base64_decode("Zm9v\n").has_value()); // whitespace
    CHECK_FALSE(base64_decode("Zm 9").has_value());
    CHECK_FALSE(base64_decode("Zm-_").has_value()); // URL alphabet
    CHECK_FALSE(base64_decode("====").has_value());
    auto empty = base64_decode("");
    REQUIRE(empty.has_value());
    CHECK(empty->empty());
}

TEST_CASE("crypto: constant_time_equal") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
}
