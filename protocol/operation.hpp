// Request classification: (method, target, Host, a few headers) -> which S3 operation, on which
// bucket and key. Path-style and virtual-hosted-style addressing. Pure (Garage's Endpoint idea).
#pragma once

#include "protocol/errors.hpp"
#include "protocol/uri.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

enum class op {
    // service
    list_buckets,
    // bucket
    create_bucket,
    delete_bucket,
    head_bucket,
    get_bucket_location,
    get_bucket_versioning,
    put_bucket_versioning,
    get_bucket_policy,
    put_bucket_policy,
    delete_bucket_policy,
    list_objects_v1,
    list_objects_v2,
    list_object_versions,
    list_multipart_uploads,
    delete_objects,
    // object
    get_object,
    head_object,
    put_object,
    copy_object,
    delete_object,
    create_multipart_upload,
    upload_part,
    upload_part_copy,
    complete_multipart_upload,
    abort_multipart_upload,
    list_parts,
    // the wider surface: encryption, ACLs, ownership, tagging, CORS, attributes, POST Object
    get_bucket_encryption,
    put_bucket_encryption,
    delete_bucket_encryption,
    get_bucket_acl,
    put_bucket_acl,
    get_bucket_ownership_controls,
    put_bucket_ownership_controls,
    delete_bucket_ownership_controls,
    get_bucket_tagging,
    put_bucket_tagging,
    delete_bucket_tagging,
    get_bucket_cors,
    put_bucket_cors,
    delete_bucket_cors,
    get_object_acl,
    put_object_acl,
    get_object_tagging,
    put_object_tagging,
    delete_object_tagging,
    get_object_attributes,
    post_object,
    cors_preflight, // OPTIONS on a bucket or object
    // bucket configurations: the not-configured answers and the configurations only stored
    // (docs/bucket-configuration.md); their PUTs that would have to act stay op::unsupported
    get_bucket_lifecycle,
    put_bucket_lifecycle,
    delete_bucket_lifecycle,
    get_bucket_replication,
    put_bucket_replication,
    delete_bucket_replication,
    get_object_lock_configuration,
    put_object_lock_configuration,
    get_object_retention,   // object level; 400 on a bucket without Object Lock (B-L5)
    put_object_retention,
    get_object_legal_hold,
    put_object_legal_hold,
    get_bucket_notification,
    put_bucket_notification,
    get_bucket_logging,
    put_bucket_logging,
    get_bucket_website,
    put_bucket_website,
    delete_bucket_website,
    get_bucket_accelerate,
    put_bucket_accelerate,
    get_bucket_request_payment,
    put_bucket_request_payment,
    get_bucket_policy_status,
    get_public_access_block,
    put_public_access_block,
    delete_public_access_block,
    list_bucket_analytics,
    get_bucket_analytics,
    delete_bucket_analytics,
    list_bucket_intelligent_tiering,
    get_bucket_intelligent_tiering,
    delete_bucket_intelligent_tiering,
    list_bucket_inventory,
    get_bucket_inventory,
    delete_bucket_inventory,
    list_bucket_metrics,
    get_bucket_metrics,
    delete_bucket_metrics,
    // ifmatch's own endpoints under /_ifmatch/ (path-style hosts only)
    admin,
    // recognised but not implemented: 501 NotImplemented
    unsupported,
};

// The S3 name of an operation ("PutObject"), for logs and metrics.
std::string_view op_name(op o);

struct request_head {
    std::string_view method;      // "GET", ...
    std::string_view target;      // raw request-target: path and query, still encoded
    std::string_view host;        // Host header, may carry a port
    bool has_copy_source = false; // x-amz-copy-source present
};

// A query parameter S3 reads as a number (partNumber): its value as sent (decoded), and the
// number when the whole value is one within int's range (std::stoi's syntax: leading white space
// and a sign allowed). classify never refuses the value: the handler that uses it answers an
// invalid one at its own point, and its error names the value as sent.
struct int_param {
    std::string raw;
    std::optional<int> value;
};

struct classified_request {
    op operation = op::unsupported;
    std::string bucket;     // empty for service-level requests
    std::string key;        // decoded; empty for bucket-level requests
    std::string admin_path; // for op::admin: the path after /_ifmatch/
    bool virtual_host = false;
    std::string raw_path;  // the encoded path as received (for SigV4)
    std::string raw_query; // the encoded query as received
    query_params query;
    // The parameters many handlers read, taken from `query` (nullopt when not sent; the first
    // one when sent twice, as query_params::get). Every other parameter is read from `query`.
    std::optional<std::string> version_id; // ?versionId=
    std::optional<std::string> upload_id;  // ?uploadId= (possibly empty)
    std::optional<int_param> part_number;  // ?partNumber=
};

// Classifies a request. `domain` is the base domain for virtual-hosted style (`localhost`):
// `Host: bucket.localhost:9000` names bucket `bucket` (the domain compares case-insensitively; the
// bucket is the whole prefix before `.<domain>`, dots included). A Host equal to the domain, an IP
// literal, or any other name means path-style. On a path-style host `/_ifmatch/<rest>` is op::admin
// with admin_path `<rest>`. The key is the path after the bucket, percent-decoded once (`+` stays a
// plus; `//`, `.`/`..` segments and a trailing `/` are kept). Query parameters S3 does not route
// on (`x-id`, ...) are ignored; sub-resources we do not implement (`torrent`, PUT `replication`, ...)
// give op::unsupported, which the router answers 501 NotImplemented. Neither the bucket name nor
// the key is validated here beyond being UTF-8 (see is_valid_bucket_name, check_object_key).
// Errors: 400 InvalidURI for a malformed escape, a path segment or query parameter whose decoded
// bytes are not UTF-8, or a target that is not a path; 405 MethodNotAllowed for a method S3 does
// not route on that resource.
result<classified_request> classify(const request_head &h, std::string_view domain);

// The S3 sub-resource of an op::unsupported request (`replication` for `PUT /b?replication`), so the
// 501 can name what is not implemented; nullopt when the query names none.
std::optional<std::string_view> unsupported_subresource(const query_params &q);

// True if `name` follows S3's bucket naming rules (spec wire.md §4.2): 3-63 characters of
// `[a-z0-9.-]`, starting and ending with a letter or digit, no `..`, not shaped like an IPv4
// address, no reserved prefix (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffix (`-s3alias`,
// `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`). The caller answers 400 InvalidBucketName.
bool is_valid_bucket_name(std::string_view name);

// Checks an object key (spec wire.md §4.3): non-empty and valid UTF-8 (InvalidArgument otherwise),
// at most 1024 bytes (KeyTooLongError otherwise).
result<void> check_object_key(std::string_view key);

} // namespace ifmatch::protocol
