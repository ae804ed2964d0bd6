// The health probe: parse the URL, connect, GET, read the status line, all under one deadline.
#include "server/health_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

namespace ifmatch::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

struct url_parts {
    std::string host;
    std::string port = "80";
    std::string path = "/_ifmatch/health";
};

std::optional<url_parts> parse_url(std::string url) {
    const std::string scheme = "http://";
    if (url.rfind(scheme, 0) != 0) {
        return std::nullopt;
    }
    url = url.substr(scheme.size());
    url_parts u;
    auto slash = url.find('/');
    if (slash != std::string::npos) {
        u.path = url.substr(slash);
        url = url.substr(0, slash);
    }
    if (!url.empty() && url.front() == '[') {
        auto close = url.find(']');
        if (close == std::string::npos) return std::nullopt;
        u.host = url.substr(1, close - 1);
        if (close + 1 < url.size() && url[close + 1] == ':') u.port = url.substr(close + 2);
    } else if (auto colon = url.rfind(':'); colon != std::string::npos) {
        u.host = url.substr(0, colon);
        u.port = url.substr(colon + 1);
    } else {
        u.host = url;
    }
    if (u.host.empty() || u.port.empty()) {
        return std::nullopt;
    }
    return u;
}

} // namespace

std::string default_health_url(const std::string &listen_host, unsigned short port) {
    std::string host = listen_host;
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    return "http://" + host + ":" + std::to_string(port) + "/_ifmatch/health";
}

int probe_health(const std::string &url, int timeout_ms, std::string &reason) {
    auto u = parse_url(url);
    if (!u) {
        reason = "not an http:// URL: " + url;
        return 1;
    }
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    beast::flat_buffer buf;
    http::request<http::empty_body> req{http::verb::get, u->path, 11};
    req.set(http::field::host, u->host + ":" + u->port);
    req.set(http::field::user_agent, "ifmatch-health");
    req.keep_alive(false);
    http::response<http::string_body> res;
    beast::error_code failure;
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    resolver.async_resolve(u->host, u->port, [&](beast::error_code ec, tcp::resolver::results_type r) {
        if (ec) return void(failure = ec);
        stream.async_connect(r, [&](beast::error_code cec, const tcp::endpoint &) {
            if (cec) return void(failure = cec);
            http::async_write(stream, req, [&](beast::error_code wec, std::size_t) {
                if (wec) return void(failure = wec);
                http::async_read(stream, buf, res, [&](beast::error_code rec, std::size_t) {
                    failure = rec;
                });
            });
        });
    });
    ioc.run_for(std::chrono::milliseconds(timeout_ms + 500));
    if (failure || res.result_int() == 0) {
        reason = url + ": " + (failure ? failure.message() : std::string("no answer"));
        return 1;
    }
    std::string body = res.body().substr(0, std::min<std::size_t>(res.body().size(), 200));
    for (auto &ch : body) {
        if (ch == '\n' || ch == '\r') ch = ' ';
    }
    reason = url + ": HTTP " + std::to_string(res.result_int()) + " " + body;
    return res.result_int() == 200 ? 0 : 1;
}

} // namespace ifmatch::server
