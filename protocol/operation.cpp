// Request classification (spec wire.md §4 addressing, §6 operations). The decision is made in three
// steps, each a small function: (1) split the target and find the bucket from the Host header or
// the first path segment; (2) pick the level (service, bucket, object, admin); (3) route method +
// query at that level. Nothing here looks at storage: whether the bucket exists is the handler's
// business.

#include "protocol/operation.hpp"

#include "protocol/text.hpp"
#include "protocol/utf8.hpp"

#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <limits>

namespace ifmatch::protocol {
namespace {

// Sub-resources S3 serves and ifmatch does not (yet): any of them makes the request
// op::unsupported, unless route_surface routed it first (the bucket configurations at a bucket).
constexpr std::string_view unsupported_subresources[] = {
    "abac",
    "accelerate",
    "analytics",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metadataConfiguration",
    "metadataInventoryTable",
    "metadataJournalTable",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "policyStatus",
    "publicAccessBlock",
    "renameObject",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "select-type",
    "session",
    "torrent",
    "website",
};

// True for four dot-separated runs of 1-3 digits (the shape S3 rejects in bucket names).
bool is_ipv4_shaped(std::string_view s) {
    int groups = 0;
    while (true) {
        const auto dot = s.find('.');
        const auto group = s.substr(0, dot);
        if (group.empty() || group.size() > 3 ||
            group.find_first_not_of("0123456789") != std::string_view::npos) {
            return false;
        }
        ++groups;
        if (dot == std::string_view::npos) {
            return groups == 4;
        }
        s.remove_prefix(dot + 1);
    }
}

// The Host header without port and trailing dot, lower-cased. IPv6 literals keep their brackets.
std::string host_name(std::string_view host) {
    if (!host.empty() && host.front() == '[') {
        return ascii::lower(host.substr(0, host.find(']') + 1));
    }
    host = host.substr(0, host.find(':'));
    if (!host.empty() && host.back() == '.') {
        host.remove_suffix(1);
    }
    return ascii::lower(host);
}

// The bucket named by a virtual-hosted Host (`bucket.<domain>`), or empty for path-style.
std::string virtual_host_bucket(std::string_view host_header, std::string_view domain) {
    const auto host = host_name(host_header);
    const auto base = ascii::lower(domain);
    if (base.empty() || host.empty() || host.front() == '[' || is_ipv4_shaped(host) ||
        host.size() <= base.size() + 1) {
        return {};
    }
    const auto split = host.size() - base.size() - 1;
    if (host[split] != '.' || host.compare(split + 1, std::string::npos, base) != 0) {
        return {};
    }
    return host.substr(0, split);
}

// The surface sub-resources (encryption, acl, ownershipControls, tagging, cors, attributes), the
// bucket configurations, OPTIONS and POST Object; nullopt when the request is none of them.
// `object` selects the object level. A GET of a configuration kept per id (`analytics`, ...)
// without `id` lists them. Methods a sub-resource has no operation for, and the PUTs that would
// have to act on a configuration (analytics, ...), are
// op::unsupported (501).
std::optional<op> route_surface(std::string_view m, const query_params &q, bool object) {
    if (m == "OPTIONS") {
        return op::cors_preflight;
    }
    struct row {
        std::string_view sub;
        bool object;
        op get, put, del;
        op list = op::unsupported; // GET without `id`
    };
    constexpr op none = op::unsupported;
    static constexpr row rows[] = {
        {"encryption", false, op::get_bucket_encryption, op::put_bucket_encryption,
         op::delete_bucket_encryption},
        {"acl", false, op::get_bucket_acl, op::put_bucket_acl, none},
        {"ownershipControls", false, op::get_bucket_ownership_controls,
         op::put_bucket_ownership_controls, op::delete_bucket_ownership_controls},
        {"tagging", false, op::get_bucket_tagging, op::put_bucket_tagging,
         op::delete_bucket_tagging},
        {"cors", false, op::get_bucket_cors, op::put_bucket_cors, op::delete_bucket_cors},
        {"acl", true, op::get_object_acl, op::put_object_acl, none},
        {"tagging", true, op::get_object_tagging, op::put_object_tagging,
         op::delete_object_tagging},
        {"attributes", true, op::get_object_attributes, none, none},
        {"lifecycle", false, op::get_bucket_lifecycle, op::put_bucket_lifecycle,
         op::delete_bucket_lifecycle},
        {"replication", false, op::get_bucket_replication, op::put_bucket_replication,
         op::delete_bucket_replication},
        {"object-lock", false, op::get_object_lock_configuration,
         op::put_object_lock_configuration, none},
        {"retention", true, op::get_object_retention, op::put_object_retention, none},
        {"legal-hold", true, op::get_object_legal_hold, op::put_object_legal_hold, none},
        {"notification", false, op::get_bucket_notification, op::put_bucket_notification, none},
        {"logging", false, op::get_bucket_logging, op::put_bucket_logging, none},
        {"website", false, op::get_bucket_website, op::put_bucket_website,
         op::delete_bucket_website},
        {"accelerate", false, op::get_bucket_accelerate, op::put_bucket_accelerate, none},
        {"requestPayment", false, op::get_bucket_request_payment, op::put_bucket_request_payment,
         none},
        {"policyStatus", false, op::get_bucket_policy_status, none, none},
        {"publicAccessBlock", false, op::get_public_access_block, op::put_public_access_block,
         op::delete_public_access_block},
        {"analytics", false, op::get_bucket_analytics, none, op::delete_bucket_analytics,
         op::list_bucket_analytics},
        {"intelligent-tiering", false, op::get_bucket_intelligent_tiering, none,
         op::delete_bucket_intelligent_tiering, op::list_bucket_intelligent_tiering},
        {"inventory", false, op::get_bucket_inventory, none, op::delete_bucket_inventory,
         op::list_bucket_inventory},
        {"metrics", false, op::get_bucket_metrics, none, op::delete_bucket_metrics,
         op::list_bucket_metrics},
    };
    for (const auto &r : rows) {
        if (r.object != object || !q.has(r.sub)) {
            continue;
        }
        if (m == "GET" && r.list != none && !q.has("id")) {
            return r.list;
        }
        return m == "GET" ? r.get : m == "PUT" ? r.put : m == "DELETE" ? r.del : none;
    }
    if (!object && m == "POST" && !q.has("delete")) {
        return op::post_object;
    }
    return std::nullopt;
}

bool has_unsupported_subresource(const query_params &q) {
    return unsupported_subresource(q).has_value();
}

result<op> route_bucket_get(const query_params &q) {
    if (q.has("location")) {
        return op::get_bucket_location;
    }
    if (q.has("versioning")) {
        return op::get_bucket_versioning;
    }
    if (q.has("policy")) {
        return op::get_bucket_policy;
    }
    if (q.has("versions")) {
        return op::list_object_versions;
    }
    if (q.has("uploads")) {
        return op::list_multipart_uploads;
    }
    return q.get("list-type") == std::optional<std::string_view>("2") ? op::list_objects_v2
                                                                      : op::list_objects_v1;
}

result<op> route_bucket(std::string_view method, const query_params &q) {
    if (auto s = route_surface(method, q, false)) {
        return *s;
    }
    if (has_unsupported_subresource(q)) {
        return op::unsupported;
    }
    if (method == "GET") {
        return route_bucket_get(q);
    }
    if (method == "HEAD") {
        return op::head_bucket;
    }
    if (method == "PUT") {
        return q.has("versioning") ? op::put_bucket_versioning
               : q.has("policy")   ? op::put_bucket_policy
                                   : op::create_bucket;
    }
    if (method == "DELETE") {
        return q.has("policy") ? op::delete_bucket_policy : op::delete_bucket;
    }
    if (method == "POST") {
        // POST without `delete` is POST Object (route_surface); this line is not reached then.
        return q.has("delete") ? op::delete_objects : op::unsupported;
    }
    return s3_error(s3_errc::method_not_allowed);
}

result<op> route_object(std::string_view method, const query_params &q, bool has_copy_source) {
    if (auto s = route_surface(method, q, true)) {
        return *s;
    }
    if (has_unsupported_subresource(q)) {
        return op::unsupported;
    }
    const bool upload = q.has("uploadId");
    if (method == "GET") {
        return upload ? op::list_parts : op::get_object;
    }
    if (method == "HEAD") {
        return op::head_object;
    }
    if (method == "PUT") {
        if (upload && q.has("partNumber")) {
            return has_copy_source ? op::upload_part_copy : op::upload_part;
        }
        return has_copy_source ? op::copy_object : op::put_object;
    }
    if (method == "DELETE") {
        return upload ? op::abort_multipart_upload : op::delete_object;
    }
    if (method == "POST" && q.has("uploads")) {
        return op::create_multipart_upload;
    }
    if (method == "POST" && upload) {
        return op::complete_multipart_upload;
    }
    return s3_error(s3_errc::method_not_allowed);
}

// Removes `scheme://authority` from an absolute-form target (RFC 9112 §3.2.2).
std::string_view origin_form(std::string_view target) {
    for (const std::string_view scheme : {"http://", "https://"}) {
        if (target.substr(0, scheme.size()) == scheme) {
            const auto slash = target.find('/', scheme.size());
            return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        }
    }
    return target;
}

// Fills bucket/key (or admin_path) of `out` from the encoded path, for the addressing style.
// A path whose decoded bytes are not UTF-8 cannot name a bucket or a key: S3 answers such a
// request (a PUT as well as a GET) 400 InvalidURI before it looks anything up.
result<void> locate(classified_request &out, std::string_view path) {
    std::string_view rest = path.substr(1);
    if (!out.virtual_host) {
        const auto slash = rest.find('/');
        const auto segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        auto bucket = percent_decode(segment);
        if (!bucket || (bucket->empty() && !rest.empty()) || !is_utf8(*bucket)) {
            return s3_error(s3_errc::invalid_uri);
        }
        out.bucket = std::move(*bucket);
    }
    auto key = percent_decode(rest);
    if (!key || !is_utf8(*key)) {
        return s3_error(s3_errc::invalid_uri);
    }
    if (!out.virtual_host && out.bucket == "_ifmatch") {
        out.operation = op::admin;
        out.admin_path = std::move(*key);
        out.bucket.clear();
    } else {
        out.key = std::move(*key);
    }
    return {};
}

// The number std::stoi reads from `s` when it reads the whole of `s` (optional white space and
// sign, decimal digits, within int's range), without its exceptions.
std::optional<int> whole_int(const std::string &s) {
    const char *begin = s.c_str();
    char *end = nullptr;
    errno = 0;
    const long v = std::strtol(begin, &end, 10);
    if (end == begin || errno == ERANGE || v < std::numeric_limits<int>::min() ||
        v > std::numeric_limits<int>::max() || static_cast<std::size_t>(end - begin) != s.size()) {
        return std::nullopt;
    }
    return static_cast<int>(v);
}

// Copies the parameters many handlers read out of the query string (classified_request).
void read_common_params(classified_request &out) {
    if (const auto v = out.query.get("versionId")) {
        out.version_id = std::string(*v);
    }
    if (const auto v = out.query.get("uploadId")) {
        out.upload_id = std::string(*v);
    }
    if (const auto v = out.query.get("partNumber")) {
        std::string raw(*v);
        auto value = whole_int(raw);
        out.part_number = int_param{std::move(raw), value};
    }
}

// Picks the operation once bucket and key are known.
result<op> route(const classified_request &r, const request_head &h) {
    if (r.operation == op::admin) {
        return op::admin;
    }
    if (r.bucket.empty()) {
        if (h.method == "GET") {
            return op::list_buckets;
        }
        return h.method == "OPTIONS" ? result<op>(op::unsupported)
                                     : result<op>(s3_error(s3_errc::method_not_allowed));
    }
    if (r.key.empty()) {
        return route_bucket(h.method, r.query);
    }
    return route_object(h.method, r.query, h.has_copy_source);
}

// S3 operation names, one per op enumerator in declaration order.
constexpr std::string_view op_names[] = {
    "ListBuckets",             // list_buckets
    "CreateBucket",            // create_bucket
    "DeleteBucket",            // delete_bucket
    "HeadBucket",              // head_bucket
    "GetBucketLocation",       // get_bucket_location
    "GetBucketVersioning",     // get_bucket_versioning
    "PutBucketVersioning",     // put_bucket_versioning
    "GetBucketPolicy",         // get_bucket_policy
    "PutBucketPolicy",         // put_bucket_policy
    "DeleteBucketPolicy",      // delete_bucket_policy
    "ListObjects",             // list_objects_v1
    "ListObjectsV2",           // list_objects_v2
    "ListObjectVersions",      // list_object_versions
    "ListMultipartUploads",    // list_multipart_uploads
    "DeleteObjects",           // delete_objects
    "GetObject",               // get_object
    "HeadObject",              // head_object
    "PutObject",               // put_object
    "CopyObject",              // copy_object
    "DeleteObject",            // delete_object
    "CreateMultipartUpload",   // create_multipart_upload
    "UploadPart",              // upload_part
    "UploadPartCopy",          // upload_part_copy
    "CompleteMultipartUpload", // complete_multipart_upload
    "AbortMultipartUpload",    // abort_multipart_upload
    "ListParts",               // list_parts
    "GetBucketEncryption",            // get_bucket_encryption
    "PutBucketEncryption",            // put_bucket_encryption
    "DeleteBucketEncryption",         // delete_bucket_encryption
    "GetBucketAcl",                   // get_bucket_acl
    "PutBucketAcl",                   // put_bucket_acl
    "GetBucketOwnershipControls",     // get_bucket_ownership_controls
    "PutBucketOwnershipControls",     // put_bucket_ownership_controls
    "DeleteBucketOwnershipControls",  // delete_bucket_ownership_controls
    "GetBucketTagging",               // get_bucket_tagging
    "PutBucketTagging",               // put_bucket_tagging
    "DeleteBucketTagging",            // delete_bucket_tagging
    "GetBucketCors",                  // get_bucket_cors
    "PutBucketCors",                  // put_bucket_cors
    "DeleteBucketCors",               // delete_bucket_cors
    "GetObjectAcl",                   // get_object_acl
    "PutObjectAcl",                   // put_object_acl
    "GetObjectTagging",               // get_object_tagging
    "PutObjectTagging",               // put_object_tagging
    "DeleteObjectTagging",            // delete_object_tagging
    "GetObjectAttributes",            // get_object_attributes
    "PostObject",                     // post_object
    "PreflightRequest",               // cors_preflight
    "GetBucketLifecycleConfiguration",            // get_bucket_lifecycle
    "PutBucketLifecycleConfiguration",            // put_bucket_lifecycle
    "DeleteBucketLifecycle",                      // delete_bucket_lifecycle
    "GetBucketReplication",                       // get_bucket_replication
    "PutBucketReplication",                       // put_bucket_replication
    "DeleteBucketReplication",                    // delete_bucket_replication
    "GetObjectLockConfiguration",                 // get_object_lock_configuration
    "PutObjectLockConfiguration",                 // put_object_lock_configuration
    "GetObjectRetention",                         // get_object_retention
    "PutObjectRetention",                         // put_object_retention
    "GetObjectLegalHold",                         // get_object_legal_hold
    "PutObjectLegalHold",                         // put_object_legal_hold
    "GetBucketNotificationConfiguration",         // get_bucket_notification
    "PutBucketNotificationConfiguration",         // put_bucket_notification
    "GetBucketLogging",                           // get_bucket_logging
    "PutBucketLogging",                           // put_bucket_logging
    "GetBucketWebsite",                           // get_bucket_website
    "PutBucketWebsite",                           // put_bucket_website
    "DeleteBucketWebsite",                        // delete_bucket_website
    "GetBucketAccelerateConfiguration",           // get_bucket_accelerate
    "PutBucketAccelerateConfiguration",           // put_bucket_accelerate
    "GetBucketRequestPayment",                    // get_bucket_request_payment
    "PutBucketRequestPayment",                    // put_bucket_request_payment
    "GetBucketPolicyStatus",                      // get_bucket_policy_status
    "GetPublicAccessBlock",                       // get_public_access_block
    "PutPublicAccessBlock",                       // put_public_access_block
    "DeletePublicAccessBlock",                    // delete_public_access_block
    "ListBucketAnalyticsConfigurations",          // list_bucket_analytics
    "GetBucketAnalyticsConfiguration",            // get_bucket_analytics
    "DeleteBucketAnalyticsConfiguration",         // delete_bucket_analytics
    "ListBucketIntelligentTieringConfigurations", // list_bucket_intelligent_tiering
    "GetBucketIntelligentTieringConfiguration",   // get_bucket_intelligent_tiering
    "DeleteBucketIntelligentTieringConfiguration", // delete_bucket_intelligent_tiering
    "ListBucketInventoryConfigurations",          // list_bucket_inventory
    "GetBucketInventoryConfiguration",            // get_bucket_inventory
    "DeleteBucketInventoryConfiguration",         // delete_bucket_inventory
    "ListBucketMetricsConfigurations",            // list_bucket_metrics
    "GetBucketMetricsConfiguration",              // get_bucket_metrics
    "DeleteBucketMetricsConfiguration",           // delete_bucket_metrics
    "Admin",                   // admin
    "Unsupported",             // unsupported
};
static_assert(std::size(op_names) == static_cast<std::size_t>(op::unsupported) + 1,
              "every op needs a name");

} // namespace

std::string_view op_name(op o) {
    const auto i = static_cast<std::size_t>(o);
    return i < std::size(op_names) ? op_names[i] : std::string_view("Unknown");
}

std::optional<std::string_view> unsupported_subresource(const query_params &q) {
    for (const auto name : unsupported_subresources) {
        if (q.has(name)) {
            return name;
        }
    }
    return std::nullopt;
}

result<classified_request> classify(const request_head &h, std::string_view domain) {
    const auto target = origin_form(h.target);
    if (target.empty() || target.front() != '/') {
        return s3_error(s3_errc::invalid_uri);
    }
    const auto question = target.find('?');
    classified_request out;
    out.raw_path = std::string(target.substr(0, question));
    out.raw_query = question == std::string_view::npos ? std::string()
                                                       : std::string(target.substr(question + 1));
    auto query = query_params::parse(out.raw_query);
    if (!query) {
        return s3_error(s3_errc::invalid_uri);
    }
    // Parameters are echoed in responses (Prefix, Marker, ...): like the path, they must decode
    // to UTF-8.
    for (const auto &[name, value] : query->items()) {
        if (!is_utf8(name) || !is_utf8(value)) {
            return s3_error(s3_errc::invalid_uri);
        }
    }
    out.query = std::move(*query);
    read_common_params(out);
    out.bucket = virtual_host_bucket(h.host, domain);
    out.virtual_host = !out.bucket.empty();
    if (auto located = locate(out, out.raw_path); !located) {
        return located.error();
    }
    auto operation = route(out, h);
    if (!operation) {
        return operation.error();
    }
    out.operation = *operation;
    return out;
}

bool is_valid_bucket_name(std::string_view name) {
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (name.size() < 3 || name.size() > 63 || !alnum(name.front()) || !alnum(name.back()) ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") !=
            std::string_view::npos ||
        name.find("..") != std::string_view::npos || is_ipv4_shaped(name)) {
        return false;
    }
    for (const std::string_view prefix : {"xn--", "sthree-", "amzn-s3-demo-"}) {
        if (name.starts_with(prefix)) {
            return false;
        }
    }
    for (const std::string_view suffix : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
        if (name.ends_with(suffix)) {
            return false;
        }
    }
    return true;
}

result<void> check_object_key(std::string_view key) {
    if (key.size() > 1024) {
        return s3_error(s3_errc::key_too_long);
    }
    for (std::size_t i = 0; i < key.size();) {
        const auto n = utf8_sequence(key, i);
        if (n == 0) {
            return s3_error(s3_errc::invalid_argument, "Object key is not valid UTF-8.");
        }
        i += n;
    }
    if (key.empty()) {
        return s3_error(s3_errc::invalid_argument, "Object key must not be empty.");
    }
    return {};
}

} // namespace ifmatch::protocol
