// ListObjects (V1) and ListObjectsV2: prefix, delimiter, paging, encoding-type=url.
#include "server/handlers.hpp"
#include "server/store_calls.hpp"

#include "protocol/crypto.hpp"
#include "protocol/uri.hpp"
#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::op;
using protocol::s3_errc;
using protocol::s3_error;

namespace {

struct list_params {
    bool v2 = false;
    bool url = false;
    bool fetch_owner = false;
    std::string prefix, delimiter, marker, token, start_after;
    int max_keys = 1000;
};

protocol::result<list_params> parse_params(const context &ctx) {
    list_params p;
    auto &q = ctx.target.query;
    p.v2 = ctx.target.operation == op::list_objects_v2;
    p.prefix = std::string(q.get("prefix").value_or(""));
    p.delimiter = std::string(q.get("delimiter").value_or(""));
    p.marker = std::string(q.get("marker").value_or(""));
    p.start_after = std::string(q.get("start-after").value_or(""));
    p.fetch_owner = q.get("fetch-owner").value_or("") == "true";
    if (auto e = q.get("encoding-type")) {
        if (*e != "url") {
            return s3_error(s3_errc::invalid_argument, "Invalid Encoding Method specified in "
                                                       "Request")
                .with("ArgumentName", "encoding-type")
                .with("ArgumentValue", std::string(*e));
        }
        p.url = true;
    }
    if (auto m = q.get("max-keys")) {
        try {
            std::size_t n = 0;
            long v = std::stol(std::string(*m), &n);
            if (n != m->size() || v < 0) throw std::invalid_argument("max-keys");
            p.max_keys = static_cast<int>(std::min<long>(v, 1000));
        } catch (...) {
            return s3_error(s3_errc::invalid_argument, "Provided max-keys not an integer or "
                                                       "within integer range")
                .with("ArgumentName", "max-keys")
                .with("ArgumentValue", std::string(*m));
        }
    }
    if (auto t = q.get("continuation-token")) {
        auto raw = protocol::base64_decode(*t);
        if (!raw || t->empty()) {
            return s3_error(s3_errc::invalid_argument, "The continuation token provided is "
                                                       "incorrect")
                .with("ArgumentName", "continuation-token");
        }
        p.token = *raw;
    }
    return p;
}

std::string enc(const list_params &p, const std::string &s) {
    return p.url ? protocol::uri_encode(s, true) : s;
}

std::string render(const context &ctx, const list_params &p, const storage::list_page &page) {
    protocol::xml_writer w;
    w.open("ListBucketResult", true);
    // encoding-type=url encodes Key, CommonPrefixes/Prefix and Delimiter in both versions, and
    // StartAfter and the top-level Prefix in V2 only; V1 encodes Marker and NextMarker instead
    // and returns its top-level Prefix as sent (what botocore decodes for each version).
    w.element("Name", ctx.target.bucket).element("Prefix", p.v2 ? enc(p, p.prefix) : p.prefix);
    if (p.v2) {
        if (auto t = ctx.target.query.get("continuation-token")) {
            w.element("ContinuationToken", *t);
        }
        if (!p.start_after.empty()) w.element("StartAfter", enc(p, p.start_after));
        w.element("KeyCount",
                  static_cast<std::int64_t>(page.contents.size() + page.common_prefixes.size()));
    } else {
        w.element("Marker", enc(p, p.marker));
        if (page.truncated && !p.delimiter.empty()) w.element("NextMarker", enc(p, page.last));
    }
    w.element("MaxKeys", p.max_keys);
    if (!p.delimiter.empty()) w.element("Delimiter", enc(p, p.delimiter));
    if (p.url) w.element("EncodingType", "url");
    w.element("IsTruncated", page.truncated ? "true" : "false");
    if (p.v2 && page.truncated) {
        w.element("NextContinuationToken", protocol::base64_encode(page.last));
    }
    for (auto &e : page.contents) {
        w.open("Contents").element("Key", enc(p, e.key));
        w.element("LastModified", iso_date_ms(e.last_modified_ms)).element("ETag", e.etag);
        w.element("Size", static_cast<std::int64_t>(e.size));
        if (!p.v2 || p.fetch_owner) {
            w.open("Owner").element("ID", "ifmatch").element("DisplayName", "ifmatch").close();
        }
        w.element("StorageClass", "STANDARD").close();
    }
    for (auto &cp : page.common_prefixes) {
        w.open("CommonPrefixes").element("Prefix", enc(p, cp)).close();
    }
    return w.str();
}

} // namespace

net::awaitable<response> handle_list(context &ctx) {
    auto p = parse_params(ctx);
    if (p.has_error()) {
        co_return error_response(p.error(), ctx);
    }
    storage::list_request lr;
    lr.bucket = ctx.target.bucket;
    lr.prefix = p->prefix;
    lr.delimiter = p->delimiter;
    lr.max_keys = p->max_keys;
    lr.after = p->v2 ? (!p->token.empty() ? p->token : p->start_after) : p->marker;
    auto r_call =
        store_call<storage::list_page>([&](auto done) { ctx.db.list_objects(lr, std::move(done)); });
    auto r = co_await std::move(r_call);
    co_return xml_or_error(r, ctx, [&](const storage::list_page &page) {
        return render(ctx, *p, page);
    });
}

} // namespace ifmatch::server
