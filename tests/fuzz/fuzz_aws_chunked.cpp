// Fuzzes the aws-chunked decoder: the selector byte picks signed/unsigned, trailer mode, whether
// signatures are really verified (chunk_signer) or always accepted, and the feed piece size.
#include "fuzz_common.hpp"
#include "protocol/aws_chunked.hpp"
#include "protocol/sigv4.hpp"

#include <cstdlib>
#include <functional>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    if (size < 1) {
        return 0;
    }
    std::uint8_t sel = data[0];
    protocol::aws_chunked_options o;
    o.signed_chunks = sel & 1;
    o.expect_trailer = sel & 2;
    o.max_chunk_size = 1 << 16;
    protocol::aws_chunked_decoder dec(o);
    if (o.signed_chunks && (sel & 4)) {
        protocol::chunk_signer signer("0123456789abcdef0123456789abcdef", "20130524T000000Z",
                                      "20130524/us-east-1/s3/aws4_request",
                                      std::string(64, '0'));
        signer.attach(dec);
    } else {
        dec.on_chunk_signature([](std::string_view, std::string_view) { return true; });
        dec.on_trailer_signature([](std::string_view, std::string_view) { return true; });
    }
    std::size_t piece = 1 + (sel >> 3) * 7;
    std::uint64_t out = 0;
    std::function<void(std::string_view)> sink = [&out](std::string_view d) { out += d.size(); };
    auto in = fuzz::as_view(data + 1, size - 1);
    while (!in.empty()) {
        auto r = dec.feed(in.substr(0, piece), sink);
        if (r.has_error()) {
            return 0;
        }
        in.remove_prefix(std::min(piece, in.size()));
    }
    if (out != dec.decoded_bytes()) {
        std::abort();
    }
    (void)dec.done();
    return 0;
}
