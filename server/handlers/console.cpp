// ifmatch's explain endpoints under /_ifmatch/: recorded outcomes (events, events/stream), fault
// rules (faults), the JSON API the console reads (api/buckets, api/objects, api/versions,
// api/timeline) and the console page itself (ui, assets embedded at build time).
#include "server/console_assets.hpp"
#include "server/event_hub.hpp"
#include "server/fault_rules.hpp"
#include "server/faults.hpp"
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "server/timeline.hpp"

#include "storage/object_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <set>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

response json_out(const nlohmann::json &j, int status = 200) {
    response r;
    r.status = status;
    r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    r.set("Content-Type", "application/json");
    r.set("Cache-Control", "no-store");
    return r;
}

response json_error(int status, std::string_view msg) {
    return json_out({{"error", msg}}, status);
}

std::string q(const context &ctx, const char *name) {
    auto v = ctx.target.query.get(name);
    return v ? std::string(*v) : std::string();
}

std::int64_t q_int(const context &ctx, const char *name) {
    try {
        return std::stoll(q(ctx, name));
    } catch (...) {
        return 0;
    }
}

// Loads the persisted tail once per process, so events survive a restart.
net::awaitable<void> ensure_loaded(context &ctx) {
    if (!events().needs_load()) co_return;
    auto r_call = store_call<std::vector<storage::event_row>>(
        [&](auto done) { ctx.db.recent_events(event_hub::ring_capacity, std::move(done)); });
    auto r = co_await std::move(r_call);
    std::vector<outcome_event> older;
    if (r.has_value()) {
        for (auto &row : *r) {
            auto j = nlohmann::json::parse(row.json, nullptr, false);
            if (!j.is_discarded()) older.push_back(event_from_json(j));
        }
    }
    events().load(std::move(older));
}

// Shared mode: the events of every replica, read back from the store's table (docs/shared-mode.md)
// and filtered like event_hub::query.
net::awaitable<std::vector<outcome_event>> stored_events(context &ctx, const std::string &bucket,
                                                         const std::string &key, int outcome,
                                                         std::int64_t since) {
    auto r_call = store_call<std::vector<storage::event_row>>(
        [&](auto done) { ctx.db.recent_events(event_hub::ring_capacity, std::move(done)); });
    auto r = co_await std::move(r_call);
    std::vector<outcome_event> out;
    if (r.has_value()) {
        for (auto &row : *r) {
            if ((!bucket.empty() && row.bucket != bucket) || (!key.empty() && row.key != key) ||
                row.time_ms < since) {
                continue;
            }
            auto j = nlohmann::json::parse(row.json, nullptr, false);
            if (j.is_discarded()) continue;
            auto e = event_from_json(j);
            if (outcome && e.status != outcome) continue;
            out.push_back(std::move(e));
        }
    }
    co_return out;
}

// Server-sent events: each recorded outcome as `event: outcome` with its JSON, a comment every
// keep-alive interval.
class sse_body : public live_body, public std::enable_shared_from_this<sse_body> {
public:
    explicit sse_body(net::any_io_executor ex) : timer_(ex) {}
    void start() {
        std::weak_ptr<sse_body> weak = shared_from_this();
        auto ex = timer_.get_executor();
        sub_ = events().subscribe([weak, ex] {
            net::post(ex, [weak] {
                if (auto self = weak.lock()) self->timer_.cancel();
            });
        });
    }
    ~sse_body() override {
        if (sub_) events().unsubscribe(sub_);
    }
    net::awaitable<std::optional<std::string>> next() override {
        if (cancelled_) co_return std::nullopt;
        if (first_) {
            first_ = false;
            co_return std::string("retry: 1000\n: connected\n\n");
        }
        if (auto s = drain(); !s.empty()) co_return s;
        timer_.expires_after(std::chrono::seconds(10));
        auto wait_call = timer_.async_wait(net::as_tuple(net::use_awaitable));
        co_await std::move(wait_call);
        if (cancelled_) co_return std::nullopt;
        auto s = drain();
        co_return s.empty() ? std::string(": keep-alive\n\n") : s;
    }
    void cancel() override {
        std::weak_ptr<sse_body> weak = weak_from_this();
        net::post(timer_.get_executor(), [weak] {
            if (auto self = weak.lock()) {
                self->cancelled_ = true;
                self->timer_.cancel();
            }
        });
    }

private:
    std::string drain() {
        std::deque<outcome_event> got;
        {
            std::lock_guard lk(sub_->mu);
            got.swap(sub_->queue);
        }
        std::string out;
        for (auto &e : got) {
            out += "id: " + std::to_string(e.id) + "\nevent: outcome\ndata: " +
                   to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                   "\n\n";
        }
        return out;
    }
    net::steady_timer timer_;
    std::shared_ptr<event_hub::subscriber> sub_;
    bool first_ = true;
    bool cancelled_ = false;
};

net::awaitable<response> events_list(context &ctx) {
    int outcome = static_cast<int>(q_int(ctx, "outcome"));
    std::vector<outcome_event> list;
    if (ctx.db.shared()) {
        list = co_await stored_events(ctx, q(ctx, "bucket"), q(ctx, "key"), outcome,
                                      q_int(ctx, "since"));
    } else {
        co_await ensure_loaded(ctx);
        list = events().query(q(ctx, "bucket"), q(ctx, "key"), outcome, q_int(ctx, "since"));
    }
    nlohmann::json arr = nlohmann::json::array();
    for (auto &e : list) arr.push_back(to_json(e));
    co_return json_out(arr);
}

// Shared mode: the live stream of every replica's events, polled from the store's table (each
// replica persists its events right after answering) every half second.
class shared_sse_body : public live_body, public std::enable_shared_from_this<shared_sse_body> {
public:
    shared_sse_body(net::any_io_executor ex, storage::object_store &db)
        : timer_(ex), db_(db), since_(db.now_ms()) {}
    net::awaitable<std::optional<std::string>> next() override {
        if (first_) {
            first_ = false;
            co_return std::string("retry: 1000\n: connected\n\n");
        }
        for (int waited = 0; !cancelled_ && waited < 20; ++waited) {
            auto rows_call = store_call<std::vector<storage::event_row>>(
                [this](auto done) { db_.recent_events(1000, std::move(done)); });
            auto rows = co_await std::move(rows_call);
            std::string out;
            if (rows.has_value()) {
                for (auto &row : *rows) {
                    if (row.time_ms < since_) continue;
                    auto j = nlohmann::json::parse(row.json, nullptr, false);
                    if (j.is_discarded()) continue;
                    auto e = event_from_json(j);
                    if (!seen_.insert(e.replica + " " + e.request_id).second) continue;
                    out += "id: " + std::to_string(e.id) + "\nevent: outcome\ndata: " + row.json +
                           "\n\n";
                }
            }
            if (!out.empty()) co_return out;
            timer_.expires_after(std::chrono::milliseconds(500));
            auto wait_call = timer_.async_wait(net::as_tuple(net::use_awaitable));
            co_await std::move(wait_call);
        }
        if (cancelled_) co_return std::nullopt;
        co_return std::string(": keep-alive\n\n");
    }
    void cancel() override {
        std::weak_ptr<shared_sse_body> weak = weak_from_this();
        net::post(timer_.get_executor(), [weak] {
            if (auto self = weak.lock()) {
                self->cancelled_ = true;
                self->timer_.cancel();
            }
        });
    }

private:
    net::steady_timer timer_;
    storage::object_store &db_;
    std::int64_t since_;
    std::set<std::string> seen_;
    bool first_ = true;
    bool cancelled_ = false;
};

net::awaitable<response> events_stream(context &ctx) {
    auto ex = co_await net::this_coro::executor;
    response r;
    if (ctx.db.shared()) {
        r.live = std::make_shared<shared_sse_body>(ex, ctx.db);
        r.set("Content-Type", "text/event-stream");
        r.set("Cache-Control", "no-store");
        co_return r;
    }
    auto body = std::make_shared<sse_body>(ex);
    body->start();
    r.set("Content-Type", "text/event-stream");
    r.set("Cache-Control", "no-store");
    r.live = body;
    co_return r;
}

net::awaitable<response> faults_endpoint(context &ctx) {
    // The rules left after a listing or a removal, as JSON.
    auto listing = [](protocol::result<std::vector<fault_rule>> rules) {
        nlohmann::json arr = nlohmann::json::array();
        for (auto &f : *rules) arr.push_back(to_json(f));
        return json_out(arr);
    };
    if (ctx.req.method == "GET" || ctx.req.method == "DELETE") {
        if (ctx.req.method == "DELETE") {
            std::optional<std::uint64_t> one;
            if (auto id = ctx.target.query.get("id")) { // one rule: ?id=N
                std::uint64_t n = 0;
                auto [end, ec] = std::from_chars(id->data(), id->data() + id->size(), n);
                if (ec != std::errc() || end != id->data() + id->size()) {
                    co_return json_error(404, "no such fault rule");
                }
                one = n;
            }
            auto r_call = remove_faults(ctx.db, one);
            auto removed = co_await std::move(r_call);
            if (removed.has_error()) co_return error_response(removed.error(), ctx);
            if (one && *removed == 0) co_return json_error(404, "no such fault rule");
        }
        auto l_call = list_faults(ctx.db);
        auto rules = co_await std::move(l_call);
        if (rules.has_error()) co_return error_response(rules.error(), ctx);
        co_return listing(std::move(rules));
    }
    if (ctx.req.method != "POST") co_return json_error(405, "use GET, POST or DELETE");
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) co_return error_response(body.error(), ctx);
    auto j = nlohmann::json::parse(*body, nullptr, false);
    auto parsed = parse_fault_rule(j);
    if (!parsed.rule) co_return json_error(400, parsed.error);
    auto a_call = add_fault(ctx.db, *parsed.rule);
    auto added = co_await std::move(a_call);
    if (added.has_error()) co_return error_response(added.error(), ctx);
    co_return json_out(to_json(*added), 201);
}

nlohmann::json version_json(const storage::object_version &v) {
    return {{"key", v.key}, {"version_id", v.version_id}, {"is_latest", v.is_latest},
            {"delete_marker", v.delete_marker}, {"etag", v.etag}, {"size", v.size},
            {"last_modified_ms", v.last_modified_ms},
            {"last_modified", iso_date_ms(v.last_modified_ms)},
            {"writer", {{"request_id", v.writer.request_id}, {"access_key", v.writer.access_key},
                        {"remote", v.writer.remote}, {"user_agent", v.writer.user_agent}}}};
}

// Versions of one key and its recorded outcomes, oldest first.
net::awaitable<protocol::result<std::pair<std::vector<storage::object_version>,
                                          std::vector<outcome_event>>>>
key_history(context &ctx, const std::string &bucket, const std::string &key) {
    auto r_call = store_call<std::vector<storage::object_version>>(
        [&](auto done) { ctx.db.key_versions(bucket, key, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) co_return r.error();
    if (ctx.db.shared()) {
        auto list = co_await stored_events(ctx, bucket, key, 0, 0);
        co_return std::make_pair(std::move(*r), std::move(list));
    }
    co_await ensure_loaded(ctx);
    co_return std::make_pair(std::move(*r), events().query(bucket, key, 0, 0));
}

net::awaitable<response> api(context &ctx, const std::string &what) {
    std::string bucket = q(ctx, "bucket"), key = q(ctx, "key");
    if (what == "buckets") {
        auto r_call = store_call<std::vector<storage::bucket_info>>(
            [&](auto done) { ctx.db.list_buckets(std::move(done)); });
        auto r = co_await std::move(r_call);
        if (r.has_error()) co_return json_error(500, r.error().text());
        nlohmann::json arr = nlohmann::json::array();
        for (auto &b : *r) {
            arr.push_back({{"name", b.name}, {"created", iso_date_ms(b.created_ms)},
                           {"versioning", b.versioning}});
        }
        co_return json_out(arr);
    }
    if (what == "objects") {
        std::string after = q(ctx, "after");
        auto r_call = store_call<std::vector<storage::object_version>>(
            [&](auto done) { ctx.db.bucket_keys(bucket, after, 1000, std::move(done)); });
        auto r = co_await std::move(r_call);
        if (r.has_error()) co_return json_error(404, r.error().text());
        nlohmann::json arr = nlohmann::json::array();
        for (auto &v : *r) arr.push_back(version_json(v));
        co_return json_out(arr);
    }
    if (what != "versions" && what != "timeline") co_return json_error(404, "unknown API");
    auto h_call = key_history(ctx, bucket, key);
    auto h = co_await std::move(h_call);
    if (h.has_error()) co_return json_error(404, h.error().text());
    nlohmann::json arr = nlohmann::json::array();
    if (what == "versions") {
        for (auto &v : h->first) arr.push_back(version_json(v));
    } else {
        for (auto &e : build_timeline(h->first, h->second)) arr.push_back(to_json(e));
    }
    co_return json_out(arr);
}

response asset(const std::string &name) {
    for (auto &a : console_assets()) {
        if (name == a.name) {
            response r;
            r.body = std::string(a.data);
            r.set("Content-Type", std::string(a.content_type));
            r.set("Cache-Control", "no-store");
            return r;
        }
    }
    return json_error(404, "no such asset");
}

} // namespace

net::awaitable<std::optional<response>> handle_console(context &ctx, const std::string &path) {
    // Each branch awaits into a named response first: converting the awaited temporary into
    // the optional inside the co_await expression trips GCC 12 (docs/architecture.md §4).
    std::optional<response> out;
    if (path == "events") {
        response r = co_await events_list(ctx);
        out = std::move(r);
    } else if (path == "events/stream") {
        response r = co_await events_stream(ctx);
        out = std::move(r);
    } else if (path == "faults") {
        response r = co_await faults_endpoint(ctx);
        out = std::move(r);
    } else if (path == "ui" || path == "ui/") {
        out = asset("index.html");
    } else if (path.rfind("ui/", 0) == 0) {
        out = asset(path.substr(3));
    } else if (path.rfind("api/", 0) == 0) {
        std::string what = path.substr(4);
        response r = co_await api(ctx, what);
        out = std::move(r);
    }
    co_return out;
}

} // namespace ifmatch::server
