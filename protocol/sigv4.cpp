// SigV4 request authentication (wire.md §1.1-§1.5, §2.2, §2.4).
//
// RULES
// 1. The canonical URI is the raw path decoded once and re-encoded (everything but unreserved
//    characters and '/'); it is never normalised (§1.2).
// 2. The canonical query decodes '+' as a space and re-encodes names and values with the same
//    unreserved set, sorted by name then value; valueless parameters become `name=` (§1.2).
// 3. Canonical header values are trimmed and inner whitespace runs collapse to one space;
//    repeated headers join with ',' in arrival order; a missing signed header counts as empty.
// 4. Signatures are compared in constant time only.

#include "protocol/sigv4.hpp"

#include "protocol/http_date.hpp"

#include "protocol/auth_text.hpp"
#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <algorithm>
#include <charconv>

namespace ifmatch::protocol {

namespace {

using namespace auth_text;

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::int64_t max_presign_seconds = 604800;
constexpr auto allowed_skew = std::chrono::minutes(15);
constexpr std::string_view empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

s3_error header_malformed(std::string msg) {
    return {s3_errc::authorization_header_malformed, std::move(msg)};
}

s3_error query_error(std::string msg) {
    return {s3_errc::authorization_query_parameters_error, std::move(msg)};
}

// Splits `AKID/date/region/service/aws4_request`; false when the shape is wrong.
bool parse_credential(std::string_view text, credential_scope &out) {
    std::vector<std::string_view> parts = split(text, '/');
    if (parts.size() != 5 || parts[4] != "aws4_request") {
        return false;
    }
    for (auto p : parts) {
        if (p.empty()) {
            return false;
        }
    }
    out.access_key = std::string(parts[0]);
    out.date = std::string(parts[1]);
    out.region = std::string(parts[2]);
    out.service = std::string(parts[3]);
    return out.date.size() == 8 && all_digits(out.date);
}

// Splits `a;b;c` into lower-cased names; false when empty or containing an empty name.
bool parse_signed_headers(std::string_view text, std::vector<std::string> &out) {
    for (auto name : split(text, ';')) {
        if (name.empty()) {
            return false;
        }
        out.push_back(ascii::lower(name));
    }
    return !out.empty();
}

bool is_hex_signature(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return is_hex(c); });
}

// Trims and collapses inner runs of blanks to one space (rule 3).
std::string collapse_whitespace(std::string_view v) {
    v = ascii::trim_ows(v);
    std::string out;
    out.reserve(v.size());
    bool blank = false;
    for (char c : v) {
        if (c == ' ' || c == '\t') {
            blank = true;
            continue;
        }
        if (blank) {
            out.push_back(' ');
            blank = false;
        }
        out.push_back(c);
    }
    return out;
}

std::string join(std::span<const std::string> items, char sep) {
    std::string out;
    for (const auto &s : items) {
        if (!out.empty()) {
            out.push_back(sep);
        }
        out += s;
    }
    return out;
}

} // namespace

auth_scheme detect_auth_scheme(std::string_view authorization, std::string_view raw_query) {
    if (!authorization.empty()) {
        if (authorization.starts_with("AWS4-HMAC-SHA256 ")) {
            return auth_scheme::sigv4_header;
        }
        if (authorization.starts_with("AWS ")) {
            return auth_scheme::sigv2_header;
        }
        return auth_scheme::unknown;
    }
    bool v4 = false;
    bool v2 = false;
    for_each_query_param(raw_query, [&](std::string name, std::string) {
        v4 = v4 || name == "X-Amz-Algorithm" || name == "X-Amz-Credential" ||
             name == "X-Amz-Signature";
        v2 = v2 || name == "AWSAccessKeyId";
    });
    if (v4) {
        return auth_scheme::sigv4_query;
    }
    return v2 ? auth_scheme::sigv2_query : auth_scheme::none;
}

bool is_presigned(std::string_view authorization, std::string_view raw_query) {
    if (!authorization.empty() || raw_query.empty()) {
        return false;
    }
    const auto scheme = detect_auth_scheme(authorization, raw_query);
    return scheme == auth_scheme::sigv4_query || scheme == auth_scheme::sigv2_query;
}

std::string credential_scope::scope() const {
    return date + "/" + region + "/" + service + "/aws4_request";
}

result<sigv4_auth> parse_sigv4_authorization(std::string_view header) {
    if (!header.starts_with(algorithm) || header.size() == algorithm.size() ||
        header[algorithm.size()] != ' ') {
        return header_malformed("Unsupported Authorization algorithm; expected AWS4-HMAC-SHA256");
    }
    sigv4_auth auth;
    bool have_credential = false;
    bool have_signed = false;
    for (auto part : split(header.substr(algorithm.size() + 1), ',')) {
        part = ascii::trim_ows(part);
        auto eq = part.find('=');
        if (eq == std::string_view::npos) {
            return header_malformed("Authorization component without '=': " + std::string(part));
        }
        auto key = part.substr(0, eq);
        auto value = part.substr(eq + 1);
        if (key == "Credential") {
            have_credential = parse_credential(value, auth.credential);
            if (!have_credential) {
                return header_malformed("Malformed Credential: " + std::string(value));
            }
        } else if (key == "SignedHeaders") {
            have_signed = parse_signed_headers(value, auth.signed_headers);
            if (!have_signed) {
                return header_malformed("Malformed SignedHeaders");
            }
        } else if (key == "Signature") {
            auth.signature = std::string(value);
        }
    }
    if (!have_credential || !have_signed || !is_hex_signature(auth.signature)) {
        return header_malformed("Authorization needs Credential, SignedHeaders and Signature");
    }
    return auth;
}

result<sigv4_auth> parse_sigv4_presigned(std::string_view raw_query) {
    sigv4_auth auth;
    auth.presigned = true;
    std::string algo, credential, signed_headers, expires;
    for_each_query_param(raw_query, [&](std::string name, std::string value) {
        if (name == "X-Amz-Algorithm") {
            algo = std::move(value);
        } else if (name == "X-Amz-Credential") {
            credential = std::move(value);
        } else if (name == "X-Amz-Date") {
            auth.amz_date = std::move(value);
        } else if (name == "X-Amz-Expires") {
            expires = std::move(value);
        } else if (name == "X-Amz-SignedHeaders") {
            signed_headers = std::move(value);
        } else if (name == "X-Amz-Signature") {
            auth.signature = std::move(value);
        } else if (name == "X-Amz-Content-Sha256") {
            auth.query_payload_hash = std::move(value);
        }
    });
    if (algo != algorithm) {
        return query_error("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
    }
    if (!parse_credential(credential, auth.credential)) {
        return query_error("Error parsing the X-Amz-Credential parameter");
    }
    if (!parse_signed_headers(signed_headers, auth.signed_headers)) {
        return query_error("Error parsing the X-Amz-SignedHeaders parameter");
    }
    if (!is_hex_signature(auth.signature) || !parse_amz_date(auth.amz_date)) {
        return query_error("X-Amz-Signature and X-Amz-Date must be present and well formed");
    }
    auto [ptr, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), auth.expires);
    if (ec != std::errc() || ptr != expires.data() + expires.size() || auth.expires < 1 ||
        auth.expires > max_presign_seconds) {
        return query_error("X-Amz-Expires must be a number of seconds between 1 and 604800");
    }
    return auth;
}


result<void> check_sigv4_scope(const sigv4_auth &auth, std::string_view amz_date) {
    auto fail = [&](std::string msg) {
        return auth.presigned ? query_error(std::move(msg)) : header_malformed(std::move(msg));
    };
    if (amz_date.substr(0, 8) != auth.credential.date) {
        return fail("Credential date " + auth.credential.date + " does not match request date");
    }
    if (auth.credential.service != "s3") {
        return fail("Credential should be scoped to service 's3', not '" + auth.credential.service +
                    "'");
    }
    return {};
}

result<void> check_request_time(std::chrono::sys_seconds request_time,
                                std::chrono::sys_seconds now) {
    if (request_time > now + allowed_skew || request_time < now - allowed_skew) {
        auto server_time = format_iso8601(sys_millis(now));
        server_time.replace(server_time.size() - 5, 5, "Z"); // whole seconds, as S3 shows it
        return s3_error(s3_errc::request_time_too_skewed)
            .with("RequestTime", format_amz_date(request_time))
            .with("ServerTime", server_time)
            .with("MaxAllowedSkewMilliseconds", "900000");
    }
    return {};
}

result<void> check_presigned_time(const sigv4_auth &auth, std::chrono::sys_seconds now) {
    auto signed_at = parse_amz_date(auth.amz_date);
    if (!signed_at) {
        return query_error(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
    }
    if (*signed_at > now + allowed_skew) {
        return s3_error(s3_errc::access_denied, "Request is not valid yet");
    }
    if (now > *signed_at + std::chrono::seconds(auth.expires)) {
        return s3_error(s3_errc::access_denied, "Request has expired");
    }
    return {};
}

std::string sigv4_canonical_uri(std::string_view raw_path) {
    if (raw_path.empty()) {
        return "/";
    }
    return uri_encode(percent_decode(raw_path, false), true);
}

std::string sigv4_canonical_query(std::string_view raw_query, bool drop_signature) {
    std::vector<std::pair<std::string, std::string>> params;
    for_each_query_param(raw_query, [&](std::string name, std::string value) {
        if (drop_signature && name == "X-Amz-Signature") {
            return;
        }
        params.emplace_back(uri_encode(name, false), uri_encode(value, false));
    });
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto &[name, value] : params) {
        if (!out.empty()) {
            out.push_back('&');
        }
        out += name;
        out.push_back('=');
        out += value;
    }
    return out;
}

std::string sigv4_canonical_headers(header_fields headers,
                                    std::span<const std::string> signed_headers) {
    std::string out;
    for (const auto &name : signed_headers) {
        std::string joined;
        bool first = true;
        for (const auto &[n, v] : headers) {
            if (!ascii::iequals(n, name)) {
                continue;
            }
            if (!first) {
                joined.push_back(',');
            }
            joined += collapse_whitespace(v);
            first = false;
        }
        out += name;
        out.push_back(':');
        out += joined;
        out.push_back('\n');
    }
    return out;
}

std::string sigv4_canonical_request(const sigv4_request &req, const sigv4_auth &auth) {
    std::string_view payload = req.payload_hash;
    if (auth.presigned && payload.empty()) {
        payload = auth.query_payload_hash.empty() ? std::string_view("UNSIGNED-PAYLOAD")
                                                  : std::string_view(auth.query_payload_hash);
    }
    std::string out(req.method);
    out.push_back('\n');
    out += sigv4_canonical_uri(req.raw_path);
    out.push_back('\n');
    out += sigv4_canonical_query(req.raw_query, auth.presigned);
    out.push_back('\n');
    out += sigv4_canonical_headers(req.headers, auth.signed_headers);
    out.push_back('\n');
    out += join(auth.signed_headers, ';');
    out.push_back('\n');
    out += payload;
    return out;
}

std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view scope,
                                 std::string_view canonical_request) {
    std::string out(algorithm);
    out += '\n';
    out += amz_date;
    out += '\n';
    out += scope;
    out += '\n';
    out += sha256_hex(canonical_request);
    return out;
}

std::string sigv4_signing_key(std::string_view secret, const credential_scope &scope) {
    std::string key = hmac_sha256_raw("AWS4" + std::string(secret), scope.date);
    key = hmac_sha256_raw(key, scope.region);
    key = hmac_sha256_raw(key, scope.service);
    return hmac_sha256_raw(key, "aws4_request");
}

std::string sigv4_sign(std::string_view signing_key, std::string_view string_to_sign) {
    return to_hex(hmac_sha256_raw(signing_key, string_to_sign));
}

sigv4_computed sigv4_compute(const sigv4_request &req, const sigv4_auth &auth,
                             std::string_view secret, std::string_view amz_date) {
    sigv4_computed c;
    std::string_view date = auth.presigned ? std::string_view(auth.amz_date) : amz_date;
    c.canonical_request = sigv4_canonical_request(req, auth);
    c.string_to_sign = sigv4_string_to_sign(date, auth.credential.scope(), c.canonical_request);
    c.signature = sigv4_sign(sigv4_signing_key(secret, auth.credential), c.string_to_sign);
    return c;
}

result<void> sigv4_verify(const sigv4_request &req, const sigv4_auth &auth, std::string_view secret,
                          std::string_view amz_date) {
    sigv4_computed c = sigv4_compute(req, auth, secret, amz_date);
    if (constant_time_equal(c.signature, auth.signature)) {
        return {};
    }
    return s3_error(s3_errc::signature_does_not_match)
        .with("AWSAccessKeyId", auth.credential.access_key)
        .with("StringToSign", c.string_to_sign)
        .with("SignatureProvided", auth.signature)
        .with("CanonicalRequest", c.canonical_request);
}

std::string sigv4_chunk_string_to_sign(std::string_view amz_date, std::string_view scope,
                                       std::string_view previous_signature,
                                       std::string_view chunk_sha256_hex) {
    std::string out = "AWS4-HMAC-SHA256-PAYLOAD\n";
    for (auto piece : {amz_date, scope, previous_signature, empty_sha256}) {
        out += piece;
        out += '\n';
    }
    out += chunk_sha256_hex;
    return out;
}

std::string sigv4_trailer_string_to_sign(std::string_view amz_date, std::string_view scope,
                                         std::string_view previous_signature,
                                         std::string_view canonical_trailers) {
    std::string out = "AWS4-HMAC-SHA256-TRAILER\n";
    for (auto piece : {amz_date, scope, previous_signature}) {
        out += piece;
        out += '\n';
    }
    out += sha256_hex(canonical_trailers);
    return out;
}

struct chunk_signer::state {
    std::string key;
    std::string amz_date;
    std::string scope;
    std::string previous;

    std::string chunk(std::string_view data_hash) const {
        return sigv4_sign(key, sigv4_chunk_string_to_sign(amz_date, scope, previous, data_hash));
    }
    std::string trailer(std::string_view canonical) const {
        return sigv4_sign(key, sigv4_trailer_string_to_sign(amz_date, scope, previous, canonical));
    }
    bool verify_chunk(std::string_view signature, std::string_view data_hash) {
        std::string expected = chunk(data_hash);
        if (!constant_time_equal(expected, signature)) {
            return false;
        }
        previous = std::move(expected);
        return true;
    }
};

chunk_signer::chunk_signer(std::string signing_key, std::string amz_date, std::string scope,
                           std::string seed_signature)
    : state_(std::make_shared<state>(state{std::move(signing_key), std::move(amz_date),
                                           std::move(scope), std::move(seed_signature)})) {}

std::string chunk_signer::sign_chunk(std::string_view chunk_sha256_hex) {
    state_->previous = state_->chunk(chunk_sha256_hex);
    return state_->previous;
}

std::string chunk_signer::sign_trailer(std::string_view canonical_trailers) const {
    return state_->trailer(canonical_trailers);
}

bool chunk_signer::verify_chunk(std::string_view signature, std::string_view chunk_sha256_hex) {
    return state_->verify_chunk(signature, chunk_sha256_hex);
}

bool chunk_signer::verify_trailer(std::string_view canonical_trailers,
                                  std::string_view signature) const {
    return constant_time_equal(state_->trailer(canonical_trailers), signature);
}

void chunk_signer::attach(aws_chunked_decoder &decoder) const {
    std::shared_ptr<state> s = state_;
    decoder.on_chunk_signature([s](std::string_view signature, std::string_view hash) {
        return s->verify_chunk(signature, hash);
    });
    decoder.on_trailer_signature([s](std::string_view canonical, std::string_view signature) {
        return constant_time_equal(s->trailer(canonical), signature);
    });
}

const std::string &chunk_signer::previous_signature() const { return state_->previous; }

} // namespace ifmatch::protocol
