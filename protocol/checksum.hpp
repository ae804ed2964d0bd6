// Additional checksums S3 clients send and verify (wire.md §3): CRC32 (zlib), CRC32C, CRC64NVME
// (table-driven: OpenSSL has none of the CRCs), SHA-1, SHA-256. Values travel as base64 of the
// big-endian digest. Pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

enum class checksum_algo { crc32, crc32c, crc64nvme, sha1, sha256 };

// "CRC32" / "crc32" -> algo (x-amz-sdk-checksum-algorithm, x-amz-checksum-algorithm).
std::optional<checksum_algo> checksum_algo_from_name(std::string_view name);
// "x-amz-checksum-crc32" -> algo.
std::optional<checksum_algo> checksum_algo_from_header(std::string_view header);
std::string_view checksum_header(checksum_algo a); // "x-amz-checksum-crc32"
std::string_view checksum_name(checksum_algo a);   // "CRC32"

// Raw CRC updates, exposed for tests and for combining.
std::uint32_t crc32_update(std::uint32_t crc, std::string_view data);   // IEEE, init 0
std::uint32_t crc32c_update(std::uint32_t crc, std::string_view data);  // Castagnoli, init 0
std::uint64_t crc64nvme_update(std::uint64_t crc, std::string_view data); // init 0

// An incremental checksum of one algorithm.
class checksum {
public:
    explicit checksum(checksum_algo a);
    ~checksum();
    checksum(checksum &&) noexcept;
    checksum &operator=(checksum &&) noexcept;

    checksum_algo algo() const;
    void update(std::string_view data);
    // base64 of the big-endian digest, as in x-amz-checksum-* headers.
    std::string finish_base64();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// One-shot helper.
std::string checksum_base64(checksum_algo a, std::string_view data);

} // namespace ifmatch::protocol
