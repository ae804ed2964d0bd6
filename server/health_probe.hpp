// `ifmatch health [URL]`: a tiny HTTP client for container health checks (the runtime image has
// no curl). Single-threaded; runs its own io_context and returns when the probe is decided.
#pragma once

#include <string>

namespace ifmatch::server {

// The URL probed when none is given: /_ifmatch/health on the configured listen port, through
// the loopback address when the server listens on every address.
std::string default_health_url(const std::string &listen_host, unsigned short port);

// GETs `url` (http://HOST[:PORT][/PATH]; PATH defaults to /_ifmatch/health) within
// `timeout_ms`. Returns 0 on a 200 answer and 1 otherwise (connection refused, time-out, any
// other status, malformed URL); a one-line reason goes to `reason`.
int probe_health(const std::string &url, int timeout_ms, std::string &reason);

} // namespace ifmatch::server
