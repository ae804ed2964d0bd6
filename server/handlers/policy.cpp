// Put/Get/DeleteBucketPolicy, and the policy check object writes call before they proceed
// (R-B1..R-B3): a matching Deny statement answers 403 AccessDenied. Open mode: Allow statements
// are stored and validated but never required.
#include "protocol/bucket_subresources.hpp"
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"

#include "storage/object_store.hpp"

namespace ifmatch::server {

void note_write_failure(context &ctx, const protocol::s3_error &e);

using protocol::s3_errc;
using protocol::s3_error;

namespace {

net::awaitable<response> put_policy(context &ctx) {
    auto body = co_await read_small_body(ctx, 20 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto doc = protocol::parse_policy(*body, ctx.target.bucket);
    if (doc.has_error()) {
        co_return error_response(doc.error(), ctx);
    }
    // B-S6: the bucket's BlockPublicPolicy refuses a public policy (403, nothing stored).
    auto load = load_bucket_config(ctx);
    auto config = co_await std::move(load);
    if (config && protocol::decode_public_access_block(
                      setting((*config)->settings, setting_public_access_block))
                      .block_public_policy &&
        protocol::policy_is_public(*body)) {
        co_return error_response(s3_error(s3_errc::access_denied), ctx);
    }
    std::string bucket = ctx.target.bucket, text = std::move(*body);
    auto r_call =
        store_call<bool>([&](auto done) { ctx.db.set_bucket_policy(bucket, text, std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx);
}

net::awaitable<response> get_policy(context &ctx) {
    std::string bucket = ctx.target.bucket;
    auto b_call = store_call<storage::bucket_info>(
        [&](auto done) { ctx.db.get_bucket(bucket, std::move(done)); });
    auto b = co_await std::move(b_call);
    if (b.has_error()) {
        co_return error_response(b.error(), ctx);
    }
    if (b->policy.empty()) {
        co_return error_response(
            s3_error(s3_errc::no_such_bucket_policy).with("BucketName", bucket), ctx);
    }
    response res;
    res.body = b->policy;
    res.set("Content-Type", "application/json");
    co_return res;
}

net::awaitable<response> delete_policy(context &ctx) {
    std::string bucket = ctx.target.bucket;
    auto r_call =
        store_call<bool>([&](auto done) { ctx.db.set_bucket_policy(bucket, "", std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx);
}

} // namespace

net::awaitable<response> handle_bucket_policy(context &ctx) {
    switch (ctx.target.operation) {
    case protocol::op::put_bucket_policy:
        co_return co_await put_policy(ctx);
    case protocol::op::get_bucket_policy:
        co_return co_await get_policy(ctx);
    default:
        co_return co_await delete_policy(ctx);
    }
}

net::awaitable<std::optional<protocol::policy_document>> load_bucket_policy(context &ctx) {
    auto load = load_bucket_config(ctx);
    auto b = co_await std::move(load);
    if (b.has_error() || (*b)->info.policy.empty()) {
        co_return std::nullopt;
    }
    auto doc = protocol::parse_policy((*b)->info.policy, ctx.target.bucket);
    if (doc.has_error()) {
        co_return std::nullopt; // only valid documents are stored
    }
    co_return std::move(*doc);
}

protocol::condition_values write_condition_values(const context &ctx, bool creates_object) {
    protocol::condition_values v;
    auto h = ctx.lookup();
    if (auto inm = h("If-None-Match")) v["s3:if-none-match"] = std::string(*inm);
    if (auto im = h("If-Match")) v["s3:if-match"] = std::string(*im);
    if (creates_object) v["s3:objectcreationoperation"] = "true";
    return v;
}

net::awaitable<std::optional<s3_error>> check_policy(context &ctx, std::string action,
                                                     protocol::condition_values values) {
    auto load = load_bucket_policy(ctx);
    auto doc = co_await std::move(load);
    if (doc && protocol::policy_denies(*doc, action,
                                       protocol::object_arn(ctx.target.bucket, ctx.target.key),
                                       values)) {
        co_return s3_error(s3_errc::access_denied);
    }
    co_return std::nullopt;
}

bool policy_free(context &ctx) {
    auto c = cached_bucket_config(ctx);
    return c && c->info.policy.empty();
}

net::awaitable<std::optional<response>> policy_gate(context &ctx, std::string action) {
    auto values = write_condition_values(ctx, action == "s3:PutObject");
    auto call = check_policy(ctx, action, values);
    auto denied = co_await std::move(call);
    if (!denied) {
        co_return std::nullopt;
    }
    note_write_failure(ctx, *denied);
    co_return error_response(*denied, ctx);
}

} // namespace ifmatch::server
