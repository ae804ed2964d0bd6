// Writing responses on the connection: a response without an object body in one write, an
// object body streamed from its stored segments (inline bytes, or pieces of a body_source read on
// the body thread, server/body_pool.hpp), a live body as chunks. Beast types: include from the
// connection's files only (server/connection_streams.hpp). Used on the connection's thread only.
// Every template here is defined and instantiated for plain_stream and tls_stream in
// response_writer.cpp.
#pragma once

#include "server/connection_streams.hpp"
#include "server/http.hpp"

#include <string>

namespace ifmatch::server {

struct session_shared;

// Writes a response without an object body (server/response_head.hpp's small_response).
template <class Stream>
net::awaitable<boost::beast::error_code> write_small(Stream &s, const response &r,
                                                     const std::string &rid, bool keep_alive);

// Streams r.length bytes starting at r.offset of the object's segments. An object of at most
// 64 KiB held in memory goes out in one write; otherwise pieces of blob files are read on the
// body thread, the next one while the current one is written. When a source cannot be read:
// EAGAIN if nothing was sent yet (the first piece; the caller answers an error instead), else EIO
// (the head went out: the connection can only be closed).
template <class Stream>
net::awaitable<boost::beast::error_code> write_object(Stream &s, const response &r,
                                                      const std::string &rid, bool keep_alive);

// Streams a live body (r.live) as chunks until it ends or the client goes away; the server's stop
// cancels it like an idle connection. The connection closes after it.
template <class Stream>
net::awaitable<boost::beast::error_code> write_live(Stream &s, const response &r,
                                                    const std::string &rid, session_shared &shared);

} // namespace ifmatch::server
