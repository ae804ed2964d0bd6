// CompleteMultipartUpload with conditional completion (spec §6, R-M1..R-M11, D3, D5, D8) and
// ListParts. Header validation (501) is answered before the body is read; NoSuchUpload, the parts
// checks and the conditions are decided by the store in one commit.
#include "server/commit_faults.hpp"
#include "server/handlers.hpp"
#include "server/multipart_common.hpp"
#include "server/outcomes.hpp"
#include "server/store_calls.hpp"
#include "server/upload.hpp"

#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

void note_write_failure(context &ctx, const s3_error &e);

namespace {

// The checksum headers of Complete (wire.md §3.4).
protocol::result<bool> complete_headers(const context &ctx, storage::complete_request &r) {
    for (auto &[k, v] : ctx.req.headers) {
        if (protocol::checksum_algo_from_header(k)) r.full_checksum = v;
    }
    if (auto t = ctx.req.header("x-amz-checksum-type")) r.checksum_type = std::string(*t);
    if (auto s = ctx.req.header("x-amz-mp-object-size")) {
        try {
            r.mp_object_size = std::stoull(std::string(*s));
        } catch (...) {
            return s3_error(s3_errc::invalid_argument, "Invalid x-amz-mp-object-size")
                .with("ArgumentName", "x-amz-mp-object-size")
                .with("ArgumentValue", std::string(*s));
        }
    }
    return true;
}

std::string location_of(const context &ctx) {
    auto host = ctx.req.header("host").value_or("localhost");
    return "http://" + std::string(host) + "/" + ctx.target.bucket + "/" + ctx.target.key;
}

response complete_response(const context &ctx, const storage::complete_result &c) {
    protocol::xml_writer w;
    w.open("CompleteMultipartUploadResult", true);
    w.element("Location", location_of(ctx)).element("Bucket", ctx.target.bucket);
    w.element("Key", ctx.target.key).element("ETag", c.written.etag);
    for (auto &[name, value] : c.written.meta.checksums) w.element("Checksum" + name, value);
    if (!c.checksum_type.empty()) w.element("ChecksumType", c.checksum_type);
    response res = xml_response(w.str());
    if (c.written.version_id != "null") res.set("x-amz-version-id", c.written.version_id);
    return res;
}

} // namespace

net::awaitable<response> complete_upload(context &ctx) {
    ctx.log.conditions = describe_conditions(ctx);
    auto id = upload_id_of(ctx);
    if (id.has_error()) {
        co_return error_response(id.error(), ctx);
    }
    auto conds = protocol::parse_write_conditions(ctx.lookup()); // R-M1: 501 first
    if (conds.has_error()) {
        note_write_failure(ctx, conds.error());
        co_return error_response(conds.error(), ctx);
    }
    // R-B3: conditional-write enforcement by bucket policy applies to CompleteMultipartUpload.
    auto gate_call = policy_gate(ctx, "s3:PutObject");
    if (auto denied = co_await std::move(gate_call)) {
        co_return std::move(*denied);
    }
    storage::complete_request r;
    if (auto h = complete_headers(ctx, r); h.has_error()) {
        co_return error_response(h.error(), ctx);
    }
    auto body = co_await read_small_body(ctx, 4 * 1024 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto parsed = protocol::parse_complete_multipart(*body);
    if (parsed.has_error()) {
        co_return error_response(parsed.error(), ctx);
    }
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.upload_id = *id;
    for (auto &p : parsed->parts) {
        r.parts.push_back({p.number, p.etag, p.checksums});
    }
    r.conditions = *conds;
    r.server_requires_conditions = ctx.cfg.require_conditional_writes;
    r.writer = ctx.writer();
    // D9: a refusal (412/404 as errors, 409 as a refusal value) comes with the state it was
    // decided against.
    auto r_call = store_decide<storage::complete_result>(
        [&](auto done) { ctx.db.complete_upload(std::move(r), std::move(done)); });
    co_await before_commit(ctx); // D10: a delay or an injected write/delete, if arranged
    auto outcome = co_await std::move(r_call);
    auto &c = outcome.value;
    if (c.has_error()) {
        note_write_failure(ctx, c.error());
        if (outcome.refused_against && ctx.note) {
            note_refusal(*ctx.note, c.error(), *outcome.refused_against);
        }
        co_return error_response(c.error(), ctx);
    }
    if (c->refusal) { // 409: the upload was removed in the same commit (D8)
        note_write_failure(ctx, *c->refusal);
        if (outcome.refused_against && ctx.note) {
            note_refusal(*ctx.note, *c->refusal, *outcome.refused_against);
        }
        co_return error_response(*c->refusal, ctx);
    }
    co_return complete_response(ctx, *c);
}

namespace {

protocol::result<int> int_param(const context &ctx, const char *name, int fallback, int max) {
    auto v = ctx.target.query.get(name);
    if (!v) return fallback;
    try {
        std::size_t used = 0;
        long n = std::stol(std::string(*v), &used);
        if (used != v->size() || n < 0) throw std::invalid_argument(name);
        return static_cast<int>(std::min<long>(n, max));
    } catch (...) {
        return s3_error(s3_errc::invalid_argument, std::string("Provided ") + name +
                                                       " not an integer or within integer range")
            .with("ArgumentName", name)
            .with("ArgumentValue", std::string(*v));
    }
}

std::string render_parts(const context &ctx, const storage::list_parts_page &p, int marker,
                         int max) {
    protocol::xml_writer w;
    w.open("ListPartsResult", true);
    w.element("Bucket", ctx.target.bucket).element("Key", ctx.target.key);
    w.element("UploadId", p.upload.upload_id).element("PartNumberMarker", marker);
    if (!p.parts.empty()) w.element("NextPartNumberMarker", p.parts.back().number);
    w.element("MaxParts", max).element("IsTruncated", p.truncated ? "true" : "false");
    for (auto &part : p.parts) {
        w.open("Part").element("PartNumber", part.number);
        w.element("LastModified", iso_date_ms(part.last_modified_ms)).element("ETag", part.etag);
        w.element("Size", static_cast<std::int64_t>(part.size));
        for (auto &[name, value] : part.checksums) w.element("Checksum" + name, value);
        w.close();
    }
    w.open("Initiator").element("ID", "ifmatch").element("DisplayName", "ifmatch").close();
    w.open("Owner").element("ID", "ifmatch").element("DisplayName", "ifmatch").close();
    w.element("StorageClass", "STANDARD");
    if (!p.upload.checksum_algo.empty()) {
        w.element("ChecksumAlgorithm", p.upload.checksum_algo);
        w.element("ChecksumType", p.upload.checksum_type);
    }
    return w.str();
}

} // namespace

net::awaitable<response> list_parts(context &ctx) {
    auto id = upload_id_of(ctx);
    auto marker = int_param(ctx, "part-number-marker", 0, 10000);
    auto max = int_param(ctx, "max-parts", 1000, 1000);
    if (id.has_error() || marker.has_error() || max.has_error()) {
        co_return error_response(id.has_error() ? id.error()
                                 : marker.has_error() ? marker.error()
                                                      : max.error(),
                                 ctx);
    }
    storage::list_parts_request r{ctx.target.bucket, ctx.target.key, *id, *marker, *max};
    auto r_call = store_call<storage::list_parts_page>(
        [&](auto done) { ctx.db.list_parts(r, std::move(done)); });
    auto p = co_await std::move(r_call);
    co_return xml_or_error(p, ctx, [&](const storage::list_parts_page &page) {
        return render_parts(ctx, page, *marker, *max);
    });
}

} // namespace ifmatch::server
