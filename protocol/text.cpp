// ASCII text helpers (see text.hpp).
#include "protocol/text.hpp"

#include <algorithm>

namespace ifmatch::protocol::ascii {

namespace {

bool in(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

std::string_view trim_set(std::string_view s, std::string_view set) {
    while (!s.empty() && in(set, s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && in(set, s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

} // namespace

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string_view trim_ows(std::string_view s) { return trim_set(s, " \t"); }

std::string_view trim_xml(std::string_view s) { return trim_set(s, " \t\r\n"); }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto &c : out) {
        c = lower(c);
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

} // namespace ifmatch::protocol::ascii
