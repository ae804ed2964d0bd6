// Row helpers of the multipart tables (uploads, parts), shared by the write and read jobs of
// multipart.hpp. Called only inside a store job.
#pragma once

#include "storage/sqlite/multipart.hpp"
#include "storage/sqlite/sqlite.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::storage::sqlite {

// The columns read_upload() expects, in order.
extern const char *const upload_columns;
upload_info read_upload(statement &st);

// The upload (bucket, key, id). Errors: NoSuchBucket, NoSuchUpload (with UploadId).
result<upload_info> lookup_upload(connection &db, const std::string &bucket,
                                  const std::string &key, const std::string &upload_id);

// Up to `limit` parts numbered above `after`, ascending.
std::vector<part_info> load_parts(connection &db, const std::string &upload_id, int after,
                                  int limit);

} // namespace ifmatch::storage::sqlite
