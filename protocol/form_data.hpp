// A streaming multipart/form-data parser (RFC 7578) for POST Object: bodies arrive in chunks of
// any size and part contents are handed out as they come, so a multi-gigabyte file part never sits
// in memory (only a boundary's length of look-behind is buffered). Hand-written because no library
// packaged in Debian parses multipart/form-data incrementally for C++. Pure.
#pragma once

#include "protocol/errors.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

struct form_part_head {
    std::string name;                    // Content-Disposition name
    std::optional<std::string> filename; // present for file parts
    std::string content_type;
};

// The boundary parameter of a `multipart/form-data; boundary=…` Content-Type (quotes removed), or
// nullopt when the media type is not multipart/form-data or has no boundary.
std::optional<std::string> form_boundary(std::string_view content_type);

class form_data_parser {
  public:
    struct handlers {
        std::function<void(const form_part_head &)> begin;
        std::function<void(std::string_view)> data;
        std::function<void()> end;
    };

    form_data_parser(std::string boundary, handlers h);

    // Consumes the next bytes of the body. Errors: MalformedPOSTRequest (a part head larger than
    // 16 KiB, a head without a form-data Content-Disposition name, garbage after a boundary).
    result<void> feed(std::string_view chunk);
    // True once the closing boundary `--boundary--` has been seen.
    bool done() const { return state_ == state::epilogue; }

  private:
    enum class state { preamble, after_boundary, head, body, epilogue };
    result<bool> step(); // one state transition on buf_; false when more input is needed
    result<void> parse_head(std::string_view head);

    std::string dash_boundary_; // "--" + boundary
    std::string delimiter_;     // "\r\n--" + boundary
    handlers h_;
    state state_ = state::preamble;
    std::string buf_;
};

} // namespace ifmatch::protocol
