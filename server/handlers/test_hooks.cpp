// Test-only fault injection under /_ifmatch/test/ (answered only with --enable-test-hooks;
// otherwise the path is an unknown admin key). Simulates a full disk at both storage layers:
//   PUT /_ifmatch/test/blob-budget?bytes=N     blob files may grow by N more bytes (-1: no limit)
//   PUT /_ifmatch/test/db-max-pages?pages=N  the database may grow to N pages (0: freeze
//                                               at the current size; -1: no limit)
//   PUT /_ifmatch/test/io-fault?nth=N[&persistent=1][&kinds=wal_write,blob_write,...]
//       [&error=full|io]                         the N-th storage I/O operation of those kinds
//                                               fails from now on (storage/io_faults.hpp);
//                                               nth=0 disarms. The answer counts what was seen.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "storage/io_faults.hpp"

#include <nlohmann/json.hpp>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

std::optional<std::int64_t> int_param(const context &ctx, std::string_view name) {
    auto v = ctx.target.query.get(name);
    if (!v)
        return std::nullopt;
    try {
        return std::stoll(std::string(*v));
    } catch (...) {
        return std::nullopt;
    }
}

response json_ok(const nlohmann::json &j) {
    response r;
    r.body = j.dump() + "\n";
    r.set("Content-Type", "application/json");
    return r;
}

} // namespace

net::awaitable<response> handle_test_hook(context &ctx, std::string hook) {
    if (ctx.req.method != "PUT") {
        co_return error_response(s3_error(s3_errc::method_not_allowed), ctx);
    }
    if (hook == "blob-budget") {
        auto bytes = int_param(ctx, "bytes");
        if (!bytes)
            co_return error_response(s3_error(s3_errc::invalid_argument, "bytes=N"), ctx);
        storage::space_limit l;
        l.body_bytes = *bytes;
        auto r_call = store_call<std::int64_t>(
            [&](auto done) { ctx.db.limit_space(l, std::move(done)); });
        auto r = co_await std::move(r_call);
        if (r.has_error())
            co_return error_response(r.error(), ctx);
        co_return json_ok({{"blob_budget", *bytes}});
    }
    if (hook == "db-max-pages") {
        auto pages = int_param(ctx, "pages");
        if (!pages)
            co_return error_response(s3_error(s3_errc::invalid_argument, "pages=N"), ctx);
        storage::space_limit l;
        l.max_pages = *pages;
        auto r_call = store_call<std::int64_t>(
            [&](auto done) { ctx.db.limit_space(l, std::move(done)); });
        auto r = co_await std::move(r_call);
        if (r.has_error())
            co_return error_response(r.error(), ctx);
        co_return json_ok({{"max_page_count", *r}});
    }
    if (hook == "io-fault") {
        namespace faults = storage::io_faults;
        auto nth = int_param(ctx, "nth");
        if (!nth || *nth < 0)
            co_return error_response(s3_error(s3_errc::invalid_argument, "nth=N"), ctx);
        nlohmann::json before = {{"counted", faults::counted()}, {"fired", faults::fired()}};
        if (*nth == 0) {
            faults::disarm();
            co_return json_ok({{"armed", false}, {"before", before}});
        }
        faults::plan p;
        p.nth = *nth;
        p.persistent = ctx.target.query.get("persistent").value_or("0") == "1";
        p.disk_full = ctx.target.query.get("error").value_or("full") != "io";
        p.kinds = faults::parse_kinds(std::string(ctx.target.query.get("kinds").value_or("all")));
        if (p.kinds == 0)
            co_return error_response(s3_error(s3_errc::invalid_argument, "kinds"), ctx);
        faults::arm(p);
        co_return json_ok({{"armed", true}, {"before", before}});
    }
    co_return error_response(s3_error(s3_errc::no_such_key).with("Key", "_ifmatch/test/" + hook),
                             ctx);
}

} // namespace ifmatch::server
