// Stored bucket configurations, empty configuration documents and policy status (see
// bucket_subresources.hpp).
#include "protocol/bucket_subresources.hpp"

#include "protocol/text.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

namespace ifmatch::protocol {

std::string render_empty_configuration_list(std::string_view root) {
    xml_writer w;
    w.open(root, true).element("IsTruncated", "false");
    return w.str();
}

std::string render_empty_document(std::string_view root) {
    xml_writer w;
    w.open(root, true);
    return w.str();
}

// ---- transfer acceleration ------------------------------------------------------------------

result<std::string> parse_accelerate_configuration(std::string_view body, std::string_view bucket) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "AccelerateConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    auto status = xmln::text(*root, "Status");
    if (status != "Enabled" && status != "Suspended") {
        return s3_error(s3_errc::malformed_xml);
    }
    if (bucket.find('.') != std::string_view::npos) {
        return s3_error(s3_errc::invalid_request, "Amazon S3 Transfer Acceleration is not "
                                                  "supported for buckets with periods (.) in "
                                                  "their names");
    }
    return status;
}

std::string render_accelerate_configuration(std::string_view status) {
    xml_writer w;
    w.open("AccelerateConfiguration", true);
    if (!status.empty()) {
        w.element("Status", status);
    }
    return w.str();
}

// ---- request payment ------------------------------------------------------------------------

result<std::string> parse_request_payment(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "RequestPaymentConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    auto payer = xmln::text(*root, "Payer");
    if (payer != "Requester" && payer != "BucketOwner") {
        return s3_error(s3_errc::malformed_xml);
    }
    return payer;
}

std::string render_request_payment(std::string_view payer) {
    xml_writer w;
    w.open("RequestPaymentConfiguration", true)
        .element("Payer", payer.empty() ? std::string_view("BucketOwner") : payer);
    return w.str();
}

// ---- public access block --------------------------------------------------------------------

namespace {

constexpr std::array<std::string_view, 4> block_names{"BlockPublicAcls", "IgnorePublicAcls",
                                                      "BlockPublicPolicy", "RestrictPublicBuckets"};

std::array<bool *, 4> fields(public_access_block &b) {
    return {&b.block_public_acls, &b.ignore_public_acls, &b.block_public_policy,
            &b.restrict_public_buckets};
}

} // namespace

result<public_access_block> parse_public_access_block(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "PublicAccessBlockConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    public_access_block b;
    auto f = fields(b);
    for (std::size_t i = 0; i < block_names.size(); ++i) {
        if (!xmln::child(*root, block_names[i])) {
            continue;
        }
        const auto v = ascii::lower(xmln::text(*root, block_names[i]));
        if (v != "true" && v != "false") {
            return s3_error(s3_errc::malformed_xml);
        }
        *f[i] = v == "true";
    }
    return b;
}

std::string render_public_access_block(const public_access_block &b) {
    auto copy = b;
    auto f = fields(copy);
    xml_writer w;
    w.open("PublicAccessBlockConfiguration", true);
    for (std::size_t i = 0; i < block_names.size(); ++i) {
        w.element(block_names[i], *f[i] ? "true" : "false");
    }
    return w.str();
}

std::string encode_public_access_block(const public_access_block &b) {
    auto copy = b;
    std::string out;
    for (bool *v : fields(copy)) {
        out += *v ? '1' : '0';
    }
    return out;
}

public_access_block decode_public_access_block(std::string_view stored) {
    public_access_block b;
    auto f = fields(b);
    for (std::size_t i = 0; i < f.size() && i < stored.size(); ++i) {
        *f[i] = stored[i] == '1';
    }
    return b;
}

bool acl_is_public(const access_control &acl) {
    if (acl.canned == "public-read" || acl.canned == "public-read-write" ||
        acl.canned == "authenticated-read") {
        return true;
    }
    return std::any_of(acl.grants.begin(), acl.grants.end(), [](const acl_grant &g) {
        return g.type == "Group" && (g.value.ends_with("/global/AllUsers") ||
                                     g.value.ends_with("/global/AuthenticatedUsers"));
    });
}

// ---- server access logging ------------------------------------------------------------------

namespace {

// <TargetGrants><Grant><Grantee xsi:type="…">…</Grantee><Permission/></Grant>…
result<std::vector<acl_grant>> parse_target_grants(const pugi::xml_node &n) {
    std::vector<acl_grant> out;
    for (const auto &g : xmln::children(n, "Grant")) {
        auto [type, value] = xmln::grantee(g);
        std::string perm = xmln::text(g, "Permission");
        if (type.empty() || value.empty() ||
            (perm != "FULL_CONTROL" && perm != "READ" && perm != "WRITE")) {
            return s3_error(s3_errc::malformed_xml);
        }
        out.push_back({type, value, perm});
    }
    return out;
}

// <TargetObjectKeyFormat><SimplePrefix/> | <PartitionedPrefix><PartitionDateSource/>…
result<void> parse_key_format(const pugi::xml_node &n, logging_status &s) {
    const bool simple = static_cast<bool>(xmln::child(n, "SimplePrefix"));
    auto partitioned = xmln::child(n, "PartitionedPrefix");
    if (simple == static_cast<bool>(partitioned)) {
        return s3_error(s3_errc::malformed_xml);
    }
    s.key_format = simple ? "SimplePrefix" : "PartitionedPrefix";
    if (partitioned) {
        s.partition_source = xmln::text(partitioned, "PartitionDateSource");
        if (!s.partition_source.empty() && s.partition_source != "EventTime" &&
            s.partition_source != "DeliveryTime") {
            return s3_error(s3_errc::malformed_xml);
        }
    }
    return {};
}

} // namespace

result<logging_status> parse_logging_status(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "BucketLoggingStatus");
    if (root.has_error()) {
        return root.error();
    }
    logging_status s;
    auto enabled = xmln::child(*root, "LoggingEnabled");
    if (!enabled) {
        return s;
    }
    s.enabled = true;
    if (!xmln::child(enabled, "TargetBucket") || !xmln::child(enabled, "TargetPrefix")) {
        return s3_error(s3_errc::malformed_xml);
    }
    s.target_bucket = xmln::text(enabled, "TargetBucket");
    s.target_prefix = xmln::child(enabled, "TargetPrefix").child_value();
    if (s.target_bucket.empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    if (auto grants = xmln::child(enabled, "TargetGrants")) {
        auto g = parse_target_grants(grants);
        if (g.has_error()) {
            return g.error();
        }
        s.grants = std::move(*g);
    }
    if (auto format = xmln::child(enabled, "TargetObjectKeyFormat")) {
        if (auto f = parse_key_format(format, s); f.has_error()) {
            return f.error();
        }
    }
    return s;
}

std::string render_logging_status(const logging_status &s) {
    xml_writer w;
    w.open("BucketLoggingStatus", true);
    if (!s.enabled) {
        return w.str();
    }
    w.open("LoggingEnabled").element("TargetBucket", s.target_bucket);
    if (!s.grants.empty()) {
        w.open("TargetGrants");
        for (const auto &g : s.grants) {
            const char *tag = g.type == "Group"                   ? "URI"
                              : g.type == "AmazonCustomerByEmail" ? "EmailAddress"
                                                                  : "ID";
            w.open("Grant").open(
                "Grantee",
                {{"xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"}, {"xsi:type", g.type}});
            w.element(tag, g.value).close().element("Permission", g.permission).close();
        }
        w.close();
    }
    w.element("TargetPrefix", s.target_prefix);
    if (!s.key_format.empty()) {
        w.open("TargetObjectKeyFormat");
        if (s.key_format == "SimplePrefix") {
            w.empty_element("SimplePrefix");
        } else if (s.partition_source.empty()) {
            w.empty_element("PartitionedPrefix");
        } else {
            w.open("PartitionedPrefix").element("PartitionDateSource", s.partition_source).close();
        }
        w.close();
    }
    return w.str();
}

// ---- policy status --------------------------------------------------------------------------

namespace {

using json = nlohmann::json;

bool has_wildcard(const std::string &s) { return s.find_first_of("*?") != std::string::npos; }

// True when the Principal value names anyone: `*`, or any principal value with a wildcard.
bool principal_is_open(const json &p) {
    if (p.is_string()) {
        return has_wildcard(p.get<std::string>());
    }
    if (p.is_array()) {
        return std::any_of(p.begin(), p.end(), [](const json &e) { return principal_is_open(e); });
    }
    if (p.is_object()) {
        return std::any_of(p.begin(), p.end(), [](const json &e) { return principal_is_open(e); });
    }
    return false;
}

// Condition keys whose fixed value limits a statement to known callers (S3's "meaning of public").
bool fixing_key(const std::string &key) {
    static constexpr std::string_view keys[] = {"aws:sourceip",
                                                "aws:sourcearn",
                                                "aws:sourcevpc",
                                                "aws:sourcevpce",
                                                "aws:sourceowner",
                                                "aws:sourceaccount",
                                                "aws:principalorgid",
                                                "aws:principalaccount",
                                                "aws:principalarn",
                                                "aws:userid",
                                                "s3:x-amz-server-side-encryption-aws-kms-key-id"};
    return std::find(std::begin(keys), std::end(keys), ascii::lower(key)) != std::end(keys);
}

// True for one value that pins the key: no wildcard and not an all-addresses CIDR.
bool fixed_value(const json &v) {
    if (!v.is_string()) {
        return false;
    }
    const auto s = v.get<std::string>();
    return !s.empty() && !has_wildcard(s) && s != "0.0.0.0/0" && s != "::/0";
}

// True when the statement's Condition fixes who may use it.
bool condition_fixes(const json &condition) {
    if (!condition.is_object()) {
        return false;
    }
    for (auto &[op, block] : condition.items()) {
        const auto o = ascii::lower(op);
        if (o.find("not") != std::string::npos || o.ends_with("ifexists") || o == "null" ||
            !block.is_object()) {
            continue;
        }
        for (auto &[key, values] : block.items()) {
            if (!fixing_key(key)) {
                continue;
            }
            const bool all_fixed =
                values.is_array()
                    ? !values.empty() && std::all_of(values.begin(), values.end(), fixed_value)
                    : fixed_value(values);
            if (all_fixed) {
                return true;
            }
        }
    }
    return false;
}

bool statement_is_public(const json &s) {
    if (!s.is_object() || s.value("Effect", "") != "Allow") {
        return false;
    }
    const bool open = s.contains("NotPrincipal") ||
                      (s.contains("Principal") && principal_is_open(s["Principal"]));
    return open && !(s.contains("Condition") && condition_fixes(s["Condition"]));
}

} // namespace

bool policy_is_public(std::string_view policy_json) {
    auto doc = json::parse(policy_json, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("Statement")) {
        return false;
    }
    const auto &st = doc["Statement"];
    if (st.is_array()) {
        return std::any_of(st.begin(), st.end(), statement_is_public);
    }
    return statement_is_public(st);
}

std::string render_policy_status(bool is_public) {
    xml_writer w;
    w.open("PolicyStatus", true).element("IsPublic", is_public ? "true" : "false");
    return w.str();
}

} // namespace ifmatch::protocol
