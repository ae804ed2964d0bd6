// Digests, HMAC and encodings over OpenSSL 3 EVP. This is the only file in protocol/ that
// includes <openssl/*>; every other module hashes through crypto.hpp.

#include "protocol/crypto.hpp"

#include <cassert>
#include <cstddef>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace ifmatch::protocol {

namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up in its provider tables on every
// EVP_DigestInit_ex / HMAC call with the legacy EVP_md5() handles (a measurable cost per PUT).
const EVP_MD *fetched(const char *name, const EVP_MD *legacy) {
    const EVP_MD *md = EVP_MD_fetch(nullptr, name, nullptr);
    return md ? md : legacy;
}

const EVP_MD *md5_md() {
    static const EVP_MD *md = fetched("MD5", EVP_md5());
    return md;
}

const EVP_MD *sha1_md() {
    static const EVP_MD *md = fetched("SHA1", EVP_sha1());
    return md;
}

const EVP_MD *sha256_md() {
    static const EVP_MD *md = fetched("SHA256", EVP_sha256());
    return md;
}

const EVP_MD *evp_for(digest_kind k) {
    switch (k) {
    case digest_kind::md5:
        return md5_md();
    case digest_kind::sha1:
        return sha1_md();
    case digest_kind::sha256:
        return sha256_md();
    }
    return sha256_md();
}

const unsigned char *bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char *>(s.data());
}

// One-shot digest of `data` with `md`.
std::string digest_raw(const EVP_MD *md, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
    assert(ok == 1 && "EVP_Digest failed: OpenSSL is out of memory or misconfigured");
    (void)ok;
    return std::string(reinterpret_cast<const char *>(out), len);
}

// One-shot HMAC of `data` under `key` with `md`.
std::string hmac_raw(const EVP_MD *md, std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // HMAC() rejects a null key pointer even with length 0, so point at a dummy byte.
    static const unsigned char empty_key = 0;
    const unsigned char *k = key.empty() ? &empty_key : bytes(key);
    unsigned char *r =
        HMAC(md, k, static_cast<int>(key.size()), bytes(data), data.size(), out, &len);
    assert(r != nullptr && "HMAC failed: OpenSSL is out of memory or misconfigured");
    (void)r;
    return std::string(reinterpret_cast<const char *>(out), len);
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

} // namespace

struct digest::impl {
    digest_kind kind;
    EVP_MD_CTX *ctx = nullptr;

    explicit impl(digest_kind k) : kind(k), ctx(EVP_MD_CTX_new()) {
        assert(ctx != nullptr && "EVP_MD_CTX_new failed: out of memory");
        reset();
    }
    ~impl() { EVP_MD_CTX_free(ctx); }
    impl(const impl &) = delete;
    impl &operator=(const impl &) = delete;

    void reset() {
        int ok = EVP_DigestInit_ex(ctx, evp_for(kind), nullptr);
        assert(ok == 1 && "EVP_DigestInit_ex failed");
        (void)ok;
    }
};

digest::digest(digest_kind k) : impl_(std::make_unique<impl>(k)) {}
digest::~digest() = default;
digest::digest(digest &&) noexcept = default;
digest &digest::operator=(digest &&) noexcept = default;

void digest::update(std::string_view data) {
    if (data.empty()) {
        return;
    }
    int ok = EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
    assert(ok == 1 && "EVP_DigestUpdate failed");
    (void)ok;
}

std::string digest::finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = EVP_DigestFinal_ex(impl_->ctx, out, &len);
    assert(ok == 1 && "EVP_DigestFinal_ex failed");
    (void)ok;
    impl_->reset();
    return std::string(reinterpret_cast<const char *>(out), len);
}

std::string md5_raw(std::string_view data) { return digest_raw(md5_md(), data); }

std::string sha256_raw(std::string_view data) { return digest_raw(sha256_md(), data); }

std::string sha256_hex(std::string_view data) { return to_hex(sha256_raw(data)); }

std::string hmac_sha256_raw(std::string_view key, std::string_view data) {
    return hmac_raw(sha256_md(), key, data);
}

std::string hmac_sha1_raw(std::string_view key, std::string_view data) {
    return hmac_raw(sha1_md(), key, data);
}

std::string unused_id(std::string id, std::set<std::string> &taken) {
    while (taken.contains(id)) {
        id = to_hex(md5_raw(id));
    }
    taken.insert(id);
    return id;
}

std::string to_hex(std::string_view raw) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (char ch : raw) {
        auto b = static_cast<unsigned char>(ch);
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

std::string base64_encode(std::string_view raw) {
    std::string out(4 * ((raw.size() + 2) / 3), '\0');
    if (raw.empty()) {
        return out;
    }
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), bytes(raw),
                            static_cast<int>(raw.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    // Step 1: only canonical padded base64 is accepted (no whitespace, no missing padding);
    // EVP_DecodeBlock alone would skip blanks and cannot report how much padding it saw.
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') {
        ++pad;
    }
    for (std::size_t i = 0; i < text.size() - pad; ++i) {
        if (!is_base64_char(text[i])) {
            return std::nullopt;
        }
    }
    if (text.empty()) {
        return std::string();
    }
    // Step 2: decode whole quads; EVP_DecodeBlock counts padding as zero bytes, so trim them.
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()), bytes(text),
                            static_cast<int>(text.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) {
        return std::nullopt;
    }
    out.resize(out.size() - pad);
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    if (a.empty()) {
        return true;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace ifmatch::protocol
