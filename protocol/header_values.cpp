// Enumerated request header values (see header_values.hpp). Each row names a header, the
// operations that read it, the values S3 accepts there and the error it gives for any other; the
// codes and messages are S3's wire strings.
#include "protocol/header_values.hpp"

#include "protocol/text.hpp"

#include <algorithm>
#include <iterator>
#include <span>
#include <string>

namespace ifmatch::protocol {
namespace {

// The storage classes of a general purpose bucket (OUTPOSTS, SNOW, EXPRESS_ONEZONE and the FSx
// classes belong to other kinds of bucket and are refused there as well).
constexpr std::string_view storage_classes[] = {
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER",  "DEEP_ARCHIVE",       "GLACIER_IR",
};
constexpr std::string_view lock_modes[] = {"GOVERNANCE", "COMPLIANCE"};
constexpr std::string_view legal_holds[] = {"ON", "OFF"};
constexpr std::string_view checksum_types[] = {"COMPOSITE", "FULL_OBJECT"};

constexpr op object_writes[] = {op::put_object, op::copy_object, op::create_multipart_upload};
constexpr op checksum_type_ops[] = {op::create_multipart_upload, op::complete_multipart_upload};

s3_error invalid_storage_class(std::string_view v) {
    return s3_error(s3_errc::invalid_storage_class).with("StorageClassRequested", std::string(v));
}

s3_error argument_error(std::string message, std::string_view name, std::string_view v) {
    return s3_error(s3_errc::invalid_argument, std::move(message))
        .with("ArgumentName", std::string(name))
        .with("ArgumentValue", std::string(v));
}

struct rule {
    std::string_view header;
    std::span<const op> ops;
    std::span<const std::string_view> values;
    s3_error (*refuse)(std::string_view header, std::string_view value);
};

const rule rules[] = {
    {"x-amz-storage-class", object_writes, storage_classes,
     [](std::string_view, std::string_view v) { return invalid_storage_class(v); }},
    {"x-amz-object-lock-mode", object_writes, lock_modes,
     [](std::string_view h, std::string_view v) {
         return argument_error("Unknown wormMode directive.", h, v);
     }},
    {"x-amz-object-lock-legal-hold", object_writes, legal_holds,
     [](std::string_view h, std::string_view v) {
         return argument_error("Legal Hold must be either of 'ON' or 'OFF'", h, v);
     }},
    {"x-amz-checksum-type", checksum_type_ops, checksum_types,
     [](std::string_view, std::string_view) {
         return s3_error(s3_errc::invalid_request,
                         "Value for x-amz-checksum-type header is invalid.");
     }},
};

template <class T> bool contains(std::span<const T> set, const T &v) {
    return std::find(set.begin(), set.end(), v) != set.end();
}

constexpr std::string_view attribute_names[] = {"ETag", "Checksum", "ObjectParts", "StorageClass",
                                                "ObjectSize"};

} // namespace

result<void> check_header_values(op o, const header_lookup &h) {
    for (const auto &r : rules) {
        if (!contains(r.ops, o)) {
            continue;
        }
        auto v = h(r.header);
        if (v && !contains(r.values, *v)) {
            return r.refuse(r.header, *v);
        }
    }
    return {};
}

result<object_attributes> parse_object_attributes(std::optional<std::string_view> header) {
    object_attributes a;
    bool any = false;
    std::string_view rest = header.value_or(std::string_view());
    while (header) {
        const auto comma = rest.find(',');
        const auto name = ascii::trim_ows(rest.substr(0, comma));
        if (!name.empty()) {
            bool *flags[] = {&a.etag, &a.checksum, &a.object_parts, &a.storage_class,
                             &a.object_size};
            const auto *at =
                std::find(std::begin(attribute_names), std::end(attribute_names), name);
            if (at == std::end(attribute_names)) {
                return argument_error("Invalid attribute name specified.",
                                      "x-amz-object-attributes", name);
            }
            *flags[at - std::begin(attribute_names)] = true;
            any = true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    if (!any) {
        return s3_error(s3_errc::invalid_request, "The x-amz-object-attributes header specifying "
                                                  "the attributes to be retrieved is either "
                                                  "missing or empty");
    }
    return a;
}

} // namespace ifmatch::protocol
