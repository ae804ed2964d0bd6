// XML for S3 (spec wire.md §5.7): the response writer and the request-body parsers. Parsers match
// element local names only, so `<Delete>`, `<Delete xmlns="...">` and `<s3:Delete xmlns:s3="...">`
// are the same document. Anything pugixml rejects, or that misses a required element, is
// MalformedXML. pugixml never expands entities beyond the predefined ones, and a DOCTYPE makes
// the body MalformedXML.

#include "protocol/xml.hpp"

#include "protocol/text.hpp"
#include "protocol/utf8.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <pugixml.hpp>

namespace ifmatch::protocol {
namespace {

constexpr std::string_view s3_xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr std::size_t max_delete_objects = 1000;

// The element name without any `prefix:`.
std::string_view local_name(const pugi::xml_node &node) {
    std::string_view name = node.name();
    const auto colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The first child element called `name` (local name), or an empty node.
pugi::xml_node child(const pugi::xml_node &parent, std::string_view name) {
    for (auto c = parent.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && local_name(c) == name) {
            return c;
        }
    }
    return {};
}

// The text content of a child element, or nullopt when the element is absent.
std::optional<std::string> child_text(const pugi::xml_node &parent, std::string_view name) {
    const auto c = child(parent, name);
    if (!c) {
        return std::nullopt;
    }
    return std::string(c.child_value());
}

// Parses `body` and returns its root element if its local name is `root`; MalformedXML otherwise.
result<pugi::xml_node> load_root(pugi::xml_document &doc, std::string_view body,
                                 std::string_view root) {
    if (!is_xml_chars(body)) {
        return s3_error(s3_errc::malformed_xml);
    }
    const auto parsed = doc.load_buffer(
        body.data(), body.size(), pugi::parse_default | pugi::parse_doctype | pugi::parse_fragment,
        pugi::encoding_utf8);
    if (!parsed) {
        return s3_error(s3_errc::malformed_xml);
    }
    // pugixml accepts fragments; a document is exactly one element plus comments and PIs.
    pugi::xml_node element;
    for (auto n = doc.first_child(); n; n = n.next_sibling()) {
        const auto type = n.type();
        if (type == pugi::node_comment || type == pugi::node_pi || type == pugi::node_declaration) {
            continue;
        }
        if (type != pugi::node_element || element) {
            return s3_error(s3_errc::malformed_xml);
        }
        element = n;
    }
    if (!element || local_name(element) != root) {
        return s3_error(s3_errc::malformed_xml);
    }
    return element;
}

std::optional<bool> parse_bool(std::string_view s) {
    s = ascii::trim_xml(s);
    if (s == "true" || s == "TRUE" || s == "True") {
        return true;
    }
    if (s == "false" || s == "FALSE" || s == "False") {
        return false;
    }
    return std::nullopt;
}

std::string strip_quotes(std::string_view s) {
    s = ascii::trim_xml(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        s = s.substr(1, s.size() - 2);
    }
    return std::string(s);
}

std::optional<int> parse_int(std::string_view s) {
    s = ascii::trim_xml(s);
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return value;
}

result<delete_objects_request::object> parse_delete_object(const pugi::xml_node &node) {
    delete_objects_request::object obj;
    auto key = child_text(node, "Key");
    if (!key || key->empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    obj.key = std::move(*key);
    obj.version_id = child_text(node, "VersionId");
    if (auto etag = child_text(node, "ETag")) {
        obj.etag = strip_quotes(*etag);
    }
    obj.has_size_or_time = child(node, "Size") || child(node, "LastModifiedTime");
    return obj;
}

result<complete_multipart_request::part> parse_part(const pugi::xml_node &node) {
    complete_multipart_request::part part;
    const auto number = child_text(node, "PartNumber");
    const auto parsed = number ? parse_int(*number) : std::nullopt;
    const auto etag = child_text(node, "ETag");
    if (!parsed || !etag) {
        return s3_error(s3_errc::malformed_xml);
    }
    part.number = *parsed;
    part.etag = strip_quotes(*etag);
    constexpr std::string_view prefix = "Checksum";
    for (auto c = node.first_child(); c; c = c.next_sibling()) {
        const auto name = local_name(c);
        if (c.type() == pugi::node_element && name.size() > prefix.size() &&
            name.substr(0, prefix.size()) == prefix) {
            part.checksums.emplace_back(std::string(name.substr(prefix.size())),
                                        std::string(ascii::trim_xml(c.child_value())));
        }
    }
    return part;
}

} // namespace

std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        switch (ch) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '\r':
            out += "&#13;";
            break; // A raw CR would be normalised away by the reader.
        default:
            out += ch;
        }
    }
    return out;
}

namespace {

// XML 1.0 production [2] Char.
bool xml_char(std::uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// The code point of the well-formed UTF-8 sequence of `n` bytes at s[i].
std::uint32_t code_point(std::string_view s, std::size_t i, std::size_t n) {
    const auto b = [&](std::size_t k) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k]));
    };
    switch (n) {
    case 1:
        return b(0);
    case 2:
        return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
        return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
        return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    }
}

// The value of the character reference `&#...;` starting at s[i] (s[i] == '&', s[i+1] == '#'),
// or nullopt when it is not a complete one (pugixml then judges the text). Values past U+10FFFF
// come back as 0x110000.
std::optional<std::uint32_t> char_ref(std::string_view s, std::size_t i) {
    std::size_t k = i + 2;
    const bool hex = k < s.size() && s[k] == 'x';
    if (hex) {
        ++k;
    }
    std::uint32_t v = 0;
    const std::size_t first = k;
    for (; k < s.size() && s[k] != ';'; ++k) {
        const char c = s[k];
        const int d = hex ? ascii::hex_value(c) : c >= '0' && c <= '9' ? c - '0' : -1;
        if (d < 0) {
            return std::nullopt;
        }
        v = std::min<std::uint32_t>(v * (hex ? 16 : 10) + static_cast<std::uint32_t>(d), 0x110000);
    }
    if (k == first || k == s.size()) {
        return std::nullopt;
    }
    return v;
}

} // namespace

bool is_xml_chars(std::string_view body) {
    for (std::size_t i = 0; i < body.size();) {
        const auto n = utf8_sequence(body, i);
        if (n == 0 || !xml_char(code_point(body, i, n))) {
            return false;
        }
        if (body[i] == '&' && i + 1 < body.size() && body[i + 1] == '#') {
            if (auto v = char_ref(body, i); v && !xml_char(*v)) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

bool is_xml_text(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto n = utf8_sequence(text, i);
        if (n == 0 || !xml_char(code_point(text, i, n))) {
            return false;
        }
        i += n;
    }
    return true;
}

std::string xml_text(std::string_view bytes) {
    static constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD
    std::string out;
    out.reserve(bytes.size());
    std::size_t plain = 0; // start of the run of bytes not yet copied
    auto flush = [&](std::size_t end, std::string_view with) {
        out += xml_escape(bytes.substr(plain, end - plain));
        out += with;
    };
    for (std::size_t i = 0; i < bytes.size();) {
        const auto n = utf8_sequence(bytes, i);
        if (n == 0 || !xml_char(code_point(bytes, i, n))) {
            flush(i, replacement);
            i += n == 0 ? 1 : n;
            plain = i;
            continue;
        }
        i += n;
    }
    flush(bytes.size(), {});
    return out;
}

xml_writer::xml_writer() : out_("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") {}

xml_writer &xml_writer::open(std::string_view name, bool s3_namespace) {
    out_ += '<';
    out_ += name;
    if (s3_namespace) {
        out_ += " xmlns=\"";
        out_ += s3_xmlns;
        out_ += '"';
    }
    out_ += '>';
    stack_.emplace_back(name);
    return *this;
}

xml_writer &
xml_writer::open(std::string_view name,
                 std::initializer_list<std::pair<std::string_view, std::string_view>> attrs) {
    out_ += '<';
    out_ += name;
    for (const auto &[k, v] : attrs) {
        out_ += ' ';
        out_ += k;
        out_ += "=\"";
        out_ += xml_escape(v);
        out_ += '"';
    }
    out_ += '>';
    stack_.emplace_back(name);
    return *this;
}

xml_writer &xml_writer::element(std::string_view name, std::string_view text) {
    out_ += '<';
    out_ += name;
    out_ += '>';
    out_ += xml_escape(text);
    out_ += "</";
    out_ += name;
    out_ += '>';
    return *this;
}

xml_writer &xml_writer::element(std::string_view name, std::int64_t value) {
    return element(name, std::string_view(std::to_string(value)));
}

xml_writer &xml_writer::empty_element(std::string_view name) {
    out_ += '<';
    out_ += name;
    out_ += "/>";
    return *this;
}

xml_writer &xml_writer::close() {
    if (stack_.empty()) {
        return *this; // Closing with nothing open is a no-op, not an error.
    }
    out_ += "</";
    out_ += stack_.back();
    out_ += '>';
    stack_.pop_back();
    return *this;
}

const std::string &xml_writer::str() {
    while (!stack_.empty()) {
        close();
    }
    return out_;
}

result<create_bucket_request> parse_create_bucket(std::string_view body) {
    create_bucket_request req;
    if (ascii::trim_xml(body).empty()) {
        return req;
    }
    pugi::xml_document doc;
    auto root = load_root(doc, body, "CreateBucketConfiguration");
    if (!root) {
        return root.error();
    }
    if (auto location = child_text(*root, "LocationConstraint")) {
        req.location_constraint = std::string(ascii::trim_xml(*location));
    }
    return req;
}

result<delete_objects_request> parse_delete_objects(std::string_view body) {
    pugi::xml_document doc;
    auto root = load_root(doc, body, "Delete");
    if (!root) {
        return root.error();
    }
    delete_objects_request req;
    if (auto quiet = child_text(*root, "Quiet")) {
        const auto flag = parse_bool(*quiet);
        if (!flag) {
            return s3_error(s3_errc::malformed_xml);
        }
        req.quiet = *flag;
    }
    for (auto c = root->first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element || local_name(c) != "Object") {
            continue;
        }
        if (req.objects.size() == max_delete_objects) {
            return s3_error(s3_errc::malformed_xml);
        }
        auto obj = parse_delete_object(c);
        if (!obj) {
            return obj.error();
        }
        req.objects.push_back(std::move(*obj));
    }
    if (req.objects.empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    return req;
}

result<complete_multipart_request> parse_complete_multipart(std::string_view body) {
    pugi::xml_document doc;
    auto root = load_root(doc, body, "CompleteMultipartUpload");
    if (!root) {
        return root.error();
    }
    complete_multipart_request req;
    for (auto c = root->first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element || local_name(c) != "Part") {
            continue;
        }
        auto part = parse_part(c);
        if (!part) {
            return part.error();
        }
        req.parts.push_back(std::move(*part));
    }
    if (req.parts.empty()) {
        return s3_error(s3_errc::malformed_xml);
    }
    return req;
}

result<versioning_request> parse_versioning(std::string_view body) {
    pugi::xml_document doc;
    auto root = load_root(doc, body, "VersioningConfiguration");
    if (!root) {
        return root.error();
    }
    versioning_request req;
    if (auto status = child_text(*root, "Status")) {
        req.status = std::string(ascii::trim_xml(*status));
    }
    if (auto mfa = child_text(*root, "MfaDelete")) {
        req.mfa_delete = std::string(ascii::trim_xml(*mfa));
    }
    const bool status_ok =
        req.status.empty() || req.status == "Enabled" || req.status == "Suspended";
    const bool mfa_ok =
        req.mfa_delete.empty() || req.mfa_delete == "Enabled" || req.mfa_delete == "Disabled";
    if (!status_ok || !mfa_ok) {
        return s3_error(s3_errc::malformed_xml);
    }
    return req;
}

} // namespace ifmatch::protocol
