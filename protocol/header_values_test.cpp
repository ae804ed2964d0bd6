// Tests for the enumerated request header values (header_values.hpp).

#include "protocol/header_values.hpp"

#include <doctest/doctest.h>
#include <map>
#include <string>

using namespace ifmatch::protocol;

namespace {

header_lookup headers(std::map<std::string, std::string> m) {
    return [m = std::move(m)](std::string_view name) -> std::optional<std::string_view> {
        auto it = m.find(std::string(name));
        if (it == m.end()) {
            return std::nullopt;
        }
        return std::string_view(it->second);
    };
}

std::string field(const s3_error &e, std::string_view name) {
    for (const auto &[k, v] : e.fields) {
        if (k == name) {
            return v;
        }
    }
    return "<absent>";
}

} // namespace

TEST_CASE("header values: x-amz-storage-class") {
    for (const char *ok : {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA",
                           "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"}) {
        CAPTURE(ok);
        for (op o : {op::put_object, op::copy_object, op::create_multipart_upload}) {
            CHECK(check_header_values(o, headers({{"x-amz-storage-class", ok}})).has_value());
        }
    }
    for (const char *bad : {"FLOPPY", "standard", "", " STANDARD", "OUTPOSTS", "EXPRESS_ONEZONE"}) {
        CAPTURE(bad);
        for (op o : {op::put_object, op::copy_object, op::create_multipart_upload}) {
            auto r = check_header_values(o, headers({{"x-amz-storage-class", bad}}));
            REQUIRE(r.has_error());
            CHECK(r.error().code == s3_errc::invalid_storage_class);
            CHECK(r.error().status() == 400);
            CHECK(r.error().aws_code() == "InvalidStorageClass");
            CHECK(r.error().text() == "The storage class you specified is not valid");
            CHECK(field(r.error(), "StorageClassRequested") == bad);
        }
    }
    // Operations that do not read the header ignore it, as S3 does.
    for (op o : {op::get_object, op::head_object, op::upload_part, op::delete_object,
                 op::create_bucket, op::list_objects_v2}) {
        CHECK(check_header_values(o, headers({{"x-amz-storage-class", "FLOPPY"}})).has_value());
    }
}

TEST_CASE("header values: object lock mode and legal hold") {
    for (const char *ok : {"GOVERNANCE", "COMPLIANCE"}) {
        CHECK(check_header_values(op::put_object, headers({{"x-amz-object-lock-mode", ok}}))
                  .has_value());
    }
    auto mode =
        check_header_values(op::copy_object, headers({{"x-amz-object-lock-mode", "governance"}}));
    REQUIRE(mode.has_error());
    CHECK(mode.error().code == s3_errc::invalid_argument);
    CHECK(mode.error().text() == "Unknown wormMode directive.");
    CHECK(field(mode.error(), "ArgumentName") == "x-amz-object-lock-mode");
    CHECK(field(mode.error(), "ArgumentValue") == "governance");

    for (const char *ok : {"ON", "OFF"}) {
        CHECK(check_header_values(op::create_multipart_upload,
                                  headers({{"x-amz-object-lock-legal-hold", ok}}))
                  .has_value());
    }
    auto hold =
        check_header_values(op::put_object, headers({{"x-amz-object-lock-legal-hold", "MAYBE"}}));
    REQUIRE(hold.has_error());
    CHECK(hold.error().code == s3_errc::invalid_argument);
    CHECK(hold.error().text() == "Legal Hold must be either of 'ON' or 'OFF'");
    CHECK(field(hold.error(), "ArgumentName") == "x-amz-object-lock-legal-hold");
    CHECK(field(hold.error(), "ArgumentValue") == "MAYBE");
    CHECK(check_header_values(op::get_object, headers({{"x-amz-object-lock-mode", "x"}}))
              .has_value());
}

TEST_CASE("header values: x-amz-checksum-type on multipart create and complete") {
    for (op o : {op::create_multipart_upload, op::complete_multipart_upload}) {
        CHECK(check_header_values(o, headers({{"x-amz-checksum-type", "COMPOSITE"}})).has_value());
        CHECK(
            check_header_values(o, headers({{"x-amz-checksum-type", "FULL_OBJECT"}})).has_value());
        auto r = check_header_values(o, headers({{"x-amz-checksum-type", "PARTIAL"}}));
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_request);
        CHECK(r.error().text() == "Value for x-amz-checksum-type header is invalid.");
    }
}

TEST_CASE("header values: no enumerated header, no error") {
    CHECK(check_header_values(op::put_object, headers({})).has_value());
    CHECK(
        check_header_values(op::put_object, headers({{"x-amz-meta-mode", "FLOPPY"}})).has_value());
}

TEST_CASE("header values: x-amz-object-attributes") {
    auto all = parse_object_attributes("ETag,Checksum,ObjectParts,StorageClass,ObjectSize");
    REQUIRE(all.has_value());
    CHECK(all->etag);
    CHECK(all->checksum);
    CHECK(all->object_parts);
    CHECK(all->storage_class);
    CHECK(all->object_size);
    // The JS SDK joins list headers with ", "; empty items are ignored.
    auto some = parse_object_attributes("ObjectSize, ETag,,");
    REQUIRE(some.has_value());
    CHECK(some->etag);
    CHECK(some->object_size);
    CHECK_FALSE(some->checksum);
    CHECK_FALSE(some->storage_class);

    for (const char *bad : {"Frob,,", "ETag,Frob", "etag", "ETags", "ETag;ObjectSize"}) {
        CAPTURE(bad);
        auto r = parse_object_attributes(bad);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_argument);
        CHECK(r.error().text() == "Invalid attribute name specified.");
        CHECK(field(r.error(), "ArgumentName") == "x-amz-object-attributes");
    }
    CHECK(field(parse_object_attributes("Frob,,").error(), "ArgumentValue") == "Frob");
    CHECK(field(parse_object_attributes("ETag, Frob").error(), "ArgumentValue") == "Frob");

    for (std::optional<std::string_view> none :
         {std::optional<std::string_view>(), std::optional<std::string_view>(""),
          std::optional<std::string_view>(",,"), std::optional<std::string_view>(" , ")}) {
        auto r = parse_object_attributes(none);
        REQUIRE(r.has_error());
        CHECK(r.error().code == s3_errc::invalid_request);
    }
}
