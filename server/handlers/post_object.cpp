// POST Object: the browser form upload (multipart/form-data). The body is streamed: form fields
// before the `file` part are collected (bounded), the file part's bytes go through the same
// staging and hashing as PutObject (receive_upload reads them from form_source), and fields after
// the file are ignored, as on S3. The policy document is checked when the form carries one.
//
// Signatures: in open mode (no credentials, wire.md W2) any signature is accepted. In signed mode
// the form must carry a policy signed by a configured key: SigV4 forms sign the base64 `policy`
// field with the signing key of `x-amz-credential` (hex HMAC-SHA256 in `x-amz-signature`); SigV2
// forms sign it with HMAC-SHA1 of the secret (base64 in `signature`, key id in `AWSAccessKeyId`).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports a false -Wmismatched-new-delete when it inlines asio coroutine frames.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
#include "protocol/object_lock.hpp"
#include "protocol/crypto.hpp"
#include "protocol/form_data.hpp"
#include "protocol/sigv4.hpp"
#include "protocol/post_policy.hpp"
#include "protocol/tagging.hpp"
#include "protocol/uri.hpp"
#include "protocol/xml.hpp"
#include "server/store_calls.hpp"
#include "server/surface.hpp"
#include "server/upload.hpp"

#include <cstring>

namespace ifmatch::server {

using protocol::s3_errc;
using protocol::s3_error;

void note_write_failure(context &ctx, const s3_error &e);

namespace {

constexpr std::size_t max_fields_bytes = 64 * 1024;

std::string lower(std::string_view s) {
    std::string o(s);
    for (auto &c : o)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}

// The form as a body source: collect() reads the fields up to the file part; read() then yields
// the file part's bytes only, and drains the rest of the body once the part has ended.
class form_source final : public body_source {
  public:
    form_source(body_source &inner, std::string boundary)
        : inner_(inner), parser_(std::move(boundary), handlers()) {}

    protocol::form_data_parser::handlers handlers() {
        return {[this](const protocol::form_part_head &h) { begin(h); },
                [this](std::string_view d) { data(d); }, [this] { end(); }};
    }

    // Reads until the file part begins. Errors: the inner body's, MalformedPOSTRequest,
    // IncorrectNumberOfFilesInPostRequest (the form ended without one).
    net::awaitable<protocol::result<bool>> collect() {
        while (!file_seen_) {
            auto n = co_await pull();
            if (n.has_error())
                co_return n.error();
            if (!*n)
                co_return s3_error(s3_errc::incorrect_number_of_files);
        }
        co_return true;
    }

    net::awaitable<protocol::result<std::size_t>> read(char *buf, std::size_t n) override {
        while (pending_.empty() && !file_done_) {
            auto more = co_await pull();
            if (more.has_error())
                co_return more.error();
            if (!*more)
                co_return s3_error(s3_errc::incomplete_body);
        }
        if (pending_.empty()) {
            while (!inner_done_) { // fields after the file are read and ignored
                auto more = co_await pull();
                if (more.has_error())
                    co_return more.error();
            }
            co_return std::size_t(0);
        }
        const auto k = std::min(n, pending_.size());
        std::memcpy(buf, pending_.data(), k);
        pending_.erase(0, k);
        co_return k;
    }
    bool finished() const override { return inner_done_; }

    protocol::form_fields fields;
    protocol::form_part_head file_head;

  private:
    // Feeds one chunk of the inner body to the parser; false at the end of the body.
    net::awaitable<protocol::result<bool>> pull() {
        if (inner_done_)
            co_return false;
        auto n = co_await inner_.read(chunk_, sizeof chunk_);
        if (n.has_error())
            co_return n.error();
        if (*n == 0) {
            inner_done_ = true;
            co_return false;
        }
        if (auto r = parser_.feed(std::string_view(chunk_, *n)); r.has_error())
            co_return r.error();
        if (too_large_)
            co_return s3_error(s3_errc::malformed_post_request, "The form fields are too large.");
        co_return true;
    }
    void begin(const protocol::form_part_head &h) {
        if (!file_seen_ && lower(h.name) == "file") {
            file_seen_ = in_file_ = true;
            file_head = h;
            return;
        }
        field_name_ = lower(h.name);
        field_value_.clear();
    }
    void data(std::string_view d) {
        if (in_file_) {
            pending_.append(d);
        } else if (!file_seen_) {
            field_bytes_ += d.size();
            too_large_ = too_large_ || field_bytes_ > max_fields_bytes;
            if (!too_large_)
                field_value_.append(d);
        }
    }
    void end() {
        if (in_file_) {
            in_file_ = false;
            file_done_ = true;
        } else if (!file_seen_) {
            fields.emplace_back(field_name_, field_value_);
        }
    }

    body_source &inner_;
    protocol::form_data_parser parser_;
    char chunk_[65536];
    std::string pending_, field_name_, field_value_;
    std::size_t field_bytes_ = 0;
    bool file_seen_ = false, in_file_ = false, file_done_ = false, inner_done_ = false;
    bool too_large_ = false;
};

std::optional<std::string> field(const protocol::form_fields &f, std::string_view name) {
    for (const auto &[k, v] : f) {
        if (k == name)
            return v;
    }
    return std::nullopt;
}

// Metadata, encryption, ACL and tags from the form fields (the header names as field names;
// `acl` for x-amz-acl, `tagging` an XML Tagging document).
protocol::result<storage::object_meta> form_meta(const protocol::form_fields &f, write_surface &w) {
    storage::object_meta m;
    for (const auto &[k, v] : f) {
        if (k == "content-type")
            m.content_type = v;
        else if (k == "content-disposition")
            m.content_disposition = v;
        else if (k == "content-encoding")
            m.content_encoding = v;
        else if (k == "cache-control")
            m.cache_control = v;
        else if (k == "expires")
            m.expires = v;
        else if (k.starts_with("x-amz-meta-"))
            m.user.emplace_back(k.substr(11), v);
        else if (k == "x-amz-storage-class" || k == "x-amz-website-redirect-location")
            m.extra.emplace_back(k, v);
    }
    protocol::header_lookup look = [&f](std::string_view n) -> std::optional<std::string_view> {
        const std::string_view name = n == "x-amz-acl" ? std::string_view("acl") : n;
        for (const auto &[k, v] : f) {
            if (k == name)
                return std::string_view(v);
        }
        return std::nullopt;
    };
    auto sse = protocol::parse_sse_headers(look);
    if (sse.has_error())
        return sse.error();
    w.sse = *sse;
    auto acl = protocol::parse_acl_headers(look);
    if (acl.has_error())
        return acl.error();
    w.acl = *acl;
    if (auto t = field(f, "tagging")) {
        auto tags = protocol::parse_tagging_xml(*t, protocol::max_object_tags);
        if (tags.has_error())
            return tags.error();
        w.tags = protocol::encode_tags(*tags);
    }
    // Object Lock fields (B-L5, B-L6): as the headers of a PutObject. The form's policy already
    // binds its fields, so POST needs no Content-MD5 for them (ifmatch's choice).
    auto value = [&](std::string_view h) -> std::optional<std::string> {
        if (auto v = look(h)) return std::string(*v);
        return std::nullopt;
    };
    w.lock_mode = value(protocol::lock_mode_header);
    w.lock_until = value(protocol::lock_until_header);
    w.lock_hold = value(protocol::lock_hold_header);
    w.lock_requested = w.lock_mode || w.lock_until || w.lock_hold;
    w.integrity_header = true;
    return m;
}

// Case-insensitive form field lookup (S3 treats form field names case-insensitively).
std::optional<std::string> ifield(const protocol::form_fields &f, std::string_view name) {
    for (auto &[k, v] : f) {
        if (lower(k) == name) return v;
    }
    return std::nullopt;
}

// Signed mode: the form's policy must be signed by a configured key (SigV4 or SigV2).
protocol::result<bool> check_form_signature(const context &ctx, const protocol::form_fields &f) {
    if (!ctx.cfg.signed_mode()) {
        return true;
    }
    auto policy = ifield(f, "policy");
    auto secret_of = [&](std::string_view akid) -> std::optional<std::string> {
        for (auto &[k, s] : ctx.cfg.credentials) {
            if (k == akid) return s;
        }
        return std::nullopt;
    };
    auto denied = s3_error(s3_errc::access_denied, "Access Denied");
    if (!policy) {
        return denied;
    }
    if (auto cred = ifield(f, "x-amz-credential")) {
        auto sig = ifield(f, "x-amz-signature").value_or("");
        std::vector<std::string> parts;
        for (std::size_t pos = 0;;) {
            auto slash = cred->find('/', pos);
            parts.push_back(cred->substr(pos, slash == std::string::npos ? slash : slash - pos));
            if (slash == std::string::npos) break;
            pos = slash + 1;
        }
        if (parts.size() != 5 || parts[4] != "aws4_request") {
            return s3_error(s3_errc::invalid_argument, "Invalid x-amz-credential")
                .with("ArgumentName", "x-amz-credential");
        }
        auto secret = secret_of(parts[0]);
        if (!secret) {
            return s3_error(s3_errc::invalid_access_key_id).with("AWSAccessKeyId", parts[0]);
        }
        protocol::credential_scope scope{parts[0], parts[1], parts[2], parts[3]};
        auto key = protocol::sigv4_signing_key(*secret, scope);
        auto want = protocol::to_hex(protocol::hmac_sha256_raw(key, *policy));
        if (!protocol::constant_time_equal(want, sig)) {
            return s3_error(s3_errc::signature_does_not_match).with("AWSAccessKeyId", parts[0]);
        }
        return true;
    }
    if (auto akid = ifield(f, "awsaccesskeyid")) {
        auto secret = secret_of(*akid);
        if (!secret) {
            return s3_error(s3_errc::invalid_access_key_id).with("AWSAccessKeyId", *akid);
        }
        auto want = protocol::base64_encode(protocol::hmac_sha1_raw(*secret, *policy));
        if (!protocol::constant_time_equal(want, ifield(f, "signature").value_or(""))) {
            return s3_error(s3_errc::signature_does_not_match).with("AWSAccessKeyId", *akid);
        }
        return true;
    }
    return denied;
}

// Validates the collected form: key (with ${filename}), policy. Returns the object key.
protocol::result<std::string> check_form(context &ctx, form_source &src) {
    auto key = field(src.fields, "key");
    if (!key) {
        return s3_error(s3_errc::invalid_argument, "Bucket POST must contain a field named 'key'.  "
                                                   "If it is specified, please check the order of "
                                                   "the fields.")
            .with("ArgumentName", "key")
            .with("ArgumentValue", "");
    }
    std::string filename = src.file_head.filename.value_or("");
    filename = filename.substr(filename.find_last_of("/\\") + 1);
    if (auto at = key->find("${filename}"); at != std::string::npos) {
        key->replace(at, 11, filename);
    }
    if (auto k = protocol::check_object_key(*key); k.has_error())
        return k.error();
    if (auto sig = check_form_signature(ctx, src.fields); sig.has_error())
        return sig.error();
    for (auto &[k, v] : src.fields) {
        if (k == "key")
            v = *key;
    }
    if (auto pol = field(src.fields, "policy")) {
        auto p = protocol::parse_post_policy(*pol);
        if (p.has_error())
            return p.error();
        auto fields = src.fields;
        fields.emplace_back("bucket", ctx.target.bucket);
        auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        if (auto r = protocol::check_post_policy(*p, fields, now); r.has_error())
            return r.error();
    }
    return *key;
}

// success_action_redirect (303), else success_action_status 200 / 201 (PostResponse) / 204.
response post_response(context &ctx, const protocol::form_fields &f, const std::string &key,
                       const storage::write_result &w) {
    response res;
    res.set("ETag", w.etag);
    if (w.version_id != "null")
        res.set("x-amz-version-id", w.version_id);
    const std::string location = "/" + ctx.target.bucket + "/" + protocol::uri_encode(key, true);
    auto redirect = field(f, "success_action_redirect");
    if (!redirect)
        redirect = field(f, "redirect");
    if (redirect && !redirect->empty()) {
        res.status = 303;
        const char sep = redirect->find('?') == std::string::npos ? '?' : '&';
        res.set("Location", *redirect + sep +
                                "bucket=" + protocol::uri_encode(ctx.target.bucket, false) +
                                "&key=" + protocol::uri_encode(key, false) +
                                "&etag=" + protocol::uri_encode(w.etag, false));
        return res;
    }
    res.set("Location", location);
    const auto status = field(f, "success_action_status").value_or("204");
    if (status == "201") {
        protocol::xml_writer x;
        x.open("PostResponse")
            .element("Location", location)
            .element("Bucket", ctx.target.bucket)
            .element("Key", key)
            .element("ETag", w.etag);
        res.body = x.str();
        res.set("Content-Type", "application/xml");
        res.status = 201;
    } else {
        res.status = status == "200" ? 200 : 204;
    }
    return res;
}

response fail(context &ctx, const s3_error &e) {
    note_write_failure(ctx, e);
    return error_response(e, ctx);
}

} // namespace

net::awaitable<response> handle_post_object(context &ctx) {
    auto boundary = protocol::form_boundary(ctx.req.header("content-type").value_or(""));
    if (!boundary) {
        co_return error_response(s3_error(s3_errc::precondition_failed)
                                     .with("Condition", "Bucket POST must be of the enclosure-type "
                                                        "multipart/form-data"),
                                 ctx);
    }
    form_source src(ctx.body, *boundary);
    auto collected = co_await src.collect();
    if (collected.has_error())
        co_return fail(ctx, collected.error());
    auto key = check_form(ctx, src);
    if (key.has_error())
        co_return fail(ctx, key.error());
    write_surface surface;
    auto meta = form_meta(src.fields, surface);
    if (meta.has_error())
        co_return fail(ctx, meta.error());
    std::optional<std::string> post_key = *key;
    auto defaults = co_await apply_bucket_defaults(ctx, surface, post_key);
    if (defaults.has_error())
        co_return fail(ctx, defaults.error());
    context sub{ctx.cfg, ctx.db, ctx.req, src, ctx.target, ctx.start, {}, {}, ctx.note,
                ctx.bucket_config};
    upload_plan plan;
    auto up = co_await receive_upload(sub, plan);
    if (up.has_error())
        co_return fail(ctx, up.error());
    if (auto pol = field(src.fields, "policy")) {
        auto p = protocol::parse_post_policy(*pol);
        if (auto r = protocol::check_post_length(*p, up->size); r.has_error()) {
            co_return fail(ctx, r.error());
        }
    }
    storage::put_request req;
    req.bucket = ctx.target.bucket;
    req.key = *key;
    req.body = std::move(up->body);
    req.fields.meta = std::move(*meta);
    req.fields.etag = up->etag;
    req.fields.size = up->size;
    req.fields.writer = ctx.writer();
    req.start = ctx.start;
    store_write_surface(surface, up->etag.substr(1, 32), req.fields.meta, req.fields.etag,
                        ctx.cfg.region);
    auto r_call = store_decide<storage::write_result>(
        [&](auto done) { ctx.db.put_object(std::move(req), std::move(done)); });
    auto outcome = co_await std::move(r_call);
    auto &r = outcome.value;
    if (r.has_error())
        co_return fail(ctx, r.error());
    co_return post_response(ctx, src.fields, *key, *r);
}

} // namespace ifmatch::server
