// S3 Object Lock (rule ids B-L*: docs/bucket-configuration.md): the bucket's lock configuration
// document, the retention and legal-hold documents, the lock of a stored version as metadata
// entries, the lock a write asks for (headers or the bucket default), and the decisions that
// refuse a permanent delete or a retention change. No clock reads: callers pass `now_ms`
// (milliseconds since the epoch, the store's clock). Pure; safe from any thread.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/preconditions.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

// The header names S3 uses for a version's lock; also the names of its metadata entries.
inline constexpr std::string_view lock_mode_header = "x-amz-object-lock-mode";
inline constexpr std::string_view lock_until_header = "x-amz-object-lock-retain-until-date";
inline constexpr std::string_view lock_hold_header = "x-amz-object-lock-legal-hold";

// A bucket's <ObjectLockConfiguration>. `mode` is GOVERNANCE or COMPLIANCE; with a mode, exactly
// one of `days` and `years` is set (the default retention); without one, neither is.
struct lock_config {
    bool enabled = true;
    std::optional<std::string> mode;
    std::optional<int> days, years;
    bool operator==(const lock_config &) const = default;
};

// Parses PutObjectLockConfiguration's body. Errors: MalformedXML (bad XML, another root,
// ObjectLockEnabled missing or not "Enabled", a Rule without DefaultRetention, a DefaultRetention
// without Mode, with a Mode other than GOVERNANCE/COMPLIANCE, with both Days and Years or with
// neither, a Days/Years that is not an integer); InvalidArgument (ArgumentName Days or Years) for
// a Days or Years that is not positive or above 36,500 days / 100 years.
result<lock_config> parse_lock_config(std::string_view xml);

// GetObjectLockConfiguration's body; parse_lock_config(render_lock_config(c)) == c.
std::string render_lock_config(const lock_config &c);

// An object retention: GOVERNANCE or COMPLIANCE until `retain_until_ms`.
struct retention {
    std::string mode;
    std::int64_t retain_until_ms = 0;
    bool operator==(const retention &) const = default;
};

// Parses PutObjectRetention's body. An empty <Retention/> gives nullopt: "remove the retention"
// (allowed only where retention_change_refusal says so). Errors: MalformedXML (bad XML, another
// root, Mode without RetainUntilDate or the reverse, a Mode other than GOVERNANCE/COMPLIANCE, a
// RetainUntilDate that is not ISO 8601); InvalidArgument "The retain until date must be in the
// future!" when RetainUntilDate <= now_ms.
result<std::optional<retention>> parse_retention(std::string_view xml, std::int64_t now_ms);

// GetObjectRetention's body (RetainUntilDate as `2030-01-01T00:00:00.000Z`).
std::string render_retention(const retention &r);

// Parses PutObjectLegalHold's body: <LegalHold><Status>ON|OFF</Status></LegalHold> -> true|false.
// Errors: MalformedXML (bad XML, another root, Status missing or another value).
result<bool> parse_legal_hold(std::string_view xml);

// GetObjectLegalHold's body.
std::string render_legal_hold(bool on);

// The lock of one stored version. A retention has both `mode` and `retain_until_ms` or neither.
struct version_lock {
    std::optional<std::string> mode;
    std::optional<std::int64_t> retain_until_ms;
    bool legal_hold = false;
    bool operator==(const version_lock &) const = default;
};

using metadata_entries = std::vector<std::pair<std::string, std::string>>;

// Reads a version's lock from its metadata entries (names as the three headers above; the date in
// ISO 8601, the hold ON/OFF). Entries it does not understand are ignored, as is half a retention.
version_lock lock_of(const metadata_entries &extra);

// Replaces the lock entries of `extra` by `lock`: mode and date when it has a retention
// (`2030-01-01T00:00:00.000Z`, as S3 returns the header), the legal hold only when ON. Other
// entries keep their order.
void set_lock(metadata_entries &extra, const version_lock &lock);

// GetObjectRetention: the version's retention; 404 NoSuchObjectLockConfiguration when it has none.
result<retention> retention_of(const version_lock &lock);

// What a write (PutObject, CopyObject, CreateMultipartUpload, POST Object) needs besides its
// lock headers.
struct lock_write_context {
    bool bucket_lock_enabled = false;
    std::optional<lock_config> bucket_default; // the bucket's stored configuration, if any
    std::int64_t now_ms = 0;
    // Content-MD5 or an x-amz-checksum-* header is present. Callers for which the rule does not
    // apply (CopyObject and CreateMultipartUpload carry no body) pass true.
    bool has_integrity_header = false;
};

// The lock a new version gets from the three x-amz-object-lock-* headers `h` finds, else from the
// bucket's default retention (mode, now + Days x 24 h or Years x 365 x 24 h). Errors, in order:
// - 400 InvalidRequest "Bucket is missing ObjectLockConfiguration": any of the headers on a
//   bucket without Object Lock (B-L5);
// - 400 InvalidArgument (ArgumentName, ArgumentValue) "Unknown wormMode directive." / "Legal Hold
//   must be either of 'ON' or 'OFF'" for another mode or hold value;
// - 400 InvalidArgument "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both
//   be supplied" for one without the other;
// - 400 InvalidArgument (ArgumentName, ArgumentValue) "The retain until date must be provided in
//   ISO 8601 format", then "The retain until date must be in the future!";
// - 400 InvalidRequest "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object
//   requests with Object Lock parameters" when the result locks anything (or a header asked for
//   a lock) and there is no integrity header (B-L6).
result<version_lock> lock_from_headers(const header_lookup &h, const lock_write_context &ctx);

// B-L3, B-L4: whether permanently deleting a version with this lock is refused: 403 AccessDenied
// "Access Denied because object protected by object lock." under a legal hold, a COMPLIANCE
// retention in force, or a GOVERNANCE retention in force without `bypass_governance`
// (x-amz-bypass-governance-retention: true). A retention is in force while now_ms < until.
std::optional<s3_error> deletion_refusal(const version_lock &lock, std::int64_t now_ms,
                                         bool bypass_governance);

// B-L4: whether PutObjectRetention may replace `current`'s retention by `wanted` (nullopt:
// remove it). 403 AccessDenied when a COMPLIANCE retention in force would be shortened, removed
// or changed to GOVERNANCE, or a GOVERNANCE one in force shortened, removed or changed to
// COMPLIANCE without `bypass_governance`. Keeping the mode and a date at least as late is always
// allowed; a retention no longer in force (or none) may be replaced freely.
std::optional<s3_error> retention_change_refusal(const version_lock &current,
                                                 const std::optional<retention> &wanted,
                                                 std::int64_t now_ms, bool bypass_governance);

// B-L1: PutBucketVersioning with `status` (Enabled/Suspended) on a bucket with Object Lock:
// 409 InvalidBucketState when it would suspend versioning; nullopt otherwise.
std::optional<s3_error> versioning_change_refusal(bool bucket_lock_enabled,
                                                  std::string_view status);

} // namespace ifmatch::protocol
