// SSE, ACL and tags of a new version (see object_surface.hpp).
#include "storage/object_surface.hpp"

#include <algorithm>

namespace ifmatch::storage {

void store_write_surface(const write_surface &w, const std::string &md5_hex, object_meta &meta,
                         std::string &etag, const std::string &region) {
    std::erase_if(meta.extra, [](const auto &p) {
        return p.first.starts_with("x-amz-server-side-encryption") || p.first == extra_acl ||
               p.first == extra_md5;
    });
    if (w.sse) {
        meta.extra.emplace_back("x-amz-server-side-encryption", w.sse->algorithm);
        if (w.sse->is_kms()) {
            auto key =
                w.sse->kms_key_id.empty() ? protocol::default_kms_key(region) : w.sse->kms_key_id;
            meta.extra.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", key);
            if (w.sse->bucket_key) {
                meta.extra.emplace_back("x-amz-server-side-encryption-bucket-key-enabled", "true");
            }
            if (!md5_hex.empty()) {
                meta.extra.emplace_back(extra_md5, md5_hex);
                etag = protocol::kms_etag(md5_hex, key);
            }
        } else if (!md5_hex.empty()) {
            etag = "\"" + md5_hex + "\"";
        }
    } else if (!md5_hex.empty()) {
        etag = "\"" + md5_hex + "\"";
    }
    if (!w.acl.empty()) {
        meta.extra.emplace_back(extra_acl, protocol::encode_acl(w.acl));
    }
    if (w.tags) {
        std::erase_if(meta.extra, [](const auto &p) { return p.first == extra_tags; });
        if (!w.tags->empty()) {
            meta.extra.emplace_back(extra_tags, *w.tags);
        }
    }
    if (w.lock) {
        protocol::set_lock(meta.extra, *w.lock);
    }
    // A new version's replication status is its own, never a copied source's (B-R2).
    std::erase_if(meta.extra, [](const auto &p) { return p.first == "x-amz-replication-status"; });
    if (w.replication_pending) {
        meta.extra.emplace_back("x-amz-replication-status", "PENDING");
    }
}

std::string content_md5(const object_version &v) {
    for (const auto &[k, val] : v.meta.extra) {
        if (k == extra_md5) {
            return val;
        }
    }
    if (v.etag.find('-') != std::string::npos || v.etag.size() != 34) {
        return {};
    }
    return v.etag.substr(1, 32);
}

void apply_copy_surface(const copy_surface &c, object_meta &meta, std::string &etag,
                        const object_version &src) {
    std::erase_if(meta.extra, [](const auto &p) { return p.first == extra_tags; });
    write_surface w = c.surface;
    if (!w.lock) {
        protocol::set_lock(meta.extra, {}); // the source's lock never travels with a copy
    }
    if (!c.replace_tags) {
        w.tags.reset();
        for (const auto &[k, v] : src.meta.extra) {
            if (k == extra_tags) w.tags = v;
        }
    }
    store_write_surface(w, content_md5(src), meta, etag, c.region);
}

} // namespace ifmatch::storage
