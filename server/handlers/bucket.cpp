// Bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation,
// Get/PutBucketVersioning.
#include "server/handlers.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"

#include "protocol/uri.hpp"
#include "storage/object_store.hpp"

#include "protocol/xml.hpp"

#include <cctype>

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

net::awaitable<response> list_all(context &ctx) {
    auto r_call = store_call<std::vector<storage::bucket_info>>(
        [&](auto done) { ctx.db.list_buckets(std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return error_response(r.error(), ctx);
    }
    auto &q = ctx.target.query;
    std::string prefix(q.get("prefix").value_or(""));
    std::string after(q.get("continuation-token").value_or(""));
    std::size_t max = 10000;
    if (auto m = q.get("max-buckets")) {
        try {
            max = std::stoul(std::string(*m));
        } catch (...) {
            max = 0;
        }
        if (max < 1 || max > 10000) {
            co_return error_response(
                s3_error(s3_errc::invalid_argument, "Argument max-buckets must be an integer "
                                                    "between 1 and 10000.")
                    .with("ArgumentName", "max-buckets")
                    .with("ArgumentValue", std::string(*m)),
                ctx);
        }
    }
    protocol::xml_writer w;
    w.open("ListAllMyBucketsResult", true);
    w.open("Owner").element("ID", "ifmatch").element("DisplayName", "ifmatch").close();
    w.open("Buckets");
    std::size_t n = 0;
    std::string last;
    bool more = false;
    for (auto &b : *r) {
        if (!b.name.starts_with(prefix) || (!after.empty() && b.name <= after)) continue;
        if (n == max) {
            more = true;
            break;
        }
        ++n;
        last = b.name;
        w.open("Bucket")
            .element("Name", b.name)
            .element("CreationDate", iso_date_ms(b.created_ms))
            .element("BucketRegion", b.region)
            .close();
    }
    w.close();
    // The token is the last name returned: bucket names need no further encoding.
    if (more) w.element("ContinuationToken", last);
    if (!prefix.empty()) w.element("Prefix", prefix);
    co_return xml_response(w.str());
}

// x-amz-acl / x-amz-grant-* and x-amz-object-ownership of CreateBucket, as bucket settings.
protocol::result<storage::string_pairs> create_settings(const context &ctx) {
    storage::string_pairs out;
    auto acl = protocol::parse_acl_headers(ctx.lookup());
    if (acl.has_error()) return acl.error();
    if (!acl->empty()) out.emplace_back("acl", protocol::encode_acl(*acl));
    if (auto own = ctx.req.header("x-amz-object-ownership")) {
        if (!protocol::is_object_ownership(*own)) {
            return s3_error(s3_errc::invalid_argument, "Invalid x-amz-object-ownership header")
                .with("ArgumentName", "x-amz-object-ownership")
                .with("ArgumentValue", std::string(*own));
        }
        out.emplace_back("ownership", std::string(*own));
    }
    return out;
}

// B-L1: x-amz-bucket-object-lock-enabled: true creates the bucket with Object Lock (and
// versioning) enabled; `false` asks for nothing. Answers whether the bucket gets Object Lock, or
// InvalidArgument for another value.
protocol::result<bool> wants_object_lock(const context &ctx) {
    auto lock = ctx.req.header("x-amz-bucket-object-lock-enabled");
    if (!lock) {
        return false;
    }
    std::string v(*lock);
    for (auto &c : v) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (v != "true" && v != "false") {
        return s3_error(s3_errc::invalid_argument,
                        "Invalid x-amz-bucket-object-lock-enabled header")
            .with("ArgumentName", "x-amz-bucket-object-lock-enabled")
            .with("ArgumentValue", std::string(*lock));
    }
    return v == "true";
}

net::awaitable<response> create(context &ctx) {
    const auto &name = ctx.target.bucket;
    if (!protocol::is_valid_bucket_name(name)) {
        co_return error_response(
            s3_error(s3_errc::invalid_bucket_name).with("BucketName", name), ctx);
    }
    auto lock = wants_object_lock(ctx);
    if (lock.has_error()) {
        co_return error_response(lock.error(), ctx);
    }
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto parsed = protocol::parse_create_bucket(*body);
    if (parsed.has_error()) {
        co_return error_response(parsed.error(), ctx);
    }
    std::string region = parsed->location_constraint.empty() ? ctx.cfg.region
                                                             : parsed->location_constraint;
    auto settings = create_settings(ctx);
    if (settings.has_error()) {
        co_return error_response(settings.error(), ctx);
    }
    if (*lock) {
        settings->emplace_back(object_lock_setting,
                               protocol::render_lock_config(protocol::lock_config{}));
    }
    auto r_call = store_call<storage::create_bucket_result>([&](auto done) {
        ctx.db.create_bucket(name, region, std::move(*settings), std::move(done));
    });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return error_response(r.error(), ctx);
    }
    // us-east-1 keeps S3's legacy answer: re-creating your own bucket is a 200 (wire.md §7.2).
    if (r->already_owned && ctx.cfg.region != "us-east-1") {
        co_return error_response(
            s3_error(s3_errc::bucket_already_owned_by_you).with("BucketName", name), ctx);
    }
    if (*lock && !r->already_owned) {
        // B-L1: Object Lock comes with versioning, which can then never be suspended.
        auto v_call = store_call<bool>(
            [&](auto done) { ctx.db.set_bucket_versioning(name, "Enabled", std::move(done)); });
        auto v = co_await std::move(v_call);
        if (v.has_error()) {
            co_return error_response(v.error(), ctx);
        }
    }
    response res;
    res.set("Location", "/" + name);
    co_return res;
}

net::awaitable<response> remove(context &ctx) {
    auto name = ctx.target.bucket;
    auto r_call = store_call<bool>([&](auto done) { ctx.db.delete_bucket(name, std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx);
}

net::awaitable<response> read_bucket(context &ctx) {
    auto name = ctx.target.bucket;
    auto r_call =
        store_call<storage::bucket_info>([&](auto done) { ctx.db.get_bucket(name, std::move(done)); });
    auto r = co_await std::move(r_call);
    if (r.has_error()) {
        co_return error_response(r.error(), ctx);
    }
    response res;
    switch (ctx.target.operation) {
    case op::head_bucket:
        res.head = true;
        res.set("x-amz-bucket-region", r->region);
        co_return res;
    case op::get_bucket_location: {
        protocol::xml_writer w;
        w.open("LocationConstraint", true);
        if (r->region != "us-east-1") {
            // The text of the root element is the region; us-east-1 is an empty element.
            co_return xml_response(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
                protocol::xml_escape(r->region) + "</LocationConstraint>");
        }
        co_return xml_response(w.str());
    }
    default: {
        protocol::xml_writer w;
        w.open("VersioningConfiguration", true);
        if (!r->versioning.empty()) {
            w.element("Status", r->versioning);
        }
        co_return xml_response(w.str());
    }
    }
}

net::awaitable<response> put_versioning(context &ctx) {
    auto body = co_await read_small_body(ctx, 64 * 1024);
    if (body.has_error()) {
        co_return error_response(body.error(), ctx);
    }
    auto v = protocol::parse_versioning(*body);
    if (v.has_error()) {
        co_return error_response(v.error(), ctx);
    }
    if (!v->mfa_delete.empty() && v->mfa_delete != "Disabled") {
        // S3 wants the root account's MFA token in x-amz-mfa; ifmatch has no MFA devices, so a
        // request carrying one is answered 501 rather than pretending to enable MFA delete.
        if (!ctx.req.header("x-amz-mfa")) {
            co_return error_response(s3_error(s3_errc::access_denied,
                                              "Mfa Authentication must be used for this request"),
                                     ctx);
        }
        co_return error_response(s3_error(s3_errc::not_implemented).with("Header", "x-amz-mfa"),
                                 ctx);
    }
    if (v->status != "Enabled" && v->status != "Suspended") {
        co_return error_response(s3_error(s3_errc::illegal_versioning_configuration), ctx);
    }
    auto name = ctx.target.bucket;
    auto status = v->status;
    auto load = load_bucket_config(ctx);
    auto cfg = co_await std::move(load);
    if (cfg.has_error()) {
        co_return error_response(cfg.error(), ctx);
    }
    const bool locked = !setting((*cfg)->settings, object_lock_setting).empty();
    if (auto refused = protocol::versioning_change_refusal(locked, status)) {
        co_return error_response(*refused, ctx); // B-L1
    }
    auto r_call = store_call<bool>(
        [&](auto done) { ctx.db.set_bucket_versioning(name, status, std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return empty_or_error(r, ctx, 200);
}

} // namespace

net::awaitable<response> handle_bucket(context &ctx) {
    switch (ctx.target.operation) {
    case op::list_buckets:
        co_return co_await list_all(ctx);
    case op::create_bucket:
        co_return co_await create(ctx);
    case op::delete_bucket:
        co_return co_await remove(ctx);
    case op::put_bucket_versioning:
        co_return co_await put_versioning(ctx);
    default:
        co_return co_await read_bucket(ctx);
    }
}

} // namespace ifmatch::server
