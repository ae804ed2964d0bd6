// Delays and injected writes or deletes just before a request's commit (spec D10). See
// commit_faults.hpp.
#include "server/commit_faults.hpp"

#include "protocol/crypto.hpp"
#include "server/handlers.hpp"
#include "server/outcomes.hpp"
#include "storage/object_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace ifmatch::server {

using protocol::op;

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void inject(context &ctx, fault_kind kind) {
    std::string rid = "fault-" + ctx.req.request_id;
    storage::writer_identity w{rid, "ifmatch-fault-injector", "", "ifmatch-fault-injector"};
    auto ignore = [](auto) {};
    if (kind == fault_kind::inject_delete) {
        storage::delete_request d;
        d.bucket = ctx.target.bucket;
        d.key = ctx.target.key;
        d.start = ctx.db.start();
        d.writer = w;
        ctx.db.delete_object(std::move(d), ignore);
        return;
    }
    storage::put_request p;
    p.bucket = ctx.target.bucket;
    p.key = ctx.target.key;
    p.body.inline_data = "ifmatch-fault-injector wrote this for request " + ctx.req.request_id +
                         " at " + std::to_string(wall_ms()) + "\n";
    p.body.size = p.body.inline_data.size();
    p.fields.etag = "\"" + protocol::to_hex(protocol::md5_raw(p.body.inline_data)) + "\"";
    p.fields.size = p.body.size;
    p.fields.meta.content_type = "text/plain";
    p.fields.writer = w;
    p.start = ctx.db.start();
    ctx.db.put_object(std::move(p), ignore);
}

} // namespace

bool has_commit_hook(op o) {
    return o == op::put_object || o == op::copy_object || o == op::delete_object ||
           o == op::complete_multipart_upload;
}

bool commit_fault_pending(const context &ctx) {
    return ctx.note && ctx.note->fault && !ctx.note->fault_applied;
}

net::awaitable<void> before_commit(context &ctx) {
    if (!commit_fault_pending(ctx)) {
        co_return;
    }
    ctx.note->fault_applied = true;
    const fault_rule &f = *ctx.note->fault;
    if (f.kind == fault_kind::delay) {
        auto ex = co_await net::this_coro::executor;
        net::steady_timer timer(ex);
        timer.expires_after(std::chrono::milliseconds(f.delay_ms));
        auto wait_call = timer.async_wait(net::as_tuple(net::use_awaitable));
        co_await std::move(wait_call);
    } else {
        inject(ctx, f.kind);
    }
}

} // namespace ifmatch::server
