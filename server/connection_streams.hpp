// The Beast types the connection's files share (server/session.cpp, request_reader.cpp,
// response_writer.cpp): the two streams a connection speaks over and its request parser. Include
// it from those files only: a Beast translation unit costs 15-25 s and ~0.7 GB to compile, so no
// header that handlers include may include this one. Used on the connection's thread only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace ifmatch::server {

// Plain HTTP and HTTPS; every template of the connection's files is instantiated for both.
using plain_stream = boost::beast::tcp_stream;
using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// One request: its head, then its body pulled piece by piece into the handler's buffer.
using request_parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

// Completion token of every socket operation here: errors come back as values (ec, ...).
inline constexpr auto tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);

} // namespace ifmatch::server
