// Request headers whose value is one of a fixed set (spec wire.md §7.2): which operations read
// each of them, the values S3 accepts, and S3's error for any other value. Pure.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/operation.hpp"
#include "protocol/preconditions.hpp"

#include <optional>
#include <string_view>

namespace ifmatch::protocol {

// Checks the enumerated headers operation `o` reads, as `h` finds them. A header the operation
// does not read is not looked at (S3 ignores it there). Errors:
// - 400 InvalidStorageClass (StorageClassRequested): x-amz-storage-class on PutObject,
//   CopyObject, CreateMultipartUpload other than STANDARD, REDUCED_REDUNDANCY, STANDARD_IA,
//   ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_IR;
// - 400 InvalidArgument (ArgumentName, ArgumentValue): x-amz-object-lock-mode other than
//   GOVERNANCE / COMPLIANCE ("Unknown wormMode directive."), x-amz-object-lock-legal-hold other
//   than ON / OFF, on the same three operations;
// - 400 InvalidRequest: x-amz-checksum-type other than COMPOSITE / FULL_OBJECT on
//   CreateMultipartUpload and CompleteMultipartUpload.
// The other enumerated headers are checked where they are parsed: x-amz-acl (parse_acl_headers),
// x-amz-server-side-encryption (parse_sse_headers), x-amz-metadata-directive and
// x-amz-tagging-directive (CopyObject), x-amz-checksum-algorithm and
// x-amz-sdk-checksum-algorithm (uploads), x-amz-object-ownership (CreateBucket),
// x-amz-object-attributes (parse_object_attributes).
result<void> check_header_values(op o, const header_lookup &h);

// The attributes GetObjectAttributes asked for.
struct object_attributes {
    bool etag = false;
    bool checksum = false;
    bool object_parts = false;
    bool storage_class = false;
    bool object_size = false;
};

// Parses x-amz-object-attributes: names separated by commas (spaces around them and empty items
// are ignored), each one of ETag, Checksum, ObjectParts, StorageClass, ObjectSize (case matters).
// Errors: 400 InvalidRequest when the header is absent or names nothing; 400 InvalidArgument
// "Invalid attribute name specified." (ArgumentName, ArgumentValue = the first unknown name).
result<object_attributes> parse_object_attributes(std::optional<std::string_view> header);

} // namespace ifmatch::protocol
