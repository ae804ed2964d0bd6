// Request authentication (wire.md §1): SigV4 Authorization headers and presigned queries, the
// canonical request, string-to-sign and signing key, and the streaming chunk/trailer signature
// chain (SigV2 lives in sigv2.hpp). Pure: takes raw string_views and plain structs, never Beast
// types, and the current time as a parameter. Safe from any thread; a chunk_signer is used by
// one thread at a time.
#pragma once

#include "protocol/aws_chunked.hpp"
#include "protocol/errors.hpp"
#include "protocol/http_date.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

// A request header as received: name in any case, value untrimmed. Repeats are allowed.
using header_field = std::pair<std::string_view, std::string_view>;
using header_fields = std::span<const header_field>;

// Which authentication scheme a request uses, decided from the Authorization header and the raw
// query string. Never fails; `none` means anonymous.
enum class auth_scheme { none, sigv4_header, sigv4_query, sigv2_header, sigv2_query, unknown };
auth_scheme detect_auth_scheme(std::string_view authorization, std::string_view raw_query);

// True when the request is presigned (SigV4 or SigV2 query authentication, no Authorization
// header): the only requests whose query parameters stand for headers, such as If-Match,
// If-None-Match or x-amz-acl (spec conditional-requests.md R-G16). A query parameter of that
// name on a header-signed or anonymous request is not a header.
bool is_presigned(std::string_view authorization, std::string_view raw_query);

// `<access key>/<yyyymmdd>/<region>/<service>/aws4_request`.
struct credential_scope {
    std::string access_key;
    std::string date; // yyyymmdd
    std::string region;
    std::string service;
    // Returns `<date>/<region>/<service>/aws4_request`, the scope line of a string-to-sign.
    std::string scope() const;
};

// SigV4 parameters of a request, from the Authorization header or the presigned query.
struct sigv4_auth {
    credential_scope credential;
    std::vector<std::string> signed_headers; // lower-cased, in the order listed
    std::string signature;                   // as sent
    bool presigned = false;
    std::string amz_date;           // presigned: X-Amz-Date; header auth: empty
    std::int64_t expires = 0;       // presigned: X-Amz-Expires seconds
    std::string query_payload_hash; // presigned: X-Amz-Content-Sha256 when present
};

// Parses `AWS4-HMAC-SHA256 Credential=AKID/date/region/s3/aws4_request, SignedHeaders=a;b,
// Signature=hex` (", " or bare ","). Errors: authorization_header_malformed.
result<sigv4_auth> parse_sigv4_authorization(std::string_view header);
// Parses the X-Amz-* parameters of a presigned URL from the raw (still encoded) query.
// Errors: authorization_query_parameters_error (missing/invalid parameter, Expires not 1..604800).
result<sigv4_auth> parse_sigv4_presigned(std::string_view raw_query);


// Checks the scope against `amz_date` (same day) and the service (`s3`).
// Errors: authorization_header_malformed (or authorization_query_parameters_error if presigned).
result<void> check_sigv4_scope(const sigv4_auth &auth, std::string_view amz_date);
// Header auth: fails with request_time_too_skewed (RequestTime in the x-amz-date form, ServerTime
// as ISO 8601, MaxAllowedSkewMilliseconds) when |request_time - now| > 15 minutes.
result<void> check_request_time(std::chrono::sys_seconds request_time,
                                std::chrono::sys_seconds now);
// Presigned: fails with access_denied when expired or dated beyond the allowed skew, and with
// authorization_query_parameters_error when X-Amz-Date is malformed.
result<void> check_presigned_time(const sigv4_auth &auth, std::chrono::sys_seconds now);

// What the canonical request is built from, all raw as received.
struct sigv4_request {
    std::string_view method;
    std::string_view raw_path;  // request-target path, still percent-encoded
    std::string_view raw_query; // text after '?', still encoded; empty when none
    header_fields headers;
    // x-amz-content-sha256 as sent. Presigned: may be empty, meaning the query's
    // X-Amz-Content-Sha256 or else UNSIGNED-PAYLOAD.
    std::string_view payload_hash;
};

// The pieces of canonicalisation, exposed for tests and error bodies.
std::string sigv4_canonical_uri(std::string_view raw_path);
std::string sigv4_canonical_query(std::string_view raw_query, bool drop_signature);
std::string sigv4_canonical_headers(header_fields headers,
                                    std::span<const std::string> signed_headers);
// `<METHOD>\n<uri>\n<query>\n<headers>\n<signed headers>\n<payload>` (wire.md §1.2).
std::string sigv4_canonical_request(const sigv4_request &req, const sigv4_auth &auth);
// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical request)>`.
std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request);
// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request"; raw bytes.
std::string sigv4_signing_key(std::string_view secret, const credential_scope &scope);
// Lower-case hex HMAC-SHA256 of `string_to_sign` under `signing_key`.
std::string sigv4_sign(std::string_view signing_key, std::string_view string_to_sign);

// The full computation, kept for SignatureDoesNotMatch bodies.
struct sigv4_computed {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;
};
// Computes the expected signature. `amz_date` is the x-amz-date header for header auth; for
// presigned auth it is ignored in favour of auth.amz_date. Never fails.
sigv4_computed sigv4_compute(const sigv4_request &req, const sigv4_auth &auth,
                             std::string_view secret, std::string_view amz_date);
// Computes and compares in constant time. Errors: signature_does_not_match, carrying the
// AWSAccessKeyId, StringToSign, SignatureProvided and CanonicalRequest fields.
result<void> sigv4_verify(const sigv4_request &req, const sigv4_auth &auth, std::string_view secret,
                          std::string_view amz_date);

// String-to-sign of one aws-chunked chunk (wire.md §2.2) and of the signed trailer (§2.4);
// `canonical_trailers` is hashed here.
std::string sigv4_chunk_string_to_sign(std::string_view amz_date, std::string_view scope,
                                       std::string_view previous_signature,
                                       std::string_view chunk_sha256_hex);
std::string sigv4_trailer_string_to_sign(std::string_view amz_date, std::string_view scope,
                                         std::string_view previous_signature,
                                         std::string_view canonical_trailers);

// The signature chain of a signed aws-chunked body: starts at the seed (the request signature)
// and advances with every chunk. attach() plugs it into a decoder; the decoder's callbacks share
// the chain's state, so they stay valid even if this object is destroyed first.
class chunk_signer {
  public:
    chunk_signer(std::string signing_key, std::string amz_date, std::string scope,
                 std::string seed_signature);

    // Returns the signature the next chunk must carry and advances the chain.
    std::string sign_chunk(std::string_view chunk_sha256_hex);
    // Returns the trailer signature following the current chain position.
    std::string sign_trailer(std::string_view canonical_trailers) const;
    // Compare in constant time; verify_chunk advances the chain only on success.
    bool verify_chunk(std::string_view signature, std::string_view chunk_sha256_hex);
    bool verify_trailer(std::string_view canonical_trailers, std::string_view signature) const;
    // Installs verify_chunk / verify_trailer as the decoder's signature checks.
    void attach(aws_chunked_decoder &decoder) const;
    const std::string &previous_signature() const;

  private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace ifmatch::protocol
