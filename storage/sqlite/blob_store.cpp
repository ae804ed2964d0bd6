// Blob files: creation, durable sync, reclaim.
#include "storage/sqlite/blob_store.hpp"

#include "storage/file_source.hpp"
#include "storage/io_faults.hpp"

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace ifmatch::storage::sqlite {

namespace fs = std::filesystem;

blob_writer::blob_writer(blob_store &store, std::size_t inline_limit)
    : store_(store), inline_limit_(inline_limit) {}

blob_writer::~blob_writer() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    if (!file_.empty()) {
        store_.remove(file_);
    }
}

bool blob_writer::spill() {
    file_ = store_.new_name();
    fd_ = ::open(store_.path_of(file_).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        error_ = std::string("cannot create blob: ") + std::strerror(errno);
        return false;
    }
    std::string pending;
    pending.swap(buffer_);
    size_ -= pending.size();
    return append(pending);
}

bool blob_writer::append(std::string_view data) {
    if (fd_ < 0 && buffer_.size() + data.size() <= inline_limit_) {
        buffer_.append(data);
        size_ += data.size();
        return true;
    }
    if (fd_ < 0) {
        buffer_.append(data);
        size_ += data.size();
        return spill();
    }
    auto &budget = store_.write_budget();
    while (!data.empty()) {
        if (budget >= 0 && static_cast<std::int64_t>(data.size()) > budget) {
            error_ = "No space left on device (injected)";
            return false;
        }
        if (io_faults::hit(io_faults::blob_write)) {
            error_ = io_faults::disk_full() ? "No space left on device (injected)"
                                            : "Input/output error (injected)";
            return false;
        }
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error_ = std::string("blob write failed: ") + std::strerror(errno);
            return false;
        }
        if (budget >= 0) {
            budget -= n;
        }
        size_ += static_cast<std::uint64_t>(n);
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

staged_body blob_writer::release() {
    staged_body b;
    b.size = size_;
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
        b.file = std::move(file_);
        file_.clear();
    } else {
        b.inline_data = std::move(buffer_);
    }
    return b;
}

blob_store::blob_store(std::string root) : dir_(std::move(root) + "/blobs") {
    static const char *hex = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
        std::string sub = dir_ + "/" + hex[i >> 4] + hex[i & 15];
        std::error_code ec;
        fs::create_directories(sub, ec);
        if (ec) {
            throw std::runtime_error("cannot create " + sub + ": " + ec.message());
        }
    }
}

std::string blob_store::path_of(std::string_view file) const {
    std::string p = dir_;
    p += '/';
    p += file;
    return p;
}

std::string blob_store::new_name() {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    static const char *hex = "0123456789abcdef";
    std::string name(2, ' ');
    name[0] = hex[raw[0] >> 4];
    name[1] = hex[raw[0] & 15];
    name += '/';
    for (unsigned char c : raw) {
        name += hex[c >> 4];
        name += hex[c & 15];
    }
    return name;
}

std::shared_ptr<const body_source> blob_store::open(std::string_view file) const {
    return open_file_source(path_of(file));
}

bool blob_store::sync(std::string_view file) const {
    if (io_faults::hit(io_faults::blob_sync)) {
        return false;
    }
    std::string p = path_of(file);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = ::fdatasync(fd) == 0;
    ::close(fd);
    std::string d = p.substr(0, p.rfind('/'));
    int dfd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ok = ::fsync(dfd) == 0 && ok;
        ::close(dfd);
    }
    return ok;
}

bool blob_store::remove(std::string_view file) const {
    if (!io_faults::hit(io_faults::blob_unlink) &&
        (::unlink(path_of(file).c_str()) == 0 || errno == ENOENT)) {
        return true;
    }
    std::lock_guard lk(failed_mu_);
    failed_removals_.emplace_back(file);
    return false;
}

std::size_t blob_store::retry_removals() const {
    std::vector<std::string> again;
    {
        std::lock_guard lk(failed_mu_);
        again.swap(failed_removals_);
    }
    for (auto &f : again) {
        remove(f); // a file that fails again is queued again
    }
    std::lock_guard lk(failed_mu_);
    return failed_removals_.size();
}

std::vector<std::string> blob_store::list() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto &sub : fs::directory_iterator(dir_, ec)) {
        for (auto &f : fs::directory_iterator(sub.path(), ec)) {
            out.push_back(sub.path().filename().string() + "/" + f.path().filename().string());
        }
    }
    return out;
}

} // namespace ifmatch::storage::sqlite
