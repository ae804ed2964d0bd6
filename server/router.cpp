// Routing: classified operation -> handler; and the helpers every handler shares.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "server/handlers.hpp"
#include "server/surface.hpp"

#include "protocol/crypto.hpp"
#include "protocol/header_values.hpp"
#include "protocol/sigv4.hpp"
#include "protocol/text.hpp"
#include "server/outcomes.hpp"

#include "protocol/http_date.hpp"
#include "server/auth.hpp"

#include <algorithm>
#include <cctype>

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

using protocol::ascii::iequals;

std::optional<std::string_view> request::header(std::string_view name) const {
    for (auto &[k, v] : headers) {
        if (iequals(k, name)) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

protocol::header_lookup context::lookup() const {
    // Presigned URLs may carry headers as signed query parameters (R-G16); on any other request
    // a parameter called If-Match (or x-amz-acl, ...) is no header.
    const bool query_headers =
        !target.raw_query.empty() &&
        protocol::is_presigned(req.header("authorization").value_or(""), target.raw_query);
    return [this, query_headers](std::string_view name) -> std::optional<std::string_view> {
        if (auto h = req.header(name)) {
            return h;
        }
        if (!query_headers) {
            return std::nullopt;
        }
        for (auto &[k, v] : target.query.items()) {
            if (iequals(k, name)) {
                return std::string_view(v);
            }
        }
        return std::nullopt;
    };
}

std::string context::access_key() const {
    auto auth = req.header("authorization");
    std::string_view a = auth ? *auth : std::string_view();
    auto pos = a.find("Credential=");
    if (pos != std::string_view::npos) {
        a.remove_prefix(pos + 11);
        return std::string(a.substr(0, a.find('/')));
    }
    if (a.rfind("AWS ", 0) == 0) {
        a.remove_prefix(4);
        return std::string(a.substr(0, a.find(':')));
    }
    if (auto cred = target.query.get("X-Amz-Credential")) {
        return std::string(cred->substr(0, cred->find('/')));
    }
    if (auto id = target.query.get("AWSAccessKeyId")) {
        return std::string(*id);
    }
    return {};
}

storage::writer_identity context::writer() const {
    storage::writer_identity w;
    w.request_id = req.request_id;
    w.access_key = access_key();
    w.remote = req.remote;
    if (auto ua = req.header("user-agent")) {
        w.user_agent = std::string(ua->substr(0, 256));
    }
    return w;
}

response error_response(const s3_error &err, const context &ctx) {
    response r;
    r.status = err.status();
    r.error_code = std::string(err.aws_code());
    r.head = ctx.is_head();
    if (!r.head) {
        r.body = protocol::render_error_xml(err, ctx.req.request_id, ctx.req.request_id);
        r.set("Content-Type", "application/xml");
    }
    if (err.code == s3_errc::invalid_range) {
        for (auto &[k, v] : err.fields) {
            if (k == "ActualObjectSize") {
                r.set("Content-Range", "bytes */" + v);
            }
        }
    }
    return r;
}

std::string http_date_ms(std::int64_t ms) {
    return protocol::format_http_date(
        std::chrono::sys_seconds(std::chrono::seconds(ms / 1000)));
}

std::string iso_date_ms(std::int64_t ms) {
    return protocol::format_iso8601(protocol::sys_millis(std::chrono::milliseconds(ms)));
}

response xml_response(std::string body, int status) {
    response r;
    r.status = status;
    r.body = std::move(body);
    r.set("Content-Type", "application/xml");
    return r;
}

response empty_response(int status) {
    response r;
    r.status = status;
    return r;
}

namespace {

// A hex x-amz-content-sha256 must equal the SHA-256 of the body (wire.md §1.3).
protocol::result<void> check_payload_hash(const request &req, std::string_view body) {
    auto sha = req.header("x-amz-content-sha256");
    if (!sha || sha->size() != 64 ||
        sha->find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
        return {};
    }
    std::string want(*sha);
    for (auto &c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (protocol::sha256_hex(body) != want) {
        return s3_error(s3_errc::x_amz_content_sha256_mismatch)
            .with("ClientComputedContentSHA256", want);
    }
    return {};
}

} // namespace

net::awaitable<protocol::result<std::string>> read_small_body(context &ctx, std::size_t limit) {
    std::string out;
    char buf[16384];
    for (;;) {
        auto n = co_await ctx.body.read(buf, sizeof buf);
        if (n.has_error()) {
            co_return n.error();
        }
        if (*n == 0) {
            break;
        }
        if (out.size() + *n > limit) {
            co_return s3_error(s3_errc::invalid_request, "The request body is too large.");
        }
        out.append(buf, *n);
    }
    if (auto v = check_payload_hash(ctx.req, out); v.has_error()) {
        co_return v.error();
    }
    co_return out;
}

namespace {

// The 501 of an op::unsupported request names the sub-resource operation it asked for (README,
// "Not implemented").
s3_error not_implemented(const context &ctx) {
    auto sub = protocol::unsupported_subresource(ctx.target.query);
    if (!sub) {
        return s3_error(s3_errc::not_implemented);
    }
    return s3_error(s3_errc::not_implemented, ctx.req.method + " ?" + std::string(*sub) +
                                                  " is not implemented by ifmatch.");
}

net::awaitable<response> route(context &ctx) {
    switch (ctx.target.operation) {
    case op::list_buckets:
    case op::create_bucket:
    case op::delete_bucket:
    case op::head_bucket:
    case op::get_bucket_location:
    case op::get_bucket_versioning:
    case op::put_bucket_versioning:
        co_return co_await handle_bucket(ctx);
    case op::list_objects_v1:
    case op::list_objects_v2:
        co_return co_await handle_list(ctx);
    case op::get_object:
    case op::head_object:
        co_return co_await handle_get_object(ctx);
    case op::put_object:
        co_return co_await handle_put_object(ctx);
    case op::copy_object:
        co_return co_await handle_copy_object(ctx);
    case op::delete_object:
        co_return co_await handle_delete_object(ctx);
    case op::delete_objects:
        co_return co_await handle_delete_objects(ctx);
    case op::admin:
        co_return co_await handle_admin(ctx);
    case op::put_bucket_policy:
    case op::get_bucket_policy:
    case op::delete_bucket_policy:
        co_return co_await handle_bucket_policy(ctx);
    case op::create_multipart_upload:
    case op::upload_part:
    case op::upload_part_copy:
    case op::complete_multipart_upload:
    case op::abort_multipart_upload:
    case op::list_parts:
    case op::list_multipart_uploads:
    case op::list_object_versions:
        co_return co_await handle_multipart(ctx);
    case op::get_bucket_encryption:
    case op::put_bucket_encryption:
    case op::delete_bucket_encryption:
    case op::get_bucket_acl:
    case op::put_bucket_acl:
    case op::get_bucket_ownership_controls:
    case op::put_bucket_ownership_controls:
    case op::delete_bucket_ownership_controls:
    case op::get_bucket_tagging:
    case op::put_bucket_tagging:
    case op::delete_bucket_tagging:
    case op::get_bucket_cors:
    case op::put_bucket_cors:
    case op::delete_bucket_cors:
        co_return co_await handle_surface_bucket(ctx);
    case op::get_object_acl:
    case op::put_object_acl:
    case op::get_object_tagging:
    case op::put_object_tagging:
    case op::delete_object_tagging:
    case op::get_object_attributes:
        co_return co_await handle_surface_object(ctx);
    case op::get_bucket_lifecycle:
    case op::put_bucket_lifecycle:
    case op::delete_bucket_lifecycle:
    case op::get_bucket_replication:
    case op::put_bucket_replication:
    case op::delete_bucket_replication:
    case op::get_object_lock_configuration:
    case op::put_object_lock_configuration:
    case op::get_object_retention:
    case op::put_object_retention:
    case op::get_object_legal_hold:
    case op::put_object_legal_hold:
    case op::get_bucket_notification:
    case op::put_bucket_notification:
    case op::get_bucket_logging:
    case op::put_bucket_logging:
    case op::get_bucket_website:
    case op::put_bucket_website:
    case op::delete_bucket_website:
    case op::get_bucket_accelerate:
    case op::put_bucket_accelerate:
    case op::get_bucket_request_payment:
    case op::put_bucket_request_payment:
    case op::get_bucket_policy_status:
    case op::get_public_access_block:
    case op::put_public_access_block:
    case op::delete_public_access_block:
    case op::list_bucket_analytics:
    case op::get_bucket_analytics:
    case op::delete_bucket_analytics:
    case op::list_bucket_intelligent_tiering:
    case op::get_bucket_intelligent_tiering:
    case op::delete_bucket_intelligent_tiering:
    case op::list_bucket_inventory:
    case op::get_bucket_inventory:
    case op::delete_bucket_inventory:
    case op::list_bucket_metrics:
    case op::get_bucket_metrics:
    case op::delete_bucket_metrics:
        co_return co_await handle_bucket_subresource(ctx);
    case op::cors_preflight:
        co_return co_await handle_cors_preflight(ctx);
    case op::post_object:
        co_return co_await handle_post_object(ctx);
    default:
        co_return error_response(not_implemented(ctx), ctx);
    }
}

} // namespace

net::awaitable<response> dispatch(context &ctx) {
    try {
        // Browsers never sign CORS preflights; POST Object carries its signature in the form.
        if (ctx.target.operation != op::cors_preflight &&
            ctx.target.operation != op::post_object) {
            auto now = std::chrono::time_point_cast<std::chrono::seconds>(
                std::chrono::system_clock::now());
            auto auth = authenticate(ctx.cfg, ctx.req, ctx.target, now);
            if (auth.has_error()) {
                co_return error_response(auth.error(), ctx);
            }
            ctx.chunk_signer = std::move(auth->chunk_signer);
        }
        if (auto v = protocol::check_header_values(ctx.target.operation, ctx.lookup());
            v.has_error()) {
            co_return error_response(v.error(), ctx);
        }
        response res = co_await run_observed(ctx, route);
        co_await add_cors_headers(ctx, res);
        co_return res;
    } catch (const std::exception &e) {
        co_return error_response(s3_error(s3_errc::internal_error, e.what()), ctx);
    }
}

} // namespace ifmatch::server
