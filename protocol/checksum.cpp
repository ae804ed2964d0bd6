// Checksums for x-amz-checksum-* (wire.md §3.1). CRC32 comes from zlib; CRC32C and CRC64NVME are
// slice-by-8 over tables computed at compile time; SHA-1/SHA-256 go through crypto.hpp.
//
// RULES
// 1. Every *_update(crc, data) takes and returns the finished (post-xorout) value, zlib-style, so
//    update(update(0, a), b) == update(0, a + b) and 0 is the value of the empty input.
// 2. Digests travel as base64 of the big-endian bytes of the register (CRC) or the raw digest.

#include "protocol/checksum.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <algorithm>
#include <array>
#include <variant>
#include <zlib.h>

namespace ifmatch::protocol {

namespace {

template <class Word> using crc_tables = std::array<std::array<Word, 256>, 8>;

// Builds slice-by-8 tables for a reflected CRC with polynomial `poly`: table[0] is the classic
// byte table; table[k][b] advances table[k-1][b] by one more zero byte.
template <class Word> constexpr crc_tables<Word> make_tables(Word poly) {
    crc_tables<Word> t{};
    for (unsigned b = 0; b < 256; ++b) {
        Word c = b;
        for (int i = 0; i < 8; ++i) {
            c = (c & 1) ? static_cast<Word>((c >> 1) ^ poly) : static_cast<Word>(c >> 1);
        }
        t[0][b] = c;
    }
    for (std::size_t k = 1; k < 8; ++k) {
        for (std::size_t b = 0; b < 256; ++b) {
            Word prev = t[k - 1][b];
            t[k][b] = static_cast<Word>((prev >> 8) ^ t[0][prev & 0xff]);
        }
    }
    return t;
}

constexpr auto crc32c_tables = make_tables<std::uint32_t>(0x82F63B78u);
constexpr auto crc64nvme_tables = make_tables<std::uint64_t>(0x9A6C9329AC4BC9B5ull);

// Runs the reflected register `c` (pre-inverted) over `data`, eight bytes at a time.
template <class Word> Word crc_run(const crc_tables<Word> &t, Word c, std::string_view data) {
    const auto *p = reinterpret_cast<const unsigned char *>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        // Fold the next eight bytes (little-endian) into the low bits of the register.
        std::uint64_t block = 0;
        for (int i = 7; i >= 0; --i) {
            block = (block << 8) | p[i];
        }
        std::uint64_t x = static_cast<std::uint64_t>(c) ^ block;
        Word next = 0;
        for (int i = 0; i < 8; ++i) {
            next ^= t[7 - static_cast<std::size_t>(i)][(x >> (8 * i)) & 0xff];
        }
        c = next;
        p += 8;
        n -= 8;
    }
    while (n-- > 0) {
        c = static_cast<Word>((c >> 8) ^ t[0][(c ^ *p++) & 0xff]);
    }
    return c;
}

// Appends the `bytes` low-order bytes of `v` in big-endian order.
std::string big_endian(std::uint64_t v, int bytes) {
    std::string out;
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    return out;
}

constexpr std::array all_algos = {checksum_algo::crc32, checksum_algo::crc32c,
                                  checksum_algo::crc64nvme, checksum_algo::sha1,
                                  checksum_algo::sha256};

} // namespace

std::optional<checksum_algo> checksum_algo_from_name(std::string_view name) {
    for (auto a : all_algos) {
        if (ascii::iequals(name, checksum_name(a))) {
            return a;
        }
    }
    return std::nullopt;
}

std::optional<checksum_algo> checksum_algo_from_header(std::string_view header) {
    for (auto a : all_algos) {
        if (ascii::iequals(header, checksum_header(a))) {
            return a;
        }
    }
    return std::nullopt;
}

std::string_view checksum_header(checksum_algo a) {
    switch (a) {
    case checksum_algo::crc32:
        return "x-amz-checksum-crc32";
    case checksum_algo::crc32c:
        return "x-amz-checksum-crc32c";
    case checksum_algo::crc64nvme:
        return "x-amz-checksum-crc64nvme";
    case checksum_algo::sha1:
        return "x-amz-checksum-sha1";
    case checksum_algo::sha256:
        return "x-amz-checksum-sha256";
    }
    return "";
}

std::string_view checksum_name(checksum_algo a) {
    switch (a) {
    case checksum_algo::crc32:
        return "CRC32";
    case checksum_algo::crc32c:
        return "CRC32C";
    case checksum_algo::crc64nvme:
        return "CRC64NVME";
    case checksum_algo::sha1:
        return "SHA1";
    case checksum_algo::sha256:
        return "SHA256";
    }
    return "";
}

std::uint32_t crc32_update(std::uint32_t crc, std::string_view data) {
    uLong c = crc;
    c = crc32_z(c, reinterpret_cast<const Bytef *>(data.data()), data.size());
    return static_cast<std::uint32_t>(c);
}

std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data) {
    return ~crc_run<std::uint32_t>(crc32c_tables, ~crc, data);
}

std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view data) {
    return ~crc_run<std::uint64_t>(crc64nvme_tables, ~crc, data);
}

struct checksum::impl {
    checksum_algo algo;
    // CRC register (finished form) for the CRC algorithms, a digest for SHA-1/SHA-256.
    std::variant<std::uint64_t, digest> state;

    explicit impl(checksum_algo a) : algo(a), state(initial(a)) {}

    static std::variant<std::uint64_t, digest> initial(checksum_algo a) {
        if (a == checksum_algo::sha1) {
            return digest(digest_kind::sha1);
        }
        if (a == checksum_algo::sha256) {
            return digest(digest_kind::sha256);
        }
        return std::uint64_t{0};
    }
};

checksum::checksum(checksum_algo a) : impl_(std::make_unique<impl>(a)) {}
checksum::~checksum() = default;
checksum::checksum(checksum &&) noexcept = default;
checksum &checksum::operator=(checksum &&) noexcept = default;

checksum_algo checksum::algo() const { return impl_->algo; }

void checksum::update(std::string_view data) {
    if (auto *d = std::get_if<digest>(&impl_->state)) {
        d->update(data);
        return;
    }
    auto &crc = std::get<std::uint64_t>(impl_->state);
    switch (impl_->algo) {
    case checksum_algo::crc32:
        crc = crc32_update(static_cast<std::uint32_t>(crc), data);
        break;
    case checksum_algo::crc32c:
        crc = crc32c_update(static_cast<std::uint32_t>(crc), data);
        break;
    case checksum_algo::crc64nvme:
        crc = crc64nvme_update(crc, data);
        break;
    default:
        break;
    }
}

std::string checksum::finish_base64() {
    if (auto *d = std::get_if<digest>(&impl_->state)) {
        return base64_encode(d->finish());
    }
    auto &crc = std::get<std::uint64_t>(impl_->state);
    int width = impl_->algo == checksum_algo::crc64nvme ? 8 : 4;
    std::string out = base64_encode(big_endian(crc, width));
    crc = 0;
    return out;
}

std::string checksum_base64(checksum_algo a, std::string_view data) {
    checksum c(a);
    c.update(data);
    return c.finish_base64();
}

} // namespace ifmatch::protocol
