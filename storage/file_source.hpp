// A body_source reading a file (both backends' body files: SQLite's blob files, PostgreSQL's
// --blob-dir files). The descriptor stays open while a segment refers to it, so the file's bytes
// stay readable even once a reclaim unlinks it on this host.
#pragma once

#include "storage/types.hpp"

#include <memory>
#include <string>

namespace ifmatch::storage {

// The file at `path`, opened for reading; nullptr when it cannot be opened.
std::shared_ptr<const body_source> open_file_source(const std::string &path);

} // namespace ifmatch::storage
