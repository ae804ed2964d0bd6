// Namespace-agnostic pugixml helpers (see xml_nodes.hpp).
#include "protocol/xml_nodes.hpp"

#include "protocol/text.hpp"
#include "protocol/xml.hpp"

namespace ifmatch::protocol::xmln {

result<pugi::xml_node> load_root(pugi::xml_document &doc, std::string_view body,
                                 std::string_view root) {
    if (!is_xml_chars(body)) {
        return s3_error(s3_errc::malformed_xml);
    }
    const auto parsed = doc.load_buffer(
        body.data(), body.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
    if (!parsed) {
        return s3_error(s3_errc::malformed_xml);
    }
    pugi::xml_node element;
    for (auto n = doc.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_doctype) {
            return s3_error(s3_errc::malformed_xml);
        }
        if (n.type() == pugi::node_element) {
            if (element) {
                return s3_error(s3_errc::malformed_xml);
            }
            element = n;
        }
    }
    if (!element || local_name(element) != root) {
        return s3_error(s3_errc::malformed_xml);
    }
    return element;
}

std::string_view local_name(const pugi::xml_node &n) {
    std::string_view name = n.name();
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node &parent, std::string_view name) {
    for (auto c = parent.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && local_name(c) == name) {
            return c;
        }
    }
    return {};
}

std::vector<pugi::xml_node> children(const pugi::xml_node &parent, std::string_view name) {
    std::vector<pugi::xml_node> out;
    for (auto c = parent.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && local_name(c) == name) {
            out.push_back(c);
        }
    }
    return out;
}

std::string text(const pugi::xml_node &parent, std::string_view name) {
    return std::string(ascii::trim_xml(child(parent, name).child_value()));
}

grantee_ref grantee(const pugi::xml_node &grant) {
    auto g = child(grant, "Grantee");
    std::string type = g.attribute("xsi:type").value();
    std::string value = type == "Group"                   ? text(g, "URI")
                        : type == "AmazonCustomerByEmail" ? text(g, "EmailAddress")
                                                          : text(g, "ID");
    return {std::move(type), std::move(value)};
}

} // namespace ifmatch::protocol::xmln
