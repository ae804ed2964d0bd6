// If-Range on GET (spec R-G15, RFC 9110 §13.1.5): whether a Range header applies to the current
// representation. S3's API model does not list the header; ifmatch follows the RFC as the spec
// recommends. Pure.
#pragma once

#include "protocol/http_date.hpp"

#include <string_view>

namespace ifmatch::protocol {

// True when `if_range` validates the representation with entity tag `etag` (quoted) and
// `last_modified` (whole seconds are compared): a strong entity tag equal to `etag` (a weak tag
// `W/"…"` never matches), or an HTTP-date exactly equal to the Last-Modified second. Anything
// else (another tag, another date, an unparseable value) is false: the caller then ignores Range
// and sends the whole object with 200.
bool if_range_holds(std::string_view if_range, std::string_view etag, sys_millis last_modified);

} // namespace ifmatch::protocol
