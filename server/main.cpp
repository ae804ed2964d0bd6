// ifmatch: configuration -> store -> server; SIGINT/SIGTERM stop gracefully, a second one at once.
#include "server/config.hpp"
#include "server/explain_cli.hpp"
#include "server/log.hpp"
#include "server/server.hpp"
#include "storage/store.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

namespace {

ifmatch::server::http_server *g_server = nullptr;

int serve(const ifmatch::server::config &cfg) {
    using namespace ifmatch;
    storage::store_options o;
    o.memory = cfg.data == ":memory:";
    o.data_dir = cfg.data;
    o.dur = cfg.durability == "full" ? storage::durability::full : storage::durability::normal;
    o.reader_threads = std::max(2, cfg.threads);
    std::unique_ptr<storage::store> db;
    std::unique_ptr<server::http_server> srv;
    std::string addr;
    try {
        db = std::make_unique<storage::store>(o);
        srv = std::make_unique<server::http_server>(cfg, *db);
        addr = srv->bind();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ifmatch: %s\n", e.what());
        return 1;
    }
    server::log_message(cfg, "info",
                        std::string("ifmatch ") + IFMATCH_VERSION + " listening on http://" + addr +
                            " data=" + (o.memory ? ":memory:" : cfg.data) + " durability=" +
                            (o.memory ? "none" : cfg.durability) + " auth=open");
    std::printf("listening on http://%s\n", addr.c_str());
    std::fflush(stdout);
    g_server = srv.get();
    std::thread sig([] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        for (int n = 0;; ++n) {
            int s = 0;
            sigwait(&set, &s);
            if (n > 0) {
                std::_Exit(1);
            }
            g_server->stop();
        }
    });
    sig.detach();
    srv->run();
    srv.reset();
    db->close();
    server::log_message(cfg, "info", "stopped");
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    if (argc > 1 && std::string_view(argv[1]) == "explain") {
        return ifmatch::server::run_explain(argc, argv);
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
        std::cerr << "ifmatch check: not available in this build yet\n";
        return 2;
    }
    return serve(*parsed.cfg);
}
