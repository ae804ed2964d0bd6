// Bodies in a shared directory (see blob_dir.hpp).
#include "storage/postgres/blob_dir.hpp"

#include "storage/file_source.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace ifmatch::storage::postgres {

namespace {

std::string join(const std::string &dir, const std::string &name) { return dir + "/" + name; }

bool fsync_dir(const std::string &dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

} // namespace

std::string new_blob_name() {
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1) {
        throw std::runtime_error("no random bytes for a body file name");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : r) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out + ".body";
}

blob_writer::blob_writer(const std::string &dir, const std::string &name)
    : dir_(dir), path_(join(dir, name)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd_ < 0) {
        throw std::runtime_error("cannot create " + path_ + ": " + std::strerror(errno));
    }
}

blob_writer::~blob_writer() {
    if (fd_ >= 0)
        ::close(fd_);
    if (!kept_)
        ::unlink(path_.c_str());
}

bool blob_writer::write(std::string_view data) {
    while (!data.empty()) {
        auto n = ::write(fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error_ = "writing " + path_ + ": " + std::strerror(errno);
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool blob_writer::finish() {
    if (::fsync(fd_) != 0 || !fsync_dir(dir_)) {
        error_ = "syncing " + path_ + ": " + std::strerror(errno);
        return false;
    }
    kept_ = true;
    return true;
}

std::shared_ptr<const body_source> open_blob(const std::string &dir, const std::string &name) {
    return open_file_source(join(dir, name));
}

void remove_blob(const std::string &dir, const std::string &name) {
    if (name.empty() || name.find('/') != std::string::npos)
        return;
    ::unlink(join(dir, name).c_str());
}

task<std::size_t> reclaim_released(connection &c, const std::string &dir) {
    // Every snapshot now open sees transactions below the horizon as finished (RULE 4). The
    // horizon is the statement snapshot's xmax (the next transaction id when the statement
    // began) less the age of the oldest backend_xmin; age() counts from the next transaction id
    // when it is first called, which is no earlier, so the horizon is at or below the oldest
    // xmin.
    auto run_call =
        c.async_run("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint - "
                    "coalesce((SELECT max(age(backend_xmin)) FROM pg_stat_activity WHERE "
                    "backend_xmin IS NOT NULL), 0)");
    auto h = co_await std::move(run_call);
    const std::int64_t horizon = h.i64(0, 0);
    auto run_call2 =
        c.async_run("SELECT name FROM released_files WHERE xid < $1 LIMIT 1000", horizon);
    auto due = co_await std::move(run_call2);
    for (int i = 0; i < due.size(); ++i) {
        remove_blob(dir, due.text(i, 0)); // unlinked before forgotten: a crash only repeats it
        auto run_call3 = c.async_run("DELETE FROM released_files WHERE name = $1", due.text(i, 0));
        co_await std::move(run_call3);
    }
    co_return static_cast<std::size_t>(due.size());
}

} // namespace ifmatch::storage::postgres
