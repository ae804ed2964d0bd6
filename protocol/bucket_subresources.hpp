// Bucket configurations ifmatch stores and returns without acting on them (transfer acceleration,
// request payment, public access block, server access logging), the documents S3 sends for a
// bucket that has none of a kind (the empty lists of analytics, intelligent-tiering, inventory and
// metrics configurations), and GetBucketPolicyStatus's IsPublic. Rule ids B-N*, B-S*:
// docs/bucket-configuration.md. Pure; safe from any thread.
#pragma once

#include "protocol/bucket_config.hpp"
#include "protocol/errors.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

// `<Root xmlns="…"><IsTruncated>false</IsTruncated></Root>`: a List…Configurations answer for a
// bucket without any (B-N9). `root` is S3's root element, e.g. ListMetricsConfigurationsResult.
std::string render_empty_configuration_list(std::string_view root);

// `<Root xmlns="…"></Root>`: an empty configuration document (B-N7).
std::string render_empty_document(std::string_view root);

// ---- transfer acceleration (B-S4) -----------------------------------------------------------

// <AccelerateConfiguration><Status>Enabled|Suspended</Status>: returns the status. Errors:
// MalformedXML (bad XML, another root, no or another Status); InvalidRequest when `bucket` has a
// period in its name (S3 refuses acceleration for those).
result<std::string> parse_accelerate_configuration(std::string_view body, std::string_view bucket);
// The document for a stored status; an empty status (never configured) gives the empty element.
std::string render_accelerate_configuration(std::string_view status);

// ---- request payment (B-S5) -----------------------------------------------------------------

// <RequestPaymentConfiguration><Payer>Requester|BucketOwner</Payer>: returns the payer. Errors:
// MalformedXML.
result<std::string> parse_request_payment(std::string_view body);
// The document for a stored payer; empty means BucketOwner (B-N8).
std::string render_request_payment(std::string_view payer);

// ---- public access block (B-S6) -------------------------------------------------------------

struct public_access_block {
    bool block_public_acls = false;
    bool ignore_public_acls = false;
    bool block_public_policy = false;
    bool restrict_public_buckets = false;
    bool operator==(const public_access_block &) const = default;
};

// <PublicAccessBlockConfiguration> with the four optional booleans (absent is false). Errors:
// MalformedXML (bad XML, another root, a value other than true/false).
result<public_access_block> parse_public_access_block(std::string_view body);
std::string render_public_access_block(const public_access_block &b);
// The stored form: four characters `0`/`1` in the order of the struct.
std::string encode_public_access_block(const public_access_block &b);
public_access_block decode_public_access_block(std::string_view stored);

// True when `acl` grants anything to AllUsers or AuthenticatedUsers (what BlockPublicAcls
// refuses): the canned public-read, public-read-write and authenticated-read, or such a grant.
bool acl_is_public(const access_control &acl);

// ---- server access logging (B-S2) -----------------------------------------------------------

struct logging_status {
    bool enabled = false; // a LoggingEnabled element was given
    std::string target_bucket;
    std::string target_prefix;
    std::vector<acl_grant> grants; // TargetGrants (permissions FULL_CONTROL, READ, WRITE)
    std::string key_format;        // "", "SimplePrefix" or "PartitionedPrefix"
    std::string partition_source;  // PartitionedPrefix: "", "EventTime" or "DeliveryTime"
};

// <BucketLoggingStatus>, empty (logging off) or with <LoggingEnabled> holding TargetBucket,
// TargetPrefix (both required), TargetGrants and TargetObjectKeyFormat. Errors: MalformedXML.
// Whether the target bucket exists is the caller's check (InvalidTargetBucketForLogging).
result<logging_status> parse_logging_status(std::string_view body);
std::string render_logging_status(const logging_status &s);

// ---- policy status (B-S7) -------------------------------------------------------------------

// GetBucketPolicyStatus's IsPublic for a stored (valid) bucket policy, after S3's "meaning of
// public": some Allow statement grants to a principal that is not fixed (`*`, `{"AWS": "*"}`, a
// value with a wildcard, or NotPrincipal) and has no condition that fixes who may use it (a
// positive operator on aws:SourceIp, aws:SourceArn, aws:SourceVpc, aws:SourceVpce,
// aws:SourceOwner, aws:SourceAccount, aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn,
// aws:userid or s3:x-amz-server-side-encryption-aws-kms-key-id with values without wildcards).
// A document that is not JSON is not public.
bool policy_is_public(std::string_view policy_json);

// <PolicyStatus><IsPublic>true|false</IsPublic></PolicyStatus>.
std::string render_policy_status(bool is_public);

} // namespace ifmatch::protocol
