// Pure rules of CompleteMultipartUpload (see multipart_rules.hpp).
#include "storage/multipart_rules.hpp"

#include "protocol/checksum.hpp"
#include "protocol/multipart.hpp"

#include <algorithm>

namespace ifmatch::storage {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

std::string unquoted(const std::string &s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
    return s;
}

std::optional<std::string> value_of(const string_pairs &pairs, const std::string &name) {
    auto it = std::find_if(pairs.begin(), pairs.end(), [&](auto &p) { return p.first == name; });
    if (it == pairs.end()) return std::nullopt;
    return it->second;
}

} // namespace

result<std::vector<complete_request::part>> deciding_parts(const complete_request &r) {
    std::vector<complete_request::part> out;
    for (auto &entry : r.parts) {
        bool repeated = !out.empty() && entry.number == out.back().number;
        if (entry.number < 1 || (!out.empty() && entry.number < out.back().number)) {
            return s3_error(s3_errc::invalid_part_order).with("UploadId", r.upload_id);
        }
        if (repeated) {
            out.back() = entry;
        } else {
            out.push_back(entry);
        }
    }
    return out;
}

result<std::vector<part_info>> select_parts(
    const complete_request &r, const std::function<std::optional<part_info>(int)> &stored) {
    constexpr std::uint64_t min_part_size = 5ull * 1024 * 1024;
    auto entries = deciding_parts(r);
    if (entries.has_error()) {
        return entries.error();
    }
    std::vector<part_info> out;
    for (auto &entry : *entries) {
        auto part = stored(entry.number);
        if (!part || part->number != entry.number || unquoted(part->etag) != unquoted(entry.etag)) {
            return s3_error(s3_errc::invalid_part)
                .with("UploadId", r.upload_id)
                .with("PartNumber", std::to_string(entry.number))
                .with("ETag", entry.etag);
        }
        for (auto &[algo, value] : entry.checksums) {
            auto kept = value_of(part->checksums, algo);
            if (kept && *kept != value) {
                return s3_error(s3_errc::invalid_part, "One or more of the specified parts could "
                                                       "not be found. The part may not have been "
                                                       "uploaded, or the specified checksum may "
                                                       "not match the part's checksum.")
                    .with("UploadId", r.upload_id)
                    .with("PartNumber", std::to_string(entry.number));
            }
        }
        out.push_back(std::move(*part));
    }
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i].size < min_part_size) {
            return s3_error(s3_errc::entity_too_small)
                .with("ProposedSize", std::to_string(out[i].size))
                .with("MinSizeAllowed", std::to_string(min_part_size))
                .with("PartNumber", std::to_string(out[i].number))
                .with("ETag", unquoted(out[i].etag));
        }
    }
    return out;
}

result<bool> complete_checksum(const upload_info &u, const complete_request &r,
                               const std::vector<part_info> &parts, object_meta &meta) {
    auto algo = u.checksum_algo.empty() ? std::nullopt
                                        : protocol::checksum_algo_from_name(u.checksum_algo);
    if (!algo) {
        return true;
    }
    std::string mode = u.checksum_type;
    if (mode.empty()) {
        mode = *algo == protocol::checksum_algo::crc64nvme ? "FULL_OBJECT" : "COMPOSITE";
    }
    if (r.checksum_type && *r.checksum_type != mode) {
        return s3_error(s3_errc::bad_digest, "The upload was created using the " + mode +
                                                 " checksum mode. The complete request must "
                                                 "use the same checksum mode.");
    }
    std::vector<std::string> values;
    std::vector<std::pair<std::string, std::uint64_t>> with_sizes;
    for (auto &p : parts) {
        auto v = value_of(p.checksums, u.checksum_algo);
        if (!v) {
            return s3_error(s3_errc::invalid_request,
                            "The upload was created using a " + u.checksum_algo +
                                " checksum. The part " + std::to_string(p.number) +
                                " has no checksum.");
        }
        values.push_back(*v);
        with_sizes.emplace_back(*v, p.size);
    }
    auto value = mode == "FULL_OBJECT" ? protocol::combine_crc(*algo, with_sizes)
                                       : protocol::composite_checksum(*algo, values);
    if (!value) {
        return s3_error(s3_errc::invalid_request, "The checksum type is not supported.");
    }
    if (mode == "FULL_OBJECT" && r.full_checksum && *r.full_checksum != *value) {
        return s3_error(s3_errc::bad_digest, "The " + u.checksum_algo +
                                                 " you specified did not match the calculated "
                                                 "checksum.");
    }
    meta.checksums = {{u.checksum_algo, *value}};
    meta.checksum_type = mode;
    return true;
}

} // namespace ifmatch::storage
