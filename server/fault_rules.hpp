// Where the fault rules (D10, faults.hpp) live: in this process's registry, or, when the store is
// shared by several processes (docs/shared-mode.md), in the store's rows, so a rule arranged
// through one replica is used exactly `count` times by the matching requests on whichever
// replicas they land. Callers go through these functions and never ask which.
#pragma once

#include "server/faults.hpp"
#include "server/http.hpp"
#include "storage/object_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ifmatch::server {

// --fault-rules local: a shared store's processes keep their rules themselves, as one process
// does; no request asks the store (the default, shared, costs each S3 request one round trip).
void keep_fault_rules_in_store(bool on);

// Consumes one use of the first rule matching (operation, bucket, key) and answers it (a hold
// rule is answered and kept); nullopt when none, or when the shared store cannot be asked (the
// request then meets the store's own error).
net::awaitable<std::optional<fault_rule>> take_fault(storage::object_store &db,
                                                     std::string operation, std::string bucket,
                                                     std::string key);
// The same without a coroutine frame when the process keeps its rules itself: true and `out` set
// when that answered, false when the caller must co_await take_fault.
bool take_local_fault(storage::object_store &db, std::string_view operation,
                      std::string_view bucket, std::string_view key,
                      std::optional<fault_rule> &out);

// Arranges `r`; answers it with its id.
net::awaitable<protocol::result<fault_rule>> add_fault(storage::object_store &db, fault_rule r);
// Every rule, oldest first.
net::awaitable<protocol::result<std::vector<fault_rule>>> list_faults(storage::object_store &db);
// Removes rule `id`, or every rule; answers how many went.
net::awaitable<protocol::result<std::uint64_t>> remove_faults(storage::object_store &db,
                                                              std::optional<std::uint64_t> id);

} // namespace ifmatch::server
