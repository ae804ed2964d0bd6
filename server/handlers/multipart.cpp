// Multipart uploads, the per-part operations: CreateMultipartUpload, UploadPart, UploadPartCopy,
// AbortMultipartUpload (spec §6, R-M9; wire.md §3.4). UploadPart streams through plan_upload /
// receive_upload like PutObject; UploadPartCopy shares the source body when a whole single-part
// object is copied, else copies the range's bytes into a new blob.
#include "server/copy_source.hpp"
#include "server/handlers.hpp"
#include "server/multipart_common.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include "protocol/crypto.hpp"
#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

void note_write_failure(context &ctx, const s3_error &e);

std::string checksum_header_name(const std::string &algo) {
    std::string h = "x-amz-checksum-";
    for (char c : algo) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return h;
}

protocol::result<std::string> upload_id_of(const context &ctx) {
    const auto &id = ctx.target.upload_id;
    if (!id || id->empty()) {
        return s3_error(s3_errc::no_such_upload).with("UploadId", "");
    }
    return *id;
}

protocol::result<int> part_number_of(const context &ctx) {
    const auto &part = ctx.target.part_number;
    const int n = part && part->value ? *part->value : 0;
    if (n < 1 || n > 10000) {
        return s3_error(s3_errc::invalid_argument,
                        "Part number must be an integer between 1 and 10000, inclusive")
            .with("ArgumentName", "partNumber")
            .with("ArgumentValue", part ? part->raw : std::string());
    }
    return n;
}

namespace {

// x-amz-checksum-algorithm / x-amz-checksum-type of Create (wire.md §3.4 type rules).
protocol::result<std::pair<std::string, std::string>> create_checksum(const context &ctx) {
    std::string algo, type;
    if (auto a = ctx.req.header("x-amz-checksum-algorithm")) {
        auto parsed = protocol::checksum_algo_from_name(*a);
        if (!parsed) {
            return s3_error(s3_errc::invalid_request, "Checksum algorithm provided is "
                                                      "unsupported.");
        }
        algo = std::string(protocol::checksum_name(*parsed));
    }
    if (auto t = ctx.req.header("x-amz-checksum-type")) {
        type = std::string(*t); // COMPOSITE or FULL_OBJECT (protocol::check_header_values)
        if (algo.empty()) {
            return s3_error(s3_errc::invalid_request, "The x-amz-checksum-type header can only "
                                                      "be used with the x-amz-checksum-algorithm "
                                                      "header.");
        }
    }
    if (!algo.empty() && type.empty()) {
        type = algo == "CRC64NVME" ? "FULL_OBJECT" : "COMPOSITE";
    }
    bool sha = algo == "SHA1" || algo == "SHA256";
    if ((sha && type == "FULL_OBJECT") || (algo == "CRC64NVME" && type == "COMPOSITE")) {
        return s3_error(s3_errc::invalid_request, "The " + type + " checksum type cannot be used "
                                                  "with the " + algo + " checksum algorithm.");
    }
    return std::make_pair(algo, type);
}

net::awaitable<response> create_upload(context &ctx) {
    if (auto k = protocol::check_object_key(ctx.target.key); k.has_error()) {
        co_return error_response(k.error(), ctx);
    }
    auto sums = create_checksum(ctx);
    if (sums.has_error()) {
        co_return error_response(sums.error(), ctx);
    }
    auto meta = meta_from_request(ctx.req);
    if (meta.has_error()) {
        co_return error_response(meta.error(), ctx);
    }
    // SSE, ACL and tags travel with the upload and become the object's at Complete.
    auto surface = parse_write_surface(ctx);
    if (surface.has_error()) {
        co_return error_response(surface.error(), ctx);
    }
    if (auto d = co_await apply_bucket_defaults(ctx, *surface); d.has_error()) {
        co_return error_response(d.error(), ctx);
    }
    std::string unused_etag;
    store_write_surface(*surface, "", *meta, unused_etag, ctx.cfg.region);
    storage::create_upload_request r;
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.meta = std::move(*meta);
    r.checksum_algo = sums->first;
    r.checksum_type = sums->second;
    r.writer = ctx.writer();
    auto r_call = store_call<storage::upload_info>(
        [&](auto done) { ctx.db.create_upload(std::move(r), std::move(done)); });
    auto u = co_await std::move(r_call);
    if (u.has_error()) {
        co_return error_response(u.error(), ctx);
    }
    protocol::xml_writer w;
    w.open("InitiateMultipartUploadResult", true);
    w.element("Bucket", u->bucket).element("Key", u->key).element("UploadId", u->upload_id);
    response res = xml_response(w.str());
    if (!u->checksum_algo.empty()) {
        res.set("x-amz-checksum-algorithm", u->checksum_algo);
        res.set("x-amz-checksum-type", u->checksum_type);
    }
    co_return res;
}

// The upload, looked up before any body is read (NoSuchUpload without 100 Continue, D4).
net::awaitable<protocol::result<storage::upload_info>> existing_upload(context &ctx,
                                                                       const std::string &id) {
    auto bucket = ctx.target.bucket;
    auto key = ctx.target.key;
    auto upload = id;
    auto r_call = store_call<storage::upload_info>(
        [&](auto done) { ctx.db.find_upload(bucket, key, upload, std::move(done)); });
    co_return co_await std::move(r_call);
}

// The part checksum algorithm: the upload's (computed even when the client sent none); a
// different one sent by the client is refused.
protocol::result<bool> part_checksum_plan(const storage::upload_info &u, upload_plan &plan) {
    if (u.checksum_algo.empty()) {
        return true;
    }
    auto algo = protocol::checksum_algo_from_name(u.checksum_algo);
    if (plan.algo && algo && *plan.algo != *algo) {
        return s3_error(s3_errc::invalid_request,
                        "Checksum Type mismatch occurred, expected checksum Type: " +
                            u.checksum_algo + ", actual checksum Type: " +
                            std::string(protocol::checksum_name(*plan.algo)));
    }
    if (!plan.algo) plan.algo = algo;
    return true;
}

response part_response(const storage::part_info &p) {
    response res;
    res.set("ETag", p.etag);
    for (auto &[name, value] : p.checksums) {
        res.set(checksum_header_name(name), value);
    }
    return res;
}

net::awaitable<response> upload_part(context &ctx) {
    auto id = upload_id_of(ctx);
    auto n = part_number_of(ctx);
    if (id.has_error() || n.has_error()) {
        co_return error_response(n.has_error() ? n.error() : id.error(), ctx);
    }
    auto u = co_await existing_upload(ctx, *id);
    if (u.has_error()) {
        co_return error_response(u.error(), ctx);
    }
    auto plan = plan_upload(ctx);
    if (plan.has_error()) {
        co_return error_response(plan.error(), ctx);
    }
    if (auto c = part_checksum_plan(*u, *plan); c.has_error()) {
        co_return error_response(c.error(), ctx);
    }
    auto up = co_await receive_upload(ctx, *plan);
    if (up.has_error()) {
        note_write_failure(ctx, up.error());
        co_return error_response(up.error(), ctx);
    }
    storage::upload_part_request r;
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.upload_id = *id;
    r.body = std::move(up->body);
    r.part.number = *n;
    r.part.etag = up->etag;
    r.part.size = up->size;
    r.part.checksums = up->checksums;
    auto r_call = store_call<storage::part_info>(
        [&](auto done) { ctx.db.put_part(std::move(r), std::move(done)); });
    auto p = co_await std::move(r_call);
    if (p.has_error()) {
        co_return error_response(p.error(), ctx);
    }
    co_return part_response(*p);
}

net::awaitable<response> abort_upload(context &ctx) {
    auto id = upload_id_of(ctx);
    if (id.has_error()) {
        co_return error_response(id.error(), ctx);
    }
    auto bucket = ctx.target.bucket;
    auto key = ctx.target.key;
    auto upload = *id;
    auto r_call = store_call<bool>(
        [&](auto done) { ctx.db.abort_upload(bucket, key, upload, std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx);
}

} // namespace

net::awaitable<response> handle_multipart(context &ctx) {
    switch (ctx.target.operation) {
    case protocol::op::create_multipart_upload:
        co_return co_await create_upload(ctx);
    case protocol::op::upload_part:
        co_return co_await upload_part(ctx);
    case protocol::op::upload_part_copy:
        co_return co_await upload_part_copy(ctx);
    case protocol::op::complete_multipart_upload:
        co_return co_await complete_upload(ctx);
    case protocol::op::list_parts:
        co_return co_await list_parts(ctx);
    case protocol::op::list_multipart_uploads:
        co_return co_await handle_list_uploads(ctx);
    case protocol::op::list_object_versions:
        co_return co_await handle_list_versions(ctx);
    default:
        co_return co_await abort_upload(ctx);
    }
}

} // namespace ifmatch::server
