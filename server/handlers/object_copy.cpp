// CopyObject (spec §7, D6): source `bucket/key[?versionId=]`, source conditions, the copy-to-self
// rule, destination conditions at commit. The copy shares the source's stored body.
#include "server/copy_source.hpp"
#include "server/events.hpp"
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include "protocol/uri.hpp"
#include "protocol/xml.hpp"
#include "storage/operations.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

void note_write_failure(context &ctx, const s3_error &e);

protocol::result<copy_source> parse_copy_source(std::string_view raw) {
    copy_source s;
    std::string_view path = raw;
    if (auto q = raw.find('?'); q != std::string_view::npos) {
        path = raw.substr(0, q);
        auto params = protocol::query_params::parse(raw.substr(q + 1));
        if (params) {
            if (auto v = params->get("versionId")) s.version_id = std::string(*v);
        }
    }
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    auto decoded = protocol::percent_decode(path);
    auto slash = decoded ? decoded->find('/') : std::string::npos;
    if (!decoded || slash == std::string::npos || slash == 0 || slash + 1 == decoded->size()) {
        return s3_error(s3_errc::invalid_argument, "Copy Source must mention the source bucket "
                                                   "and key: sourcebucket/sourcekey")
            .with("ArgumentName", "x-amz-copy-source")
            .with("ArgumentValue", std::string(raw));
    }
    s.bucket = decoded->substr(0, slash);
    s.key = decoded->substr(slash + 1);
    return s;
}

// Tags, ACL and encryption of the copy (finish step inside the store job): x-amz-tagging-directive
// COPY (default) keeps the source's tags, REPLACE takes x-amz-tagging; the ACL and encryption come
// from the request (or the bucket's default encryption), never from the source, as on S3.
void finish_copy(const write_surface &w, bool replace_tags, const std::string &region,
                 storage::version_fields &f, const storage::object_version &src) {
    std::erase_if(f.meta.extra, [](const auto &p) { return p.first == extra_tags; });
    write_surface copy = w;
    if (!replace_tags) {
        copy.tags.reset();
        for (const auto &[k, v] : src.meta.extra) {
            if (k == extra_tags) copy.tags = v;
        }
    }
    store_write_surface(copy, content_md5(src), f.meta, f.etag, region);
}

namespace {

protocol::result<storage::copy_request> prepare_copy(context &ctx) {
    auto src = parse_copy_source(*ctx.req.header("x-amz-copy-source"));
    if (src.has_error()) return src.error();
    if (auto k = protocol::check_object_key(ctx.target.key); k.has_error()) return k.error();
    auto conds = protocol::parse_write_conditions(ctx.lookup());
    if (conds.has_error()) return conds.error();
    storage::copy_request r;
    auto directive = ctx.req.header("x-amz-metadata-directive").value_or("COPY");
    if (directive != "COPY" && directive != "REPLACE") {
        return s3_error(s3_errc::invalid_argument, "Unknown metadata directive.")
            .with("ArgumentName", "x-amz-metadata-directive")
            .with("ArgumentValue", std::string(directive));
    }
    r.replace_metadata = directive == "REPLACE";
    auto tag_directive = ctx.req.header("x-amz-tagging-directive").value_or("COPY");
    if (tag_directive != "COPY" && tag_directive != "REPLACE") {
        return s3_error(s3_errc::invalid_argument, "Unknown tagging directive.")
            .with("ArgumentName", "x-amz-tagging-directive")
            .with("ArgumentValue", std::string(tag_directive));
    }
    for (auto h : {"x-amz-storage-class", "x-amz-website-redirect-location",
                   "x-amz-server-side-encryption"}) {
        if (ctx.req.header(h)) r.changes_attributes = true;
    }
    auto meta = meta_from_request(ctx.req);
    if (meta.has_error()) return meta.error();
    r.src_bucket = src->bucket;
    r.src_key = src->key;
    r.src_version_id = src->version_id;
    r.src_conditions = protocol::parse_copy_source_conditions(ctx.lookup());
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.fields.meta = std::move(*meta);
    r.fields.writer = ctx.writer();
    r.conditions = *conds;
    r.start_seq = ctx.start_seq;
    r.server_requires_conditions = ctx.cfg.require_conditional_writes;
    return r;
}

} // namespace

net::awaitable<response> handle_copy_object(context &ctx) {
    ctx.log.conditions = describe_conditions(ctx);
    auto prepared = prepare_copy(ctx);
    if (prepared.has_error()) {
        note_write_failure(ctx, prepared.error());
        co_return error_response(prepared.error(), ctx);
    }
    std::string action = "s3:PutObject";
    auto values = write_condition_values(ctx, true);
    auto policy_call = check_policy(ctx, action, values);
    auto denied = co_await std::move(policy_call);
    if (denied) {
        note_write_failure(ctx, *denied);
        co_return error_response(*denied, ctx);
    }
    std::string current; // the destination's state if the store refuses the copy (D9)
    prepared->current_out = &current;
    auto surface = parse_write_surface(ctx);
    if (surface.has_error()) {
        note_write_failure(ctx, surface.error());
        co_return error_response(surface.error(), ctx);
    }
    if (auto d = co_await apply_bucket_defaults(ctx, *surface); d.has_error()) {
        note_write_failure(ctx, d.error());
        co_return error_response(d.error(), ctx);
    }
    bool replace_tags = ctx.req.header("x-amz-tagging-directive") == std::string_view("REPLACE");
    prepared->finish = [w = *surface, replace_tags, region = ctx.cfg.region](
                           storage::version_fields &f, const storage::object_version &src) {
        finish_copy(w, replace_tags, region, f, src);
    };
    auto r_call = db_write<storage::write_result>(
        ctx.db, observe_write<storage::write_result>(
                    ctx, [req = std::move(*prepared)](storage::write_txn &t) {
                        return storage::copy_object(t, req);
                    }));
    co_await before_commit(ctx); // D10: a delay or an injected write/delete, if arranged
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        note_write_failure(ctx, r.error());
        ctx.log.current = current;
        co_return error_response(r.error(), ctx);
    }
    protocol::xml_writer w;
    w.open("CopyObjectResult", true);
    w.element("ETag", r->etag).element("LastModified", iso_date_ms(r->last_modified_ms));
    for (auto &[name, value] : r->meta.checksums) {
        w.element("Checksum" + name, value);
    }
    response res = xml_response(w.str());
    if (r->version_id != "null") res.set("x-amz-version-id", r->version_id);
    for (auto &[k, v] : r->meta.extra) {
        if (k.rfind("x-amz-server-side-encryption", 0) == 0) res.set(k, v);
    }
    if (r->source_version_id != "null" && !r->source_version_id.empty()) {
        res.set("x-amz-copy-source-version-id", r->source_version_id);
    }
    co_return res;
}

} // namespace ifmatch::server
