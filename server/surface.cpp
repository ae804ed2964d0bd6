// Write-side surface (SSE, ACL, tags), bucket defaults and CORS response headers.
#include "server/surface.hpp"

#include "protocol/bucket_subresources.hpp"
#include "protocol/cors.hpp"
#include "protocol/replication.hpp"
#include "protocol/tagging.hpp"
#include "server/replication.hpp"
#include "server/store_calls.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

std::string setting(const storage::string_pairs &all, std::string_view name) {
    for (const auto &[k, v] : all) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

protocol::result<write_surface> parse_write_surface(const context &ctx) {
    write_surface w;
    auto look = ctx.lookup();
    auto sse = protocol::parse_sse_headers(look);
    if (sse.has_error())
        return sse.error();
    w.sse = *sse;
    auto acl = protocol::parse_acl_headers(look);
    if (acl.has_error())
        return acl.error();
    w.acl = *acl;
    if (auto t = look("x-amz-tagging")) {
        auto tags = protocol::parse_tagging_header(*t);
        if (tags.has_error())
            return tags.error();
        w.tags = protocol::encode_tags(*tags);
    }
    auto value = [&](std::string_view h) -> std::optional<std::string> {
        if (auto v = look(h)) return std::string(*v);
        return std::nullopt;
    };
    w.lock_mode = value(protocol::lock_mode_header);
    w.lock_until = value(protocol::lock_until_header);
    w.lock_hold = value(protocol::lock_hold_header);
    w.lock_requested = w.lock_mode || w.lock_until || w.lock_hold;
    // B-L6 asks a PutObject's bytes to be checked; a copy or a multipart upload brings none here.
    bool integrity = look("content-md5").has_value();
    for (auto h : {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
                   "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm",
                   "x-amz-trailer"}) {
        integrity = integrity || look(h).has_value();
    }
    const auto o = ctx.target.operation;
    w.integrity_header = integrity || o == protocol::op::copy_object ||
                         o == protocol::op::create_multipart_upload;
    return w;
}

namespace {

// Requests that read their bucket's configuration but never change it.
bool keeps_bucket_config(protocol::op o) {
    using protocol::op;
    switch (o) {
    case op::get_object:
    case op::head_object:
    case op::put_object:
    case op::copy_object:
    case op::delete_object:
    case op::post_object:
    case op::create_multipart_upload:
    case op::upload_part:
    case op::upload_part_copy:
    case op::complete_multipart_upload:
        return true;
    default:
        return false;
    }
}

} // namespace

void keep_bucket_config(context &ctx, std::shared_ptr<const storage::bucket_config> c) {
    if (c && keeps_bucket_config(ctx.target.operation)) {
        ctx.bucket_config = std::move(c);
    }
}

std::shared_ptr<const storage::bucket_config> cached_bucket_config(context &ctx) {
    if (ctx.bucket_config) {
        return ctx.bucket_config;
    }
    return ctx.db.peek_bucket_config(ctx.target.bucket);
}

net::awaitable<protocol::result<std::shared_ptr<const storage::bucket_config>>>
load_bucket_config(context &ctx) {
    using config_ptr = std::shared_ptr<const storage::bucket_config>;
    if (auto hit = cached_bucket_config(ctx)) {
        co_return hit;
    }
    auto bucket = ctx.target.bucket;
    auto r_call =
        store_call<config_ptr>([&](auto done) { ctx.db.get_bucket_config(bucket, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return r.error();
    }
    keep_bucket_config(ctx, *r);
    co_return std::move(*r);
}

protocol::result<bool> apply_bucket_defaults(const storage::bucket_config &c, write_surface &w,
                                             std::int64_t now_ms, std::string_view key) {
    const auto &r = c.settings;
    // B-R2: an enabled replication rule applies to the new version's key (and tags).
    if (auto repl = setting(r, replication_setting); !repl.empty()) {
        auto cfg = protocol::parse_replication(repl);
        protocol::tag_set tags;
        if (w.tags) tags = protocol::decode_tags(*w.tags);
        w.replication_pending =
            cfg.has_value() && protocol::replication_rule_for(*cfg, key, tags) != nullptr;
    }
    // The new version's lock: its headers, else the bucket's default retention (B-L5, B-L6).
    auto stored = setting(r, object_lock_setting);
    if (w.lock_requested || !stored.empty()) {
        protocol::lock_write_context lc;
        lc.bucket_lock_enabled = !stored.empty();
        if (lc.bucket_lock_enabled) {
            auto cfg = protocol::parse_lock_config(stored);
            if (cfg.has_value()) lc.bucket_default = *cfg;
        }
        lc.now_ms = now_ms;
        lc.has_integrity_header = w.integrity_header;
        protocol::header_lookup look = [&w](std::string_view h) -> std::optional<std::string_view> {
            const std::optional<std::string> *v = h == protocol::lock_mode_header    ? &w.lock_mode
                                                  : h == protocol::lock_until_header ? &w.lock_until
                                                  : h == protocol::lock_hold_header  ? &w.lock_hold
                                                                                     : nullptr;
            if (v && *v) return std::string_view(**v);
            return std::nullopt;
        };
        auto lock = protocol::lock_from_headers(look, lc);
        if (lock.has_error()) return lock.error();
        if (*lock != protocol::version_lock{}) w.lock = *lock;
    }
    if (!w.sse) {
        if (auto enc = setting(r, "encryption"); !enc.empty()) {
            w.sse = protocol::decode_sse(enc);
        }
    }
    if (setting(r, "ownership") == "BucketOwnerEnforced" && !w.acl.grants.empty()) {
        return s3_error(s3_errc::acl_not_supported);
    }
    if (setting(r, "ownership") == "BucketOwnerEnforced" && !w.acl.canned.empty() &&
        w.acl.canned != "bucket-owner-full-control" && w.acl.canned != "private") {
        return s3_error(s3_errc::acl_not_supported);
    }
    if (protocol::acl_is_public(w.acl) &&
        protocol::decode_public_access_block(setting(r, setting_public_access_block))
            .block_public_acls) {
        return s3_error(s3_errc::access_denied);
    }
    return true;
}

net::awaitable<std::optional<s3_error>> check_public_acl(context &ctx,
                                                         const protocol::access_control &acl) {
    if (!protocol::acl_is_public(acl)) {
        co_return std::nullopt;
    }
    auto load = load_bucket_config(ctx);
    auto c = co_await std::move(load);
    if (c.has_error() ||
        !protocol::decode_public_access_block(setting((*c)->settings, setting_public_access_block))
             .block_public_acls) {
        co_return std::nullopt; // NoSuchBucket is the write's to report
    }
    co_return s3_error(s3_errc::access_denied);
}

net::awaitable<protocol::result<bool>> apply_bucket_defaults(context &ctx, write_surface &w,
                                                             std::optional<std::string> key) {
    auto load = load_bucket_config(ctx);
    auto c = co_await std::move(load);
    if (c.has_error()) {
        co_return c.error();
    }
    co_return apply_bucket_defaults(**c, w, ctx.db.now_ms(), key ? *key : ctx.target.key);
}

net::awaitable<void> add_cors_headers(context &ctx, response &res) {
    auto origin = ctx.req.header("origin");
    if (!origin || ctx.target.bucket.empty() ||
        ctx.target.operation == protocol::op::cors_preflight ||
        ctx.target.operation == protocol::op::admin) {
        co_return;
    }
    auto load = load_bucket_config(ctx);
    auto c = co_await std::move(load);
    if (c.has_error()) {
        co_return;
    }
    auto cfg = setting((*c)->settings, "cors");
    if (cfg.empty()) {
        co_return;
    }
    auto rules = protocol::parse_cors_configuration(cfg);
    if (rules.has_error()) {
        co_return;
    }
    // An actual request carrying the preflight headers is matched by them, as S3 does.
    auto method = ctx.req.header("access-control-request-method").value_or(ctx.req.method);
    auto req_headers = ctx.req.header("access-control-request-headers").value_or("");
    if (auto rule = protocol::match_cors(*rules, *origin, method, req_headers)) {
        for (auto &h : protocol::cors_response_headers(*rule, *origin, req_headers)) {
            res.headers.push_back(std::move(h));
        }
    }
}

} // namespace ifmatch::server
