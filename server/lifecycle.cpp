// The lifecycle worker (see lifecycle.hpp).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "server/lifecycle.hpp"

#include "protocol/etag.hpp"
#include "protocol/lifecycle.hpp"
#include "protocol/tagging.hpp"
#include "server/event_hub.hpp"
#include "server/metrics.hpp"
#include "server/store_calls.hpp"
#include "storage/object_surface.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace ifmatch::server {

namespace {

protocol::tag_set tags_of(const storage::object_version &v) {
    for (const auto &[k, val] : v.meta.extra) {
        if (k == storage::extra_tags) {
            return protocol::decode_tags(val);
        }
    }
    return {};
}

// A request id of its own for every action, `lifecycle:<rule id>:<n>` (events are told apart by
// request id, also after a restart).
std::string action_id(const std::string &rule_id, std::int64_t now_ms) {
    static std::atomic<std::uint64_t> n{0};
    return "lifecycle:" + rule_id + ":" + std::to_string(now_ms) + "-" + std::to_string(++n);
}

storage::writer_identity lifecycle_writer(const std::string &request_id) {
    return {request_id, "lifecycle", "", "ifmatch-lifecycle"};
}

// One pass over one bucket.
class bucket_pass {
public:
    bucket_pass(storage::object_store &db, std::string bucket, protocol::lifecycle_config cfg,
                lifecycle_report &report)
        : db_(db), bucket_(std::move(bucket)), cfg_(std::move(cfg)), report_(report),
          now_(db.now_ms()) {}

    net::awaitable<void> run() {
        // Taken before anything is read: a client write that commits after it makes the
        // worker's conditional delete of what it judged a 409 (D3), never a silent removal.
        start_ = db_.start();
        if (acts_on_versions()) {
            co_await versions();
        }
        if (aborts_uploads()) {
            co_await uploads();
        }
    }

private:
    bool acts_on_versions() const {
        for (const auto &r : cfg_.rules) {
            if (r.enabled && (r.expiration_days || r.expiration_date_ms ||
                              r.expired_object_delete_marker || r.noncurrent_days)) {
                return true;
            }
        }
        return false;
    }
    bool aborts_uploads() const {
        for (const auto &r : cfg_.rules) {
            if (r.enabled && r.abort_upload_days) return true;
        }
        return false;
    }

    // Every version of the bucket, one key at a time (a key's versions newest first).
    net::awaitable<void> versions() {
        storage::list_versions_request req;
        req.bucket = bucket_;
        req.max_keys = 1000;
        std::vector<storage::object_version> key_versions;
        for (;;) {
            auto page_call = store_call<storage::list_versions_page>(
                [&](auto done) { db_.list_versions(req, std::move(done)); });
            auto page = co_await std::move(page_call);
            if (page.has_error()) {
                co_return;
            }
            for (auto &v : page->versions) {
                if (!key_versions.empty() && key_versions.front().key != v.key) {
                    co_await one_key(key_versions);
                    key_versions.clear();
                }
                key_versions.push_back(std::move(v));
            }
            if (!page->truncated) {
                break;
            }
            req.key_marker = page->next_key_marker;
            req.version_id_marker = page->next_version_id_marker;
        }
        if (!key_versions.empty()) {
            co_await one_key(key_versions);
        }
    }

    // The event of one committed action: what `ifmatch explain` and the console show.
    outcome_event action_event(const std::string &request_id, const char *operation,
                               const std::string &key, const std::string &rule) const {
        outcome_event e;
        e.time_ms = db_.now_ms();
        e.request_id = request_id;
        e.access_key = "lifecycle";
        e.operation = operation;
        e.bucket = bucket_;
        e.key = key;
        e.status = 204;
        e.failed_condition = "lifecycle rule " + rule;
        return e;
    }

    net::awaitable<bool> remove(const std::string &key, std::optional<std::string> version_id,
                                std::optional<std::string> if_match, const std::string &rule,
                                const char *operation, bool only_noncurrent,
                                storage::start_token start) {
        storage::delete_request d;
        d.bucket = bucket_;
        d.key = key;
        d.version_id = std::move(version_id);
        if (if_match) {
            d.conditions.if_match = protocol::parse_etag_list(*if_match);
        }
        d.start = start;
        d.only_noncurrent = only_noncurrent;
        d.by_lifecycle = true;
        const std::string request_id = action_id(rule, db_.now_ms());
        d.writer = lifecycle_writer(request_id);
        const auto removed_version = d.version_id;
        auto r_call = store_decide<storage::delete_result>(
            [&](auto done) { db_.delete_object(std::move(d), std::move(done)); });
        auto outcome = co_await std::move(r_call);
        if (outcome.value.has_error()) {
            if (protocol::is_refusal(outcome.value.error().code)) {
                ++report_.lost_races; // a client's write came first; the next pass decides again
            }
            co_return false;
        }
        auto e = action_event(request_id, operation, key, rule);
        if (removed_version) {
            e.conditions.emplace_back("versionId", *removed_version);
        }
        auto cur_call = store_call<storage::current_state>(
            [&](auto done) { db_.current_state_of(bucket_, key, std::move(done)); });
        auto cur = co_await std::move(cur_call);
        if (cur.has_value()) {
            e.current = *cur;
        }
        events().publish(std::move(e), db_);
        co_return true;
    }

    // B-C1 (current), B-C2 (noncurrent), B-C3 (the delete marker left alone). The current
    // version is judged first: the worker's own removals of noncurrent versions are writes of the
    // key, which would make its conditional delete of the current one a 409 (written since).
    net::awaitable<void> one_key(std::vector<storage::object_version> &vs) {
        const std::string key = vs.front().key;
        const auto &cur = vs.front();
        if (cur.is_latest && !cur.delete_marker) {
            auto expiry =
                protocol::current_expiry(cfg_, key, cur.size, tags_of(cur), cur.last_modified_ms);
            if (expiry && expiry->due_ms <= now_) {
                // Conditional on the version judged: a client's write that committed since wins.
                auto removed_call = remove(key, std::nullopt, cur.etag, expiry->rule_id,
                                           "LifecycleExpiration", false, start_);
                if (co_await std::move(removed_call)) {
                    ++report_.expired_current;
                    count_lifecycle(lifecycle_action::expire_current);
                }
            }
        }
        std::size_t left = vs.size();
        // Noncurrent versions: their age counts from when they stopped being current, the
        // Last-Modified of the next newer version (or their own, when a version ranked above
        // them arrived earlier: D11).
        std::size_t noncurrent_index = 0;
        for (std::size_t i = 1; i < vs.size(); ++i) {
            const auto &v = vs[i];
            const std::int64_t since = std::max(vs[i - 1].last_modified_ms, v.last_modified_ms);
            const auto tags = tags_of(v);
            for (const auto &r : cfg_.rules) {
                if (!r.enabled || !r.noncurrent_days ||
                    !protocol::lifecycle_applies(r, key, v.size, tags)) {
                    continue;
                }
                if (r.newer_noncurrent_versions &&
                    noncurrent_index < static_cast<std::size_t>(*r.newer_noncurrent_versions)) {
                    continue; // one of the newest noncurrent versions the rule keeps
                }
                if (protocol::lifecycle_due_ms(since, *r.noncurrent_days) > now_) {
                    continue;
                }
                auto removed_call = remove(key, v.version_id, std::nullopt, r.id,
                                           "LifecycleExpireNoncurrent", true, start_);
                if (co_await std::move(removed_call)) {
                    ++report_.expired_noncurrent;
                    count_lifecycle(lifecycle_action::expire_noncurrent);
                    --left;
                }
                break;
            }
            ++noncurrent_index;
        }
        if (!cur.is_latest || !cur.delete_marker || left != 1) {
            co_return;
        }
        const std::string marker_id = cur.version_id;
        if (left != vs.size()) {
            // This pass removed the versions under the marker: read the key again to see the
            // marker alone, as a later pass would.
            auto again_call = store_call<std::vector<storage::object_version>>(
                [&](auto done) { db_.key_versions(bucket_, key, std::move(done)); });
            auto again = co_await std::move(again_call);
            if (again.has_error() || again->size() != 1 ||
                (*again)[0].version_id != marker_id || !(*again)[0].delete_marker) {
                co_return;
            }
        }
        for (const auto &r : cfg_.rules) {
            if (r.enabled && r.expired_object_delete_marker &&
                protocol::lifecycle_applies(r, key, 0, {})) {
                auto removed_call = remove(key, marker_id, std::nullopt, r.id,
                                           "LifecycleRemoveDeleteMarker", false, start_);
                if (co_await std::move(removed_call)) {
                    ++report_.removed_delete_markers;
                    count_lifecycle(lifecycle_action::remove_delete_marker);
                }
                break;
            }
        }
    }

    // B-C4.
    net::awaitable<void> uploads() {
        storage::list_uploads_request req;
        req.bucket = bucket_;
        for (;;) {
            auto page_call = store_call<storage::list_uploads_page>(
                [&](auto done) { db_.list_uploads(req, std::move(done)); });
            auto page = co_await std::move(page_call);
            if (page.has_error()) {
                co_return;
            }
            for (const auto &u : page->uploads) {
                for (const auto &r : cfg_.rules) {
                    if (!r.enabled || !r.abort_upload_days ||
                        !protocol::lifecycle_applies(r, u.key, 0, {}) ||
                        protocol::lifecycle_due_ms(u.initiated_ms, *r.abort_upload_days) > now_) {
                        continue;
                    }
                    auto abort_call = store_call<bool>([&](auto done) {
                        db_.abort_upload(bucket_, u.key, u.upload_id, std::move(done));
                    });
                    auto aborted = co_await std::move(abort_call);
                    if (aborted.has_value()) {
                        ++report_.aborted_uploads;
                        count_lifecycle(lifecycle_action::abort_upload);
                        auto e = action_event(action_id(r.id, db_.now_ms()),
                                              "LifecycleAbortMultipartUpload", u.key, r.id);
                        e.conditions.emplace_back("uploadId", u.upload_id);
                        events().publish(std::move(e), db_);
                    }
                    break;
                }
            }
            if (!page->truncated) {
                break;
            }
            req.key_marker = page->next_key_marker;
            req.upload_id_marker = page->next_upload_id_marker;
        }
    }

    storage::object_store &db_;
    std::string bucket_;
    protocol::lifecycle_config cfg_;
    lifecycle_report &report_;
    std::int64_t now_;
    storage::start_token start_;
};

std::atomic<bool> g_running{false};

} // namespace

std::optional<std::string> expiration_header_of(const storage::bucket_config &c,
                                                const storage::object_version &v) {
    if (v.delete_marker) {
        return std::nullopt;
    }
    for (const auto &[k, stored] : c.settings) {
        if (k != lifecycle_setting || stored.empty()) {
            continue;
        }
        auto cfg = protocol::parse_lifecycle(stored);
        if (cfg.has_error()) {
            return std::nullopt;
        }
        auto e = protocol::current_expiry(*cfg, v.key, v.size, tags_of(v), v.last_modified_ms);
        if (!e) {
            return std::nullopt;
        }
        return protocol::expiration_header(*e);
    }
    return std::nullopt;
}

net::awaitable<lifecycle_report> run_lifecycle(storage::object_store &db) {
    // One pass at a time: wait for a running one (its writes are committed when it ends).
    auto ex = co_await net::this_coro::executor;
    net::steady_timer wait(ex);
    for (bool expected = false; !g_running.compare_exchange_strong(expected, true);
         expected = false) {
        wait.expires_after(std::chrono::milliseconds(5));
        auto wait_call = wait.async_wait(net::use_awaitable);
        co_await std::move(wait_call);
    }
    lifecycle_report report;
    try {
        auto list_call = store_call<std::vector<storage::bucket_info>>(
            [&](auto done) { db.list_buckets(std::move(done)); });
        auto buckets = co_await std::move(list_call);
        if (buckets.has_value()) {
            for (const auto &b : *buckets) {
                auto cfg_call = store_call<std::shared_ptr<const storage::bucket_config>>(
                    [&](auto done) { db.get_bucket_config(b.name, std::move(done)); });
                auto cfg = co_await std::move(cfg_call);
                if (cfg.has_error()) {
                    continue;
                }
                std::string stored;
                for (const auto &[k, v] : (*cfg)->settings) {
                    if (k == lifecycle_setting) stored = v;
                }
                if (stored.empty()) {
                    continue;
                }
                auto parsed = protocol::parse_lifecycle(stored);
                if (parsed.has_error()) {
                    continue;
                }
                bucket_pass pass(db, b.name, std::move(*parsed), report);
                auto run_call = pass.run();
                co_await std::move(run_call);
            }
        }
    } catch (...) {
        g_running = false;
        throw;
    }
    g_running = false;
    co_return report;
}

void start_lifecycle_schedule(net::any_io_executor ex, storage::object_store &db,
                              int interval_seconds, const std::atomic<bool> &stopping) {
    if (interval_seconds <= 0) {
        return;
    }
    auto loop = [](net::any_io_executor e, storage::object_store &store, int seconds,
                   const std::atomic<bool> &stop) -> net::awaitable<void> {
        net::steady_timer timer(e);
        while (!stop.load()) {
            timer.expires_after(std::chrono::seconds(seconds));
            auto wait_call = timer.async_wait(net::as_tuple(net::use_awaitable));
            auto [ec] = co_await std::move(wait_call);
            if (ec || stop.load()) {
                co_return;
            }
            // Processes sharing one store take turns: one pass per interval, whoever leads.
            auto lead_call = store_call<bool>([&](auto done) {
                store.lead("lifecycle", std::int64_t{seconds} * 2000 - 1000, std::move(done));
            });
            auto leads = co_await std::move(lead_call);
            if (leads.has_error() || !*leads) {
                continue;
            }
            auto pass_call = run_lifecycle(store);
            co_await std::move(pass_call);
        }
    };
    net::co_spawn(ex, loop(ex, db, interval_seconds, stopping), net::detached);
}

} // namespace ifmatch::server
