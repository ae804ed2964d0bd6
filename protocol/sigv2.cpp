// SigV2 request authentication (wire.md §1.6).
//
// RULES
// 1. StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n x-amz-lines resource.
// 2. The Date slot holds Expires for presigned requests, is empty when x-amz-date is sent, and
//    holds the Date header otherwise.
// 3. x-amz-* headers are lower-cased, values trimmed, repeats joined with ',', sorted by name.
// 4. The resource is the raw (un-decoded) path plus the sub-resources S3 signs, sorted by name,
//    with decoded values, `name` alone when the query had no '='.
// 5. A bucket-level resource may be signed with or without its trailing slash (`/bucket/` and
//    `/bucket` name the same resource); any other path must be signed exactly as sent.

#include "protocol/sigv2.hpp"

#include "protocol/auth_text.hpp"
#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

namespace ifmatch::protocol {

namespace {

using namespace auth_text;

// Query parameters that are part of the SigV2 canonicalized resource: the AWS list plus the
// later additions botocore signs (its HmacV1Auth "query string arguments of interest").
// clang-format off
constexpr std::array<std::string_view, 35> sub_resources = {
    "accelerate", "acl", "analytics", "cors", "delete", "inventory", "lifecycle", "location",
    "logging", "metrics", "notification", "object-lock", "partNumber", "policy", "replication",
    "requestPayment", "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-content-type",
    "response-expires", "restore", "select", "select-type", "tagging", "torrent", "uploadId",
    "uploads", "versionId", "versioning", "versions", "website", "defaultObjectAcl",
    "storageClass"};
// clang-format on

bool is_sub_resource(std::string_view name) {
    return std::find(sub_resources.begin(), sub_resources.end(), name) != sub_resources.end();
}

// Returns the trimmed values of header `name`, joined with ','; nullopt when absent.
std::optional<std::string> header_value(header_fields headers, std::string_view name) {
    std::optional<std::string> out;
    for (const auto &[n, v] : headers) {
        if (!ascii::iequals(n, name)) {
            continue;
        }
        if (out) {
            out->push_back(',');
        } else {
            out.emplace();
        }
        *out += ascii::trim_ows(v);
    }
    return out;
}

// Sorted `name:value\n` lines of the x-amz-* headers (rule 3).
std::string amz_header_lines(header_fields headers) {
    std::map<std::string, std::string> amz;
    for (const auto &[n, v] : headers) {
        std::string name = ascii::lower(n);
        if (!name.starts_with("x-amz-")) {
            continue;
        }
        auto [it, fresh] = amz.try_emplace(name);
        if (!fresh) {
            it->second.push_back(',');
        }
        it->second += ascii::trim_ows(v);
    }
    std::string out;
    for (const auto &[name, value] : amz) {
        out += name + ":" + value + "\n";
    }
    return out;
}

// The canonicalized resource (rule 4).
std::string canonical_resource(std::string_view raw_path, std::string_view raw_query) {
    std::vector<std::pair<std::string, std::optional<std::string>>> subs;
    for (auto piece : split(raw_query, '&')) {
        auto eq = piece.find('=');
        std::string name = percent_decode(piece.substr(0, eq), false);
        if (!is_sub_resource(name)) {
            continue;
        }
        std::optional<std::string> value;
        if (eq != std::string_view::npos) {
            value = percent_decode(piece.substr(eq + 1), false);
        }
        subs.emplace_back(std::move(name), std::move(value));
    }
    std::stable_sort(subs.begin(), subs.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    std::string out(raw_path.empty() ? std::string_view("/") : raw_path);
    for (std::size_t i = 0; i < subs.size(); ++i) {
        out += i == 0 ? '?' : '&';
        out += subs[i].first;
        if (subs[i].second) {
            out += '=';
            out += *subs[i].second;
        }
    }
    return out;
}

// The other spelling of a bucket-level path (rule 5): `/bucket` <-> `/bucket/`; empty when the
// request is not bucket-level.
std::string other_bucket_form(const sigv2_request &req) {
    std::string_view path = req.raw_path;
    if (!req.bucket_level || path.size() < 2) {
        return {};
    }
    if (path.ends_with('/')) {
        return std::string(path.substr(0, path.size() - 1));
    }
    return std::string(path) + "/";
}

} // namespace

result<sigv2_auth> parse_sigv2_authorization(std::string_view header) {
    if (!header.starts_with("AWS ")) {
        return s3_error(s3_errc::authorization_header_malformed, "Expected 'AWS AKID:signature'");
    }
    std::string_view rest = ascii::trim_ows(header.substr(4));
    auto colon = rest.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
        return s3_error(s3_errc::authorization_header_malformed, "Expected 'AWS AKID:signature'");
    }
    sigv2_auth auth;
    auth.access_key = std::string(rest.substr(0, colon));
    auth.signature = std::string(rest.substr(colon + 1));
    return auth;
}

result<sigv2_auth> parse_sigv2_presigned(std::string_view raw_query) {
    sigv2_auth auth;
    auth.presigned = true;
    for (auto piece : split(raw_query, '&')) {
        auto eq = piece.find('=');
        std::string_view name = piece.substr(0, eq);
        std::string_view raw = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
        // The signature is base64: '+' in it is a literal plus, never a space.
        if (name == "AWSAccessKeyId") {
            auth.access_key = percent_decode(raw, true);
        } else if (name == "Signature") {
            auth.signature = percent_decode(raw, false);
        } else if (name == "Expires") {
            auth.expires = percent_decode(raw, true);
        }
    }
    if (auth.access_key.empty() || auth.signature.empty() || auth.expires.empty()) {
        return s3_error(s3_errc::authorization_query_parameters_error,
                        "Query-string authentication requires the Signature, Expires and "
                        "AWSAccessKeyId parameters");
    }
    if (!all_digits(auth.expires) || auth.expires.size() > 18) {
        return s3_error(s3_errc::authorization_query_parameters_error,
                        "Expires must be a number of seconds since the epoch");
    }
    return auth;
}

result<void> check_sigv2_expiry(const sigv2_auth &auth, std::chrono::sys_seconds now) {
    if (!auth.presigned) {
        return {};
    }
    std::int64_t expires = 0;
    auto [ptr, ec] =
        std::from_chars(auth.expires.data(), auth.expires.data() + auth.expires.size(), expires);
    if (ec != std::errc() || ptr != auth.expires.data() + auth.expires.size() ||
        now.time_since_epoch().count() > expires) {
        return s3_error(s3_errc::access_denied, "Request has expired");
    }
    return {};
}

std::string sigv2_string_to_sign(const sigv2_request &req, const sigv2_auth &auth) {
    std::string date;
    if (auth.presigned) {
        date = auth.expires;
    } else if (!header_value(req.headers, "x-amz-date")) {
        date = header_value(req.headers, "date").value_or("");
    }
    std::string out(req.method);
    out += '\n';
    out += header_value(req.headers, "content-md5").value_or("");
    out += '\n';
    out += header_value(req.headers, "content-type").value_or("");
    out += '\n';
    out += date;
    out += '\n';
    out += amz_header_lines(req.headers);
    out += canonical_resource(req.raw_path, req.raw_query);
    return out;
}

std::string sigv2_sign(std::string_view secret, std::string_view string_to_sign) {
    return base64_encode(hmac_sha1_raw(secret, string_to_sign));
}

result<void> sigv2_verify(const sigv2_request &req, const sigv2_auth &auth,
                          std::string_view secret) {
    std::string string_to_sign = sigv2_string_to_sign(req, auth);
    bool match = constant_time_equal(sigv2_sign(secret, string_to_sign), auth.signature);
    if (std::string other = other_bucket_form(req); !match && !other.empty()) {
        sigv2_request alt = req;
        alt.raw_path = other;
        match = constant_time_equal(sigv2_sign(secret, sigv2_string_to_sign(alt, auth)),
                                    auth.signature);
    }
    if (match) {
        return {};
    }
    return s3_error(s3_errc::signature_does_not_match)
        .with("AWSAccessKeyId", auth.access_key)
        .with("StringToSign", string_to_sign)
        .with("SignatureProvided", auth.signature);
}

} // namespace ifmatch::protocol
