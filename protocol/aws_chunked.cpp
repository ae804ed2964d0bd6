// aws-chunked body decoder (wire.md §2): a byte-at-a-time safe state machine over
//
//     <hex>[;chunk-signature=<sig>][;ext]\r\n <data> \r\n      (repeated)
//     0[;chunk-signature=<sig>]\r\n                             (final chunk)
//     [\r\n]  name:value\r\n ...  [x-amz-trailer-signature:<sig>\r\n]  \r\n
//
// RULES
// 1. Every line, data byte count and trailer count is bounded before it is buffered, so no input
//    can make the decoder allocate more than max_line bytes or crash.
// 2. Framing faults are IncompleteBody; limits, missing signatures and bad trailers are
//    InvalidRequest; a rejected signature is SignatureDoesNotMatch. The first error is sticky.
// 3. The chunk check runs once per chunk, after its data and CRLF (for the final chunk, right
//    after its size line); the trailer check runs once, when the trailer block ends.
// 4. An empty line directly after the final chunk is tolerated as a separator in trailer mode.
//    Unsigned, the body may also legitimately end there, so done() is already true (and, with no
//    trailer block to check, the trailer check is not run); signed, the trailer signature is
//    still owed, so it is not.

#include "protocol/aws_chunked.hpp"

#include "protocol/crypto.hpp"
#include "protocol/text.hpp"

#include <algorithm>

namespace ifmatch::protocol {

namespace {

constexpr std::size_t max_trailers = 64;
constexpr std::string_view signature_trailer = "x-amz-trailer-signature";

enum class phase {
    size_line,
    data,
    data_cr,
    data_lf,
    trailer_line,
    maybe_trailers,
    complete,
    failed
};

// True for RFC 9110 token characters, the only ones allowed in a trailer name.
bool is_token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

s3_error framing(std::string msg) { return {s3_errc::incomplete_body, std::move(msg)}; }
s3_error invalid(std::string msg) { return {s3_errc::invalid_request, std::move(msg)}; }

} // namespace

struct aws_chunked_decoder::impl {
    aws_chunked_options opts;
    chunk_signature_check chunk_check;
    trailer_signature_check trailer_check;
    phase state = phase::size_line;
    std::string line;            // the partial line being accumulated, without its '\n'
    std::uint64_t remaining = 0; // data bytes left in the current chunk
    std::string chunk_sig;       // chunk-signature of the current chunk
    digest chunk_hash{digest_kind::sha256};
    std::uint64_t decoded = 0;
    std::vector<std::pair<std::string, std::string>> trailers;
    std::string trailer_sig;
    bool saw_trailer_sig = false;
    s3_error error;

    explicit impl(aws_chunked_options o) : opts(o) {}

    result<void> fail(s3_error e) {
        state = phase::failed;
        error = e;
        return e;
    }
    bool hashing() const { return opts.signed_chunks && static_cast<bool>(chunk_check); }
    bool in_line_phase() const {
        return state == phase::size_line || state == phase::trailer_line ||
               state == phase::maybe_trailers;
    }

    result<void> feed(std::string_view in, const std::function<void(std::string_view)> &sink);
    result<void> take_line(std::string_view &in);
    result<void> take_data(std::string_view &in, const std::function<void(std::string_view)> &sink);
    result<void> take_crlf_byte(char c);
    result<void> on_line(std::string_view text);
    result<void> on_size_line(std::string_view text);
    result<void> on_trailer_line(std::string_view text);
    result<void> on_blank_after_final();
    result<void> check_chunk();
    result<void> finish_trailers();
};

result<void> aws_chunked_decoder::impl::feed(std::string_view in,
                                             const std::function<void(std::string_view)> &sink) {
    while (!in.empty()) {
        result<void> r;
        if (state == phase::failed) {
            return error;
        }
        if (state == phase::complete) {
            return fail(invalid("Unexpected data after the end of the aws-chunked body"));
        }
        if (in_line_phase()) {
            r = take_line(in);
        } else if (state == phase::data) {
            r = take_data(in, sink);
        } else {
            r = take_crlf_byte(in.front());
            in.remove_prefix(1);
        }
        if (r.has_error()) {
            return r;
        }
    }
    return state == phase::failed ? result<void>(error) : result<void>();
}

// Moves bytes up to and including the next '\n' into `line`; dispatches a completed line.
result<void> aws_chunked_decoder::impl::take_line(std::string_view &in) {
    auto nl = in.find('\n');
    std::size_t take = nl == std::string_view::npos ? in.size() : nl;
    if (line.size() + take > opts.max_line) {
        return fail(
            invalid("aws-chunked line exceeds " + std::to_string(opts.max_line) + " bytes"));
    }
    line.append(in.substr(0, take));
    in.remove_prefix(nl == std::string_view::npos ? take : take + 1);
    if (nl == std::string_view::npos) {
        return {};
    }
    if (line.empty() || line.back() != '\r') {
        return fail(framing("aws-chunked line not terminated by CRLF"));
    }
    line.pop_back();
    std::string text = std::move(line);
    line.clear();
    return on_line(text);
}

result<void>
aws_chunked_decoder::impl::take_data(std::string_view &in,
                                     const std::function<void(std::string_view)> &sink) {
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, in.size()));
    std::string_view piece = in.substr(0, n);
    if (hashing()) {
        chunk_hash.update(piece);
    }
    if (sink) {
        sink(piece);
    }
    remaining -= n;
    decoded += n;
    in.remove_prefix(n);
    if (remaining == 0) {
        state = phase::data_cr;
    }
    return {};
}

result<void> aws_chunked_decoder::impl::take_crlf_byte(char c) {
    if (state == phase::data_cr) {
        if (c != '\r') {
            return fail(framing("aws-chunked chunk data not followed by CRLF"));
        }
        state = phase::data_lf;
        return {};
    }
    if (c != '\n') {
        return fail(framing("aws-chunked chunk data not followed by CRLF"));
    }
    state = phase::size_line;
    return check_chunk();
}

result<void> aws_chunked_decoder::impl::on_line(std::string_view text) {
    if (state == phase::size_line) {
        return on_size_line(text);
    }
    if (text.empty()) {
        return on_blank_after_final();
    }
    return on_trailer_line(text);
}

// Parses `<hex>[;name[=value]]...` and starts the chunk it announces.
result<void> aws_chunked_decoder::impl::on_size_line(std::string_view text) {
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (; digits < text.size() && ascii::hex_value(text[digits]) >= 0; ++digits) {
        if (digits == 16) {
            return fail(invalid("aws-chunked chunk size too large"));
        }
        size = (size << 4) | static_cast<std::uint64_t>(ascii::hex_value(text[digits]));
    }
    std::string_view ext = text.substr(digits);
    if (digits == 0 || (!ext.empty() && ext.front() != ';')) {
        return fail(framing("Malformed aws-chunked chunk size line"));
    }
    if (size > opts.max_chunk_size) {
        return fail(
            invalid("aws-chunked chunk of " + std::to_string(size) + " bytes exceeds the limit"));
    }
    chunk_sig.clear();
    while (!ext.empty()) {
        ext.remove_prefix(1);
        std::string_view item = ext.substr(0, ext.find(';'));
        ext.remove_prefix(item.size());
        auto eq = item.find('=');
        if (ascii::trim_ows(item.substr(0, eq)) == "chunk-signature" &&
            eq != std::string_view::npos) {
            chunk_sig = std::string(ascii::trim_ows(item.substr(eq + 1)));
        }
    }
    if (opts.signed_chunks && chunk_sig.empty()) {
        return fail(invalid("aws-chunked chunk without chunk-signature in a signed body"));
    }
    if (size > 0) {
        remaining = size;
        state = phase::data;
        return {};
    }
    state = phase::trailer_line;
    return check_chunk();
}

// Runs the chunk check for the chunk that just completed (rule 3).
result<void> aws_chunked_decoder::impl::check_chunk() {
    if (!hashing()) {
        return {};
    }
    std::string hash = to_hex(chunk_hash.finish());
    if (!chunk_check(chunk_sig, hash)) {
        return fail(s3_error(s3_errc::signature_does_not_match,
                             "The aws-chunked chunk signature does not match"));
    }
    return {};
}

// An empty line after the final chunk: a tolerated separator or the end of the body (rule 4).
result<void> aws_chunked_decoder::impl::on_blank_after_final() {
    bool nothing_yet = trailers.empty() && !saw_trailer_sig;
    if (nothing_yet && opts.expect_trailer && state == phase::trailer_line) {
        state = phase::maybe_trailers;
        return {};
    }
    if (nothing_yet && !opts.expect_trailer) {
        state = phase::complete;
        return {};
    }
    return finish_trailers();
}

// Parses `name:value` (blanks allowed around ':') into `trailers` or the trailer signature.
result<void> aws_chunked_decoder::impl::on_trailer_line(std::string_view text) {
    if (!opts.expect_trailer) {
        return fail(invalid("aws-chunked trailer in a body that announced none"));
    }
    auto colon = text.find(':');
    std::string_view raw_name = ascii::trim_ows(text.substr(0, colon));
    if (colon == std::string_view::npos || raw_name.empty() ||
        !std::all_of(raw_name.begin(), raw_name.end(), is_token_char)) {
        return fail(invalid("Malformed aws-chunked trailer line"));
    }
    std::string name = ascii::lower(raw_name);
    std::string value(ascii::trim_ows(text.substr(colon + 1)));
    state = phase::trailer_line;
    if (name == signature_trailer) {
        if (saw_trailer_sig) {
            return fail(invalid("Duplicate x-amz-trailer-signature"));
        }
        saw_trailer_sig = true;
        trailer_sig = std::move(value);
        return {};
    }
    if (trailers.size() == max_trailers) {
        return fail(invalid("Too many aws-chunked trailers"));
    }
    trailers.emplace_back(std::move(name), std::move(value));
    return {};
}

// Canonicalises the trailers, runs the trailer check and completes the body (rule 3).
result<void> aws_chunked_decoder::impl::finish_trailers() {
    auto sorted = trailers;
    std::sort(sorted.begin(), sorted.end());
    std::string canonical;
    for (const auto &[name, value] : sorted) {
        canonical += name + ":" + value + "\n";
    }
    if (trailer_check && !trailer_check(canonical, trailer_sig)) {
        return fail(s3_error(s3_errc::signature_does_not_match,
                             "The aws-chunked trailer signature does not match"));
    }
    state = phase::complete;
    return {};
}

aws_chunked_decoder::aws_chunked_decoder(aws_chunked_options opts)
    : impl_(std::make_unique<impl>(opts)) {}
aws_chunked_decoder::~aws_chunked_decoder() = default;
aws_chunked_decoder::aws_chunked_decoder(aws_chunked_decoder &&) noexcept = default;
aws_chunked_decoder &aws_chunked_decoder::operator=(aws_chunked_decoder &&) noexcept = default;

void aws_chunked_decoder::on_chunk_signature(chunk_signature_check f) {
    impl_->chunk_check = std::move(f);
}

void aws_chunked_decoder::on_trailer_signature(trailer_signature_check f) {
    impl_->trailer_check = std::move(f);
}

result<void> aws_chunked_decoder::feed(std::string_view in,
                                       const std::function<void(std::string_view)> &sink) {
    return impl_->feed(in, sink);
}

bool aws_chunked_decoder::done() const {
    if (impl_->state == phase::complete) {
        return true;
    }
    return impl_->state == phase::maybe_trailers && impl_->line.empty() &&
           !impl_->opts.signed_chunks;
}

std::uint64_t aws_chunked_decoder::decoded_bytes() const { return impl_->decoded; }

const std::vector<std::pair<std::string, std::string>> &aws_chunked_decoder::trailers() const {
    return impl_->trailers;
}

} // namespace ifmatch::protocol
