// A VFS shim over SQLite's platform VFS that gathers the writer's WAL frame writes into one
// pwrite per commit instead of two per frame (a frame header, then its page).
//
// RULES
// 1. Only files SQLite opens as a WAL are buffered; the main database file is wrapped only to
//    see xShmBarrier; journals and temporary files are the platform's own, untouched.
// 2. Buffered bytes reach the file before SQLite can depend on them: when the commit frame's
//    page has been appended (its error is that xWrite's result, so a failed write fails the
//    COMMIT before it is published), and before any read, sync, truncate, size query, file
//    control, close, or write that does not extend the buffer.
// 3. A commit becomes visible to other connections only when the writer publishes the new
//    wal-index header, between whose two copies SQLite calls xShmBarrier on the database file:
//    the shim flushes every buffered WAL of that database there too (a safety net; rule 2 has
//    already flushed a commit).
// A kill -9 therefore loses nothing that was acknowledged: an acknowledged COMMIT's frames
// were written to the file (the page cache) before it returned, as without the shim.
#pragma once

namespace ifmatch::storage::sqlite {

// The name of the shim VFS, registered on first use (thread-safe).
const char *wal_vfs_name();

} // namespace ifmatch::storage::sqlite
