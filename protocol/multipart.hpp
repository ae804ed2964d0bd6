// Multipart arithmetic (spec R-E3, wire.md §3.4): the multipart ETag, COMPOSITE checksums (the
// checksum of the concatenated part checksums, "-N") and FULL_OBJECT CRCs combined from the parts'
// CRCs without reading any bytes. Pure.
#pragma once

#include "protocol/checksum.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::protocol {

// R-E3: "\"" + hex(md5(md5_raw(part_1) ... md5_raw(part_N))) + "-N\"". `part_etags` are the
// parts' ETags, quoted or not (hex MD5s). Returns nullopt when one is not 32 hex digits.
std::optional<std::string> multipart_etag(const std::vector<std::string> &part_etags);

// COMPOSITE: base64(algo(raw_1 ... raw_N)) + "-N" from the parts' base64 checksums. Returns
// nullopt when a value is not valid base64.
std::optional<std::string> composite_checksum(checksum_algo a,
                                              const std::vector<std::string> &part_values);

// True for the CRCs, whose whole-object value can be combined from the parts' values.
bool combinable(checksum_algo a);

// FULL_OBJECT: the CRC of the concatenation, from each part's base64 CRC and byte size
// (crc(A || B) = shift(crc(A), |B|) xor crc(B)). Returns nullopt for SHA algorithms or a bad
// value.
std::optional<std::string>
combine_crc(checksum_algo a, const std::vector<std::pair<std::string, std::uint64_t>> &parts);

} // namespace ifmatch::protocol
