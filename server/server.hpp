// The network side: an acceptor coroutine and one coroutine per connection on its own strand,
// served by a pool of I/O threads; optionally a second, HTTPS listener. Beast stays inside
// server.cpp and the connection's files (server/connection_streams.hpp).
#pragma once

#include "server/config.hpp"
#include "storage/object_store.hpp"

#include <memory>
#include <string>

namespace ifmatch::server {

class http_server {
public:
    http_server(const config &cfg, storage::object_store &db);
    ~http_server();

    // Binds the listen address; throws std::runtime_error when it cannot. Returns the bound
    // address as HOST:PORT (the port is the real one when 0 was asked for).
    std::string bind();
    // After bind(): the HTTPS address (HOST:PORT), or "" when TLS is off. Equal to bind()'s
    // result when TLS is served on --listen.
    std::string tls_address() const;
    // Runs the I/O threads until stop() completes; returns after every thread has joined.
    void run();
    // Stops accepting, closes idle connections, lets in-flight requests finish within the grace
    // period, then stops the I/O threads. Thread-safe; a second call forces an immediate stop.
    void stop();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace ifmatch::server
