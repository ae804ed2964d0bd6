// Response heads as bytes, and small responses in one buffer. See response_head.hpp.
#include "server/response_head.hpp"

#include "protocol/http_date.hpp"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace ifmatch::server {

namespace http = boost::beast::http;

const std::string &date_now() {
    thread_local std::string cached;
    thread_local std::int64_t cached_sec = -1;
    auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    if (now.time_since_epoch().count() != cached_sec) {
        cached_sec = now.time_since_epoch().count();
        cached = protocol::format_http_date(now);
    }
    return cached;
}

void single_line(std::string &s, std::size_t from) {
    std::replace_if(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                    [](char c) { return c == '\r' || c == '\n'; }, ' ');
}

namespace {

bool same_field(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

// Appends "name: value\r\n" (value made single_line).
void append_field(std::string &out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    auto at = out.size();
    out += value;
    if (value.find_first_of("\r\n") != std::string_view::npos) {
        single_line(out, at);
    }
    out += "\r\n";
}

} // namespace

// The same status line and fields common_headers (response_writer.cpp) + Beast's serializer
// produce, written directly into the buffer.
void append_head(std::string &out, const response &r, const std::string &rid) {
    auto status = static_cast<http::status>(r.status);
    out += "HTTP/1.1 ";
    out += std::to_string(r.status);
    out += ' ';
    auto reason = http::obsolete_reason(status);
    out.append(reason.data(), reason.size());
    out += "\r\n";
    auto set_later = [&](std::string_view name, std::size_t from) {
        return std::any_of(r.headers.begin() + static_cast<std::ptrdiff_t>(from), r.headers.end(),
                           [&](const auto &h) { return same_field(h.first, name); });
    };
    const std::pair<std::string_view, std::string_view> common[] = {{"x-amz-request-id", rid},
                                                                    {"x-amz-id-2", rid},
                                                                    {"Date", date_now()},
                                                                    {"Server", "ifmatch"}};
    for (auto &[k, v] : common) {
        if (!set_later(k, 0)) {
            append_field(out, k, v);
        }
    }
    for (std::size_t i = 0; i < r.headers.size(); ++i) {
        const auto &[k, v] = r.headers[i];
        if (!set_later(k, i + 1) && !same_field(k, "Content-Length") &&
            !same_field(k, "Connection")) {
            append_field(out, k, v);
        }
    }
}

void end_head(std::string &out, std::optional<std::uint64_t> length, bool keep_alive) {
    if (length) {
        append_field(out, "Content-Length", std::to_string(*length));
    }
    if (!keep_alive) {
        out += "Connection: close\r\n";
    }
    out += "\r\n";
}

std::string small_response(const response &r, const std::string &rid, bool keep_alive) {
    std::string out;
    out.reserve(256 + r.body.size());
    append_head(out, r, rid);
    std::optional<std::uint64_t> length;
    if (r.head) {
        length = r.length;
    } else if (r.status != 304 && r.status != 204) {
        length = r.body.size();
    }
    end_head(out, length, keep_alive);
    if (!r.head && r.status != 304 && r.status != 204) {
        out += r.body;
    }
    return out;
}

} // namespace ifmatch::server
