// A body_source reading a file (see file_source.hpp).
#include "storage/file_source.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace ifmatch::storage {

namespace {

// pread from any thread; closed with the last segment that refers to it.
class file_source final : public body_source {
public:
    explicit file_source(int fd) : fd_(fd) {}
    ~file_source() override { ::close(fd_); }
    file_source(const file_source &) = delete;
    file_source &operator=(const file_source &) = delete;

    bool read_at(std::uint64_t offset, char *out, std::size_t size) const override {
        while (size > 0) {
            ssize_t n = ::pread(fd_, out, size, static_cast<off_t>(offset));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return false; // an error, or the file is shorter than its row says
            }
            out += n;
            size -= static_cast<std::size_t>(n);
            offset += static_cast<std::uint64_t>(n);
        }
        return true;
    }

private:
    int fd_;
};

} // namespace

std::shared_ptr<const body_source> open_file_source(const std::string &path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return nullptr;
    }
    return std::make_shared<file_source>(fd);
}

} // namespace ifmatch::storage
