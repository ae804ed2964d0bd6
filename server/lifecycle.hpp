// The lifecycle worker (B-C1..B-C4, docs/bucket-configuration.md): one pass over every bucket that
// has a lifecycle configuration, on the store's clock. It acts through storage::object_store like
// any client -- an expiration of a current version is a DeleteObject conditional on the ETag the
// worker judged, so a client write that lands first makes the worker's delete fail (and is not
// undone), and a client's conditional write that lands after it meets the delete marker or the
// absence through the ordinary decision path (412 / 404 / 409). Its writes carry the writer
// `lifecycle` with the rule id, are published as events (so `ifmatch explain` and the console
// timeline name them) and are counted in ifmatch_lifecycle_actions_total. A pass decides from the
// state it reads, so running it again (or after a restart) does nothing more.
#pragma once

#include "server/http.hpp"
#include "storage/object_store.hpp"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace ifmatch::server {

// The bucket setting holding a configuration (protocol::render_lifecycle's document).
inline constexpr const char *lifecycle_setting = "lifecycle";

// The x-amz-expiration header of `v` (the current version, as written or read) in a bucket with
// configuration `c` (B-C5); nullopt when no enabled Expiration rule applies to it.
std::optional<std::string> expiration_header_of(const storage::bucket_config &c,
                                                const storage::object_version &v);

struct lifecycle_report {
    std::uint64_t expired_current = 0;      // Expiration: delete marker (versioned) or removal
    std::uint64_t expired_noncurrent = 0;   // NoncurrentVersionExpiration
    std::uint64_t removed_delete_markers = 0; // ExpiredObjectDeleteMarker
    std::uint64_t aborted_uploads = 0;      // AbortIncompleteMultipartUpload
    std::uint64_t lost_races = 0;           // deletes refused (412/409/404): a client wrote first
    std::uint64_t kept_locked = 0;          // versions Object Lock kept (B-L7)
};

// Runs one pass; passes never overlap (a second caller waits for the running one, then runs its
// own, so what it returns reflects the clock at its call).
net::awaitable<lifecycle_report> run_lifecycle(storage::object_store &db);

// The background schedule: a pass every `interval_seconds` of real time (0: never) on `ex`, until
// `stopping` is set.
void start_lifecycle_schedule(net::any_io_executor ex, storage::object_store &db,
                              int interval_seconds, const std::atomic<bool> &stopping);

} // namespace ifmatch::server
