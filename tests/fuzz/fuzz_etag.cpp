// Fuzzes ETag list parsing and matching (If-Match / If-None-Match values).
#include "fuzz_common.hpp"
#include "protocol/etag.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    auto f = fuzz::fields(fuzz::as_view(data, size), 2);
    if (auto list = protocol::parse_etag_list(f[0])) {
        (void)protocol::matches_strong(*list, f[1]);
        (void)protocol::matches_weak(*list, f[1]);
    }
    (void)protocol::quote_etag(protocol::strip_quotes(f[1]));
    return 0;
}
