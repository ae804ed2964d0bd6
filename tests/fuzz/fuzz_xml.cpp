// Fuzzes the XML request-body parsers; the selector byte picks the document type.
#include "fuzz_common.hpp"
#include "protocol/xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    if (size < 1) {
        return 0;
    }
    auto body = fuzz::as_view(data + 1, size - 1);
    switch (data[0] & 3) {
    case 0: (void)protocol::parse_create_bucket(body); break;
    case 1: (void)protocol::parse_delete_objects(body); break;
    case 2: (void)protocol::parse_complete_multipart(body); break;
    default: (void)protocol::parse_versioning(body); break;
    }
    (void)protocol::xml_escape(body);
    (void)protocol::xml_text(body);
    (void)protocol::is_xml_chars(body);
    (void)protocol::is_xml_text(body);
    return 0;
}
