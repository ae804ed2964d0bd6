// Writing responses: small ones in one buffer, object bodies streamed from their segments, live
// bodies as chunks. See response_writer.hpp.
#include "server/response_writer.hpp"

#include "server/body_pool.hpp"
#include "server/response_head.hpp"
#include "server/session.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>

namespace ifmatch::server {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// The fields every response carries, set on a Beast message (append_head writes the same ones
// for a head serialised directly).
template <class Msg> void common_headers(Msg &m, const response &r, const std::string &rid) {
    m.set("x-amz-request-id", rid);
    m.set("x-amz-id-2", rid);
    m.set(http::field::date, date_now());
    m.set(http::field::server, "ifmatch");
    for (auto &[k, v] : r.headers) {
        if (v.find_first_of("\r\n") == std::string::npos) {
            m.set(k, v);
        } else {
            std::string value = v;
            single_line(value);
            m.set(k, value);
        }
    }
}

// The pieces of [offset, offset + length) of an object's segments, at most `max` bytes each.
class piece_cursor {
public:
    struct piece {
        const storage::body_segment *seg;
        std::uint64_t pos;
        std::size_t size;
    };
    piece_cursor(const std::vector<storage::body_segment> &segs, std::uint64_t offset,
                 std::uint64_t length, std::size_t max)
        : segs_(segs), pos_(offset), left_(length), max_(max) {}
    std::optional<piece> next() {
        while (i_ < segs_.size() && left_ > 0) {
            const auto &seg = segs_[i_];
            if (pos_ >= seg.size) {
                pos_ -= seg.size;
                ++i_;
                continue;
            }
            auto n = static_cast<std::size_t>(
                std::min<std::uint64_t>({max_, seg.size - pos_, left_}));
            piece p{&seg, pos_, n};
            pos_ += n;
            left_ -= n;
            return p;
        }
        return std::nullopt;
    }

private:
    const std::vector<storage::body_segment> &segs_;
    std::size_t i_ = 0;
    std::uint64_t pos_, left_;
    std::size_t max_;
};

constexpr std::uint64_t small_object_limit = 64 * 1024;

// An object response whose bytes are all in memory (inline bodies, the read cache) and at most
// small_object_limit, as one buffer: small_response's head, then the bytes. Empty when a piece
// lives in a blob file or the object is larger; write_object streams those.
std::string small_object_response(const response &r, const std::string &rid, bool keep_alive) {
    if (r.length > small_object_limit) {
        return {};
    }
    for (const auto &seg : r.segments) {
        if (seg.source) {
            return {};
        }
    }
    std::string out;
    out.reserve(256 + r.length);
    append_head(out, r, rid);
    end_head(out, r.length, keep_alive);
    piece_cursor cursor(r.segments, r.offset, r.length, small_object_limit);
    std::uint64_t copied = 0;
    while (auto p = cursor.next()) {
        const auto &data = p->seg->inline_data;
        if (p->pos + p->size > data.size()) {
            return {}; // a segment shorter than its size: write_object's path reports it
        }
        out.append(data, static_cast<std::size_t>(p->pos), p->size);
        copied += p->size;
    }
    if (copied != r.length) {
        return {};
    }
    return out;
}

} // namespace

template <class Stream>
net::awaitable<beast::error_code> write_small(Stream &s, const response &r,
                                              const std::string &rid, bool keep_alive) {
    std::string out = small_response(r, rid, keep_alive);
    auto [ec, n] = co_await net::async_write(s, net::buffer(out), tuple_awaitable);
    co_return ec;
}

template <class Stream>
net::awaitable<beast::error_code> write_object(Stream &s, const response &r,
                                               const std::string &rid, bool keep_alive) {
    if (std::string out = small_object_response(r, rid, keep_alive); !out.empty()) {
        auto [ec, n] = co_await net::async_write(s, net::buffer(out), tuple_awaitable);
        co_return ec;
    }
    http::response<http::buffer_body> m{static_cast<http::status>(r.status), 11};
    common_headers(m, r, rid);
    m.keep_alive(keep_alive);
    m.content_length(r.length);
    m.body().data = nullptr;
    m.body().more = true;
    http::response_serializer<http::buffer_body> sr{m};
    // The header goes out with the first piece. The buffers fit the object (small GETs are the
    // common case) and are left uninitialised: zeroing 256 KiB per request cost more than the
    // GET. The second is allocated only for an object of more than one piece.
    const std::size_t buf_size =
        static_cast<std::size_t>(std::clamp<std::uint64_t>(r.length, 1, 256 * 1024));
    std::array<std::unique_ptr<char[]>, 2> bufs;
    bufs[0] = std::make_unique_for_overwrite<char[]>(buf_size);
    piece_cursor cursor(r.segments, r.offset, r.length, buf_size);
    // Made on the first piece of a blob file only: a small GET from memory pays for none of it.
    std::optional<net::any_io_executor> ex;
    std::optional<body_job> job;
    std::function<void()> read_piece;
    // What the body thread reads next: set before the job starts, left alone until it finished.
    const storage::body_source *read_src = nullptr;
    std::uint64_t read_pos = 0;
    std::size_t read_size = 0;
    char *read_into = nullptr;
    bool read_ok = true;
    auto load = [&](const piece_cursor::piece &p, std::size_t b) {
        if (!bufs[b]) {
            bufs[b] = std::make_unique_for_overwrite<char[]>(buf_size);
        }
        if (!p.seg->source) {
            std::memcpy(bufs[b].get(), p.seg->inline_data.data() + p.pos, p.size);
            read_ok = true;
            return;
        }
        if (!job) {
            job.emplace(*ex);
            read_piece = [&] {
                read_ok = read_src->read_at(read_pos, read_into, read_size);
            };
        }
        read_src = p.seg->source.get();
        read_pos = p.pos;
        read_size = p.size;
        read_into = bufs[b].get();
        start_body_job(*job, read_piece, *ex);
    };
    for (auto &seg : r.segments) {
        if (seg.source) {
            ex.emplace(co_await net::this_coro::executor);
            break;
        }
    }
    beast::error_code failed;
    std::exception_ptr thrown;
    try {
        auto next = cursor.next();
        std::size_t cur = 0;
        if (next) {
            load(*next, cur);
        }
        while (next) {
            auto current = *next;
            if (job && job->running) {
                auto loaded = finish_body_job(*job);
                co_await std::move(loaded);
            }
            if (!read_ok) {
                failed = beast::error_code(sr.is_header_done() ? EIO : EAGAIN,
                                           beast::system_category());
                break;
            }
            next = cursor.next();
            if (next) {
                load(*next, cur ^ 1); // read ahead while this piece is written
            }
            m.body().data = bufs[cur].get();
            m.body().size = current.size;
            m.body().more = next.has_value();
            beast::get_lowest_layer(s).expires_after(std::chrono::seconds(300));
            auto [wec, wn] = co_await http::async_write(s, sr, tuple_awaitable);
            if (wec && wec != http::error::need_buffer) {
                failed = wec;
                break;
            }
            cur ^= 1;
        }
    } catch (...) {
        thrown = std::current_exception();
    }
    if (job && job->running) {
        auto settled = finish_body_job(*job); // not inside the handler (body_pool.hpp RULE 1)
        co_await std::move(settled);
    }
    if (thrown) {
        std::rethrow_exception(thrown);
    }
    if (failed) {
        co_return failed;
    }
    if (!sr.is_done()) {
        m.body().data = nullptr;
        m.body().size = 0;
        m.body().more = false;
        auto [wec, wn] = co_await http::async_write(s, sr, tuple_awaitable);
        if (wec && wec != http::error::need_buffer) {
            co_return wec;
        }
    }
    co_return beast::error_code{};
}

template <class Stream>
net::awaitable<beast::error_code> write_live(Stream &s, const response &r,
                                             const std::string &rid, session_shared &shared) {
    http::response<http::empty_body> m{static_cast<http::status>(r.status), 11};
    common_headers(m, r, rid);
    m.keep_alive(false);
    m.chunked(true);
    http::response_serializer<http::empty_body> sr{m};
    auto h_call = http::async_write_header(s, sr, tuple_awaitable);
    auto head = co_await std::move(h_call);
    beast::error_code ec = std::get<0>(head);
    std::shared_ptr<live_body> live = r.live;
    auto token = shared.register_idle([live] { live->cancel(); });
    while (!ec && !shared.stopping) {
        auto next_call = live->next();
        std::optional<std::string> piece = co_await std::move(next_call);
        if (!piece) {
            break;
        }
        beast::get_lowest_layer(s).expires_after(std::chrono::seconds(30));
        auto chunk = http::make_chunk(net::buffer(*piece));
        auto w_call = net::async_write(s, chunk, tuple_awaitable);
        auto written = co_await std::move(w_call);
        ec = std::get<0>(written);
    }
    shared.unregister_idle(token);
    if (!ec) {
        auto last = http::make_chunk_last();
        auto l_call = net::async_write(s, last, tuple_awaitable);
        auto written = co_await std::move(l_call);
        ec = std::get<0>(written);
    }
    co_return ec;
}

template net::awaitable<beast::error_code> write_small(plain_stream &, const response &,
                                                       const std::string &, bool);
template net::awaitable<beast::error_code> write_small(tls_stream &, const response &,
                                                       const std::string &, bool);
template net::awaitable<beast::error_code> write_object(plain_stream &, const response &,
                                                        const std::string &, bool);
template net::awaitable<beast::error_code> write_object(tls_stream &, const response &,
                                                        const std::string &, bool);
template net::awaitable<beast::error_code> write_live(plain_stream &, const response &,
                                                      const std::string &, session_shared &);
template net::awaitable<beast::error_code> write_live(tls_stream &, const response &,
                                                      const std::string &, session_shared &);

} // namespace ifmatch::server
