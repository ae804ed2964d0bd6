// Pure rules of CompleteMultipartUpload every backend applies inside its commit: which entries of
// the request's parts list decide, the parts they select (checked in S3's order) and the new
// object's checksum. No SQL, no I/O: the backend hands in its stored parts.
#pragma once

#include "storage/requests.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace ifmatch::storage {

// The entries of the parts list that decide: numbers start at 1 and must not decrease (a list
// built while an UploadPart of a number was still running may repeat it); of entries naming the
// same number, the last one. Errors: InvalidPartOrder.
result<std::vector<complete_request::part>> deciding_parts(const complete_request &r);

// The listed parts, checked in S3's order: the list's order (deciding_parts), each part's
// existence and ETag (InvalidPart), its listed checksums (InvalidPart), then the minimum size
// of every part but the last (EntityTooSmall). `stored(n)`: the upload's part n, if any.
result<std::vector<part_info>> select_parts(
    const complete_request &r, const std::function<std::optional<part_info>(int)> &stored);

// The new object's checksum (wire.md §3.4) into `meta`: COMPOSITE from the parts' values,
// FULL_OBJECT CRCs combined from the parts' CRCs and sizes (no bytes read). The upload's mode
// decides; a request naming another mode (BadDigest), a part without the upload's checksum
// (InvalidRequest) or a FULL_OBJECT value that differs (BadDigest) is refused. An upload
// without a checksum leaves `meta` alone.
result<bool> complete_checksum(const upload_info &u, const complete_request &r,
                               const std::vector<part_info> &parts, object_meta &meta);

} // namespace ifmatch::storage
