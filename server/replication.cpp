// Replication: the configuration handler and the worker (see replication.hpp).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "server/replication.hpp"

#include "protocol/replication.hpp"
#include "protocol/tagging.hpp"
#include "server/body_pool.hpp"
#include "server/event_hub.hpp"
#include "server/fault_rules.hpp"
#include "server/handlers.hpp"
#include "server/metrics.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "storage/object_surface.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

using config_ptr = std::shared_ptr<const storage::bucket_config>;

std::string stored_config(const std::string &stored) { return stored; }

// B-R1: the source and every destination bucket have versioning Enabled, and the destinations
// exist.
net::awaitable<response> put_config(context &ctx) {
    auto load = load_bucket_config(ctx);
    auto source = co_await std::move(load);
    if (source.has_error()) {
        co_return error_response(source.error(), ctx);
    }
    if ((*source)->info.versioning != "Enabled") {
        co_return error_response(
            s3_error(s3_errc::invalid_request,
                     "Versioning must be 'Enabled' on the bucket to apply a replication "
                     "configuration"),
            ctx);
    }
    auto body_call = read_small_body(ctx, 256 * 1024);
    auto body = co_await std::move(body_call);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto parsed = protocol::parse_replication(*body);
    if (parsed.has_error()) {
        co_return error_response(parsed.error(), ctx);
    }
    for (const auto &rule : parsed->rules) {
        std::string dest = rule.destination_bucket;
        auto d_call = store_call<config_ptr>(
            [&](auto done) { ctx.db.get_bucket_config(dest, std::move(done)); });
        auto d = co_await std::move(d_call);
        if (d.has_error()) {
            co_return error_response(
                s3_error(s3_errc::invalid_request, "Destination bucket must exist."), ctx);
        }
        if ((*d)->info.versioning != "Enabled") {
            co_return error_response(
                s3_error(s3_errc::invalid_request,
                         "Destination bucket must have versioning enabled."),
                ctx);
        }
    }
    std::string stored = protocol::render_replication(*parsed);
    co_return co_await write_setting(ctx, replication_setting, stored, 200);
}

std::string status_of(const storage::object_version &v) {
    for (const auto &[k, val] : v.meta.extra) {
        if (k == replication_status_entry) return val;
    }
    return {};
}

protocol::tag_set tags_of(const storage::object_version &v) {
    for (const auto &[k, val] : v.meta.extra) {
        if (k == storage::extra_tags) return protocol::decode_tags(val);
    }
    return {};
}

// Copies the bytes of `segments` into a new body of `db`.
bool copy_body(storage::object_store &db, const std::vector<storage::body_segment> &segments,
               storage::staged_body &out) {
    auto sink = db.new_body();
    std::string buf;
    for (const auto &seg : segments) {
        if (!seg.source) {
            if (!sink->append(seg.inline_data)) return false;
            continue;
        }
        for (std::uint64_t off = 0; off < seg.size;) {
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(seg.size - off, 1 << 20));
            buf.resize(n);
            if (!seg.source->read_at(off, buf.data(), n) || !sink->append(buf)) return false;
            off += n;
        }
    }
    out = sink->release();
    return true;
}

// The replica's version id: its source's, unless the source's is a suspended bucket's "null".
std::string replica_version_id(const storage::object_version &v) {
    return v.version_id == "null" ? std::string() : v.version_id;
}

// Whether `dest` already holds the replica of `v`: a pass that wrote it but stopped before marking
// the source finds it there. A marker reads as a version whose delete_marker is set.
net::awaitable<bool> replica_present(storage::object_store &db, const std::string &dest,
                                     const storage::object_version &v) {
    if (v.version_id == "null") {
        co_return false;
    }
    storage::get_request probe{dest, v.key, v.version_id, false, false};
    auto p_call = store_call<storage::object_read>(
        [&](auto done) { db.get_object(std::move(probe), std::move(done)); });
    auto p = co_await std::move(p_call);
    co_return p.has_value();
}

storage::writer_identity replication_writer(const std::string &src_bucket,
                                            const storage::object_version &v) {
    return {"replication:" + src_bucket + ":" + v.version_id, "replication", "",
            "ifmatch-replication"};
}

// Writes the replica of the object version `v` into `dest`; true when it committed.
net::awaitable<bool> write_object_replica(storage::object_store &db, const std::string &src_bucket,
                                          const storage::object_version &v,
                                          const std::string &dest) {
    storage::get_request g{src_bucket, v.key, v.version_id, true, false};
    auto s_call = store_call<storage::object_read>(
        [&](auto done) { db.get_object(std::move(g), std::move(done)); });
    auto s = co_await std::move(s_call);
    if (s.has_error()) {
        co_return false;
    }
    storage::put_request pr;
    bool copied = false;
    // The bytes are read and staged on the body thread, never on an I/O thread.
    auto copy_call = on_body_thread([&] { copied = copy_body(db, s->segments, pr.body); });
    co_await std::move(copy_call);
    if (!copied) {
        co_return false;
    }
    pr.bucket = dest;
    pr.key = v.key;
    pr.fields.etag = v.etag;
    pr.fields.size = v.size;
    pr.fields.meta = v.meta;
    std::erase_if(pr.fields.meta.extra,
                  [](const auto &e) { return e.first == replication_status_entry; });
    pr.fields.meta.extra.emplace_back(replication_status_entry, "REPLICA");
    pr.fields.parts_count = v.parts_count;
    pr.fields.version_id = replica_version_id(v);
    pr.fields.writer = replication_writer(src_bucket, v);
    pr.start = db.start();
    auto w_call = store_decide<storage::write_result>(
        [&](auto done) { db.put_object(std::move(pr), std::move(done)); });
    auto w = co_await std::move(w_call);
    co_return w.value.has_value();
}

// Writes the replica of the delete marker `v` into `dest` (B-R3): a delete without a version id,
// whose marker keeps the source marker's version id; true when it committed.
net::awaitable<bool> write_marker_replica(storage::object_store &db, const std::string &src_bucket,
                                          const storage::object_version &v,
                                          const std::string &dest) {
    storage::delete_request d;
    d.bucket = dest;
    d.key = v.key;
    d.start = db.start();
    d.writer = replication_writer(src_bucket, v);
    d.marker_extra = {{replication_status_entry, "REPLICA"}};
    d.marker_version_id = replica_version_id(v);
    auto d_call = store_decide<storage::delete_result>(
        [&](auto done) { db.delete_object(std::move(d), std::move(done)); });
    auto r = co_await std::move(d_call);
    co_return r.value.has_value() && r.value->delete_marker;
}

// A FAILED replication as an event of the source key (operation "Replicate").
void publish_failure(storage::object_store &db, const std::string &src_bucket,
                     const storage::object_version &v, const std::string &why) {
    outcome_event e;
    e.time_ms = db.now_ms();
    e.request_id = "replication:" + src_bucket + ":" + v.version_id;
    e.access_key = "replication";
    e.operation = std::string(replicate_operation);
    e.bucket = src_bucket;
    e.key = v.key;
    e.status = 500;
    e.code = "ReplicationFailed";
    e.conditions.emplace_back("versionId", v.version_id);
    e.failed_condition = why;
    events().publish(std::move(e), db);
}

// Writes the replica of `v` (a version or delete marker of `src_bucket`) into `dest`, unless
// `fail` (a fault rule) says otherwise, and marks the source COMPLETED or FAILED.
net::awaitable<bool> replicate(storage::object_store &db, std::string src_bucket,
                               storage::object_version v, std::string dest,
                               std::string fail) {
    bool ok = false;
    std::string why = fail;
    if (why.empty()) {
        auto dc_call = store_call<config_ptr>(
            [&](auto done) { db.get_bucket_config(dest, std::move(done)); });
        auto dc = co_await std::move(dc_call);
        if (dc.has_error() || (*dc)->info.versioning != "Enabled") {
            why = "destination bucket " + dest +
                  (dc.has_error() ? " does not exist" : " is not versioned");
        }
    }
    if (why.empty()) {
        auto present_call = replica_present(db, dest, v);
        ok = co_await std::move(present_call);
        if (!ok && v.delete_marker) {
            auto m_call = write_marker_replica(db, src_bucket, v, dest);
            ok = co_await std::move(m_call);
        } else if (!ok) {
            auto o_call = write_object_replica(db, src_bucket, v, dest);
            ok = co_await std::move(o_call);
        }
        if (!ok) {
            why = "destination bucket " + dest + " refused the replica";
        }
    }
    storage::version_extra_request mark;
    mark.bucket = src_bucket;
    mark.key = v.key;
    mark.version_id = v.version_id;
    mark.name = replication_status_entry;
    mark.value = ok ? "COMPLETED" : "FAILED";
    mark.expect.emplace_back(replication_status_entry, "PENDING");
    mark.marker_allowed = true;
    auto m_call = store_call<storage::object_version>(
        [&](auto done) { db.set_version_extra(std::move(mark), std::move(done)); });
    auto marked = co_await std::move(m_call);
    if (!ok && marked.has_value()) {
        publish_failure(db, src_bucket, v, why);
    }
    count_replication(ok, db.now_ms() - v.last_modified_ms);
    co_return ok;
}

std::atomic<bool> g_running{false};

struct running_guard {
    ~running_guard() { g_running = false; }
};

} // namespace

net::awaitable<response> handle_replication_config(context &ctx) {
    switch (ctx.target.operation) {
    case protocol::op::get_bucket_replication:
        co_return co_await get_setting(ctx, replication_setting,
                                       s3_errc::replication_configuration_not_found,
                                       stored_config);
    case protocol::op::delete_bucket_replication:
        co_return co_await write_setting(ctx, replication_setting, "", 204);
    default:
        co_return co_await put_config(ctx);
    }
}

storage::string_pairs marker_replication_entries(const storage::bucket_config &c,
                                                 std::string_view key) {
    auto stored = setting(c.settings, replication_setting);
    if (stored.empty()) {
        return {};
    }
    auto cfg = protocol::parse_replication(stored);
    if (cfg.has_error()) {
        return {};
    }
    const auto *rule = protocol::replication_rule_for(*cfg, key, {});
    if (rule == nullptr || !rule->delete_marker_replication) {
        return {};
    }
    return {{replication_status_entry, "PENDING"}};
}

net::awaitable<replication_report> run_replication(storage::object_store &db,
                                                   std::int64_t delay_ms) {
    replication_report rep;
    if (g_running.exchange(true)) {
        co_return rep;
    }
    running_guard guard;
    auto b_call = store_call<std::vector<storage::bucket_info>>(
        [&](auto done) { db.list_buckets(std::move(done)); });
    auto buckets = co_await std::move(b_call);
    if (buckets.has_error()) {
        co_return rep;
    }
    for (const auto &b : *buckets) {
        std::string name = b.name;
        auto c_call = store_call<config_ptr>(
            [&](auto done) { db.get_bucket_config(name, std::move(done)); });
        auto c = co_await std::move(c_call);
        if (c.has_error()) continue;
        auto stored = setting((*c)->settings, replication_setting);
        if (stored.empty()) continue;
        auto cfg = protocol::parse_replication(stored);
        if (cfg.has_error()) continue;
        storage::list_versions_request req;
        req.bucket = name;
        for (;;) {
            auto l_call = store_call<storage::list_versions_page>(
                [&](auto done) { db.list_versions(req, std::move(done)); });
            auto page = co_await std::move(l_call);
            if (page.has_error()) break;
            for (auto &v : page->versions) {
                if (status_of(v) != "PENDING") continue;
                ++rep.pending;
                if (db.now_ms() - v.last_modified_ms < delay_ms) continue;
                std::string fail;
                auto f_call = take_fault(db, std::string(replicate_operation), name, v.key);
                if (auto f = co_await std::move(f_call)) {
                    if (f->kind == fault_kind::hold) continue; // held while the rule stands
                    fail = "fault #" + std::to_string(f->id);
                }
                const auto *rule = protocol::replication_rule_for(
                    *cfg, v.key, v.delete_marker ? protocol::tag_set{} : tags_of(v));
                std::string dest = rule ? rule->destination_bucket : std::string();
                auto r_call = replicate(db, name, v, dest, fail);
                bool done = co_await std::move(r_call);
                ++(done ? rep.completed : rep.failed);
            }
            if (!page->truncated) break;
            req.key_marker = page->next_key_marker;
            req.version_id_marker = page->next_version_id_marker;
        }
    }
    set_replication_pending(static_cast<std::int64_t>(rep.pending - rep.completed - rep.failed));
    co_return rep;
}

void start_replication_schedule(net::any_io_executor ex, storage::object_store &db,
                                std::int64_t delay_ms, const std::atomic<bool> &stopping) {
    auto loop = [](net::any_io_executor e, storage::object_store &store, std::int64_t delay,
                   const std::atomic<bool> &stop) -> net::awaitable<void> {
        net::steady_timer timer(e);
        while (!stop.load()) {
            timer.expires_after(std::chrono::milliseconds(100));
            auto wait_call = timer.async_wait(net::as_tuple(net::use_awaitable));
            auto [ec] = co_await std::move(wait_call);
            if (ec || stop.load()) {
                co_return;
            }
            // Processes sharing one store take turns (docs/shared-mode.md).
            auto lead_call = store_call<bool>(
                [&](auto done) { store.lead("replication", 5000, std::move(done)); });
            auto leads = co_await std::move(lead_call);
            if (leads.has_error() || !*leads) {
                continue;
            }
            auto pass_call = run_replication(store, delay);
            co_await std::move(pass_call);
        }
    };
    net::co_spawn(ex, loop(ex, db, delay_ms, stopping), net::detached);
}

} // namespace ifmatch::server
