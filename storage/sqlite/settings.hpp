// Bucket settings of the wider S3 surface (default encryption, ACL, ownership controls, tags,
// CORS: one opaque string each, in table bucket_settings) and in-place changes to a version's
// stored extra headers (object tags and ACLs change without creating a version). Run as store
// jobs like operations.hpp.
#pragma once

#include "storage/sqlite/store.hpp"
#include "storage/requests.hpp"

#include <optional>
#include <string>

namespace ifmatch::storage::sqlite {

// A bucket's row and all its settings, read in one snapshot; what store::cached_bucket_config
// keeps. Errors: NoSuchBucket.
result<bucket_config> read_bucket_config(read_txn &t, const std::string &bucket);

// All settings of a bucket as (name, value). Errors: NoSuchBucket.
result<string_pairs> get_bucket_settings(read_txn &t, const std::string &bucket);
// Sets one setting; an empty value removes it. Errors: NoSuchBucket.
result<bool> set_bucket_setting(write_txn &t, const std::string &bucket, const std::string &name,
                                const std::string &value);

// Replaces (or removes) one meta.extra entry of the current or named version in place and
// returns the updated version. Errors: NoSuchBucket, NoSuchKey (absent, or the current version is
// a delete marker), NoSuchVersion, MethodNotAllowed (the named version is a delete marker).
result<object_version> set_version_extra(write_txn &t, const version_extra_request &r);

} // namespace ifmatch::storage::sqlite
