// Digests, HMAC and encodings over OpenSSL EVP: the only <openssl/*> includer in protocol/. Pure;
// each object is used by one thread at a time.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ifmatch::protocol {

enum class digest_kind { md5, sha1, sha256 };

// An incremental message digest.
class digest {
public:
    explicit digest(digest_kind k);
    ~digest();
    digest(digest &&) noexcept;
    digest &operator=(digest &&) noexcept;

    void update(std::string_view data);
    // Returns the raw digest bytes and resets the object for reuse.
    std::string finish();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

std::string md5_raw(std::string_view data);
std::string sha256_raw(std::string_view data);
std::string sha256_hex(std::string_view data);
std::string hmac_sha256_raw(std::string_view key, std::string_view data);
std::string hmac_sha1_raw(std::string_view key, std::string_view data);

std::string to_hex(std::string_view raw); // lower case
// A generated rule ID (lifecycle, replication) that is not in `taken`: `id`, rehashed with MD5
// (lower-case hex) while taken; it is added to `taken`.
std::string unused_id(std::string id, std::set<std::string> &taken);
std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text); // nullopt when malformed

// Constant-time equality (CRYPTO_memcmp) for signatures.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace ifmatch::protocol
