// Tests for the S3 error catalogue and the error body renderer.

#include "protocol/errors.hpp"

#include <doctest/doctest.h>
#include <set>
#include <stdexcept>

using namespace ifmatch::protocol;

TEST_CASE("errors: PreconditionFailed body is byte-exact (E1)") {
    const auto err = s3_error(s3_errc::precondition_failed).with("Condition", "If-None-Match");
    CHECK(err.status() == 412);
    CHECK(render_error_xml(err, "REQ123", "HOST456") ==
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Error><Code>PreconditionFailed</Code>"
          "<Message>At least one of the pre-conditions you specified did not hold</Message>"
          "<Condition>If-None-Match</Condition>"
          "<RequestId>REQ123</RequestId><HostId>HOST456</HostId></Error>");
}

TEST_CASE("errors: fields keep their order and every text is escaped") {
    const auto err = s3_error(s3_errc::no_such_key, "a <b> & 'c' \"d\"")
                         .with("Key", "x&y<z>")
                         .with("BucketName", "b");
    CHECK(render_error_xml(err, "r&", "h<") ==
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Error><Code>NoSuchKey</Code>"
          "<Message>a &lt;b&gt; &amp; &apos;c&apos; &quot;d&quot;</Message>"
          "<Key>x&amp;y&lt;z&gt;</Key><BucketName>b</BucketName>"
          "<RequestId>r&amp;</RequestId><HostId>h&lt;</HostId></Error>");
}

TEST_CASE("errors: echoed request bytes never make the body ill-formed XML 1.0") {
    // The bytes of `PUT /%FF%FE`, `GET /ab%00cd/key` and a control character in a header value.
    const auto err = s3_error(s3_errc::invalid_argument, std::string("m\0", 2))
                         .with("BucketName", "\xFF\xFE")
                         .with("Key", std::string("ab\0cd", 5))
                         .with("ArgumentValue", "v\x01\xC3");
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(render_error_xml(err, "R", "H") ==
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<Error><Code>InvalidArgument</Code><Message>m" + fffd + "</Message>"
          "<BucketName>" + fffd + fffd + "</BucketName><Key>ab" + fffd + "cd</Key>"
          "<ArgumentValue>v" + fffd + fffd + "</ArgumentValue>"
          "<RequestId>R</RequestId><HostId>H</HostId></Error>");
}

TEST_CASE("errors: catalogue rows that clients depend on") {
    struct expect {
        s3_errc e;
        std::string_view code;
        int status;
        std::string_view message;
    };
    const expect rows[] = {
        {s3_errc::no_such_key, "NoSuchKey", 404, "The specified key does not exist."},
        {s3_errc::not_implemented, "NotImplemented", 501,
         "A header you provided implies functionality that is not implemented"},
        {s3_errc::conditional_request_conflict, "ConditionalRequestConflict", 409,
         "The conditional request cannot succeed due to a conflicting operation against this "
         "resource."},
        {s3_errc::method_not_allowed, "MethodNotAllowed", 405,
         "The specified method is not allowed against this resource."},
        {s3_errc::invalid_range, "InvalidRange", 416, "The requested range is not satisfiable"},
        {s3_errc::precondition_failed, "PreconditionFailed", 412,
         "At least one of the pre-conditions you specified did not hold"},
    };
    for (const auto &row : rows) {
        CAPTURE(row.code);
        CHECK(info(row.e).code == row.code);
        CHECK(info(row.e).status == row.status);
        CHECK(info(row.e).message == row.message);
    }
}

TEST_CASE("errors: statuses and codes") {
    CHECK(info(s3_errc::precondition_required).status == 428);
    CHECK(info(s3_errc::precondition_required).code == "PreconditionRequired");
    CHECK(info(s3_errc::request_header_section_too_large).status == 400);
    CHECK(info(s3_errc::request_header_section_too_large).code == "RequestHeaderSectionTooLarge");
    CHECK(info(s3_errc::service_unavailable).status == 503);
    CHECK(info(s3_errc::service_unavailable).code == "ServiceUnavailable");
    CHECK(info(s3_errc::slow_down).status == 503);
    CHECK(info(s3_errc::slow_down).code == "SlowDown");
    CHECK(info(s3_errc::bucket_already_owned_by_you).status == 409);
    CHECK(info(s3_errc::missing_content_length).status == 411);
    CHECK(info(s3_errc::request_timeout).status == 400);
    CHECK(info(s3_errc::request_timeout).code == "RequestTimeout");
    CHECK(info(s3_errc::x_amz_content_sha256_mismatch).status == 400);
    CHECK(info(s3_errc::x_amz_content_sha256_mismatch).code == "XAmzContentSHA256Mismatch");
    CHECK(info(s3_errc::key_too_long).code == "KeyTooLongError");
    CHECK(info(s3_errc::no_such_bucket).status == 404);
    CHECK(info(s3_errc::internal_error).status == 500);
    CHECK(info(s3_errc::signature_does_not_match).status == 403);
    CHECK(info(s3_errc::invalid_uri).code == "InvalidURI");
    CHECK(info(s3_errc::invalid_storage_class).code == "InvalidStorageClass");
    CHECK(info(s3_errc::invalid_storage_class).status == 400);
    CHECK(info(s3_errc::invalid_bucket_state).code == "InvalidBucketState");
    CHECK(info(s3_errc::invalid_bucket_state).status == 409);
    CHECK(info(s3_errc::no_such_object_lock_configuration).code == "NoSuchObjectLockConfiguration");
    CHECK(info(s3_errc::no_such_object_lock_configuration).status == 404);
}

TEST_CASE("errors: every enumerator has a distinct code, a status and a message") {
    std::set<std::string_view> codes;
    const auto last = static_cast<int>(s3_errc::no_such_object_lock_configuration);
    for (int i = 0; i <= last; ++i) {
        const auto &row = info(static_cast<s3_errc>(i));
        CAPTURE(i);
        CHECK(codes.insert(row.code).second);
        CHECK(row.status >= 400);
        CHECK(row.status <= 599);
        CHECK_FALSE(row.message.empty());
    }
}

TEST_CASE("errors: s3_error accessors and message override") {
    s3_error plain = s3_errc::bucket_not_empty;
    CHECK(plain.aws_code() == "BucketNotEmpty");
    CHECK(plain.text() == "The bucket you tried to delete is not empty");
    const s3_error custom(s3_errc::invalid_argument, "Part number must be an integer");
    CHECK(custom.text() == "Part number must be an integer");
    CHECK(custom.status() == 400);
}

TEST_CASE("errors: error_code category") {
    const boost::system::error_code ec = s3_errc::no_such_upload;
    CHECK(ec.category() == s3_category());
    CHECK(std::string(ec.category().name()) == "s3");
    CHECK(ec.message() == info(s3_errc::no_such_upload).message);
    CHECK(to_s3_errc(ec) == s3_errc::no_such_upload);
    CHECK(to_s3_errc(boost::system::error_code{}) == s3_errc::internal_error);
    CHECK(ec == make_error_code(s3_errc::no_such_upload));
}

TEST_CASE("errors: value() on an error result throws std::runtime_error") {
    const result<int> r = s3_error(s3_errc::no_such_bucket);
    CHECK_FALSE(r.has_value());
    CHECK(r.error().code == s3_errc::no_such_bucket);
    CHECK_THROWS_AS((void)r.value(), std::runtime_error);
}
