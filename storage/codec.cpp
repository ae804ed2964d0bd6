// Column encodings: pairs as `name\tvalue\n` lines with `\\`, `\t`, `\n` escaped.
#include "storage/codec.hpp"

#include <charconv>

namespace ifmatch::storage {

namespace {

void escape_into(std::string &out, std::string_view s) {
    for (char c : s) {
        switch (c) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += c;
        }
    }
}

std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            out += s[i];
            continue;
        }
        char n = s[++i];
        out += n == 't' ? '\t' : n == 'n' ? '\n' : n;
    }
    return out;
}

const char *const meta_fields[] = {"content-type",     "content-encoding", "content-disposition",
                                   "content-language", "cache-control",    "expires",
                                   "checksum-type"};

std::string *meta_slot(object_meta &m, std::string_view name) {
    if (name == "content-type") return &m.content_type;
    if (name == "content-encoding") return &m.content_encoding;
    if (name == "content-disposition") return &m.content_disposition;
    if (name == "content-language") return &m.content_language;
    if (name == "cache-control") return &m.cache_control;
    if (name == "expires") return &m.expires;
    if (name == "checksum-type") return &m.checksum_type;
    return nullptr;
}

} // namespace

std::string encode_pairs(const string_pairs &pairs) {
    std::string out;
    for (auto &[k, v] : pairs) {
        escape_into(out, k);
        out += '\t';
        escape_into(out, v);
        out += '\n';
    }
    return out;
}

string_pairs decode_pairs(std::string_view text) {
    string_pairs out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        auto tab = line.find('\t');
        if (tab == std::string_view::npos) {
            continue;
        }
        out.emplace_back(unescape(line.substr(0, tab)), unescape(line.substr(tab + 1)));
    }
    return out;
}

std::string encode_meta(const object_meta &m) {
    string_pairs all;
    object_meta copy = m;
    for (const char *f : meta_fields) {
        auto *slot = meta_slot(copy, f);
        if (!slot->empty()) {
            all.emplace_back(std::string("h:") + f, *slot);
        }
    }
    for (auto &[k, v] : m.user) all.emplace_back("u:" + k, v);
    for (auto &[k, v] : m.checksums) all.emplace_back("c:" + k, v);
    for (auto &[k, v] : m.extra) all.emplace_back("x:" + k, v);
    return encode_pairs(all);
}

object_meta decode_meta(std::string_view text) {
    object_meta m;
    for (auto &[k, v] : decode_pairs(text)) {
        std::string_view name = std::string_view(k).substr(std::min<std::size_t>(2, k.size()));
        if (k.rfind("h:", 0) == 0) {
            if (auto *slot = meta_slot(m, name)) *slot = v;
        } else if (k.rfind("u:", 0) == 0) {
            m.user.emplace_back(name, v);
        } else if (k.rfind("c:", 0) == 0) {
            m.checksums.emplace_back(name, v);
        } else if (k.rfind("x:", 0) == 0) {
            m.extra.emplace_back(name, v);
        }
    }
    return m;
}

bool mutation_history::existed_at(std::int64_t at) const {
    bool state = base_exists;
    for (auto &[seq, exists] : entries) {
        if (seq > at) {
            break;
        }
        state = exists;
    }
    return state;
}

void mutation_history::append(std::int64_t seq, bool exists_after, std::size_t keep) {
    entries.emplace_back(seq, exists_after);
    while (entries.size() > keep) {
        base_exists = entries.front().second;
        entries.erase(entries.begin());
    }
}

std::string encode_history(const mutation_history &h) {
    std::string out = h.base_exists ? "1" : "0";
    for (auto &[seq, e] : h.entries) {
        out += ';';
        out += std::to_string(seq);
        out += e ? ":1" : ":0";
    }
    return out;
}

mutation_history decode_history(std::string_view text) {
    mutation_history h;
    if (text.empty()) {
        return h;
    }
    h.base_exists = text[0] == '1';
    std::size_t pos = 1;
    while (pos < text.size() && text[pos] == ';') {
        ++pos;
        std::int64_t seq = 0;
        auto [p, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), seq);
        if (ec != std::errc() || p == text.data() + text.size()) {
            break;
        }
        pos = static_cast<std::size_t>(p - text.data());
        bool e = pos + 1 < text.size() && text[pos + 1] == '1';
        h.entries.emplace_back(seq, e);
        pos += 2;
    }
    return h;
}

} // namespace ifmatch::storage
