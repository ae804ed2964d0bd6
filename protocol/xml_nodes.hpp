// Namespace-agnostic pugixml helpers for the request bodies of the wider surface (tagging, ACLs,
// encryption, ownership, CORS). Internal to protocol/: only .cpp files include it.
#pragma once

#include "protocol/errors.hpp"

#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol::xmln {

// Loads `body` and returns its single root element if its local name is `root`; MalformedXML
// otherwise (bad XML, characters XML 1.0 excludes (is_xml_chars), a DOCTYPE, several roots,
// another root).
result<pugi::xml_node> load_root(pugi::xml_document &doc, std::string_view body,
                                 std::string_view root);
// The element's name without a namespace prefix.
std::string_view local_name(const pugi::xml_node &n);
// The first child element named `name` (local name), or an empty node.
pugi::xml_node child(const pugi::xml_node &parent, std::string_view name);
// Every child element named `name`, in document order.
std::vector<pugi::xml_node> children(const pugi::xml_node &parent, std::string_view name);
// The trimmed text of a child element; empty when absent.
std::string text(const pugi::xml_node &parent, std::string_view name);
// The <Grantee> of an ACL <Grant>: its xsi:type and the value that names it (URI for Group,
// EmailAddress for AmazonCustomerByEmail, else ID); either may be empty.
struct grantee_ref {
    std::string type, value;
};
grantee_ref grantee(const pugi::xml_node &grant);

} // namespace ifmatch::protocol::xmln
