// Connection coroutine: parser limits, idle and body time-outs, keep-alive, Expect: 100-continue,
// body draining after early answers (spec D4), streaming object bodies out. Written once for any
// stream (plain TCP or TLS over TCP); the TLS handshake runs under the idle time-out.
#include "server/session.hpp"

#include "protocol/http_date.hpp"
#include "server/body_pool.hpp"
#include "server/config.hpp"
#include "server/handlers.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <memory>
#include <span>
#include <unistd.h>

namespace ifmatch::server {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);
constexpr std::size_t drain_limit = 1 << 20;
// The request head: request line, header fields and the empty line that ends them, counted
// from its first byte to its last (wire.md §5.4: 16-64 KiB for long presigned targets). A
// larger head is answered 400 RequestHeaderSectionTooLarge however its bytes arrive.
constexpr std::uint32_t head_limit = 64 * 1024;

using parser_t = http::request_parser<http::buffer_body>;

// Sixteen hex digits: the request's sequence number and 32 bits that make ids of different runs
// differ (a per-thread generator seeded once from OpenSSL; ids need not be unguessable).
std::string new_request_id(std::uint64_t n) {
    thread_local std::uint64_t state = [] {
        std::uint64_t seed = 0;
        RAND_bytes(reinterpret_cast<unsigned char *>(&seed), sizeof seed);
        return seed | 1;
    }();
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    static constexpr char hex[] = "0123456789ABCDEF";
    std::uint64_t v = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(n)) << 32) |
                      (state & 0xffffffffu);
    std::string id(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4) {
        id[static_cast<std::size_t>(i)] = hex[v & 15];
    }
    return id;
}

const std::string &date_now() {
    thread_local std::string cached;
    thread_local std::int64_t cached_sec = -1;
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (now.time_since_epoch().count() != cached_sec) {
        cached_sec = now.time_since_epoch().count();
        cached = protocol::format_http_date(now);
    }
    return cached;
}

// Body reads run under their own timer, which cancels the read instead of closing the socket
// (as tcp_stream's own time-out does), so a stalled body still gets its 400 RequestTimeout.
template <class Stream> class beast_body : public body_source {
public:
    beast_body(Stream &s, beast::flat_buffer &b, parser_t &p, const config &cfg,
               bool expect_continue)
        : stream_(s), buf_(b), parser_(p), cfg_(cfg), expect_(expect_continue) {}

    net::awaitable<protocol::result<std::size_t>> read(char *out, std::size_t n) override {
        if (expect_ && !parser_.is_done()) {
            expect_ = false;
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            auto [ec, w] = co_await net::async_write(
                stream_, net::buffer(cont, sizeof cont - 1), tuple_awaitable);
            if (ec) {
                co_return s3_error(s3_errc::incomplete_body);
            }
        }
        while (!parser_.is_done()) {
            parser_.get().body().data = out;
            parser_.get().body().size = n;
            if (buf_.size() > 0) {
                // Bytes already received (small bodies arrive with their head): parse them
                // here, without a read operation and its timer.
                beast::error_code pec;
                std::size_t used = parser_.put(buf_.data(), pec);
                buf_.consume(used);
                std::size_t got = n - parser_.get().body().size;
                if (pec && pec != http::error::need_buffer && pec != http::error::need_more) {
                    failed_ = true;
                    co_return s3_error(s3_errc::incomplete_body);
                }
                received_ += got;
                if (got > 0) {
                    co_return got;
                }
                if (used > 0 && pec != http::error::need_more) {
                    continue;
                }
            }
            auto &lowest = beast::get_lowest_layer(stream_);
            lowest.expires_never();
            net::steady_timer timer(lowest.get_executor());
            timer.expires_after(std::chrono::seconds(cfg_.idle_timeout));
            auto fired = std::make_shared<bool>(false);
            auto *sock = &lowest.socket();
            timer.async_wait([fired, sock](boost::system::error_code e) {
                if (!e) {
                    *fired = true;
                    boost::system::error_code ignored;
                    sock->cancel(ignored);
                }
            });
            auto [ec, r] = co_await http::async_read(stream_, buf_, parser_, tuple_awaitable);
            timer.cancel();
            std::size_t got = n - parser_.get().body().size;
            if (ec && ec != http::error::need_buffer) {
                failed_ = true;
                if (*fired) {
                    co_return s3_error(s3_errc::request_timeout);
                }
                co_return s3_error(s3_errc::incomplete_body);
            }
            received_ += got;
            if (got > 0) {
                co_return got;
            }
        }
        co_return std::size_t{0};
    }
    bool finished() const override { return parser_.is_done(); }
    bool failed() const { return failed_; }
    // An Expect: 100-continue the client still waits for (no body byte was asked for).
    bool continue_pending() const { return expect_ && !parser_.is_done(); }
    std::uint64_t received() const { return received_; }

private:
    Stream &stream_;
    beast::flat_buffer &buf_;
    parser_t &parser_;
    const config &cfg_;
    bool expect_;
    bool failed_ = false;
    std::uint64_t received_ = 0;
};

// Reads one request head into `p` and returns its error, if any: end_of_stream when the client
// closed before sending a byte, header_limit when the head exceeds head_limit. Beast's own
// header_limit counts only the bytes it has not yet parsed, and once a head arrived in part it
// waits for the head's end before parsing more fields, so the size it lets through depends on
// how the bytes were split (64 to about 128 KiB); here the head is counted as a whole. The
// parser keeps head_limit as its own limit, which it can reach only for a longer head.
template <class Stream>
net::awaitable<beast::error_code> read_head(Stream &s, beast::flat_buffer &buf, parser_t &p) {
    std::size_t parsed = 0; // bytes of the head the parser consumed
    for (;;) {
        if (buf.size() > 0) {
            beast::error_code ec;
            const auto used = p.put(buf.data(), ec);
            buf.consume(used);
            parsed += used;
            if (!ec && p.is_header_done()) {
                co_return parsed > head_limit ? beast::error_code(http::error::header_limit)
                                              : beast::error_code{};
            }
            if (ec && ec != http::error::need_more) {
                co_return ec;
            }
        }
        // Everything buffered belongs to the unfinished head.
        if (parsed + buf.size() > head_limit) {
            co_return http::error::header_limit;
        }
        auto space = buf.prepare(beast::read_size(buf, 65536));
        auto [ec, n] = co_await s.async_read_some(space, tuple_awaitable);
        buf.commit(n);
        if (ec == net::error::eof && p.got_some()) {
            beast::error_code eof;
            p.put_eof(eof); // a head cut short: partial_message
            co_return eof ? eof : beast::error_code(http::error::partial_message);
        }
        if (ec == net::error::eof) {
            co_return http::error::end_of_stream;
        }
        if (ec) {
            co_return ec;
        }
    }
}

// After an answer to a request that will not be read (a head too large or malformed), reads and
// discards what the client is still sending, for at most a second of silence, two seconds in all
// or 1 MiB, so that a client that sends its whole request before it reads sees the answer
// instead of a reset.
template <class Stream> net::awaitable<void> linger(Stream &s, beast::flat_buffer &buf) {
    auto &lowest = beast::get_lowest_layer(s);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::size_t discarded = 0;
    buf.consume(buf.size());
    while (discarded < (1u << 20) && std::chrono::steady_clock::now() < until) {
        lowest.expires_after(std::chrono::seconds(1));
        auto space = buf.prepare(64 * 1024);
        auto [ec, n] = co_await s.async_read_some(space, tuple_awaitable);
        if (ec) {
            break;
        }
        discarded += n;
    }
    buf.consume(buf.size());
}

request make_request(const parser_t &p, const std::string &remote, std::string id) {
    request r;
    auto &m = p.get();
    r.method = std::string(m.method_string());
    r.target = std::string(m.target());
    for (auto &f : m) {
        std::string name(f.name_string());
        for (auto &c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        r.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    if (auto cl = p.content_length()) {
        r.content_length = *cl;
    }
    r.chunked = p.chunked();
    r.remote = remote;
    r.request_id = std::move(id);
    return r;
}

bool same_field(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

// CR and LF in a field value (a response-* override taken from the query string can carry
// them) become spaces, so no value can start a field of its own.
void single_line(std::string &s, std::size_t from = 0) {
    std::replace_if(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                    [](char c) { return c == '\r' || c == '\n'; }, ' ');
}

// Appends "name: value\r\n" (value made single_line).
void append_field(std::string &out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    auto at = out.size();
    out += value;
    if (value.find_first_of("\r\n") != std::string_view::npos) {
        single_line(out, at);
    }
    out += "\r\n";
}

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

// The head of a response without an object body, serialised directly into one buffer: the
// same status line and fields common_headers + Beast's serializer produce (a later field of
// the same name replaces an earlier one, as with set()), at a fraction of the cost. Small
// responses (every PUT, error and XML answer) are then one buffer and one write.
// The status line and every field but Content-Length and Connection (see small_response).
void append_head(std::string &out, const response &r, const std::string &rid) {
    auto status = static_cast<http::status>(r.status);
    out += "HTTP/1.1 ";
    out += std::to_string(r.status);
    out += ' ';
    auto reason = http::obsolete_reason(status);
    out.append(reason.data(), reason.size());
    out += "\r\n";
    auto set_later = [&](std::string_view name, std::size_t from) {
        return std::any_of(r.headers.begin() + static_cast<std::ptrdiff_t>(from), r.headers.end(),
                           [&](const auto &h) { return same_field(h.first, name); });
    };
    const std::pair<std::string_view, std::string_view> common[] = {{"x-amz-request-id", rid},
                                                                    {"x-amz-id-2", rid},
                                                                    {"Date", date_now()},
                                                                    {"Server", "ifmatch"}};
    for (auto &[k, v] : common) {
        if (!set_later(k, 0)) {
            append_field(out, k, v);
        }
    }
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
        const auto &[k, v] = r.headers[i];
        if (!set_later(k, i + 1) && !same_field(k, "Content-Length") &&
            !same_field(k, "Connection")) {
            append_field(out, k, v);
        }
    }
}

// Content-Length (when the response has one), Connection: close, and the end of the head.
void end_head(std::string &out, std::optional<std::uint64_t> length, bool keep_alive) {
    if (length) {
        append_field(out, "Content-Length", std::to_string(*length));
    }
    if (!keep_alive) {
        out += "Connection: close\r\n";
    }
    out += "\r\n";
}

std::string small_response(const response &r, const std::string &rid, bool keep_alive) {
    std::string out;
    out.reserve(256 + r.body.size());
    append_head(out, r, rid);
    std::optional<std::uint64_t> length;
    if (r.head) {
        length = r.length;
    } else if (r.status != 304 && r.status != 204) {
        length = r.body.size();
    }
    end_head(out, length, keep_alive);
    if (!r.head && r.status != 304 && r.status != 204) {
        out += r.body;
    }
    return out;
}

template <class Stream>
net::awaitable<beast::error_code> write_small(Stream &s, const response &r,
                                              const std::string &rid, bool keep_alive) {
    std::string out = small_response(r, rid, keep_alive);
    auto [ec, n] = co_await net::async_write(s, net::buffer(out), tuple_awaitable);
    co_return ec;
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

// Streams `length` bytes starting at `offset` of the object's segments. Pieces of blob files
// are read on the body thread (body_pool.hpp), the next one while the current one is written.
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
                failed = beast::error_code(EIO, beast::system_category());
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

// Streams a live body as chunks until it ends or the client goes away; the server's stop
// cancels it like an idle connection.
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

response early_error(s3_errc code, const std::string &rid) {
    response r;
    s3_error e(code);
    r.status = e.status();
    r.body = protocol::render_error_xml(e, rid, rid);
    r.set("Content-Type", "application/xml");
    r.close = true;
    r.error_code = std::string(e.aws_code());
    return r;
}

// Reads and discards what is left of a body after an early answer, up to a bound (D4). Returns
// false (close the connection) without reading when the client still waits for 100 Continue or
// announced more than the bound.
template <class Stream>
net::awaitable<bool> drain(beast_body<Stream> &b, const parser_t &p) {
    if (b.finished()) {
        co_return true;
    }
    if (b.failed() || b.continue_pending()) {
        co_return false;
    }
    if (auto left = p.content_length_remaining(); left && *left > drain_limit) {
        co_return false;
    }
    std::vector<char> buf(64 * 1024);
    std::uint64_t drained = 0;
    while (!b.finished() && drained < drain_limit) {
        auto n = co_await b.read(buf.data(), buf.size());
        if (n.has_error() || *n == 0) {
            break;
        }
        drained += *n;
    }
    co_return b.finished();
}

// Serves requests on one connection until it closes, fails or goes idle.
template <class Stream>
net::awaitable<void> serve_requests(Stream &stream, const std::string &remote,
                                    session_shared &shared) {
    const config &cfg = shared.cfg;
    auto &lowest = beast::get_lowest_layer(stream);
    // Registered once for the connection's life: the server's stop asks (from any thread) and
    // the answer is given on this connection's own thread, closing the socket only while the
    // connection waits for a request.
    struct idle_state {
        bool idle = false;
        std::function<void()> close;
    };
    auto idle = std::make_shared<idle_state>();
    idle->close = [&lowest] { lowest.socket().close(); };
    auto token = shared.register_idle([idle, ex = lowest.get_executor()] {
        net::post(ex, [idle] {
            if (idle->idle && idle->close) idle->close();
        });
    });
    struct unregister {
        session_shared &shared;
        std::shared_ptr<idle_state> idle;
        std::uint64_t token;
        ~unregister() {
            idle->close = nullptr;
            shared.unregister_idle(token);
        }
    } unregister_at_end{shared, idle, token};
    beast::flat_buffer buffer;
    // Beast reads at most the buffer's free capacity per call: give bodies room to stream.
    buffer.reserve(128 * 1024);
    for (;;) {
        parser_t parser;
        parser.header_limit(head_limit);
        parser.body_limit(boost::none);
        lowest.expires_after(std::chrono::seconds(cfg.idle_timeout));
        if (shared.stopping) {
            break;
        }
        idle->idle = true;
        auto ec = co_await read_head(stream, buffer, parser);
        idle->idle = false;
        std::string rid = new_request_id(shared.next_id++);
        if (ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == beast::error::timeout || ec == net::error::operation_aborted ||
            ec == net::error::bad_descriptor || ec == net::error::connection_reset ||
            ec == net::ssl::error::stream_truncated) {
            break;
        }
        if (ec) {
            auto code = ec == http::error::header_limit ? s3_errc::request_header_section_too_large
                                                        : s3_errc::invalid_request;
            auto wec = co_await write_small(stream, early_error(code, rid), rid, false);
            if (!wec) {
                co_await linger(stream, buffer);
            }
            break;
        }
        auto started = std::chrono::steady_clock::now();
        request req = make_request(parser, remote, rid);
        bool expect = false;
        if (auto e = req.header("expect")) {
            expect = e->size() == 12 && (*e)[0] == '1';
        }
        beast_body<Stream> body(stream, buffer, parser, cfg, expect);
        context ctx{cfg, shared.db, req, body, {}, shared.db.start(), {}, {}, nullptr};
        response res;
        protocol::request_head head{req.method, req.target,
                                    req.header("host").value_or(std::string_view()),
                                    req.header("x-amz-copy-source").has_value()};
        auto cls = protocol::classify(head, cfg.domain);
        if (cls.has_error()) {
            res = error_response(cls.error(), ctx);
        } else {
            ctx.target = std::move(*cls);
            res = co_await dispatch(ctx);
        }
        bool drained = co_await drain(body, parser);
        bool keep = !res.close && drained && parser.get().keep_alive() && !shared.stopping;
        beast::error_code wec;
        if (res.live) {
            keep = false;
            wec = co_await write_live(stream, res, rid, shared);
        } else if (!res.segments.empty() && !res.head) {
            wec = co_await write_object(stream, res, rid, keep);
        } else {
            wec = co_await write_small(stream, res, rid, keep);
        }
        ctx.log.bytes_in = body.received();
        ctx.log.bytes_out = res.head ? 0 : (res.segments.empty() ? res.body.size() : res.length);
        if (ctx.log.error_code.empty()) ctx.log.error_code = res.error_code;
        auto took = std::chrono::steady_clock::now() - started;
        log_request(cfg, ctx, res.status, took);
        record_request(ctx, res.status, took);
        if (wec || !keep) {
            break;
        }
    }
}

} // namespace

std::string slow_down_response(session_shared &shared) {
    std::string rid = new_request_id(shared.next_id++);
    response r = early_error(s3_errc::slow_down, rid);
    return small_response(r, rid, false);
}

net::awaitable<void> run_session(tcp::socket sock, session_shared &shared,
                                 net::ssl::context *tls) {
    std::string remote;
    {
        beast::error_code ec;
        auto ep = sock.remote_endpoint(ec);
        remote = ec ? "" : ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    beast::error_code ignored;
    if (!tls) {
        beast::tcp_stream stream(std::move(sock));
        co_await serve_requests(stream, remote, shared);
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.socket().close(ignored);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(sock)), *tls);
    stream.next_layer().expires_after(std::chrono::seconds(shared.cfg.idle_timeout));
    auto token = shared.register_idle([&stream] { stream.next_layer().socket().close(); });
    auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, tuple_awaitable);
    shared.unregister_idle(token);
    if (!ec) {
        co_await serve_requests(stream, remote, shared);
        stream.next_layer().expires_after(std::chrono::seconds(2));
        auto [sec] = co_await stream.async_shutdown(tuple_awaitable);
        (void)sec;
    }
    stream.next_layer().socket().close(ignored);
}

} // namespace ifmatch::server
