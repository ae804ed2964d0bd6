// Streaming multipart/form-data (see form_data.hpp). The state machine works on a small buffer:
// in a part body everything but the last delimiter-length bytes is handed out at once.
#include "protocol/form_data.hpp"

#include "protocol/text.hpp"

namespace ifmatch::protocol {
namespace {

// The value of parameter `name` in `; a=b; name="v"` (quotes removed), or nullopt.
std::optional<std::string> param(std::string_view header, std::string_view name) {
    std::size_t pos = 0;
    while ((pos = header.find(';', pos)) != std::string_view::npos) {
        ++pos;
        auto rest = ascii::trim_ows(header.substr(pos));
        const auto eq = rest.find('=');
        if (eq == std::string_view::npos ||
            ascii::lower(ascii::trim_ows(rest.substr(0, eq))) != name)
            continue;
        auto v = rest.substr(eq + 1);
        if (!v.empty() && v.front() == '"') {
            const auto close = v.find('"', 1);
            return std::string(v.substr(1, close == std::string_view::npos ? close : close - 1));
        }
        return std::string(ascii::trim_ows(v.substr(0, v.find(';'))));
    }
    return std::nullopt;
}

s3_error malformed() { return s3_error(s3_errc::malformed_post_request); }

} // namespace

std::optional<std::string> form_boundary(std::string_view content_type) {
    if (ascii::lower(ascii::trim_ows(content_type.substr(0, content_type.find(';')))) !=
        "multipart/form-data") {
        return std::nullopt;
    }
    auto b = param(content_type, "boundary");
    if (!b || b->empty() || b->size() > 200)
        return std::nullopt;
    return b;
}

form_data_parser::form_data_parser(std::string boundary, handlers h)
    : dash_boundary_("--" + boundary), delimiter_("\r\n--" + boundary), h_(std::move(h)) {}

result<void> form_data_parser::parse_head(std::string_view head) {
    form_part_head p;
    bool named = false;
    while (!head.empty()) {
        const auto eol = head.find("\r\n");
        auto line = head.substr(0, eol);
        head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
        const auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return malformed();
        const auto name = ascii::lower(ascii::trim_ows(line.substr(0, colon)));
        const auto value = ascii::trim_ows(line.substr(colon + 1));
        if (name == "content-disposition") {
            if (ascii::lower(ascii::trim_ows(value.substr(0, value.find(';')))) != "form-data")
                return malformed();
            auto n = param(value, "name");
            if (!n)
                return malformed();
            p.name = *n;
            p.filename = param(value, "filename");
            named = true;
        } else if (name == "content-type") {
            p.content_type = std::string(value);
        }
    }
    if (!named)
        return malformed();
    if (h_.begin)
        h_.begin(p);
    return {};
}

result<bool> form_data_parser::step() {
    switch (state_) {
    case state::preamble: {
        const auto at = buf_.find(dash_boundary_);
        if (at == std::string::npos) {
            // Keep a boundary's length in case it straddles two chunks.
            if (buf_.size() > dash_boundary_.size())
                buf_.erase(0, buf_.size() - dash_boundary_.size());
            return false;
        }
        buf_.erase(0, at + dash_boundary_.size());
        state_ = state::after_boundary;
        return true;
    }
    case state::after_boundary: {
        // Optional transport padding, then CRLF (a part follows) or "--" (the end).
        const auto ws = buf_.find_first_not_of(" \t");
        if (ws == std::string::npos || buf_.size() < ws + 2)
            return false;
        if (buf_.compare(ws, 2, "--") == 0) {
            state_ = state::epilogue;
            buf_.clear();
            return false;
        }
        if (buf_.compare(ws, 2, "\r\n") != 0)
            return malformed();
        buf_.erase(0, ws + 2);
        state_ = state::head;
        return true;
    }
    case state::head: {
        const auto end = buf_.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (buf_.size() > 16384)
                return malformed();
            return false;
        }
        if (auto r = parse_head(std::string_view(buf_).substr(0, end)); r.has_error()) {
            return r.error();
        }
        buf_.erase(0, end + 4);
        state_ = state::body;
        return true;
    }
    case state::body: {
        const auto at = buf_.find(delimiter_);
        if (at == std::string::npos) {
            const auto keep = delimiter_.size() - 1;
            if (buf_.size() > keep) {
                if (h_.data)
                    h_.data(std::string_view(buf_).substr(0, buf_.size() - keep));
                buf_.erase(0, buf_.size() - keep);
            }
            return false;
        }
        if (at > 0 && h_.data)
            h_.data(std::string_view(buf_).substr(0, at));
        if (h_.end)
            h_.end();
        buf_.erase(0, at + delimiter_.size());
        state_ = state::after_boundary;
        return true;
    }
    case state::epilogue:
        buf_.clear();
        return false;
    }
    return false;
}

result<void> form_data_parser::feed(std::string_view chunk) {
    if (state_ == state::epilogue)
        return {};
    buf_.append(chunk);
    for (;;) {
        auto r = step();
        if (r.has_error())
            return r.error();
        if (!*r)
            return {};
    }
}

} // namespace ifmatch::protocol
