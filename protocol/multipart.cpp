// Multipart ETag and checksum arithmetic (see multipart.hpp).
//
// RULES
// 1. CRC combination uses the GF(2) operator "append n zero bytes" (zlib's crc32_combine idea,
//    written for any reflected CRC width): for CRCs whose init and xorout are all ones the affine
//    terms cancel, so crc(A || B) = zeros_op(|B|)(crc(A)) ^ crc(B).
// 2. The operator for 2^k zero bits is built by repeated squaring, so combining costs O(log n).
#include "protocol/multipart.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <array>

namespace ifmatch::protocol {

std::optional<std::string> multipart_etag(const std::vector<std::string> &part_etags) {
    std::string concat;
    for (auto e : part_etags) {
        if (e.size() >= 2 && e.front() == '"' && e.back() == '"') {
            e = e.substr(1, e.size() - 2);
        }
        if (e.size() != 32) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < 32; i += 2) {
            const int hi = ascii::hex_value(e[i]), lo = ascii::hex_value(e[i + 1]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            concat.push_back(static_cast<char>(hi * 16 + lo));
        }
    }
    return "\"" + to_hex(md5_raw(concat)) + "-" + std::to_string(part_etags.size()) + "\"";
}

std::optional<std::string> composite_checksum(checksum_algo a,
                                              const std::vector<std::string> &part_values) {
    checksum sum(a);
    for (auto &v : part_values) {
        auto raw = base64_decode(v);
        if (!raw) {
            return std::nullopt;
        }
        sum.update(*raw);
    }
    return sum.finish_base64() + "-" + std::to_string(part_values.size());
}

bool combinable(checksum_algo a) {
    return a == checksum_algo::crc32 || a == checksum_algo::crc32c ||
           a == checksum_algo::crc64nvme;
}

namespace {

using matrix = std::array<std::uint64_t, 64>; // column i: the image of bit i

std::uint64_t mat_apply(const matrix &m, std::uint64_t v) {
    std::uint64_t out = 0;
    for (int i = 0; v != 0; ++i, v >>= 1) {
        if (v & 1) out ^= m[static_cast<std::size_t>(i)];
    }
    return out;
}

matrix multiply(const matrix &a, const matrix &b, int width) {
    matrix r{};
    for (int i = 0; i < width; ++i) r[static_cast<std::size_t>(i)] = mat_apply(a, b[static_cast<std::size_t>(i)]);
    return r;
}

// shift(crc, n bytes of zeros) on the raw (reflected) register.
std::uint64_t shift_zeros(std::uint64_t crc, std::uint64_t nbytes, std::uint64_t poly, int width) {
    matrix op{}; // one zero bit
    op[0] = poly;
    for (int i = 1; i < width; ++i) op[static_cast<std::size_t>(i)] = std::uint64_t{1} << (i - 1);
    matrix sq = multiply(op, op, width); // two bits
    sq = multiply(sq, sq, width);        // four bits
    op = multiply(sq, sq, width);        // eight bits = one byte
    while (nbytes != 0) {
        if (nbytes & 1) crc = mat_apply(op, crc);
        nbytes >>= 1;
        if (nbytes != 0) op = multiply(op, op, width);
    }
    return crc;
}

struct crc_params {
    std::uint64_t poly;
    int width;
};

std::optional<crc_params> params(checksum_algo a) {
    switch (a) {
    case checksum_algo::crc32:
        return crc_params{0xEDB88320u, 32};
    case checksum_algo::crc32c:
        return crc_params{0x82F63B78u, 32};
    case checksum_algo::crc64nvme:
        return crc_params{0x9A6C9329AC4BC9B5ull, 64};
    default:
        return std::nullopt;
    }
}

} // namespace

std::optional<std::string>
combine_crc(checksum_algo a, const std::vector<std::pair<std::string, std::uint64_t>> &parts) {
    auto p = params(a);
    if (!p) {
        return std::nullopt;
    }
    const std::size_t bytes = static_cast<std::size_t>(p->width / 8);
    std::uint64_t crc = 0;
    for (auto &[value, size] : parts) {
        auto raw = base64_decode(value);
        if (!raw || raw->size() != bytes) {
            return std::nullopt;
        }
        std::uint64_t v = 0;
        for (unsigned char c : *raw) v = (v << 8) | c;
        crc = shift_zeros(crc, size, p->poly, p->width) ^ v;
    }
    std::string out(bytes, '\0');
    for (std::size_t i = 0; i < bytes; ++i) {
        out[bytes - 1 - i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    }
    return base64_encode(out);
}

} // namespace ifmatch::protocol
