// Signed-mode request authentication: scheme selection, key lookup, time checks, verification.
#include "server/auth.hpp"

#include "protocol/http_date.hpp"
#include "protocol/sigv2.hpp"

#include <vector>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

using fields_t = std::vector<protocol::header_field>;

fields_t fields_of(const request &req) {
    fields_t out;
    out.reserve(req.headers.size());
    for (auto &[k, v] : req.headers) {
        out.emplace_back(k, v);
    }
    return out;
}

const std::string *find_secret(const config &cfg, std::string_view access_key) {
    for (auto &[ak, sk] : cfg.credentials) {
        if (ak == access_key) {
            return &sk;
        }
    }
    return nullptr;
}

s3_error unknown_key(std::string_view access_key) {
    return s3_error(s3_errc::invalid_access_key_id)
        .with("AWSAccessKeyId", std::string(access_key));
}

s3_error no_date() {
    return s3_error(s3_errc::access_denied,
                    "AWS authentication requires a valid Date or x-amz-date header");
}

// Adds <Region> to AuthorizationHeaderMalformed errors, so region-redirecting clients can act.
s3_error with_region(s3_error e, const config &cfg) {
    if (e.code == s3_errc::authorization_header_malformed) {
        e.with("Region", cfg.region);
    }
    return e;
}

// The request time of header auth: x-amz-date (ISO basic or, for SigV2, an HTTP date), else Date.
std::optional<std::chrono::sys_seconds> request_time(const request &req) {
    auto v = req.header("x-amz-date");
    if (!v) {
        v = req.header("date");
    }
    if (!v) {
        return std::nullopt;
    }
    if (auto t = protocol::parse_amz_date(*v)) {
        return t;
    }
    if (auto t = protocol::parse_http_date(*v)) {
        return t;
    }
    // s3cmd writes RFC 2822 dates with a numeric zone: `Sun, 22 Nov 2026 16:14:00 +0000`.
    std::string text(*v);
    if (text.size() > 6 && text.ends_with(" +0000")) {
        text.replace(text.size() - 5, 5, "GMT");
        return protocol::parse_http_date(text);
    }
    return std::nullopt;
}

protocol::result<auth_result> sigv4_header(const config &cfg, const request &req,
                                           const protocol::classified_request &target,
                                           std::chrono::sys_seconds now) {
    auto auth = protocol::parse_sigv4_authorization(*req.header("authorization"));
    if (auth.has_error()) {
        return with_region(auth.error(), cfg);
    }
    const std::string *secret = find_secret(cfg, auth->credential.access_key);
    if (!secret) {
        return unknown_key(auth->credential.access_key);
    }
    auto t = request_time(req);
    if (!t) {
        return no_date();
    }
    if (auto r = protocol::check_request_time(*t, now); r.has_error()) {
        return r.error();
    }
    // The string-to-sign carries the ISO basic form even when only Date was sent.
    std::string amz_date(req.header("x-amz-date").value_or(protocol::format_amz_date(*t)));
    if (auto r = protocol::check_sigv4_scope(*auth, amz_date); r.has_error()) {
        return with_region(r.error(), cfg);
    }
    auto payload = req.header("x-amz-content-sha256");
    if (!payload) {
        return s3_error(s3_errc::invalid_request,
                        "Missing required header for this request: x-amz-content-sha256");
    }
    fields_t fields = fields_of(req);
    protocol::sigv4_request sr{req.method, target.raw_path, target.raw_query, fields, *payload};
    if (auto r = protocol::sigv4_verify(sr, *auth, *secret, amz_date); r.has_error()) {
        return r.error();
    }
    auth_result out;
    out.access_key = auth->credential.access_key;
    if (payload->starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) {
        out.chunk_signer.emplace(protocol::sigv4_signing_key(*secret, auth->credential), amz_date,
                                 auth->credential.scope(), auth->signature);
    }
    return out;
}

protocol::result<auth_result> sigv4_query(const config &cfg, const request &req,
                                          const protocol::classified_request &target,
                                          std::chrono::sys_seconds now) {
    auto auth = protocol::parse_sigv4_presigned(target.raw_query);
    if (auth.has_error()) {
        return auth.error();
    }
    const std::string *secret = find_secret(cfg, auth->credential.access_key);
    if (!secret) {
        return unknown_key(auth->credential.access_key);
    }
    if (auto r = protocol::check_sigv4_scope(*auth, auth->amz_date); r.has_error()) {
        return r.error();
    }
    if (auto r = protocol::check_presigned_time(*auth, now); r.has_error()) {
        return r.error();
    }
    fields_t fields = fields_of(req);
    protocol::sigv4_request sr{req.method, target.raw_path, target.raw_query, fields, {}};
    if (auto r = protocol::sigv4_verify(sr, *auth, *secret, auth->amz_date); r.has_error()) {
        return r.error();
    }
    return auth_result{auth->credential.access_key, std::nullopt};
}

protocol::result<auth_result> sigv2(const config &cfg, const request &req,
                                    const protocol::classified_request &target,
                                    std::chrono::sys_seconds now, bool presigned) {
    auto auth = presigned ? protocol::parse_sigv2_presigned(target.raw_query)
                          : protocol::parse_sigv2_authorization(*req.header("authorization"));
    if (auth.has_error()) {
        return with_region(auth.error(), cfg);
    }
    const std::string *secret = find_secret(cfg, auth->access_key);
    if (!secret) {
        return unknown_key(auth->access_key);
    }
    if (presigned) {
        if (auto r = protocol::check_sigv2_expiry(*auth, now); r.has_error()) {
            return r.error();
        }
    } else {
        auto t = request_time(req);
        if (!t) {
            return no_date();
        }
        if (auto r = protocol::check_request_time(*t, now); r.has_error()) {
            return r.error();
        }
    }
    // SigV2 always signs the path-style resource, also for virtual-hosted requests.
    std::string path = target.virtual_host ? "/" + target.bucket + target.raw_path
                                           : target.raw_path;
    fields_t fields = fields_of(req);
    bool bucket_level = !target.bucket.empty() && target.key.empty();
    protocol::sigv2_request sr{req.method, path, target.raw_query, fields, bucket_level};
    if (auto r = protocol::sigv2_verify(sr, *auth, *secret); r.has_error()) {
        return r.error();
    }
    return auth_result{auth->access_key, std::nullopt};
}

} // namespace

bool auth_exempt(const protocol::classified_request &target) {
    return target.operation == protocol::op::admin && target.admin_path == "health";
}

protocol::result<auth_result> authenticate(const config &cfg, const request &req,
                                           const protocol::classified_request &target,
                                           std::chrono::sys_seconds now) {
    if (!cfg.signed_mode() || auth_exempt(target)) {
        return auth_result{};
    }
    std::string_view authorization = req.header("authorization").value_or(std::string_view());
    auto scheme = protocol::detect_auth_scheme(authorization, target.raw_query);
    bool streaming_signed = req.header("x-amz-content-sha256")
                                .value_or(std::string_view())
                                .starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    if (streaming_signed && scheme != protocol::auth_scheme::sigv4_header) {
        return s3_error(s3_errc::invalid_request,
                        "Signed streaming payloads need SigV4 Authorization header auth");
    }
    switch (scheme) {
    case protocol::auth_scheme::none:
        return s3_error(s3_errc::access_denied);
    case protocol::auth_scheme::sigv4_header:
        return sigv4_header(cfg, req, target, now);
    case protocol::auth_scheme::sigv4_query:
        return sigv4_query(cfg, req, target, now);
    case protocol::auth_scheme::sigv2_header:
        return sigv2(cfg, req, target, now, false);
    case protocol::auth_scheme::sigv2_query:
        return sigv2(cfg, req, target, now, true);
    case protocol::auth_scheme::unknown:
        break;
    }
    return s3_error(s3_errc::invalid_argument, "Unsupported Authorization Type")
        .with("ArgumentName", "Authorization")
        .with("ArgumentValue", std::string(authorization.substr(0, authorization.find(' '))));
}

} // namespace ifmatch::server
