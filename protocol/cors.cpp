// Bucket CORS configuration and matching (see cors.hpp).
#include "protocol/cors.hpp"

#include "protocol/text.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <algorithm>

namespace ifmatch::protocol {
namespace {

std::vector<std::string> texts(const pugi::xml_node &rule, std::string_view name) {
    std::vector<std::string> out;
    for (const auto &n : xmln::children(rule, name)) {
        out.emplace_back(ascii::trim_xml(n.child_value()));
    }
    return out;
}

result<cors_rule> parse_rule(const pugi::xml_node &n) {
    cors_rule r;
    r.id = xmln::text(n, "ID");
    r.origins = texts(n, "AllowedOrigin");
    r.methods = texts(n, "AllowedMethod");
    r.headers = texts(n, "AllowedHeader");
    r.expose = texts(n, "ExposeHeader");
    if (auto age = xmln::child(n, "MaxAgeSeconds")) {
        r.max_age = age.text().as_int();
    }
    if (r.origins.empty() || r.methods.empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    for (const auto &m : r.methods) {
        if (m != "GET" && m != "PUT" && m != "HEAD" && m != "POST" && m != "DELETE") {
            return s3_error(s3_errc::invalid_request,
                            "Found unsupported HTTP method in CORS config. Unsupported method is " +
                                m);
        }
    }
    for (const auto &o : r.origins) {
        if (std::count(o.begin(), o.end(), '*') > 1) {
            return s3_error(s3_errc::invalid_request,
                            "AllowedOrigin \"" + o + "\" can not have more than one wildcard.");
        }
    }
    return r;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        const auto comma = s.find(',');
        auto item = s.substr(0, comma);
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
        if (const auto t = ascii::trim_ows(item); !t.empty()) {
            out.emplace_back(t);
        }
    }
    return out;
}

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v)
        out += (out.empty() ? "" : ", ") + s;
    return out;
}

} // namespace

result<std::vector<cors_rule>> parse_cors_configuration(std::string_view body) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "CORSConfiguration");
    if (root.has_error()) {
        return root.error();
    }
    std::vector<cors_rule> rules;
    for (const auto &n : xmln::children(*root, "CORSRule")) {
        auto r = parse_rule(n);
        if (r.has_error()) {
            return r.error();
        }
        rules.push_back(std::move(*r));
    }
    if (rules.empty() || rules.size() > 100) {
        return s3_error(s3_errc::malformed_xml);
    }
    return rules;
}

std::string render_cors_configuration(const std::vector<cors_rule> &rules) {
    xml_writer w;
    w.open("CORSConfiguration", true);
    for (const auto &r : rules) {
        w.open("CORSRule");
        if (!r.id.empty())
            w.element("ID", r.id);
        for (const auto &h : r.headers)
            w.element("AllowedHeader", h);
        for (const auto &m : r.methods)
            w.element("AllowedMethod", m);
        for (const auto &o : r.origins)
            w.element("AllowedOrigin", o);
        for (const auto &e : r.expose)
            w.element("ExposeHeader", e);
        if (r.max_age)
            w.element("MaxAgeSeconds", *r.max_age);
        w.close();
    }
    return w.str();
}

bool cors_wildcard_match(std::string_view pattern, std::string_view value, bool ci) {
    std::string p = ci ? ascii::lower(pattern) : std::string(pattern);
    std::string v = ci ? ascii::lower(value) : std::string(value);
    const auto star = p.find('*');
    if (star == std::string::npos) {
        return p == v;
    }
    const auto head = std::string_view(p).substr(0, star);
    const auto tail = std::string_view(p).substr(star + 1);
    return v.size() >= head.size() + tail.size() && std::string_view(v).starts_with(head) &&
           std::string_view(v).ends_with(tail);
}

const cors_rule *match_cors(const std::vector<cors_rule> &rules, std::string_view origin,
                            std::string_view method, std::string_view request_headers) {
    const auto wanted = split_list(request_headers);
    for (const auto &r : rules) {
        const bool o = std::any_of(r.origins.begin(), r.origins.end(),
                                   [&](const auto &p) { return cors_wildcard_match(p, origin); });
        const bool m = std::find(r.methods.begin(), r.methods.end(), method) != r.methods.end();
        const bool h = std::all_of(wanted.begin(), wanted.end(), [&](const auto &name) {
            return std::any_of(r.headers.begin(), r.headers.end(),
                               [&](const auto &p) { return cors_wildcard_match(p, name, true); });
        });
        if (o && m && h) {
            return &r;
        }
    }
    return nullptr;
}

std::vector<std::pair<std::string, std::string>>
cors_response_headers(const cors_rule &rule, std::string_view origin,
                      std::string_view request_headers) {
    // S3 sends the same set on a preflight and on an actual request that a rule matched (the
    // rule's methods, the requested headers, Expose-Headers, Max-Age), as LocalStack's snapshots
    // recorded against AWS show.
    std::vector<std::pair<std::string, std::string>> out;
    const bool any = std::find(rule.origins.begin(), rule.origins.end(), "*") != rule.origins.end();
    out.emplace_back("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
    out.emplace_back("Access-Control-Allow-Methods", join(rule.methods));
    if (!split_list(request_headers).empty()) {
        out.emplace_back("Access-Control-Allow-Headers",
                         ascii::lower(join(split_list(request_headers))));
    }
    if (!rule.expose.empty()) {
        out.emplace_back("Access-Control-Expose-Headers", join(rule.expose));
    }
    if (!any) {
        out.emplace_back("Access-Control-Allow-Credentials", "true");
    }
    if (rule.max_age) {
        out.emplace_back("Access-Control-Max-Age", std::to_string(*rule.max_age));
    }
    out.emplace_back("Vary",
                     "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    return out;
}

} // namespace ifmatch::protocol
