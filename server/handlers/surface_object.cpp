// Object sub-resources of the wider surface (acl, tagging: per version, changed in place;
// attributes) and CORS preflight (OPTIONS) answered from the bucket's rules.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "protocol/cors.hpp"
#include "protocol/header_values.hpp"
#include "protocol/tagging.hpp"
#include "protocol/xml.hpp"
#include "server/store_calls.hpp"
#include "storage/object_store.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include <algorithm>

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

std::string extra(const storage::object_version &v, std::string_view name) {
    for (const auto &[k, val] : v.meta.extra) {
        if (k == name)
            return val;
    }
    return {};
}

// The current or ?versionId= version without its body (delete markers included).
net::awaitable<protocol::result<storage::object_version>> lookup_version(context &ctx) {
    storage::get_request g;
    g.bucket = ctx.target.bucket;
    g.key = ctx.target.key;
    g.version_id = ctx.target.version_id;
    g.open_body = false;
    auto r_call =
        store_call<storage::object_read>([&](auto done) { ctx.db.get_object(g, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error())
        co_return r.error();
    co_return std::move(r->version);
}

// A delete marker answers 404 NoSuchKey (current) or 405 MethodNotAllowed (named by version id),
// with x-amz-delete-marker; protocol::decide_read decides which.
response marker_response(context &ctx, const storage::object_version &v) {
    const protocol::found_version found{
        protocol::found_kind::delete_marker, ctx.target.version_id.has_value(), {}};
    s3_error err = protocol::read_decision_error(protocol::decide_read(found, {}, {}),
                                                 ctx.req.method, ctx.target.key, v.version_id);
    response res = error_response(err, ctx);
    res.set("x-amz-delete-marker", "true");
    if (v.version_id != "null")
        res.set("x-amz-version-id", v.version_id);
    return res;
}

// Replaces (value) or removes (nullopt) one stored extra of the version in place.
net::awaitable<response> change_extra(context &ctx, std::string_view name,
                                      const std::optional<std::string> &value, int status) {
    storage::version_extra_request req;
    req.bucket = ctx.target.bucket;
    req.key = ctx.target.key;
    req.version_id = ctx.target.version_id;
    req.name = std::string(name);
    req.value = value;
    auto r_call = store_call<storage::object_version>(
        [&](auto done) { ctx.db.set_version_extra(req, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error())
        co_return error_response(r.error(), ctx);
    response res = empty_response(status);
    if (r->version_id != "null")
        res.set("x-amz-version-id", r->version_id);
    co_return res;
}

net::awaitable<response> get_sub(context &ctx) {
    auto v = co_await lookup_version(ctx);
    if (v.has_error())
        co_return error_response(v.error(), ctx);
    if (v->delete_marker)
        co_return marker_response(ctx, *v);
    response res;
    if (ctx.target.operation == op::get_object_acl) {
        res = xml_response(protocol::render_access_control_policy(
            protocol::decode_acl(extra(*v, extra_acl)), owner_id));
    } else {
        res = xml_response(
            protocol::render_tagging_xml(protocol::decode_tags(extra(*v, extra_tags))));
    }
    if (v->version_id != "null")
        res.set("x-amz-version-id", v->version_id);
    co_return res;
}

net::awaitable<response> put_sub(context &ctx) {
    auto acl = protocol::parse_acl_headers(ctx.lookup());
    if (acl.has_error())
        co_return error_response(acl.error(), ctx);
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error())
        co_return error_response(body.error(), ctx);
    std::optional<std::string> value;
    std::string_view name = extra_tags;
    if (ctx.target.operation == op::put_object_tagging) {
        auto tags = protocol::parse_tagging_xml(*body, protocol::max_object_tags);
        if (tags.has_error())
            co_return error_response(tags.error(), ctx);
        if (!tags->empty())
            value = protocol::encode_tags(*tags);
    } else {
        name = extra_acl;
        if (acl->empty() && !body->empty()) {
            acl = protocol::parse_access_control_policy(*body);
            if (acl.has_error())
                co_return error_response(acl.error(), ctx);
        }
        const protocol::access_control &wanted = *acl;
        auto check = check_public_acl(ctx, wanted);
        if (auto refused = co_await std::move(check)) {
            co_return error_response(*refused, ctx);
        }
        value = protocol::encode_acl(acl->empty() ? protocol::access_control{"private", {}} : *acl);
    }
    co_return co_await change_extra(ctx, name, value, 200);
}

// ObjectParts paging (x-amz-max-parts, x-amz-part-number-marker) over the stored part sizes.
struct parts_view {
    std::vector<std::uint64_t> sizes;
    int max_parts = 1000;
    int marker = 0;
};

void parts_xml(protocol::xml_writer &w, const storage::object_version &v, const parts_view &p) {
    // The model member TotalPartsCount travels as <PartsCount>.
    w.open("ObjectParts").element("PartsCount", v.parts_count);
    w.element("PartNumberMarker", p.marker);
    int last = p.marker, listed = 0;
    bool truncated = false;
    for (int n = p.marker + 1; n <= static_cast<int>(p.sizes.size()); ++n) {
        if (listed == p.max_parts) {
            truncated = true;
            break;
        }
        ++listed;
        last = n;
    }
    w.element("NextPartNumberMarker", last).element("MaxParts", p.max_parts);
    w.element("IsTruncated", truncated ? "true" : "false");
    for (int n = p.marker + 1; n <= last; ++n) {
        w.open("Part").element("PartNumber", n);
        w.element("Size", static_cast<std::int64_t>(p.sizes[static_cast<std::size_t>(n - 1)]));
        w.close();
    }
    w.close();
}

std::string attributes_xml(const storage::object_version &v,
                           const protocol::object_attributes &want, const parts_view &parts) {
    protocol::xml_writer w;
    w.open("GetObjectAttributesResponse", true);
    if (want.etag)
        w.element("ETag", v.etag.size() >= 2 ? v.etag.substr(1, v.etag.size() - 2) : v.etag);
    if (want.checksum && !v.meta.checksums.empty()) {
        w.open("Checksum");
        for (const auto &[name, value] : v.meta.checksums)
            w.element("Checksum" + name, value);
        w.element("ChecksumType",
                  v.meta.checksum_type.empty() ? "FULL_OBJECT" : v.meta.checksum_type);
        w.close();
    }
    if (want.object_parts && v.parts_count > 0) {
        parts_xml(w, v, parts);
    }
    if (want.storage_class) {
        std::string sc = extra(v, "x-amz-storage-class");
        w.element("StorageClass", sc.empty() ? "STANDARD" : sc);
    }
    if (want.object_size)
        w.element("ObjectSize", static_cast<std::int64_t>(v.size));
    return w.str();
}

net::awaitable<response> get_attributes(context &ctx) {
    auto wanted = protocol::parse_object_attributes(ctx.req.header("x-amz-object-attributes"));
    if (wanted.has_error()) {
        co_return error_response(wanted.error(), ctx);
    }
    auto v = co_await lookup_version(ctx);
    if (v.has_error())
        co_return error_response(v.error(), ctx);
    if (v->delete_marker)
        co_return marker_response(ctx, *v);
    parts_view parts;
    if (v->parts_count > 0) {
        auto int_header = [&](const char *name, int fallback) {
            auto h = ctx.req.header(name);
            try {
                return h ? std::clamp(std::stoi(std::string(*h)), 0, 1000) : fallback;
            } catch (...) {
                return fallback;
            }
        };
        parts.max_parts = int_header("x-amz-max-parts", 1000);
        parts.marker = int_header("x-amz-part-number-marker", 0);
        std::int64_t body = v->body_id;
        auto sizes_call = store_call<std::vector<std::uint64_t>>(
            [&](auto done) { ctx.db.body_part_sizes(body, std::move(done)); });
        auto sizes = co_await std::move(sizes_call);
        if (sizes.has_value()) {
            parts.sizes = std::move(*sizes);
        }
    }
    response res = xml_response(attributes_xml(*v, *wanted, parts));
    res.set("Last-Modified", http_date_ms(v->last_modified_ms));
    if (v->version_id != "null")
        res.set("x-amz-version-id", v->version_id);
    co_return res;
}

} // namespace

net::awaitable<response> handle_surface_object(context &ctx) {
    switch (ctx.target.operation) {
    case op::get_object_acl:
    case op::get_object_tagging:
        co_return co_await get_sub(ctx);
    case op::put_object_acl:
    case op::put_object_tagging:
        co_return co_await put_sub(ctx);
    case op::delete_object_tagging: {
        const std::optional<std::string> none;
        co_return co_await change_extra(ctx, extra_tags, none, 204);
    }
    default:
        co_return co_await get_attributes(ctx);
    }
}

net::awaitable<response> handle_cors_preflight(context &ctx) {
    auto origin = ctx.req.header("origin");
    auto method = ctx.req.header("access-control-request-method");
    if (!origin) {
        co_return error_response(s3_error(s3_errc::invalid_request, "Insufficient information. "
                                                                    "Origin request header "
                                                                    "needed."),
                                 ctx);
    }
    if (!method) {
        co_return error_response(
            s3_error(s3_errc::invalid_request, "Invalid Access-Control-Request-Method: null"), ctx);
    }
    auto bucket = ctx.target.bucket;
    auto r_call = store_call<std::shared_ptr<const storage::bucket_config>>(
        [&](auto done) { ctx.db.get_bucket_config(bucket, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error())
        co_return error_response(r.error(), ctx);
    auto cfg = setting((*r)->settings, "cors");
    if (cfg.empty()) {
        co_return error_response(
            s3_error(s3_errc::cors_forbidden, "CORSResponse: CORS is not enabled for this bucket.")
                .with("Method", std::string(*method))
                .with("ResourceType", ctx.target.key.empty() ? "BUCKET" : "OBJECT"),
            ctx);
    }
    auto rules = protocol::parse_cors_configuration(cfg);
    auto req_headers = ctx.req.header("access-control-request-headers").value_or("");
    const protocol::cors_rule *rule =
        rules ? protocol::match_cors(*rules, *origin, *method, req_headers) : nullptr;
    if (!rule) {
        co_return error_response(
            s3_error(s3_errc::cors_forbidden)
                .with("Method", std::string(*method))
                .with("ResourceType", ctx.target.key.empty() ? "BUCKET" : "OBJECT"),
            ctx);
    }
    response res;
    for (auto &h : protocol::cors_response_headers(*rule, *origin, req_headers)) {
        res.headers.push_back(std::move(h));
    }
    co_return res;
}

} // namespace ifmatch::server
