// What the request path may read without a storage thread: bucket configurations and the current
// version of hot keys with their small (inline) bodies. The store owns one read_cache; the
// writer applies each committed group's changes to it before the group's outcomes are delivered,
// so a client that saw its write acknowledged never reads an older state from here.
//
// RULES
// 1. The writer is the only source of truth: after COMMIT it drops (or, for a key that is
//    already cached and was just overwritten with an inline body, replaces) every entry the group
//    changed, and bumps the generation, all under the cache's mutex, before delivering outcomes.
// 2. A miss is filled from a reader: the caller takes generation() BEFORE its read's snapshot
//    begins and offers the result with it; the offer is dropped when any change committed in
//    between (the snapshot may predate it).
// 3. Only current, non-delete-marker versions read without a version id whose whole body is one
//    inline segment are cached; bodies total at most max_bytes (arbitrary entries are evicted).
#pragma once

#include "storage/requests.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ifmatch::storage::sqlite {

// One change a committed write job made (recorded by the job on its write_txn).
struct cache_change {
    std::string bucket;
    std::string key; // empty: the bucket's configuration changed
    // Set when the key's new current version is known with its inline body (PutObject); the body
    // view points into the job's request, alive until the job's outcome is delivered.
    std::optional<object_version> now;
    std::string_view body;
};

class read_cache {
public:
    explicit read_cache(std::size_t max_bytes = 16u << 20) : max_bytes_(max_bytes) {}

    std::uint64_t generation() const;

    std::shared_ptr<const bucket_config> bucket(const std::string &name) const;
    void offer_bucket(const std::string &name, std::shared_ptr<const bucket_config> c,
                      std::uint64_t generation);

    std::shared_ptr<const cached_object> object(const std::string &bucket,
                                                const std::string &key) const;
    // Whether the key is cached now (the writer's test before it records a refresh).
    bool holds(const std::string &bucket, const std::string &key) const;
    // Keeps `o` when it qualifies (RULE 3) and nothing changed since `generation` (RULE 2).
    void offer_object(std::shared_ptr<const cached_object> o, std::uint64_t generation);

    // The writer, after COMMIT (RULE 1).
    void apply(const std::vector<cache_change> &changes);

    std::size_t object_count() const;

private:
    static std::string object_key(std::string_view bucket, std::string_view key);
    void insert_locked(std::string k, std::shared_ptr<const cached_object> o);
    void erase_locked(const std::string &k);

    mutable std::mutex mu_;
    std::uint64_t generation_ = 0;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::unordered_map<std::string, std::shared_ptr<const bucket_config>> buckets_;
    std::unordered_map<std::string, std::shared_ptr<const cached_object>> objects_;
};

} // namespace ifmatch::storage::sqlite
