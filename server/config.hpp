// Server configuration from the command line and IFMATCH_* environment variables (a flag on the
// command line wins over its variable). Parsed once at start-up.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ifmatch::server {

// Half the hardware threads, at least one: on a small machine the writer, the readers and the
// clients need the rest.
int default_io_threads();

struct config {
    std::string command = "serve"; // serve | check | health
    std::string health_url;        // `ifmatch health [URL]`; empty: the configured listen port
    std::string listen = "127.0.0.1:9000";
    std::string data = "./data";
    std::string durability = "normal"; // normal | full
    std::string domain = "localhost";
    std::string region = "us-east-1";
    // I/O threads: half the hardware threads (at least one). A connection stays on one thread;
    // the store's writer and readers run beside them.
    int threads = default_io_threads();
    bool require_conditional_writes = false;
    std::string log_format = "text"; // text | json
    std::string log_level = "info";  // debug | info | warn | error
    int idle_timeout = 30;           // seconds a connection may stay silent
    int max_connections = 4096;
    int shutdown_grace = 10; // seconds
    std::uint64_t max_object_size = 5ULL << 30;
    // Authentication: (access key, secret) pairs from --credentials FILE and --access-key /
    // --secret-key. Empty: open mode (wire.md W2).
    std::string credentials_file;
    std::string access_key;
    std::string secret_key;
    std::vector<std::pair<std::string, std::string>> credentials;
    // TLS: a certificate chain and key in PEM; served on tls_listen, or on listen when that is
    // empty.
    std::string tls_cert;
    std::string tls_key;
    std::string tls_listen;

    bool signed_mode() const { return !credentials.empty(); }
    bool tls_enabled() const { return !tls_cert.empty(); }
    bool enable_test_hooks = false; // /_ifmatch/test/* fault injection (tests only)
    // POST /_ifmatch/clock may move the store's clock forward (also with enable_test_hooks).
    bool controllable_clock = false;
    // Seconds of real time between background lifecycle passes (0: only when the clock moves or
    // POST /_ifmatch/lifecycle asks).
    int lifecycle_interval = 300;
    // Milliseconds a new version waits before the replication worker copies it (B-R4: a test
    // makes the race with the replica deterministic).
    int replication_delay_ms = 0;
    // Connections of each replica to PostgreSQL (--data postgresql://...).
    int pg_pool = 8;
    // Threads of each replica that run its PostgreSQL jobs (0: two with two cores or more).
    int pg_threads = 0;
    // Shared mode: bodies above the inline limit as files in this directory, which every replica
    // mounts (empty: in PostgreSQL).
    std::string blob_dir;
    // Shared mode: fault rules (D10) as rows every replica uses ("shared"), or per replica
    // ("local": no request pays the round trip that asks the store for them).
    std::string fault_rules = "shared";
    // Names this process in outcome events (--replica-name; default host:port once listening).
    std::string replica_name;

    std::string listen_host() const;
    unsigned short listen_port() const;
};

struct parse_outcome {
    std::optional<config> cfg; // empty: exit with `exit_code` after printing `message`
    int exit_code = 0;
    std::string message;
};

// Parses argv and the environment. --help and --version produce a message and exit code 0;
// invalid input produces a message and exit code 2.
parse_outcome parse_config(int argc, char **argv);

std::string usage();

} // namespace ifmatch::server
