// Server configuration from the command line and IFMATCH_* environment variables (a flag on the
// command line wins over its variable). Parsed once at start-up.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ifmatch::server {

struct config {
    std::string command = "serve"; // serve | check
    std::string listen = "127.0.0.1:9000";
    std::string data = "./data";
    std::string durability = "normal"; // normal | full
    std::string domain = "localhost";
    std::string region = "us-east-1";
    int threads = 2;
    bool require_conditional_writes = false;
    std::string log_format = "text"; // text | json
    std::string log_level = "info";  // debug | info | warn | error
    int idle_timeout = 30;           // seconds a connection may stay silent
    int max_connections = 4096;
    int shutdown_grace = 10; // seconds
    std::uint64_t max_object_size = 5ULL << 30;
    bool enable_test_hooks = false; // /_ifmatch/test/* fault injection (tests only)

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
