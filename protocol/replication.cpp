// Bucket replication configurations (see replication.hpp).
//
// RULES (sources in brackets; "ifmatch" marks a choice made where S3's documentation and the
// reports found say nothing)
// 1. A <ReplicationConfiguration> holds an optional <Role> and 1 to 1,000 <Rule>s ("can contain a
//    maximum of 1,000" [API_PutBucketReplication]); more is InvalidArgument, none MalformedXML
//    [ifmatch for both codes]. Elements S3 knows but ifmatch does not act on
//    (SourceSelectionCriteria, ExistingObjectReplication, Destination/Account, ...) are accepted
//    and dropped [ifmatch].
// 2. A rule holds one Status (Enabled|Disabled; any other text is InvalidArgument [ifmatch]) and
//    one Destination whose Bucket is `arn:aws:s3:::NAME` (else MalformedXML [ifmatch]), at most one
//    of each single element (else MalformedXML), an ID of at most 255 characters ("The maximum
//    value is 255 characters" [API_ReplicationRule]) unique in the document, and a Priority that
//    is an integer in [0, 2^31 - 1] (the schema type is Integer), 0 when absent.
// 3. A rule carries either <Filter> (the V2 schema) or the legacy top-level <Prefix> (V1), not
//    both and not neither (MalformedXML). A Filter holds at most one of Prefix, Tag and And, and
//    an And holds a Prefix and/or Tags ("A Filter must specify exactly one Prefix, Tag, or an And
//    child element" [API_ReplicationRule]); an empty Filter selects every key [ifmatch: what
//    Terraform sends as `filter {}`]. Tag keys within a filter are unique (InvalidArgument, as for
//    lifecycle filters).
// 4. "When you add the Filter element in the configuration, you must also add the following
//    elements: DeleteMarkerReplication, Status, and Priority" [API_PutBucketReplication]. A V2 rule
//    without DeleteMarkerReplication is InvalidRequest with S3's message (as reported from S3 by
//    Terraform users, e.g. the one quoted in tests). A missing Priority is taken as 0 [ifmatch:
//    Terraform's provider omits it for one rule]. Two V2 rules with the same Priority are
//    InvalidArgument [ifmatch message, as S3 emulators word it; S3's text was not found].
// 5. A V1 rule replicates delete markers [S3 User Guide, "Backward compatibility"]: it parses with
//    delete_marker_replication true, and a DeleteMarkerReplication in it is InvalidRequest with
//    S3's message (rust-lang/simpleinfra#468 quotes it from S3). V1 and V2 rules in one document
//    are InvalidRequest [ifmatch].
// 6. Rules sent without an ID (or with an empty one) get the lower-case hex MD5 of the rule's
//    position and its rendered content, rehashed while it collides (as lifecycle.cpp rule 4), so a
//    render/parse round trip keeps it.
// 7. Rendering follows the S3 model's member order: Role; per rule ID, Priority, Prefix (V1) or
//    Filter (V2), Status, Destination (Bucket, StorageClass), DeleteMarkerReplication (V2). A
//    document sent in the V1 schema is answered in it (S3 keeps the schema it was given
//    [S3 User Guide, "Backward compatibility"]), and so is a configuration whose rules share a
//    Priority, which only V1 can hold. With rule 5 this keeps parse(render(c)) == c.
// 9. "If your Filter includes a Tag element, the DeleteMarkerReplication Status must be set to
//    Disabled" [API_DeleteMarkerReplication]: a V2 rule with a Tag in its filter and
//    DeleteMarkerReplication Enabled is InvalidRequest [ifmatch message].
// 8. The rule for an object: enabled, its prefix starts the key, each of its tags is on the
//    object; the highest Priority wins ("The higher the number, the higher the priority"
//    [API_ReplicationRule]), the first in document order on a tie [ifmatch].
#include "protocol/replication.hpp"

#include "protocol/crypto.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <algorithm>
#include <limits>
#include <set>

namespace ifmatch::protocol {
namespace {

constexpr std::size_t max_rules = 1000;
constexpr std::size_t max_id_length = 255;
constexpr std::string_view bucket_arn_prefix = "arn:aws:s3:::";

using tag_list = std::vector<std::pair<std::string, std::string>>;

s3_error malformed() { return s3_error(s3_errc::malformed_xml); }

s3_error invalid(std::string message) {
    return s3_error(s3_errc::invalid_argument, std::move(message));
}

// The parts of one <Rule> element, each single element looked up once (rule 2).
struct rule_nodes {
    pugi::xml_node id, priority, status, filter, prefix, destination, delete_marker;
};

result<rule_nodes> rule_elements(const pugi::xml_node &n) {
    bool duplicate = false;
    auto single = [&](std::string_view name) {
        const auto all = xmln::children(n, name);
        duplicate = duplicate || all.size() > 1;
        return all.empty() ? pugi::xml_node() : all.front();
    };
    rule_nodes r{single("ID"),
                 single("Priority"),
                 single("Status"),
                 single("Filter"),
                 single("Prefix"),
                 single("Destination"),
                 single("DeleteMarkerReplication")};
    if (duplicate || !r.status || !r.destination ||
        static_cast<bool>(r.filter) == static_cast<bool>(r.prefix)) {
        return malformed();
    }
    return r;
}

// Rule 2: Enabled or Disabled, exactly.
result<bool> status_value(const pugi::xml_node &parent) {
    const std::string st = xmln::text(parent, "Status");
    if (st != "Enabled" && st != "Disabled") {
        return invalid("The Status must be Enabled or Disabled."); // [ifmatch]
    }
    return st == "Enabled";
}

result<int> priority_value(const pugi::xml_node &priority) {
    if (!priority) {
        return 0;
    }
    const std::string text = xmln::text(priority.parent(), "Priority");
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<int>::max());
    std::uint64_t v = 0;
    bool ok = !text.empty() && text.size() <= 10;
    for (char c : text) {
        ok = ok && c >= '0' && c <= '9';
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!ok || v > max) {
        return invalid("Priority must be an integer between 0 and 2147483647."); // [ifmatch]
    }
    return static_cast<int>(v);
}

result<void> add_tag(const pugi::xml_node &tag, tag_list &tags) {
    const auto key = xmln::child(tag, "Key");
    if (!key) {
        return malformed();
    }
    std::string k = key.child_value();
    for (const auto &[existing, v] : tags) {
        if (existing == k) {
            return invalid("Duplicate Tag Keys are not allowed.");
        }
    }
    tags.emplace_back(std::move(k), xmln::child(tag, "Value").child_value());
    return {};
}

// Reads the Prefix and Tags of a <Filter> or an <And>; returns how many predicates there were.
result<std::size_t> read_predicates(const pugi::xml_node &n, replication_rule &r) {
    const auto prefixes = xmln::children(n, "Prefix");
    if (prefixes.size() > 1) {
        return malformed();
    }
    std::size_t count = prefixes.size();
    if (!prefixes.empty()) {
        r.prefix = prefixes.front().child_value();
    }
    for (const auto &tag : xmln::children(n, "Tag")) {
        if (auto t = add_tag(tag, r.tags); t.has_error()) {
            return t.error();
        }
        ++count;
    }
    return count;
}

// Rule 3.
result<void> parse_filter(const pugi::xml_node &filter, replication_rule &r) {
    auto n = read_predicates(filter, r);
    if (n.has_error()) {
        return n.error();
    }
    const auto ands = xmln::children(filter, "And");
    if (ands.size() > 1 || (!ands.empty() && *n > 0) || *n > 1) {
        return malformed();
    }
    if (ands.empty()) {
        return {};
    }
    auto m = read_predicates(ands.front(), r);
    if (m.has_error()) {
        return m.error();
    }
    if (*m == 0 || !xmln::children(ands.front(), "And").empty()) {
        return malformed();
    }
    return {};
}

result<void> parse_destination(const pugi::xml_node &d, replication_rule &r) {
    const auto buckets = xmln::children(d, "Bucket");
    if (buckets.size() != 1 || xmln::children(d, "StorageClass").size() > 1) {
        return malformed();
    }
    const std::string arn = xmln::text(d, "Bucket");
    const std::string_view name =
        std::string_view(arn).substr(std::min(arn.size(), bucket_arn_prefix.size()));
    if (!arn.starts_with(bucket_arn_prefix) || name.empty() ||
        name.find('/') != std::string_view::npos) {
        return malformed();
    }
    r.destination_bucket = std::string(name);
    r.storage_class = xmln::text(d, "StorageClass");
    return {};
}

s3_error schema_error(std::string_view verb) {
    return s3_error(s3_errc::invalid_request,
                    "DeleteMarkerReplication " + std::string(verb) +
                        " for this version of Cross Region Replication configuration schema. "
                        "Please refer to S3 Developer Guide for more information.");
}

// Parses one <Rule>; `v2` tells whether it used <Filter>.
result<replication_rule> parse_rule(const pugi::xml_node &n, bool &v2) {
    auto nodes = rule_elements(n);
    if (nodes.has_error()) {
        return nodes.error();
    }
    replication_rule r;
    r.id = nodes->id.child_value();
    if (r.id.size() > max_id_length) {
        return invalid("ID length should not exceed allowed limit of 255");
    }
    auto enabled = status_value(n);
    if (enabled.has_error()) {
        return enabled.error();
    }
    r.enabled = *enabled;
    auto priority = priority_value(nodes->priority);
    if (priority.has_error()) {
        return priority.error();
    }
    r.priority = *priority;
    if (auto d = parse_destination(nodes->destination, r); d.has_error()) {
        return d.error();
    }
    v2 = static_cast<bool>(nodes->filter);
    if (!v2) {
        // Rule 5: the legacy schema.
        if (nodes->delete_marker) {
            return schema_error("cannot be used");
        }
        r.prefix = nodes->prefix.child_value();
        r.delete_marker_replication = true;
        return r;
    }
    if (auto f = parse_filter(nodes->filter, r); f.has_error()) {
        return f.error();
    }
    // Rule 4.
    if (!nodes->delete_marker) {
        return schema_error("must be specified");
    }
    auto dm = status_value(nodes->delete_marker);
    if (dm.has_error()) {
        return dm.error();
    }
    r.delete_marker_replication = *dm;
    if (r.delete_marker_replication && !r.tags.empty()) {
        // Rule 9.
        return s3_error(s3_errc::invalid_request,
                        "Delete marker replication is not supported if any Tag filter is "
                        "specified.");
    }
    return r;
}

void render_filter(xml_writer &w, const replication_rule &r) {
    const std::size_t n = (r.prefix.empty() ? 0 : 1) + r.tags.size();
    w.open("Filter");
    if (n > 1) {
        w.open("And");
    }
    if (!r.prefix.empty()) {
        w.element("Prefix", r.prefix);
    }
    for (const auto &[k, v] : r.tags) {
        w.open("Tag").element("Key", k).element("Value", v).close();
    }
    if (n > 1) {
        w.close();
    }
    w.close();
}

// Rule 7.
void render_rule(xml_writer &w, const replication_rule &r, bool v2) {
    w.open("Rule").element("ID", r.id);
    if (v2 || r.priority != 0) { // the V1 schema has no Priority; one sent is kept
        w.element("Priority", std::int64_t{r.priority});
    }
    if (v2) {
        render_filter(w, r);
    } else {
        w.element("Prefix", r.prefix);
    }
    w.element("Status", r.enabled ? "Enabled" : "Disabled");
    w.open("Destination").element("Bucket", std::string(bucket_arn_prefix) + r.destination_bucket);
    if (!r.storage_class.empty()) {
        w.element("StorageClass", r.storage_class);
    }
    w.close();
    if (v2) {
        w.open("DeleteMarkerReplication")
            .element("Status", r.delete_marker_replication ? "Enabled" : "Disabled")
            .close();
    }
    w.close();
}

bool priorities_distinct(const replication_config &c) {
    std::set<int> seen;
    return std::all_of(c.rules.begin(), c.rules.end(),
                       [&](const replication_rule &r) { return seen.insert(r.priority).second; });
}

// Rule 6: the rendered rule (ID still empty) and its position, hashed.
std::string generated_id(const replication_rule &r, std::size_t index) {
    xml_writer w;
    render_rule(w, r, true);
    return to_hex(md5_raw(std::to_string(index) + "\n" + w.str()));
}

void assign_ids(replication_config &c, const std::vector<bool> &given, std::set<std::string> &ids) {
    for (std::size_t i = 0; i < c.rules.size(); ++i) {
        if (given[i]) {
            continue;
        }
        c.rules[i].id = unused_id(generated_id(c.rules[i], i), ids);
    }
}

// Rules 4 and 5 across the document: one schema, and distinct priorities under V2.
result<void> check_schema(const replication_config &c, std::size_t v2_rules) {
    if (v2_rules != 0 && v2_rules != c.rules.size()) {
        // [ifmatch] message.
        return s3_error(s3_errc::invalid_request,
                        "All rules must use the same schema: Filter or the legacy Prefix.");
    }
    if (v2_rules == 0) {
        return {};
    }
    std::set<int> seen;
    for (const auto &r : c.rules) {
        if (!seen.insert(r.priority).second) {
            // [ifmatch] code; the message as S3 emulators word it.
            return invalid("Found duplicate priority " + std::to_string(r.priority) + ".");
        }
    }
    return {};
}

} // namespace

result<replication_config> parse_replication(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "ReplicationConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    const auto rules = xmln::children(*root, "Rule");
    if (rules.empty() || xmln::children(*root, "Role").size() > 1) {
        return malformed();
    }
    if (rules.size() > max_rules) {
        return invalid("The number of replication rules must not exceed the allowed limit of "
                       "1000 rules."); // [ifmatch]
    }
    replication_config c;
    c.role = xmln::text(*root, "Role");
    std::vector<bool> given;
    std::set<std::string> ids;
    std::size_t v2_rules = 0;
    for (const auto &n : rules) {
        bool v2 = false;
        auto r = parse_rule(n, v2);
        if (r.has_error()) {
            return r.error();
        }
        v2_rules += v2 ? 1 : 0;
        const bool id_given = !r->id.empty();
        if (id_given && !ids.insert(r->id).second) {
            return invalid("Rule ID must be unique. Found same ID for more than one rule");
        }
        given.push_back(id_given);
        c.rules.push_back(std::move(*r));
    }
    if (auto s = check_schema(c, v2_rules); s.has_error()) {
        return s.error();
    }
    assign_ids(c, given, ids);
    c.legacy = v2_rules == 0;
    return c;
}

std::string render_replication(const replication_config &c) {
    const bool v2 = !c.legacy && priorities_distinct(c);
    xml_writer w;
    w.open("ReplicationConfiguration", true);
    if (!c.role.empty()) {
        w.element("Role", c.role);
    }
    for (const auto &r : c.rules) {
        render_rule(w, r, v2);
    }
    return w.str();
}

const replication_rule *replication_rule_for(const replication_config &c, std::string_view key,
                                             const tag_list &tags) {
    const replication_rule *best = nullptr;
    for (const auto &r : c.rules) {
        if (!r.enabled || !key.starts_with(r.prefix)) {
            continue;
        }
        const bool tagged = std::all_of(r.tags.begin(), r.tags.end(), [&](const auto &want) {
            return std::find(tags.begin(), tags.end(), want) != tags.end();
        });
        if (tagged && (best == nullptr || r.priority > best->priority)) {
            best = &r;
        }
    }
    return best;
}

} // namespace ifmatch::protocol
