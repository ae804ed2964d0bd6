// Bodies in a directory every replica mounts (--blob-dir): the bytes of a body above the inline
// limit go to a file there instead of body_chunks rows; the bodies row names the file.
//
// RULES
// 1. A body's file is named when its bodies row is created (staged, before the first byte is
//    written), so a replica killed mid-upload leaves a staged row the janitor finds, never a
//    file nothing names. The name is 32 random hex digits and ".body", created exclusively.
// 2. A release (the last reference gone) deletes the row and records the file in
//    released_files with the releasing transaction's id, in the same transaction.
// 3. A GET reads a file body inside its REPEATABLE READ transaction, held open while it reads,
//    exactly as for chunked bodies.
// 4. Reclamation (the janitor, one replica at a time) unlinks a released file only when every
//    snapshot on the database server sees its release as finished: its xid is below the
//    horizon (the oldest backend_xmin in pg_stat_activity). A GET that could still name the
//    file holds a snapshot older than the release, so its file stays until it ends (RULE 3).
//    This needs the replicas' role to see every backend's xmin: one role for all replicas, or
//    a role with pg_read_all_stats.
// 5. A staged row older than an hour (an upload that never committed) is removed with its file.
#pragma once

#include "storage/postgres/pg.hpp"
#include "storage/types.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ifmatch::storage::postgres {

// A new file name (RULE 1).
std::string new_blob_name();

// An open file being written; closes (and, unless kept, unlinks) it on destruction.
class blob_writer {
  public:
    // Creates dir/name exclusively. Throws std::runtime_error.
    blob_writer(const std::string &dir, const std::string &name);
    ~blob_writer();
    blob_writer(const blob_writer &) = delete;
    blob_writer &operator=(const blob_writer &) = delete;

    // Appends all of `data`; false on an error (error() says which).
    bool write(std::string_view data);
    // fsyncs the file and its directory; false on an error. After it the file is kept.
    bool finish();
    const std::string &error() const { return error_; }

  private:
    std::string dir_, path_;
    int fd_ = -1;
    bool kept_ = false;
    std::string error_;
};

// A reader of dir/name (`size` bytes); nullptr when the file cannot be opened.
std::shared_ptr<const body_source> open_blob(const std::string &dir, const std::string &name);

// Unlinks dir/name; a file already gone is no error.
void remove_blob(const std::string &dir, const std::string &name);

// RULE 4: unlinks the released files below the horizon and forgets them; answers how many.
task<std::size_t> reclaim_released(connection &c, const std::string &dir);

} // namespace ifmatch::storage::postgres
