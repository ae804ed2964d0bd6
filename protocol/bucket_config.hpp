// Server-side encryption, ACLs and object ownership: the request headers, the configuration
// documents S3 exchanges for them, and their stored (one-string) forms. ifmatch encrypts nothing:
// it accepts, stores and echoes the settings, and gives SSE-KMS objects a non-MD5 ETag (R-E2).
// Pure.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/preconditions.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

// ---- server-side encryption -----------------------------------------------------------------

struct sse_spec {
    std::string algorithm;  // "AES256", "aws:kms" or "aws:kms:dsse"
    std::string kms_key_id; // KMS only; empty: the account's default `aws/s3` key
    bool bucket_key = false;
    bool is_kms() const { return algorithm.starts_with("aws:kms"); }
};

// The x-amz-server-side-encryption* headers of a write; nullopt when absent. Errors:
// InvalidArgument for an unknown algorithm, a KMS key id or bucket-key flag without aws:kms,
// NotImplemented for SSE-C (x-amz-server-side-encryption-customer-*).
result<std::optional<sse_spec>> parse_sse_headers(const header_lookup &h);

// The KMS key id S3 reports when the request named none (the account's AWS managed key).
std::string default_kms_key(std::string_view region);

// ETag of an SSE-KMS object (R-E2): not the MD5 but a deterministic derivation of it,
// `"` + hex(MD5(md5_hex + ":" + key_id)) + `"`, so the same content under the same key keeps
// one ETag. `md5_hex` is the body's lower-case hex MD5 without quotes.
std::string kms_etag(std::string_view md5_hex, std::string_view key_id);

// <ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm/>
// <KMSMasterKeyID/></…><BucketKeyEnabled/></Rule>. Errors: MalformedXML, InvalidArgument.
result<sse_spec> parse_sse_configuration(std::string_view body);
std::string render_sse_configuration(const sse_spec &s);
std::string encode_sse(const sse_spec &s);
sse_spec decode_sse(std::string_view stored);

// ---- ACLs -----------------------------------------------------------------------------------

struct acl_grant {
    std::string type;       // "CanonicalUser", "Group", "AmazonCustomerByEmail"
    std::string value;      // the ID, URI or email address
    std::string permission; // FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP
};

struct access_control {
    std::string canned;            // a canned ACL, or empty
    std::vector<acl_grant> grants; // explicit grants (headers or an AccessControlPolicy body)
    bool empty() const { return canned.empty() && grants.empty(); }
};

// x-amz-acl and x-amz-grant-* of a request; an empty result when neither is present. Errors:
// InvalidArgument (unknown canned ACL, malformed grantee), InvalidRequest (both kinds given).
result<access_control> parse_acl_headers(const header_lookup &h);
// An AccessControlPolicy body. Errors: MalformedACLError.
result<access_control> parse_access_control_policy(std::string_view body);
// <AccessControlPolicy> with the owner, FULL_CONTROL for the owner, and the stored ACL's grants
// (a canned ACL expanded to the groups it names).
std::string render_access_control_policy(const access_control &acl, std::string_view owner_id);
std::string encode_acl(const access_control &acl);
access_control decode_acl(std::string_view stored);

// ---- object ownership -----------------------------------------------------------------------

// True for BucketOwnerEnforced, BucketOwnerPreferred and ObjectWriter.
bool is_object_ownership(std::string_view v);
// <OwnershipControls><Rule><ObjectOwnership/></Rule></OwnershipControls>. Errors: MalformedXML.
result<std::string> parse_ownership_controls(std::string_view body);
std::string render_ownership_controls(std::string_view ownership);

} // namespace ifmatch::protocol
