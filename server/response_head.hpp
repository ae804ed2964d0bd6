// A response's head (status line and fields) serialised straight into bytes, and a response
// without an object body as one buffer: the bytes Beast's serializer would write for the same
// response, at a fraction of the cost. No Beast types; used by the connection's files
// (server/session.cpp, server/response_writer.cpp). Safe from any thread.
#pragma once

#include "server/http.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace ifmatch::server {

// The Date header's value for now, formatted once a second per thread.
const std::string &date_now();

// CR and LF in a field value (a response-* override taken from the query string can carry
// them) become spaces, so no value can start a field of its own.
void single_line(std::string &s, std::size_t from = 0);

// Appends the status line and every field but Content-Length and Connection: x-amz-request-id,
// x-amz-id-2 (both `rid`), Date and Server, then r.headers. A later field of the same name
// replaces an earlier one, as Beast's set() does.
void append_head(std::string &out, const response &r, const std::string &rid);

// Appends Content-Length (when the response has one), Connection: close (unless `keep_alive`),
// and the empty line that ends the head.
void end_head(std::string &out, std::optional<std::uint64_t> length, bool keep_alive);

// A response without an object body, head and body in one buffer (every PUT, error and XML
// answer): one buffer and one write. HEAD answers carry the Content-Length of r.length and no
// body; 204 and 304 carry neither.
std::string small_response(const response &r, const std::string &rid, bool keep_alive);

} // namespace ifmatch::server
