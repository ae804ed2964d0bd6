// Tags: header and XML parsing, S3's limits, the stored encoding.
#include "protocol/tagging.hpp"

#include "protocol/uri.hpp"
#include "protocol/utf8.hpp"
#include "protocol/xml.hpp"
#include "protocol/xml_nodes.hpp"

#include <set>

namespace ifmatch::protocol {
namespace {

// Unicode characters in a UTF-8 string (continuation bytes are not counted).
std::size_t chars(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

s3_error invalid_tag(std::string message) {
    return s3_error(s3_errc::invalid_tag, std::move(message));
}

} // namespace

result<void> validate_tags(const tag_set &tags, std::size_t max_tags) {
    if (tags.size() > max_tags) {
        return invalid_tag(max_tags == max_object_tags
                               ? "Object tags cannot be greater than 10"
                               : "Bucket tag count cannot be greater than 50");
    }
    std::set<std::string> seen;
    for (const auto &[k, v] : tags) {
        // A tag S3 could not return in a Tagging document is refused.
        if (k.empty() || chars(k) > 128 || !is_xml_text(k)) {
            return invalid_tag("The TagKey you have provided is invalid");
        }
        if (chars(v) > 256 || !is_xml_text(v)) {
            return invalid_tag("The TagValue you have provided is invalid");
        }
        if (k.starts_with("aws:")) {
            return invalid_tag("Your TagKey cannot be prefixed with aws:");
        }
        if (!seen.insert(k).second) {
            return invalid_tag("Cannot provide multiple Tags with the same key");
        }
    }
    return {};
}

result<tag_set> parse_tagging_header(std::string_view header) {
    tag_set out;
    while (!header.empty()) {
        const auto amp = header.find('&');
        const auto pair = header.substr(0, amp);
        header = amp == std::string_view::npos ? std::string_view{} : header.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        auto k = query_decode(pair.substr(0, eq));
        auto v =
            query_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!k || !v || !is_utf8(*k) || !is_utf8(*v)) {
            return s3_error(s3_errc::invalid_argument, "The header 'x-amz-tagging' shall be "
                                                       "encoded as UTF-8 then URLEncoded URL "
                                                       "query parameters without tag name "
                                                       "duplicates.");
        }
        out.emplace_back(std::move(*k), std::move(*v));
    }
    if (auto r = validate_tags(out, max_object_tags); r.has_error()) {
        return r.error();
    }
    return out;
}

result<tag_set> parse_tagging_xml(std::string_view body, std::size_t max_tags) {
    pugi::xml_document doc;
    auto root = xmln::load_root(doc, body, "Tagging");
    if (root.has_error()) {
        return root.error();
    }
    auto set = xmln::child(*root, "TagSet");
    if (!set) {
        return s3_error(s3_errc::malformed_xml);
    }
    tag_set out;
    for (const auto &tag : xmln::children(set, "Tag")) {
        if (!xmln::child(tag, "Key")) {
            return s3_error(s3_errc::malformed_xml);
        }
        out.emplace_back(xmln::child(tag, "Key").child_value(),
                         xmln::child(tag, "Value").child_value());
    }
    if (auto r = validate_tags(out, max_tags); r.has_error()) {
        return r.error();
    }
    return out;
}

std::string render_tagging_xml(const tag_set &tags) {
    xml_writer w;
    w.open("Tagging", true).open("TagSet");
    for (const auto &[k, v] : tags) {
        w.open("Tag").element("Key", k).element("Value", v).close();
    }
    return w.str();
}

std::string encode_tags(const tag_set &tags) {
    std::string out;
    for (const auto &[k, v] : tags) {
        out += (out.empty() ? "" : "&") + uri_encode(k, false) + "=" + uri_encode(v, false);
    }
    return out;
}

tag_set decode_tags(std::string_view stored) {
    tag_set out;
    while (!stored.empty()) {
        const auto amp = stored.find('&');
        const auto pair = stored.substr(0, amp);
        stored = amp == std::string_view::npos ? std::string_view{} : stored.substr(amp + 1);
        const auto eq = pair.find('=');
        auto k = percent_decode(pair.substr(0, eq));
        auto v =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (k && v) {
            out.emplace_back(std::move(*k), std::move(*v));
        }
    }
    return out;
}

} // namespace ifmatch::protocol
