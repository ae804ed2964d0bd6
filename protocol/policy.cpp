// Bucket policy parsing and Deny evaluation (R-B1..R-B3).
//
// RULES
// 1. A policy is validated as a whole when it is stored; anything malformed is 400 MalformedPolicy
//    and nothing is stored.
// 2. Within a Condition block every operator and every key must hold (AND); within one key any of
//    the listed values may match (OR). Keys compare case-insensitively, values case-sensitively
//    (except for the ...IgnoreCase operators and Bool).
// 3. Absent keys: Null true holds; positive operators fail; negated operators hold; IfExists holds.
#include "protocol/policy.hpp"

#include "protocol/text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace ifmatch::protocol {

namespace {

using json = nlohmann::json;

s3_error malformed(std::string message) {
    return s3_error(s3_errc::malformed_policy, std::move(message));
}

const std::vector<std::string> &known_operators() {
    static const std::vector<std::string> ops = {
        "Null",       "Bool",          "StringEquals",  "StringNotEquals", "StringEqualsIgnoreCase",
        "StringLike", "StringNotLike", "StringNotEqualsIgnoreCase"};
    return ops;
}

// A string or a non-empty list of strings (Action, Resource, condition values).
result<std::vector<std::string>> string_list(const json &j, const std::string &field) {
    std::vector<std::string> out;
    if (j.is_string()) {
        out.push_back(j.get<std::string>());
    } else if (j.is_array() && !j.empty()) {
        for (auto &e : j) {
            if (e.is_boolean()) {
                out.push_back(e.get<bool>() ? "true" : "false");
            } else if (!e.is_string()) {
                return malformed("Invalid value in " + field);
            } else {
                out.push_back(e.get<std::string>());
            }
        }
    } else if (j.is_boolean()) {
        out.push_back(j.get<bool>() ? "true" : "false");
    } else {
        return malformed("Invalid value in " + field);
    }
    return out;
}

result<std::vector<policy_condition>> parse_conditions(const json &j) {
    std::vector<policy_condition> out;
    if (!j.is_object()) {
        return malformed("Condition must be an object");
    }
    for (auto &[op_name, block] : j.items()) {
        policy_condition c;
        c.op = op_name;
        if (c.op.size() > 8 && c.op.ends_with("IfExists")) {
            c.op.resize(c.op.size() - 8);
            c.if_exists = true;
        }
        auto &ops = known_operators();
        if (std::find(ops.begin(), ops.end(), c.op) == ops.end() || !block.is_object()) {
            return malformed("Invalid Condition type : " + op_name);
        }
        for (auto &[key, values] : block.items()) {
            auto v = string_list(values, "Condition");
            if (v.has_error()) return v.error();
            policy_condition one = c;
            one.key = ascii::lower(key);
            one.values = std::move(*v);
            out.push_back(std::move(one));
        }
    }
    return out;
}

bool valid_action(const std::string &a) {
    return a == "*" || (a.size() > 3 && ascii::lower(a.substr(0, 3)) == "s3:");
}

// Whether some text that starts with `prefix` matches the `*`/`?` pattern `p`: the pattern can
// consume all of `prefix` (whatever of it remains can then match the rest of such a text).
bool glob_matches_some_extension(std::string_view p, std::string_view prefix) {
    // The set of pattern positions reachable after the characters read so far; a `*` may match
    // nothing, so a position on a `*` also reaches the next one.
    std::vector<bool> at(p.size() + 1, false);
    auto close = [&](std::vector<bool> &s) {
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (s[i] && p[i] == '*') s[i + 1] = true;
        }
    };
    at[0] = true;
    close(at);
    for (char c : prefix) {
        std::vector<bool> next(p.size() + 1, false);
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (!at[i]) continue;
            if (p[i] == '*') next[i] = true;
            if (p[i] == '?' || p[i] == c) next[i + 1] = true;
        }
        close(next);
        at = std::move(next);
    }
    return std::find(at.begin(), at.end(), true) != at.end();
}

// A Resource must be able to name this bucket or an object in it: `arn:aws:s3:::bucket`,
// `arn:aws:s3:::bucket/...`, or a wildcard that covers them (`arn:aws:s3:::*`, `*`). One that can
// only name other buckets is "Policy has invalid resource".
bool valid_resource(const std::string &r, std::string_view bucket) {
    const std::string bucket_arn = "arn:aws:s3:::" + std::string(bucket);
    if (r == "*") return true;
    if (r.rfind("arn:aws:s3:::", 0) != 0) return false;
    return policy_glob(r, bucket_arn, false) || glob_matches_some_extension(r, bucket_arn + "/");
}

result<policy_statement> parse_statement(const json &s, std::string_view bucket) {
    if (!s.is_object()) return malformed("Statement must be an object");
    policy_statement st;
    if (!s.contains("Effect")) return malformed("Missing required field Effect");
    auto effect = s["Effect"].is_string() ? s["Effect"].get<std::string>() : "";
    if (effect != "Allow" && effect != "Deny") return malformed("Invalid effect: " + effect);
    st.deny = effect == "Deny";
    if (!s.contains("Principal") && !s.contains("NotPrincipal")) {
        return malformed("Missing required field Principal");
    }
    st.not_action = !s.contains("Action") && s.contains("NotAction");
    const char *action_field = st.not_action ? "NotAction" : "Action";
    if (!s.contains(action_field)) return malformed("Missing required field Action");
    auto actions = string_list(s[action_field], action_field);
    if (actions.has_error()) return actions.error();
    for (auto &a : *actions) {
        if (!valid_action(a)) return malformed("Policy has invalid action");
    }
    st.actions = std::move(*actions);
    st.not_resource = !s.contains("Resource") && s.contains("NotResource");
    const char *resource_field = st.not_resource ? "NotResource" : "Resource";
    if (!s.contains(resource_field)) return malformed("Missing required field Resource");
    auto resources = string_list(s[resource_field], resource_field);
    if (resources.has_error()) return resources.error();
    for (auto &r : *resources) {
        if (!valid_resource(r, bucket)) return malformed("Policy has invalid resource");
    }
    st.resources = std::move(*resources);
    if (s.contains("Condition")) {
        auto c = parse_conditions(s["Condition"]);
        if (c.has_error()) return c.error();
        st.conditions = std::move(*c);
    }
    return st;
}

bool condition_holds(const policy_condition &c, const condition_values &values) {
    auto it = values.find(c.key);
    if (c.op == "Null") {
        bool absent = it == values.end();
        return std::any_of(c.values.begin(), c.values.end(), [&](const std::string &v) {
            return (ascii::lower(v) == "true") == absent;
        });
    }
    bool negated = c.op.find("Not") != std::string::npos;
    if (it == values.end()) {
        return c.if_exists || negated;
    }
    const std::string &actual = it->second;
    auto one = [&](const std::string &v) {
        if (c.op == "Bool") return ascii::lower(v) == ascii::lower(actual);
        if (c.op == "StringEquals" || c.op == "StringNotEquals") return v == actual;
        if (c.op.find("IgnoreCase") != std::string::npos)
            return ascii::lower(v) == ascii::lower(actual);
        return policy_glob(v, actual, false); // StringLike / StringNotLike
    };
    bool any = std::any_of(c.values.begin(), c.values.end(), one);
    return negated ? !any : any;
}

bool statement_matches(const policy_statement &s, std::string_view action,
                       std::string_view resource, const condition_values &values) {
    bool action_hit = std::any_of(s.actions.begin(), s.actions.end(), [&](const std::string &p) {
        return policy_glob(p, action, true);
    });
    if (action_hit == s.not_action) return false;
    bool resource_hit = std::any_of(s.resources.begin(), s.resources.end(),
                                    [&](const std::string &p) {
                                        return policy_glob(p, resource, false);
                                    });
    if (resource_hit == s.not_resource) return false;
    return std::all_of(s.conditions.begin(), s.conditions.end(),
                       [&](const policy_condition &c) { return condition_holds(c, values); });
}

} // namespace

result<policy_document> parse_policy(std::string_view text, std::string_view bucket) {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return malformed("Policies must be valid JSON and the first byte must be '{'");
    }
    if (j.contains("Version")) {
        auto v = j["Version"].is_string() ? j["Version"].get<std::string>() : "";
        if (v != "2012-10-17" && v != "2008-10-17") return malformed("Invalid policy version");
    }
    if (!j.contains("Statement")) return malformed("Missing required field Statement");
    const json &list = j["Statement"];
    if (!(list.is_object() || (list.is_array() && !list.empty()))) {
        return malformed("Missing required field Statement");
    }
    policy_document doc;
    for (auto &s : list.is_array() ? list : json::array({list})) {
        auto st = parse_statement(s, bucket);
        if (st.has_error()) return st.error();
        doc.statements.push_back(std::move(*st));
    }
    return doc;
}

bool policy_denies(const policy_document &doc, std::string_view action,
                   std::string_view resource, const condition_values &values) {
    return std::any_of(doc.statements.begin(), doc.statements.end(),
                       [&](const policy_statement &s) {
                           return s.deny && statement_matches(s, action, resource, values);
                       });
}

bool policy_glob(std::string_view p, std::string_view t, bool ignore_case) {
    auto eq = [ignore_case](char a, char b) {
        return ignore_case ? ascii::lower(a) == ascii::lower(b) : a == b;
    };
    std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == '?' || (p[pi] != '*' && eq(p[pi], t[ti])))) {
            ++pi;
            ++ti;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ti;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ti = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

std::string object_arn(std::string_view bucket, std::string_view key) {
    return "arn:aws:s3:::" + std::string(bucket) + "/" + std::string(key);
}

} // namespace ifmatch::protocol
