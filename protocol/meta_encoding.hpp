// Header values S3 transforms between the request and what it stores and returns: the
// Content-Encoding of an aws-chunked upload, and non-ASCII user metadata (x-amz-meta-*), which S3
// decodes before storing and encodes with RFC 2047 encoded-words before returning (wire.md §5.6).
// Pure.
#pragma once

#include <string>
#include <string_view>

namespace ifmatch::protocol {

// The Content-Encoding to store for an upload: the value as sent without its `aws-chunked`
// tokens (compared case-insensitively), the rest kept as written, separators included
// ("deflate, gzip" stays "deflate, gzip"; "gzip, aws-chunked" becomes "gzip"). Empty when
// `aws-chunked` was the only token.
std::string strip_aws_chunked(std::string_view content_encoding);

// The text to store for an x-amz-meta-* header value as it arrived: raw bytes that are valid
// UTF-8 are taken as UTF-8, any other bytes as ISO-8859-1 (the historical charset of HTTP field
// values); then RFC 2047 encoded-words (`=?UTF-8?Q?...?=`, `=?ISO-8859-1?B?...?=`, US-ASCII too)
// are decoded, the white space between two adjacent words dropped. A word that cannot be decoded
// (another charset, bad base64, bytes that are not text in its charset) is kept as written.
// The result is always valid UTF-8.
std::string decode_meta_value(std::string_view raw);

// The header value that returns a stored x-amz-meta-* text: as is when every byte is printable
// US-ASCII (or a tab); otherwise one RFC 2047 encoded-word over its UTF-8 bytes, `Q` encoding
// (space as `_`; `=`, `?`, `_` and every non-printable byte as `=XX`) unless it contains control
// characters (C0, DEL, C1) or U+FFFD, which get `B` (base64) encoding.
std::string encode_meta_value(std::string_view stored);

} // namespace ifmatch::protocol
