// Replication (B-R1..B-R4, docs/bucket-configuration.md): PutBucketReplication's configuration
// and the worker that writes replicas. A new version in a bucket whose enabled rule applies to
// its key is marked `x-amz-replication-status: PENDING` by the write itself (server/surface.cpp);
// so is a client's delete marker when the rule has DeleteMarkerReplication (B-R3);
// the worker finds PENDING versions in the store (so pending work survives a restart), writes the
// replica into the destination bucket through the ordinary decision path -- writer
// `replication`, the source's version id, ETag, metadata, tags and lock, status REPLICA -- and
// marks the source COMPLETED, or FAILED when the destination refuses. A client's conditional
// write to the destination that races a replica meets it like any other writer's (412 / 409),
// and the event names the replication as the last writer.
#pragma once

#include "server/http.hpp"
#include "storage/object_store.hpp"

#include <atomic>
#include <cstdint>

namespace ifmatch::server {

struct context;

// The bucket setting holding a configuration (protocol::render_replication's document).
inline constexpr const char *replication_setting = "replication";
// The version entry (meta.extra, echoed as the header) with PENDING / COMPLETED / FAILED / REPLICA.
inline constexpr const char *replication_status_entry = "x-amz-replication-status";

// The meta.extra entries of a delete marker that a client's delete without a version id creates
// in a bucket with configuration `c` (B-R3): PENDING when the enabled rule for the key (a marker
// has no tags) replicates delete markers, else none. Lifecycle markers never replicate.
storage::string_pairs marker_replication_entries(const storage::bucket_config &c,
                                                 std::string_view key);

// GetBucketReplication, PutBucketReplication (B-R1 validation), DeleteBucketReplication.
net::awaitable<response> handle_replication_config(context &ctx);

struct replication_report {
    std::uint64_t completed = 0, failed = 0, pending = 0;
};

// One pass: every PENDING version at least `delay_ms` old (on the store's clock) is replicated.
// Passes never overlap.
net::awaitable<replication_report> run_replication(storage::object_store &db,
                                                   std::int64_t delay_ms);

// A pass every 100 ms on `ex` while some bucket replicates, until `stopping` is set.
void start_replication_schedule(net::any_io_executor ex, storage::object_store &db,
                                std::int64_t delay_ms, const std::atomic<bool> &stopping);

} // namespace ifmatch::server
