// Workers, spare connections and the snapshot thread (see pool.hpp).
#include "storage/postgres/pool.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <chrono>

namespace ifmatch::storage::postgres {

pool::pool(std::string uri, int workers) : uri_(std::move(uri)) {
    for (int i = 0; i < std::max(1, workers); ++i) {
        threads_.emplace_back([this] { work(); });
    }
}

pool::~pool() { close(); }

void pool::submit(job j) {
    {
        std::lock_guard lk(m_);
        if (!stopping_) {
            jobs_.push_back(std::move(j));
            cv_.notify_one();
            return;
        }
    }
    std::unique_ptr<connection> none;
    j(none); // closed: answered as unavailable
}

void pool::close() {
    {
        std::lock_guard lk(m_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto &t : threads_) {
        if (t.joinable()) t.join();
    }
    closed_ = true;
    std::lock_guard lk(spare_m_);
    spare_.clear();
}

void pool::work() {
    std::unique_ptr<connection> c;
    for (;;) {
        job j;
        {
            std::unique_lock lk(m_);
            cv_.wait(lk, [&] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) {
                return;
            }
            j = std::move(jobs_.front());
            jobs_.pop_front();
        }
        if (!c || !c->ok()) {
            c.reset();
            try {
                c = take();
                healthy_ = true;
            } catch (const pg_error &) {
                healthy_ = false;
            }
        }
        j(c);
        if (c && !c->ok()) {
            c.reset();
        }
        if (c) {
            assert(!c->has_queued() && "a job left statements queued on its connection");
            c->discard();
        }
    }
}

std::unique_ptr<connection> pool::take() {
    {
        std::lock_guard lk(spare_m_);
        while (!spare_.empty()) {
            auto c = std::move(spare_.back());
            spare_.pop_back();
            if (c->ok()) return c;
        }
    }
    return std::make_unique<connection>(uri_);
}

void pool::give(std::unique_ptr<connection> c) {
    if (!c || !c->ok() || closed_) {
        return;
    }
    std::lock_guard lk(spare_m_);
    if (spare_.size() < 8) {
        spare_.push_back(std::move(c));
    }
}

bool snapshot::sees(std::uint64_t xid) const {
    if (xid < xmin) return true;
    if (xid >= xmax) return false;
    return std::find(xip.begin(), xip.end(), xid) == xip.end();
}

snapshot snapshot::parse(std::string_view text) {
    snapshot s;
    auto num = [&](std::string_view &t) {
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        t.remove_prefix(static_cast<std::size_t>(p - t.data()));
        if (!t.empty() && (t.front() == ':' || t.front() == ',')) t.remove_prefix(1);
        return v;
    };
    s.xmin = num(text);
    s.xmax = num(text);
    while (!text.empty()) {
        s.xip.push_back(num(text));
    }
    return s;
}

bool pending_snapshot::wait(int ms) {
    std::unique_lock lk(m);
    cv.wait_for(lk, std::chrono::milliseconds(ms), [&] { return ready; });
    return ready && !failed;
}

snapshot_service::snapshot_service(std::string uri) : uri_(std::move(uri)) {
    thread_ = std::thread([this] { run(); });
}

snapshot_service::~snapshot_service() { close(); }

std::shared_ptr<pending_snapshot> snapshot_service::request() {
    auto p = std::make_shared<pending_snapshot>();
    std::lock_guard lk(m_);
    if (stopping_) {
        p->ready = p->failed = true;
        return p;
    }
    waiting_.push_back(p);
    cv_.notify_one();
    return p;
}

void snapshot_service::close() {
    {
        std::lock_guard lk(m_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void snapshot_service::run() {
    std::unique_ptr<connection> c;
    for (;;) {
        std::vector<std::shared_ptr<pending_snapshot>> batch;
        {
            std::unique_lock lk(m_);
            cv_.wait(lk, [&] { return stopping_ || !waiting_.empty(); });
            batch.swap(waiting_);
            if (stopping_ && batch.empty()) {
                return;
            }
        }
        // Every token in the batch was requested before this statement is sent.
        bool ok = false;
        snapshot s;
        for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
            try {
                if (!c || !c->ok()) c = std::make_unique<connection>(uri_);
                auto r = c->run("SELECT pg_current_snapshot()::text");
                s = snapshot::parse(r.view(0, 0));
                ok = true;
            } catch (const pg_error &) {
                c.reset();
            }
        }
        for (auto &p : batch) {
            std::lock_guard lk(p->m);
            p->snap = s;
            p->failed = !ok;
            p->ready = true;
            p->cv.notify_all();
        }
    }
}

} // namespace ifmatch::storage::postgres
