// ifmatch's own endpoints under /_ifmatch/ (path-style hosts only): health, Prometheus metrics and
// per-bucket settings.
#include "server/handlers.hpp"
#include "server/lifecycle.hpp"
#include "server/metrics.hpp"
#include "server/store_calls.hpp"

#include "storage/object_store.hpp"

#include <nlohmann/json.hpp>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

// Fault injection for tests (server/handlers/test_hooks.cpp); only with --enable-test-hooks.
net::awaitable<response> handle_test_hook(context &ctx, std::string hook);

namespace {

response json_response(const nlohmann::json &j, int status = 200) {
    response r;
    r.status = status;
    r.body = j.dump() + "\n";
    r.set("Content-Type", "application/json");
    return r;
}

net::awaitable<response> bucket_settings(context &ctx, const std::string &bucket) {
    if (ctx.req.method == "PUT") {
        auto body = co_await read_small_body(ctx, 64 * 1024);
        if (body.has_error()) {
            co_return error_response(body.error(), ctx);
        }
        auto j = nlohmann::json::parse(*body, nullptr, false);
        if (j.is_discarded() || !j.is_object() ||
            (j.contains("require_conditional_writes") &&
             !j["require_conditional_writes"].is_boolean())) {
            co_return error_response(s3_error(s3_errc::malformed_xml, "The settings document "
                                                                      "must be a JSON object."),
                                     ctx);
        }
        bool on = j.value("require_conditional_writes", false);
        auto r_call = store_call<bool>(
            [&](auto done) { ctx.db.set_bucket_require_conditions(bucket, on, std::move(done)); });
        auto r = co_await std::move(r_call);
        if (r.has_error()) {
            co_return error_response(r.error(), ctx);
        }
    } else if (ctx.req.method != "GET") {
        co_return error_response(s3_error(s3_errc::method_not_allowed), ctx);
    }
    auto b_call = store_call<storage::bucket_info>(
        [&](auto done) { ctx.db.get_bucket(bucket, std::move(done)); });
    auto b = co_await std::move(b_call);
    if (b.has_error()) {
        co_return error_response(b.error(), ctx);
    }
    co_return json_response({{"bucket", bucket},
                             {"require_conditional_writes", b->require_conditions},
                             {"versioning", b->versioning}});
}

// GET /_ifmatch/metrics: counters plus the store's object and byte gauges (one read query).
net::awaitable<response> metrics(context &ctx) {
    if (ctx.req.method != "GET" && ctx.req.method != "HEAD") {
        co_return error_response(s3_error(s3_errc::method_not_allowed), ctx);
    }
    auto t_call = store_call<storage::store_totals>(
        [&](auto done) { ctx.db.stored_totals(std::move(done)); });
    auto totals = co_await std::move(t_call);
    store_gauges g;
    auto st = ctx.db.stats();
    g.commits = st.commits;
    g.write_jobs = st.jobs;
    g.wal_frames = st.wal_frames;
    g.group_reruns = st.reruns;
    g.failed_commits = st.failed_commits;
    g.lost_transactions = st.lost_transactions;
    g.statements = st.statements;
    g.round_trips = st.round_trips;
    if (totals.has_value()) {
        g.objects = totals->objects;
        g.bytes = totals->bytes;
    }
    response r;
    r.body = render_metrics(g);
    r.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    if (ctx.is_head()) {
        r.head = true;
        r.length = r.body.size();
    }
    co_return r;
}

// GET /_ifmatch/clock reports the store's clock; POST {"advance_seconds": N} moves it forward
// (--controllable-clock or --enable-test-hooks only).
nlohmann::json lifecycle_json(const lifecycle_report &r) {
    return {{"expired_current", r.expired_current},
            {"expired_noncurrent", r.expired_noncurrent},
            {"removed_delete_markers", r.removed_delete_markers},
            {"aborted_uploads", r.aborted_uploads},
            {"lost_races", r.lost_races}, {"kept_locked", r.kept_locked}};
}

// POST /_ifmatch/lifecycle: one lifecycle pass now (same permission as moving the clock).
net::awaitable<response> lifecycle_now(context &ctx) {
    if (ctx.req.method != "POST") {
        co_return error_response(s3_error(s3_errc::method_not_allowed), ctx);
    }
    if (!ctx.cfg.controllable_clock && !ctx.cfg.enable_test_hooks) {
        co_return error_response(
            s3_error(s3_errc::access_denied, "Lifecycle passes can be started only when the "
                                             "server runs with --controllable-clock."),
            ctx);
    }
    auto pass_call = run_lifecycle(ctx.db);
    auto pass = co_await std::move(pass_call);
    co_return json_response(lifecycle_json(pass));
}

net::awaitable<response> clock(context &ctx) {
    const bool movable = ctx.cfg.controllable_clock || ctx.cfg.enable_test_hooks;
    nlohmann::json lifecycle;
    if (ctx.req.method == "POST") {
        if (!movable) {
            co_return error_response(
                s3_error(s3_errc::access_denied, "The clock can be moved only when the server "
                                                 "runs with --controllable-clock."),
                ctx);
        }
        auto body = co_await read_small_body(ctx, 4096);
        if (body.has_error()) {
            co_return error_response(body.error(), ctx);
        }
        auto j = nlohmann::json::parse(*body, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("advance_seconds") ||
            !j["advance_seconds"].is_number_integer() || j["advance_seconds"].get<std::int64_t>() <= 0 ||
            j["advance_seconds"].get<std::int64_t>() > 100LL * 366 * 86400) {
            co_return error_response(
                s3_error(s3_errc::invalid_argument,
                         "Send {\"advance_seconds\": N} with a whole number of seconds N > 0: "
                         "the clock only moves forward."),
                ctx);
        }
        const std::int64_t ms = j["advance_seconds"].get<std::int64_t>() * 1000;
        auto r_call = store_call<std::int64_t>(
            [&](auto done) { ctx.db.advance_clock(ms, std::move(done)); });
        auto r = co_await std::move(r_call); // a named awaitable: docs/architecture.md §4
        if (r.has_error()) {
            co_return error_response(r.error(), ctx);
        }
        // Lifecycle acts on the new time before the answer (B-C1..B-C4): a test that moved the
        // clock reads the result at once.
        auto pass_call = run_lifecycle(ctx.db);
        auto pass = co_await std::move(pass_call);
        lifecycle = lifecycle_json(pass);
    } else if (ctx.req.method != "GET") {
        co_return error_response(s3_error(s3_errc::method_not_allowed), ctx);
    }
    const auto now = ctx.db.now_ms();
    nlohmann::json out = {{"now", protocol::format_iso8601(protocol::sys_millis(
                                      std::chrono::milliseconds(now)))},
                          {"now_ms", now},
                          {"offset_seconds", ctx.db.clock_offset_ms() / 1000},
                          {"controllable", movable}};
    if (!lifecycle.is_null()) {
        out["lifecycle"] = lifecycle;
    }
    co_return json_response(out);
}

} // namespace

net::awaitable<response> handle_admin(context &ctx) {
    const std::string &path = ctx.target.admin_path;
    if (path == "health") {
        bool ok = ctx.db.healthy();
        co_return json_response({{"status", ok ? "ok" : "unavailable"}}, ok ? 200 : 503);
    }
    if (path == "metrics") {
        co_return co_await metrics(ctx);
    }
    if (path == "clock") {
        co_return co_await clock(ctx);
    }
    if (path == "lifecycle") {
        co_return co_await lifecycle_now(ctx);
    }
    if (path.rfind("test/", 0) == 0 && ctx.cfg.enable_test_hooks) {
        std::string hook = path.substr(5);
        co_return co_await handle_test_hook(ctx, hook);
    }
    auto console_call = handle_console(ctx, path);
    std::optional<response> console = co_await std::move(console_call);
    if (console) {
        co_return std::move(*console);
    }
    const std::string prefix = "buckets/";
    if (path.rfind(prefix, 0) == 0) {
        auto rest = path.substr(prefix.size());
        auto slash = rest.find('/');
        if (slash != std::string::npos && rest.substr(slash + 1) == "settings") {
            co_return co_await bucket_settings(ctx, rest.substr(0, slash));
        }
    }
    co_return error_response(s3_error(s3_errc::no_such_key).with("Key", "_ifmatch/" + path), ctx);
}

} // namespace ifmatch::server
