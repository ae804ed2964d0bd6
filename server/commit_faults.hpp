// Arranged faults applied at a request's commit (spec D10): a delay before the request submits
// its write, or a write or delete of its key committed by another writer just before its own.
// The rule was matched by run_observed (server/outcomes.hpp) and travels in the request's note.
// Connection's strand only.
#pragma once

#include "protocol/operation.hpp"
#include "server/http.hpp"

namespace ifmatch::server {

struct context;

// Applies the request's delay or inject fault (once) just before it submits its commit.
net::awaitable<void> before_commit(context &ctx);
// Whether before_commit has anything to do: callers skip its coroutine frame when not.
bool commit_fault_pending(const context &ctx);
// Whether an operation applies its fault itself, just before its commit (PutObject, CopyObject,
// DeleteObject, CompleteMultipartUpload); run_observed applies the others' before the handler.
bool has_commit_hook(protocol::op o);

} // namespace ifmatch::server
