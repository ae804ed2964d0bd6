// Bucket lifecycle configurations (rule ids B-C*: docs/bucket-configuration.md): parsing and
// validating PutBucketLifecycleConfiguration's document, the stored form and its GET rendering,
// and the pure decisions the lifecycle worker acts on -- which rule applies to a version, when it
// expires (S3's day arithmetic), the x-amz-expiration header. No clock reads: callers pass `now`.
// Pure; safe from any thread.
#pragma once

#include "protocol/errors.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

struct lifecycle_filter {
    std::string prefix;                                  // empty: every key
    std::vector<std::pair<std::string, std::string>> tags; // all must be on the object
    std::optional<std::uint64_t> size_greater_than;      // ObjectSizeGreaterThan (bytes, exclusive)
    std::optional<std::uint64_t> size_less_than;         // ObjectSizeLessThan (bytes, exclusive)
};

struct lifecycle_transition {
    std::optional<int> days;         // Days, or NoncurrentDays for a noncurrent transition
    std::optional<std::int64_t> date_ms;
    std::string storage_class;
    std::optional<int> newer_noncurrent_versions;
};

struct lifecycle_rule {
    std::string id;
    bool enabled = false; // Status Enabled (else Disabled)
    lifecycle_filter filter;
    // Expiration of the current version: Days (midnight UTC after N days, B-C1) or Date (ms since
    // the epoch, midnight UTC), and/or ExpiredObjectDeleteMarker (B-C3).
    std::optional<int> expiration_days;
    std::optional<std::int64_t> expiration_date_ms;
    bool expired_object_delete_marker = false;
    // NoncurrentVersionExpiration (B-C2).
    std::optional<int> noncurrent_days;
    std::optional<int> newer_noncurrent_versions;
    // AbortIncompleteMultipartUpload DaysAfterInitiation (B-C4).
    std::optional<int> abort_upload_days;
    // Transition / NoncurrentVersionTransition: accepted and kept (bytes never move).
    std::vector<lifecycle_transition> transitions;
    std::vector<lifecycle_transition> noncurrent_transitions;
};

struct lifecycle_config {
    std::vector<lifecycle_rule> rules;
};

// Parses and validates a <LifecycleConfiguration> (B-C6): well-formed XML with that root, 1 to
// 1,000 <Rule>s, each with a <Status> of Enabled or Disabled, a <Filter> (or the legacy <Prefix>),
// and at least one action. Errors: MalformedXML (bad XML, another root, a rule without Filter or
// Prefix or Status or any action, a Filter with more than one of Prefix/Tag/size without <And>),
// InvalidArgument (a duplicate or over-255-character ID, Days or NoncurrentDays not a positive
// integer, a Date that is not midnight UTC in ISO 8601, ExpiredObjectDeleteMarker together with
// Days or Date, ObjectSizeGreaterThan not less than ObjectSizeLessThan, more than 1,000 rules).
// Rules without an ID get a generated one (as S3 does), so every action can name its rule.
result<lifecycle_config> parse_lifecycle(std::string_view body);

// The stored form (what GET renders back): the configuration as a <LifecycleConfiguration>
// document in S3's element order; parse_lifecycle(render_lifecycle(c)) gives c back.
std::string render_lifecycle(const lifecycle_config &c);

// Whether `rule` (enabled) applies to an object with this key, size and tags.
bool lifecycle_applies(const lifecycle_rule &rule, std::string_view key, std::uint64_t size,
                       const std::vector<std::pair<std::string, std::string>> &tags);

// S3's day arithmetic (B-C1): `days` days after `since_ms`, rounded up to the next midnight UTC
// (a time exactly at midnight stays). Also used for NoncurrentDays (from when the version became
// noncurrent) and DaysAfterInitiation.
std::int64_t lifecycle_due_ms(std::int64_t since_ms, int days);

// When the current version of an object (created `last_modified_ms`) expires under the config, and
// by which rule: the earliest Expiration (Days or Date) of the enabled rules that apply; nullopt
// when none does.
struct lifecycle_expiry {
    std::int64_t due_ms = 0;
    std::string rule_id;
};
std::optional<lifecycle_expiry> current_expiry(const lifecycle_config &c, std::string_view key,
                                               std::uint64_t size,
                                               const std::vector<std::pair<std::string, std::string>> &tags,
                                               std::int64_t last_modified_ms);

// The x-amz-expiration header value (B-C5): `expiry-date="<IMF-fixdate>", rule-id="<id>"`.
std::string expiration_header(const lifecycle_expiry &e);

} // namespace ifmatch::protocol
