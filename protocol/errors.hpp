// The S3 error catalogue: one table mapping each client-visible error to its AWS Code, HTTP status
// and default Message, plus the XML renderer for error bodies. Pure; safe from any thread.
#pragma once

#include <boost/system/error_category.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

enum class s3_errc {
    access_denied,
    authorization_header_malformed,
    authorization_query_parameters_error,
    bad_digest,
    bucket_already_exists,
    bucket_already_owned_by_you,
    bucket_not_empty,
    conditional_request_conflict,
    entity_too_large,
    entity_too_small,
    incomplete_body,
    internal_error,
    invalid_access_key_id,
    invalid_argument,
    invalid_bucket_name,
    invalid_digest,
    invalid_part,
    invalid_part_number,
    invalid_part_order,
    invalid_range,
    invalid_request,
    key_too_long,
    malformed_policy,
    malformed_xml,
    metadata_too_large,
    method_not_allowed,
    missing_content_length,
    no_such_bucket,
    no_such_bucket_policy,
    no_such_key,
    no_such_upload,
    no_such_version,
    not_implemented,
    precondition_failed,
    precondition_required,
    request_header_section_too_large,
    request_time_too_skewed,
    request_timeout,
    service_unavailable,
    signature_does_not_match,
    slow_down,
    x_amz_content_sha256_mismatch,
    illegal_versioning_configuration,
    invalid_encryption_algorithm,
    no_such_tag_set,
    // the wider S3 surface (tagging, ACLs, encryption, CORS, POST Object)
    invalid_tag,
    malformed_acl,
    no_such_cors_configuration,
    sse_configuration_not_found,
    ownership_controls_not_found,
    cors_forbidden,
    invalid_policy_document,
    malformed_post_request,
    incorrect_number_of_files,
    acl_not_supported,
    // bucket configurations (docs/bucket-configuration.md)
    no_such_lifecycle_configuration,
    replication_configuration_not_found,
    object_lock_configuration_not_found,
    no_such_website_configuration,
    no_such_public_access_block_configuration,
    no_such_configuration,
    invalid_target_bucket_for_logging,
    cross_location_logging_prohibited,
    invalid_uri,
    invalid_storage_class,
    // Object Lock (protocol/object_lock.hpp)
    invalid_bucket_state,
    no_such_object_lock_configuration,
};

// The error_category of s3_errc (name "s3"; message() is the catalogue's message), so storage can
// carry client-visible outcomes in a boost::system::error_code.
const boost::system::error_category &s3_category() noexcept;
boost::system::error_code make_error_code(s3_errc e) noexcept;

// Returns the s3_errc carried by `ec` if it belongs to s3_category(), else internal_error.
s3_errc to_s3_errc(const boost::system::error_code &ec) noexcept;

// One row of the catalogue.
struct error_info {
    std::string_view code;    // AWS <Code>
    int status;               // HTTP status
    std::string_view message; // default <Message>
};

// Returns the catalogue row of `e`. Never fails.
const error_info &info(s3_errc e);

// An error as a client sees it: the catalogue entry, an optional message override and the
// code-specific elements (Key, BucketName, Condition, Header, ...) in the order they are rendered.
struct s3_error {
    s3_errc code = s3_errc::internal_error;
    std::string message; // empty: the catalogue's message
    std::vector<std::pair<std::string, std::string>> fields;

    s3_error() = default;
    s3_error(s3_errc c) : code(c) {} // NOLINT(google-explicit-constructor): errc converts freely
    s3_error(s3_errc c, std::string msg) : code(c), message(std::move(msg)) {}

    // Appends an element rendered after <Message>.
    s3_error &with(std::string name, std::string value) {
        fields.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    int status() const { return info(code).status; }
    std::string_view aws_code() const { return info(code).code; }
    std::string_view text() const {
        return message.empty() ? info(code).message : std::string_view(message);
    }
};

// Whether an error is a conditional write's refusal, decided against the key's state (D9): 412,
// 409 ConditionalRequestConflict, 404 NoSuchKey (If-Match on an absent key), 428.
inline bool is_refusal(s3_errc c) {
    return c == s3_errc::precondition_failed || c == s3_errc::conditional_request_conflict ||
           c == s3_errc::no_such_key || c == s3_errc::precondition_required;
}

// Renders `<?xml ...?>\n<Error><Code/><Message/>fields...<RequestId/><HostId/></Error>`: no
// namespace, fields in the order they were added (spec wire.md §7.1). Every text goes through
// xml_text, so the body is well-formed XML 1.0 whatever request bytes a field echoes (bytes that
// are not UTF-8 and control characters become U+FFFD).
std::string render_error_xml(const s3_error &err, std::string_view request_id,
                             std::string_view host_id);

template <class T> using result = boost::system::result<T, s3_error>;

// Lets boost::system::result<T, s3_error>::value() throw; used only for programmer errors.
[[noreturn]] void throw_exception_from_error(const s3_error &e, const boost::source_location &loc);

} // namespace ifmatch::protocol

template <>
struct boost::system::is_error_code_enum<ifmatch::protocol::s3_errc> : std::true_type {};
