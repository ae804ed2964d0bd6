// What the multipart handlers (server/handlers/multipart*.cpp) share: query parameters, checksum
// header names, and the handlers of the operations that live in their own files.
#pragma once

#include "server/handlers.hpp"

#include <string>

namespace ifmatch::server {

// ?uploadId= (ctx.target.upload_id). Errors: NoSuchUpload when missing or empty.
protocol::result<std::string> upload_id_of(const context &ctx);
// ?partNumber= (ctx.target.part_number), a whole number in 1..10000. Errors: InvalidArgument
// naming the value as sent.
protocol::result<int> part_number_of(const context &ctx);
// "CRC32" -> "x-amz-checksum-crc32".
std::string checksum_header_name(const std::string &algo);

net::awaitable<response> upload_part_copy(context &ctx);
net::awaitable<response> complete_upload(context &ctx);
net::awaitable<response> list_parts(context &ctx);

} // namespace ifmatch::server
