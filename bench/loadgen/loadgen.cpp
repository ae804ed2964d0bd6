// Load generator for bench/run.sh: N keep-alive connections drive one workload against an S3
// endpoint (unsigned, path-style) for a duration or a request count, record each request's latency
// in a log-linear histogram, and print one JSON line: requests/s, p50/p99, statuses, MB/s, and for
// the compare-and-swap workload the outcome counts and whether the final counter equals the 200s.
// --port takes one port or several, comma-separated (replicas of one store): connection i talks to
// port i % n; the CAS set-up and check go to the first.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple_awaitable = net::as_tuple(net::use_awaitable);

namespace {

struct options {
    std::string host = "127.0.0.1";
    std::vector<std::string> ports{"9000"}; // --port P[,P...]
    std::string bucket = "bench";
    std::string key = "object";  // GET/HEAD/CAS target, copy source, large object
    std::string prefix = "k";    // new keys for put/put-inm/copy
    std::string workload = "get";
    int connections = 16;
    int threads = 1;
    double duration = 2.0;
    long requests = 0;          // > 0: stop after this many requests instead of a duration
    std::uint64_t size = 1024;  // body size of put/put-inm/large-put
};

// Log-linear latency histogram in microseconds: exact below 128 µs, then 64 buckets per octave
// (under 1.6% error).
struct histogram {
    std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(128 + 64 * 40, 0);
    static std::size_t index(std::uint64_t us) {
        if (us < 128) return us;
        int e = 63 - __builtin_clzll(us) - 6;
        return 128 + (e - 1) * 64 + ((us >> e) - 64);
    }
    static std::uint64_t value(std::size_t i) {
        if (i < 128) return i;
        std::size_t e = (i - 128) / 64 + 1, sub = (i - 128) % 64 + 64;
        return (sub << e) + (1ULL << (e - 1));
    }
    void add(std::uint64_t us) { ++counts[std::min(index(us), counts.size() - 1)]; }
    void merge(const histogram &o) {
        for (std::size_t i = 0; i < counts.size(); ++i) counts[i] += o.counts[i];
    }
    std::uint64_t percentile(double q) const {
        std::uint64_t total = 0, seen = 0;
        for (auto c : counts) total += c;
        if (total == 0) return 0;
        auto want = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            seen += counts[i];
            if (seen >= want) return value(i);
        }
        return value(counts.size() - 1);
    }
};

struct stats {
    histogram lat;
    std::map<int, std::uint64_t> status;
    std::uint64_t requests = 0, errors = 0, bytes = 0;
};

struct shared_state {
    options opt;
    std::vector<tcp::resolver::results_type> endpoints; // one per port
    clock_type::time_point deadline;
    std::atomic<long> claimed{0};
    std::string body; // the 1 KiB (or --size) body of put workloads
    // One request may start: the duration has not passed, or the count is not used up.
    bool may_start() {
        if (opt.requests > 0) return claimed.fetch_add(1) < opt.requests;
        return clock_type::now() < deadline;
    }
};

struct reply {
    int status = 0;
    std::string etag, body;
    bool ok = false; // false: transport error
};

// One keep-alive connection; reconnects after a transport error.
class connection {
  public:
    connection(net::any_io_executor ex, shared_state &st, std::size_t target = 0)
        : sock_(ex), st_(st), target_(target) {}

    net::awaitable<bool> ensure_open() {
        if (sock_.is_open()) co_return true;
        auto [ec, ep] = co_await net::async_connect(sock_, st_.endpoints[target_], tuple_awaitable);
        if (ec) {
            boost::system::error_code ignored;
            sock_.close(ignored);
            co_return false;
        }
        sock_.set_option(tcp::no_delay(true));
        buf_.clear();
        co_return true;
    }

    // Sends `head` (ending in a blank line) and `body`, then reads the whole response.
    net::awaitable<reply> exchange(const std::string &head, std::string_view body, bool is_head) {
        reply r;
        bool open = co_await ensure_open();
        if (!open) co_return r;
        std::array<net::const_buffer, 2> out{net::buffer(head), net::buffer(body)};
        auto [wec, wn] = co_await net::async_write(sock_, out, tuple_awaitable);
        if (wec) co_return fail(r);
        http::response_parser<http::string_body> p;
        p.body_limit(boost::none);
        p.skip(is_head);
        auto [rec, rn] = co_await http::async_read(sock_, buf_, p, tuple_awaitable);
        if (rec) co_return fail(r);
        r.ok = true;
        r.status = static_cast<int>(p.get().result_int());
        r.etag = std::string(p.get()[http::field::etag]);
        r.body = std::move(p.get().body());
        if (!p.get().keep_alive()) fail(r).ok = true;
        co_return r;
    }

    tcp::socket &socket() { return sock_; }
    boost::beast::flat_buffer &buffer() { return buf_; }

    reply &fail(reply &r) {
        boost::system::error_code ignored;
        sock_.close(ignored);
        return r;
    }

  private:
    tcp::socket sock_;
    boost::beast::flat_buffer buf_;
    shared_state &st_;
    std::size_t target_;
};

std::string head_of(const shared_state &st, const char *method, const std::string &key,
                    std::uint64_t length, const std::string &extra, std::size_t target = 0) {
    std::string h = std::string(method) + " /" + st.opt.bucket + "/" + key + " HTTP/1.1\r\nHost: " +
                    st.opt.host + ":" + st.opt.ports[target] + "\r\n";
    if (length != UINT64_MAX) h += "Content-Length: " + std::to_string(length) + "\r\n";
    return h + extra + "\r\n";
}

void count(stats &s, const reply &r, clock_type::time_point t0) {
    if (!r.ok) {
        ++s.errors;
        return;
    }
    ++s.requests;
    ++s.status[r.status];
    s.lat.add(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0).count()));
}

// GET, HEAD, PUT (new keys), PUT If-None-Match:* (new keys), CopyObject (new keys).
net::awaitable<void> simple_client(shared_state &st, stats &s, int id) {
    auto ex = co_await net::this_coro::executor;
    const std::size_t target = static_cast<std::size_t>(id) % st.endpoints.size();
    connection c(ex, st, target);
    const auto &w = st.opt.workload;
    const bool is_head = w == "head";
    std::string extra = w == "put-inm" ? "If-None-Match: *\r\n"
                        : w == "copy" ? "x-amz-copy-source: /" + st.opt.bucket + "/" + st.opt.key +
                                            "\r\n"
                                      : "";
    std::string_view body = (w == "put" || w == "put-inm") ? std::string_view(st.body) : "";
    for (long seq = 0; st.may_start(); ++seq) {
        bool reads = w == "get" || is_head;
        std::string key = reads ? st.opt.key
                                : st.opt.prefix + "-" + std::to_string(id) + "-" + std::to_string(seq);
        std::string head = head_of(st, reads ? (is_head ? "HEAD" : "GET") : "PUT", key,
                                   reads ? UINT64_MAX : body.size(), extra, target);
        auto t0 = clock_type::now();
        auto r = co_await c.exchange(head, body, is_head);
        count(s, r, t0);
        s.bytes += r.body.size();
    }
}

long counter_of(const std::string &body) {
    return body.rfind("counter=", 0) == 0 ? std::atol(body.c_str() + 8) : -1;
}

// Compare-and-swap on one hot key: GET (counter, ETag) then PUT If-Match with counter+1 and a
// body no other client writes. Latency and statuses are those of the PUTs.
net::awaitable<void> cas_client(shared_state &st, stats &s, int id) {
    auto ex = co_await net::this_coro::executor;
    const std::size_t target = static_cast<std::size_t>(id) % st.endpoints.size();
    connection c(ex, st, target);
    std::string get_head = head_of(st, "GET", st.opt.key, UINT64_MAX, "", target);
    for (long seq = 0; st.may_start(); ++seq) {
        auto g = co_await c.exchange(get_head, "", false);
        if (!g.ok || g.status != 200) {
            ++s.errors;
            continue;
        }
        std::string body = "counter=" + std::to_string(counter_of(g.body) + 1) + " client=" +
                           std::to_string(id) + " seq=" + std::to_string(seq) + "\n";
        std::string head =
            head_of(st, "PUT", st.opt.key, body.size(), "If-Match: " + g.etag + "\r\n", target);
        auto t0 = clock_type::now();
        auto r = co_await c.exchange(head, body, false);
        count(s, r, t0);
    }
}

// One large PUT streamed from a 1 MiB buffer, or one large GET read and discarded.
net::awaitable<void> large_client(shared_state &st, stats &s) {
    auto ex = co_await net::this_coro::executor;
    connection c(ex, st);
    bool open = co_await c.ensure_open();
    if (!open) {
        ++s.errors;
        co_return;
    }
    auto t0 = clock_type::now();
    bool put = st.opt.workload == "large-put";
    std::string head = head_of(st, put ? "PUT" : "GET", st.opt.key, put ? st.opt.size : UINT64_MAX, "");
    auto [hec, hn] = co_await net::async_write(c.socket(), net::buffer(head), tuple_awaitable);
    std::string piece(1 << 20, 'L');
    for (std::uint64_t sent = 0; put && !hec && sent < st.opt.size;) {
        auto n = std::min<std::uint64_t>(piece.size(), st.opt.size - sent);
        auto [ec, wn] = co_await net::async_write(c.socket(), net::buffer(piece.data(), n), tuple_awaitable);
        if (ec) hec = ec;
        sent += n;
    }
    http::response_parser<http::buffer_body> p;
    p.body_limit(boost::none);
    boost::system::error_code rec = hec;
    while (!rec && !p.is_done()) {
        p.get().body().data = piece.data();
        p.get().body().size = piece.size();
        auto [ec, n] = co_await http::async_read(c.socket(), c.buffer(), p, tuple_awaitable);
        if (ec && ec != http::error::need_buffer) rec = ec;
        s.bytes += piece.size() - p.get().body().size;
    }
    reply r;
    r.ok = !rec;
    r.status = r.ok ? static_cast<int>(p.get().result_int()) : 0;
    count(s, r, t0);
    if (put) s.bytes = st.opt.size;
}

// A synchronous helper exchange used for set-up and verification.
reply blocking(shared_state &st, net::io_context &io, const std::string &head, const std::string &body) {
    reply out;
    auto run = [&]() -> net::awaitable<void> {
        auto ex = co_await net::this_coro::executor;
        connection c(ex, st);
        out = co_await c.exchange(head, body, false);
    };
    net::co_spawn(io, run(), net::detached);
    io.run();
    io.restart();
    return out;
}

std::vector<std::string> split_ports(const std::string &v) {
    std::vector<std::string> out;
    for (std::size_t start = 0; start <= v.size();) {
        auto comma = std::min(v.find(',', start), v.size());
        if (comma > start) out.push_back(v.substr(start, comma - start));
        start = comma + 1;
    }
    if (out.empty()) {
        std::fprintf(stderr, "loadgen: --port needs at least one port\n");
        std::exit(2);
    }
    return out;
}

options parse(int argc, char **argv) {
    options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--host") o.host = v;
        else if (k == "--port") o.ports = split_ports(v);
        else if (k == "--bucket") o.bucket = v;
        else if (k == "--key") o.key = v;
        else if (k == "--prefix") o.prefix = v;
        else if (k == "--workload") o.workload = v;
        else if (k == "--connections") o.connections = std::stoi(v);
        else if (k == "--threads") o.threads = std::stoi(v);
        else if (k == "--duration") o.duration = std::stod(v);
        else if (k == "--requests") o.requests = std::stol(v);
        else if (k == "--size") o.size = std::stoull(v);
        else {
            std::fprintf(stderr, "loadgen: unknown option %s\n", k.c_str());
            std::exit(2);
        }
    }
    return o;
}

void print(const shared_state &st, const stats &all, double secs, const std::string &extra) {
    std::string statuses;
    for (auto &[code, n] : all.status) {
        statuses += (statuses.empty() ? "" : ",") + ("\"" + std::to_string(code) + "\":" +
                                                     std::to_string(n));
    }
    std::printf("{\"workload\":\"%s\",\"connections\":%d,\"seconds\":%.4f,\"requests\":%llu,"
                "\"rps\":%.1f,\"p50_us\":%llu,\"p99_us\":%llu,\"errors\":%llu,\"bytes\":%llu,"
                "\"mbps\":%.1f,\"status\":{%s}%s}\n",
                st.opt.workload.c_str(), st.opt.connections, secs,
                static_cast<unsigned long long>(all.requests), all.requests / secs,
                static_cast<unsigned long long>(all.lat.percentile(0.50)),
                static_cast<unsigned long long>(all.lat.percentile(0.99)),
                static_cast<unsigned long long>(all.errors),
                static_cast<unsigned long long>(all.bytes), all.bytes / secs / 1e6,
                statuses.c_str(), extra.c_str());
}

} // namespace

int main(int argc, char **argv) {
    shared_state st;
    st.opt = parse(argc, argv);
    st.body.assign(st.opt.size, 'b');
    net::io_context io;
    for (const auto &port : st.opt.ports) {
        st.endpoints.push_back(tcp::resolver(io).resolve(st.opt.host, port));
    }
    const auto &w = st.opt.workload;
    bool cas = w == "cas", large = w == "large-put" || w == "large-get";
    if (cas) { // the hot key starts at counter 0
        auto r = blocking(st, io, head_of(st, "PUT", st.opt.key, 10, ""), "counter=0\n");
        if (!r.ok || r.status != 200) {
            std::fprintf(stderr, "loadgen: cannot create the hot key (status %d)\n", r.status);
            return 1;
        }
    }
    int n = large ? 1 : st.opt.connections;
    std::vector<stats> per(n);
    auto t0 = clock_type::now();
    st.deadline = t0 + std::chrono::microseconds(static_cast<long>(st.opt.duration * 1e6));
    for (int i = 0; i < n; ++i) {
        auto coro = large ? large_client(st, per[i]) : cas ? cas_client(st, per[i], i)
                                                           : simple_client(st, per[i], i);
        net::co_spawn(io, std::move(coro), net::detached);
    }
    std::vector<std::thread> extra_threads;
    for (int i = 1; i < st.opt.threads; ++i) extra_threads.emplace_back([&] { io.run(); });
    io.run();
    for (auto &t : extra_threads) t.join();
    double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    io.restart();
    stats all;
    for (auto &s : per) {
        all.lat.merge(s.lat);
        for (auto &[code, k] : s.status) all.status[code] += k;
        all.requests += s.requests;
        all.errors += s.errors;
        all.bytes += s.bytes;
    }
    std::string extra;
    if (cas) { // verification: the final counter must equal the number of successful swaps
        auto r = blocking(st, io, head_of(st, "GET", st.opt.key, UINT64_MAX, ""), "");
        long final_counter = r.ok && r.status == 200 ? counter_of(r.body) : -1;
        auto wins = static_cast<long>(all.status[200]);
        extra = ",\"cas_final_counter\":" + std::to_string(final_counter) + ",\"cas_correct\":" +
                (final_counter == wins ? "true" : "false");
    }
    if (st.endpoints.size() > 1) { // requests answered by each port: the load really was split
        std::vector<std::uint64_t> by_port(st.endpoints.size(), 0);
        for (std::size_t i = 0; i < per.size(); ++i) by_port[i % by_port.size()] += per[i].requests;
        extra += ",\"per_port\":{";
        for (std::size_t i = 0; i < by_port.size(); ++i) {
            extra += (i ? ",\"" : "\"") + st.opt.ports[i] + "\":" + std::to_string(by_port[i]);
        }
        extra += "}";
    }
    print(st, all, secs, extra);
    return 0;
}
