// The ceiling: the least an HTTP/1.1 object server on Boost.Beast can do. Two I/O threads,
// keep-alive, a fixed 1 KiB body for GET/HEAD, and PUT bodies read in 64 KiB pieces and hashed
// with MD5 (as a real store must) before a 200 with the ETag. Usage: ceiling_server PORT.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <thread>

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

namespace {

const std::string g_object(1024, 'x');

// Reads the body of a request whose head `p` already holds into `piece` (the connection's
// buffer), feeding every byte to MD5. Returns the quoted hex digest, or "" when the connection
// failed.
net::awaitable<std::string> hash_body(tcp::socket &s, boost::beast::flat_buffer &buf,
                                      http::request_parser<http::buffer_body> &p,
                                      std::span<char> piece) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_md5(), nullptr);
    while (!p.is_done()) {
        p.get().body().data = piece.data();
        p.get().body().size = piece.size();
        auto [ec, n] = co_await http::async_read(s, buf, p, tuple_awaitable);
        if (ec && ec != http::error::need_buffer) {
            EVP_MD_CTX_free(md);
            co_return std::string();
        }
        EVP_DigestUpdate(md, piece.data(), piece.size() - p.get().body().size);
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, d, &len);
    EVP_MD_CTX_free(md);
    std::string hex = "\"";
    for (unsigned i = 0; i < len; ++i) {
        static const char *digits = "0123456789abcdef";
        hex += digits[d[i] >> 4];
        hex += digits[d[i] & 15];
    }
    co_return hex + "\"";
}

// Serves one connection until the peer closes it or asks for Connection: close.
net::awaitable<void> session(tcp::socket s) {
    boost::beast::flat_buffer buf;
    auto piece_owner = std::make_unique_for_overwrite<char[]>(64 * 1024);
    std::span<char> piece(piece_owner.get(), 64 * 1024);
    for (;;) {
        http::request_parser<http::buffer_body> p;
        p.body_limit(boost::none);
        auto [ec, n] = co_await http::async_read_header(s, buf, p, tuple_awaitable);
        if (ec) {
            break;
        }
        http::response<http::string_body> res{http::status::ok, 11};
        res.set(http::field::server, "ceiling");
        if (p.get().method() == http::verb::put) {
            auto etag = co_await hash_body(s, buf, p, piece);
            if (etag.empty()) {
                break;
            }
            res.set(http::field::etag, etag);
        } else {
            res.body() = g_object;
            res.set(http::field::etag, "\"ceiling\"");
        }
        res.keep_alive(p.get().keep_alive());
        res.prepare_payload();
        if (p.get().method() == http::verb::head) {
            res.body().clear();
        }
        http::response_serializer<http::string_body> sr{res};
        sr.split(false);
        if (p.get().method() == http::verb::head) {
            auto [wec, wn] = co_await http::async_write_header(s, sr, tuple_awaitable);
            if (wec) break;
        } else {
            auto [wec, wn] = co_await http::async_write(s, sr, tuple_awaitable);
            if (wec) break;
        }
        if (!res.keep_alive()) {
            break;
        }
    }
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> accept_loop(tcp::acceptor &a) {
    for (;;) {
        auto [ec, s] = co_await a.async_accept(tuple_awaitable);
        if (ec) {
            continue;
        }
        s.set_option(tcp::no_delay(true));
        auto ex = s.get_executor();
        net::co_spawn(ex, session(std::move(s)), net::detached);
    }
}

} // namespace

int main(int argc, char **argv) {
    unsigned short port = argc > 1 ? static_cast<unsigned short>(std::stoi(argv[1])) : 9100;
    net::io_context io{2};
    tcp::acceptor a{io, {net::ip::make_address("127.0.0.1"), port}};
    net::co_spawn(io, accept_loop(a), net::detached);
    std::printf("listening on http://127.0.0.1:%u\n", a.local_endpoint().port());
    std::fflush(stdout);
    std::thread t([&] { io.run(); });
    io.run();
    t.join();
}
