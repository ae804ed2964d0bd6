// ifmatch: configuration -> store -> server; SIGINT/SIGTERM stop gracefully, a second one at once.
#include "server/commands.hpp"
#include "server/config.hpp"
#include "server/explain_cli.hpp"
#include "server/fault_rules.hpp"
#include "server/log.hpp"
#include "server/server.hpp"
#include "storage/backends.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

ifmatch::server::http_server *g_server = nullptr;

int serve(const ifmatch::server::config &given) {
    using namespace ifmatch;
    server::config cfg = given; // the replica name is filled in once the port is known
    storage::open_options o;
    o.location = cfg.data;
    o.durable_full = cfg.durability == "full";
    o.threads = cfg.threads;
    o.pg_pool = cfg.pg_pool;
    o.pg_threads = cfg.pg_threads;
    o.blob_dir = cfg.blob_dir;
    server::keep_fault_rules_in_store(cfg.fault_rules == "shared");
    o.on_error = [&cfg](const std::string &what) { server::log_message(cfg, "warn", what); };
    const bool memory = cfg.data == ":memory:";
    std::unique_ptr<storage::object_store> db;
    std::unique_ptr<server::http_server> srv;
    std::string addr;
    try {
        db = storage::open_store(o);
        srv = std::make_unique<server::http_server>(cfg, *db);
        addr = srv->bind();
        if (cfg.replica_name.empty()) {
            char host[256] = {};
            ::gethostname(host, sizeof host - 1);
            cfg.replica_name = std::string(host) + ":" + addr.substr(addr.rfind(':') + 1);
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ifmatch: %s\n", e.what());
        return 1;
    }
    std::string tls_addr = srv->tls_address();
    server::startup_info info{IFMATCH_VERSION, addr, db->describe(),
                              cfg.signed_mode() ? "signed" : "open",
                              memory ? "none" : cfg.durability, "http", ""};
    info.scheme = tls_addr == addr ? "https" : "http";
    info.tls_listen = tls_addr.empty() || tls_addr == addr ? "" : tls_addr;
    server::log_startup(cfg, info);
    if (!cfg.signed_mode()) {
        server::log_message(cfg, "warn",
                            "no credentials configured (--credentials FILE or IFMATCH_ACCESS_KEY + "
                            "IFMATCH_SECRET_KEY): the server is OPEN and accepts every request, "
                            "signed or not");
    }
    g_server = srv.get();
    std::thread sig([&cfg] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        for (int n = 0;; ++n) {
            int s = 0;
            sigwait(&set, &s);
            if (n > 0) {
                server::log_message(cfg, "warn", "second signal: exiting at once");
                std::_Exit(1);
            }
            server::log_message(cfg, "info",
                                std::string(s == SIGTERM ? "SIGTERM" : "SIGINT") +
                                    ": stopping (grace " + std::to_string(cfg.shutdown_grace) +
                                    "s)");
            g_server->stop();
        }
    });
    sig.detach();
    srv->run();
    // Close the store before the server's io_context goes: completions of jobs still queued
    // (when the grace period ran out) are posted to connection strands, which must still exist.
    db->close();
    srv.reset();
    server::log_message(cfg, "info", "stopped");
    return 0;
}

ifmatch::storage::offline_reader offline() {
    return {ifmatch::storage::check_store, ifmatch::storage::read_key_history};
}

} // namespace

int main(int argc, char **argv) {
    if (argc > 1 && std::string_view(argv[1]) == "explain") {
        return ifmatch::server::run_explain(argc, argv, offline());
    }
    auto parsed = ifmatch::server::parse_config(argc, argv);
    if (!parsed.cfg) {
        (parsed.exit_code ? std::cerr : std::cout) << parsed.message << "\n";
        return parsed.exit_code;
    }
    std::signal(SIGPIPE, SIG_IGN);
    // Block SIGINT/SIGTERM before any thread starts, so that only the signal thread takes them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    if (parsed.cfg->command == "check") {
        return ifmatch::server::run_check(*parsed.cfg, offline());
    }
    if (parsed.cfg->command == "health") {
        return ifmatch::server::run_health(*parsed.cfg);
    }
    return serve(*parsed.cfg);
}
