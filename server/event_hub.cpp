// The event hub: ring, subscribers and persistence batches. See event_hub.hpp.
#include "server/event_hub.hpp"

#include <set>

namespace ifmatch::server {

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

} // namespace ifmatch::server
