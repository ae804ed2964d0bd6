// Pure version rules shared by the backends (see version_rules.hpp).
#include "storage/version_rules.hpp"

#include <algorithm>
#include <chrono>

namespace ifmatch::storage {

using protocol::s3_errc;
using protocol::s3_error;

std::optional<s3_error> extra_target_refusal(const version_extra_request &r,
                                             const std::optional<object_version> &v) {
    if (!v && r.version_id) {
        return s3_error(s3_errc::no_such_version)
            .with("Key", r.key)
            .with("VersionId", *r.version_id);
    }
    if (v && v->delete_marker && r.marker_allowed && r.version_id) {
        return std::nullopt;
    }
    if (!v || (v->delete_marker && !r.version_id)) {
        return s3_error(s3_errc::no_such_key).with("Key", r.key);
    }
    if (v->delete_marker) {
        return s3_error(s3_errc::method_not_allowed)
            .with("Method", "PUT")
            .with("ResourceType", "DeleteMarker");
    }
    return std::nullopt;
}

std::optional<s3_error> apply_extra_change(const version_extra_request &r, object_meta &meta) {
    auto value_of = [&meta](const std::string &name) -> std::optional<std::string> {
        for (const auto &entry : meta.extra) {
            if (entry.first == name) return entry.second;
        }
        return std::nullopt;
    };
    for (const auto &want : r.expect) {
        if (value_of(want.first) != want.second) {
            return s3_error(s3_errc::conditional_request_conflict); // changed since it was read
        }
    }
    auto set = [&meta](const std::string &name, const std::optional<std::string> &value) {
        std::erase_if(meta.extra, [&](const auto &p) { return p.first == name; });
        if (value) meta.extra.emplace_back(name, *value);
    };
    set(r.name, r.value);
    for (const auto &change : r.more) {
        set(change.first, change.second);
    }
    return std::nullopt;
}

version_fields copy_fields(const copy_request &r, const object_version &src,
                           const std::optional<std::string> &multipart_md5) {
    version_fields f = r.fields;
    if (!r.replace_metadata) {
        f.meta = src.meta;
    }
    // A copy is not the result of the source's CompleteMultipartUpload (multipart RULE 4).
    std::erase_if(f.meta.extra, [](const auto &p) { return p.first == meta_upload_id; });
    f.etag = src.etag;
    f.size = src.size;
    f.parts_count = src.parts_count;
    object_version source = src;
    if (multipart_md5) {
        f.etag = "\"" + *multipart_md5 + "\"";
        f.parts_count = 0;
        std::erase_if(f.meta.extra, [](const auto &p) { return p.first == meta_content_md5; });
        source.meta.extra.emplace_back(meta_content_md5, *multipart_md5);
    }
    if (r.surface) {
        apply_copy_surface(*r.surface, f.meta, f.etag, source);
    }
    return f;
}

namespace {

protocol::found_version found_of(const std::optional<object_version> &v, bool by_version_id) {
    protocol::found_version found;
    found.by_version_id = by_version_id;
    found.kind = !v                 ? protocol::found_kind::nothing
                 : v->delete_marker ? protocol::found_kind::delete_marker
                                    : protocol::found_kind::object;
    if (v) {
        found.v = {v->etag, protocol::sys_millis(std::chrono::milliseconds(v->last_modified_ms))};
    }
    return found;
}

protocol::sys_seconds seconds_of(std::int64_t now_ms) {
    return std::chrono::time_point_cast<std::chrono::seconds>(
        protocol::sys_millis(std::chrono::milliseconds(now_ms)));
}

} // namespace

protocol::copy_facts copy_facts_of(const copy_request &r, const std::optional<object_version> &src,
                                   protocol::write_context destination, std::int64_t now_ms) {
    protocol::copy_facts facts;
    facts.source = found_of(src, r.src_version_id.has_value());
    facts.source_conditions = r.src_conditions;
    facts.onto_itself = r.src_bucket == r.bucket && r.src_key == r.key;
    facts.changes_something = r.replace_metadata || r.changes_attributes;
    facts.destination_conditions = r.conditions;
    facts.destination = std::move(destination);
    facts.now = seconds_of(now_ms);
    return facts;
}

std::optional<s3_error> part_source_refusal(const upload_part_request::copy_from &s,
                                            const std::optional<object_version> &v,
                                            std::int64_t now_ms, const std::string &key) {
    auto d = protocol::decide_copy_source(found_of(v, s.version_id.has_value()), s.conditions,
                                          seconds_of(now_ms));
    if (d.answer != protocol::copy_answer::proceed) {
        return protocol::copy_decision_error(d, s.key, s.version_id.value_or(""), key);
    }
    if (!s.conditions.empty() && v->seq != s.read_seq) {
        return s3_error(s3_errc::conditional_request_conflict,
                        "The copy source was replaced while the part was being copied.")
            .with("Key", s.key);
    }
    return std::nullopt;
}

} // namespace ifmatch::storage
