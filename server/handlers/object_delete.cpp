// DeleteObject (with If-Match, spec §8) and DeleteObjects (per-object <ETag>, R-D11).
#include "server/commit_faults.hpp"
#include "server/event_hub.hpp"
#include "server/handlers.hpp"
#include "server/outcomes.hpp"
#include "server/replication.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include "protocol/crypto.hpp"
#include "protocol/object_lock.hpp"
#include "protocol/text.hpp"
#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

void note_write_failure(context &ctx, const s3_error &e);

namespace {

// The store's 403 for a version under Object Lock (B-L3), as opposed to a policy's.
bool is_lock_refusal(const s3_error &e) {
    return e.code == s3_errc::access_denied && e.text().find("object lock") != std::string::npos;
}

// The lock that refused the delete of `version_id`, described for the outcome event.
net::awaitable<std::string> lock_that_refused(context &ctx, std::string key,
                                              std::optional<std::string> version_id) {
    storage::get_request g{ctx.target.bucket, std::move(key), std::move(version_id), false, false};
    auto r_call = store_call<storage::object_read>(
        [&](auto done) { ctx.db.get_object(std::move(g), std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return std::string("object lock");
    }
    co_return describe_lock(protocol::lock_of(r->version.meta.extra), ctx.db.now_ms());
}

} // namespace

net::awaitable<response> handle_delete_object(context &ctx) {
    ctx.log.conditions = describe_conditions(ctx);
    storage::delete_request d;
    d.bucket = ctx.target.bucket;
    d.key = ctx.target.key;
    d.version_id = ctx.target.version_id;
    auto conds = protocol::parse_delete_conditions(ctx.lookup(), d.version_id.has_value());
    if (conds.has_error()) {
        note_write_failure(ctx, conds.error());
        co_return error_response(conds.error(), ctx);
    }
    d.conditions = *conds;
    d.start = ctx.start;
    d.server_requires_conditions = ctx.cfg.require_conditional_writes;
    d.writer = ctx.writer();
    d.bypass_governance = bypass_requested(ctx);
    if (!policy_free(ctx)) {
        auto gate_call = policy_gate(ctx, "s3:DeleteObject");
        if (auto denied = co_await std::move(gate_call)) {
            co_return std::move(*denied);
        }
        if (d.bypass_governance) {
            auto bypass_call = policy_gate(ctx, "s3:BypassGovernanceRetention");
            if (auto denied = co_await std::move(bypass_call)) {
                co_return std::move(*denied);
            }
        }
    }
    if (!d.version_id) {
        auto c_call = load_bucket_config(ctx);
        auto c = co_await std::move(c_call);
        if (c.has_value()) {
            d.marker_extra = marker_replication_entries(**c, d.key); // B-R3
        }
    }
    auto r_call = store_decide<storage::delete_result>(
        [&](auto done) { ctx.db.delete_object(std::move(d), std::move(done)); });
    if (commit_fault_pending(ctx)) {
        co_await before_commit(ctx); // D10: a delay or an injected write/delete, if arranged
    }
    auto outcome = co_await std::move(r_call);
    auto &r = outcome.value;
    if (r.has_error()) {
        note_write_failure(ctx, r.error());
        note_refusal(ctx, r.error(), outcome.refused_against);
        if (is_lock_refusal(r.error()) && ctx.note) {
            // Recorded as an event naming the lock that decided (outcomes.cpp is_recorded).
            auto why_call = lock_that_refused(ctx, ctx.target.key, ctx.target.version_id);
            ctx.note->failed_condition = co_await std::move(why_call);
        }
        co_return error_response(r.error(), ctx);
    }
    response res = empty_response();
    if (r->delete_marker) {
        res.set("x-amz-delete-marker", "true");
    }
    if (!r->version_id.empty()) { // "null" too: a suspended bucket's marker, ?versionId=null
        res.set("x-amz-version-id", r->version_id);
    }
    co_return res;
}

namespace {

struct one_outcome {
    std::string key;
    std::optional<std::string> version_id;
    protocol::result<storage::delete_result> r;
};

void render_outcome(protocol::xml_writer &w, const one_outcome &o, bool quiet) {
    if (o.r.has_error()) {
        w.open("Error").element("Key", o.key);
        if (o.version_id) w.element("VersionId", *o.version_id);
        w.element("Code", o.r.error().aws_code()).element("Message", o.r.error().text()).close();
        return;
    }
    if (quiet) {
        return;
    }
    w.open("Deleted").element("Key", o.key);
    if (o.version_id) w.element("VersionId", *o.version_id);
    if (o.r->delete_marker) {
        w.element("DeleteMarker", "true");
        if (!o.version_id) w.element("DeleteMarkerVersionId", o.r->version_id);
    }
    w.close();
}

// The policy check of one <Object> of DeleteObjects: its <ETag> plays If-Match (R-D11, R-B2).
bool denies_delete(const protocol::policy_document &policy, const std::string &bucket,
                   const protocol::delete_objects_request::object &o) {
    protocol::condition_values values;
    if (o.etag) values["s3:if-match"] = *o.etag;
    return protocol::policy_denies(policy, "s3:DeleteObject", protocol::object_arn(bucket, o.key),
                                   values);
}

// D9 for DeleteObjects: a per-key refusal inside the 200 (412 on <ETag>, 404 for an <ETag> on an
// absent key, 428) is an event like a refused DeleteObject.
void record_key_refusal(const context &ctx, const protocol::delete_objects_request::object &o,
                        const s3_error &err, const request_note &note,
                        const std::string &lock = {}) {
    bool conditional = err.code == s3_errc::precondition_failed ||
                       err.code == s3_errc::precondition_required ||
                       (err.code == s3_errc::no_such_key && o.etag) || !lock.empty();
    if (!conditional) {
        return;
    }
    outcome_event e;
    e.time_ms = ctx.db.now_ms();
    e.request_id = ctx.req.request_id;
    e.access_key = ctx.access_key();
    e.operation = "DeleteObjects";
    e.bucket = ctx.target.bucket;
    e.key = o.key;
    e.status = err.status();
    e.code = std::string(err.aws_code());
    if (o.etag) {
        e.conditions.emplace_back("ETag", *o.etag);
    }
    e.failed_condition = !lock.empty() ? lock : o.etag ? "If-Match" : "(none sent)";
    e.current = note.current;
    events().publish(std::move(e), ctx.db);
}

} // namespace

net::awaitable<response> handle_delete_objects(context &ctx) {
    auto body = co_await read_small_body(ctx, 2 << 20);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    if (auto md5 = ctx.req.header("content-md5")) {
        auto raw = protocol::base64_decode(*md5);
        if (!raw || raw->size() != 16) {
            co_return error_response(s3_error(s3_errc::invalid_digest), ctx);
        }
        if (*raw != protocol::md5_raw(*body)) {
            co_return error_response(s3_error(s3_errc::bad_digest), ctx);
        }
    }
    auto parsed = protocol::parse_delete_objects(*body);
    if (parsed.has_error()) {
        co_return error_response(parsed.error(), ctx);
    }
    if (auto refused = protocol::delete_objects_refusal(*parsed)) {
        co_return error_response(*refused, ctx);
    }
    auto policy_call = load_bucket_policy(ctx);
    auto policy = co_await std::move(policy_call);
    auto config_call = load_bucket_config(ctx);
    auto config = co_await std::move(config_call);
    std::vector<one_outcome> outcomes;
    for (auto &o : parsed->objects) {
        if (policy && denies_delete(*policy, ctx.target.bucket, o)) {
            outcomes.push_back(one_outcome{o.key, o.version_id, s3_error(s3_errc::access_denied)});
            continue;
        }
        storage::delete_request d;
        d.bucket = ctx.target.bucket;
        d.key = o.key;
        d.version_id = o.version_id;
        d.conditions = protocol::delete_objects_key_conditions(o);
        d.start = ctx.start;
        d.server_requires_conditions = ctx.cfg.require_conditional_writes;
        d.writer = ctx.writer();
        d.bypass_governance = bypass_requested(ctx);
        if (!d.version_id && config.has_value()) {
            d.marker_extra = marker_replication_entries(**config, d.key); // B-R3
        }
        auto r_call = store_decide<storage::delete_result>(
            [&](auto done) { ctx.db.delete_object(std::move(d), std::move(done)); });
        auto outcome = co_await std::move(r_call);
        auto &r = outcome.value;
        if (r.has_error() && r.error().code == s3_errc::no_such_bucket) {
            co_return error_response(r.error(), ctx);
        }
        if (r.has_error() && outcome.refused_against) {
            request_note note;
            note_refusal(note, r.error(), *outcome.refused_against);
            record_key_refusal(ctx, o, r.error(), note);
        } else if (r.has_error() && is_lock_refusal(r.error())) {
            auto why_call = lock_that_refused(ctx, o.key, o.version_id);
            auto why = co_await std::move(why_call);
            request_note note;
            record_key_refusal(ctx, o, r.error(), note, why);
        }
        outcomes.push_back(one_outcome{o.key, o.version_id, std::move(r)});
    }
    protocol::xml_writer w;
    w.open("DeleteResult", true);
    for (auto &o : outcomes) {
        render_outcome(w, o, parsed->quiet);
    }
    co_return xml_response(w.str());
}

} // namespace ifmatch::server
