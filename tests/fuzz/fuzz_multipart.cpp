// Fuzzes the multipart arithmetic fed by CompleteMultipartUpload (R-E3): part ETags and
// base64 part checksums from the request, and the FULL_OBJECT CRC combination, which must equal
// the CRC of the whole input computed directly (a differential check).
#include "fuzz_common.hpp"
#include "protocol/checksum.hpp"
#include "protocol/multipart.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace ifmatch::protocol;

constexpr checksum_algo algos[] = {checksum_algo::crc32, checksum_algo::crc32c,
                                   checksum_algo::crc64nvme, checksum_algo::sha1,
                                   checksum_algo::sha256};

// Splits `body` into parts at the selector's cut points and checks combine_crc against a direct
// checksum of the whole body.
void check_combine(checksum_algo a, std::string_view body, std::uint8_t cuts) {
    std::vector<std::pair<std::string, std::uint64_t>> parts;
    std::size_t step = body.size() / (1 + (cuts & 3)) + 1;
    for (std::size_t at = 0; at < body.size(); at += step) {
        auto piece = body.substr(at, step);
        parts.emplace_back(checksum_base64(a, piece), piece.size());
    }
    auto combined = combine_crc(a, parts);
    if (combinable(a) != combined.has_value()) {
        std::abort();
    }
    if (combined && !parts.empty() && *combined != checksum_base64(a, body)) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    if (size < 1) {
        return 0;
    }
    std::uint8_t sel = data[0];
    checksum_algo a = algos[(sel & 7) % 5];
    auto body = fuzz::as_view(data + 1, size - 1);
    std::vector<std::string> lines;
    std::vector<std::pair<std::string, std::uint64_t>> sized;
    for (auto line : fuzz::fields(body, 64)) {
        lines.emplace_back(line);
        sized.emplace_back(line, line.size() * 977u);
    }
    (void)multipart_etag(lines);
    (void)composite_checksum(a, lines);
    (void)combine_crc(a, sized);
    check_combine(a, body, sel >> 3);
    return 0;
}
