// The request path's cache of bucket configurations and hot objects (see read_cache.hpp).
#include "storage/sqlite/read_cache.hpp"

#include <unordered_set>

namespace ifmatch::storage::sqlite {

namespace {

constexpr std::size_t max_buckets = 4096;
constexpr std::size_t max_objects = 65536;

bool qualifies(const cached_object &o) {
    const auto &v = o.version;
    return v.is_latest && !v.delete_marker && o.body.size() == v.size &&
           v.size <= (1u << 20);
}

} // namespace

std::string read_cache::object_key(std::string_view bucket, std::string_view key) {
    std::string k;
    k.reserve(bucket.size() + 1 + key.size());
    k.append(bucket);
    k.push_back('\0'); // a bucket name never contains NUL
    k.append(key);
    return k;
}

std::uint64_t read_cache::generation() const {
    std::lock_guard lk(mu_);
    return generation_;
}

std::shared_ptr<const bucket_config> read_cache::bucket(const std::string &name) const {
    std::lock_guard lk(mu_);
    auto it = buckets_.find(name);
    return it == buckets_.end() ? nullptr : it->second;
}

void read_cache::offer_bucket(const std::string &name, std::shared_ptr<const bucket_config> c,
                              std::uint64_t generation) {
    std::lock_guard lk(mu_);
    if (generation != generation_) {
        return;
    }
    if (buckets_.size() >= max_buckets) {
        buckets_.clear(); // crude, and rare: entries refill on demand
    }
    buckets_[name] = std::move(c);
}

std::shared_ptr<const cached_object> read_cache::object(const std::string &bucket,
                                                        const std::string &key) const {
    auto k = object_key(bucket, key);
    std::lock_guard lk(mu_);
    auto it = objects_.find(k);
    return it == objects_.end() ? nullptr : it->second;
}

void read_cache::offer_object(std::shared_ptr<const cached_object> o, std::uint64_t generation) {
    if (!o || !qualifies(*o)) {
        return;
    }
    auto k = object_key(o->version.bucket, o->version.key);
    std::lock_guard lk(mu_);
    if (generation != generation_) {
        return;
    }
    insert_locked(std::move(k), std::move(o));
}

void read_cache::insert_locked(std::string k, std::shared_ptr<const cached_object> o) {
    erase_locked(k);
    std::size_t size = o->body.size() + k.size();
    if (size > max_bytes_ / 4) {
        return;
    }
    while (!objects_.empty() && (bytes_ + size > max_bytes_ || objects_.size() >= max_objects)) {
        auto victim = objects_.begin();
        bytes_ -= victim->second->body.size() + victim->first.size();
        objects_.erase(victim);
    }
    bytes_ += size;
    objects_.emplace(std::move(k), std::move(o));
}

void read_cache::erase_locked(const std::string &k) {
    auto it = objects_.find(k);
    if (it != objects_.end()) {
        bytes_ -= it->second->body.size() + it->first.size();
        objects_.erase(it);
    }
}

void read_cache::apply(const std::vector<cache_change> &changes) {
    if (changes.empty()) {
        return;
    }
    std::lock_guard lk(mu_);
    ++generation_;
    // The last change of a key decides its entry: walk backwards, once per key.
    std::unordered_set<std::string> decided;
    for (auto c = changes.rbegin(); c != changes.rend(); ++c) {
        if (c->key.empty()) {
            buckets_.erase(c->bucket);
            continue;
        }
        auto k = object_key(c->bucket, c->key);
        if (objects_.find(k) == objects_.end()) {
            continue; // only keys already hot are refreshed by writes (and none is added here)
        }
        if (!decided.insert(k).second) {
            continue;
        }
        if (c->now) {
            auto o = std::make_shared<cached_object>();
            o->version = *c->now;
            o->body.assign(c->body);
            if (qualifies(*o)) {
                insert_locked(std::move(k), std::move(o));
                continue;
            }
        }
        erase_locked(k);
    }
}

bool read_cache::holds(const std::string &bucket, const std::string &key) const {
    auto k = object_key(bucket, key);
    std::lock_guard lk(mu_);
    return objects_.count(k) != 0;
}

std::size_t read_cache::object_count() const {
    std::lock_guard lk(mu_);
    return objects_.size();
}

} // namespace ifmatch::storage::sqlite
