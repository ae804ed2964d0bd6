// OpenSSL server context for HTTPS.
#include "server/tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <stdexcept>

namespace ifmatch::server {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_tls_context(const config &cfg) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                     ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cfg.tls_cert, ec);
    if (ec) {
        throw std::runtime_error("cannot load TLS certificate " + cfg.tls_cert + ": " +
                                 ec.message());
    }
    ctx->use_private_key_file(cfg.tls_key, ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("cannot load TLS key " + cfg.tls_key + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        throw std::runtime_error("TLS key " + cfg.tls_key + " does not match certificate " +
                                 cfg.tls_cert);
    }
    return ctx;
}

} // namespace ifmatch::server
