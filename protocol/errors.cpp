// The S3 error catalogue (spec wire.md §7, conditional-requests.md §1) and the error body renderer.
// Codes, statuses and messages are AWS's wire strings; where AWS documents one text and sends
// another (PreconditionFailed), the wire string wins.

#include "protocol/errors.hpp"

#include "protocol/xml.hpp"

#include <array>
#include <stdexcept>

namespace ifmatch::protocol {
namespace {

struct row {
    s3_errc e;
    error_info info;
};

// THE table. One row per enumerator, in enumerator order (checked at compile time below).
constexpr std::array catalogue{
    row{s3_errc::access_denied, {"AccessDenied", 403, "Access Denied"}},
    row{s3_errc::authorization_header_malformed,
        {"AuthorizationHeaderMalformed", 400,
         "The authorization header that you provided is not valid."}},
    row{s3_errc::authorization_query_parameters_error,
        {"AuthorizationQueryParametersError", 400,
         "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
         "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}},
    row{s3_errc::bad_digest,
        {"BadDigest", 400, "The Content-MD5 you specified did not match what we received."}},
    row{s3_errc::bucket_already_exists,
        {"BucketAlreadyExists", 409,
         "The requested bucket name is not available. The bucket namespace is shared by all "
         "users of the system. Please select a different name and try again."}},
    row{s3_errc::bucket_already_owned_by_you,
        {"BucketAlreadyOwnedByYou", 409,
         "Your previous request to create the named bucket succeeded and you already own it."}},
    row{s3_errc::bucket_not_empty,
        {"BucketNotEmpty", 409, "The bucket you tried to delete is not empty"}},
    row{s3_errc::conditional_request_conflict,
        {"ConditionalRequestConflict", 409,
         "The conditional request cannot succeed due to a conflicting operation against this "
         "resource."}},
    row{s3_errc::entity_too_large,
        {"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"}},
    row{s3_errc::entity_too_small,
        {"EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size"}},
    row{s3_errc::incomplete_body,
        {"IncompleteBody", 400,
         "You did not provide the number of bytes specified by the Content-Length HTTP header"}},
    row{s3_errc::internal_error,
        {"InternalError", 500, "We encountered an internal error. Please try again."}},
    row{s3_errc::invalid_access_key_id,
        {"InvalidAccessKeyId", 403,
         "The AWS Access Key Id you provided does not exist in our records."}},
    row{s3_errc::invalid_argument, {"InvalidArgument", 400, "Invalid Argument"}},
    row{s3_errc::invalid_bucket_name,
        {"InvalidBucketName", 400, "The specified bucket is not valid."}},
    row{s3_errc::invalid_digest,
        {"InvalidDigest", 400, "The Content-MD5 you specified is not valid."}},
    row{s3_errc::invalid_part,
        {"InvalidPart", 400,
         "One or more of the specified parts could not be found.  The part may not have been "
         "uploaded, or the specified entity tag may not match the part's entity tag."}},
    row{s3_errc::invalid_part_number,
        {"InvalidPartNumber", 416, "The requested partnumber is not satisfiable"}},
    row{s3_errc::invalid_part_order,
        {"InvalidPartOrder", 400,
         "The list of parts was not in ascending order. Parts must be ordered by part number."}},
    row{s3_errc::invalid_range, {"InvalidRange", 416, "The requested range is not satisfiable"}},
    row{s3_errc::invalid_request, {"InvalidRequest", 400, "Invalid Request"}},
    row{s3_errc::key_too_long, {"KeyTooLongError", 400, "Your key is too long"}},
    row{s3_errc::malformed_policy,
        {"MalformedPolicy", 400, "Policies must be valid JSON and the first byte must be '{'"}},
    row{s3_errc::malformed_xml,
        {"MalformedXML", 400,
         "The XML you provided was not well-formed or did not validate against our published "
         "schema"}},
    row{s3_errc::metadata_too_large,
        {"MetadataTooLarge", 400,
         "Your metadata headers exceed the maximum allowed metadata size."}},
    row{s3_errc::method_not_allowed,
        {"MethodNotAllowed", 405, "The specified method is not allowed against this resource."}},
    row{s3_errc::missing_content_length,
        {"MissingContentLength", 411, "You must provide the Content-Length HTTP header."}},
    row{s3_errc::no_such_bucket, {"NoSuchBucket", 404, "The specified bucket does not exist"}},
    row{s3_errc::no_such_bucket_policy,
        {"NoSuchBucketPolicy", 404, "The bucket policy does not exist"}},
    row{s3_errc::no_such_key, {"NoSuchKey", 404, "The specified key does not exist."}},
    row{s3_errc::no_such_upload,
        {"NoSuchUpload", 404,
         "The specified upload does not exist. The upload ID may be invalid, or the upload may "
         "have been aborted or completed."}},
    row{s3_errc::no_such_version, {"NoSuchVersion", 404, "The specified version does not exist."}},
    row{s3_errc::not_implemented,
        {"NotImplemented", 501,
         "A header you provided implies functionality that is not implemented"}},
    row{s3_errc::precondition_failed,
        {"PreconditionFailed", 412,
         "At least one of the pre-conditions you specified did not hold"}},
    row{s3_errc::precondition_required,
        {"PreconditionRequired", 428,
         "This request requires a conditional header (If-Match or If-None-Match)."}},
    row{s3_errc::request_header_section_too_large,
        {"RequestHeaderSectionTooLarge", 400,
         "Your request header section exceeds the maximum allowed size."}},
    row{s3_errc::request_time_too_skewed,
        {"RequestTimeTooSkewed", 403,
         "The difference between the request time and the current time is too large."}},
    row{s3_errc::request_timeout,
        {"RequestTimeout", 400,
         "Your socket connection to the server was not read from or written to within the "
         "timeout period. Idle connections will be closed."}},
    row{s3_errc::service_unavailable,
        {"ServiceUnavailable", 503, "Service is unable to handle request."}},
    row{s3_errc::signature_does_not_match,
        {"SignatureDoesNotMatch", 403,
         "The request signature we calculated does not match the signature you provided. Check "
         "your key and signing method."}},
    row{s3_errc::slow_down, {"SlowDown", 503, "Please reduce your request rate."}},
    row{s3_errc::x_amz_content_sha256_mismatch,
        {"XAmzContentSHA256Mismatch", 400,
         "The provided 'x-amz-content-sha256' header does not match what was computed."}},
    row{s3_errc::illegal_versioning_configuration,
        {"IllegalVersioningConfigurationException", 400,
         "The versioning configuration specified in the request is invalid."}},
    row{s3_errc::invalid_encryption_algorithm,
        {"InvalidEncryptionAlgorithmError", 400,
         "The encryption request you specified is not valid. The valid value is AES256."}},
    row{s3_errc::no_such_tag_set, {"NoSuchTagSet", 404, "The TagSet does not exist"}},
    row{s3_errc::invalid_tag, {"InvalidTag", 400, "The tag provided was not a valid tag."}},
    row{s3_errc::malformed_acl,
        {"MalformedACLError", 400,
         "The XML you provided was not well-formed or did not validate against our published "
         "schema"}},
    row{s3_errc::no_such_cors_configuration,
        {"NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"}},
    row{s3_errc::sse_configuration_not_found,
        {"ServerSideEncryptionConfigurationNotFoundError", 404,
         "The server side encryption configuration was not found"}},
    row{s3_errc::ownership_controls_not_found,
        {"OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found"}},
    row{s3_errc::cors_forbidden,
        {"AccessForbidden", 403,
         "CORSResponse: This CORS request is not allowed. This is usually because the evalution "
         "of Origin, request method / Access-Control-Request-Method or "
         "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."}},
    row{s3_errc::invalid_policy_document,
        {"InvalidPolicyDocument", 400,
         "Invalid Policy: The policy document does not satisfy the conditions."}},
    row{s3_errc::malformed_post_request,
        {"MalformedPOSTRequest", 400,
         "The body of your POST request is not well-formed multipart/form-data."}},
    row{s3_errc::incorrect_number_of_files,
        {"IncorrectNumberOfFilesInPostRequest", 400,
         "POST requires exactly one file upload per request."}},
    row{s3_errc::acl_not_supported,
        {"AccessControlListNotSupported", 400, "The bucket does not allow ACLs"}},
    row{s3_errc::no_such_lifecycle_configuration,
        {"NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist"}},
    row{s3_errc::replication_configuration_not_found,
        {"ReplicationConfigurationNotFoundError", 404,
         "The replication configuration was not found"}},
    row{s3_errc::object_lock_configuration_not_found,
        {"ObjectLockConfigurationNotFoundError", 404,
         "Object Lock configuration does not exist for this bucket"}},
    row{s3_errc::no_such_website_configuration,
        {"NoSuchWebsiteConfiguration", 404,
         "The specified bucket does not have a website configuration"}},
    row{s3_errc::no_such_public_access_block_configuration,
        {"NoSuchPublicAccessBlockConfiguration", 404,
         "The public access block configuration was not found"}},
    row{s3_errc::no_such_configuration,
        {"NoSuchConfiguration", 404, "The specified configuration does not exist."}},
    row{s3_errc::invalid_target_bucket_for_logging,
        {"InvalidTargetBucketForLogging", 400, "The target bucket for logging does not exist"}},
    row{s3_errc::cross_location_logging_prohibited,
        {"CrossLocationLoggingProhibitted", 403, "Cross S3 location logging not allowed."}},
    row{s3_errc::invalid_uri, {"InvalidURI", 400, "Couldn't parse the specified URI."}},
    row{s3_errc::invalid_storage_class,
        {"InvalidStorageClass", 400, "The storage class you specified is not valid"}},
    row{s3_errc::invalid_bucket_state,
        {"InvalidBucketState", 409,
         "The request is not valid with the current state of the bucket."}},
    row{s3_errc::no_such_object_lock_configuration,
        {"NoSuchObjectLockConfiguration", 404,
         "The specified object does not have a ObjectLock configuration"}},
};

constexpr bool catalogue_is_in_enum_order() {
    for (std::size_t i = 0; i < catalogue.size(); ++i) {
        if (static_cast<std::size_t>(catalogue[i].e) != i) {
            return false;
        }
    }
    return true;
}
static_assert(catalogue_is_in_enum_order(), "catalogue rows must follow the s3_errc order");
static_assert(catalogue.size() ==
                  static_cast<std::size_t>(s3_errc::no_such_object_lock_configuration) + 1,
              "every s3_errc needs a catalogue row");

class s3_error_category final : public boost::system::error_category {
  public:
    const char *name() const noexcept override { return "s3"; }
    std::string message(int ev) const override {
        if (ev < 0 || static_cast<std::size_t>(ev) >= catalogue.size()) {
            return "unknown s3 error";
        }
        return std::string(catalogue[static_cast<std::size_t>(ev)].info.message);
    }
};

void append_element(std::string &out, std::string_view name, std::string_view text) {
    out += '<';
    out += name;
    out += '>';
    out += xml_text(text);
    out += "</";
    out += name;
    out += '>';
}

} // namespace

const error_info &info(s3_errc e) {
    const auto i = static_cast<std::size_t>(e);
    if (i >= catalogue.size()) {
        return catalogue[static_cast<std::size_t>(s3_errc::internal_error)].info;
    }
    return catalogue[i].info;
}

const boost::system::error_category &s3_category() noexcept {
    static const s3_error_category category;
    return category;
}

boost::system::error_code make_error_code(s3_errc e) noexcept {
    return {static_cast<int>(e), s3_category()};
}

s3_errc to_s3_errc(const boost::system::error_code &ec) noexcept {
    if (ec.category() != s3_category() || ec.value() < 0 ||
        static_cast<std::size_t>(ec.value()) >= catalogue.size()) {
        return s3_errc::internal_error;
    }
    return static_cast<s3_errc>(ec.value());
}

std::string render_error_xml(const s3_error &err, std::string_view request_id,
                             std::string_view host_id) {
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>";
    append_element(out, "Code", err.aws_code());
    append_element(out, "Message", err.text());
    for (const auto &[name, value] : err.fields) {
        append_element(out, name, value);
    }
    append_element(out, "RequestId", request_id);
    append_element(out, "HostId", host_id);
    out += "</Error>";
    return out;
}

void throw_exception_from_error(const s3_error &e, const boost::source_location &loc) {
    std::string what = "s3 error result accessed as a value: ";
    what += e.aws_code();
    what += " (";
    what += e.text();
    what += ") at ";
    what += loc.file_name();
    what += ':';
    what += std::to_string(loc.line());
    throw std::runtime_error(what);
}

} // namespace ifmatch::protocol
