// Tests for the stored and returned forms of Content-Encoding and x-amz-meta-* values.
#include "protocol/meta_encoding.hpp"
#include "protocol/utf8.hpp"

#include <doctest/doctest.h>

using namespace ifmatch::protocol;

TEST_CASE("meta encoding: strip_aws_chunked keeps the other codings as written") {
    CHECK(strip_aws_chunked("deflate, gzip") == "deflate, gzip");
    CHECK(strip_aws_chunked("deflate,gzip") == "deflate,gzip");
    CHECK(strip_aws_chunked("aws-chunked") == "");
    CHECK(strip_aws_chunked("gzip, aws-chunked") == "gzip");
    CHECK(strip_aws_chunked("aws-chunked,gzip") == "gzip");
    CHECK(strip_aws_chunked("aws-chunked, deflate, gzip") == "deflate, gzip");
    CHECK(strip_aws_chunked("deflate, AWS-Chunked, gzip") == "deflate, gzip");
    CHECK(strip_aws_chunked("gzip") == "gzip");
    CHECK(strip_aws_chunked("") == "");
}


TEST_CASE("meta encoding: decode_meta_value") {
    CHECK(decode_meta_value("mymeta") == "mymeta");
    // Raw bytes: UTF-8 when they are UTF-8, else ISO-8859-1; both give the same text.
    CHECK(decode_meta_value("Hello World\xC3\xA9") == "Hello World\xC3\xA9");
    CHECK(decode_meta_value("Hello World\xE9") == "Hello World\xC3\xA9");
    // Encoded-words are decoded, in either encoding and any letter case.
    CHECK(decode_meta_value("=?UTF-8?Q?actually-ascii?=") == "actually-ascii");
    CHECK(decode_meta_value("=?UTF-8?B?YWJj?=") == "abc");
    CHECK(decode_meta_value("=?utf-8?q?Hello_World=C3=A9?=") == "Hello World\xC3\xA9");
    CHECK(decode_meta_value("=?ISO-8859-1?Q?caf=e9?=") == "caf\xC3\xA9");
    CHECK(decode_meta_value("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") == "ab"); // RFC 2047 §6.2
    CHECK(decode_meta_value("x =?UTF-8?Q?a?= y") == "x a y");
    // What does not decode stays as written.
    CHECK(decode_meta_value("=?UTF-8?B?=GGG?=") == "=?UTF-8?B?=GGG?=");
    CHECK(decode_meta_value("=?KOI8-R?Q?abc?=") == "=?KOI8-R?Q?abc?=");
    CHECK(decode_meta_value("=?UTF-8?Q?=e9?=") == "=?UTF-8?Q?=e9?=");
    CHECK(decode_meta_value("a=?b") == "a=?b");
    CHECK(is_utf8(decode_meta_value("\xFF\xFE=?x")));
}

TEST_CASE("meta encoding: encode_meta_value") {
    CHECK(encode_meta_value("mymeta") == "mymeta");
    CHECK(encode_meta_value("a b\tc!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") ==
          "a b\tc!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
    CHECK(encode_meta_value("Hello World\xC3\xA9") == "=?UTF-8?Q?Hello_World=C3=A9?=");
    CHECK(encode_meta_value("\xC3\x84M\xC3\x84Z\xC3\x95\xC3\x91 S3") ==
          "=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?=");
    CHECK(encode_meta_value("t_\xE2\x80\x94?.pdf") == "=?UTF-8?Q?t=5F=E2=80=94=3F.pdf?=");
    CHECK(encode_meta_value(std::string("\x00\x01\x02\x03", 4)) == "=?UTF-8?B?AAECAw==?=");
    CHECK(encode_meta_value("\x04mymeta") == "=?UTF-8?B?BG15bWV0YQ==?=");
    CHECK(encode_meta_value("\xEF\xBF\xBD") == "=?UTF-8?B?77+9?=");
    // A stored value round-trips through its returned form.
    for (std::string v : {"Hello World\xC3\xA9", "x_y z=?", "\xF0\x9F\x91\x91 crown"}) {
        CAPTURE(v);
        CHECK(decode_meta_value(encode_meta_value(v)) == v);
    }
}
