// Multipart uploads and version listings in the store: Create / UploadPart / UploadPartCopy /
// Complete / Abort as write jobs, ListParts / ListMultipartUploads / ListObjectVersions as read
// jobs. Complete decides conditional writes at commit with the upload's t_start (spec §6, D3, D8).
#pragma once

#include "protocol/preconditions.hpp"
#include "storage/sqlite/operations.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ifmatch::storage::sqlite {

// Errors: NoSuchBucket.
result<upload_info> create_upload(write_txn &t, const create_upload_request &r);

// The upload named by (bucket, key, upload_id). Errors: NoSuchBucket, NoSuchUpload.
result<upload_info> find_upload(read_txn &t, const std::string &bucket, const std::string &key,
                                const std::string &upload_id);

// UploadPart / UploadPartCopy: stores (or replaces, releasing the old body) part N.
// Errors: NoSuchBucket, NoSuchUpload, NoSuchKey (a shared source vanished meanwhile).
result<part_info> put_part(write_txn &t, const upload_part_request &r);

// CompleteMultipartUpload. Order: NoSuchBucket -> NoSuchUpload -> parts (InvalidPartOrder,
// InvalidPart, EntityTooSmall, checksum errors) -> conditions at commit (R-M2..R-M7: 412 / 404 /
// 428 as errors, leaving the upload; 409 as `refusal`, removing it) -> the new version, whose
// body references the parts' bodies (no byte copy) and which ranks by initiation time (R-M11).
result<complete_result> complete_upload(write_txn &t, const complete_request &r);

// AbortMultipartUpload. Errors: NoSuchBucket, NoSuchUpload.
result<bool> abort_upload(write_txn &t, const std::string &bucket, const std::string &key,
                          const std::string &upload_id);

// Errors: NoSuchBucket, NoSuchUpload.
result<list_parts_page> list_parts(read_txn &t, const list_parts_request &r);

// Keys ascending, then initiation order. Errors: NoSuchBucket.
result<list_uploads_page> list_uploads(read_txn &t, const list_uploads_request &r);

// ListObjectVersions: keys ascending, each key's versions newest (highest rank) first.
// Errors: NoSuchBucket, InvalidArgument (a version-id-marker that names no version of the key).
result<list_versions_page> list_versions(read_txn &t, const list_versions_request &r);

// Byte sizes of the parts of a stored body, in order (one entry for a plain body).
std::vector<std::uint64_t> body_part_sizes(read_txn &t, std::int64_t body_id);

} // namespace ifmatch::storage::sqlite
