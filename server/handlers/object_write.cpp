// PutObject with conditional writes (spec §4, D3–D5): header validation on the request head,
// the body streamed and verified, the decision taken by the store at commit.
#include "server/commit_faults.hpp"
#include "server/handlers.hpp"
#include "server/lifecycle.hpp"
#include "server/outcomes.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

// Everything that is answered before the body is read (D4).
protocol::result<storage::put_request> prepare_put(context &ctx, upload_plan &plan,
                                                   write_surface &surface) {
    if (auto k = protocol::check_object_key(ctx.target.key); k.has_error()) {
        return k.error();
    }
    auto conds = protocol::parse_write_conditions(ctx.lookup());
    if (conds.has_error()) {
        return conds.error();
    }
    auto meta = meta_from_request(ctx.req);
    if (meta.has_error()) {
        return meta.error();
    }
    auto p = plan_upload(ctx);
    if (p.has_error()) {
        return p.error();
    }
    plan = *p;
    auto ws = parse_write_surface(ctx);
    if (ws.has_error()) {
        return ws.error();
    }
    surface = std::move(*ws);
    storage::put_request r;
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.conditions = *conds;
    r.fields.meta = std::move(*meta);
    r.fields.writer = ctx.writer();
    r.start = ctx.start;
    r.server_requires_conditions = ctx.cfg.require_conditional_writes;
    return r;
}

} // namespace

void note_write_failure(context &ctx, const s3_error &e) {
    ctx.log.error_code = std::string(e.aws_code());
    for (auto &[k, v] : e.fields) {
        if (k == "Condition") ctx.log.failed_condition = v;
    }
}

net::awaitable<response> handle_put_object(context &ctx) {
    ctx.log.conditions = describe_conditions(ctx);
    upload_plan plan;
    write_surface surface;
    auto prepared = prepare_put(ctx, plan, surface);
    if (prepared.has_error()) {
        note_write_failure(ctx, prepared.error());
        co_return error_response(prepared.error(), ctx);
    }
    if (!policy_free(ctx)) {
        auto gate_call = policy_gate(ctx, "s3:PutObject");
        if (auto denied = co_await std::move(gate_call)) {
            co_return std::move(*denied);
        }
    }
    // The bucket's defaults: from the cache without a coroutine frame when it holds them.
    auto cfg = cached_bucket_config(ctx);
    if (!cfg) {
        auto load = load_bucket_config(ctx);
        auto loaded = co_await std::move(load);
        if (loaded.has_error()) {
            note_write_failure(ctx, loaded.error());
            co_return error_response(loaded.error(), ctx);
        }
        cfg = *loaded;
    }
    auto d = apply_bucket_defaults(*cfg, surface, ctx.db.now_ms(), ctx.target.key);
    if (d.has_error()) {
        note_write_failure(ctx, d.error());
        co_return error_response(d.error(), ctx);
    }
    auto up = co_await receive_upload(ctx, plan);
    if (up.has_error()) {
        note_write_failure(ctx, up.error());
        co_return error_response(up.error(), ctx);
    }
    auto req = std::move(*prepared);
    req.body = std::move(up->body);
    req.fields.etag = up->etag;
    req.fields.size = up->size;
    req.fields.meta.checksums = up->checksums;
    store_write_surface(surface, up->etag.substr(1, 32), req.fields.meta, req.fields.etag,
                        ctx.cfg.region);
    auto r_call = store_decide<storage::write_result>(
        [&](auto done) { ctx.db.put_object(std::move(req), std::move(done)); });
    if (commit_fault_pending(ctx)) {
        co_await before_commit(ctx); // D10: a delay or an injected write/delete, if arranged
    }
    auto outcome = co_await std::move(r_call);
    auto &r = outcome.value;
    if (r.has_error()) {
        note_write_failure(ctx, r.error());
        note_refusal(ctx, r.error(), outcome.refused_against);
        co_return error_response(r.error(), ctx);
    }
    response res;
    res.set("ETag", r->etag);
    if (r->version_id != "null") {
        res.set("x-amz-version-id", r->version_id);
    }
    {   // the configuration read before the body: lifecycle rules change rarely (B-C5)
        storage::object_version written;
        written.key = ctx.target.key;
        written.size = r->size;
        written.last_modified_ms = r->last_modified_ms;
        written.meta = r->meta;
        if (auto e = expiration_header_of(*cfg, written)) {
            res.set("x-amz-expiration", *e); // B-C5
        }
    }
    for (auto &[name, value] : up->checksums) {
        std::string h = "x-amz-checksum-";
        for (char c : name) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        res.set(h, value);
        res.set("x-amz-checksum-type", "FULL_OBJECT");
    }
    for (auto &[k, v] : r->meta.extra) {
        if (k.rfind("x-amz-server-side-encryption", 0) == 0) res.set(k, v);
    }
    co_return res;
}

} // namespace ifmatch::server
