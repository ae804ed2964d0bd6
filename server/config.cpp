// Flags and IFMATCH_* variables.
#include "server/config.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <map>
#include <thread>

namespace ifmatch::server {

int default_io_threads() {
    unsigned hw = std::thread::hardware_concurrency();
    return std::max(1, static_cast<int>(hw / 2));
}


namespace {

struct flag {
    const char *name;
    bool boolean;
    std::function<bool(config &, const std::string &)> set;
};

bool to_int(const std::string &v, int &out) {
    try {
        std::size_t n = 0;
        int x = std::stoi(v, &n);
        if (n != v.size() || x < 0) {
            return false;
        }
        out = x;
        return true;
    } catch (...) {
        return false;
    }
}

bool to_bool(const std::string &v) { return v == "1" || v == "true" || v == "yes" || v == "on"; }

const std::vector<flag> &flags() {
    static const std::vector<flag> f = {
        {"listen", false, [](config &c, const std::string &v) { c.listen = v; return true; }},
        {"data", false, [](config &c, const std::string &v) { c.data = v; return !v.empty(); }},
        {"durability", false,
         [](config &c, const std::string &v) {
             c.durability = v;
             return v == "normal" || v == "full";
         }},
        {"domain", false, [](config &c, const std::string &v) { c.domain = v; return true; }},
        {"region", false, [](config &c, const std::string &v) { c.region = v; return !v.empty(); }},
        {"threads", false,
         [](config &c, const std::string &v) { return to_int(v, c.threads) && c.threads > 0; }},
        {"require-conditional-writes", true,
         [](config &c, const std::string &v) {
             c.require_conditional_writes = to_bool(v);
             return true;
         }},
        {"log-format", false,
         [](config &c, const std::string &v) {
             c.log_format = v;
             return v == "text" || v == "json";
         }},
        {"log-level", false,
         [](config &c, const std::string &v) {
             c.log_level = v;
             return v == "debug" || v == "info" || v == "warn" || v == "error";
         }},
        {"idle-timeout", false,
         [](config &c, const std::string &v) { return to_int(v, c.idle_timeout); }},
        {"max-connections", false,
         [](config &c, const std::string &v) { return to_int(v, c.max_connections); }},
        {"shutdown-grace", false,
         [](config &c, const std::string &v) { return to_int(v, c.shutdown_grace); }},
        {"replication-delay-ms", false,
         [](config &c, const std::string &v) {
             return to_int(v, c.replication_delay_ms) && c.replication_delay_ms >= 0;
         }},
        {"replica-name", false,
         [](config &c, const std::string &v) { c.replica_name = v; return !v.empty(); }},
        {"pg-pool", false,
         [](config &c, const std::string &v) { return to_int(v, c.pg_pool) && c.pg_pool > 0; }},
        {"pg-threads", false,
         [](config &c, const std::string &v) {
             return to_int(v, c.pg_threads) && c.pg_threads >= 0 && c.pg_threads <= 64;
         }},
        {"blob-dir", false, [](config &c, const std::string &v) { c.blob_dir = v; return true; }},
        {"fault-rules", false,
         [](config &c, const std::string &v) {
             c.fault_rules = v;
             return v == "shared" || v == "local";
         }},
        {"lifecycle-interval", false,
         [](config &c, const std::string &v) {
             return to_int(v, c.lifecycle_interval) && c.lifecycle_interval >= 0;
         }},
        {"credentials", false,
         [](config &c, const std::string &v) { c.credentials_file = v; return !v.empty(); }},
        {"access-key", false, [](config &c, const std::string &v) { c.access_key = v; return true; }},
        {"secret-key", false, [](config &c, const std::string &v) { c.secret_key = v; return true; }},
        {"tls-cert", false, [](config &c, const std::string &v) { c.tls_cert = v; return true; }},
        {"tls-key", false, [](config &c, const std::string &v) { c.tls_key = v; return true; }},
        {"tls-listen", false, [](config &c, const std::string &v) { c.tls_listen = v; return true; }},
        {"enable-test-hooks", true,
         [](config &c, const std::string &v) {
             c.enable_test_hooks = to_bool(v);
             return true;
         }},
        {"controllable-clock", true,
         [](config &c, const std::string &v) {
             c.controllable_clock = to_bool(v);
             return true;
         }},
    };
    return f;
}

// Reads `ACCESS_KEY SECRET_KEY` lines ('#' starts a comment) into c.credentials; "" on success,
// else the problem.
std::string load_credentials(config &c) {
    if (!c.credentials_file.empty()) {
        std::ifstream in(c.credentials_file);
        if (!in) {
            return "cannot read credentials file " + c.credentials_file;
        }
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            line = line.substr(0, line.find('#'));
            std::istringstream words(line);
            std::string ak, sk, extra;
            if (!(words >> ak)) {
                continue;
            }
            if (!(words >> sk) || (words >> extra)) {
                return c.credentials_file + ":" + std::to_string(n) +
                       ": expected ACCESS_KEY SECRET_KEY";
            }
            c.credentials.emplace_back(ak, sk);
        }
    }
    if (c.access_key.empty() != c.secret_key.empty()) {
        return "--access-key and --secret-key (IFMATCH_ACCESS_KEY, IFMATCH_SECRET_KEY) go together";
    }
    if (!c.access_key.empty()) {
        c.credentials.emplace_back(c.access_key, c.secret_key);
    }
    return {};
}

std::string env_name(const std::string &flag_name) {
    std::string e = "IFMATCH_";
    for (char ch : flag_name) {
        e += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    return e;
}

} // namespace

std::string config::listen_host() const {
    auto pos = listen.rfind(':');
    std::string h = pos == std::string::npos ? listen : listen.substr(0, pos);
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
        h = h.substr(1, h.size() - 2);
    }
    return h.empty() ? "0.0.0.0" : h;
}

unsigned short config::listen_port() const {
    auto pos = listen.rfind(':');
    int p = 9000;
    if (pos != std::string::npos && !to_int(listen.substr(pos + 1), p)) {
        p = -1;
    }
    return static_cast<unsigned short>(p);
}

std::string usage() {
    std::string u = "usage: ifmatch [serve|check] [options]\n"
                    "       ifmatch health [URL]   (exit 0 when URL, default the local\n"
                    "                              /_ifmatch/health, answers 200)\n\n"
                    "S3-compatible server whose conditional requests behave as on Amazon S3.\n\n"
                    "options (each also read from IFMATCH_<NAME>, e.g. IFMATCH_LISTEN):\n";
    for (auto &f : flags()) {
        u += "  --";
        u += f.name;
        u += f.boolean ? "\n" : " VALUE\n";
    }
    u += "  --help, --version\n"
         "\n  --data :memory: keeps a throw-away store in a temporary directory.\n"
         "  check (or --check) verifies --data while a server may be running: SQLite\n"
         "  integrity, blob files, reference counts; exit 0 when clean, 1 with the problems.\n";
    return u;
}

parse_outcome parse_config(int argc, char **argv) {
    parse_outcome out;
    config c;
    for (auto &f : flags()) {
        if (const char *v = std::getenv(env_name(f.name).c_str()); v && *v) {
            if (!f.set(c, v)) {
                return {std::nullopt, 2, "ifmatch: invalid " + env_name(f.name) + "=" + v};
            }
        }
    }
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            return {std::nullopt, 0, usage()};
        }
        if (a == "--version") {
            return {std::nullopt, 0, std::string("ifmatch ") + IFMATCH_VERSION};
        }
        if (a == "serve" || a == "check" || a == "--check" || a == "health" || a == "--health") {
            c.command = a == "serve" ? "serve" : a.find("check") != std::string::npos ? "check"
                                                                                        : "health";
            continue;
        }
        if (c.command == "health" && c.health_url.empty() && a.rfind("http", 0) == 0) {
            c.health_url = a;
            continue;
        }
        if (a.rfind("--", 0) != 0) {
            return {std::nullopt, 2, "ifmatch: unexpected argument '" + a + "'\n" + usage()};
        }
        std::string name = a.substr(2), value;
        bool has_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            has_value = true;
        }
        const flag *match = nullptr;
        for (auto &f : flags()) {
            if (name == f.name) match = &f;
        }
        if (!match) {
            return {std::nullopt, 2, "ifmatch: unknown option --" + name + "\n" + usage()};
        }
        if (!has_value && match->boolean) {
            value = "true";
        } else if (!has_value) {
            if (i + 1 >= argc) {
                return {std::nullopt, 2, "ifmatch: --" + name + " needs a value"};
            }
            value = argv[++i];
        }
        if (!match->set(c, value)) {
            return {std::nullopt, 2, "ifmatch: invalid value for --" + name + ": " + value};
        }
    }
    if (c.listen_port() == 0 && c.listen.find(":0") == std::string::npos) {
        return {std::nullopt, 2, "ifmatch: invalid --listen " + c.listen};
    }
    if (c.tls_cert.empty() != c.tls_key.empty()) {
        return {std::nullopt, 2, "ifmatch: --tls-cert and --tls-key go together"};
    }
    if (!c.tls_listen.empty() && c.tls_cert.empty()) {
        return {std::nullopt, 2, "ifmatch: --tls-listen needs --tls-cert and --tls-key"};
    }
    if (!c.blob_dir.empty() && c.data.rfind("postgresql://", 0) != 0 &&
        c.data.rfind("postgres://", 0) != 0) {
        return {std::nullopt, 2,
                "ifmatch: --blob-dir goes with a postgresql:// --data (shared mode); the SQLite "
                "store keeps its bodies in --data"};
    }
    if (auto problem = load_credentials(c); !problem.empty()) {
        return {std::nullopt, 2, "ifmatch: " + problem};
    }
    out.cfg = c;
    return out;
}

} // namespace ifmatch::server
