// UploadPartCopy (spec §7.1, R-L5): the source and its conditions (412 with
// x-amz-copy-source-If-...), x-amz-copy-source-range, and the part body: the source's stored body
// shared when a whole single-part object is copied, else the range's bytes copied into a new blob
// (MD5 and the upload's checksum computed on the way).
#include "server/body_pool.hpp"
#include "server/copy_source.hpp"
#include "server/handlers.hpp"
#include "server/multipart_common.hpp"
#include "server/store_calls.hpp"
#include "server/upload.hpp"

#include "protocol/checksum.hpp"
#include "protocol/crypto.hpp"
#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

#include <unistd.h>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

void note_write_failure(context &ctx, const s3_error &e);

namespace {

struct byte_range {
    std::uint64_t first = 0, length = 0;
    bool whole = true;
};

// x-amz-copy-source-range: bytes=first-last, inside the source.
protocol::result<byte_range> copy_range(const context &ctx, std::uint64_t size) {
    byte_range r;
    r.length = size;
    auto h = ctx.req.header("x-amz-copy-source-range");
    if (!h) {
        return r;
    }
    std::string v(*h);
    auto bad = s3_error(s3_errc::invalid_argument,
                        "The x-amz-copy-source-range value must be of the form bytes=first-last "
                        "where first and last are the zero-based offsets of the first and last "
                        "bytes to copy")
                   .with("ArgumentName", "x-amz-copy-source-range")
                   .with("ArgumentValue", v);
    auto dash = v.find('-');
    if (v.rfind("bytes=", 0) != 0 || dash == std::string::npos) return bad;
    std::uint64_t first = 0, last = 0;
    try {
        std::size_t a = 0, b = 0;
        auto s1 = v.substr(6, dash - 6), s2 = v.substr(dash + 1);
        if (s1.empty() || s2.empty() || s1[0] == '-' || s2[0] == '-') return bad;
        first = std::stoull(s1, &a);
        last = std::stoull(s2, &b);
        if (a != s1.size() || b != s2.size() || last < first) return bad;
    } catch (...) {
        return bad;
    }
    // As S3 answers ([LS-API] in docs/conditional-requests.md): a range that starts beyond the
    // source is InvalidRequest, one that only ends beyond it InvalidArgument (never InvalidRange).
    if (first >= size) {
        return s3_error(s3_errc::invalid_request, "The specified copy range is invalid for the "
                                                  "source object size");
    }
    if (last >= size) {
        return s3_error(s3_errc::invalid_argument, "Range specified is not valid for source "
                                                   "object of size: " + std::to_string(size))
            .with("ArgumentName", "x-amz-copy-source-range")
            .with("ArgumentValue", v);
    }
    r.first = first;
    r.length = last - first + 1;
    r.whole = first == 0 && r.length == size;
    return r;
}

struct copy_lookup {
    storage::upload_info upload;
    storage::object_read source;
};

// NoSuchUpload first, then the source (NoSuchBucket / NoSuchKey / NoSuchVersion); a delete
// marker found is judged by protocol::decide_copy_source with the source conditions.
net::awaitable<protocol::result<copy_lookup>> look_up(context &ctx, const std::string &id,
                                                      const copy_source &src) {
    auto bucket = ctx.target.bucket;
    auto key = ctx.target.key;
    storage::get_request g;
    g.bucket = src.bucket;
    g.key = src.key;
    g.version_id = src.version_id;
    auto upload = id;
    auto u_call = store_call<storage::upload_info>(
        [&](auto done) { ctx.db.find_upload(bucket, key, upload, std::move(done)); });
    auto u = co_await std::move(u_call);
    if (u.has_error()) {
        co_return u.error();
    }
    auto o_call =
        store_call<storage::object_read>([&](auto done) { ctx.db.get_object(g, std::move(done)); });
    auto o = co_await std::move(o_call);
    if (o.has_error()) {
        co_return o.error();
    }
    co_return copy_lookup{std::move(*u), std::move(*o)};
}

// Copies [first, first+length) of the source's segments into a staged body.
protocol::result<storage::staged_body> copy_bytes(context &ctx, const storage::object_read &src,
                                                  byte_range r, const std::string &algo,
                                                  storage::part_info &part) {
    auto sink = ctx.db.new_body();
    auto &w = *sink;
    protocol::digest md5(protocol::digest_kind::md5);
    std::optional<protocol::checksum> sum;
    if (auto a = protocol::checksum_algo_from_name(algo)) sum.emplace(*a);
    std::vector<char> buf(256 * 1024);
    std::uint64_t skip = r.first, left = r.length;
    for (auto &seg : src.segments) {
        if (left == 0) break;
        if (skip >= seg.size) {
            skip -= seg.size;
            continue;
        }
        std::uint64_t pos = skip;
        skip = 0;
        while (pos < seg.size && left > 0) {
            auto want = static_cast<std::size_t>(
                std::min<std::uint64_t>({buf.size(), seg.size - pos, left}));
            std::string_view chunk;
            if (seg.source) {
                if (!seg.source->read_at(pos, buf.data(), want)) {
                    return s3_error(s3_errc::internal_error, "The copy source could not be read.");
                }
                chunk = std::string_view(buf.data(), want);
            } else {
                chunk = std::string_view(seg.inline_data).substr(pos, want);
            }
            md5.update(chunk);
            if (sum) sum->update(chunk);
            if (!w.append(chunk)) {
                return s3_error(s3_errc::internal_error, "The part could not be stored: " +
                                                             w.error());
            }
            pos += chunk.size();
            left -= chunk.size();
        }
    }
    part.etag = "\"" + protocol::to_hex(md5.finish()) + "\"";
    part.size = r.length;
    if (sum) part.checksums = {{algo, sum->finish_base64()}};
    return w.release();
}

} // namespace

net::awaitable<response> upload_part_copy(context &ctx) {
    ctx.log.conditions = describe_conditions(ctx);
    auto id = upload_id_of(ctx);
    auto n = part_number_of(ctx);
    if (id.has_error() || n.has_error()) {
        co_return error_response(n.has_error() ? n.error() : id.error(), ctx);
    }
    auto src = parse_copy_source(*ctx.req.header("x-amz-copy-source"));
    if (src.has_error()) {
        co_return error_response(src.error(), ctx);
    }
    auto found = co_await look_up(ctx, *id, *src);
    if (found.has_error()) {
        co_return error_response(found.error(), ctx);
    }
    const auto &v = found->source.version;
    // The source as read (404 / 400 E7 / 412, in decide_copy_source's order) answers before any
    // byte is copied; the store decides the same conditions again at commit, against the source
    // as it is then, and that decision is the one that stands (R-C16).
    protocol::found_version source{
        v.delete_marker ? protocol::found_kind::delete_marker : protocol::found_kind::object,
        src->version_id.has_value(),
        {v.etag, protocol::sys_millis(std::chrono::milliseconds(v.last_modified_ms))}};
    const auto now = store_now(ctx);
    auto conditions = protocol::parse_copy_source_conditions(ctx.lookup(), now);
    auto early = protocol::decide_copy_source(source, conditions, now);
    if (early.answer != protocol::copy_answer::proceed) {
        auto err = protocol::copy_decision_error(early, src->key, src->version_id.value_or(""),
                                                 ctx.target.key);
        if (early.answer == protocol::copy_answer::precondition_failed) {
            note_write_failure(ctx, err);
        }
        co_return error_response(err, ctx);
    }
    auto range = copy_range(ctx, v.size);
    if (range.has_error()) {
        co_return error_response(range.error(), ctx);
    }
    storage::upload_part_request r;
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.upload_id = *id;
    r.part.number = *n;
    r.source = storage::upload_part_request::copy_from{src->bucket, src->key, src->version_id,
                                                       std::move(conditions), v.seq};
    const auto &algo = found->upload.checksum_algo;
    bool plain_source = v.parts_count <= 1 && v.etag.find('-') == std::string::npos;
    if (range->whole && plain_source && algo.empty() && v.body_id != 0) {
        r.share_body_id = v.body_id; // the part is the source's body: no bytes copied
        r.share_version_seq = v.seq;
        r.part.etag = v.etag;
        r.part.size = v.size;
    } else {
        // Read, hashed and stored on the body thread (body_pool.hpp), not this connection's.
        protocol::result<storage::staged_body> body = s3_error(s3_errc::internal_error);
        auto work = [&] { body = copy_bytes(ctx, found->source, *range, algo, r.part); };
        auto copied = on_body_thread(work);
        co_await std::move(copied);
        if (body.has_error()) {
            co_return error_response(body.error(), ctx);
        }
        r.body = std::move(*body);
    }
    auto r_call = store_call<storage::part_info>(
        [&](auto done) { ctx.db.put_part(std::move(r), std::move(done)); });
    auto p = co_await std::move(r_call);
    if (p.has_error()) {
        if (p.error().code == s3_errc::precondition_failed) {
            note_write_failure(ctx, p.error());
        }
        co_return error_response(p.error(), ctx);
    }
    protocol::xml_writer w;
    w.open("CopyPartResult", true);
    w.element("ETag", p->etag).element("LastModified", iso_date_ms(p->last_modified_ms));
    for (auto &[name, value] : p->checksums) w.element("Checksum" + name, value);
    response res = xml_response(w.str());
    if (v.version_id != "null") res.set("x-amz-copy-source-version-id", v.version_id);
    co_return res;
}

} // namespace ifmatch::server
