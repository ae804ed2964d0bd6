// `ifmatch check` and `ifmatch health`.
#include "server/commands.hpp"

#include "server/health_probe.hpp"

#include <cstdio>
#include <exception>

namespace ifmatch::server {

int run_check(const config &cfg, const storage::offline_reader &reader) {
    storage::check_report r;
    try {
        r = reader.check(cfg.data, cfg.blob_dir);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ifmatch check: %s\n", e.what());
        return 2;
    }
    for (auto &p : r.problems) {
        std::printf("PROBLEM: %s\n", p.c_str());
    }
    for (auto &n : r.notes) {
        std::printf("note: %s\n", n.c_str());
    }
    std::printf("ifmatch check %s: schema v%d, %lld versions, %lld bodies (%lld bytes), "
                "%lld blob files: %s\n",
                cfg.data.c_str(), r.schema_version, static_cast<long long>(r.versions),
                static_cast<long long>(r.bodies), static_cast<long long>(r.stored_bytes),
                static_cast<long long>(r.blob_files),
                r.problems.empty() ? "clean"
                                   : (std::to_string(r.problems.size()) + " problem(s)").c_str());
    return r.problems.empty() ? 0 : 1;
}

int run_health(const config &cfg) {
    std::string url = cfg.health_url.empty()
                          ? default_health_url(cfg.listen_host(), cfg.listen_port())
                          : cfg.health_url;
    std::string reason;
    int rc = probe_health(url, 3000, reason);
    std::printf("%s\n", reason.c_str());
    return rc;
}

} // namespace ifmatch::server
