// Object bytes outside SQLite: large bodies are files under <data>/blobs/<xx>/<name>. Sessions
// write staged bodies through blob_writer (plain blocking file I/O, page-cache speed); the writer
// thread makes them durable before the commit that names them and unlinks reclaimed ones.
// blob_store methods are thread-safe; a blob_writer belongs to one thread at a time.
#pragma once

#include "storage/types.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ifmatch::storage::sqlite {

class blob_store;

// Accumulates one body: in memory up to the inline threshold, then in a new blob file.
// Destroying an unreleased writer removes its file (a failed or refused upload leaves nothing).
class blob_writer final : public body_sink {
public:
    blob_writer(blob_store &store, std::size_t inline_limit);
    ~blob_writer() override;
    blob_writer(const blob_writer &) = delete;
    blob_writer &operator=(const blob_writer &) = delete;

    // Appends bytes. Returns false on an I/O error (disk full, ...); `error()` says why.
    bool append(std::string_view data) override;
    std::uint64_t size() const override { return size_; }
    const std::string &error() const override { return error_; }

    // Hands the staged body over; the writer no longer owns (or removes) its file.
    staged_body release() override;

private:
    bool spill();

    blob_store &store_;
    std::size_t inline_limit_;
    std::string buffer_;
    std::string file_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::string error_;
};

class blob_store {
public:
    // Creates <root>/blobs/00..ff. Throws std::runtime_error when the directory is unusable.
    explicit blob_store(std::string root);

    const std::string &dir() const { return dir_; }
    std::string path_of(std::string_view file) const;
    // A fresh, unique blob file name (`ab/ab12…`).
    std::string new_name();
    // Opens a blob for reading; null when it is missing.
    std::shared_ptr<const body_source> open(std::string_view file) const;
    // fdatasync of a blob and fsync of its directory (durability full).
    bool sync(std::string_view file) const;
    // Unlinks a blob (a missing file counts as removed). A removal that fails is remembered and
    // tried again by retry_removals, so an unlink error never leaves an orphan for long.
    bool remove(std::string_view file) const;
    // Tries the failed removals again (the writer does, once a second); returns how many still
    // fail.
    std::size_t retry_removals() const;
    // Every blob file name present on disk (start-up reclaim).
    std::vector<std::string> list() const;
    // Test seam: when set, appends fail after this many more bytes (simulated full disk).
    void set_write_budget(std::int64_t bytes) { write_budget_ = bytes; }
    std::int64_t &write_budget() { return write_budget_; }

private:
    std::string dir_;
    std::int64_t write_budget_ = -1;
    mutable std::mutex failed_mu_;
    mutable std::vector<std::string> failed_removals_;
};

} // namespace ifmatch::storage::sqlite
