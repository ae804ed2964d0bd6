// Pure listing rules (see listing_rules.hpp).
#include "storage/listing_rules.hpp"

namespace ifmatch::storage {

using protocol::s3_errc;
using protocol::s3_error;

std::string common_prefix(const std::string &key, const std::string &prefix,
                          const std::string &delimiter) {
    if (delimiter.empty()) return {};
    auto pos = key.find(delimiter, prefix.size());
    return pos == std::string::npos ? std::string() : key.substr(0, pos + delimiter.size());
}

result<version_position> versions_start(
    const list_versions_request &r,
    const std::function<std::optional<object_version>(const std::string &, const std::string &)>
        &find) {
    constexpr auto lowest = std::numeric_limits<std::int64_t>::min();
    if (!r.version_id_marker.empty() && r.key_marker.empty()) {
        return s3_error(s3_errc::invalid_argument, "A version-id marker cannot be specified "
                                                   "without a key marker.")
            .with("ArgumentName", "version-id-marker")
            .with("ArgumentValue", r.version_id_marker);
    }
    if (r.key_marker < r.prefix || r.key_marker.empty()) {
        return version_position{r.prefix};
    }
    if (r.version_id_marker.empty()) {
        return version_position{r.key_marker, lowest, lowest}; // past the whole marker key
    }
    auto v = find(r.key_marker, r.version_id_marker);
    if (!v) {
        return s3_error(s3_errc::invalid_argument, "Invalid version id specified")
            .with("ArgumentName", "version-id-marker")
            .with("ArgumentValue", r.version_id_marker);
    }
    return version_position{r.key_marker, v->rank_ms, v->seq};
}

} // namespace ifmatch::storage
