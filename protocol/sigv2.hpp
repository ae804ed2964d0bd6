// SigV2 request authentication (wire.md §1.6): `Authorization: AWS AKID:sig` and presigned
// AWSAccessKeyId/Expires/Signature queries, still the default of boto3's generate_presigned_url.
// Pure: raw string_views in, `now` as a parameter; safe from any thread.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/sigv4.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

// SigV2 parameters: `Authorization: AWS AKID:sig` or AWSAccessKeyId/Expires/Signature.
struct sigv2_auth {
    std::string access_key;
    std::string signature; // base64, percent-decoded when from the query
    bool presigned = false;
    std::string expires; // presigned: Expires as sent (epoch seconds)
};
// Errors: authorization_header_malformed.
result<sigv2_auth> parse_sigv2_authorization(std::string_view header);
// Errors: authorization_query_parameters_error (missing parameter, non-numeric Expires).
result<sigv2_auth> parse_sigv2_presigned(std::string_view raw_query);
// Presigned: fails with access_denied once `now` is past Expires.
result<void> check_sigv2_expiry(const sigv2_auth &auth, std::chrono::sys_seconds now);

// What the SigV2 string-to-sign is built from. `raw_path` must be path-style (`/bucket/key`,
// as the client signed it, even for virtual-hosted requests) and still encoded.
struct sigv2_request {
    std::string_view method;
    std::string_view raw_path;
    std::string_view raw_query;
    header_fields headers;
    // A request on a bucket itself (bucket named, no key). Its resource is `/bucket/` in S3's
    // examples, and botocore signs that form also when it sends the path `/bucket`, while
    // clients following the algorithm to the letter sign `/bucket`: both are accepted.
    bool bucket_level = false;
};
// VERB, Content-MD5, Content-Type, Date (empty when x-amz-date is sent; Expires when presigned),
// sorted x-amz-* lines, then the canonicalized resource with its sub-resources.
std::string sigv2_string_to_sign(const sigv2_request &req, const sigv2_auth &auth);
// base64 HMAC-SHA1 of `string_to_sign` under `secret`.
std::string sigv2_sign(std::string_view secret, std::string_view string_to_sign);
// Errors: signature_does_not_match (with AWSAccessKeyId, StringToSign, SignatureProvided); the
// StringToSign reported is the one built from `raw_path` as given.
result<void> sigv2_verify(const sigv2_request &req, const sigv2_auth &auth,
                          std::string_view secret);

} // namespace ifmatch::protocol
