// Server-side encryption settings, ACLs and object ownership (see bucket_config.hpp).
#include "protocol/bucket_config.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <array>

namespace ifmatch::protocol {
namespace {

s3_error bad_argument(std::string message, std::string name, std::string value) {
    return s3_error(s3_errc::invalid_argument, std::move(message))
        .with("ArgumentName", std::move(name))
        .with("ArgumentValue", std::move(value));
}

bool known_algorithm(std::string_view a) {
    return a == "AES256" || a == "aws:kms" || a == "aws:kms:dsse";
}

// Splits `s` at `sep` into exactly the pieces found.
std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    for (;;) {
        const auto at = s.find(sep);
        out.emplace_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(at + 1);
    }
}

} // namespace

result<std::optional<sse_spec>> parse_sse_headers(const header_lookup &h) {
    if (h("x-amz-server-side-encryption-customer-algorithm")) {
        return s3_error(s3_errc::not_implemented)
            .with("Header", "x-amz-server-side-encryption-customer-algorithm");
    }
    auto alg = h("x-amz-server-side-encryption");
    auto key = h("x-amz-server-side-encryption-aws-kms-key-id");
    auto bk = h("x-amz-server-side-encryption-bucket-key-enabled");
    if (!alg) {
        if (key || bk) {
            return bad_argument("Server Side Encryption with AWS KMS managed key requires HTTP "
                                "header x-amz-server-side-encryption : aws:kms",
                                "x-amz-server-side-encryption", "null");
        }
        return std::optional<sse_spec>();
    }
    if (!known_algorithm(*alg)) {
        return bad_argument("The encryption method specified is not supported",
                            "x-amz-server-side-encryption", std::string(*alg));
    }
    sse_spec s{std::string(*alg), key ? std::string(*key) : std::string(), false};
    if (!s.is_kms() && (key || bk)) {
        return bad_argument("Server Side Encryption with AWS KMS managed key requires HTTP "
                            "header x-amz-server-side-encryption : aws:kms",
                            "x-amz-server-side-encryption", s.algorithm);
    }
    s.bucket_key = bk && (*bk == "true" || *bk == "TRUE" || *bk == "True");
    return std::optional<sse_spec>(std::move(s));
}

std::string default_kms_key(std::string_view region) {
    return "arn:aws:kms:" + std::string(region) + ":000000000000:alias/aws/s3";
}

std::string kms_etag(std::string_view md5_hex, std::string_view key_id) {
    std::string material(md5_hex);
    material += ':';
    material += key_id;
    return "\"" + to_hex(md5_raw(material)) + "\"";
}

result<sse_spec> parse_sse_configuration(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "ServerSideEncryptionConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    auto rule = xmln::child(*root, "Rule");
    auto def = xmln::child(rule, "ApplyServerSideEncryptionByDefault");
    if (!rule || !def) {
        return s3_error(s3_errc::malformed_xml);
    }
    sse_spec s{xmln::text(def, "SSEAlgorithm"), xmln::text(def, "KMSMasterKeyID"),
               xmln::text(rule, "BucketKeyEnabled") == "true"};
    if (!known_algorithm(s.algorithm)) {
        return s3_error(s3_errc::malformed_xml);
    }
    if (!s.is_kms() && !s.kms_key_id.empty()) {
        return s3_error(s3_errc::invalid_argument,
                        "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                        "aws:kms or aws:kms:dsse");
    }
    return s;
}

std::string render_sse_configuration(const sse_spec &s) {
    xml_writer w;
    w.open("ServerSideEncryptionConfiguration", true).open("Rule");
    w.open("ApplyServerSideEncryptionByDefault").element("SSEAlgorithm", s.algorithm);
    if (!s.kms_key_id.empty()) {
        w.element("KMSMasterKeyID", s.kms_key_id);
    }
    w.close().element("BucketKeyEnabled", s.bucket_key ? "true" : "false");
    return w.str();
}

std::string encode_sse(const sse_spec &s) {
    return s.algorithm + "\n" + s.kms_key_id + "\n" + (s.bucket_key ? "1" : "0");
}

sse_spec decode_sse(std::string_view stored) {
    auto p = split(stored, '\n');
    p.resize(3);
    return sse_spec{p[0], p[1], p[2] == "1"};
}

// ---- ACLs -----------------------------------------------------------------------------------

namespace {

constexpr std::string_view all_users = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr std::string_view auth_users = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
constexpr std::string_view log_delivery = "http://acs.amazonaws.com/groups/s3/LogDelivery";

constexpr std::array<std::pair<std::string_view, std::string_view>, 5> grant_headers{{
    {"x-amz-grant-full-control", "FULL_CONTROL"},
    {"x-amz-grant-read", "READ"},
    {"x-amz-grant-write", "WRITE"},
    {"x-amz-grant-read-acp", "READ_ACP"},
    {"x-amz-grant-write-acp", "WRITE_ACP"},
}};

bool known_canned(std::string_view c) {
    for (std::string_view k :
         {"private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
          "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"}) {
        if (c == k) {
            return true;
        }
    }
    return false;
}

// `id="…", uri="…", emailAddress="…"` → grants with `permission`.
result<void> parse_grantees(std::string_view value, std::string_view permission,
                            std::vector<acl_grant> &out) {
    for (const auto &item : split(value, ',')) {
        const auto t = ascii::trim_ows(item);
        const auto eq = t.find('=');
        if (eq == std::string_view::npos) {
            return bad_argument("Invalid grantee", "x-amz-grant", std::string(t));
        }
        const auto kind = ascii::trim_ows(t.substr(0, eq));
        auto v = ascii::trim_ows(t.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
            v = v.substr(1, v.size() - 2);
        }
        const std::string type = kind == "id"             ? "CanonicalUser"
                                 : kind == "uri"          ? "Group"
                                 : kind == "emailAddress" ? "AmazonCustomerByEmail"
                                                          : "";
        if (type.empty() || v.empty()) {
            return bad_argument("Argument format not recognized", "x-amz-grant", std::string(t));
        }
        out.push_back({type, std::string(v), std::string(permission)});
    }
    return {};
}

} // namespace

result<access_control> parse_acl_headers(const header_lookup &h) {
    access_control acl;
    if (auto c = h("x-amz-acl")) {
        if (!known_canned(*c)) {
            return bad_argument("", "x-amz-acl", std::string(*c));
        }
        acl.canned = std::string(*c);
    }
    for (const auto &[name, perm] : grant_headers) {
        if (auto v = h(name)) {
            if (auto r = parse_grantees(*v, perm, acl.grants); r.has_error()) {
                return r.error();
            }
        }
    }
    if (!acl.canned.empty() && !acl.grants.empty()) {
        return s3_error(s3_errc::invalid_request,
                        "Specifying both Canned ACLs and Header Grants is not allowed");
    }
    return acl;
}

result<access_control> parse_access_control_policy(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "AccessControlPolicy");
    if (root.has_error()) {
        return s3_error(s3_errc::malformed_acl);
    }
    access_control acl;
    for (const auto &g : xmln::children(xmln::child(*root, "AccessControlList"), "Grant")) {
        auto [type, value] = xmln::grantee(g);
        std::string perm = xmln::text(g, "Permission");
        if (type.empty() || value.empty() ||
            (perm != "FULL_CONTROL" && perm != "READ" && perm != "WRITE" && perm != "READ_ACP" &&
             perm != "WRITE_ACP")) {
            return s3_error(s3_errc::malformed_acl);
        }
        acl.grants.push_back({type, value, perm});
    }
    return acl;
}

std::string render_access_control_policy(const access_control &acl, std::string_view owner_id) {
    std::vector<acl_grant> grants{{"CanonicalUser", std::string(owner_id), "FULL_CONTROL"}};
    const auto &c = acl.canned;
    if (c == "public-read" || c == "public-read-write") {
        grants.push_back({"Group", std::string(all_users), "READ"});
    }
    if (c == "public-read-write") {
        grants.push_back({"Group", std::string(all_users), "WRITE"});
    }
    if (c == "authenticated-read") {
        grants.push_back({"Group", std::string(auth_users), "READ"});
    }
    if (c == "log-delivery-write") {
        grants.push_back({"Group", std::string(log_delivery), "WRITE"});
        grants.push_back({"Group", std::string(log_delivery), "READ_ACP"});
    }
    for (const auto &g : acl.grants) {
        if (g.type != "CanonicalUser" || g.value != owner_id || g.permission != "FULL_CONTROL") {
            grants.push_back(g);
        }
    }
    std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>" +
                      xml_escape(owner_id) + "</ID><DisplayName>" + xml_escape(owner_id) +
                      "</DisplayName></Owner><AccessControlList>";
    for (const auto &g : grants) {
        out += "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
               "xsi:type=\"" +
               g.type + "\">";
        const char *tag = g.type == "Group"                   ? "URI"
                          : g.type == "AmazonCustomerByEmail" ? "EmailAddress"
                                                              : "ID";
        out += std::string("<") + tag + ">" + xml_escape(g.value) + "</" + tag + ">";
        if (g.type == "CanonicalUser") {
            out += "<DisplayName>" + xml_escape(g.value) + "</DisplayName>";
        }
        out += "</Grantee><Permission>" + g.permission + "</Permission></Grant>";
    }
    return out + "</AccessControlList></AccessControlPolicy>";
}

std::string encode_acl(const access_control &acl) {
    std::string out = acl.canned;
    for (const auto &g : acl.grants) {
        out += "\n" + g.type + "\t" + g.value + "\t" + g.permission;
    }
    return out;
}

access_control decode_acl(std::string_view stored) {
    access_control acl;
    auto lines = split(stored, '\n');
    acl.canned = lines.front();
    for (std::size_t i = 1; i < lines.size(); ++i) {
        auto f = split(lines[i], '\t');
        if (f.size() == 3) {
            acl.grants.push_back({f[0], f[1], f[2]});
        }
    }
    return acl;
}

// ---- object ownership -----------------------------------------------------------------------

bool is_object_ownership(std::string_view v) {
    return v == "BucketOwnerEnforced" || v == "BucketOwnerPreferred" || v == "ObjectWriter";
}

result<std::string> parse_ownership_controls(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "OwnershipControls");
    if (root.has_error()) {
        return root.error();
    }
    auto v = xmln::text(xmln::child(*root, "Rule"), "ObjectOwnership");
    if (!is_object_ownership(v)) {
        return s3_error(s3_errc::malformed_xml);
    }
    return v;
}

std::string render_ownership_controls(std::string_view ownership) {
    xml_writer w;
    w.open("OwnershipControls", true).open("Rule").element("ObjectOwnership", ownership);
    return w.str();
}

} // namespace ifmatch::protocol
