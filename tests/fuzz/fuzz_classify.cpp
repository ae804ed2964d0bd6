// Fuzzes request classification: selector byte -> method, then target and Host lines.
#include "fuzz_common.hpp"
#include "protocol/operation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    if (size < 1) {
        return 0;
    }
    static const char *methods[] = {"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", ""};
    auto f = fuzz::fields(fuzz::as_view(data + 1, size - 1), 2);
    protocol::request_head h{methods[data[0] & 7], f[0], f[1], (data[0] & 8) != 0};
    auto r = protocol::classify(h, (data[0] & 16) ? "localhost" : "s3.example.com");
    if (r.has_value()) {
        (void)protocol::op_name(r->operation);
        (void)protocol::check_object_key(r->key);
        (void)protocol::is_valid_bucket_name(r->bucket);
    }
    return 0;
}
