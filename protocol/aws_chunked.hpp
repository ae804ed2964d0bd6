// Incremental decoder for `Content-Encoding: aws-chunked` bodies (wire.md §2): signed chunks
// (`<hex>;chunk-signature=<sig>`), unsigned chunks, and the trailer block (checksum lines and the
// optional x-amz-trailer-signature). Fed the de-chunked HTTP body in arbitrary pieces. Pure.
// Hand-written: no Debian library decodes this AWS-specific framing.
#pragma once

#include "protocol/errors.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

struct aws_chunked_options {
    bool signed_chunks = false;   // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
    bool expect_trailer = false;  // *-TRAILER modes
    std::uint64_t max_chunk_size = 16u << 20;
    std::size_t max_line = 4096;
};

// Called for each completed chunk (including the final zero-length one) in signed mode with the
// chunk's declared signature and the lower-case hex SHA-256 of its data. Return false to reject
// (-> SignatureDoesNotMatch).
using chunk_signature_check =
    std::function<bool(std::string_view signature, std::string_view data_sha256_hex)>;
// Called once in the *-TRAILER modes, when the trailer block ends, with the canonical trailer
// text (`name:value\n` lines, sorted) and the x-amz-trailer-signature value (empty when none was
// sent). Return false to reject (-> SignatureDoesNotMatch). An unsigned body that ends with an
// empty trailer block (`0\r\n\r\n`) is done() without a call.
using trailer_signature_check =
    std::function<bool(std::string_view canonical_trailers, std::string_view signature)>;

class aws_chunked_decoder {
public:
    explicit aws_chunked_decoder(aws_chunked_options opts = {});
    ~aws_chunked_decoder();
    aws_chunked_decoder(aws_chunked_decoder &&) noexcept;
    aws_chunked_decoder &operator=(aws_chunked_decoder &&) noexcept;

    void on_chunk_signature(chunk_signature_check f);
    void on_trailer_signature(trailer_signature_check f);

    // Consumes `in`; decoded payload bytes are passed to `sink` (possibly in several calls).
    // Errors: IncompleteBody / InvalidRequest (malformed framing), SignatureDoesNotMatch.
    result<void> feed(std::string_view in, const std::function<void(std::string_view)> &sink);

    // True once the final chunk and the trailer block (if any) have been consumed.
    bool done() const;
    std::uint64_t decoded_bytes() const;
    // Trailer lines as received (name lower-cased, value trimmed), excluding the signature line.
    const std::vector<std::pair<std::string, std::string>> &trailers() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace ifmatch::protocol
