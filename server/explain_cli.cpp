// `ifmatch explain --data DIR BUCKET KEY` / `ifmatch explain --url http://HOST:PORT BUCKET KEY`.
#include "server/explain_cli.hpp"

#include "protocol/uri.hpp"
#include "server/timeline.hpp"
#include "storage/object_store.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <iostream>
#include <string>

namespace ifmatch::server {

namespace {

namespace http = boost::beast::http;

constexpr const char *usage_text =
    "usage: ifmatch explain (--data DIR | --url http://HOST:PORT) BUCKET KEY\n";

int from_data(const storage::offline_reader &reader, const std::string &dir,
              const std::string &bucket, const std::string &key) {
    auto history = reader.history(dir, bucket, key, 100000);
    auto &versions = history.versions;
    std::vector<outcome_event> evs;
    for (auto &row : history.events) {
        if (row.bucket != bucket || row.key != key) continue;
        auto j = nlohmann::json::parse(row.json, nullptr, false);
        if (!j.is_discarded()) evs.push_back(event_from_json(j));
    }
    std::cout << "# " << bucket << "/" << key << ": " << versions.size() << " version(s), "
              << evs.size() << " recorded outcome(s)\n";
    std::cout << render_timeline(build_timeline(versions, evs));
    return 0;
}

std::string http_get(const std::string &url, const std::string &target) {
    std::string rest = url.substr(url.find("://") + 3);
    rest = rest.substr(0, rest.find('/'));
    auto colon = rest.rfind(':');
    std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
    std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    boost::beast::tcp_stream stream(ioc);
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, rest);
    http::write(stream, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    if (res.result_int() != 200) {
        throw std::runtime_error("GET " + target + " answered " +
                                 std::to_string(res.result_int()) + ": " + res.body());
    }
    return res.body();
}

int from_url(const std::string &url, const std::string &bucket, const std::string &key) {
    if (url.rfind("http://", 0) != 0) {
        std::cerr << "ifmatch explain: --url must start with http://\n";
        return 2;
    }
    std::string q = "bucket=" + protocol::uri_encode(bucket, false) +
                    "&key=" + protocol::uri_encode(key, false);
    auto timeline = nlohmann::json::parse(http_get(url, "/_ifmatch/api/timeline?" + q));
    std::cout << "# " << bucket << "/" << key << " (from " << url << ")\n";
    for (auto &e : timeline) {
        std::string kind = e.value("kind", "");
        kind.resize(12, ' ');
        std::cout << e.value("time", "") << "  " << kind << " " << e.value("text", "") << "\n";
    }
    return 0;
}

} // namespace

int run_explain(int argc, char **argv, const storage::offline_reader &reader) {
    std::string data, url;
    std::vector<std::string> args;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "--data" || a == "--url") && i + 1 < argc) {
            (a == "--data" ? data : url) = argv[++i];
        } else if (a == "--help" || a == "-h") {
            std::cout << usage_text;
            return 0;
        } else {
            args.push_back(a);
        }
    }
    if (args.size() != 2 || data.empty() == url.empty()) {
        std::cerr << usage_text;
        return 2;
    }
    try {
        return data.empty() ? from_url(url, args[0], args[1]) : from_data(reader, data, args[0], args[1]);
    } catch (const std::exception &e) {
        std::cerr << "ifmatch explain: " << e.what() << "\n";
        return 1;
    }
}

} // namespace ifmatch::server
