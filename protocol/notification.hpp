// Bucket event notification configuration (PutBucketNotificationConfiguration): parsing with
// S3's validation and the document GetBucketNotificationConfiguration returns. ifmatch stores the
// configuration and delivers no events (docs/bucket-configuration.md B-S1). Pure.
#pragma once

#include "protocol/errors.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::protocol {

struct notification_target {
    std::string kind; // "Topic", "Queue" or "CloudFunction": the element holding the ARN
    std::string id;   // as sent, or one derived from the target when absent
    std::string arn;
    std::vector<std::string> events;
    std::vector<std::pair<std::string, std::string>> filter; // ("prefix"|"suffix", value)
};

struct notification_configuration {
    std::vector<notification_target> targets;
    bool event_bridge = false;
    bool empty() const { return targets.empty() && !event_bridge; }
};

// Parses <NotificationConfiguration> with TopicConfiguration, QueueConfiguration,
// CloudFunctionConfiguration (Id, the ARN, one or more Event, Filter/S3Key/FilterRule) and
// EventBridgeConfiguration. Errors: MalformedXML (bad XML, unknown elements, a target without its
// ARN or without an Event); InvalidArgument with S3's messages for an unknown event, a filter
// rule name other than prefix/suffix (any case), two rules of one name, a malformed ARN (S3's
// "Unable to validate the following destination configurations"), and two targets that share an
// event type with overlapping filters ("Configurations overlap..." without filters, "Configuration
// is ambiguously defined..." with them).
result<notification_configuration> parse_notification_configuration(std::string_view body);

// The document S3 returns: targets grouped Topic, Queue, CloudFunction, each with Id, ARN, events
// and filter rules named `Prefix` / `Suffix` (S3 capitalises them on the way out); an empty
// configuration is the empty <NotificationConfiguration/> (B-N7).
std::string render_notification_configuration(const notification_configuration &c);

} // namespace ifmatch::protocol
