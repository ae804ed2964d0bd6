// Body framing, hashing and staging for PutObject (and later UploadPart).
#include "server/upload.hpp"

#include "protocol/crypto.hpp"
#include "protocol/meta_encoding.hpp"
#include "server/body_pool.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <span>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

std::string lower(std::string_view s) {
    std::string o(s);
    for (auto &c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
}

protocol::result<bool> plan_payload(const request &req, upload_plan &p) {
    auto sha = req.header("x-amz-content-sha256");
    auto enc = req.header("content-encoding");
    bool enc_chunked = enc && lower(*enc).find("aws-chunked") != std::string::npos;
    if (sha && sha->rfind("STREAMING-", 0) == 0) {
        if (*sha == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
            p.signed_chunks = true;
        } else if (*sha == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
            p.signed_chunks = p.trailer = true;
        } else if (*sha == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
            p.trailer = true;
        } else {
            return s3_error(s3_errc::not_implemented).with("Header", "x-amz-content-sha256");
        }
        p.aws_chunked = true;
    } else if (sha && is_hex64(*sha)) {
        p.sha256_hex = lower(*sha);
    } else if (sha && *sha != "UNSIGNED-PAYLOAD") {
        return s3_error(s3_errc::invalid_argument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                                                   "STREAMING-... or a SHA-256 hex digest.")
            .with("ArgumentName", "x-amz-content-sha256")
            .with("ArgumentValue", std::string(*sha));
    } else if (enc_chunked) {
        p.aws_chunked = true;
        p.trailer = req.header("x-amz-trailer").has_value();
    }
    if (req.chunked && !p.aws_chunked) {
        return s3_error(s3_errc::not_implemented).with("Header", "Transfer-Encoding");
    }
    if (!req.chunked && !req.content_length) {
        return s3_error(s3_errc::missing_content_length);
    }
    if (p.aws_chunked) {
        if (auto d = req.header("x-amz-decoded-content-length")) {
            try {
                p.decoded_length = std::stoull(std::string(*d));
            } catch (...) {
                return s3_error(s3_errc::invalid_argument, "Invalid x-amz-decoded-content-length");
            }
        }
    }
    return true;
}

protocol::result<bool> plan_checksums(const request &req, upload_plan &p) {
    if (auto md5 = req.header("content-md5")) {
        auto raw = protocol::base64_decode(*md5);
        if (!raw || raw->size() != 16) {
            return s3_error(s3_errc::invalid_digest);
        }
        p.content_md5 = *raw;
    }
    int headers = 0;
    for (auto &[k, v] : req.headers) {
        if (auto a = protocol::checksum_algo_from_header(k)) {
            ++headers;
            p.algo = a;
            p.checksum_value = v;
        } else if (k.rfind("x-amz-checksum-", 0) == 0 && k != "x-amz-checksum-algorithm" &&
                   k != "x-amz-checksum-type" && k != "x-amz-checksum-mode") {
            return s3_error(s3_errc::invalid_request, "The algorithm type you specified in " + k +
                                                          " header is invalid.");
        }
    }
    if (headers > 1) {
        return s3_error(s3_errc::invalid_request, "Expecting a single x-amz-checksum- header. "
                                                  "Multiple checksum Types are not allowed.");
    }
    if (auto tr = req.header("x-amz-trailer")) {
        auto a = protocol::checksum_algo_from_header(lower(*tr));
        if (!a) {
            return s3_error(s3_errc::invalid_request, "The value specified in the x-amz-trailer "
                                                      "header is not supported");
        }
        if (headers > 0 && !p.signed_chunks) {
            return s3_error(s3_errc::invalid_request, "Expecting a single x-amz-checksum- header");
        }
        if (!p.algo) {
            p.algo = a;
        }
    }
    if (!p.algo) {
        if (auto name = req.header("x-amz-sdk-checksum-algorithm")) {
            auto a = protocol::checksum_algo_from_name(*name);
            if (!a) {
                return s3_error(s3_errc::invalid_request,
                                "Checksum algorithm provided is unsupported.");
            }
            // The value arrives in a trailer or not at all; computed and stored either way.
            p.algo = a;
        }
    }
    return true;
}

} // namespace

protocol::result<upload_plan> plan_upload(const context &ctx) {
    upload_plan p;
    if (auto r = plan_payload(ctx.req, p); r.has_error()) {
        return r.error();
    }
    if (auto r = plan_checksums(ctx.req, p); r.has_error()) {
        return r.error();
    }
    std::uint64_t declared = p.decoded_length.value_or(ctx.req.content_length.value_or(0));
    if (declared > ctx.cfg.max_object_size) {
        return s3_error(s3_errc::entity_too_large)
            .with("ProposedSize", std::to_string(declared))
            .with("MaxSizeAllowed", std::to_string(ctx.cfg.max_object_size));
    }
    return p;
}

namespace {

struct hashing_sink {
    std::unique_ptr<storage::body_sink> sink_owner;
    storage::body_sink &writer;
    protocol::digest md5{protocol::digest_kind::md5};
    std::optional<protocol::digest> sha;
    std::optional<protocol::checksum> sum;
    std::uint64_t size = 0;
    std::uint64_t max = 0;
    bool write_failed = false;
    bool too_large = false;

    hashing_sink(storage::object_store &db, const upload_plan &p, std::uint64_t max_size)
        : sink_owner(db.new_body()), writer(*sink_owner), max(max_size) {
        if (p.sha256_hex) sha.emplace(protocol::digest_kind::sha256);
        if (p.algo) sum.emplace(*p.algo);
    }

    void operator()(std::string_view data) {
        size += data.size();
        if (size > max) {
            too_large = true;
            return;
        }
        md5.update(data);
        if (sha) sha->update(data);
        if (sum) sum->update(data);
        if (!write_failed && !writer.append(data)) {
            write_failed = true;
        }
    }
};

protocol::result<bool> verify(const upload_plan &p, hashing_sink &s,
                              const protocol::aws_chunked_decoder *dec, upload_result &out) {
    if (p.sha256_hex && protocol::to_hex(s.sha->finish()) != *p.sha256_hex) {
        return s3_error(s3_errc::x_amz_content_sha256_mismatch)
            .with("ClientComputedContentSHA256", *p.sha256_hex);
    }
    std::string md5 = s.md5.finish();
    if (p.content_md5 && *p.content_md5 != md5) {
        return s3_error(s3_errc::bad_digest)
            .with("ExpectedDigest", protocol::base64_encode(*p.content_md5));
    }
    out.etag = "\"" + protocol::to_hex(md5) + "\"";
    if (!p.algo) {
        return true;
    }
    std::string got = s.sum->finish_base64();
    std::optional<std::string> expected = p.checksum_value;
    if (dec) {
        for (auto &[k, v] : dec->trailers()) {
            if (protocol::checksum_algo_from_header(k) == p.algo) expected = v;
        }
    }
    std::string name(protocol::checksum_name(*p.algo));
    if (expected && *expected != got) {
        return s3_error(s3_errc::bad_digest, "The " + name +
                                                 " you specified did not match the calculated "
                                                 "checksum.");
    }
    out.checksums.emplace_back(name, got);
    return true;
}

} // namespace

net::awaitable<protocol::result<upload_result>> receive_upload(context &ctx,
                                                               const upload_plan &plan) {
    hashing_sink sink(ctx.db, plan, ctx.cfg.max_object_size);
    std::optional<protocol::aws_chunked_decoder> dec;
    if (plan.aws_chunked) {
        protocol::aws_chunked_options o;
        o.signed_chunks = plan.signed_chunks;
        o.expect_trailer = plan.trailer;
        dec.emplace(o);
        if (plan.signed_chunks && ctx.chunk_signer) {
            ctx.chunk_signer->attach(*dec); // signed mode: chunk and trailer signatures
        }
    }
    // Fitted to the declared length and left uninitialised: zeroing 256 KiB per small PUT cost
    // more than storing it.
    const auto buf_size = static_cast<std::size_t>(std::clamp<std::uint64_t>(
        ctx.req.content_length.value_or(256 * 1024), 4 * 1024, 256 * 1024));
    auto buf_owner = std::make_unique_for_overwrite<char[]>(buf_size);
    std::span<char> buf(buf_owner.get(), buf_size);
    std::function<void(std::string_view)> fn = [&sink](std::string_view d) { sink(d); };
    const bool offload = ctx.req.content_length.value_or(SIZE_MAX) > ctx.db.inline_limit();
    std::string_view chunk;
    protocol::result<void> fed;
    auto feed = [&] {
        if (dec) {
            fed = dec->feed(chunk, fn);
        } else {
            sink(chunk);
        }
    };
    if (!offload) {
        for (;;) {
            auto n = co_await ctx.body.read(buf.data(), buf.size());
            if (n.has_error()) {
                co_return n.error();
            }
            if (*n == 0) {
                break;
            }
            chunk = std::string_view(buf.data(), *n);
            feed();
            if (fed.has_error()) {
                co_return fed.error();
            }
            if (sink.too_large) {
                co_return s3_error(s3_errc::entity_too_large);
            }
        }
    } else {
        // Two buffers: the pool hashes and stores one piece while the next is read.
        auto second = std::make_unique_for_overwrite<char[]>(buf_size);
        std::array<char *, 2> bufs{buf_owner.get(), second.get()};
        std::size_t cur = 0;
        auto ex = co_await net::this_coro::executor;
        body_job job(ex);
        const std::function<void()> feed_job = feed; // made only for bodies that go to the pool
        std::optional<s3_error> stop;
        std::exception_ptr thrown;
        try {
            for (;;) {
                auto n = co_await ctx.body.read(bufs[cur], buf_size);
                auto previous = finish_body_job(job);
                co_await std::move(previous);
                if (n.has_error()) {
                    stop = n.error();
                    break;
                }
                if (fed.has_error()) {
                    stop = fed.error();
                    break;
                }
                if (sink.too_large) {
                    stop = s3_error(s3_errc::entity_too_large);
                    break;
                }
                if (*n == 0) {
                    break;
                }
                chunk = std::string_view(bufs[cur], *n);
                start_body_job(job, feed_job, ex);
                cur ^= 1;
            }
        } catch (...) {
            thrown = std::current_exception();
        }
        auto last = finish_body_job(job); // no co_await inside a handler (body_pool.hpp RULE 1)
        co_await std::move(last);
        if (thrown) {
            std::rethrow_exception(thrown);
        }
        if (stop) {
            co_return *stop;
        }
    }
    if (sink.write_failed) {
        co_return s3_error(s3_errc::internal_error,
                           "The object could not be stored: " + sink.writer.error());
    }
    if (dec && !dec->done()) {
        co_return s3_error(s3_errc::incomplete_body);
    }
    if (plan.decoded_length && *plan.decoded_length != sink.size) {
        co_return s3_error(s3_errc::incomplete_body);
    }
    upload_result out;
    if (auto v = verify(plan, sink, dec ? &*dec : nullptr, out); v.has_error()) {
        co_return v.error();
    }
    out.size = sink.size;
    if (offload) {
        // Handing a large body over may finish storing it (a last piece, a flush): body thread.
        auto released = on_body_thread([&] { out.body = sink.writer.release(); });
        co_await std::move(released);
    } else {
        out.body = sink.writer.release();
    }
    co_return out;
}

protocol::result<storage::object_meta> meta_from_request(const request &req) {
    storage::object_meta m;
    std::size_t meta_size = 0;
    for (auto &[k, v] : req.headers) {
        if (k == "content-type") m.content_type = v;
        else if (k == "content-disposition") m.content_disposition = v;
        else if (k == "content-language") m.content_language = v;
        else if (k == "cache-control") m.cache_control = v;
        else if (k == "expires") m.expires = v;
        else if (k == "content-encoding") m.content_encoding = protocol::strip_aws_chunked(v);
        else if (k.rfind("x-amz-meta-", 0) == 0) {
            // Stored decoded (RFC 2047 words, ISO-8859-1 bytes), returned encoded (wire.md §5.6).
            auto value = protocol::decode_meta_value(v);
            meta_size += k.size() - 11 + value.size();
            m.user.emplace_back(k.substr(11), std::move(value));
        } else if (k == "x-amz-storage-class" || k == "x-amz-website-redirect-location" ||
                   k == "x-amz-server-side-encryption") {
            // The KMS key id and bucket-key flag are added by store_write_surface (surface.hpp).
            m.extra.emplace_back(k, v);
        }
    }
    if (meta_size > 2048) {
        return s3_error(s3_errc::metadata_too_large)
            .with("Size", std::to_string(meta_size))
            .with("MaxSizeAllowed", "2048");
    }
    return m;
}

void add_meta_headers(response &res, const storage::object_meta &m) {
    res.set("Content-Type", m.content_type.empty() ? "binary/octet-stream" : m.content_type);
    if (!m.content_encoding.empty()) res.set("Content-Encoding", m.content_encoding);
    if (!m.content_disposition.empty()) res.set("Content-Disposition", m.content_disposition);
    if (!m.content_language.empty()) res.set("Content-Language", m.content_language);
    if (!m.cache_control.empty()) res.set("Cache-Control", m.cache_control);
    if (!m.expires.empty()) res.set("Expires", m.expires);
    for (auto &[k, v] : m.user) res.set("x-amz-meta-" + k, protocol::encode_meta_value(v));
    for (auto &[k, v] : m.extra) {
        if (k == "x-amz-tagging") {
            // Tags are stored encoded; only their number is a response header.
            auto tags = std::count(v.begin(), v.end(), '&') + 1;
            res.set("x-amz-tagging-count", std::to_string(tags));
        } else if (k.rfind("x-ifmatch-", 0) != 0 &&
                   (k != "x-amz-storage-class" || v != "STANDARD")) {
            res.set(k, v);
        }
    }
}

std::string describe_conditions(const context &ctx) {
    static const char *names[] = {"if-match",
                                  "if-none-match",
                                  "if-modified-since",
                                  "if-unmodified-since",
                                  "x-amz-copy-source-if-match",
                                  "x-amz-copy-source-if-none-match",
                                  "x-amz-copy-source-if-modified-since",
                                  "x-amz-copy-source-if-unmodified-since"};
    std::string out;
    auto look = ctx.lookup();
    for (const char *n : names) {
        if (auto v = look(n)) {
            out += (out.empty() ? "" : "; ") + std::string(n) + ": " + std::string(*v);
        }
    }
    return out;
}

} // namespace ifmatch::server
