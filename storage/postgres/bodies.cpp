// Body sinks and sources of the PostgreSQL backend (see bodies.hpp).
#include "storage/postgres/bodies.hpp"

#include "storage/postgres/blob_dir.hpp"
#include "storage/postgres/rows.hpp"

#include <cstring>
#include <mutex>

namespace ifmatch::storage::postgres {

namespace {

// Its calls come from the server's body threads (they may block): each statement runs on the
// pool's I/O context (pool::block_on), on a spare connection the sink holds.
class pg_sink final : public body_sink {
  public:
    pg_sink(std::shared_ptr<pool> p, std::size_t inline_limit, std::string blob_dir)
        : pool_(std::move(p)), inline_limit_(inline_limit), blob_dir_(std::move(blob_dir)) {}

    ~pg_sink() override {
        // Possibly on a server I/O thread: nothing here waits.
        if (c_)
            pool_->give(std::move(c_));
        if (!released_ && id_) {
            writer_.reset(); // unlinks its file
            // An upload that failed or was refused leaves nothing (the janitor removes what a
            // failure here leaves).
            pool_->submit([id = id_](std::unique_ptr<connection> &c) -> task<void> {
                if (c) {
                    auto drop_call = drop_staged(*c, id);
                    co_await std::move(drop_call);
                }
            });
        }
    }

    bool append(std::string_view data) override {
        if (!error_.empty())
            return false;
        size_ += data.size();
        buf_.append(data);
        if (!id_ && size_ <= inline_limit_) {
            return true;
        }
        while (buf_.size() >= chunk_size) {
            if (!flush(chunk_size))
                return false;
        }
        return true;
    }

    std::uint64_t size() const override { return size_; }
    const std::string &error() const override { return error_; }

    staged_body release() override {
        staged_body b;
        b.size = size_;
        if (!id_ && size_ <= inline_limit_) {
            b.inline_data = std::move(buf_);
            released_ = true;
            return b;
        }
        if (!buf_.empty() && !flush(buf_.size())) {
            return b; // error() says why; the write fails on the missing staged body
        }
        try {
            if (!id_)
                start();
            if (writer_ && !writer_->finish()) {
                error_ = writer_->error();
                return b;
            }
            pool_->block_on([this]() -> task<void> {
                auto run_call = c_->async_run("UPDATE bodies SET size = $1 WHERE id = $2",
                                              static_cast<std::int64_t>(size_), id_);
                co_await std::move(run_call);
            });
        } catch (const std::exception &e) {
            error_ = e.what();
            return b;
        }
        b.file = staged_token(id_);
        released_ = true;
        pool_->give(std::move(c_));
        return b;
    }

  private:
    void start() {
        // The row names the file before it exists (blob_dir.hpp RULE 1).
        const std::string name = blob_dir_.empty() ? std::string() : new_blob_name();
        id_ = pool_->block_on([this, &name]() -> task<std::int64_t> {
            if (!c_) {
                auto take_call = pool_->take();
                c_ = co_await std::move(take_call);
            }
            if (name.empty()) {
                auto run_call2 = c_->async_run("INSERT INTO bodies(size, chunked, refs, staged) "
                                               "VALUES(0, true, 0, true) RETURNING id");
                auto r = co_await std::move(run_call2);
                co_return r.i64(0, 0);
            }
            auto run_call3 = c_->async_run("INSERT INTO bodies(size, chunked, refs, staged, "
                                           "file) VALUES(0, false, 0, true, $1) RETURNING id",
                                           name);
            auto r = co_await std::move(run_call3);
            co_return r.i64(0, 0);
        });
        if (!name.empty())
            writer_ = std::make_unique<blob_writer>(blob_dir_, name);
    }

    bool flush(std::size_t n) {
        try {
            if (!id_)
                start();
            if (writer_) {
                if (!writer_->write(std::string_view(buf_).substr(0, n))) {
                    error_ = writer_->error();
                    return false;
                }
            } else {
                pool_->block_on([this, n]() -> task<void> {
                    auto run_call4 = c_->async_run(
                        "INSERT INTO body_chunks(body_id, n, data) VALUES($1, $2, $3)", id_, next_,
                        bytea{std::string_view(buf_).substr(0, n)});
                    co_await std::move(run_call4);
                });
                ++next_;
            }
            buf_.erase(0, n);
            return true;
        } catch (const std::exception &e) {
            error_ = e.what();
            return false;
        }
    }

    std::shared_ptr<pool> pool_;
    std::size_t inline_limit_;
    std::string blob_dir_;
    std::unique_ptr<blob_writer> writer_;
    std::unique_ptr<connection> c_;
    std::string buf_;
    std::uint64_t size_ = 0;
    std::int64_t id_ = 0;
    int next_ = 0;
    std::string error_;
    bool released_ = false;
};

// A GET's transaction, kept open while its segments are read.
struct stream {
    std::mutex m;
    std::unique_ptr<connection> c;
    std::weak_ptr<pool> p;
    ~stream() {
        auto owner = p.lock();
        if (!c)
            return;
        if (!owner) {
            c->abandon_watch(); // the pool's I/O context went with it
            return;
        }
        // Ended on a worker, not on the thread that dropped the last segment.
        auto held = std::make_shared<std::unique_ptr<connection>>(std::move(c));
        std::weak_ptr<pool> weak = p;
        owner->submit([held, weak](std::unique_ptr<connection> &) -> task<void> {
            try {
                auto rollback_call = (*held)->async_exec("ROLLBACK");
                co_await std::move(rollback_call);
                if (auto o = weak.lock())
                    o->give(std::move(*held));
            } catch (const pg_error &) {
            }
        });
    }
};

class chunk_source final : public body_source {
  public:
    chunk_source(std::shared_ptr<stream> s, std::int64_t id) : s_(std::move(s)), id_(id) {}

    bool read_at(std::uint64_t offset, char *out, std::size_t size) const override {
        if (size == 0)
            return true;
        const auto first = static_cast<std::int64_t>(offset / chunk_size);
        const auto last = static_cast<std::int64_t>((offset + size - 1) / chunk_size);
        // On a server body thread: the statement runs on the pool's I/O context.
        std::lock_guard lk(s_->m);
        auto owner = s_->p.lock();
        if (!s_->c || !owner)
            return false;
        try {
            auto &c = *s_->c;
            const std::int64_t id = id_;
            auto r = owner->block_on([&c, id, first, last] {
                return c.async_exec("SELECT n::text, data FROM body_chunks WHERE body_id = $1 "
                                    "AND n BETWEEN $2 AND $3 ORDER BY n",
                                    std::vector<param>{id, first, last}, true);
            });
            std::size_t copied = 0;
            for (int i = 0; i < r.size(); ++i) {
                const auto n = static_cast<std::uint64_t>(r.i64(i, 0));
                auto data = r.view(i, 1);
                const std::uint64_t chunk_start = n * chunk_size;
                const std::uint64_t from = std::max(offset, chunk_start);
                const std::uint64_t to =
                    std::min<std::uint64_t>(offset + size, chunk_start + data.size());
                if (to <= from)
                    continue;
                std::memcpy(out + (from - offset), data.data() + (from - chunk_start), to - from);
                copied += to - from;
            }
            return copied == size;
        } catch (const pg_error &) {
            return false;
        }
    }

  private:
    std::shared_ptr<stream> s_;
    std::int64_t id_;
};

// A file's reader that keeps the GET's snapshot open while it lives (blob_dir.hpp RULE 3).
class held_source final : public body_source {
  public:
    held_source(std::shared_ptr<stream> s, std::shared_ptr<const body_source> inner)
        : s_(std::move(s)), inner_(std::move(inner)) {}
    bool read_at(std::uint64_t offset, char *out, std::size_t size) const override {
        return inner_->read_at(offset, out, size);
    }

  private:
    std::shared_ptr<stream> s_;
    std::shared_ptr<const body_source> inner_;
};

body_piece piece_of(const rows &r, int i) {
    body_piece p;
    p.body_id = r.i64(i, 0);
    p.size = static_cast<std::uint64_t>(r.i64(i, 1));
    p.chunked = r.view(i, 2) == "true";
    if (!p.chunked && !r.null(i, 3))
        p.data = r.text(i, 3);
    if (!r.null(i, 4))
        p.file = r.text(i, 4);
    return p;
}

} // namespace

std::unique_ptr<body_sink> new_sink(std::shared_ptr<pool> p, std::size_t inline_limit,
                                    std::string blob_dir) {
    return std::make_unique<pg_sink>(std::move(p), inline_limit, std::move(blob_dir));
}

void queue_body_pieces(connection &c, const std::string &body_id_sql,
                       const std::vector<param> &params, rows *parts, rows *whole) {
    // A multipart body is the list of its parts' bodies; any other body is its own row.
    c.queue("SELECT b.id::text, b.size::text, b.chunked::text, b.data, b.file FROM body_parts p "
            "JOIN bodies b ON b.id = p.part_body_id WHERE p.body_id = (" +
                body_id_sql + ") ORDER BY p.n",
            params, parts, true);
    c.queue("SELECT id::text, size::text, chunked::text, data, file FROM bodies WHERE id = (" +
                body_id_sql + ")",
            params, whole, true);
}

std::vector<body_piece> pieces_of(const rows &parts, const rows &whole) {
    std::vector<body_piece> out;
    if (!parts.empty()) {
        for (int i = 0; i < parts.size(); ++i)
            out.push_back(piece_of(parts, i));
        return out;
    }
    if (!whole.empty())
        out.push_back(piece_of(whole, 0));
    return out;
}

bool needs_stream(const std::vector<body_piece> &pieces) {
    for (auto &p : pieces) {
        if ((p.chunked || !p.file.empty()) && p.size > 0)
            return true;
    }
    return false;
}

std::vector<body_segment> segments_of(std::vector<body_piece> pieces,
                                      std::unique_ptr<connection> &c, std::weak_ptr<pool> p,
                                      const std::string &blob_dir) {
    std::vector<body_segment> out;
    std::shared_ptr<stream> s;
    for (auto &piece : pieces) {
        if (piece.size == 0)
            continue;
        body_segment seg;
        seg.size = piece.size;
        if (piece.chunked || !piece.file.empty()) {
            if (!s) {
                s = std::make_shared<stream>();
                s->c = std::move(c);
                s->p = p;
            }
            if (piece.chunked) {
                seg.source = std::make_shared<chunk_source>(s, piece.body_id);
            } else {
                auto file = blob_dir.empty() ? nullptr : open_blob(blob_dir, piece.file);
                if (!file) {
                    throw std::runtime_error("The object's stored body file " + piece.file +
                                             " cannot be opened (is --blob-dir the directory "
                                             "every replica mounts?).");
                }
                seg.source = std::make_shared<held_source>(s, std::move(file));
            }
        } else {
            seg.inline_data = std::move(piece.data);
        }
        out.push_back(std::move(seg));
    }
    return out;
}

task<std::vector<std::uint64_t>> part_sizes(connection &c, std::int64_t body_id) {
    rows r;
    queue_part_sizes(c, "$1::bigint", {body_id}, &r);
    auto flush_call = c.async_flush();
    co_await std::move(flush_call);
    co_return sizes_of(r);
}

void queue_part_sizes(connection &c, const std::string &body_id_sql,
                      const std::vector<param> &params, rows *into) {
    c.queue("SELECT b.size FROM body_parts p JOIN bodies b ON b.id = p.part_body_id WHERE "
            "p.body_id = (" +
                body_id_sql + ") ORDER BY p.n",
            params, into);
}

std::vector<std::uint64_t> sizes_of(const rows &r) {
    std::vector<std::uint64_t> out;
    for (int i = 0; i < r.size(); ++i)
        out.push_back(static_cast<std::uint64_t>(r.i64(i, 0)));
    return out;
}

} // namespace ifmatch::storage::postgres
