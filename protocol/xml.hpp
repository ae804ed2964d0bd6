// XML for S3: an escape-safe writer for response bodies and small namespace-agnostic parsers for
// the request bodies S3 accepts (pugixml underneath). Pure.
#pragma once

#include "protocol/errors.hpp"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::protocol {

// Escapes & < > " ' and CR for element text or an attribute value. The bytes are otherwise kept
// as they are: for text the server produced or stored (keys in listings are S3's business, see
// spec wire.md §4.4).
std::string xml_escape(std::string_view s);

// Escapes like xml_escape and also makes any bytes XML 1.0 character data: each byte that does
// not start a well-formed UTF-8 sequence, and each character XML 1.0 excludes (the C0 controls
// other than TAB, LF and CR, U+FFFE and U+FFFF), becomes U+FFFD. For text that echoes request
// bytes (error elements such as Key, BucketName, ArgumentValue, Condition).
std::string xml_text(std::string_view bytes);

// True when `body` holds only characters XML 1.0 allows, as S3's parser demands of a request
// document: well-formed UTF-8, no C0 control other than TAB, LF and CR, no U+FFFE or U+FFFF, and
// no numeric character reference (`&#1;`, `&#x0;`, `&#xD800;`) to anything else. The request
// parsers answer MalformedXML otherwise (pugixml alone keeps such bytes, and cuts text at
// `&#0;`).
bool is_xml_chars(std::string_view body);

// True when `text` (decoded text, where `&#1;` is just characters) is well-formed UTF-8 made of
// characters XML 1.0 allows, so that a response can carry it.
bool is_xml_text(std::string_view text);

// Builds `<?xml version="1.0" encoding="UTF-8"?>` + elements. The first open() may carry the S3
// namespace. Usage: w.open("ListBucketResult", true); w.element("Name", b); w.close(); w.str().
class xml_writer {
public:
    xml_writer();
    xml_writer &open(std::string_view name, bool s3_namespace = false);
    // Opens `name` with attributes (values escaped), e.g. a Grantee's xmlns:xsi and xsi:type.
    xml_writer &open(std::string_view name,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> attrs);
    xml_writer &element(std::string_view name, std::string_view text);
    xml_writer &element(std::string_view name, std::int64_t value);
    xml_writer &empty_element(std::string_view name);
    xml_writer &close();
    const std::string &str(); // closes anything still open

private:
    std::string out_;
    std::vector<std::string> stack_;
};

// <CreateBucketConfiguration><LocationConstraint>…</LocationConstraint>… An empty body is valid.
struct create_bucket_request {
    std::string location_constraint;
};
result<create_bucket_request> parse_create_bucket(std::string_view body);

// <Delete><Quiet/><Object><Key/><VersionId/><ETag/></Object>…</Delete> (R-D11, R-D13).
struct delete_objects_request {
    struct object {
        std::string key;
        std::optional<std::string> version_id;
        std::optional<std::string> etag; // value or `*`
        bool has_size_or_time = false;   // <Size> / <LastModifiedTime> present (R-D13)
    };
    bool quiet = false;
    std::vector<object> objects;
};
// Errors: MalformedXML (bad XML, no <Object>, more than 1000 objects).
result<delete_objects_request> parse_delete_objects(std::string_view body);

// <CompleteMultipartUpload><Part><PartNumber/><ETag/><ChecksumCRC32/>…</Part>…
struct complete_multipart_request {
    struct part {
        int number = 0;
        std::string etag; // quotes stripped
        std::vector<std::pair<std::string, std::string>> checksums; // ("CRC32", base64)
    };
    std::vector<part> parts;
};
// Errors: MalformedXML.
result<complete_multipart_request> parse_complete_multipart(std::string_view body);

// <VersioningConfiguration><Status>Enabled|Suspended</Status><MfaDelete>…</MfaDelete>
struct versioning_request {
    std::string status;     // may be empty
    std::string mfa_delete; // may be empty
};
result<versioning_request> parse_versioning(std::string_view body);

} // namespace ifmatch::protocol
