// Unit tests only: a scratch directory, removed with everything in it when the test ends.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace ifmatch::test_support {

struct scratch_dir {
    std::string path;
    explicit scratch_dir(const std::string &tag = "ifmatch-test") {
        std::string t = (std::filesystem::temp_directory_path() / (tag + "-XXXXXX")).string();
        if (!::mkdtemp(t.data())) {
            throw std::runtime_error("mkdtemp " + t + " failed");
        }
        path = t;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    scratch_dir(const scratch_dir &) = delete;
    scratch_dir &operator=(const scratch_dir &) = delete;
};

} // namespace ifmatch::test_support
