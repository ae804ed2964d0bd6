// Tests for the XML writer and the request-body parsers (spec wire.md §5.7).

#include "protocol/xml.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace ifmatch::protocol;

namespace {

constexpr std::string_view ns = R"( xmlns="http://s3.amazonaws.com/doc/2006-03-01/")";

bool is_malformed(const s3_error &e) { return e.code == s3_errc::malformed_xml; }

std::string delete_body(int objects) {
    std::string body = "<Delete>";
    for (int i = 0; i < objects; ++i) {
        body += "<Object><Key>k" + std::to_string(i) + "</Key></Object>";
    }
    return body + "</Delete>";
}

} // namespace

TEST_CASE("xml: escape the five XML specials and CR") {
    CHECK(xml_escape("a&b<c>d\"e'f") == "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    CHECK(xml_escape("line\r\nnext\ttab") == "line&#13;\nnext\ttab");
    CHECK(xml_escape("") == "");
    CHECK(xml_escape("caf\xC3\xA9") == "caf\xC3\xA9");
}

TEST_CASE("xml: xml_text makes any bytes XML 1.0 character data") {
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(xml_text("a&b<c>\r\n\t") == "a&amp;b&lt;c&gt;&#13;\n\t");
    CHECK(xml_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80") ==
          "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    CHECK(xml_text("") == "");
    // Bytes that start no well-formed sequence: one U+FFFD each.
    CHECK(xml_text("\xFF\xFE") == fffd + fffd);
    CHECK(xml_text("a\xC3") == "a" + fffd);                // truncated
    CHECK(xml_text("\xC0\xAF") == fffd + fffd);            // overlong '/'
    CHECK(xml_text("\xED\xA0\x80") == fffd + fffd + fffd); // surrogate U+D800
    CHECK(xml_text("<\x80>") == "&lt;" + fffd + "&gt;");
    // Characters XML 1.0 excludes.
    CHECK(xml_text(std::string("ab\0cd", 5)) == "ab" + fffd + "cd");
    CHECK(xml_text("\x01\x08\x0B\x0C\x1F") == fffd + fffd + fffd + fffd + fffd);
    CHECK(xml_text("\xEF\xBF\xBE\xEF\xBF\xBF") == fffd + fffd);                // U+FFFE, U+FFFF
    CHECK(xml_text("\xEF\xBF\xBD\x7F\xC2\x85") == "\xEF\xBF\xBD\x7F\xC2\x85"); // allowed
}

TEST_CASE("xml: is_xml_chars accepts what XML 1.0 allows, nothing else") {
    CHECK(is_xml_chars(""));
    CHECK(is_xml_chars("<K>caf\xC3\xA9 \xF0\x9F\x98\x80\t\r\n</K>"));
    CHECK(is_xml_chars("<K>a&#13;&#xD;&#10;&#x9;&#x10FFFF;&#65533;&amp;</K>"));
    CHECK(is_xml_chars("<K>&#;&#x;&#12</K>")); // not references: pugixml's business
    for (const std::string_view bad :
         {std::string_view("<K>a\0b</K>", 9), std::string_view("<K>\x01</K>"),
          std::string_view("<K>\x1F</K>"), std::string_view("<K>\xFF\xFE</K>"),
          std::string_view("<K>\xC3</K>"), std::string_view("<K>\xEF\xBF\xBE</K>"),
          std::string_view("<K>&#0;</K>"), std::string_view("<K>&#1;</K>"),
          std::string_view("<K>&#x0;</K>"), std::string_view("<K>&#x1F;</K>"),
          std::string_view("<K>&#xD800;</K>"), std::string_view("<K>&#xFFFE;</K>"),
          std::string_view("<K>&#x110000;</K>"), std::string_view("<K>&#99999999999999;</K>")}) {
        CAPTURE(bad);
        CHECK_FALSE(is_xml_chars(bad));
    }
}

TEST_CASE("xml: is_xml_text judges decoded text") {
    CHECK(is_xml_text("a&#1;b caf\xC3\xA9\t\r\n"));
    CHECK_FALSE(is_xml_text("a\x01"));
    CHECK_FALSE(is_xml_text(std::string_view("a\0", 2)));
    CHECK_FALSE(is_xml_text("\xFF"));
    CHECK_FALSE(is_xml_text("\xEF\xBF\xBF"));
}

TEST_CASE("xml: request documents with characters XML 1.0 excludes are MalformedXML") {
    for (const std::string &key :
         {std::string("\xFF\xFE"), std::string("a&#1;b"), std::string("a&#0;b"),
          std::string("a\x01"
                      "b")}) {
        CAPTURE(key);
        CHECK(is_malformed(
            parse_delete_objects("<Delete><Object><Key>" + key + "</Key></Object></Delete>")
                .error()));
        CHECK(is_malformed(parse_complete_multipart(
                               "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" +
                               key + "</ETag></Part></CompleteMultipartUpload>")
                               .error()));
        CHECK(is_malformed(parse_versioning("<VersioningConfiguration><Status>" + key +
                                            "</Status></VersioningConfiguration>")
                               .error()));
    }
    // A carriage return in a key arrives as &#13; (S3's XML-related object key constraints).
    auto cr = parse_delete_objects("<Delete><Object><Key>a&#13;b</Key></Object></Delete>");
    REQUIRE(cr.has_value());
    CHECK(cr->objects.at(0).key == "a\rb");
}

TEST_CASE("xml: writer output") {
    xml_writer w;
    w.open("ListBucketResult", true)
        .element("Name", "b&<>\"'")
        .element("MaxKeys", std::int64_t{1000})
        .empty_element("Prefix")
        .open("Contents")
        .element("ETag", "\"abc\"")
        .close();
    CHECK(w.str() == std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult") +
                         std::string(ns) +
                         "><Name>b&amp;&lt;&gt;&quot;&apos;</Name><MaxKeys>1000</MaxKeys>"
                         "<Prefix/><Contents><ETag>&quot;abc&quot;</ETag></Contents>"
                         "</ListBucketResult>");
}

TEST_CASE("xml: writer without namespace, negative numbers, str() closes everything") {
    xml_writer w;
    w.open("A").open("B").element("N", std::int64_t{-5});
    CHECK(w.str() == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A><B><N>-5</N></B></A>");
    CHECK(w.close().str() == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<A><B><N>-5</N></B></A>");
}

TEST_CASE("xml: parse_create_bucket") {
    SUBCASE("empty body") {
        auto r = parse_create_bucket("");
        REQUIRE(r.has_value());
        CHECK(r->location_constraint.empty());
        CHECK(parse_create_bucket(" \r\n").has_value());
    }
    SUBCASE("with and without namespace, or with a prefix") {
        for (const std::string &body :
             {std::string("<CreateBucketConfiguration><LocationConstraint>eu-west-1"
                          "</LocationConstraint></CreateBucketConfiguration>"),
              "<CreateBucketConfiguration" + std::string(ns) +
                  "><LocationConstraint>eu-west-1</LocationConstraint>"
                  "</CreateBucketConfiguration>",
              std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<s3:CreateBucketConfiguration xmlns:s3=\"http://s3.amazonaws.com/doc/"
                          "2006-03-01/\"><s3:LocationConstraint>eu-west-1</s3:LocationConstraint>"
                          "</s3:CreateBucketConfiguration>")}) {
            CAPTURE(body);
            auto r = parse_create_bucket(body);
            REQUIRE(r.has_value());
            CHECK(r->location_constraint == "eu-west-1");
        }
    }
    SUBCASE("no LocationConstraint") {
        auto r = parse_create_bucket("<CreateBucketConfiguration/>");
        REQUIRE(r.has_value());
        CHECK(r->location_constraint.empty());
    }
    SUBCASE("malformed") {
        for (const std::string_view body : {"<CreateBucketConfiguration>", "not xml", "<Other/>",
                                            "<CreateBucketConfiguration></Wrong>"}) {
            CAPTURE(body);
            auto r = parse_create_bucket(body);
            REQUIRE_FALSE(r.has_value());
            CHECK(is_malformed(r.error()));
        }
    }
}

TEST_CASE("xml: parse_delete_objects") {
    SUBCASE("quiet, keys, versions and etags, namespaced") {
        const std::string body = "<Delete" + std::string(ns) +
                                 "><Quiet>true</Quiet>"
                                 "<Object><Key>a &amp; b</Key></Object>"
                                 "<Object><Key>c</Key><VersionId>v1</VersionId>"
                                 "<ETag>&quot;e1&quot;</ETag></Object>"
                                 "<Object><Key> sp </Key><ETag>*</ETag><Size>3</Size></Object>"
                                 "</Delete>";
        auto r = parse_delete_objects(body);
        REQUIRE(r.has_value());
        CHECK(r->quiet);
        REQUIRE(r->objects.size() == 3);
        CHECK(r->objects[0].key == "a & b");
        CHECK_FALSE(r->objects[0].version_id);
        CHECK_FALSE(r->objects[0].etag);
        CHECK_FALSE(r->objects[0].has_size_or_time);
        CHECK(r->objects[1].version_id == "v1");
        CHECK(r->objects[1].etag == "e1");
        CHECK(r->objects[2].key == " sp ");
        CHECK(r->objects[2].etag == "*");
        CHECK(r->objects[2].has_size_or_time);
    }
    SUBCASE("default is verbose; LastModifiedTime counts; CR survives as &#13;") {
        auto r = parse_delete_objects("<Delete><Object><Key>a&#13;b</Key>"
                                      "<LastModifiedTime>x</LastModifiedTime></Object></Delete>");
        REQUIRE(r.has_value());
        CHECK_FALSE(r->quiet);
        CHECK(r->objects[0].key == "a\rb");
        CHECK(r->objects[0].has_size_or_time);
    }
    SUBCASE("BOM, declaration, comments and CDATA are fine") {
        auto r =
            parse_delete_objects("\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- c --><Delete>"
                                 "<Object><Key><![CDATA[a<b]]></Key></Object></Delete><!--x-->");
        REQUIRE(r.has_value());
        CHECK(r->objects[0].key == "a<b");
    }
    SUBCASE("1000 objects is the limit") {
        auto r = parse_delete_objects(delete_body(1000));
        REQUIRE(r.has_value());
        CHECK(r->objects.size() == 1000);
    }
    SUBCASE("malformed") {
        for (const std::string &body :
             {delete_body(1001), delete_body(0),
              std::string("<Delete><Quiet>yes</Quiet>"
                          "<Object><Key>a</Key></Object>"
                          "</Delete>"),
              std::string("<Delete><Object><VersionId>v</VersionId></Object></Delete>"),
              std::string("<Delete><Object><Key>a</Key></Object>"), std::string(""),
              delete_body(1) + delete_body(1), delete_body(1) + "junk", "junk" + delete_body(1),
              std::string("<!DOCTYPE d [<!ENTITY x \"y\">]><Delete><Object><Key>&x;</Key>"
                          "</Object></Delete>")}) {
            CAPTURE(body.substr(0, 80));
            auto r = parse_delete_objects(body);
            REQUIRE_FALSE(r.has_value());
            CHECK(is_malformed(r.error()));
        }
    }
}

TEST_CASE("xml: parse_complete_multipart") {
    SUBCASE("parts with quoted ETags and checksums") {
        const std::string body = "<CompleteMultipartUpload" + std::string(ns) +
                                 "><Part><PartNumber>1</PartNumber>"
                                 "<ETag>\"aaa\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32>"
                                 "</Part><Part><ETag>&quot;bbb&quot;</ETag>"
                                 "<PartNumber> 2 </PartNumber>"
                                 "<ChecksumSHA256>xyz=</ChecksumSHA256>"
                                 "<ChecksumCRC64NVME>q</ChecksumCRC64NVME></Part>"
                                 "</CompleteMultipartUpload>";
        auto r = parse_complete_multipart(body);
        REQUIRE(r.has_value());
        REQUIRE(r->parts.size() == 2);
        CHECK(r->parts[0].number == 1);
        CHECK(r->parts[0].etag == "aaa");
        REQUIRE(r->parts[0].checksums.size() == 1);
        CHECK(r->parts[0].checksums[0].first == "CRC32");
        CHECK(r->parts[0].checksums[0].second == "AAAAAA==");
        CHECK(r->parts[1].number == 2);
        CHECK(r->parts[1].etag == "bbb");
        REQUIRE(r->parts[1].checksums.size() == 2);
        CHECK(r->parts[1].checksums[0].first == "SHA256");
        CHECK(r->parts[1].checksums[1].first == "CRC64NVME");
    }
    SUBCASE("unquoted ETag and prefixed names") {
        auto r = parse_complete_multipart(
            "<x:CompleteMultipartUpload xmlns:x=\"urn:x\"><x:Part><x:PartNumber>7</x:PartNumber>"
            "<x:ETag>ccc</x:ETag></x:Part></x:CompleteMultipartUpload>");
        REQUIRE(r.has_value());
        CHECK(r->parts[0].number == 7);
        CHECK(r->parts[0].etag == "ccc");
        CHECK(r->parts[0].checksums.empty());
    }
    SUBCASE("malformed") {
        for (const std::string_view body :
             {"<CompleteMultipartUpload/>",
              "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part>"
              "</CompleteMultipartUpload>",
              "<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber><ETag>a</ETag>"
              "</Part></CompleteMultipartUpload>",
              "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
              "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
              "</CompleteMultipartUpload>",
              "<Complete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Complete>",
              "<CompleteMultipartUpload><Part>"}) {
            CAPTURE(body);
            auto r = parse_complete_multipart(body);
            REQUIRE_FALSE(r.has_value());
            CHECK(is_malformed(r.error()));
        }
    }
}

TEST_CASE("xml: parse_versioning") {
    auto enabled = parse_versioning("<VersioningConfiguration" + std::string(ns) +
                                    "><Status>Enabled</Status></VersioningConfiguration>");
    REQUIRE(enabled.has_value());
    CHECK(enabled->status == "Enabled");
    CHECK(enabled->mfa_delete.empty());
    auto suspended = parse_versioning("<VersioningConfiguration><Status>Suspended</Status>"
                                      "<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>");
    REQUIRE(suspended.has_value());
    CHECK(suspended->status == "Suspended");
    CHECK(suspended->mfa_delete == "Disabled");
    auto empty = parse_versioning("<VersioningConfiguration/>");
    REQUIRE(empty.has_value());
    CHECK(empty->status.empty());
    for (const std::string_view body :
         {"", "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
          "<Versioning><Status>Enabled</Status></Versioning>", "<VersioningConfiguration>"}) {
        CAPTURE(body);
        auto r = parse_versioning(body);
        REQUIRE_FALSE(r.has_value());
        CHECK(is_malformed(r.error()));
    }
}
