// Bucket event notification configuration (see notification.hpp).
//
// RULES
// 1. Every event must be one S3 publishes for notifications; `s3:X:*` covers every `s3:X:…`.
// 2. A filter holds at most one prefix and one suffix rule; names compare case-insensitively.
// 3. Two targets that share an event type (rule 1's coverage counts) overlap when neither has a
//    filter (S3: "Configurations overlap"), or when their prefixes overlap (one starts with the
//    other; none counts as "") and so do their suffixes (one ends with the other): S3's
//    "Configuration is ambiguously defined".
#include "protocol/notification.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <algorithm>
#include <array>

namespace ifmatch::protocol {
namespace {

constexpr std::array<std::string_view, 27> known_events{
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAcl:Put",
};

struct kind_info {
    std::string_view element; // TopicConfiguration, ...
    std::string_view kind;    // Topic, ...: the element holding the ARN
    std::string_view service; // the ARN's service
};
constexpr std::array<kind_info, 3> kinds{{
    {"TopicConfiguration", "Topic", "sns"},
    {"QueueConfiguration", "Queue", "sqs"},
    {"CloudFunctionConfiguration", "CloudFunction", "lambda"},
}};

s3_error invalid(std::string message) {
    return s3_error(s3_errc::invalid_argument, std::move(message));
}

// arn:partition:service:region:account:resource, with the service the kind of target needs.
bool valid_arn(std::string_view arn, std::string_view service) {
    std::array<std::string_view, 6> parts{};
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        const auto colon = arn.find(':');
        if (colon == std::string_view::npos) {
            return false;
        }
        parts[i] = arn.substr(0, colon);
        arn.remove_prefix(colon + 1);
    }
    parts[5] = arn; // the resource may hold colons (a Lambda function's version or alias)
    return parts[0] == "arn" && !parts[1].empty() && parts[2] == service && !parts[5].empty();
}

result<void> parse_filter(const pugi::xml_node &filter, notification_target &t) {
    for (const auto &rule : xmln::children(xmln::child(filter, "S3Key"), "FilterRule")) {
        auto name = ascii::lower(xmln::text(rule, "Name"));
        if (name != "prefix" && name != "suffix") {
            return invalid("filter rule name must be either prefix or suffix");
        }
        for (const auto &[n, v] : t.filter) {
            if (n == name) {
                return invalid("Cannot specify more than one " + name + " rule in a filter.");
            }
        }
        t.filter.emplace_back(name, xmln::child(rule, "Value").child_value());
    }
    return {};
}

// An id for a target sent without one: stable for the same target (S3 makes up its own).
std::string derived_id(const notification_target &t) {
    std::string material = t.kind + "\n" + t.arn;
    for (const auto &e : t.events) {
        material += "\n" + e;
    }
    for (const auto &[n, v] : t.filter) {
        material += "\n" + n + "=" + v;
    }
    return base64_encode(md5_raw(material)).substr(0, 22);
}

result<notification_target> parse_target(const pugi::xml_node &n, const kind_info &k) {
    notification_target t;
    t.kind = k.kind;
    t.id = xmln::text(n, "Id");
    t.arn = xmln::text(n, k.kind);
    for (const auto &e : xmln::children(n, "Event")) {
        t.events.emplace_back(e.child_value());
    }
    if (t.arn.empty() || t.events.empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    for (const auto &e : t.events) {
        if (std::find(known_events.begin(), known_events.end(), e) == known_events.end()) {
            return invalid("The event is not supported for notifications")
                .with("ArgumentName", "Event")
                .with("ArgumentValue", e);
        }
    }
    if (!valid_arn(t.arn, k.service)) {
        return invalid("Unable to validate the following destination configurations")
            .with("ArgumentName", t.arn)
            .with("ArgumentValue", "The destination ARN is not valid");
    }
    if (auto filter = xmln::child(n, "Filter")) {
        if (auto f = parse_filter(filter, t); f.has_error()) {
            return f.error();
        }
    }
    if (t.id.empty()) {
        t.id = derived_id(t);
    }
    return t;
}

// Rule 1: does one event name cover the other (or are they equal)?
bool events_overlap(std::string_view a, std::string_view b) {
    const auto covers = [](std::string_view wide, std::string_view narrow) {
        return wide.ends_with(":*") && narrow.starts_with(wide.substr(0, wide.size() - 1));
    };
    return a == b || covers(a, b) || covers(b, a);
}

std::string rule_value(const notification_target &t, std::string_view name) {
    for (const auto &[n, v] : t.filter) {
        if (n == name) {
            return v;
        }
    }
    return {};
}

// Rule 3 for two targets; the error when they overlap.
result<void> check_overlap(const notification_target &a, const notification_target &b) {
    for (const auto &ea : a.events) {
        for (const auto &eb : b.events) {
            if (!events_overlap(ea, eb)) {
                continue;
            }
            if (a.filter.empty() && b.filter.empty()) {
                return invalid("Configurations overlap. Configurations on the same bucket cannot "
                               "share a common event type.")
                    .with("ArgumentName", "Event")
                    .with("ArgumentValue", ea + ", " + eb);
            }
            const auto pa = rule_value(a, "prefix"), pb = rule_value(b, "prefix");
            const auto sa = rule_value(a, "suffix"), sb = rule_value(b, "suffix");
            const bool prefixes = pa.starts_with(pb) || pb.starts_with(pa);
            const bool suffixes = sa.ends_with(sb) || sb.ends_with(sa);
            if (prefixes && suffixes) {
                return invalid("Configuration is ambiguously defined. Cannot have overlapping "
                               "suffixes in two rules if the prefixes are overlapping for the "
                               "same event type.");
            }
        }
    }
    return {};
}

} // namespace

result<notification_configuration> parse_notification_configuration(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "NotificationConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    notification_configuration c;
    for (auto n = root->first_child(); n; n = n.next_sibling()) {
        if (n.type() != pugi::node_element) {
            continue;
        }
        const auto name = xmln::local_name(n);
        if (name == "EventBridgeConfiguration") {
            c.event_bridge = true;
            continue;
        }
        const auto k = std::find_if(kinds.begin(), kinds.end(),
                                    [&](const kind_info &i) { return i.element == name; });
        if (k == kinds.end()) {
            return s3_error(s3_errc::malformed_xml);
        }
        auto t = parse_target(n, *k);
        if (t.has_error()) {
            return t.error();
        }
        c.targets.push_back(std::move(*t));
    }
    for (std::size_t i = 0; i < c.targets.size(); ++i) {
        for (std::size_t j = i + 1; j < c.targets.size(); ++j) {
            if (auto o = check_overlap(c.targets[i], c.targets[j]); o.has_error()) {
                return o.error();
            }
        }
    }
    return c;
}

std::string render_notification_configuration(const notification_configuration &c) {
    xml_writer w;
    w.open("NotificationConfiguration", true);
    for (const auto &k : kinds) {
        for (const auto &t : c.targets) {
            if (t.kind != k.kind) {
                continue;
            }
            w.open(k.element).element("Id", t.id).element(k.kind, t.arn);
            for (const auto &e : t.events) {
                w.element("Event", e);
            }
            if (!t.filter.empty()) {
                w.open("Filter").open("S3Key");
                for (const auto &[n, v] : t.filter) {
                    w.open("FilterRule")
                        .element("Name", n == "prefix" ? "Prefix" : "Suffix")
                        .element("Value", v)
                        .close();
                }
                w.close().close();
            }
            w.close();
        }
    }
    if (c.event_bridge) {
        w.empty_element("EventBridgeConfiguration");
    }
    return w.str();
}

} // namespace ifmatch::protocol
