// TLS set-up: builds the OpenSSL server context (TLS 1.2 or newer, the configured certificate
// chain and private key) for the HTTPS listener. Only tls.cpp and the connection's files
// (server/connection_streams.hpp) see Asio's SSL headers; everything else passes the context
// around through this forward declaration.
#pragma once

#include "server/config.hpp"

#include <memory>

namespace boost::asio::ssl {
class context;
}

namespace ifmatch::server {

// Loads cfg.tls_cert (PEM chain) and cfg.tls_key (PEM key). Throws std::runtime_error naming the
// file when either cannot be loaded or they do not match.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const config &cfg);

} // namespace ifmatch::server
