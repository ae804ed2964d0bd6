// Outcome capture and recording, explain headers, and the observed run of a handler (spec D9,
// D10). See outcomes.hpp.
#include "server/outcomes.hpp"

#include "server/commit_faults.hpp"
#include "server/event_hub.hpp"
#include "server/fault_rules.hpp"
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

void note_refusal(request_note &note, const s3_error &err, const storage::current_state &against) {
    auto code = err.code;
    if (!protocol::is_refusal(code)) {
        return;
    }
    note.captured = true;
    note.current = against;
    for (auto &[k, v] : err.fields) {
        if (k == "Condition") note.failed_condition = v;
    }
    if (note.failed_condition.empty()) {
        note.failed_condition = code == s3_errc::no_such_key ? "If-Match"
                                : code == s3_errc::precondition_required ? "(none sent)"
                                                                         : "";
    }
}

void note_refusal(context &ctx, const s3_error &err,
                  const std::optional<storage::current_state> &against) {
    if (!against) {
        return;
    }
    ctx.log.current = log_current(*against);
    if (ctx.note) {
        note_refusal(*ctx.note, err, *against);
    }
}

void note_read_outcome(context &ctx, const storage::object_version &v, std::string_view cond) {
    if (!ctx.note) return;
    ctx.note->captured = true;
    ctx.note->current = storage::state_of(v);
    ctx.note->failed_condition = std::string(cond);
}

namespace {

constexpr const char *condition_headers[] = {
    "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
    "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
    "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-unmodified-since"};

bool is_recorded(const context &ctx, const response &res) {
    if (res.status == 304 || res.status == 412 || res.status == 409 || res.status == 428) {
        return true;
    }
    if (res.status == 403 && ctx.note && ctx.note->failed_condition.starts_with("object lock")) {
        return true; // a version under Object Lock refused its delete (B-L3)
    }
    return res.status == 404 && ctx.note && ctx.note->captured &&
           ctx.note->failed_condition == "If-Match" && has_commit_hook(ctx.target.operation);
}

void add_explain_headers(const outcome_event &e, response &res) {
    auto &c = e.current;
    res.set("x-ifmatch-current-etag", describe_current(c));
    if (c.exists) {
        res.set("x-ifmatch-current-last-modified", http_date_ms(c.last_modified_ms));
        res.set("x-ifmatch-current-version-id", c.version_id);
        res.set("x-ifmatch-last-writer", c.writer.request_id + "@" +
                                             iso_date_ms(c.last_modified_ms) + " by " +
                                             (c.writer.access_key.empty() ? "anonymous"
                                                                          : c.writer.access_key));
    }
    res.set("x-ifmatch-failed-condition", e.failed_condition);
}

net::awaitable<void> record(context &ctx, response &res) {
    auto &note = *ctx.note;
    if (!note.captured) { // e.g. an injected status: read the state now
        auto b = ctx.target.bucket, k = ctx.target.key;
        auto r_call = store_call<storage::current_state>(
            [&](auto done) { ctx.db.current_state_of(b, k, std::move(done)); });
        auto r = co_await std::move(r_call);
        if (r.has_value()) note.current = *r;
    }
    outcome_event e;
    e.time_ms = ctx.db.now_ms(); // the store's clock, like the versions' Last-Modified
    e.request_id = ctx.req.request_id;
    e.replica = ctx.cfg.replica_name;
    e.access_key = ctx.access_key();
    e.operation = std::string(protocol::op_name(ctx.target.operation));
    e.bucket = ctx.target.bucket;
    e.key = ctx.target.key;
    e.status = res.status;
    e.code = res.error_code;
    if (e.code.empty() && res.status == 412) e.code = "PreconditionFailed";
    auto look = ctx.lookup();
    for (const char *h : condition_headers) {
        if (auto v = look(h)) e.conditions.emplace_back(h, std::string(*v));
    }
    e.failed_condition = note.failed_condition;
    e.current = note.current;
    auto explain = ctx.req.header("x-ifmatch-explain");
    if (explain && *explain == "1") add_explain_headers(e, res);
    events().publish(std::move(e), ctx.db);
}

} // namespace

net::awaitable<response> run_observed(context &ctx, net::awaitable<response> (*route)(context &)) {
    ctx.note = std::make_shared<request_note>();
    if (ctx.target.operation != op::admin) {
        auto name = protocol::op_name(ctx.target.operation);
        std::optional<fault_rule> f;
        if (!take_local_fault(ctx.db, name, ctx.target.bucket, ctx.target.key, f)) {
            // A shared store keeps the rules of every replica (fault_rules.hpp).
            auto t_call = take_fault(ctx.db, std::string(name), ctx.target.bucket, ctx.target.key);
            f = co_await std::move(t_call);
        }
        if (f) {
            if (f->kind == fault_kind::status) {
                std::string cond = ctx.req.header("if-none-match") ? "If-None-Match" : "If-Match";
                ctx.note->failed_condition = "fault #" + std::to_string(f->id);
                response res = error_response(fault_error(*f, ctx.target.key, cond), ctx);
                if (f->status == 200) {
                    // S3's 200 whose body is the error; nothing was written (README, faults).
                    res.status = 200;
                }
                if (is_recorded(ctx, res) || f->error == "PreconditionFailed") {
                    co_await record(ctx, res);
                }
                co_return res;
            }
            ctx.note->fault = f;
            if (!has_commit_hook(ctx.target.operation)) co_await before_commit(ctx);
        }
    }
    response res = co_await route(ctx);
    if (is_recorded(ctx, res)) co_await record(ctx, res);
    co_return res;
}

} // namespace ifmatch::server
