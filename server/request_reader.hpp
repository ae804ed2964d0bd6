// Reading a request from the connection: its head (read_head, make_request), its body as the
// handler's body_source (beast_body: Expect: 100-continue, the body time-out), and what is left
// of the request after an early answer (drain, linger; spec D4). Beast types: include from the
// connection's files only (server/connection_streams.hpp). Used on the connection's thread only.
// Every template here is defined and instantiated for plain_stream and tls_stream in
// request_reader.cpp.
#pragma once

#include "server/connection_streams.hpp"
#include "server/http.hpp"

#include <cstdint>
#include <string>

namespace ifmatch::server {

struct config;

// The request head: request line, header fields and the empty line that ends them, counted
// from its first byte to its last (wire.md §5.4: 16-64 KiB for long presigned targets). A
// larger head is answered 400 RequestHeaderSectionTooLarge however its bytes arrive.
constexpr std::uint32_t head_limit = 64 * 1024;

// Reads one request head into `p` and returns its error, if any: end_of_stream when the client
// closed before sending a byte, header_limit when the head exceeds head_limit, partial_message
// when it closed in the middle of a head.
template <class Stream>
net::awaitable<boost::beast::error_code> read_head(Stream &s, boost::beast::flat_buffer &buf,
                                                   request_parser &p);

// After an answer to a request that will not be read (a head too large or malformed), reads and
// discards what the client is still sending, for at most a second of silence, two seconds in all
// or 1 MiB, so that a client that sends its whole request before it reads sees the answer
// instead of a reset.
template <class Stream> net::awaitable<void> linger(Stream &s, boost::beast::flat_buffer &buf);

// The server's view (server/http.hpp) of the head `p` has parsed: header names lower-cased.
request make_request(const request_parser &p, const std::string &remote, std::string id);

// The request body as the handler's body_source, read through the parser that read the head.
// The first read() sends "100 Continue" when the client asked for it. Body reads run under
// their own timer, which cancels the read instead of closing the socket (as tcp_stream's own
// time-out does), so a stalled body still gets its 400 RequestTimeout.
template <class Stream> class beast_body : public body_source {
public:
    beast_body(Stream &s, boost::beast::flat_buffer &b, request_parser &p, const config &cfg,
               bool expect_continue)
        : stream_(s), buf_(b), parser_(p), cfg_(cfg), expect_(expect_continue) {}

    // Errors: IncompleteBody (malformed or cut short), RequestTimeout (idle time-out).
    net::awaitable<protocol::result<std::size_t>> read(char *out, std::size_t n) override;
    bool finished() const override { return parser_.is_done(); }
    bool failed() const { return failed_; }
    // An Expect: 100-continue the client still waits for (no body byte was asked for).
    bool continue_pending() const { return expect_ && !parser_.is_done(); }
    std::uint64_t received() const { return received_; }

private:
    Stream &stream_;
    boost::beast::flat_buffer &buf_;
    request_parser &parser_;
    const config &cfg_;
    bool expect_;
    bool failed_ = false;
    std::uint64_t received_ = 0;
};

extern template class beast_body<plain_stream>;
extern template class beast_body<tls_stream>;

// Reads and discards what is left of a body after an early answer, up to a bound (D4). Returns
// false (close the connection) without reading when the client still waits for 100 Continue or
// announced more than the bound.
template <class Stream> net::awaitable<bool> drain(beast_body<Stream> &b, const request_parser &p);

} // namespace ifmatch::server
