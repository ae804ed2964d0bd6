// Object Lock (B-L1..B-L8, docs/bucket-configuration.md): the bucket's configuration and each
// version's retention and legal hold. The lock rules are protocol/object_lock's; the store
// refuses the permanent delete of a locked version at commit (B-L3).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "protocol/http_date.hpp"
#include "protocol/object_lock.hpp"
#include "protocol/text.hpp"
#include "server/handlers.hpp"
#include "server/outcomes.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

protocol::result<std::string> parse_lock_setting(std::string_view body) {
    auto c = protocol::parse_lock_config(body);
    if (c.has_error()) return c.error();
    return protocol::render_lock_config(*c);
}

std::string stored_config(const std::string &stored) { return stored; }

// PutObjectLockConfiguration: on a bucket with versioning Enabled (S3 lets an existing bucket
// turn Object Lock on then); the configuration replaces the default retention.
net::awaitable<response> put_config(context &ctx) {
    auto load = load_bucket_config(ctx);
    auto cfg = co_await std::move(load);
    if (cfg.has_error()) {
        co_return error_response(cfg.error(), ctx);
    }
    if ((*cfg)->info.versioning != "Enabled") {
        co_return error_response(
            s3_error(s3_errc::invalid_bucket_state,
                     "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                     "configuration"),
            ctx);
    }
    co_return co_await put_setting(ctx, object_lock_setting, parse_lock_setting, 200);
}

// The version a retention or legal-hold request names, in a bucket with Object Lock (else
// B-L5's 400). A delete marker has neither: 405 MethodNotAllowed.
net::awaitable<protocol::result<storage::object_version>> locked_version(context &ctx) {
    auto load = load_bucket_config(ctx);
    auto cfg = co_await std::move(load);
    if (cfg.has_error()) {
        co_return cfg.error();
    }
    if (setting((*cfg)->settings, object_lock_setting).empty()) {
        co_return s3_error(s3_errc::invalid_request, "Bucket is missing Object Lock Configuration");
    }
    storage::get_request g{ctx.target.bucket, ctx.target.key, ctx.target.version_id, false, false};
    auto r_call = store_call<storage::object_read>(
        [&](auto done) { ctx.db.get_object(std::move(g), std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return r.error();
    }
    if (r->version.delete_marker) {
        co_return s3_error(s3_errc::method_not_allowed)
            .with("Method", ctx.req.method)
            .with("ResourceType", "DeleteMarker");
    }
    co_return std::move(r->version);
}

// Changes the lock entries of exactly this version (set_version_extra, one commit).
net::awaitable<response> write_lock_entries(context &ctx, const storage::object_version &v,
                                            std::vector<std::string> names,
                                            const protocol::version_lock &lock) {
    // The decision was taken from v's entries: they must be unchanged when the change commits.
    auto was = [&](const std::string &name) -> std::optional<std::string> {
        for (auto &[k, val] : v.meta.extra) {
            if (k == name) return val;
        }
        return std::nullopt;
    };
    protocol::metadata_entries wanted;
    protocol::set_lock(wanted, lock);
    auto value_of = [&](const std::string &name) -> std::optional<std::string> {
        for (auto &[k, val] : wanted) {
            if (k == name) return val;
        }
        return std::nullopt;
    };
    storage::version_extra_request req;
    req.bucket = ctx.target.bucket;
    req.key = ctx.target.key;
    req.version_id = v.version_id;
    req.name = names.front();
    req.value = value_of(names.front());
    for (std::size_t i = 1; i < names.size(); ++i) {
        req.more.emplace_back(names[i], value_of(names[i]));
    }
    for (const auto &name : names) {
        req.expect.emplace_back(name, was(name));
    }
    auto r_call = store_call<storage::object_version>(
        [&](auto done) { ctx.db.set_version_extra(std::move(req), std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx, 200);
}

net::awaitable<response> get_retention(context &ctx) {
    auto v_call = locked_version(ctx);
    auto v = co_await std::move(v_call);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    auto r = protocol::retention_of(protocol::lock_of(v->meta.extra));
    co_return xml_or_error(r, ctx, [](const protocol::retention &x) {
        return protocol::render_retention(x);
    });
}

// PutObjectRetention (B-L4): extending is always allowed; shortening or removing a retention in
// force needs GOVERNANCE and the bypass; COMPLIANCE never.
net::awaitable<response> put_retention(context &ctx) {
    auto v_call = locked_version(ctx);
    auto v = co_await std::move(v_call);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    auto body_call = read_small_body(ctx, 64 * 1024);
    auto body = co_await std::move(body_call);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    const std::int64_t now = ctx.db.now_ms();
    auto wanted = protocol::parse_retention(*body, now);
    if (wanted.has_error()) {
        co_return error_response(wanted.error(), ctx);
    }
    bool bypass = bypass_requested(ctx);
    if (bypass && !policy_free(ctx)) {
        auto gate_call = policy_gate(ctx, "s3:BypassGovernanceRetention");
        if (auto denied = co_await std::move(gate_call)) {
            co_return std::move(*denied);
        }
    }
    auto current = protocol::lock_of(v->meta.extra);
    if (auto refused = protocol::retention_change_refusal(current, *wanted, now, bypass)) {
        co_return error_response(*refused, ctx);
    }
    auto next = current;
    next.mode = *wanted ? std::optional<std::string>((*wanted)->mode) : std::nullopt;
    next.retain_until_ms =
        *wanted ? std::optional<std::int64_t>((*wanted)->retain_until_ms) : std::nullopt;
    std::vector<std::string> names{std::string(protocol::lock_mode_header),
                                   std::string(protocol::lock_until_header)};
    auto w_call = write_lock_entries(ctx, *v, std::move(names), next);
    co_return co_await std::move(w_call);
}

net::awaitable<response> get_legal_hold(context &ctx) {
    auto v_call = locked_version(ctx);
    auto v = co_await std::move(v_call);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    for (auto &[k, val] : v->meta.extra) {
        if (k == protocol::lock_hold_header) {
            co_return xml_response(protocol::render_legal_hold(val == "ON"));
        }
    }
    co_return error_response(s3_error(s3_errc::no_such_object_lock_configuration), ctx);
}

// PutObjectLegalHold: ON blocks every permanent delete of the version until it is OFF (B-L3).
// OFF is kept (GetObjectLegalHold then answers OFF, as S3 does once a hold was set).
net::awaitable<response> put_legal_hold(context &ctx) {
    auto v_call = locked_version(ctx);
    auto v = co_await std::move(v_call);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    auto body_call = read_small_body(ctx, 64 * 1024);
    auto body = co_await std::move(body_call);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto on = protocol::parse_legal_hold(*body);
    if (on.has_error()) {
        co_return error_response(on.error(), ctx);
    }
    storage::version_extra_request req;
    req.bucket = ctx.target.bucket;
    req.key = ctx.target.key;
    req.version_id = v->version_id;
    req.name = std::string(protocol::lock_hold_header);
    req.value = *on ? "ON" : "OFF";
    auto r_call = store_call<storage::object_version>(
        [&](auto done) { ctx.db.set_version_extra(std::move(req), std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx, 200);
}

} // namespace

bool bypass_requested(const context &ctx) {
    auto v = ctx.lookup()("x-amz-bypass-governance-retention");
    return v && protocol::ascii::iequals(*v, "true");
}

std::string describe_lock(const protocol::version_lock &lock, std::int64_t now_ms) {
    std::string out = "object lock:";
    if (lock.legal_hold) out += " legal hold ON";
    if (lock.mode && lock.retain_until_ms && *lock.retain_until_ms > now_ms) {
        out += " " + *lock.mode + " until " +
               protocol::format_iso8601(
                   protocol::sys_millis(std::chrono::milliseconds(*lock.retain_until_ms)));
    }
    return out;
}

net::awaitable<response> handle_object_lock(context &ctx) {
    switch (ctx.target.operation) {
    case protocol::op::get_object_lock_configuration:
        co_return co_await get_setting(ctx, object_lock_setting,
                                       s3_errc::object_lock_configuration_not_found,
                                       stored_config);
    case protocol::op::put_object_lock_configuration:
        co_return co_await put_config(ctx);
    case protocol::op::get_object_retention:
        co_return co_await get_retention(ctx);
    case protocol::op::put_object_retention:
        co_return co_await put_retention(ctx);
    case protocol::op::get_object_legal_hold:
        co_return co_await get_legal_hold(ctx);
    default:
        co_return co_await put_legal_hold(ctx);
    }
}

} // namespace ifmatch::server
