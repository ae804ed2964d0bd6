// The connection: serves requests one after the other until the client closes, a request fails,
// the connection goes idle or the server stops. Per request: read the head, classify, dispatch,
// drain what the handler did not read (spec D4), write the response, log it. Written once for any
// stream (plain TCP or TLS over TCP); the TLS handshake runs under the idle time-out. Reading the
// request is request_reader.cpp's, writing the response response_writer.cpp's.
#include "server/session.hpp"

#include "server/config.hpp"
#include "server/handlers.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "server/request_reader.hpp"
#include "server/response_head.hpp"
#include "server/response_writer.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/rand.h>

#include <chrono>
#include <functional>
#include <memory>

namespace ifmatch::server {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

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

// The error answered before a request could be read (its head too large or malformed, or the
// server over --max-connections); the connection closes after it.
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
        request_parser parser;
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
            // A named local: no temporary inside the co_await (docs/architecture.md §4).
            const response early = early_error(code, rid);
            auto wec = co_await write_small(stream, early, rid, false);
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
        // A read never decides against its start (D3); a backend may pay for a token.
        const bool reads = req.method == "GET" || req.method == "HEAD";
        context ctx{cfg,  shared.db, req, body, {}, reads ? storage::start_token{} : shared.db.start(),
                    {},   {},        nullptr, nullptr};
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
            if (wec == beast::error_code(EAGAIN, beast::system_category())) {
                // The body's first piece could not be read (its store went away mid-request):
                // nothing was sent, so the client gets an error it may retry, not a cut.
                res = error_response(
                    s3_error(s3_errc::service_unavailable,
                             "The object's stored body could not be read; retry the request."),
                    ctx);
                keep = false;
                wec = co_await write_small(stream, res, rid, keep);
            }
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
        plain_stream stream(std::move(sock));
        co_await serve_requests(stream, remote, shared);
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream.socket().close(ignored);
        co_return;
    }
    tls_stream stream(plain_stream(std::move(sock)), *tls);
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
