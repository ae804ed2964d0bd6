// The request body path of object writes: validate the framing on the request head (before any
// body is read, spec D4), then stream the body through the aws-chunked decoder and the hashers
// into a staged blob, verifying x-amz-content-sha256, Content-MD5 and x-amz-checksum-*.
#pragma once

#include "protocol/aws_chunked.hpp"
#include "protocol/checksum.hpp"
#include "server/handlers.hpp"

#include <optional>
#include <string>

namespace ifmatch::server {

struct upload_plan {
    bool aws_chunked = false;
    bool signed_chunks = false;
    bool trailer = false;
    std::optional<std::string> sha256_hex;    // the signed payload hash, when hex
    std::optional<std::string> content_md5;   // raw 16 bytes
    std::optional<protocol::checksum_algo> algo;
    std::optional<std::string> checksum_value; // from the header; else from the trailer
    std::optional<std::uint64_t> decoded_length;
};

struct upload_result {
    storage::staged_body body;
    std::string etag; // quoted MD5
    std::uint64_t size = 0;
    storage::string_pairs checksums; // ("CRC32", base64)
};

// Errors: MissingContentLength (411), NotImplemented for a plain chunked body (wire W1),
// InvalidDigest, InvalidRequest (conflicting checksum headers, unknown algorithm),
// EntityTooLarge.
protocol::result<upload_plan> plan_upload(const context &ctx);

// Reads, hashes and stages a request body. A body longer than the inline limit is hashed and
// written to its blob file on the body thread (body_pool.hpp), the connection's thread awaiting
// each piece. Errors: IncompleteBody, RequestTimeout, XAmzContentSHA256Mismatch, BadDigest,
// EntityTooLarge, InternalError (the blob could not be written).
net::awaitable<protocol::result<upload_result>> receive_upload(context &ctx,
                                                               const upload_plan &plan);

// Representation headers and x-amz-meta-* of a write request. Errors: MetadataTooLarge.
protocol::result<storage::object_meta> meta_from_request(const request &req);

// Adds the stored representation headers and user metadata to a response.
void add_meta_headers(response &res, const storage::object_meta &m);

// The conditional headers as sent, for the request log.
std::string describe_conditions(const context &ctx);

} // namespace ifmatch::server
