// The wider S3 surface around object writes and every response: SSE headers and bucket default
// encryption, ACL and tagging headers (stored in a version's meta.extra), bucket settings, CORS
// headers, and the handlers of the surface operations (server/handlers/surface_*.cpp).
#pragma once

#include "protocol/bucket_config.hpp"
#include "server/handlers.hpp"
#include "storage/object_store.hpp"

#include <optional>
#include <string>

namespace ifmatch::server {

using storage::extra_acl;
using storage::extra_md5;
using storage::extra_tags;
inline constexpr const char *owner_id = "ifmatch";         // the one account's canonical id
// bucket_settings name of the public access block (protocol::encode_public_access_block).
inline constexpr const char *setting_public_access_block = "public_access_block";
// bucket_settings name of the Object Lock configuration (protocol::render_lock_config's document;
// present exactly when the bucket has Object Lock enabled, B-L1).
inline constexpr const char *object_lock_setting = "object-lock";

// What the request head asks of a new object beyond meta_from_request: SSE, ACL, tags
// (storage/object_surface.hpp).
using storage::write_surface;
// Validates the headers (before any body is read). Errors: InvalidArgument, InvalidRequest,
// InvalidTag, NotImplemented (SSE-C).
protocol::result<write_surface> parse_write_surface(const context &ctx);

// Reads the destination bucket's settings and completes `w`: the bucket's default encryption when
// the request named none, and the new version's Object Lock (InvalidRequest B-L5 / B-L6,
// InvalidArgument for bad lock headers). Errors: NoSuchBucket, AccessControlListNotSupported (ACL headers on a
// BucketOwnerEnforced bucket, other than bucket-owner-full-control), AccessDenied (a public ACL
// on a bucket whose public access block has BlockPublicAcls, B-S6).
// `key`: the new object's key when it is not ctx's (POST Object), for the replication rules.
net::awaitable<protocol::result<bool>> apply_bucket_defaults(
    context &ctx, write_surface &w, std::optional<std::string> key = std::nullopt);
// The same with the bucket's configuration at hand (no coroutine frame: the hot path when
// cached_bucket_config hits). `now_ms`: the store's clock, for a default retention.
protocol::result<bool> apply_bucket_defaults(const storage::bucket_config &c, write_surface &w,
                                             std::int64_t now_ms, std::string_view key);

// CreateMultipartUpload calls parse_write_surface, apply_bucket_defaults and
// storage::store_write_surface (empty md5_hex) so the upload's meta carries SSE, ACL and tags to
// the completed object, whose ETag stays the `-N` multipart form (already not a content MD5, as
// R-E2 asks for SSE-KMS).
using storage::content_md5;
using storage::store_write_surface;

// One bucket setting's value from get_bucket_settings output, or empty.
std::string setting(const storage::string_pairs &all, std::string_view name);

// B-S6 BlockPublicAcls for PutBucketAcl and PutObjectAcl: AccessDenied when `acl` (a named local
// of the caller) is public and ctx's bucket blocks public ACLs, else nullopt.
net::awaitable<std::optional<protocol::s3_error>> check_public_acl(
    context &ctx, const protocol::access_control &acl);

// Bucket settings as the sub-resource handlers use them (server/handlers/surface_bucket.cpp).
// GCC 12: callers pass named locals or trivially destructible values (docs/architecture.md §4).
using render_fn = std::string (*)(const std::string &stored);
using parse_fn = protocol::result<std::string> (*)(std::string_view body);
// The value of setting `name` of ctx's bucket, empty when unset. Errors: NoSuchBucket.
net::awaitable<protocol::result<std::string>> read_setting(context &ctx, std::string_view name);
// Sets setting `name` to `value` (empty removes it) and answers `status` without a body; an
// error response (NoSuchBucket) otherwise.
net::awaitable<response> write_setting(context &ctx, std::string_view name,
                                       std::string_view value, int status);
// GET of a setting: 200 with `render` of its value, or the 404 `missing` (with BucketName).
net::awaitable<response> get_setting(context &ctx, std::string_view name, protocol::s3_errc missing,
                                     render_fn render);
// PUT of a setting from an XML body of at most 64 KiB: `parse` yields the value to store.
net::awaitable<response> put_setting(context &ctx, std::string_view name, parse_fn parse,
                                     int status);

// Adds Access-Control-* headers to `res` when the request carries Origin and a CORS rule of the
// bucket matches (actual requests, not preflight).
net::awaitable<void> add_cors_headers(context &ctx, response &res);

// Handlers.
net::awaitable<response> handle_surface_bucket(context &ctx);
// The bucket configurations of docs/bucket-configuration.md
// (server/handlers/bucket_subresources.cpp).
net::awaitable<response> handle_bucket_subresource(context &ctx);
net::awaitable<response> handle_surface_object(context &ctx);
net::awaitable<response> handle_cors_preflight(context &ctx);
// Object Lock: Get/PutObjectLockConfiguration, Get/PutObjectRetention, Get/PutObjectLegalHold
// (server/handlers/object_lock.cpp).
net::awaitable<response> handle_object_lock(context &ctx);
// How a version's lock refuses its permanent delete, for the outcome event ("object lock: legal
// hold ON", "object lock: COMPLIANCE until 2030-01-01T00:00:00.000Z").
std::string describe_lock(const protocol::version_lock &lock, std::int64_t now_ms);
net::awaitable<response> handle_post_object(context &ctx);

} // namespace ifmatch::server
