// `ifmatch check`: a read-only consistency check of a data directory. It opens the database
// read-only in one snapshot and does NOT take the writer's lock, so it runs beside a live server;
// it never modifies anything (problems are reported, not repaired). Single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ifmatch::storage {

struct check_report {
    std::vector<std::string> problems; // empty: the directory is consistent
    std::vector<std::string> notes;    // informational (e.g. files of uploads still in flight)
    int schema_version = 0;
    std::int64_t versions = 0;
    std::int64_t bodies = 0;
    std::int64_t blob_files = 0;
    std::int64_t stored_bytes = 0; // sum of body sizes
};

struct check_options {
    // Unreferenced blob files younger than this are staged uploads or reclaims in progress of a
    // running server, not orphans.
    std::int64_t orphan_min_age_seconds = 600;
};

// Checks `dir`: SQLite integrity_check, the schema version, every file-backed body's blob exists
// with its recorded size, every version's / part's / composite part's body exists, every body's
// reference count equals its references (versions.body_id + parts.body_id +
// body_parts.part_body_id), and no blob file is unreferenced. Throws std::runtime_error when the
// directory holds no ifmatch database or cannot be opened.
check_report check_data_dir(const std::string &dir, const check_options &opts = {});

} // namespace ifmatch::storage
