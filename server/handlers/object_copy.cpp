// CopyObject (spec §7, D6): source `bucket/key[?versionId=]`, source conditions, the copy-to-self
// rule, destination conditions at commit. The copy shares the source's stored body.
#include "server/body_pool.hpp"
#include "server/commit_faults.hpp"
#include "server/copy_source.hpp"
#include "server/handlers.hpp"
#include "server/outcomes.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include "protocol/crypto.hpp"
#include "protocol/uri.hpp"
#include "protocol/utf8.hpp"
#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

#include <unistd.h>

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
    if (!decoded || !protocol::is_utf8(*decoded)) {
        return s3_error(s3_errc::invalid_argument, "Invalid copy source encoding.")
            .with("ArgumentName", "x-amz-copy-source")
            .with("ArgumentValue", std::string(raw));
    }
    auto slash = decoded->find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == decoded->size()) {
        return s3_error(s3_errc::invalid_argument, "Copy Source must mention the source bucket "
                                                   "and key: sourcebucket/sourcekey")
            .with("ArgumentName", "x-amz-copy-source")
            .with("ArgumentValue", std::string(raw));
    }
    s.bucket = decoded->substr(0, slash);
    s.key = decoded->substr(slash + 1);
    return s;
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
    r.changes_attributes = protocol::copy_changes_attributes(
        [&ctx](std::string_view name) { return ctx.req.header(name); });
    auto meta = meta_from_request(ctx.req);
    if (meta.has_error()) return meta.error();
    r.src_bucket = src->bucket;
    r.src_key = src->key;
    r.src_version_id = src->version_id;
    r.src_conditions = protocol::parse_copy_source_conditions(ctx.lookup(), store_now(ctx));
    r.bucket = ctx.target.bucket;
    r.key = ctx.target.key;
    r.fields.meta = std::move(*meta);
    r.fields.writer = ctx.writer();
    r.conditions = *conds;
    r.start = ctx.start;
    r.server_requires_conditions = ctx.cfg.require_conditional_writes;
    return r;
}


// The hex MD5 of a body's segments; nullopt when a file cannot be read.
std::optional<std::string> md5_of_segments(const std::vector<storage::body_segment> &segments) {
    protocol::digest md5(protocol::digest_kind::md5);
    std::vector<char> buf(1 << 20);
    for (auto &seg : segments) {
        if (!seg.source) {
            md5.update(seg.inline_data);
            continue;
        }
        for (std::uint64_t pos = 0; pos < seg.size;) {
            auto want =
                static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), seg.size - pos));
            if (!seg.source->read_at(pos, buf.data(), want)) {
                return std::nullopt;
            }
            md5.update(std::string_view(buf.data(), want));
            pos += want;
        }
    }
    return protocol::to_hex(md5.finish());
}

// D12: the plain MD5 of a multipart source, computed from its stored parts (the copy itself shares
// them), unless the store already keeps it. Read and hashed on the body thread (body_pool.hpp).
net::awaitable<std::optional<std::pair<std::int64_t, std::string>>>
multipart_source_md5(context &ctx, const storage::copy_request &r) {
    storage::get_request g{r.src_bucket, r.src_key, r.src_version_id, false};
    auto head_call =
        store_call<storage::object_read>([&](auto done) { ctx.db.get_object(g, std::move(done)); });
    auto head = co_await std::move(head_call);
    if (head.has_error() || head->version.delete_marker ||
        head->version.etag.find('-') == std::string::npos) {
        co_return std::nullopt;
    }
    for (auto &[k, v] : head->version.meta.extra) {
        if (k == storage::meta_content_md5) co_return std::nullopt;
    }
    g.version_id = head->version.version_id;
    g.open_body = true;
    auto body_call =
        store_call<storage::object_read>([&](auto done) { ctx.db.get_object(g, std::move(done)); });
    auto body = co_await std::move(body_call);
    if (body.has_error()) {
        co_return std::nullopt;
    }
    std::optional<std::string> md5_hex;
    auto work = [&] { md5_hex = md5_of_segments(body->segments); };
    auto hashed = on_body_thread(work);
    co_await std::move(hashed);
    if (!md5_hex) {
        co_return std::nullopt;
    }
    co_return std::make_pair(body->version.seq, std::move(*md5_hex));
}

} // namespace

net::awaitable<response> handle_copy_object(context &ctx) {
    ctx.log.conditions = describe_conditions(ctx);
    auto prepared = prepare_copy(ctx);
    if (prepared.has_error()) {
        note_write_failure(ctx, prepared.error());
        co_return error_response(prepared.error(), ctx);
    }
    if (!policy_free(ctx)) {
        auto gate_call = policy_gate(ctx, "s3:PutObject");
        if (auto denied = co_await std::move(gate_call)) {
            co_return std::move(*denied);
        }
    }
    auto surface = parse_write_surface(ctx);
    if (surface.has_error()) {
        note_write_failure(ctx, surface.error());
        co_return error_response(surface.error(), ctx);
    }
    if (auto d = co_await apply_bucket_defaults(ctx, *surface); d.has_error()) {
        note_write_failure(ctx, d.error());
        co_return error_response(d.error(), ctx);
    }
    auto md5_call = multipart_source_md5(ctx, *prepared);
    prepared->source_md5 = co_await std::move(md5_call);
    bool replace_tags = ctx.req.header("x-amz-tagging-directive") == std::string_view("REPLACE");
    prepared->surface = storage::copy_surface{*surface, replace_tags, ctx.cfg.region};
    auto r_call = store_decide<storage::write_result>(
        [&](auto done) { ctx.db.copy_object(std::move(*prepared), std::move(done)); });
    if (commit_fault_pending(ctx)) {
        co_await before_commit(ctx); // D10: a delay or an injected write/delete, if arranged
    }
    auto outcome = co_await std::move(r_call);
    auto &r = outcome.value;
    if (r.has_error()) {
        note_write_failure(ctx, r.error());
        note_refusal(ctx, r.error(), outcome.refused_against);
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
