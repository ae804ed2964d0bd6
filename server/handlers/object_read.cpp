// GetObject / HeadObject: versions, delete markers, conditions (spec §3), ranges and parts
// (R-G13), response-* overrides, checksum mode.
#include "server/handlers.hpp"
#include "server/lifecycle.hpp"
#include "server/outcomes.hpp"
#include "server/store_calls.hpp"
#include "server/upload.hpp"

#include "protocol/range.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

void add_validators(response &res, const storage::object_version &v) {
    res.set("ETag", v.etag);
    res.set("Last-Modified", http_date_ms(v.last_modified_ms));
    if (v.version_id != "null") {
        res.set("x-amz-version-id", v.version_id);
    }
}

// 404 for a current delete marker, 405 for a version id naming one (R-G0b).
response delete_marker_response(context &ctx, const storage::object_version &v,
                                const protocol::read_decision &d) {
    const bool by_id = d.answer == protocol::read_answer::delete_marker_named;
    s3_error err = protocol::read_decision_error(d, ctx.req.method, ctx.target.key, v.version_id);
    response res = error_response(err, ctx);
    res.set("x-amz-delete-marker", "true");
    res.set("x-amz-version-id", v.version_id);
    if (by_id) {
        res.set("Last-Modified", http_date_ms(v.last_modified_ms));
        res.set("Allow", "DELETE");
    }
    return res;
}

// The version found, decided by protocol::decide_read: a delete marker's 404 / 405 (R-G0b), or
// 304 / 412 for failed read conditions; ETag and Last-Modified on both (R-G12, D7).
std::optional<response> check_conditions(context &ctx, const storage::object_version &v,
                                         bool by_id) {
    auto now = store_now(ctx);
    auto conds = protocol::parse_read_conditions(ctx.lookup(), now);
    protocol::found_version found{
        v.delete_marker ? protocol::found_kind::delete_marker : protocol::found_kind::object,
        by_id,
        {v.etag, protocol::sys_millis(std::chrono::milliseconds(v.last_modified_ms))}};
    auto o = protocol::decide_read(found, conds, now);
    if (o.answer == protocol::read_answer::delete_marker ||
        o.answer == protocol::read_answer::delete_marker_named) {
        return delete_marker_response(ctx, v, o);
    }
    if (conds.empty()) {
        return std::nullopt;
    }
    ctx.log.conditions = describe_conditions(ctx);
    if (o.answer == protocol::read_answer::proceed) {
        return std::nullopt;
    }
    ctx.log.failed_condition = std::string(o.condition);
    note_read_outcome(ctx, v, o.condition); // D9
    ctx.log.current = "etag=" + v.etag + " last-modified=" + http_date_ms(v.last_modified_ms);
    response res;
    if (o.answer == protocol::read_answer::not_modified) {
        res.status = 304;
        res.head = false;
    } else {
        res = error_response(
            protocol::read_decision_error(o, ctx.req.method, ctx.target.key, v.version_id), ctx);
        ctx.log.error_code = "PreconditionFailed";
    }
    add_validators(res, v);
    return res;
}

void apply_overrides(context &ctx, response &res) {
    static const std::pair<const char *, const char *> map[] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"}};
    for (auto &[q, h] : map) {
        if (auto v = ctx.target.query.get(q)) {
            std::erase_if(res.headers, [h = h](auto &p) { return p.first == h; });
            res.set(h, std::string(*v));
        }
    }
}

// Selects the bytes to send: whole, Range (206/416) or ?partNumber=N.
std::optional<response> select_bytes(context &ctx, const storage::object_read &obj,
                                     const std::vector<std::uint64_t> &part_sizes,
                                     response &res) {
    const auto &v = obj.version;
    auto range_h = ctx.req.header("range");
    if (auto ir = ctx.lookup()("if-range"); ir && range_h) {
        const protocol::validators val{
            v.etag, protocol::sys_millis(std::chrono::milliseconds(v.last_modified_ms))};
        if (!protocol::if_range_holds(*ir, val)) {
            range_h.reset(); // R-G15: a stale If-Range turns the request into a plain GET
        }
    }
    const auto &part = ctx.target.part_number;
    res.offset = 0;
    res.length = v.size;
    if (range_h && part) {
        return error_response(s3_error(s3_errc::invalid_request, "Cannot specify both Range "
                                                                 "header and partNumber query "
                                                                 "parameter"),
                              ctx);
    }
    if (part) {
        // The number the value starts with ("3x" asks for part 3), not only a whole number.
        int n = 0;
        try {
            n = std::stoi(part->raw);
        } catch (...) {
            n = 0;
        }
        int count = std::max(1, v.parts_count);
        if (n < 1 || n > count) {
            return error_response(s3_error(s3_errc::invalid_part_number)
                                      .with("PartNumberRequested", part->raw)
                                      .with("ActualPartCount", std::to_string(count)),
                                  ctx);
        }
        res.set("x-amz-mp-parts-count", std::to_string(count));
        res.status = 206;
        if (v.parts_count > 1 && part_sizes.size() == static_cast<std::size_t>(count)) {
            // That part's byte range of the whole object; the ETag stays the object's.
            for (int i = 0; i + 1 < n; ++i) res.offset += part_sizes[static_cast<std::size_t>(i)];
            res.length = part_sizes[static_cast<std::size_t>(n - 1)];
        }
        if (res.length > 0) {
            res.set("Content-Range", "bytes " + std::to_string(res.offset) + "-" +
                                         std::to_string(res.offset + res.length - 1) + "/" +
                                         std::to_string(v.size));
        }
        return std::nullopt;
    }
    if (!range_h) {
        return std::nullopt;
    }
    auto rr = protocol::resolve_range(*range_h, v.size);
    if (rr.kind == protocol::range_kind::unsatisfiable) {
        return error_response(s3_error(s3_errc::invalid_range)
                                  .with("RangeRequested", std::string(*range_h))
                                  .with("ActualObjectSize", std::to_string(v.size)),
                              ctx);
    }
    if (rr.kind == protocol::range_kind::partial) {
        res.status = 206;
        res.offset = rr.first;
        res.length = rr.length();
        res.set("Content-Range", "bytes " + std::to_string(rr.first) + "-" +
                                     std::to_string(rr.last) + "/" + std::to_string(v.size));
    }
    return std::nullopt;
}

// The current version held in the store's memory, when the request names no version and no
// part: no storage thread and no coroutine frame.
std::optional<storage::object_read> from_cache(context &ctx, bool cacheable) {
    if (!cacheable) {
        return std::nullopt;
    }
    auto hit = ctx.db.peek_object(ctx.target.bucket, ctx.target.key);
    if (!hit) {
        return std::nullopt;
    }
    storage::object_read out;
    out.version = hit->version;
    if (!hit->body.empty() && !ctx.is_head()) {
        out.segments.push_back(storage::body_segment{hit->body, nullptr, hit->body.size()});
    }
    return out;
}

} // namespace

net::awaitable<response> handle_get_object(context &ctx) {
    storage::get_request g;
    g.bucket = ctx.target.bucket;
    g.key = ctx.target.key;
    g.version_id = ctx.target.version_id;
    bool want_parts = ctx.target.part_number.has_value();
    bool cacheable = !g.version_id && !want_parts;
    // A cacheable HEAD reads the (small, inline) body too, so the cache can keep the object.
    g.open_body = !ctx.is_head() || cacheable;
    g.part_sizes = want_parts;
    auto rp = from_cache(ctx, cacheable);
    if (!rp) {
        auto r_call = store_call<storage::object_read>(
            [&](auto done) { ctx.db.get_object(g, std::move(done)); });
        auto fresh = co_await std::move(r_call);
        if (fresh.has_error()) {
            ctx.log.error_code = std::string(fresh.error().aws_code());
            co_return error_response(fresh.error(), ctx);
        }
        if (ctx.is_head()) {
            fresh->segments.clear();
        }
        keep_bucket_config(ctx, fresh->bucket); // read with the version, in the same snapshot
        rp = std::move(*fresh);
    }
    protocol::result<storage::object_read> r(std::move(*rp));
    auto &obj = *r;
    if (auto c = check_conditions(ctx, obj.version, g.version_id.has_value())) {
        co_return std::move(*c);
    }
    response res;
    res.head = ctx.is_head();
    add_meta_headers(res, obj.version.meta);
    add_validators(res, obj.version);
    if (!ctx.target.version_id) {
        auto cfg = cached_bucket_config(ctx);
        if (!cfg) {
            auto load = load_bucket_config(ctx);
            auto loaded = co_await std::move(load);
            if (loaded.has_value()) cfg = *loaded;
        }
        if (cfg) {
            if (auto e = expiration_header_of(*cfg, obj.version)) {
                res.set("x-amz-expiration", *e); // B-C5
            }
        }
    }
    res.set("Accept-Ranges", "bytes");
    if (auto err = select_bytes(ctx, obj, obj.part_sizes, res)) {
        co_return std::move(*err);
    }
    bool whole = res.status == 200;
    auto mode = ctx.req.header("x-amz-checksum-mode");
    if (whole && mode && *mode == "ENABLED") {
        for (auto &[name, value] : obj.version.meta.checksums) {
            std::string h = "x-amz-checksum-";
            for (char c : name) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            res.set(h, value);
        }
        if (!obj.version.meta.checksum_type.empty()) {
            res.set("x-amz-checksum-type", obj.version.meta.checksum_type);
        } else if (!obj.version.meta.checksums.empty()) {
            res.set("x-amz-checksum-type", "FULL_OBJECT");
        }
    }
    apply_overrides(ctx, res);
    res.segments = std::move(obj.segments);
    co_return res;
}

} // namespace ifmatch::server
