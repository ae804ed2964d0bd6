// The event hub, outcome recording and explain headers (spec D9), and fault application before
// a request's commit (spec D10).
#include "server/events.hpp"

#include "protocol/utf8.hpp"

#include "protocol/crypto.hpp"
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "storage/object_store.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>
#include <string_view>
#include <set>

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

constexpr const char *condition_headers[] = {
    "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
    "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
    "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-unmodified-since"};

nlohmann::json writer_json(const storage::writer_identity &w, std::int64_t ms) {
    return {{"request_id", w.request_id}, {"access_key", w.access_key},
            {"remote", w.remote}, {"user_agent", w.user_agent}, {"time_ms", ms},
            {"time", ms ? iso_date_ms(ms) : ""}};
}

// A JSON string as nlohmann's dump() writes it (ensure_ascii off); s is valid UTF-8.
void put_string(std::string &out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

// `"name":` preceded by a comma unless it opens its object.
void put_name(std::string &out, std::string_view name) {
    if (out.back() != '{') {
        out += ',';
    }
    put_string(out, name);
    out += ':';
}

void put(std::string &out, std::string_view name, std::string_view v) {
    put_name(out, name);
    put_string(out, v);
}

template <class Int> void put_int(std::string &out, std::string_view name, Int v) {
    put_name(out, name);
    out += std::to_string(v);
}

} // namespace

std::string event_json(const outcome_event &e) {
    bool plain = true;
    for (std::string_view s :
         {std::string_view(e.request_id), std::string_view(e.access_key),
          std::string_view(e.operation), std::string_view(e.bucket), std::string_view(e.key),
          std::string_view(e.code), std::string_view(e.failed_condition),
          std::string_view(e.current.etag), std::string_view(e.current.version_id),
          std::string_view(e.current.writer.request_id),
          std::string_view(e.current.writer.access_key), std::string_view(e.current.writer.remote),
          std::string_view(e.current.writer.user_agent)}) {
        plain = plain && protocol::is_utf8(s);
    }
    for (auto &[k, v] : e.conditions) {
        plain = plain && protocol::is_utf8(k) && protocol::is_utf8(v);
    }
    if (!plain) { // rare: let nlohmann replace the bytes that are not UTF-8
        return to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    // The members in the order of to_json(e).dump(): sorted by name (an object is a std::map).
    std::map<std::string_view, std::string_view> conds; // a later header replaces an earlier one
    for (auto &[k, v] : e.conditions) {
        conds[k] = v;
    }
    std::string out = "{";
    out.reserve(768);
    put(out, "access_key", e.access_key);
    put(out, "bucket", e.bucket);
    put(out, "code", e.code);
    put_name(out, "conditions");
    out += '{';
    for (auto &[k, v] : conds) {
        put_name(out, k);
        put_string(out, v);
    }
    out += '}';
    put_name(out, "current");
    out += '{';
    const auto &c = e.current;
    if (c.exists) {
        put(out, "etag", c.etag);
        put(out, "last_modified", http_date_ms(c.last_modified_ms));
        put_int(out, "last_modified_ms", c.last_modified_ms);
        put(out, "state", c.delete_marker ? "delete marker" : "object");
        put(out, "version_id", c.version_id);
        put_name(out, "writer");
        out += '{';
        put(out, "access_key", c.writer.access_key);
        put(out, "remote", c.writer.remote);
        put(out, "request_id", c.writer.request_id);
        put(out, "time", c.last_modified_ms ? iso_date_ms(c.last_modified_ms) : "");
        put_int(out, "time_ms", c.last_modified_ms);
        put(out, "user_agent", c.writer.user_agent);
        out += '}';
    } else {
        put(out, "state", "absent");
    }
    out += '}';
    put(out, "failed_condition", e.failed_condition);
    put_int(out, "id", e.id);
    put(out, "key", e.key);
    put(out, "operation", e.operation);
    put(out, "request_id", e.request_id);
    put_int(out, "status", e.status);
    put(out, "time", iso_date_ms(e.time_ms));
    put_int(out, "time_ms", e.time_ms);
    out += '}';
    return out;
}

std::string describe_current(const storage::current_state &c) {
    if (!c.exists) return "absent";
    if (c.delete_marker) return "delete marker";
    return c.etag;
}

std::string log_current(const storage::current_state &c) {
    if (!c.exists) return "absent";
    if (c.delete_marker) return "delete marker version=" + c.version_id;
    return "etag=" + c.etag + " last-modified-ms=" + std::to_string(c.last_modified_ms) +
           " version=" + c.version_id;
}

nlohmann::json to_json(const outcome_event &e) {
    nlohmann::json conds = nlohmann::json::object();
    for (auto &[k, v] : e.conditions) conds[k] = v;
    nlohmann::json cur = {{"state", !e.current.exists ? "absent"
                                    : e.current.delete_marker ? "delete marker" : "object"}};
    if (e.current.exists) {
        cur["etag"] = e.current.etag;
        cur["version_id"] = e.current.version_id;
        cur["last_modified_ms"] = e.current.last_modified_ms;
        cur["last_modified"] = http_date_ms(e.current.last_modified_ms);
        cur["writer"] = writer_json(e.current.writer, e.current.last_modified_ms);
    }
    return {{"id", e.id}, {"time_ms", e.time_ms}, {"time", iso_date_ms(e.time_ms)},
            {"request_id", e.request_id}, {"access_key", e.access_key},
            {"operation", e.operation}, {"bucket", e.bucket}, {"key", e.key},
            {"status", e.status}, {"code", e.code}, {"conditions", conds},
            {"failed_condition", e.failed_condition}, {"current", cur}};
}

outcome_event event_from_json(const nlohmann::json &j) {
    outcome_event e;
    e.id = j.value("id", std::uint64_t{0});
    e.time_ms = j.value("time_ms", std::int64_t{0});
    e.request_id = j.value("request_id", "");
    e.access_key = j.value("access_key", "");
    e.operation = j.value("operation", "");
    e.bucket = j.value("bucket", "");
    e.key = j.value("key", "");
    e.status = j.value("status", 0);
    e.code = j.value("code", "");
    e.failed_condition = j.value("failed_condition", "");
    if (j.contains("conditions") && j["conditions"].is_object()) {
        for (auto &[k, v] : j["conditions"].items()) e.conditions.emplace_back(k, v.get<std::string>());
    }
    auto cur = j.value("current", nlohmann::json::object());
    e.current.exists = cur.value("state", "absent") != "absent";
    e.current.delete_marker = cur.value("state", "") == "delete marker";
    e.current.etag = cur.value("etag", "");
    e.current.version_id = cur.value("version_id", "");
    e.current.last_modified_ms = cur.value("last_modified_ms", std::int64_t{0});
    auto w = cur.value("writer", nlohmann::json::object());
    e.current.writer.request_id = w.value("request_id", "");
    e.current.writer.access_key = w.value("access_key", "");
    e.current.writer.remote = w.value("remote", "");
    e.current.writer.user_agent = w.value("user_agent", "");
    return e;
}

// ---- hub ------------------------------------------------------------------------------------

void event_hub::publish(outcome_event e, storage::object_store &db) {
    std::vector<std::shared_ptr<subscriber>> subs;
    {
        std::lock_guard lk(mu_);
        e.id = next_id_++;
        ring_.push_back(e);
        while (ring_.size() > ring_capacity) ring_.pop_front();
        pending_.push_back(e);
        subs = subs_;
    }
    for (auto &s : subs) {
        {
            std::lock_guard lk(s->mu);
            s->queue.push_back(e);
        }
        if (s->wake) s->wake();
    }
    flush(db);
}

// One persistence job at a time; events arriving meanwhile go with the next one.
void event_hub::flush(storage::object_store &db) {
    std::vector<outcome_event> batch;
    {
        std::lock_guard lk(mu_);
        if (flushing_ || pending_.empty()) return;
        flushing_ = true;
        batch.swap(pending_);
    }
    std::vector<storage::event_row> rows;
    rows.reserve(batch.size());
    for (const auto &e : batch) {
        rows.push_back({e.time_ms, e.bucket, e.key, event_json(e)});
    }
    db.append_events(
        std::move(rows), ring_capacity, [this, &db](storage::result<bool>) {
            {
                std::lock_guard lk(mu_);
                flushing_ = false;
            }
            flush(db);
        });
}

std::vector<outcome_event> event_hub::query(const std::string &bucket, const std::string &key,
                                            int outcome, std::int64_t since) const {
    std::lock_guard lk(mu_);
    std::vector<outcome_event> out;
    for (auto &e : ring_) {
        if ((!bucket.empty() && e.bucket != bucket) || (!key.empty() && e.key != key) ||
            (outcome && e.status != outcome) || e.time_ms < since) {
            continue;
        }
        out.push_back(e);
    }
    return out;
}

bool event_hub::needs_load() const {
    std::lock_guard lk(mu_);
    return !loaded_;
}

void event_hub::load(std::vector<outcome_event> older) {
    std::lock_guard lk(mu_);
    if (loaded_) return;
    loaded_ = true;
    std::set<std::string> have; // events of this process are persisted too
    for (auto &e : ring_) have.insert(e.request_id);
    for (auto it = older.rbegin(); it != older.rend(); ++it) {
        if (ring_.size() >= ring_capacity) break;
        if (have.count(it->request_id)) continue;
        it->id = 0;
        ring_.push_front(*it);
    }
}

std::shared_ptr<event_hub::subscriber> event_hub::subscribe(std::function<void()> wake) {
    auto s = std::make_shared<subscriber>();
    s->wake = std::move(wake);
    std::lock_guard lk(mu_);
    subs_.push_back(s);
    return s;
}

void event_hub::unsubscribe(const std::shared_ptr<subscriber> &s) {
    std::lock_guard lk(mu_);
    std::erase(subs_, s);
}

event_hub &events() {
    static event_hub h;
    return h;
}

// ---- capture --------------------------------------------------------------------------------

void note_refusal(request_note &note, const s3_error &err, const storage::current_state &against) {
    auto code = err.code;
    if (code != s3_errc::precondition_failed && code != s3_errc::conditional_request_conflict &&
        code != s3_errc::no_such_key && code != s3_errc::precondition_required) {
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

// ---- faults before commit -------------------------------------------------------------------

namespace {

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

bool has_commit_hook(op o) {
    return o == op::put_object || o == op::copy_object || o == op::delete_object ||
           o == op::complete_multipart_upload;
}

} // namespace

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

// ---- recording ------------------------------------------------------------------------------

namespace {

bool is_recorded(const context &ctx, const response &res) {
    if (res.status == 304 || res.status == 412 || res.status == 409 || res.status == 428) {
        return true;
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
        if (auto f = faults().take(name, ctx.target.bucket, ctx.target.key)) {
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
