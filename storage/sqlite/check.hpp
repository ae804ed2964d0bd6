// `ifmatch check`: a read-only consistency check of a data directory. It opens the database
// read-only in one snapshot and does NOT take the writer's lock, so it runs beside a live server;
// it never modifies anything (problems are reported, not repaired). Single-threaded.
#pragma once

#include "storage/requests.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ifmatch::storage::sqlite {

// Checks `dir`: SQLite integrity_check, the schema version, every file-backed body's blob exists
// with its recorded size, every version's / part's / composite part's body exists, every body's
// reference count equals its references (versions.body_id + parts.body_id +
// body_parts.part_body_id), and no blob file is unreferenced. Throws std::runtime_error when the
// directory holds no ifmatch database or cannot be opened.
check_report check_data_dir(const std::string &dir, const check_options &opts = {});

} // namespace ifmatch::storage::sqlite
