// Request authentication glue (wire.md §1, W2): with no credentials configured every request is
// accepted; otherwise each request head is checked against the configured keys (SigV4 header or
// presigned, SigV2 header or presigned) before any body byte is read (spec D4). The rules live in
// protocol/sigv4 and protocol/sigv2; this file only picks the scheme and supplies the inputs.
#pragma once

#include "protocol/sigv4.hpp"
#include "server/config.hpp"
#include "server/http.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace ifmatch::server {

// What an accepted request leaves for the body path.
struct auth_result {
    std::string access_key; // empty in open mode and for exempt endpoints
    // Set for SigV4 header auth with a STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body: the
    // chain seeded with the request signature; upload.cpp attaches it to the aws-chunked decoder.
    std::optional<protocol::chunk_signer> chunk_signer;
};

// True when the request needs no signature even in signed mode (GET /_ifmatch/health).
bool auth_exempt(const protocol::classified_request &target);

// Authenticates a request head at time `now`. Open mode (cfg.credentials empty) accepts anything.
// Errors (S3 codes and elements): AccessDenied (anonymous; expired presigned URL), InvalidAccessKeyId
// (AWSAccessKeyId), SignatureDoesNotMatch (AWSAccessKeyId, StringToSign, SignatureProvided,
// CanonicalRequest), RequestTimeTooSkewed (RequestTime, ServerTime, MaxAllowedSkewMilliseconds),
// AuthorizationHeaderMalformed (Region), AuthorizationQueryParametersError, InvalidArgument
// (unsupported Authorization type), InvalidRequest (missing x-amz-content-sha256).
protocol::result<auth_result> authenticate(const config &cfg, const request &req,
                                           const protocol::classified_request &target,
                                           std::chrono::sys_seconds now);

} // namespace ifmatch::server
