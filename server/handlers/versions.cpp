// ListObjectVersions and ListMultipartUploads: prefix, delimiter, key / version-id / upload-id
// markers, max-keys / max-uploads, encoding-type=url (wire.md §5).
#include "server/handlers.hpp"
#include "server/store_calls.hpp"

#include "protocol/uri.hpp"
#include "protocol/xml.hpp"
#include "storage/object_store.hpp"

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

namespace {

struct common_params {
    bool url = false;
    std::string prefix, delimiter, key_marker, second_marker;
    int max = 1000;
};

protocol::result<common_params> parse(const context &ctx, const char *max_name,
                                      const char *second_marker) {
    common_params p;
    auto &q = ctx.target.query;
    p.prefix = std::string(q.get("prefix").value_or(""));
    p.delimiter = std::string(q.get("delimiter").value_or(""));
    p.key_marker = std::string(q.get("key-marker").value_or(""));
    p.second_marker = std::string(q.get(second_marker).value_or(""));
    if (auto e = q.get("encoding-type")) {
        if (*e != "url") {
            return s3_error(s3_errc::invalid_argument, "Invalid Encoding Method specified in "
                                                       "Request")
                .with("ArgumentName", "encoding-type")
                .with("ArgumentValue", std::string(*e));
        }
        p.url = true;
    }
    if (auto m = q.get(max_name)) {
        try {
            std::size_t n = 0;
            long v = std::stol(std::string(*m), &n);
            if (n != m->size() || v < 0) throw std::invalid_argument(max_name);
            p.max = static_cast<int>(std::min<long>(v, 1000));
        } catch (...) {
            return s3_error(s3_errc::invalid_argument, std::string("Provided ") + max_name +
                                                           " not an integer or within integer "
                                                           "range")
                .with("ArgumentName", max_name)
                .with("ArgumentValue", std::string(*m));
        }
    }
    return p;
}

std::string enc(const common_params &p, const std::string &s) {
    return p.url ? protocol::uri_encode(s, true) : s;
}

void owner(protocol::xml_writer &w, const char *name = "Owner") {
    w.open(name).element("ID", "ifmatch").element("DisplayName", "ifmatch").close();
}

std::string render_versions(const context &ctx, const common_params &p,
                            const storage::list_versions_page &page) {
    protocol::xml_writer w;
    w.open("ListVersionsResult", true);
    w.element("Name", ctx.target.bucket).element("Prefix", enc(p, p.prefix));
    w.element("KeyMarker", enc(p, p.key_marker)).element("VersionIdMarker", p.second_marker);
    if (page.truncated) {
        w.element("NextKeyMarker", enc(p, page.next_key_marker));
        if (!page.next_version_id_marker.empty()) {
            w.element("NextVersionIdMarker", page.next_version_id_marker);
        }
    }
    w.element("MaxKeys", p.max);
    if (!p.delimiter.empty()) w.element("Delimiter", enc(p, p.delimiter));
    if (p.url) w.element("EncodingType", "url");
    w.element("IsTruncated", page.truncated ? "true" : "false");
    for (auto &v : page.versions) {
        w.open(v.delete_marker ? "DeleteMarker" : "Version").element("Key", enc(p, v.key));
        w.element("VersionId", v.version_id).element("IsLatest", v.is_latest ? "true" : "false");
        w.element("LastModified", iso_date_ms(v.last_modified_ms));
        if (!v.delete_marker) {
            w.element("ETag", v.etag).element("Size", static_cast<std::int64_t>(v.size));
            w.element("StorageClass", "STANDARD");
        }
        owner(w);
        w.close();
    }
    for (auto &cp : page.common_prefixes) {
        w.open("CommonPrefixes").element("Prefix", enc(p, cp)).close();
    }
    return w.str();
}

std::string render_uploads(const context &ctx, const common_params &p,
                           const storage::list_uploads_page &page) {
    protocol::xml_writer w;
    w.open("ListMultipartUploadsResult", true);
    w.element("Bucket", ctx.target.bucket).element("KeyMarker", enc(p, p.key_marker));
    w.element("UploadIdMarker", p.second_marker);
    if (page.truncated) {
        w.element("NextKeyMarker", enc(p, page.next_key_marker));
        w.element("NextUploadIdMarker", page.next_upload_id_marker);
    }
    if (!p.delimiter.empty()) w.element("Delimiter", enc(p, p.delimiter));
    w.element("Prefix", enc(p, p.prefix)).element("MaxUploads", p.max);
    if (p.url) w.element("EncodingType", "url");
    w.element("IsTruncated", page.truncated ? "true" : "false");
    for (auto &u : page.uploads) {
        w.open("Upload").element("Key", enc(p, u.key)).element("UploadId", u.upload_id);
        owner(w, "Initiator");
        owner(w);
        w.element("StorageClass", "STANDARD").element("Initiated", iso_date_ms(u.initiated_ms));
        if (!u.checksum_algo.empty()) {
            w.element("ChecksumAlgorithm", u.checksum_algo);
            w.element("ChecksumType", u.checksum_type);
        }
        w.close();
    }
    for (auto &cp : page.common_prefixes) {
        w.open("CommonPrefixes").element("Prefix", enc(p, cp)).close();
    }
    return w.str();
}

} // namespace

net::awaitable<response> handle_list_versions(context &ctx) {
    auto p = parse(ctx, "max-keys", "version-id-marker");
    if (p.has_error()) {
        co_return error_response(p.error(), ctx);
    }
    storage::list_versions_request r{ctx.target.bucket, p->prefix,        p->delimiter,
                                     p->key_marker,     p->second_marker, p->max};
    auto r_call = store_call<storage::list_versions_page>(
        [&](auto done) { ctx.db.list_versions(r, std::move(done)); });
    auto page = co_await std::move(r_call);
    co_return xml_or_error(page, ctx, [&](const storage::list_versions_page &v) {
        return render_versions(ctx, *p, v);
    });
}

net::awaitable<response> handle_list_uploads(context &ctx) {
    auto p = parse(ctx, "max-uploads", "upload-id-marker");
    if (p.has_error()) {
        co_return error_response(p.error(), ctx);
    }
    storage::list_uploads_request r{ctx.target.bucket, p->prefix,        p->delimiter,
                                    p->key_marker,     p->second_marker, p->max};
    auto r_call = store_call<storage::list_uploads_page>(
        [&](auto done) { ctx.db.list_uploads(r, std::move(done)); });
    auto page = co_await std::move(r_call);
    co_return xml_or_error(page, ctx, [&](const storage::list_uploads_page &u) {
        return render_uploads(ctx, *p, u);
    });
}

} // namespace ifmatch::server
