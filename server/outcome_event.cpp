// The JSON forms of an outcome event: the nlohmann tree (to_json, event_from_json) and the same
// document written directly (event_json), which the writer persists for every event.
#include "server/outcome_event.hpp"

#include "protocol/utf8.hpp"
#include "server/handlers.hpp"

#include <map>
#include <string_view>

namespace ifmatch::server {

namespace {

nlohmann::json writer_json(const storage::writer_identity &w, std::int64_t ms) {
    return {{"request_id", w.request_id}, {"access_key", w.access_key},
            {"remote", w.remote}, {"user_agent", w.user_agent}, {"time_ms", ms},
            {"time", ms ? iso_date_ms(ms) : ""}};
}

// A JSON string as nlohmann's dump() writes it (ensure_ascii off); s is valid UTF-8.
void put_string(std::string &out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

// `"name":` preceded by a comma unless it opens its object.
void put_name(std::string &out, std::string_view name) {
    if (out.back() != '{') {
        out += ',';
    }
    put_string(out, name);
    out += ':';
}

void put(std::string &out, std::string_view name, std::string_view v) {
    put_name(out, name);
    put_string(out, v);
}

template <class Int> void put_int(std::string &out, std::string_view name, Int v) {
    put_name(out, name);
    out += std::to_string(v);
}

} // namespace

std::string event_json(const outcome_event &e) {
    bool plain = true;
    for (std::string_view s :
         {std::string_view(e.request_id), std::string_view(e.access_key),
          std::string_view(e.operation), std::string_view(e.bucket), std::string_view(e.key),
          std::string_view(e.code), std::string_view(e.failed_condition),
          std::string_view(e.replica),
          std::string_view(e.current.etag), std::string_view(e.current.version_id),
          std::string_view(e.current.writer.request_id),
          std::string_view(e.current.writer.access_key), std::string_view(e.current.writer.remote),
          std::string_view(e.current.writer.user_agent)}) {
        plain = plain && protocol::is_utf8(s);
    }
    for (auto &[k, v] : e.conditions) {
        plain = plain && protocol::is_utf8(k) && protocol::is_utf8(v);
    }
    if (!plain) { // rare: let nlohmann replace the bytes that are not UTF-8
        return to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    // The members in the order of to_json(e).dump(): sorted by name (an object is a std::map).
    std::map<std::string_view, std::string_view> conds; // a later header replaces an earlier one
    for (auto &[k, v] : e.conditions) {
        conds[k] = v;
    }
    std::string out = "{";
    out.reserve(768);
    put(out, "access_key", e.access_key);
    put(out, "bucket", e.bucket);
    put(out, "code", e.code);
    put_name(out, "conditions");
    out += '{';
    for (auto &[k, v] : conds) {
        put_name(out, k);
        put_string(out, v);
    }
    out += '}';
    put_name(out, "current");
    out += '{';
    const auto &c = e.current;
    if (c.exists) {
        put(out, "etag", c.etag);
        put(out, "last_modified", http_date_ms(c.last_modified_ms));
        put_int(out, "last_modified_ms", c.last_modified_ms);
        put(out, "state", c.delete_marker ? "delete marker" : "object");
        put(out, "version_id", c.version_id);
        put_name(out, "writer");
        out += '{';
        put(out, "access_key", c.writer.access_key);
        put(out, "remote", c.writer.remote);
        put(out, "request_id", c.writer.request_id);
        put(out, "time", c.last_modified_ms ? iso_date_ms(c.last_modified_ms) : "");
        put_int(out, "time_ms", c.last_modified_ms);
        put(out, "user_agent", c.writer.user_agent);
        out += '}';
    } else {
        put(out, "state", "absent");
    }
    out += '}';
    put(out, "failed_condition", e.failed_condition);
    put_int(out, "id", e.id);
    put(out, "key", e.key);
    put(out, "operation", e.operation);
    put(out, "replica", e.replica);
    put(out, "request_id", e.request_id);
    put_int(out, "status", e.status);
    put(out, "time", iso_date_ms(e.time_ms));
    put_int(out, "time_ms", e.time_ms);
    out += '}';
    return out;
}

std::string describe_current(const storage::current_state &c) {
    if (!c.exists) return "absent";
    if (c.delete_marker) return "delete marker";
    return c.etag;
}

std::string log_current(const storage::current_state &c) {
    if (!c.exists) return "absent";
    if (c.delete_marker) return "delete marker version=" + c.version_id;
    return "etag=" + c.etag + " last-modified-ms=" + std::to_string(c.last_modified_ms) +
           " version=" + c.version_id;
}

nlohmann::json to_json(const outcome_event &e) {
    nlohmann::json conds = nlohmann::json::object();
    for (auto &[k, v] : e.conditions) conds[k] = v;
    nlohmann::json cur = {{"state", !e.current.exists ? "absent"
                                    : e.current.delete_marker ? "delete marker" : "object"}};
    if (e.current.exists) {
        cur["etag"] = e.current.etag;
        cur["version_id"] = e.current.version_id;
        cur["last_modified_ms"] = e.current.last_modified_ms;
        cur["last_modified"] = http_date_ms(e.current.last_modified_ms);
        cur["writer"] = writer_json(e.current.writer, e.current.last_modified_ms);
    }
    return {{"id", e.id}, {"time_ms", e.time_ms}, {"time", iso_date_ms(e.time_ms)},
            {"request_id", e.request_id}, {"access_key", e.access_key},
            {"operation", e.operation}, {"bucket", e.bucket}, {"key", e.key},
            {"status", e.status}, {"code", e.code}, {"conditions", conds},
            {"failed_condition", e.failed_condition}, {"current", cur},
            {"replica", e.replica}};
}

outcome_event event_from_json(const nlohmann::json &j) {
    outcome_event e;
    e.id = j.value("id", std::uint64_t{0});
    e.time_ms = j.value("time_ms", std::int64_t{0});
    e.request_id = j.value("request_id", "");
    e.access_key = j.value("access_key", "");
    e.operation = j.value("operation", "");
    e.bucket = j.value("bucket", "");
    e.key = j.value("key", "");
    e.status = j.value("status", 0);
    e.code = j.value("code", "");
    e.failed_condition = j.value("failed_condition", "");
    e.replica = j.value("replica", "");
    if (j.contains("conditions") && j["conditions"].is_object()) {
        for (auto &[k, v] : j["conditions"].items()) e.conditions.emplace_back(k, v.get<std::string>());
    }
    auto cur = j.value("current", nlohmann::json::object());
    e.current.exists = cur.value("state", "absent") != "absent";
    e.current.delete_marker = cur.value("state", "") == "delete marker";
    e.current.etag = cur.value("etag", "");
    e.current.version_id = cur.value("version_id", "");
    e.current.last_modified_ms = cur.value("last_modified_ms", std::int64_t{0});
    auto w = cur.value("writer", nlohmann::json::object());
    e.current.writer.request_id = w.value("request_id", "");
    e.current.writer.access_key = w.value("access_key", "");
    e.current.writer.remote = w.value("remote", "");
    e.current.writer.user_agent = w.value("user_agent", "");
    return e;
}

} // namespace ifmatch::server
