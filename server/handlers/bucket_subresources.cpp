// The bucket configurations of docs/bucket-configuration.md: the not-configured answers
// (B-N1..B-N9) and the configurations ifmatch stores without acting on them (B-S1..B-S7), each one
// string in bucket_settings (storage/sqlite/settings.hpp). Every answer first needs the bucket:
// NoSuchBucket wins.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "protocol/bucket_subresources.hpp"
#include "protocol/lifecycle.hpp"

#include "protocol/notification.hpp"
#include "protocol/website.hpp"
#include "server/lifecycle.hpp"
#include "server/store_calls.hpp"
#include "server/replication.hpp"
#include "server/surface.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

// Setting names in bucket_settings.
constexpr std::string_view notification_setting = "notification";
constexpr std::string_view logging_setting = "logging";
constexpr std::string_view website_setting = "website";
constexpr std::string_view accelerate_setting = "accelerate";
constexpr std::string_view payment_setting = "request_payment";
constexpr std::string_view public_access_setting = setting_public_access_block;

// nullopt when ctx's bucket exists, else the NoSuchBucket response.
net::awaitable<std::optional<response>> require_bucket(context &ctx) {
    auto load = load_bucket_config(ctx);
    auto c = co_await std::move(load);
    if (c.has_error()) {
        co_return error_response(c.error(), ctx);
    }
    co_return std::nullopt;
}

// B-N1..B-N5, B-N9 (a named configuration): the 404 `code` of a bucket without the configuration.
net::awaitable<response> not_configured(context &ctx, s3_errc code) {
    auto check = require_bucket(ctx);
    auto missing = co_await std::move(check);
    if (missing) {
        co_return std::move(*missing);
    }
    auto err = s3_error(code);
    if (code != s3_errc::no_such_configuration) {
        err.with("BucketName", ctx.target.bucket);
    }
    co_return error_response(err, ctx);
}

// A fixed answer once the bucket is known to exist: 204, or 200 with `body` (B-N9).
net::awaitable<response> when_bucket_exists(context &ctx, std::string_view body_v) {
    std::string body(body_v);
    auto check = require_bucket(ctx);
    auto missing = co_await std::move(check);
    if (missing) {
        co_return std::move(*missing);
    }
    if (body.empty()) {
        co_return empty_response();
    }
    co_return xml_response(std::move(body));
}

// GET of a setting S3 answers with a document even when unset (B-N7, B-N8): `render` of the
// stored value, which is empty when there is none.
net::awaitable<response> get_with_default(context &ctx, std::string_view name, render_fn render) {
    auto v = co_await read_setting(ctx, name);
    co_return xml_or_error(v, ctx, render);
}

std::string stored_document(const std::string &v) { return v; }
std::string notification_document(const std::string &v) {
    return v.empty() ? protocol::render_empty_document("NotificationConfiguration") : v;
}
std::string logging_document(const std::string &v) {
    return v.empty() ? protocol::render_empty_document("BucketLoggingStatus") : v;
}
std::string accelerate_document(const std::string &v) {
    return protocol::render_accelerate_configuration(v);
}
std::string payment_document(const std::string &v) { return protocol::render_request_payment(v); }
std::string public_access_document(const std::string &v) {
    return protocol::render_public_access_block(protocol::decode_public_access_block(v));
}

// Parsers of the stored forms; an empty value removes the setting.
protocol::result<std::string> parse_lifecycle_setting(std::string_view body) {
    auto c = protocol::parse_lifecycle(body);
    if (c.has_error()) {
        return c.error();
    }
    return protocol::render_lifecycle(*c);
}
protocol::result<std::string> parse_notification(std::string_view body) {
    auto c = protocol::parse_notification_configuration(body);
    if (c.has_error()) {
        return c.error();
    }
    return c->empty() ? std::string() : protocol::render_notification_configuration(*c);
}
protocol::result<std::string> parse_website(std::string_view body) {
    auto c = protocol::parse_website_configuration(body);
    if (c.has_error()) {
        return c.error();
    }
    return protocol::render_website_configuration(*c);
}
protocol::result<std::string> parse_payment(std::string_view body) {
    auto p = protocol::parse_request_payment(body);
    if (p.has_error()) {
        return p.error();
    }
    return *p == "BucketOwner" ? std::string() : *p;
}
protocol::result<std::string> parse_public_access(std::string_view body) {
    auto b = protocol::parse_public_access_block(body);
    if (b.has_error()) {
        return b.error();
    }
    return protocol::encode_public_access_block(*b);
}

net::awaitable<response> put_accelerate(context &ctx) {
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto status = protocol::parse_accelerate_configuration(*body, ctx.target.bucket);
    if (status.has_error()) {
        co_return error_response(status.error(), ctx);
    }
    const std::string &value = *status;
    co_return co_await write_setting(ctx, accelerate_setting, value, 200);
}

// B-S2: the target bucket must exist (InvalidTargetBucketForLogging) and be in the source
// bucket's region (CrossLocationLoggingProhibitted).
net::awaitable<std::optional<s3_error>> check_log_target(context &ctx, std::string target) {
    auto source = ctx.target.bucket;
    auto s_call = store_call<storage::bucket_info>(
        [&](auto done) { ctx.db.get_bucket(source, std::move(done)); });
    auto s = co_await std::move(s_call);
    if (s.has_error()) {
        co_return s.error();
    }
    auto d_call = store_call<storage::bucket_info>(
        [&](auto done) { ctx.db.get_bucket(target, std::move(done)); });
    auto d = co_await std::move(d_call);
    if (d.has_error()) {
        co_return s3_error(s3_errc::invalid_target_bucket_for_logging).with("TargetBucket", target);
    }
    if (d->region != s->region) {
        co_return s3_error(s3_errc::cross_location_logging_prohibited)
            .with("TargetBucketLocation", d->region)
            .with("SourceBucketLocation", s->region);
    }
    co_return std::nullopt;
}

net::awaitable<response> put_logging(context &ctx) {
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto status = protocol::parse_logging_status(*body);
    if (status.has_error()) {
        co_return error_response(status.error(), ctx);
    }
    if (status->enabled) {
        auto target = status->target_bucket;
        auto check = check_log_target(ctx, std::move(target));
        auto refused = co_await std::move(check);
        if (refused) {
            co_return error_response(*refused, ctx);
        }
    }
    std::string value = status->enabled ? protocol::render_logging_status(*status) : std::string();
    co_return co_await write_setting(ctx, logging_setting, value, 200);
}

// B-S7: IsPublic of the stored policy; NoSuchBucketPolicy without one (B-N6).
net::awaitable<response> get_policy_status(context &ctx) {
    auto load = load_bucket_config(ctx);
    auto c = co_await std::move(load);
    if (c.has_error()) {
        co_return error_response(c.error(), ctx);
    }
    const auto &policy = (*c)->info.policy;
    if (policy.empty()) {
        co_return error_response(
            s3_error(s3_errc::no_such_bucket_policy).with("BucketName", ctx.target.bucket), ctx);
    }
    co_return xml_response(protocol::render_policy_status(protocol::policy_is_public(policy)));
}

// The configurations kept per id whose PUT is not implemented (B-N9): an empty list, and 404
// NoSuchConfiguration for any id.
std::optional<std::string_view> empty_list_root(op o) {
    switch (o) {
    case op::list_bucket_analytics:
        return "ListBucketAnalyticsConfigurationResult";
    case op::list_bucket_intelligent_tiering:
        return "ListBucketIntelligentTieringConfigurationsOutput";
    case op::list_bucket_inventory:
        return "ListInventoryConfigurationsResult";
    case op::list_bucket_metrics:
        return "ListMetricsConfigurationsResult";
    default:
        return std::nullopt;
    }
}

net::awaitable<response> per_id_configuration(context &ctx) {
    if (auto root = empty_list_root(ctx.target.operation)) {
        const std::string body = protocol::render_empty_configuration_list(*root);
        co_return co_await when_bucket_exists(ctx, body);
    }
    co_return co_await not_configured(ctx, s3_errc::no_such_configuration);
}

} // namespace

net::awaitable<response> handle_bucket_subresource(context &ctx) {
    switch (ctx.target.operation) {
    case op::get_bucket_lifecycle:
        co_return co_await get_setting(ctx, lifecycle_setting,
                                       s3_errc::no_such_lifecycle_configuration, stored_document);
    case op::put_bucket_lifecycle:
        co_return co_await put_setting(ctx, lifecycle_setting, parse_lifecycle_setting, 200);
    case op::delete_bucket_lifecycle:
        co_return co_await write_setting(ctx, lifecycle_setting, "", 204);
    case op::get_bucket_replication:
    case op::put_bucket_replication:
    case op::delete_bucket_replication:
        co_return co_await handle_replication_config(ctx);
    case op::get_object_retention:
    case op::put_object_retention:
    case op::get_object_legal_hold:
    case op::put_object_legal_hold:
    case op::get_object_lock_configuration:
    case op::put_object_lock_configuration:
        co_return co_await handle_object_lock(ctx);
    case op::get_bucket_notification:
        co_return co_await get_with_default(ctx, notification_setting, notification_document);
    case op::put_bucket_notification:
        co_return co_await put_setting(ctx, notification_setting, parse_notification, 200);
    case op::get_bucket_logging:
        co_return co_await get_with_default(ctx, logging_setting, logging_document);
    case op::put_bucket_logging:
        co_return co_await put_logging(ctx);
    case op::get_bucket_website:
        co_return co_await get_setting(ctx, website_setting, s3_errc::no_such_website_configuration,
                                       stored_document);
    case op::put_bucket_website:
        co_return co_await put_setting(ctx, website_setting, parse_website, 200);
    case op::delete_bucket_website:
        co_return co_await write_setting(ctx, website_setting, "", 204);
    case op::get_bucket_accelerate:
        co_return co_await get_with_default(ctx, accelerate_setting, accelerate_document);
    case op::put_bucket_accelerate:
        co_return co_await put_accelerate(ctx);
    case op::get_bucket_request_payment:
        co_return co_await get_with_default(ctx, payment_setting, payment_document);
    case op::put_bucket_request_payment:
        co_return co_await put_setting(ctx, payment_setting, parse_payment, 200);
    case op::get_bucket_policy_status:
        co_return co_await get_policy_status(ctx);
    case op::get_public_access_block:
        co_return co_await get_setting(ctx, public_access_setting,
                                       s3_errc::no_such_public_access_block_configuration,
                                       public_access_document);
    case op::put_public_access_block:
        co_return co_await put_setting(ctx, public_access_setting, parse_public_access, 200);
    case op::delete_public_access_block:
        co_return co_await write_setting(ctx, public_access_setting, "", 204);
    default:
        co_return co_await per_id_configuration(ctx);
    }
}

} // namespace ifmatch::server
