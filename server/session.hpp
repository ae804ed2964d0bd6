// One connection: read a request head, classify, dispatch, stream the body in and the response
// out, keep the connection alive. No S3 rules here.
#pragma once

#include "server/http.hpp"
#include "storage/object_store.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <functional>

namespace boost::asio::ssl {
class context;
}

namespace ifmatch::server {

struct config;

// State shared by all sessions of one server.
struct session_shared {
    const config &cfg;
    storage::object_store &db;
    std::atomic<int> active{0};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> next_id{1};
    // Registers a cancel function for an idle session; returns a token for unregistering.
    std::function<std::uint64_t(std::function<void()>)> register_idle{};
    std::function<void(std::uint64_t)> unregister_idle{};
};

// The bytes of the 503 SlowDown answer to a connection the server will not serve (over
// --max-connections): an S3 error like every other, with RequestId and HostId in the XML, the
// x-amz-request-id, x-amz-id-2 and Date headers, and Connection: close. Safe from any thread.
std::string slow_down_response(session_shared &shared);

// Serves one accepted connection; with `tls` set, performs the TLS handshake first (under the idle
// time-out) and speaks HTTPS.
net::awaitable<void> run_session(net::ip::tcp::socket sock, session_shared &shared,
                                 net::ssl::context *tls);

} // namespace ifmatch::server
