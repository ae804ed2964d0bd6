// Fuzzes request authentication parsing and canonicalisation: the Authorization header and the
// presigned query (SigV4 and SigV2), then the canonical request / string-to-sign of a request
// built from the remaining lines (method, raw path, raw query, header lines `name:value`).
#include "fuzz_common.hpp"
#include "protocol/sigv2.hpp"
#include "protocol/sigv4.hpp"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    using namespace ifmatch;
    using namespace ifmatch::protocol;
    auto f = fuzz::fields(fuzz::as_view(data, size), 5);
    std::string_view authorization = f[0], method = f[1], path = f[2], query = f[3];
    std::vector<header_field> headers;
    for (auto line : fuzz::fields(f[4], 16)) {
        auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
        }
    }
    auto now = std::chrono::sys_seconds(std::chrono::seconds(1369353600));
    (void)detect_auth_scheme(authorization, query);
    sigv4_request req{method, path, query, headers, "UNSIGNED-PAYLOAD"};
    if (auto a = parse_sigv4_authorization(authorization)) {
        (void)check_sigv4_scope(*a, "20130524T000000Z");
        (void)sigv4_verify(req, *a, "secret", "20130524T000000Z");
    }
    if (auto a = parse_sigv4_presigned(query)) {
        (void)check_presigned_time(*a, now);
        req.payload_hash = {};
        (void)sigv4_verify(req, *a, "secret", a->amz_date);
    }
    sigv2_request r2{method, path, query, headers};
    if (auto a = parse_sigv2_authorization(authorization)) {
        (void)sigv2_verify(r2, *a, "secret");
    }
    if (auto a = parse_sigv2_presigned(query)) {
        (void)check_sigv2_expiry(*a, now);
        (void)sigv2_verify(r2, *a, "secret");
    }
    return 0;
}
