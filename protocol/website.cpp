// Static website configuration (see website.hpp). The checks follow S3's order: the redirect-all
// form first, then the index document, the error document and the routing rules.
#include "protocol/website.hpp"

#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

namespace ifmatch::protocol {
namespace {

// The text of a child element, nullopt when the element is absent.
std::optional<std::string> optional_text(const pugi::xml_node &parent, std::string_view name) {
    if (!xmln::child(parent, name)) {
        return std::nullopt;
    }
    return xmln::text(parent, name);
}

result<void> check_protocol(const std::optional<std::string> &p) {
    if (p && *p != "http" && *p != "https") {
        return s3_error(s3_errc::invalid_request,
                        "Invalid protocol, protocol can be http or https. If not defined the "
                        "protocol will be selected automatically.");
    }
    return {};
}

result<website_configuration> parse_redirect_all(const pugi::xml_node &root,
                                                 const pugi::xml_node &redirect) {
    if (xmln::child(root, "IndexDocument") || xmln::child(root, "ErrorDocument") ||
        xmln::child(root, "RoutingRules")) {
        return s3_error(s3_errc::invalid_argument, "RedirectAllRequestsTo cannot be provided in "
                                                   "conjunction with other Routing Rules.")
            .with("ArgumentName", "RedirectAllRequestsTo")
            .with("ArgumentValue", "not null");
    }
    website_configuration c;
    c.redirect_host = optional_text(redirect, "HostName");
    c.redirect_protocol = optional_text(redirect, "Protocol");
    if (!c.redirect_host || c.redirect_host->empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    if (auto p = check_protocol(c.redirect_protocol); p.has_error()) {
        return p.error();
    }
    return c;
}

result<website_routing_rule> parse_rule(const pugi::xml_node &n) {
    website_routing_rule r;
    auto redirect = xmln::child(n, "Redirect");
    if (!redirect) {
        return s3_error(s3_errc::malformed_xml);
    }
    if (auto cond = xmln::child(n, "Condition")) {
        r.key_prefix_equals = optional_text(cond, "KeyPrefixEquals");
        r.http_error_code_returned_equals = optional_text(cond, "HttpErrorCodeReturnedEquals");
        if (!r.key_prefix_equals && !r.http_error_code_returned_equals) {
            return s3_error(s3_errc::invalid_request,
                            "Condition cannot be empty. To redirect all requests without a "
                            "condition, the condition element shouldn't be present.");
        }
    }
    r.protocol = optional_text(redirect, "Protocol");
    r.host_name = optional_text(redirect, "HostName");
    r.replace_key_prefix_with = optional_text(redirect, "ReplaceKeyPrefixWith");
    r.replace_key_with = optional_text(redirect, "ReplaceKeyWith");
    r.http_redirect_code = optional_text(redirect, "HttpRedirectCode");
    if (r.replace_key_prefix_with && r.replace_key_with) {
        return s3_error(s3_errc::invalid_request,
                        "You can only define ReplaceKeyPrefix or ReplaceKey but not both.");
    }
    if (auto p = check_protocol(r.protocol); p.has_error()) {
        return p.error();
    }
    return r;
}

result<void> parse_rules(const pugi::xml_node &rules, website_configuration &c) {
    const auto list = xmln::children(rules, "RoutingRule");
    if (list.empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    if (list.size() > max_routing_rules) {
        return s3_error(
            s3_errc::invalid_request,
            "The number of routing rules must not exceed the allowed limit of 50 rules.");
    }
    for (const auto &n : list) {
        auto r = parse_rule(n);
        if (r.has_error()) {
            return r.error();
        }
        c.routing_rules.push_back(std::move(*r));
    }
    return {};
}

void optional_element(xml_writer &w, std::string_view name, const std::optional<std::string> &v) {
    if (v) {
        w.element(name, *v);
    }
}

} // namespace

result<website_configuration> parse_website_configuration(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "WebsiteConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    if (auto redirect = xmln::child(*root, "RedirectAllRequestsTo")) {
        return parse_redirect_all(*root, redirect);
    }
    auto index = xmln::child(*root, "IndexDocument");
    if (!index) {
        return s3_error(s3_errc::invalid_argument, "A value for IndexDocument Suffix must be "
                                                   "provided if RedirectAllRequestsTo is empty")
            .with("ArgumentName", "IndexDocument")
            .with("ArgumentValue", "null");
    }
    website_configuration c;
    c.index_suffix = xmln::text(index, "Suffix");
    if (c.index_suffix.empty() || c.index_suffix.find('/') != std::string::npos) {
        return s3_error(s3_errc::invalid_argument, "The IndexDocument Suffix is not well formed")
            .with("ArgumentName", "IndexDocument")
            .with("ArgumentValue", c.index_suffix);
    }
    if (auto error = xmln::child(*root, "ErrorDocument")) {
        c.error_key = xmln::text(error, "Key");
        if (c.error_key->empty()) {
            return s3_error(s3_errc::malformed_xml);
        }
    }
    if (auto rules = xmln::child(*root, "RoutingRules")) {
        if (auto r = parse_rules(rules, c); r.has_error()) {
            return r.error();
        }
    }
    return c;
}

std::string render_website_configuration(const website_configuration &c) {
    xml_writer w;
    w.open("WebsiteConfiguration", true);
    if (c.redirect_host) {
        w.open("RedirectAllRequestsTo").element("HostName", *c.redirect_host);
        optional_element(w, "Protocol", c.redirect_protocol);
        return w.str();
    }
    w.open("IndexDocument").element("Suffix", c.index_suffix).close();
    if (c.error_key) {
        w.open("ErrorDocument").element("Key", *c.error_key).close();
    }
    if (c.routing_rules.empty()) {
        return w.str();
    }
    w.open("RoutingRules");
    for (const auto &r : c.routing_rules) {
        w.open("RoutingRule");
        if (r.key_prefix_equals || r.http_error_code_returned_equals) {
            w.open("Condition");
            optional_element(w, "KeyPrefixEquals", r.key_prefix_equals);
            optional_element(w, "HttpErrorCodeReturnedEquals", r.http_error_code_returned_equals);
            w.close();
        }
        w.open("Redirect");
        optional_element(w, "Protocol", r.protocol);
        optional_element(w, "HostName", r.host_name);
        optional_element(w, "ReplaceKeyPrefixWith", r.replace_key_prefix_with);
        optional_element(w, "ReplaceKeyWith", r.replace_key_with);
        optional_element(w, "HttpRedirectCode", r.http_redirect_code);
        w.close().close();
    }
    return w.str();
}

} // namespace ifmatch::protocol
