// Reading a request: its head, its body through the parser (Expect: 100-continue, the body
// time-out), and what is left after an early answer (spec D4). See request_reader.hpp.
#include "server/request_reader.hpp"

#include "server/config.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <chrono>
#include <memory>
#include <vector>

namespace ifmatch::server {

namespace beast = boost::beast;
namespace http = beast::http;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

constexpr std::size_t drain_limit = 1 << 20;

} // namespace

// Beast's own header_limit counts only the bytes it has not yet parsed, and once a head arrived
// in part it waits for the head's end before parsing more fields, so the size it lets through
// depends on how the bytes were split (64 to about 128 KiB); here the head is counted as a
// whole. The parser keeps head_limit as its own limit, which it can reach only for a longer
// head.
template <class Stream>
net::awaitable<beast::error_code> read_head(Stream &s, beast::flat_buffer &buf, request_parser &p) {
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

request make_request(const request_parser &p, const std::string &remote, std::string id) {
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

template <class Stream>
net::awaitable<protocol::result<std::size_t>> beast_body<Stream>::read(char *out, std::size_t n) {
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

template <class Stream> net::awaitable<bool> drain(beast_body<Stream> &b, const request_parser &p) {
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

template class beast_body<plain_stream>;
template class beast_body<tls_stream>;

template net::awaitable<beast::error_code> read_head(plain_stream &, beast::flat_buffer &,
                                                     request_parser &);
template net::awaitable<beast::error_code> read_head(tls_stream &, beast::flat_buffer &,
                                                     request_parser &);
template net::awaitable<void> linger(plain_stream &, beast::flat_buffer &);
template net::awaitable<void> linger(tls_stream &, beast::flat_buffer &);
template net::awaitable<bool> drain(beast_body<plain_stream> &, const request_parser &);
template net::awaitable<bool> drain(beast_body<tls_stream> &, const request_parser &);

} // namespace ifmatch::server
