// Timeline building (see timeline.hpp).
#include "server/timeline.hpp"

#include "server/handlers.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace ifmatch::server {

namespace {

std::string who(const storage::writer_identity &w) {
    std::string s = "request " + (w.request_id.empty() ? std::string("?") : w.request_id);
    s += " (" + (w.access_key.empty() ? std::string("anonymous") : w.access_key);
    if (!w.remote.empty()) s += ", " + w.remote;
    return s + ")";
}

timeline_entry write_entry(const storage::object_version &v) {
    timeline_entry e;
    e.time_ms = v.last_modified_ms;
    if (v.delete_marker) {
        e.kind = "delete";
        e.text = who(v.writer) + " deleted the key (delete marker " + v.version_id + ")";
    } else {
        e.kind = "write";
        e.text = who(v.writer) + " wrote ETag " + v.etag + " (" + std::to_string(v.size) +
                 " bytes, version " + v.version_id + ")";
    }
    return e;
}

// Where an ETag came from, for "If-Match A" in an outcome line.
using origin_map = std::map<std::string, std::pair<std::int64_t, storage::writer_identity>>;

std::string outcome_text(const outcome_event &ev, const origin_map &origins) {
    std::string s = ev.operation + " by " +
                    (ev.access_key.empty() ? std::string("anonymous") : ev.access_key) +
                    " (request " + ev.request_id + ") sent";
    if (ev.conditions.empty()) s += " no condition";
    for (auto &[h, v] : ev.conditions) {
        s += " " + h + ": " + v;
        std::string q = v.size() > 1 && v.front() == '"' ? v : "\"" + v + "\"";
        if (auto it = origins.find(q); it != origins.end() && h.find("atch") != std::string::npos) {
            s += " [ETag " + q + " was written by request " + it->second.second.request_id +
                 " at " + iso_date_ms(it->second.first) + "]";
        }
    }
    s += " -> " + std::to_string(ev.status) + (ev.code.empty() ? "" : " " + ev.code);
    if (!ev.failed_condition.empty()) s += " (" + ev.failed_condition + ")";
    const auto &c = ev.current;
    if (!c.exists) {
        s += "; the key was absent";
    } else if (c.delete_marker) {
        s += "; current version was a delete marker by " + who(c.writer);
    } else {
        s += "; current ETag " + c.etag + " written by " + who(c.writer) + " at " +
             iso_date_ms(c.last_modified_ms);
    }
    return s;
}

} // namespace

std::vector<timeline_entry> build_timeline(const std::vector<storage::object_version> &versions,
                                           const std::vector<outcome_event> &events) {
    std::vector<timeline_entry> out;
    std::set<std::string> seen; // writer request ids already shown
    origin_map origins;
    for (auto &v : versions) {
        out.push_back(write_entry(v));
        seen.insert(v.writer.request_id + v.version_id);
        if (!v.delete_marker) origins.emplace(v.etag, std::make_pair(v.last_modified_ms, v.writer));
    }
    for (auto &ev : events) {
        const auto &c = ev.current;
        if (c.exists && !seen.count(c.writer.request_id + c.version_id)) {
            storage::object_version v;
            v.delete_marker = c.delete_marker;
            v.etag = c.etag;
            v.version_id = c.version_id;
            v.last_modified_ms = c.last_modified_ms;
            v.writer = c.writer;
            auto e = write_entry(v);
            if (!c.delete_marker) {
                e.text = who(c.writer) + " wrote ETag " + c.etag + " (version " + c.version_id +
                         ", since replaced)";
            }
            out.push_back(e);
            seen.insert(c.writer.request_id + c.version_id);
            if (!c.delete_marker) origins.emplace(c.etag, std::make_pair(c.last_modified_ms, c.writer));
        }
    }
    for (auto &ev : events) {
        timeline_entry e;
        e.time_ms = ev.time_ms;
        e.kind = ev.status == 304 ? "not-modified" : "refused";
        e.text = outcome_text(ev, origins);
        out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [](const timeline_entry &a, const timeline_entry &b) {
        bool aw = a.kind == "write" || a.kind == "delete";
        bool bw = b.kind == "write" || b.kind == "delete";
        return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : (aw && !bw);
    });
    return out;
}

nlohmann::json to_json(const timeline_entry &e) {
    return {{"time_ms", e.time_ms}, {"time", iso_date_ms(e.time_ms)}, {"kind", e.kind},
            {"text", e.text}};
}

std::string render_timeline(const std::vector<timeline_entry> &entries) {
    std::string out;
    for (auto &e : entries) {
        std::string kind = e.kind;
        kind.resize(12, ' ');
        out += iso_date_ms(e.time_ms) + "  " + kind + " " + e.text + "\n";
    }
    return out;
}

} // namespace ifmatch::server
