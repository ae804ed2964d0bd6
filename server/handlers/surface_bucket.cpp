// Bucket sub-resources of the wider surface: encryption, acl, ownershipControls, tagging, cors.
// Each is one stored string in bucket_settings (storage/sqlite/settings.hpp).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "protocol/cors.hpp"
#include "protocol/tagging.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

// GCC 12: every awaited call below takes only trivially destructible arguments (string_view,
// enums, function pointers, references to named locals; docs/architecture.md §4).
net::awaitable<protocol::result<std::string>> read_setting(context &ctx, std::string_view name) {
    auto bucket = ctx.target.bucket;
    auto r_call = store_call<std::shared_ptr<const storage::bucket_config>>(
        [&](auto done) { ctx.db.get_bucket_config(bucket, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return r.error();
    }
    co_return setting((*r)->settings, name);
}

net::awaitable<response> write_setting(context &ctx, std::string_view name_v,
                                       std::string_view value_v, int status) {
    auto bucket = ctx.target.bucket;
    std::string name(name_v), value(value_v);
    auto r_call = store_call<bool>(
        [&](auto done) { ctx.db.set_bucket_setting(bucket, name, value, std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx, status);
}

// GET of a setting: `render` its stored value, or `missing` when there is none.
net::awaitable<response> get_setting(context &ctx, std::string_view name, s3_errc missing,
                                     render_fn render) {
    auto v = co_await read_setting(ctx, name);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    if (v->empty()) {
        co_return error_response(s3_error(missing).with("BucketName", ctx.target.bucket), ctx);
    }
    co_return xml_response(render(*v));
}

// PUT of a setting from an XML body: `parse` yields the stored value or an error.
net::awaitable<response> put_setting(context &ctx, std::string_view name, parse_fn parse,
                                     int status) {
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    protocol::result<std::string> v = parse(*body);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    const std::string &value = *v;
    co_return co_await write_setting(ctx, name, value, status);
}

namespace {

std::string render_tags(const std::string &v) {
    return protocol::render_tagging_xml(protocol::decode_tags(v));
}
protocol::result<std::string> parse_tags(std::string_view b) {
    auto t = protocol::parse_tagging_xml(b, protocol::max_bucket_tags);
    if (t.has_error())
        return t.error();
    return protocol::encode_tags(*t);
}
std::string render_cors(const std::string &v) {
    auto r = protocol::parse_cors_configuration(v);
    return r ? protocol::render_cors_configuration(*r) : std::string();
}
protocol::result<std::string> parse_cors(std::string_view b) {
    auto r = protocol::parse_cors_configuration(b);
    if (r.has_error())
        return r.error();
    return protocol::render_cors_configuration(*r);
}
std::string render_sse(const std::string &v) {
    return protocol::render_sse_configuration(protocol::decode_sse(v));
}
protocol::result<std::string> parse_sse(std::string_view b) {
    auto s = protocol::parse_sse_configuration(b);
    if (s.has_error())
        return s.error();
    return protocol::encode_sse(*s);
}
std::string render_ownership(const std::string &v) {
    return protocol::render_ownership_controls(v);
}
protocol::result<std::string> parse_ownership(std::string_view b) {
    return protocol::parse_ownership_controls(b);
}

net::awaitable<response> get_acl(context &ctx) {
    auto v = co_await read_setting(ctx, "acl");
    co_return xml_or_error(v, ctx, [](const std::string &acl) {
        return protocol::render_access_control_policy(protocol::decode_acl(acl), owner_id);
    });
}

net::awaitable<response> put_acl(context &ctx) {
    auto acl = protocol::parse_acl_headers(ctx.lookup());
    if (acl.has_error()) {
        co_return error_response(acl.error(), ctx);
    }
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    if (acl->empty() && !body->empty()) {
        acl = protocol::parse_access_control_policy(*body);
        if (acl.has_error()) {
            co_return error_response(acl.error(), ctx);
        }
    }
    const protocol::access_control &wanted = *acl;
    auto check = check_public_acl(ctx, wanted);
    if (auto refused = co_await std::move(check)) {
        co_return error_response(*refused, ctx);
    }
    std::string value = acl->empty() ? std::string("private") : protocol::encode_acl(*acl);
    co_return co_await write_setting(ctx, "acl", value, 200);
}

} // namespace

net::awaitable<response> handle_surface_bucket(context &ctx) {
    switch (ctx.target.operation) {
    case op::get_bucket_encryption:
        co_return co_await get_setting(ctx, "encryption", s3_errc::sse_configuration_not_found,
                                       render_sse);
    case op::put_bucket_encryption:
        co_return co_await put_setting(ctx, "encryption", parse_sse, 200);
    case op::delete_bucket_encryption:
        co_return co_await write_setting(ctx, "encryption", "", 204);
    case op::get_bucket_acl:
        co_return co_await get_acl(ctx);
    case op::put_bucket_acl:
        co_return co_await put_acl(ctx);
    case op::get_bucket_ownership_controls:
        co_return co_await get_setting(ctx, "ownership", s3_errc::ownership_controls_not_found,
                                       render_ownership);
    case op::put_bucket_ownership_controls:
        co_return co_await put_setting(ctx, "ownership", parse_ownership, 200);
    case op::delete_bucket_ownership_controls:
        co_return co_await write_setting(ctx, "ownership", "", 204);
    case op::get_bucket_tagging:
        co_return co_await get_setting(ctx, "tagging", s3_errc::no_such_tag_set, render_tags);
    case op::put_bucket_tagging:
        co_return co_await put_setting(ctx, "tagging", parse_tags, 204);
    case op::delete_bucket_tagging:
        co_return co_await write_setting(ctx, "tagging", "", 204);
    case op::get_bucket_cors:
        co_return co_await get_setting(ctx, "cors", s3_errc::no_such_cors_configuration,
                                       render_cors);
    case op::put_bucket_cors:
        co_return co_await put_setting(ctx, "cors", parse_cors, 200);
    default:
        co_return co_await write_setting(ctx, "cors", "", 204);
    }
}

} // namespace ifmatch::server
