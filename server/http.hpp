// The server's view of one HTTP exchange without Beast types: the request head, a body source the
// handler pulls from, and the response a handler returns (small bodies as a string, object bodies
// as open stored segments). Used on the connection's strand only.
#pragma once

#include "protocol/errors.hpp"
#include "protocol/operation.hpp"
#include "storage/types.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmatch::server {

namespace net = boost::asio;

struct request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
    std::optional<std::uint64_t> content_length;
    bool chunked = false;
    std::string remote;
    std::string request_id;

    // Case-insensitive lookup of the first header with this name.
    std::optional<std::string_view> header(std::string_view name) const;
};

// Pulls the request body. read() returns 0 at the end of the body; an error is an s3_error
// (IncompleteBody, RequestTimeout, ...).
class body_source {
public:
    virtual ~body_source() = default;
    virtual net::awaitable<protocol::result<std::size_t>> read(char *buf, std::size_t n) = 0;
    // Whether the body has been read to its end.
    virtual bool finished() const = 0;
};

// A body produced over time (server-sent events): the session sends the head (chunked), then each
// piece next() yields until it yields nothing or the client goes away. cancel() may be called
// from any thread and makes next() yield nothing soon.
class live_body {
public:
    virtual ~live_body() = default;
    virtual net::awaitable<std::optional<std::string>> next() = 0;
    virtual void cancel() = 0;
};

struct response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;                           // small bodies
    std::vector<storage::body_segment> segments; // object bodies
    std::uint64_t offset = 0;                   // first byte of `segments` to send
    std::uint64_t length = 0;                   // bytes of `segments` to send
    bool head = false;                          // send Content-Length of the body, no bytes
    bool close = false;
    std::string error_code; // the S3 error <Code> of an error response (logs and metrics)
    std::shared_ptr<live_body> live;            // streamed body; the connection closes after it

    response &set(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
        return *this;
    }
};

} // namespace ifmatch::server
