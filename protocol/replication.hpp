// Bucket replication configurations (rule ids B-R*: docs/bucket-configuration.md): parsing and
// validating PutBucketReplication's document, its GetBucketReplication rendering, and the pure
// choice of the rule that replicates an object. No I/O, no clock. Pure; safe from any thread.
#pragma once

#include "protocol/errors.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

struct replication_rule {
    std::string id;       // generated when absent (like lifecycle rules)
    int priority = 0;     // Priority, 0 when absent; the higher wins
    bool enabled = false; // Status Enabled|Disabled
    std::string prefix;   // Filter/Prefix, Filter/And/Prefix or the legacy <Prefix>
    std::vector<std::pair<std::string, std::string>> tags; // Filter/Tag or Filter/And/Tag
    std::string destination_bucket;         // from Destination/Bucket "arn:aws:s3:::NAME"
    std::string storage_class;              // Destination/StorageClass, may be empty
    bool delete_marker_replication = false; // DeleteMarkerReplication/Status Enabled (B-R3)
};

struct replication_config {
    std::string role;
    std::vector<replication_rule> rules;
    bool legacy = false; // every rule used the V1 schema (a rule-level <Prefix>, no <Filter>)
};

// Parses and validates PutBucketReplication's <ReplicationConfiguration>: 1 to 1,000 <Rule>s,
// each with a Status, a Destination/Bucket ARN, and either a <Filter> (the V2 schema) or the legacy
// <Prefix> (V1), not both and not neither. Errors:
//  - MalformedXML: bad XML, another root, no Rule, a rule without Status or Destination/Bucket, a
//    Destination/Bucket that is not an arn:aws:s3::: ARN, both or neither of Prefix and Filter, a
//    Filter with more than one predicate outside <And>, a repeated single element, a Tag without
//    a Key;
//  - InvalidArgument: a duplicate rule ID, an ID over 255 characters, more than 1,000 rules, two V2
//    rules with the same Priority, a Priority that is not an integer in [0, 2^31 - 1], a Status
//    other than Enabled or Disabled, a duplicate tag key in a filter;
//  - InvalidRequest: a V2 rule without DeleteMarkerReplication, a V1 rule with one, V1 and V2 rules
//    in one document, a V2 rule whose filter has a Tag and whose DeleteMarkerReplication is
//    Enabled.
// A V1 rule replicates delete markers (S3's backward compatibility), so it parses with
// delete_marker_replication true. Rules without an ID get a generated one.
result<replication_config> parse_replication(std::string_view body);

// GetBucketReplication's document, in S3's element order and in the schema it was sent in (V1
// when `legacy`). For any configuration parse_replication accepted,
// parse_replication(render_replication(c)) gives c back (as values).
std::string render_replication(const replication_config &c);

// The enabled rule that applies to an object with this key and tags (its prefix starts the key and
// every tag of its filter is among `tags`): the matching rule with the highest Priority, the first
// in document order on a tie; nullptr when none. The pointer is into `c`. A delete marker has no
// tags: its rule is replication_rule_for(c, key, {}), and it replicates when that rule's
// delete_marker_replication is set (B-R3).
const replication_rule *
replication_rule_for(const replication_config &c, std::string_view key,
                     const std::vector<std::pair<std::string, std::string>> &tags);

} // namespace ifmatch::protocol
