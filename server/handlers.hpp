// The S3 operation handlers and what they share: the per-request context, error responses and
// common response headers. Each handler decides an outcome and returns a response value; the
// session writes it. Handlers run on the connection's strand.
#pragma once

#include "protocol/policy.hpp"
#include "protocol/preconditions.hpp"
#include "protocol/sigv4.hpp"
#include "server/config.hpp"
#include "server/http.hpp"
#include "storage/object_store.hpp"

#include <memory>
#include <optional>
#include <string>

namespace ifmatch::server {

// What the request log line records beyond method and status (spec D9, first part).
struct log_fields {
    std::string error_code;
    std::string conditions;       // the conditional headers as sent
    std::string failed_condition; // which condition decided a 304/412/409/428
    std::string current;          // the current ETag / Last-Modified, "absent" or "delete marker"
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
};

struct request_note; // server/outcomes.hpp

struct context {
    const config &cfg;
    storage::object_store &db;
    const request &req;
    body_source &body;
    protocol::classified_request target;
    storage::start_token start; // t_start of spec D3
    log_fields log;
    // Signed mode, SigV4 streaming bodies: the chunk signature chain (set by dispatch()).
    std::optional<protocol::chunk_signer> chunk_signer;
    std::shared_ptr<request_note> note; // outcome observations (D9) and the matched fault (D10)
    // The bucket's configuration as this request read it from the store, when the request is one
    // that never changes it (an object request): read once, it serves the whole request
    // (load_bucket_config). Never kept across requests: a replica sharing its store reads every
    // other replica's changes.
    std::shared_ptr<const storage::bucket_config> bucket_config;

    // Header lookup that also sees x-amz-* and If-* parameters of a presigned URL (R-G16), and
    // only of a presigned one (SigV4 or SigV2 query authentication).
    protocol::header_lookup lookup() const;
    std::string access_key() const;
    storage::writer_identity writer() const;
    bool is_head() const { return req.method == "HEAD"; }
};

// "Now" on the store's clock (storage::object_store::now_ms, movable forward by tests): the future-date
// rule of If-Modified-Since and every other age judged for S3 semantics. Signatures, their
// expiry and the Date header stay on the machine's clock.
inline protocol::sys_seconds store_now(const context &ctx) {
    return std::chrono::floor<std::chrono::seconds>(
        protocol::sys_millis(std::chrono::milliseconds(ctx.db.now_ms())));
}

// The S3 error response: XML body (none for HEAD), Content-Type, status.
response error_response(const protocol::s3_error &err, const context &ctx);

// Authenticates (server/auth.hpp) and dispatches a classified request to its handler; never
// throws.
net::awaitable<response> dispatch(context &ctx);

// Handlers, one per operation family (server/handlers/*.cpp).
net::awaitable<response> handle_bucket(context &ctx);
net::awaitable<response> handle_list(context &ctx);
net::awaitable<response> handle_get_object(context &ctx);
net::awaitable<response> handle_put_object(context &ctx);
net::awaitable<response> handle_copy_object(context &ctx);
net::awaitable<response> handle_delete_object(context &ctx);
net::awaitable<response> handle_delete_objects(context &ctx);
net::awaitable<response> handle_admin(context &ctx);
net::awaitable<response> handle_bucket_policy(context &ctx);

// The bucket's configuration (row and settings): what this request already read
// (context::bucket_config), else the store's in-memory cache, else read from the store
// (server/surface.cpp), and then kept for the rest of an object request. Errors: NoSuchBucket.
net::awaitable<protocol::result<std::shared_ptr<const storage::bucket_config>>>
load_bucket_config(context &ctx);
// What the request already read or the cache holds, null otherwise: lets a hot path skip the
// coroutines above.
std::shared_ptr<const storage::bucket_config> cached_bucket_config(context &ctx);
// Keeps `c`, the configuration of ctx's bucket read from the store, for the rest of the request
// when the request never changes it.
void keep_bucket_config(context &ctx, std::shared_ptr<const storage::bucket_config> c);

// Bucket policies (handlers/policy.cpp, R-B1..R-B3). The bucket's parsed policy, or nullopt when
// it has none (or the bucket does not exist).
net::awaitable<std::optional<protocol::policy_document>> load_bucket_policy(context &ctx);
// The policy context keys of a write: s3:if-none-match / s3:if-match when those headers (or
// presigned parameters) are present, s3:ObjectCreationOperation "true" when it creates an object.
protocol::condition_values write_condition_values(const context &ctx, bool creates_object);
// The hook every object write calls before proceeding (PutObject, CopyObject, DeleteObject;
// CompleteMultipartUpload with action s3:PutObject): 403 AccessDenied when a Deny statement of the
// bucket's policy matches `action` on ctx's object with `values`, else nullopt. Pass named locals
// (GCC 12 coroutine temporaries, docs/architecture.md §4).
net::awaitable<std::optional<protocol::s3_error>> check_policy(context &ctx, std::string action,
                                                               protocol::condition_values values);
// check_policy as one step of an object write: nullopt to proceed, else the 403 response (noted
// in the request log). `action` is s3:PutObject (creates an object) or s3:DeleteObject.
net::awaitable<std::optional<response>> policy_gate(context &ctx, std::string action);
// True when the cached configuration shows the bucket has no policy, so policy_gate would let
// the write proceed: callers skip it (and its coroutine frames) then.
bool policy_free(context &ctx);
// x-amz-bypass-governance-retention: true (B-L4; server/handlers/object_lock.cpp).
bool bypass_requested(const context &ctx);
// Multipart uploads (Create, UploadPart[Copy], Complete, Abort, ListParts) and the bucket-level
// listings of uploads and versions; handle_multipart dispatches all of them.
net::awaitable<response> handle_multipart(context &ctx);
net::awaitable<response> handle_list_uploads(context &ctx);
net::awaitable<response> handle_list_versions(context &ctx);
// /_ifmatch/ events, faults, console and its API (server/handlers/console.cpp); nullopt when
// `path` is none of them.
net::awaitable<std::optional<response>> handle_console(context &ctx, const std::string &path);

// Helpers shared by handlers.
std::string http_date_ms(std::int64_t ms);     // RFC 1123 Last-Modified from milliseconds
std::string iso_date_ms(std::int64_t ms);      // XML LastModified
response xml_response(std::string body, int status = 200);
// A response without a body: 204 No Content, or `status` (200 for the PUTs S3 answers so).
response empty_response(int status = 204);

// The usual tails of a handler, once its store call was awaited into `r` (a named local; these
// are plain functions, not coroutines): `r`'s error as the S3 error response, else
// empty_response(status) ...
template <class T>
response empty_or_error(const protocol::result<T> &r, const context &ctx, int status = 204) {
    return r.has_error() ? error_response(r.error(), ctx) : empty_response(status);
}
// ... or else the XML document `render(*r)` returns.
template <class T, class Render>
response xml_or_error(const protocol::result<T> &r, const context &ctx, Render render) {
    return r.has_error() ? error_response(r.error(), ctx) : xml_response(render(*r));
}
// Reads the whole (small) request body, up to `limit` bytes, and checks a hex
// x-amz-content-sha256 against it. Errors: as body_source, XAmzContentSHA256Mismatch, or
// InvalidRequest when it is larger than the limit.
net::awaitable<protocol::result<std::string>> read_small_body(context &ctx, std::size_t limit);

} // namespace ifmatch::server
