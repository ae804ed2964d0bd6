// Fuzzes HTTP-date and x-amz-date parsing; a parsed date must format and parse back.
#include "fuzz_common.hpp"
#include "protocol/http_date.hpp"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch::protocol;
    auto in = ifmatch::fuzz::as_view(data, size);
    auto now = sys_seconds(std::chrono::seconds(1700000000));
    if (auto t = parse_http_date(in, now)) {
        auto again = parse_http_date(format_http_date(*t), now);
        if (!again || *again != *t) {
            std::abort();
        }
        (void)format_iso8601(sys_millis(*t));
    }
    if (auto t = parse_amz_date(in)) {
        (void)format_amz_date(*t);
    }
    return 0;
}
